"""The annotators who may use the annotation server: names, admin rights and the SHA-256
hashes of their tokens (a token itself is never stored)."""

from __future__ import annotations

import re
import sqlite3
import time

from labeler.store.core import StoreCore, check_name
from labeler.store.records import Annotator

_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")


class AnnotatorRegistry(StoreCore):
    """Adding, removing and finding annotators."""

    def add_annotator(self, name: str, *, token_hash: str, is_admin: bool = False) -> None:
        """Register ``name`` with the hash of their token; ValueError if the name is taken."""
        name = check_name("annotator name", name)
        if not _TOKEN_HASH.fullmatch(str(token_hash)):
            raise ValueError("token_hash must be 64 lowercase hex digits (a SHA-256 digest)")
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO annotators (name, token_hash, is_admin, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (name, token_hash, int(bool(is_admin)), time.time()),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"an annotator called {name!r} exists already") from None

    def remove_annotator(self, name: str) -> bool:
        """Revoke ``name``'s token; False if there was no such annotator. Their labels stay."""
        with self._transaction() as db:
            return db.execute("DELETE FROM annotators WHERE name = ?", (name,)).rowcount > 0

    def get_annotators(self) -> list[Annotator]:
        """Every registered annotator, by name."""
        rows = self._query("SELECT name, is_admin, created_at FROM annotators ORDER BY name")
        return [Annotator(str(n), bool(a), float(t)) for n, a, t in rows]

    def find_annotator(self, token_hash: str) -> Annotator | None:
        """The annotator whose token has this hash, or None."""
        row = self._query_one(
            "SELECT name, is_admin, created_at FROM annotators WHERE token_hash = ?",
            (str(token_hash),),
        )
        return None if row is None else Annotator(str(row[0]), bool(row[1]), float(row[2]))
