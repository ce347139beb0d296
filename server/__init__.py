"""The web layer: the annotators' labeling page, the team dashboard and the JSON API (a Flask
app), served by waitress. Uses ``labeler``; ``labeler`` never imports it."""
