"""Who is asking: a Bearer token (the API) or a signed session cookie (the page), checked
against the hashes in the project store on every request, so a removed annotator is out at
once. Page sessions carry a CSRF token that state-changing requests must echo in a header.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from flask import g, request, session

from labeler.store.tokens import hash_token
from server.constant_time import is_same_secret
from server.errors import ApiError
from server.state import get_state

SESSION_TOKEN_HASH = "token_hash"
SESSION_CSRF = "csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class User:
    """The annotator behind a request; ``via`` is "token" or "session"."""

    name: str
    is_admin: bool
    via: str


def get_user() -> User:
    """The authenticated user of this request (set by ``require_user``)."""
    user: User = g.user
    return user


def find_user() -> User | None:
    """The request's user, or None without credentials.

    A malformed, unknown or revoked Bearer token raises 401 (and counts as a failed login);
    too many failures from one address raise 429 until the wait is over.
    """
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "the Authorization header must be 'Bearer TOKEN'")
        return User(*_check_token(token.strip()), via="token")
    token_hash = session.get(SESSION_TOKEN_HASH)
    if not isinstance(token_hash, str):
        return None
    annotator = get_state().store.find_annotator(token_hash)
    if annotator is None:  # removed since they logged in
        session.clear()
        return None
    return User(annotator.name, annotator.is_admin, via="session")


def require_user() -> User:
    """``find_user``, with 401 when there is none and 403 when a page request that changes
    something lacks the session's CSRF token."""
    user = find_user()
    if user is None:
        raise ApiError(401, "not logged in: send 'Authorization: Bearer TOKEN' or log in")
    if user.via == "session" and request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        expected = session.get(SESSION_CSRF, "")
        if not expected or not is_same_secret(str(sent), str(expected)):
            raise ApiError(403, f"missing or wrong {CSRF_HEADER} header")
    g.user = user
    return user


def require_admin() -> User:
    user = require_user()
    if not user.is_admin:
        raise ApiError(403, f"{user.name} is not an admin; this needs an admin token")
    return user


def log_in(token: str) -> User:
    """Check ``token`` and start a page session; 401/429 like ``find_user``."""
    name, is_admin = _check_token(token.strip())
    session.clear()
    session[SESSION_TOKEN_HASH] = hash_token(token.strip())
    session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return User(name, is_admin, via="session")


def get_csrf_token() -> str:
    return str(session.get(SESSION_CSRF, ""))


def _check_token(token: str) -> tuple[str, bool]:
    state = get_state()
    address = request.remote_addr or "unknown"
    wait = state.throttle.get_wait(address)
    if wait > 0:
        raise ApiError(
            429, f"too many failed logins; try again in {math.ceil(wait)} s", retry_after=wait
        )
    annotator = state.store.find_annotator(hash_token(token)) if token else None
    if annotator is None:
        state.throttle.record_failure(address)
        raise ApiError(401, "unknown or revoked token")
    state.throttle.record_success(address)
    return annotator.name, annotator.is_admin
