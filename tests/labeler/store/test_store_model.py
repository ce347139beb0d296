"""A stateful model of the store: random interleavings of two connections, checked after every
step against a plain Python model of the label log.

Steps: rounds that queue samples, leases, labels (fresh and retried request ids), skips,
undos, reviews sent and answered, gold answers, grids leased and submitted (fresh and retried;
an undo after a grid takes the whole grid back), remote annotations (created, changed, deleted,
delivered twice), annotators added and removed, and the clock moving on. After every step:
- every accepted label event is in the log exactly once, and nothing else is;
- each sample's current label is what the documented rule says (its latest live event);
- no image is leased to two annotators at once, and a review never to its own labeler;
- the queue holds no labeled sample, and open reviews only labeled ones;
- the counts ``status`` shows equal the counts from the log;
- gold answers never become labels.

200 seeded interleavings of 25 steps run in about 6 s (``STORE_MODEL_EXAMPLES=2000`` for a
longer hunt). Checked to catch a planted bug: a review query that forgot to exclude the
sample's own labeler failed within the default 200.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from labeler.store.database import DATABASE_NAME, ProjectStore
from labeler.store.records import OwnLabelError, RemoteAnnotation
from labeler.store.tokens import hash_token
from tests.labeler.store.store_data import CLASSES, N_POOL, N_TEST, finish, make_samples

ANNOTATORS = ("ann", "bob", "cid")
REMOTE = "labelstudio:model"
REMOTE_USER = "ls@example.com"
LEASE = 100.0
POOL = list(range(N_POOL))
GOLD = list(range(N_POOL, N_POOL + N_TEST))


class StoreModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(self._make_folder())
        path = self.folder / DATABASE_NAME
        ProjectStore.create(path, class_names=CLASSES, samples=make_samples()).close()
        # Two connections, as the server and a round have.
        self.stores = (ProjectStore.open(path), ProjectStore.open(path))
        # Model time starts at the wall clock: a round keeps the leases that are live by it.
        self.now = time.time()
        # event id -> (sample, label name, annotator, live)
        self.events: dict[int, list] = {}
        self.requests: dict[str, tuple[int, int, str]] = {}  # request id -> (event, sample, label)
        self.leases: dict[int, tuple[str, float]] = {}  # queued sample -> (holder, expiry)
        self.ids = itertools.count()
        self.grids: dict[int, str] = {}  # event id -> the grid request that stored it
        # remote annotation id -> [kind, value, label event id or None]
        self.remote: dict[int, list] = {}
        self.deleted_remote: set[int] = set()
        self.annotators: set[str] = set()
        self.grid_requests: dict[str, tuple[str, str, list[int], list[int]]] = {}

    @staticmethod
    def _make_folder() -> str:
        return tempfile.mkdtemp(prefix="store-model-")

    def teardown(self) -> None:
        for store in self.stores:
            store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- the model -------------------------------------------------------------------------

    def current(self) -> dict[int, str]:
        latest: dict[int, tuple[int, str]] = {}
        for event_id, (sample, label, _, live) in self.events.items():
            if live and (sample not in latest or event_id > latest[sample][0]):
                latest[sample] = (event_id, label)
        return {sample: label for sample, (_, label) in latest.items()}

    def has_live_label(self, sample: int, annotator: str) -> bool:
        return any(
            s == sample and a == annotator and live for s, _, a, live in self.events.values()
        )

    def accept(self, event) -> None:
        assert event.id not in self.events, "a new label reused an event id"
        self.events[event.id] = [event.sample_id, event.label_name, event.annotator, True]
        self.leases.pop(event.sample_id, None)

    # --- rules -----------------------------------------------------------------------------

    @rule(which=st.integers(0, 1), picks=st.lists(st.sampled_from(POOL), min_size=1, max_size=6))
    def new_round(self, which: int, picks: list[int]) -> None:
        store = self.stores[which]
        round_id = store.start_round(strategy="margin", query_size=len(picks), config={})
        finish(store, round_id, sorted(set(picks)))
        # A new round keeps the live leases of samples it queues again, and drops the rest.
        queued = {item.sample_id for item in store.get_queue()}
        self.leases = {s: lease for s, lease in self.leases.items() if s in queued}

    @rule(who=st.sampled_from(ANNOTATORS), n=st.integers(1, 4), which=st.integers(0, 1))
    def lease(self, who: str, n: int, which: int) -> None:
        items = self.stores[which].lease_next(who, n, lease_seconds=LEASE, now=self.now)
        for item in items:
            holder = self.leases.get(item.sample_id)
            assert holder is None or holder[0] == who or holder[1] <= self.now, (
                f"sample {item.sample_id} leased to {who} while {holder[0]} holds it"
            )
            self.leases[item.sample_id] = (who, self.now + LEASE)

    @rule(
        who=st.sampled_from(ANNOTATORS),
        sample=st.sampled_from(POOL),
        label=st.sampled_from(CLASSES),
        which=st.integers(0, 1),
    )
    def submit(self, who: str, sample: int, label: str, which: int) -> None:
        request = f"r{next(self.ids)}"
        store = self.stores[which]
        if store.has_open_review(sample):
            try:
                answer = store.submit_review(sample, label, annotator=who, request_id=request)
            except OwnLabelError:
                assert self.has_live_label(sample, who)
                return
            assert not self.has_live_label(sample, who) and not answer.duplicate
            event = answer.event
        else:
            submission = store.submit_label(
                sample, label, annotator=who, source="web", request_id=request, now=self.now
            )
            assert not submission.duplicate
            event = submission.event
        self.accept(event)
        self.requests[request] = (event.id, sample, label)

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), which=st.integers(0, 1))
    def retry(self, data: st.DataObject, which: int) -> None:
        request = data.draw(st.sampled_from(sorted(self.requests)))
        event_id, sample, label = self.requests[request]
        store = self.stores[which]
        retried = store.submit_label(sample, label, annotator="x", source="web", request_id=request)
        assert retried.duplicate and retried.event.id == event_id

    @rule(who=st.sampled_from(ANNOTATORS), sample=st.sampled_from(POOL + GOLD))
    def skip(self, who: str, sample: int) -> None:
        self.stores[0].skip_sample(sample, annotator=who)
        if self.leases.get(sample, ("",))[0] == who:
            del self.leases[sample]

    @rule(who=st.sampled_from(ANNOTATORS), which=st.integers(0, 1))
    def undo(self, who: str, which: int) -> None:
        event = self.stores[which].undo_last_label(who, lease_seconds=LEASE)
        live = [i for i, (_, _, a, alive) in self.events.items() if a == who and alive]
        if event is None:
            assert not live
            return
        assert event.id == max(live)
        grid = self.grids.get(event.id)
        taken_back = [i for i, g in self.grids.items() if g == grid] if grid else [event.id]
        for event_id in taken_back:
            self.events[event_id][3] = False
            if self.events[event_id][0] not in self.current():
                # Back in the queue, leased to the annotator who undid it (by the wall clock).
                self.leases.pop(self.events[event_id][0], None)

    @precondition(lambda self: self.current())
    @rule(data=st.data())
    def send_to_review(self, data: st.DataObject) -> None:
        labeled = sorted(self.current())
        samples = data.draw(st.lists(st.sampled_from(labeled), min_size=1, max_size=3))
        self.stores[1].add_reviews(samples, reason="suspect")

    @rule(who=st.sampled_from(ANNOTATORS), n=st.integers(1, 3))
    def lease_reviews(self, who: str, n: int) -> None:
        for item in self.stores[0].lease_reviews(who, n, lease_seconds=LEASE, now=self.now):
            assert not self.has_live_label(item.sample_id, who), "a review of one's own label"

    @rule(who=st.sampled_from(ANNOTATORS), sample=st.sampled_from(GOLD))
    def answer_gold(self, who: str, sample: int) -> None:
        self.stores[1].submit_gold(sample, CLASSES[sample % 3], annotator=who)

    @rule(
        who=st.sampled_from(ANNOTATORS),
        ranked=st.permutations(POOL),
        n=st.integers(1, 6),
        which=st.integers(0, 1),
    )
    def lease_grid(self, who: str, ranked: list[int], n: int, which: int) -> None:
        lease = self.stores[which].lease_grid(who, ranked, n, lease_seconds=LEASE, now=self.now)
        picks = lease.tiles + lease.blind
        assert len(set(picks)) == len(picks) <= n
        for sample in picks:
            holder = self.leases.get(sample)
            assert holder is None or holder[0] == who or holder[1] <= self.now, (
                f"grid image {sample} leased to {who} while {holder[0]} holds it"
            )
            assert sample not in self.current(), f"grid image {sample} is labeled"
            self.leases[sample] = (who, self.now + LEASE)

    @rule(
        who=st.sampled_from(ANNOTATORS),
        label=st.sampled_from(CLASSES),
        samples=st.lists(st.sampled_from(POOL), min_size=1, max_size=5, unique=True),
        n_rejected=st.integers(0, 2),
        which=st.integers(0, 1),
    )
    def submit_grid(
        self, who: str, label: str, samples: list[int], n_rejected: int, which: int
    ) -> None:
        accepted, rejected = samples[n_rejected:], samples[:n_rejected]
        request = f"g{next(self.ids)}"
        store = self.stores[which]
        if any(store.has_open_review(sample) for sample in accepted):
            try:
                store.submit_grid(
                    label, accepted=accepted, rejected=rejected, annotator=who, request_id=request
                )
            except ValueError as error:
                assert "under review" in str(error)
                return
            raise AssertionError("a grid labeled an image under review")
        answer = store.submit_grid(
            label, accepted=accepted, rejected=rejected, annotator=who, request_id=request,
            now=self.now,
        )  # fmt: skip
        assert not answer.duplicate
        assert [result.sample_id for result in answer.results] == accepted
        events = {e.id: e for e in store.get_label_events()}
        for result in answer.results:
            self.accept(events[result.event_id])
            self.grids[result.event_id] = request
        # Rejected images go back to the queue leased to the annotator; before any round
        # there is no queue, and nothing happens.
        for sample in rejected:
            if sample not in self.current() and store.get_rounds():
                self.leases[sample] = (who, self.now + 300.0)
        self.grid_requests[request] = (who, label, accepted, rejected)

    @precondition(lambda self: self.grid_requests)
    @rule(data=st.data(), which=st.integers(0, 1))
    def retry_grid(self, data: st.DataObject, which: int) -> None:
        request = data.draw(st.sampled_from(sorted(self.grid_requests)))
        who, label, accepted, rejected = self.grid_requests[request]
        if not accepted:
            return  # nothing was stored: a retry only sends the rejected ones back again
        again = self.stores[which].submit_grid(
            label, accepted=accepted, rejected=rejected, annotator=who, request_id=request
        )
        assert again.duplicate
        assert sorted(r.event_id for r in again.results) == sorted(
            i for i, g in self.grids.items() if g == request
        )

    @rule(
        annotation=st.integers(1, 5),
        sample=st.sampled_from(POOL),
        kind=st.sampled_from(["label", "label", "skip"]),
        label=st.sampled_from(CLASSES),
        which=st.integers(0, 1),
    )
    def remote_annotation(
        self, annotation: int, sample: int, kind: str, label: str, which: int
    ) -> None:
        """A Label Studio annotation created, changed or delivered again (same content)."""
        if annotation in self.deleted_remote:
            return  # Label Studio never reuses the id of a deleted annotation
        earlier = self.remote.get(annotation)
        if earlier is not None:
            sample = earlier[3]  # an annotation stays on its task's sample
        value = label if kind == "label" else None
        store = self.stores[which]
        made = RemoteAnnotation(annotation, sample, kind, value, REMOTE_USER, self.now)
        changes = store.apply_remote_annotations(REMOTE, [made], source="labelstudio")
        if earlier is not None and (earlier[0], earlier[1]) == (kind, value):
            assert changes.n_unchanged == 1 and changes.n_changes == 0
            return
        if earlier is not None and earlier[2] is not None:
            self.retract(earlier[2])
        event_id = None
        if kind == "label":
            event = store.get_label_events()[-1]
            assert (event.sample_id, event.label_name, event.annotator) == (
                sample,
                label,
                REMOTE_USER,
            )
            self.accept(event)
            event_id = event.id
        self.remote[annotation] = [kind, value, event_id, sample]

    @precondition(lambda self: self.remote)
    @rule(data=st.data(), which=st.integers(0, 1))
    def remote_deletion(self, data: st.DataObject, which: int) -> None:
        annotation = data.draw(st.sampled_from(sorted(self.remote)))
        changes = self.stores[which].apply_remote_annotations(
            REMOTE, [], deleted_ids=[annotation], source="labelstudio"
        )
        event_id = self.remote.pop(annotation)[2]
        self.deleted_remote.add(annotation)
        assert changes.deleted == [annotation]
        if event_id is not None:
            self.retract(event_id)

    def retract(self, event_id: int) -> None:
        if self.events[event_id][3]:
            self.events[event_id][3] = False
            if self.events[event_id][0] not in self.current():
                self.leases.pop(self.events[event_id][0], None)

    @rule(who=st.sampled_from(ANNOTATORS), add=st.booleans(), which=st.integers(0, 1))
    def annotator(self, who: str, add: bool, which: int) -> None:
        store = self.stores[which]
        if add and who not in self.annotators:
            store.add_annotator(who, token_hash=hash_token(f"token-of-{who}"))
            self.annotators.add(who)
        elif not add:
            assert store.remove_annotator(who) == (who in self.annotators)
            self.annotators.discard(who)

    @rule(seconds=st.sampled_from([1.0, 50.0, 150.0]))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def the_log_holds_each_accepted_label_once(self) -> None:
        ids = [event.id for event in self.stores[1].get_label_events()]
        assert sorted(ids) == sorted(self.events) and len(set(ids)) == len(ids)

    @invariant()
    def current_labels_follow_the_rule(self) -> None:
        for store in self.stores:
            found = {e.sample_id: e.label_name for e in store.get_current_label_events()}
            assert found == self.current()

    @invariant()
    def the_queue_holds_no_labeled_sample_and_reviews_only_labeled_ones(self) -> None:
        labeled = set(self.current())
        queued = {item.sample_id for item in self.stores[0].get_queue()}
        assert not queued & labeled
        assert {item.sample_id for item in self.stores[1].get_reviews()} <= labeled

    @invariant()
    def counts_equal_the_log(self) -> None:
        counts = self.stores[0].count_labels()
        expected = {name: 0 for name in CLASSES}
        for label in self.current().values():
            expected[label] += 1
        assert counts == expected

    @invariant()
    def the_annotators_are_those_added_and_not_removed(self) -> None:
        assert {a.name for a in self.stores[1].get_annotators()} == self.annotators

    @invariant()
    def gold_answers_never_become_labels(self) -> None:
        assert not set(self.current()) & set(GOLD)


StoreModel.TestCase.settings = settings(
    max_examples=int(os.environ.get("STORE_MODEL_EXAMPLES", "200")),
    stateful_step_count=25,
    deadline=None,
    derandomize=True,  # the same interleavings on every run, so CI stays reproducible
    suppress_health_check=[HealthCheck.too_slow],
)
test_the_store_keeps_its_invariants = StoreModel.TestCase
