"""Label Studio's JSON as the bridge writes and reads it (plain dicts shaped as Label Studio
1.23 sends them; the integration tests check the same shapes against the real server)."""

from __future__ import annotations

import pytest

from labeler.store.database import RemoteAnnotation
from server.labelstudio import format
from server.labelstudio.link import get_task_kind, make_link, make_review_key, make_sample_key

CLASSES = ("cat", "dog & co", 'say "hi"')


def make_annotation(choices: list[str], **fields: object) -> dict[str, object]:
    return {
        "id": 7,
        "task": 3,
        "completed_by": 1,
        "created_username": " ann@example.org, 1",
        "was_cancelled": False,
        "updated_at": "2026-12-01T10:00:00.500000Z",
        "result": [
            {
                "from_name": "label",
                "to_name": "image",
                "type": "choices",
                "value": {"choices": choices},
            }
        ],
        **fields,
    }


def test_the_labeling_config_offers_our_classes_in_order_and_reads_back() -> None:
    config = format.make_label_config(CLASSES)
    assert format.describe_label_config(config) == CLASSES


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("<View", "not XML"),
        ('<View><Text name="text" value="$text"/></View>', "no <Image"),
        (
            '<View><Image name="image" value="$image"/>'
            '<Labels name="label" toName="image"/></View>',
            "no <Choices",
        ),
        (
            '<View><Image name="image" value="$image"/><Choices name="label" toName="image" '
            'choice="multiple"><Choice value="cat"/></Choices></View>',
            "multiple choice",
        ),
    ],
)
def test_a_changed_labeling_config_says_what_it_holds(config: str, message: str) -> None:
    found = format.describe_label_config(config)
    assert isinstance(found, str) and message in found


def test_a_project_carries_the_link_marker() -> None:
    fields = format.make_project("my project", CLASSES, "abc123")
    assert fields["sampling"] == "Uncertainty sampling"
    view = format.read_project({"id": 4, **fields, "model_version": ""})
    assert (view.project_id, view.link_id, view.model_version) == (4, "abc123", None)
    assert format.read_project({"id": 5, "description": "someone else's"}).link_id is None


def test_a_task_carries_the_sample_the_score_and_the_prediction() -> None:
    prediction = format.make_prediction("dog & co", 0.625, model_version="round-3")
    task = format.make_task(
        12,
        image_url="http://x/img.png",
        sample_key="k",
        acquisition_score=0.375,
        round_id=3,
        prediction=prediction,
    )
    assert task["data"]["sample_id"] == 12 and task["data"]["acquisition_score"] == 0.375
    assert task["predictions"] == [
        {
            "result": [
                {
                    "from_name": "label",
                    "to_name": "image",
                    "type": "choices",
                    "value": {"choices": ["dog & co"]},
                }
            ],
            "score": 0.625,
            "model_version": "round-3",
        }
    ]
    view = format.read_task({"id": 99, **task, "annotations": []})
    assert (view.task_id, view.sample_id, view.sample_key) == (99, 12, "k")
    assert view.prediction_versions == {"round-3"}
    foreign = format.read_task({"id": 100, "data": {"image": "x", "sample_id": "12"}})
    assert foreign.sample_id is None and foreign.sample_key is None


def test_an_annotation_reads_as_a_label_a_skip_or_a_rejected_label() -> None:
    read = {"sample_id": 12, "class_names": CLASSES, "annotator": "ann@example.org"}
    at = 1796119200.5
    assert format.read_annotation(make_annotation(["cat"]), **read) == RemoteAnnotation(
        7, 12, "label", "cat", "ann@example.org", at
    )
    skip = format.read_annotation(make_annotation([], was_cancelled=True), **read)
    assert (skip.kind, skip.value) == ("skip", None)
    assert format.read_annotation(make_annotation(["wolf"]), **read).value == "wolf"
    assert format.read_annotation(make_annotation(["wolf"]), **read).kind == "rejected"
    assert format.read_annotation(make_annotation(["cat", "wolf"]), **read).value == "cat, wolf"
    assert format.read_annotation(make_annotation([]), **read).value == "(no choice)"


def test_the_annotator_is_named_by_the_user_list_or_the_created_username() -> None:
    annotation = make_annotation(["cat"])
    assert format.get_annotator_name(annotation, {1: "first@example.org"}) == "first@example.org"
    assert format.get_annotator_name(annotation, {}) == "ann@example.org"
    bare = {"id": 1, "completed_by": 5}
    assert format.get_annotator_name(bare, {}) is None


def test_webhook_bodies_of_each_action() -> None:
    annotation = make_annotation(["cat"])
    task = {"id": 3, "data": {"sample_id": 12}}
    one = format.read_webhook(
        {
            "action": "ANNOTATION_CREATED",
            "project": {"id": 2},
            "annotation": annotation,
            "task": task,
        }
    )
    assert one.project_id == 2 and one.annotations == ((annotation, task),)
    many = format.read_webhook(
        {"action": "ANNOTATIONS_CREATED", "annotation": [annotation], "task": [task]}
    )
    assert many.annotations == ((annotation, task),) and many.project_id is None
    deleted = format.read_webhook({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 7}]})
    assert deleted.deleted_ids == (7,) and deleted.annotations == ()
    other = format.read_webhook({"action": "PROJECT_UPDATED", "project": {"id": 2}})
    assert other.annotations == () and other.deleted_ids == ()
    for bad in ([], {"no": "action"}, {"action": "ANNOTATION_CREATED", "annotation": 3}):
        with pytest.raises(ValueError, match=r"webhook body|annotation"):
            format.read_webhook(bad)


def test_our_webhook_is_found_and_a_stale_one_is_seen() -> None:
    hook = {"id": 4, **format.make_webhook("http://us/labelstudio/webhook", "s3cret")}
    assert format.find_webhook([hook], "http://us/labelstudio/webhook", "s3cret") == (4, True)
    assert format.find_webhook([hook], "http://us/labelstudio/webhook", "new") == (4, False)
    assert format.find_webhook([hook], "http://elsewhere/", "s3cret") is None
    moved = {"id": 5, **format.make_webhook("http://old/labelstudio/webhook", "s3cret")}
    theirs = {"id": 6, **format.make_webhook("http://old/labelstudio/webhook", "other")}
    hooks = [hook, moved, theirs]
    assert format.find_stale_webhooks(hooks, "http://us/labelstudio/webhook", "s3cret") == [5]


def test_predict_requests_and_answers_keep_the_task_order() -> None:
    body = {
        "tasks": [
            {"id": 1, "data": {"sample_id": 12, "sample_key": "k"}},
            {"id": 2, "data": {"image": "http://x"}},
        ]
    }
    assert format.read_predict_request(body) == [(12, "k"), (None, None)]
    prediction = format.make_prediction("cat", 0.9, model_version="round-2")
    answer = format.make_predict_response([prediction, None])
    # No guess: an empty list (no prediction), not an empty result Label Studio would store.
    assert answer["results"] == [prediction, []]
    with pytest.raises(ValueError, match="'tasks'"):
        format.read_predict_request({"task": []})


def test_times_are_unix_seconds() -> None:
    assert format.parse_time("1970-01-01T00:01:00Z") == 60.0
    with pytest.raises(ValueError, match="ISO 8601"):
        format.parse_time(None)


def test_a_review_task_is_blind_and_known_by_its_own_key() -> None:
    link = make_link(url="http://ls.example.org", server_url="http://us.example.org/")
    task = format.make_review_task(
        4,
        image_url="http://img/4.png",
        review_key=make_review_key(link.secret, 4),
        reason="suspect",
    )
    assert "predictions" not in task and "annotations" not in task
    view = format.read_task({"id": 9, **task})
    assert view.review_reason == "suspect"
    assert get_task_kind(link, view.sample_id, view.sample_key) == "review"
    # A queue task's key is not a review key, a review key is not a queue task's, and keys
    # of another sample or another link are nobody's.
    assert get_task_kind(link, 4, make_sample_key(link.secret, 4)) == "label"
    assert get_task_kind(link, 5, view.sample_key) is None
    other = make_link(url="http://ls.example.org", server_url="http://us.example.org/")
    assert get_task_kind(other, 4, view.sample_key) is None
    assert get_task_kind(link, None, view.sample_key) is None
    queue_task = format.read_task({"id": 8, "data": {"sample_id": 4}})
    assert queue_task.review_reason is None


def test_an_annotation_of_a_review_task_is_marked_as_a_review_answer() -> None:
    read = format.read_annotation(
        make_annotation(["cat"]), sample_id=3, class_names=CLASSES, annotator="a", review=True
    )
    assert read.review and (read.kind, read.value) == ("label", "cat")
    skipped = format.read_annotation(
        make_annotation([], was_cancelled=True),
        sample_id=3,
        class_names=CLASSES,
        annotator="a",
        review=True,
    )
    assert skipped.review and skipped.kind == "skip"
