"""The project database: ``ProjectStore``, the one object callers hold to read and write it.

The store is split by concern, each in its own module and class, all sharing one connection,
one lock and one transaction helper (``core.StoreCore``):

- ``schema``: the tables, schema versions and upgrades, creating and opening the file;
- ``samples``: classes, samples and meta facts (``SampleCatalog``);
- ``labels``: the append-only label log and the current-label rule (``LabelLog``);
- ``rounds``: rounds, their results and the round lock (``RoundLog``);
- ``queue``: the queue, leases, submissions, skips and undo (``AnnotationQueue``);
- ``grids``: grid labeling, many images of one class at once (``GridBatches``);
- ``annotators``: who may use the annotation server (``AnnotatorRegistry``);
- ``remote``: the tasks and annotations of a linked external tool (``RemoteLinks``);
- ``records``: the dataclasses they hand out and take in.

``ProjectStore`` combines the concerns so that one open store serves a round, the server or a
command; the schema is described in ``docs/store.md``. Samples and classes never change after
``ProjectStore.create``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence

from labeler.store.annotators import AnnotatorRegistry
from labeler.store.core import SPLITS
from labeler.store.gold import GoldChecks
from labeler.store.grids import GridBatches
from labeler.store.queue import DEFAULT_LEASE_SECONDS, AnnotationQueue
from labeler.store.records import (
    LEASE_CONFLICTS,
    LEASE_HELD,
    REMOTE_KINDS,
    Activity,
    Annotator,
    Ids,
    LabelConflict,
    LabelEvent,
    NewLabel,
    NewSample,
    QueueItem,
    RemoteAnnotation,
    RemoteChanges,
    RemoteTask,
    RoundRecord,
    Sample,
    Submission,
)
from labeler.store.remote import RemoteLinks
from labeler.store.reviews import ReviewQueue
from labeler.store.rounds import ROUND_STATUSES, RoundLog
from labeler.store.samples import (
    SampleCatalog,
    check_class_name,
    check_class_names,
    check_meta,
    check_new_samples,
)
from labeler.store.schema import (
    DATABASE_NAME,
    SCHEMA_VERSION,
    closed_on_error,
    create_database,
    database_path,
    open_database,
)

__all__ = [
    "DATABASE_NAME",
    "DEFAULT_LEASE_SECONDS",
    "LEASE_CONFLICTS",
    "LEASE_HELD",
    "REMOTE_KINDS",
    "ROUND_STATUSES",
    "SCHEMA_VERSION",
    "SPLITS",
    "Activity",
    "Annotator",
    "Ids",
    "LabelConflict",
    "LabelEvent",
    "NewLabel",
    "NewSample",
    "ProjectStore",
    "QueueItem",
    "RemoteAnnotation",
    "RemoteChanges",
    "RemoteTask",
    "RoundRecord",
    "Sample",
    "Submission",
    "check_class_name",
    "check_class_names",
]

logger = logging.getLogger(__name__)


class ProjectStore(
    SampleCatalog,
    RoundLog,
    GridBatches,
    AnnotationQueue,
    RemoteLinks,  # before ReviewQueue, its base: remote review answers go through it
    ReviewQueue,
    GoldChecks,
    AnnotatorRegistry,
):
    """An open project database. Use ``ProjectStore.create`` or ``ProjectStore.open``.

    Safe to share between threads (calls are serialized) and to open from several processes
    at once (SQLite locking; writers wait up to a minute for each other). Close it with
    ``close()`` or use it as a context manager.
    """

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        class_names: Sequence[str],
        samples: Sequence[NewSample],
        meta: Mapping[str, str] | None = None,
    ) -> ProjectStore:
        """Create a project database at ``path`` (a file, or a folder to hold ``project.sqlite``).

        Sample ``i`` of ``samples`` gets id ``i``. The database is built under a temporary name
        and renamed into place when complete, so a crash never leaves a half-made one. Raises
        ValueError on bad classes or samples, or when a database already exists there.
        """
        target = database_path(path)
        names = check_class_names(class_names)
        rows = check_new_samples(samples, n_classes=len(names))
        create_database(target, class_names=names, samples=rows, meta=check_meta(meta or {}))
        logger.debug("created %s: %d classes, %d samples", target, len(names), len(rows))
        return cls.open(target)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ProjectStore:
        """Open the project database at ``path`` (a file, or a project folder).

        Rounds left 'running' by a process that no longer runs are marked failed
        ("interrupted"). Raises ValueError when ``path`` is not a project database.
        """
        target = database_path(path)
        connection = open_database(target)
        with closed_on_error(connection, target):
            store = cls(target, connection)
        store._mark_interrupted_rounds()
        return store

    def close(self) -> None:
        """Close the database (and drop this store's round lock, if it holds one)."""
        with self._lock:
            self._release_round_lock()
            self._db.close()

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ProjectStore({str(self.path)!r})"
