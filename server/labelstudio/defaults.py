"""The bridge's defaults, in a module of their own so that the command line can show them
without importing label-studio-sdk (which costs every `labeler` command a second or more)."""

from __future__ import annotations

TOKEN_ENV = "LABEL_STUDIO_API_KEY"
# Tries per call while Label Studio is unreachable, and the wait before the first retry
# (seconds; it doubles each time).
DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF = 0.5
# Tasks per import request.
DEFAULT_BATCH_SIZE = 100
