"""Gold items: test samples of known class mixed into an annotator's images, to measure them.

A project whose test split knows its classes can set a gold rate (``set_gold_rate``): then
about that share of the images served to each annotator are test samples, served like any
other (the page cannot tell them apart, and never sees their class). The answers go to their
own append-only log, ``gold_answers``, never to the label log: a gold item is never a pool
label, so no round trains on it, and the test split stays a fair test. An answer can be taken
back (``undo_last_gold``), as a label can, through ``gold_retractions``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from generators.checks import check_number
from labeler.store.core import check_name
from labeler.store.labels import LabelLog

GOLD_RATE_KEY = "gold_rate"
# At most one image in two is gold: annotators are here to label the pool.
MAX_GOLD_RATE = 0.5


@dataclass(frozen=True)
class GoldAnswer:
    """An annotator's answer to a gold item: ``label`` (class index) against ``known``."""

    id: int
    sample_id: int
    label: int
    known: int
    annotator: str
    created_at: float


class GoldChecks(LabelLog):
    """The gold rate, the choice of gold items, and their answers."""

    def get_gold_rate(self) -> float:
        """The share of served images that are gold (0: none)."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (GOLD_RATE_KEY,))
        return float(rows[0][0]) if rows else 0.0

    def set_gold_rate(self, rate: float) -> None:
        """Serve about ``rate`` (in [0, 0.5]) of the images as gold. ValueError when the
        test split knows no class (there is no gold to serve) or the rate is out of range."""
        value = check_number("gold rate", rate, low=0.0, high=MAX_GOLD_RATE)
        if value > 0 and not self.count_gold_items():
            raise ValueError(
                "gold items are test samples of known class, and this project's test split has "
                "none: make the project from a folder with train/ and test/ class folders"
            )
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (GOLD_RATE_KEY, repr(value)),
            )

    def count_gold_items(self) -> int:
        """Test samples whose class the source knew: the gold items."""
        rows = self._query(
            "SELECT COUNT(*) FROM samples WHERE split = 'test' AND known_label IS NOT NULL"
        )
        return int(rows[0][0])

    def is_gold_due(self, annotator: str) -> bool:
        """Whether the next image served to ``annotator`` should be gold: every
        ``round(1 / rate)``-th of the labels and gold answers they gave, counted in the logs
        (so a restart of the server keeps the rhythm)."""
        rate = self.get_gold_rate()
        if rate <= 0:
            return False
        annotator = check_name("annotator", annotator)
        (n_done,) = self._query(
            "SELECT (SELECT COUNT(*) FROM live_label_events WHERE annotator = ?) + "
            "(SELECT COUNT(*) FROM live_gold_answers WHERE annotator = ?)",
            (annotator, annotator),
        )[0]
        return (int(n_done) + 1) % max(1, round(1.0 / rate)) == 0

    def pick_gold_item(self, annotator: str, exclude: frozenset[int] = frozenset()) -> int | None:
        """A gold item ``annotator`` has neither answered nor skipped (and not in
        ``exclude``): the one with the fewest live answers, then the lowest id. None when none
        is left."""
        annotator = check_name("annotator", annotator)
        rows = self._query(
            "SELECT s.id FROM samples AS s WHERE s.split = 'test' AND s.known_label IS NOT NULL "
            "AND s.id NOT IN (SELECT sample_id FROM live_gold_answers WHERE annotator = ?) "
            "AND s.id NOT IN (SELECT sample_id FROM skips WHERE annotator = ?) "
            "ORDER BY (SELECT COUNT(*) FROM live_gold_answers AS g WHERE g.sample_id = s.id), "
            "s.id",
            (annotator, annotator),
        )
        for (sample_id,) in rows:
            if int(sample_id) not in exclude:
                return int(sample_id)
        return None

    def is_gold_item(self, sample_id: int) -> bool:
        index = self._check_sample_id(sample_id)
        rows = self._query(
            "SELECT 1 FROM samples WHERE id = ? AND split = 'test' AND known_label IS NOT NULL",
            (index,),
        )
        return bool(rows)

    def submit_gold(
        self, sample_id: int, label_name: str, *, annotator: str, request_id: str | None = None
    ) -> tuple[GoldAnswer, bool]:
        """Record ``annotator``'s answer to the gold item ``sample_id``; return it and whether
        ``request_id`` had been seen before (then nothing new is stored). ValueError for a
        sample that is not a gold item or an unknown class."""
        index = self._check_sample_id(sample_id)
        if not self.is_gold_item(index):
            raise ValueError(f"sample {index} is not a gold item (a test sample of known class)")
        label = self._check_label(label_name)
        annotator = check_name("annotator", annotator)
        if request_id is not None:
            request_id = check_name("request_id", request_id)
        with self._transaction() as db:
            if request_id is not None:
                row = db.execute(
                    "SELECT id, sample_id, label FROM gold_answers WHERE request_id = ?",
                    (request_id,),
                ).fetchone()
                if row is not None:
                    if (int(row[1]), int(row[2])) != (index, label):
                        raise ValueError(
                            f"request id {request_id!r} was already used for another answer"
                        )
                    return self._get_gold_answer(int(row[0])), True
            cursor = db.execute(
                "INSERT INTO gold_answers (sample_id, label, annotator, created_at, request_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (index, label, annotator, time.time(), request_id),
            )
            answer_id = int(cursor.lastrowid or 0)
        return self._get_gold_answer(answer_id), False

    def undo_last_gold(self, annotator: str, *, request_id: str | None = None) -> GoldAnswer | None:
        """Retract ``annotator``'s latest live gold answer and return it (None: none). A
        ``request_id`` seen before returns the answer it retracted and retracts nothing."""
        annotator = check_name("annotator", annotator)
        if request_id is not None:
            request_id = check_name("request_id", request_id)
        with self._transaction() as db:
            if request_id is not None:
                seen = db.execute(
                    "SELECT answer_id FROM gold_retractions WHERE request_id = ?", (request_id,)
                ).fetchone()
                if seen is not None:
                    return self._get_gold_answer(int(seen[0]))
            row = db.execute(
                "SELECT id FROM live_gold_answers WHERE annotator = ? ORDER BY id DESC LIMIT 1",
                (annotator,),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "INSERT INTO gold_retractions (answer_id, created_at, request_id) VALUES (?, ?, ?)",
                (int(row[0]), time.time(), request_id),
            )
        return self._get_gold_answer(int(row[0]))

    def get_undo_request_kind(self, request_id: str) -> str | None:
        """What an undo with ``request_id`` took back before: "label", "gold", or None (a new
        request), so that a retried undo is answered as the first, never undoing twice."""
        if self._query("SELECT 1 FROM retractions WHERE request_id = ?", (request_id,)):
            return "label"
        if self._query("SELECT 1 FROM gold_retractions WHERE request_id = ?", (request_id,)):
            return "gold"
        return None

    def is_last_answer_gold(self, annotator: str) -> bool:
        """Whether ``annotator``'s latest live answer was to a gold item (so an undo takes
        that back, not their latest label)."""
        annotator = check_name("annotator", annotator)
        gold, label = self._query(
            "SELECT (SELECT MAX(created_at) FROM live_gold_answers WHERE annotator = ?), "
            "(SELECT MAX(created_at) FROM live_label_events WHERE annotator = ?)",
            (annotator, annotator),
        )[0]
        return gold is not None and (label is None or float(gold) >= float(label))

    def get_gold_answers(self) -> list[GoldAnswer]:
        """Every live gold answer, oldest first."""
        rows = self._query(
            "SELECT g.id, g.sample_id, g.label, s.known_label, g.annotator, g.created_at "
            "FROM live_gold_answers AS g JOIN samples AS s ON s.id = g.sample_id ORDER BY g.id"
        )
        return [
            GoldAnswer(int(a), int(b), int(c), int(d), str(e), float(f))
            for a, b, c, d, e, f in rows
        ]

    def _get_gold_answer(self, answer_id: int) -> GoldAnswer:
        rows = self._query(
            "SELECT g.id, g.sample_id, g.label, s.known_label, g.annotator, g.created_at "
            "FROM gold_answers AS g JOIN samples AS s ON s.id = g.sample_id WHERE g.id = ?",
            (answer_id,),
        )
        a, b, c, d, e, f = rows[0]
        return GoldAnswer(int(a), int(b), int(c), int(d), str(e), float(f))
