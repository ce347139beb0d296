"""Grid labeling: a page of images the model puts in one class, confirmed with one action.

``lease_grid`` leases the images the model is most sure of for a class (queued or not: the
round queued the images it is least sure of, which make poor grids; pool images join the
queue at its end) and sets a random slice of them aside to be labeled blind, one at a
time, without the model's guess: the check against confirmation bias. ``choose_grid_class``
picks the class whose next grid the model is surest of; ``lease_surest_grid`` chooses and
leases in one transaction. ``submit_grid`` stores one label event per confirmed image (source
``grid``; each classed against its own lease, as single labels are) and sends the images the
annotator marked as not belonging back to the front of the queue, leased to them, for
one-at-a-time labeling. ``grid_labels`` records which events one grid stored, so that undo
(``AnnotationQueue.undo_last_label``) takes back the whole grid.

Settings, in ``meta``: whether grid labeling is on (an admin can turn it off) and the share of
every grid labeled blind.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from generators.checks import check_int, check_number
from labeler.store.core import check_name
from labeler.store.queue import AnnotationQueue, classify_lease, requeue_at_front
from labeler.store.records import LEASE_HELD, NewLabel

GRID_SOURCE = "grid"
BLIND_SOURCE = "blind"
# The most images one grid may hold (a full-screen grid of small tiles).
MAX_GRID_SIZE = 60
GRID_ENABLED_KEY = "grid_enabled"
BLIND_SHARE_KEY = "grid_blind_share"
DEFAULT_BLIND_SHARE = 0.05
MAX_BLIND_SHARE = 0.5


@dataclass(frozen=True)
class GridSettings:
    """Whether annotators may label by the grid, and the share of each grid labeled blind
    (at least one image of every grid of two or more while the share is above 0)."""

    enabled: bool
    blind_share: float


@dataclass(frozen=True)
class GridLease:
    """The images leased for one grid: ``tiles`` to confirm, ``blind`` to label one at a time
    without the model's guess; both in the order of the model's confidence."""

    tiles: list[int]
    blind: list[int]


@dataclass(frozen=True)
class GridResult:
    """How one confirmed image was stored: its label event and its lease (as ``Submission``)."""

    sample_id: int
    event_id: int
    lease: str
    holder: str | None


@dataclass(frozen=True)
class GridSubmission:
    """The answer to ``submit_grid``: one result per confirmed image, the images sent back to
    one-at-a-time labeling, and whether the request id had been seen (nothing new stored)."""

    label: str
    results: list[GridResult]
    rejected: list[int]
    duplicate: bool


class GridBatches(AnnotationQueue):
    """Grid settings, grid leases and grid submissions."""

    def get_grid_settings(self) -> GridSettings:
        rows = dict(
            self._query(
                "SELECT key, value FROM meta WHERE key IN (?, ?)",
                (GRID_ENABLED_KEY, BLIND_SHARE_KEY),
            )
        )
        return GridSettings(
            enabled=rows.get(GRID_ENABLED_KEY, "1") == "1",
            blind_share=float(rows.get(BLIND_SHARE_KEY, DEFAULT_BLIND_SHARE)),
        )

    def set_grid_settings(
        self, *, enabled: bool | None = None, blind_share: float | None = None
    ) -> GridSettings:
        """Turn grid labeling on or off and set the blind share (in [0, 0.5]); None keeps a
        setting as it is. Returns the settings now in force."""
        values = {}
        if enabled is not None:
            if not isinstance(enabled, bool):
                raise ValueError(f"enabled must be true or false, got {enabled!r}")
            values[GRID_ENABLED_KEY] = "1" if enabled else "0"
        if blind_share is not None:
            share = check_number("blind share", blind_share, low=0.0, high=MAX_BLIND_SHARE)
            values[BLIND_SHARE_KEY] = repr(share)
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values.items())
        return self.get_grid_settings()

    def lease_grid(
        self,
        annotator: str,
        ranked: Sequence[int],
        n: int,
        *,
        lease_seconds: float,
        rng: random.Random | None = None,
        now: float | None = None,
    ) -> GridLease:
        """Lease up to ``n`` images of ``ranked`` (sample ids the model puts in one class, most
        confident first) to ``annotator`` for one grid.

        The grid takes the first ``n`` images of ``ranked`` that qualify, queued or not; a
        queued image keeps its place, a pool image joins the queue at its end. An image
        qualifies when it has no live label, is not under review, was not skipped by
        ``annotator`` and is not leased to someone else. A random slice (the blind share, at
        least one image of a grid of two or more) is set aside as ``blind``.
        """
        _, lease = self._lease(annotator, lambda _: 0, {0: ranked}, n, lease_seconds, rng, now)
        return lease

    def lease_surest_grid(
        self,
        annotator: str,
        ranked: Mapping[int, Sequence[int]],
        confidence: Callable[[int], float],
        n: int,
        *,
        lease_seconds: float,
        rng: random.Random | None = None,
        now: float | None = None,
    ) -> tuple[int | None, GridLease]:
        """``choose_grid_class`` and ``lease_grid`` of that class in one transaction:
        ``(class, lease)``, or ``(None, empty lease)`` when no class has an image left. The
        images the choice was made on are the ones leased: no other lease comes between."""
        return self._lease(annotator, confidence, ranked, n, lease_seconds, rng, now)

    def _lease(
        self,
        annotator: str,
        confidence: Callable[[int], float],
        ranked: Mapping[int, Sequence[int]],
        n: int,
        lease_seconds: float,
        rng: random.Random | None,
        now: float | None,
    ) -> tuple[int | None, GridLease]:
        """Choose the class of ``ranked`` (``_choose_class``) and lease its grid, in one
        transaction (``lease_grid`` and ``lease_surest_grid``)."""
        annotator = check_name("annotator", annotator)
        n = check_int("n", n, low=1, high=MAX_GRID_SIZE)
        lease_seconds = check_number("lease_seconds", lease_seconds, low=0, low_open=True)
        now = time.time() if now is None else float(now)
        share = self.get_grid_settings().blind_share
        with self._transaction() as db:
            candidates = _get_candidates(db, annotator, now, self._is_test.tolist())
            label = _choose_class(candidates, ranked, confidence, n)
            if label is None:
                return None, GridLease([], [])
            picks = _lease_picks(
                db, annotator, candidates.pick(ranked[label], n), now + lease_seconds
            )
        return label, _set_blind_aside(picks, share, rng)

    def choose_grid_class(
        self,
        annotator: str,
        ranked: Mapping[int, Sequence[int]],
        confidence: Callable[[int], float],
        n: int,
        *,
        now: float | None = None,
    ) -> int | None:
        """The class whose next grid for ``annotator`` the model is surest of: for each class,
        the first ``n`` images of ``ranked[class]`` (most confident first) that qualify as in
        ``lease_grid``, scored by their mean ``confidence(sample)``. The lowest class wins a tie;
        None when no class has an image left.

        Grids of the surest class hold the fewest wrong tiles, and so cost the fewest marks.
        Following the queue's next image instead would keep one class until it ran dry, deep
        into the images the model is unsure of.
        """
        annotator = check_name("annotator", annotator)
        n = check_int("n", n, low=1, high=MAX_GRID_SIZE)
        now = time.time() if now is None else float(now)
        with self._lock:
            candidates = _get_candidates(self._db, annotator, now, self._is_test.tolist())
        return _choose_class(candidates, ranked, confidence, n)

    def submit_grid(
        self,
        label_name: str,
        *,
        accepted: Sequence[int],
        rejected: Sequence[int] = (),
        annotator: str,
        request_id: str,
        now: float | None = None,
    ) -> GridSubmission:
        """Store ``label_name`` for every ``accepted`` image and send the ``rejected`` ones back
        to the front of the queue, leased to ``annotator``, all in one transaction.

        Each label is stored whatever its lease and reported with it, as ``submit_label``
        does. A ``request_id`` seen before returns the first answer with ``duplicate`` True.
        ValueError for an empty or oversized grid, an image named twice, a test sample, an
        image under review (its answer is a review's) or an unknown class, with nothing stored.
        """
        annotator = check_name("annotator", annotator)
        request_id = check_name("request_id", request_id)
        label = self._check_label(label_name)
        size = len(accepted) + len(rejected)
        if not 1 <= size <= MAX_GRID_SIZE:
            raise ValueError(
                f"a grid holds 1 to {MAX_GRID_SIZE} images, accepted and rejected together; "
                f"got {size}"
            )
        accepted_ids = [self._check_sample_id(s) for s in accepted]
        rejected_ids = [self._check_sample_id(s) for s in rejected]
        every = accepted_ids + rejected_ids
        if len(set(every)) != len(every):
            twice = sorted({s for s in every if every.count(s) > 1})
            raise ValueError(f"a grid names each image once; named more than once: {twice}")
        now = time.time() if now is None else float(now)
        with self._transaction() as db:
            earlier = _get_grid_results(db, request_id)
            if earlier:
                _check_same_grid(earlier, request_id, annotator, label, accepted_ids)
                return GridSubmission(
                    self._class_names[label],
                    [result for _, _, result in earlier],
                    rejected_ids,
                    True,
                )
            reviewing = {
                int(s) for (s,) in db.execute("SELECT sample_id FROM reviews WHERE state = 'open'")
            }
            for sample in accepted_ids:
                if sample in reviewing:
                    raise ValueError(f"sample {sample} is under review: label it on its own")
            results = []
            for sample in accepted_ids:
                row = db.execute(
                    "SELECT leased_by, lease_expires FROM queue WHERE sample_id = ?", (sample,)
                ).fetchone()
                lease, holder = classify_lease(row, annotator, now)
                new = NewLabel(sample, self._class_names[label], annotator, GRID_SOURCE, None, now)
                (event,) = self._insert_labels(db, [new])
                if lease != LEASE_HELD:
                    db.execute(
                        "INSERT INTO lease_conflicts (event_id, kind, holder) VALUES (?, ?, ?)",
                        (event.id, lease, holder),
                    )
                db.execute(
                    "INSERT INTO grid_labels (event_id, grid_request_id, annotator) "
                    "VALUES (?, ?, ?)",
                    (event.id, request_id, annotator),
                )
                results.append(GridResult(sample, event.id, lease, holder))
            # Reversed, so that the first rejected image ends up first in the queue.
            for sample in reversed(rejected_ids):
                labeled = db.execute(
                    "SELECT 1 FROM live_label_events WHERE sample_id = ? LIMIT 1", (sample,)
                ).fetchone()
                if labeled is None:
                    requeue_at_front(
                        db, sample, leased_by=annotator, lease_expires=now + _REJECTED_LEASE
                    )
        return GridSubmission(self._class_names[label], results, rejected_ids, False)

    def get_grid_sample_ids(self, event_id: int) -> list[int]:
        """The images of the grid that stored label event ``event_id`` (empty when none did)."""
        rows = self._query(
            "SELECT e.sample_id FROM grid_labels AS g "
            "JOIN label_events AS e ON e.id = g.event_id WHERE g.grid_request_id = "
            "(SELECT grid_request_id FROM grid_labels WHERE event_id = ?) ORDER BY e.id",
            (int(event_id),),
        )
        return [int(row[0]) for row in rows]

    def get_review_agreement_by_source(self) -> dict[str, tuple[int, int]]:
        """For each label source, ``(reviewed, confirmed)``: how many labels of that source a
        later review answered, and how many of those the review confirmed."""
        rows = self._query(
            "SELECT (SELECT e.source FROM label_events AS e WHERE e.sample_id = r.sample_id "
            "AND e.annotator = r.labeled_by AND e.label = r.reviewed_label AND e.id < r.event_id "
            "ORDER BY e.id DESC LIMIT 1) AS source, COUNT(*), "
            "SUM(r.outcome = 'confirmed') FROM review_answers AS r GROUP BY source"
        )
        return {str(source): (int(n), int(ok)) for source, n, ok in rows if source is not None}


# A rejected image waits for its one-at-a-time label this long for the annotator who
# rejected it (the page labels it next); then it is free for anyone.
_REJECTED_LEASE = 300.0


@dataclass(frozen=True)
class _GridCandidates:
    """Which images one annotator may take into a grid now: no live label, not under review,
    not skipped by them, not leased live to someone else, and not a test sample."""

    taken: set[int]
    is_test: list[bool]

    def pick(self, ranked: Sequence[int], n: int) -> list[int]:
        """The first ``n`` images of ``ranked`` that qualify, queued or not."""
        picks: list[int] = []
        for value in ranked:
            sample = int(value)
            usable = 0 <= sample < len(self.is_test) and not self.is_test[sample]
            if usable and sample not in self.taken:
                picks.append(sample)
                if len(picks) == n:
                    break
        return picks


def _choose_class(
    candidates: _GridCandidates,
    ranked: Mapping[int, Sequence[int]],
    confidence: Callable[[int], float],
    n: int,
) -> int | None:
    """The class of ``ranked`` whose first ``n`` qualifying images have the highest mean
    ``confidence`` (the lowest class on a tie); None when no class has one."""
    best: tuple[float, int] | None = None
    for label in sorted(ranked):
        picks = candidates.pick(ranked[label], n)
        if picks:
            mean = sum(confidence(s) for s in picks) / len(picks)
            if best is None or mean > best[0]:
                best = (mean, label)
    return None if best is None else best[1]


def _lease_picks(
    db: sqlite3.Connection, annotator: str, picks: list[int], expires: float
) -> list[int]:
    """Lease ``picks`` to ``annotator`` until ``expires`` inside the caller's transaction: a
    queued image keeps its place, a pool image joins the queue at its end. Returns the images
    leased (none before the first round, which no queue entry could name)."""
    if not picks:
        return []
    last_round = db.execute("SELECT MAX(id) FROM rounds").fetchone()[0]
    if last_round is None:
        return []
    end = db.execute("SELECT COALESCE(MAX(position), -1) FROM queue").fetchone()[0]
    for sample in picks:
        end += 1
        db.execute(
            "INSERT INTO queue (sample_id, round_id, position, score, leased_by, "
            "lease_expires) VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT (sample_id) DO "
            "UPDATE SET leased_by = excluded.leased_by, "
            "lease_expires = excluded.lease_expires",
            (sample, last_round, end, annotator, expires),
        )
    return picks


def _set_blind_aside(picks: list[int], share: float, rng: random.Random | None) -> GridLease:
    """``picks`` as a grid with a random ``share`` of them (at least one of a grid of two or
    more, when the share is above 0) set aside to be labeled blind."""
    n_blind = 0
    if share > 0 and len(picks) >= 2:
        n_blind = max(1, round(share * len(picks)))
    blind = set((rng or random.Random()).sample(picks, n_blind))
    return GridLease(
        tiles=[s for s in picks if s not in blind], blind=[s for s in picks if s in blind]
    )


def _get_candidates(
    db: sqlite3.Connection, annotator: str, now: float, is_test: list[bool]
) -> _GridCandidates:
    held = {
        int(sample)
        for sample, holder, expires in db.execute(
            "SELECT sample_id, leased_by, lease_expires FROM queue"
        )
        if holder not in (None, annotator) and expires is not None and expires > now
    }
    labeled = {int(s) for (s,) in db.execute("SELECT DISTINCT sample_id FROM live_label_events")}
    skipped = {
        int(s)
        for (s,) in db.execute("SELECT sample_id FROM skips WHERE annotator = ?", (annotator,))
    }
    reviewing = {
        int(s) for (s,) in db.execute("SELECT sample_id FROM reviews WHERE state = 'open'")
    }
    return _GridCandidates(held | labeled | skipped | reviewing, is_test)


def _get_grid_results(db: sqlite3.Connection, request_id: str) -> list[tuple[str, int, GridResult]]:
    """``(annotator, label, result)`` for each image an earlier grid with ``request_id``
    stored, in order (empty when the request is new)."""
    rows = db.execute(
        "SELECT g.annotator, e.label, e.sample_id, e.id, c.kind, c.holder FROM grid_labels AS g "
        "JOIN label_events AS e ON e.id = g.event_id "
        "LEFT JOIN lease_conflicts AS c ON c.event_id = e.id "
        "WHERE g.grid_request_id = ? ORDER BY e.id",
        (request_id,),
    ).fetchall()
    return [
        (str(a), int(label), GridResult(int(s), int(e), LEASE_HELD if k is None else str(k), h))
        for a, label, s, e, k, h in rows
    ]


def _check_same_grid(
    earlier: list[tuple[str, int, GridResult]],
    request_id: str,
    annotator: str,
    label: int,
    accepted: list[int],
) -> None:
    """A grid request id seen before must come with the annotator, class and images it
    first came with."""
    first_annotator, first_label, _ = earlier[0]
    samples = sorted(result.sample_id for _, _, result in earlier)
    if (first_annotator, first_label, samples) != (annotator, label, sorted(accepted)):
        raise ValueError(
            f"request id {request_id!r} was already used for another grid; use a new request id"
        )
