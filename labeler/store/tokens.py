"""Annotator tokens: random secrets handed out once, of which the store keeps only a hash."""

from __future__ import annotations

import hashlib
import secrets

# 32 random bytes: guessing is hopeless, so one fast hash (not a slow password hash) suffices.
_TOKEN_BYTES = 32


def make_token() -> str:
    """A new random token (URL-safe text, 43 characters)."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
