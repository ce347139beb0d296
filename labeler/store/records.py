"""The records the project store hands out and takes in: samples, label events, rounds, queue
items, annotators and the tasks and annotations of an external tool. Plain frozen dataclasses;
the store modules make and check them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

# How a label stood to the image's lease when it was submitted (see ``submit_label``).
LEASE_HELD = "held"
LEASE_CONFLICTS = ("expired", "taken", "not_leased", "not_queued")
# What an external annotation may say (a deleted one is recorded as "deleted").
REMOTE_KINDS = ("label", "skip", "rejected")

# Sample ids (or class indexes), ``[n]``.
Ids = NDArray[np.int64]


@dataclass(frozen=True)
class NewSample:
    """A sample to create: ``path`` relative to the image source, ``split`` 'pool' or 'test',
    ``known_label`` a class index (known from the source) or None."""

    path: str
    split: str
    known_label: int | None = None


@dataclass(frozen=True)
class Sample:
    """A sample of the project; ``id`` is its row in the packed image array."""

    id: int
    path: str
    split: str
    known_label: int | None


@dataclass(frozen=True)
class NewLabel:
    """A label to record: ``label_name`` must be one of the project's classes."""

    sample_id: int
    label_name: str
    annotator: str
    source: str
    request_id: str | None = None
    # When the label was given (unix seconds), if not now: an external tool's own time.
    created_at: float | None = None


@dataclass(frozen=True)
class LabelEvent:
    """One entry of the label log; ``label`` is the class index, ``created_at`` unix seconds."""

    id: int
    sample_id: int
    label: int
    label_name: str
    annotator: str
    source: str
    created_at: float
    request_id: str | None


@dataclass(frozen=True)
class RoundRecord:
    """One round; times are unix seconds, accuracies fractions in [0, 1] (None if unknown)."""

    id: int
    status: str
    started_at: float
    finished_at: float | None
    strategy: str
    query_size: int
    n_labels: int | None
    val_accuracy: float | None
    test_accuracy: float | None
    folder: str | None
    config: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class QueueItem:
    """A queued sample, ``position`` 0 first; ``leased_by`` the annotator holding it (or None)
    until ``lease_expires`` (unix seconds)."""

    sample_id: int
    round_id: int
    position: int
    score: float | None
    leased_by: str | None
    lease_expires: float | None

    def is_leased(self, now: float) -> bool:
        """Whether an annotator holds an unexpired lease at time ``now`` (unix seconds)."""
        return (
            self.leased_by is not None
            and self.lease_expires is not None
            and self.lease_expires > now
        )


@dataclass(frozen=True)
class Submission:
    """The answer to ``submit_label``: the stored ``event``, how it stood to the lease
    (``lease``: "held" or one of ``LEASE_CONFLICTS``; ``holder``: who held it instead), and
    whether the request id had been seen before (``duplicate``: nothing new was stored)."""

    event: LabelEvent
    lease: str
    holder: str | None
    duplicate: bool


@dataclass(frozen=True)
class Activity:
    """One thing an annotator did: ``kind`` "label" (``retracted`` if undone) or "skip", at
    ``created_at`` (unix seconds)."""

    created_at: float
    annotator: str
    kind: str
    sample_id: int
    retracted: bool


@dataclass(frozen=True)
class LabelConflict:
    """A sample that annotators labeled differently: ``labels`` maps annotator -> class name
    (each annotator's latest live label)."""

    sample_id: int
    labels: dict[str, str]


@dataclass(frozen=True)
class RemoteTask:
    """A sample's task in an external tool: ``round_id`` is the round whose prediction it
    carries (None: none), ``state`` 'open' or 'marked'."""

    sample_id: int
    task_id: int
    round_id: int | None
    state: str


@dataclass(frozen=True)
class RemoteAnnotation:
    """What an external annotation says now: ``kind`` 'label' (``value`` a class name),
    'skip' (``value`` None) or 'rejected' (``value`` the label given, not one of ours);
    ``updated_at`` unix seconds, the tool's time of this version; ``review``: it answers a
    review task (blind second look) rather than a queue task."""

    annotation_id: int
    sample_id: int
    kind: str
    value: str | None
    annotator: str
    updated_at: float
    review: bool = False


@dataclass
class RemoteChanges:
    """What applying remote annotations did, by annotation id: new labels, changed labels
    (a new event), skips, rejected ones (annotation id -> label given), deletions followed,
    and how many were as before."""

    labeled: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)
    deleted: list[int] = field(default_factory=list)
    n_unchanged: int = 0

    @property
    def n_changes(self) -> int:
        return (
            len(self.labeled)
            + len(self.updated)
            + len(self.skipped)
            + len(self.rejected)
            + len(self.deleted)
        )


@dataclass(frozen=True)
class Annotator:
    """A registered annotator; ``is_admin`` may start rounds and manage annotators."""

    name: str
    is_admin: bool
    created_at: float


# Why a labeled sample is sent to review: ranked high by ``labeler suspects``, drawn at random
# to measure annotators without bias, or answered differently by a reviewer (then a third
# annotator decides).
REVIEW_REASONS = ("suspect", "calibration", "dispute")


@dataclass(frozen=True)
class ReviewItem:
    """A labeled sample waiting for a blind second look, ``position`` 0 first: ``reason``
    (``REVIEW_REASONS``), ``labeled_by`` the annotator of the label under review, and
    ``leased_by`` the reviewer holding it (or None) until ``lease_expires``."""

    sample_id: int
    reason: str
    position: int
    labeled_by: str
    leased_by: str | None
    lease_expires: float | None


@dataclass(frozen=True)
class ReviewAnswer:
    """The answer to ``submit_review``: the reviewer's label ``event``, its ``outcome``
    ("confirmed": the same as the label under review; "disputed": another), and whether the
    request id had been seen before (``duplicate``)."""

    event: LabelEvent
    outcome: str
    duplicate: bool


class OwnLabelError(ValueError):
    """A reviewer asked to review a sample they labeled themselves (not blind)."""
