"""Comparing a secret someone sent with the one expected, in constant time, whatever text
was sent (``hmac.compare_digest`` raises TypeError on non-ASCII strings: a 500 for a header
of odd bytes, where a wrong secret is a 401)."""

from __future__ import annotations

import hmac


def is_same_secret(sent: str, expected: str) -> bool:
    """Whether ``sent`` equals ``expected``, compared as UTF-8 bytes in constant time."""
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
