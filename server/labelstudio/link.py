"""The link of a project to its Label Studio project, kept in the project store's meta (so it
travels with the project and is written in one transaction), and the per-sample image keys.

One shared ``secret`` serves three uses: the header of Label Studio's webhook calls, the
password of the ML backend, and the key of each image URL (``make_sample_key``), which lets
Label Studio's users' browsers fetch exactly the images of pushed tasks and no others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from labeler.store.database import ProjectStore
from server.constant_time import is_same_secret

META_KEY = "labelstudio_link"
REMOTE_PREFIX = "labelstudio:"
SOURCE = "labelstudio"
ML_USER = "labelstudio"


@dataclass(frozen=True)
class Link:
    """``link_id``: random, marks our Label Studio project; ``url``: Label Studio's base URL;
    ``project_id``: None until the project exists; ``server_url``: where Label Studio and its
    users reach our server (ends in "/"); ``users``: Label Studio user id -> email."""

    link_id: str
    url: str
    project_id: int | None
    secret: str
    server_url: str
    users: dict[int, str] = field(default_factory=dict)

    @property
    def remote(self) -> str:
        """The name of the linked project in the store's remote tables."""
        return f"{REMOTE_PREFIX}{self.link_id}"

    @property
    def webhook_url(self) -> str:
        return f"{self.server_url}labelstudio/webhook"

    @property
    def ml_backend_url(self) -> str:
        return f"{self.server_url}labelstudio/ml"

    def get_image_url(self, sample_id: int) -> str:
        key = make_sample_key(self.secret, sample_id)
        return f"{self.server_url}labelstudio/images/{sample_id}.png?key={key}"


def make_link(*, url: str, server_url: str) -> Link:
    return Link(secrets.token_hex(8), url, None, secrets.token_urlsafe(32), server_url)


def load_link(store: ProjectStore) -> Link | None:
    """The project's link, or None when it was never connected."""
    raw = store.get_meta(META_KEY)
    if raw is None:
        return None
    try:
        values: dict[str, Any] = json.loads(raw)
        values["users"] = {int(k): str(v) for k, v in values.get("users", {}).items()}
        return Link(**values)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"the stored Label Studio link of {store.path.parent} is unreadable ({error}); "
            "run `labeler ls connect --force` to make it again"
        ) from error


def save_link(store: ProjectStore, link: Link) -> None:
    store.set_meta(META_KEY, json.dumps(asdict(link), sort_keys=True))


def update_link(store: ProjectStore, link: Link, **changes: Any) -> Link:
    new = replace(link, **changes)
    if new != link:
        save_link(store, new)
    return new


def make_sample_key(secret: str, sample_id: int) -> str:
    """A key for one sample's image (an HMAC of its id, 128 bits)."""
    digest = hmac.new(secret.encode(), f"sample:{int(sample_id)}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def check_sample_key(secret: str, sample_id: int, key: str | None) -> bool:
    return key is not None and is_same_secret(key, make_sample_key(secret, sample_id))


def make_review_key(secret: str, sample_id: int) -> str:
    """The key a review task of one sample carries instead of its sample key: a task marked as
    a review cannot be made from a queue task's data, nor the other way round."""
    digest = hmac.new(secret.encode(), f"review:{int(sample_id)}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def get_task_kind(link: Link, sample_id: int | None, key: str | None) -> str | None:
    """ "label" for a queue task of ours, "review" for a review task of ours, None for a task
    we did not make (imported by hand, or its data edited)."""
    if sample_id is None or key is None:
        return None
    if check_sample_key(link.secret, sample_id, key):
        return "label"
    if is_same_secret(key, make_review_key(link.secret, sample_id)):
        return "review"
    return None


def normalize_url(url: str, *, what: str) -> str:
    """``url`` with one trailing "/"; ValueError unless it is http(s)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"{what} must be an http:// or https:// URL, got {url!r}")
    return url.rstrip("/") + "/"
