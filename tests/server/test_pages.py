"""The pages: login with a token, the session cookie, CSRF, security headers, escaping."""

from __future__ import annotations

import re

from tests.server.conftest import TOKENS


def log_in(client, name: str = "ann"):
    response = client.post("/login", data={"token": TOKENS[name]})
    assert response.status_code == 303, response.data
    return response


def get_csrf(client) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, page
    return match.group(1)


def test_login_sets_a_strict_http_only_session_cookie(app) -> None:
    client = app.test_client()
    assert client.get("/").status_code == 401
    response = log_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "labeler_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert TOKENS["ann"] not in cookie
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-label="class_0"' in html and "label.js" in html


def test_a_wrong_token_shows_the_form_again(app) -> None:
    client = app.test_client()
    response = client.post("/login", data={"token": "nope"})
    assert response.status_code == 401
    assert b"unknown or revoked token" in response.data
    assert client.get("/dashboard").status_code == 401


def test_page_posts_need_the_csrf_token(app) -> None:
    client = app.test_client()
    log_in(client)
    task = client.get("/api/next").json["tasks"][0]
    body = {"sample_id": task["sample_id"], "label": "class_1", "request_id": "p-1"}
    refused = client.post("/api/labels", json=body)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json["error"]
    wrong = client.post("/api/labels", json=body, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    # A token of non-ASCII bytes is a wrong token too, not a crash (found by fuzzing).
    odd = client.post("/api/labels", json=body, headers={"X-CSRF-Token": "\x80é"})
    assert odd.status_code == 403
    accepted = client.post("/api/labels", json=body, headers={"X-CSRF-Token": get_csrf(client)})
    assert accepted.status_code == 200 and accepted.json["lease"] == "held"


def test_logout_ends_the_session(app) -> None:
    client = app.test_client()
    log_in(client)
    csrf = get_csrf(client)
    assert client.post("/logout", headers={"X-CSRF-Token": csrf}).status_code == 303
    assert client.get("/").status_code == 401
    assert client.get("/api/stats").status_code == 401


def test_every_answer_carries_the_security_headers(app) -> None:
    client = app.test_client()
    for response in (client.get("/"), client.get("/login"), client.get("/api/stats")):
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_and_no_outside_assets(app) -> None:
    client = app.test_client()
    log_in(client, "boss")
    for path in ("/", "/dashboard", "/login"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\bon[a-z]+=", html), path  # no inline event handlers
        assert not re.search(r"(src|href)=\"(https?:)?//", html), path
    for asset in ("style.css", "api.js", "label.js", "dashboard.js", "login.js"):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200, asset
        assert "http://" not in response.get_data(as_text=True).replace("http://www.w3.org", "")


def test_names_are_escaped_in_pages(app, project) -> None:
    from labeler.store.project import open_project
    from labeler.store.tokens import hash_token

    with open_project(project) as opened:
        opened.store.add_annotator("<b>eve</b>", token_hash=hash_token("eve-" + "e" * 40))
    client = app.test_client()
    assert client.post("/login", data={"token": "eve-" + "e" * 40}).status_code == 303
    html = client.get("/").get_data(as_text=True)
    assert "<b>eve</b>" not in html and "&lt;b&gt;eve&lt;/b&gt;" in html


def test_the_dashboard_shows_admin_controls_to_admins_only(app) -> None:
    annotator = app.test_client()
    log_in(annotator, "ann")
    assert b"round-form" not in annotator.get("/dashboard").data
    admin = app.test_client()
    log_in(admin, "boss")
    html = admin.get("/dashboard").get_data(as_text=True)
    assert 'id="round-form"' in html and '<option value="auto" selected>' in html
    assert '<option value="bald"' not in html  # the dashboard's rounds may learn a head


def test_the_empty_queue_message_tells_how_to_start_a_round(app) -> None:
    client = app.test_client()
    log_in(client)
    html = client.get("/").get_data(as_text=True)
    assert "The queue is empty" in html and "labeler round" in html
