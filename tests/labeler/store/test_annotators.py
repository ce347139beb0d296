"""Annotators: stored by the hash of their token."""

from __future__ import annotations

import sqlite3

import pytest

from labeler.store.database import (
    ProjectStore,
)


def test_annotators_are_stored_by_token_hash(store: ProjectStore) -> None:
    from labeler.store.tokens import hash_token, make_token

    token = make_token()
    assert len(token) >= 40 and make_token() != token
    store.add_annotator("ann", token_hash=hash_token(token), is_admin=True)
    store.add_annotator("bob", token_hash=hash_token(make_token()))
    found = store.find_annotator(hash_token(token))
    assert found is not None and (found.name, found.is_admin) == ("ann", True)
    assert store.find_annotator(hash_token("wrong")) is None
    assert [(a.name, a.is_admin) for a in store.get_annotators()] == [("ann", True), ("bob", False)]
    with pytest.raises(ValueError, match="'ann' exists already"):
        store.add_annotator("ann", token_hash=hash_token(make_token()))
    with pytest.raises(ValueError, match="SHA-256"):
        store.add_annotator("cid", token_hash=token)  # a token, not its hash
    assert store.remove_annotator("ann") and not store.remove_annotator("ann")
    assert store.find_annotator(hash_token(token)) is None
    raw = sqlite3.connect(store.path).execute("SELECT * FROM annotators").fetchall()
    assert token not in repr(raw)
