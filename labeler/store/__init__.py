"""The project store: the project folder, its SQLite database (labels, rounds, scores, queue
and leases) and atomic file writes."""
