"""``connect``: make (or find again) the project's Label Studio project, with our labeling
config, uncertainty sampling and our webhook; idempotent, and safe to cut off at any point
(the link is saved before the project is made, and the project carries the link's marker).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from labeler.store.project import Project
from server.labelstudio import format
from server.labelstudio.client import LabelStudioClient, LabelStudioError, NotFoundError
from server.labelstudio.link import Link, load_link, make_link, save_link, update_link

logger = logging.getLogger(__name__)

# Where `labeler serve` listens by default.
DEFAULT_SERVER_URL = "http://127.0.0.1:8000/"


@dataclass
class ConnectResult:
    """The link made or found; ``created`` whether a new Label Studio project was made;
    ``repairs``: what was put right (config, webhook)."""

    link: Link
    created: bool
    repairs: list[str] = field(default_factory=list)


def connect(
    project: Project,
    client: LabelStudioClient,
    *,
    server_url: str | None,
    title: str | None = None,
    force: bool = False,
) -> ConnectResult:
    """Link ``project`` to a Label Studio project at ``client.url``.

    Finds the project made before (by the stored id, else by the marker in its description)
    or makes one. A project deleted in Label Studio, or one whose labeling config was changed
    by hand, raises LabelStudioError saying what was found, unless ``force``: then a new
    project is made, or our config is put back.
    """
    store = project.store
    client.get_current_user()  # a bad token fails here, before anything is written
    url = client.url + "/"
    link = load_link(store)
    if link is None:
        link = make_link(url=url, server_url=server_url or DEFAULT_SERVER_URL)
        save_link(store, link)
    else:
        # Saved once the project is found or made: a mistyped --url changes nothing.
        link = replace(link, url=url, server_url=server_url or link.server_url)
    found = _find_project(client, link)
    created = False
    if found is None:
        if link.project_id is not None and not force:
            raise LabelStudioError(
                f"the Label Studio project {link.project_id} of {project.path} is gone from "
                f"{client.url} (deleted?); `labeler ls connect {project.path} --url "
                f"{client.url} --force` makes a new one, and the next push fills it"
            )
        if link.project_id is not None:
            # A new project: a new marker, so that its tasks are not mistaken for the old ones.
            fresh = make_link(url=url, server_url=link.server_url)
            link = replace(fresh, secret=link.secret)
            save_link(store, link)
        fields = format.make_project(
            title or f"guided-labeler {project.path.name}", project.class_names, link.link_id
        )
        view = format.read_project(client.create_project(fields))
        link = update_link(store, link, project_id=view.project_id)
        created = True
        logger.info("made Label Studio project %d at %s", view.project_id, client.url)
    else:
        view = found
        link = replace(link, project_id=view.project_id)
        save_link(store, link)
    result = ConnectResult(link, created)
    problem = check_project(view, project.class_names)
    if problem is not None:
        if not force:
            raise LabelStudioError(
                f"{problem}; `labeler ls connect {project.path} --url {client.url} --force` "
                "puts our labeling config back"
            )
        client.update_project(view.project_id, format.make_config_update(project.class_names))
        result.repairs.append("put our labeling config back")
    result.repairs += _ensure_webhook(client, link)
    users = format.read_users(client.list_users())
    result.link = update_link(store, link, users=users)
    return result


def check_project(view: format.ProjectView, class_names: tuple[str, ...]) -> str | None:
    """None when the project's labeling config is ours, else what was found instead."""
    found = format.describe_label_config(view.label_config)
    if isinstance(found, str):
        return f"the labeling config of Label Studio project {view.project_id} was changed: {found}"
    if found != tuple(class_names):
        return (
            f"the labeling config of Label Studio project {view.project_id} was changed: it "
            f"offers the classes {list(found)}, ours are {list(class_names)}"
        )
    return None


def get_linked_project(
    project: Project, client: LabelStudioClient
) -> tuple[Link, format.ProjectView]:
    """The link and its Label Studio project, checked (for push and pull)."""
    link = load_link(project.store)
    if link is None or link.project_id is None:
        raise ValueError(
            f"{project.path} is not connected to Label Studio; run `labeler ls connect "
            f"{project.path} --url URL` first"
        )
    view = _find_project(client, link)
    if view is None:
        raise LabelStudioError(
            f"the Label Studio project {link.project_id} of {project.path} is gone from "
            f"{client.url} (deleted?); `labeler ls connect {project.path} --url {client.url} "
            "--force` makes a new one"
        )
    problem = check_project(view, project.class_names)
    if problem is not None:
        raise LabelStudioError(
            f"{problem}; `labeler ls connect {project.path} --url {client.url} --force` "
            "puts our labeling config back"
        )
    return link, view


def _find_project(client: LabelStudioClient, link: Link) -> format.ProjectView | None:
    """The project of ``link``: by id when it still carries our marker, else by marker."""
    if link.project_id is not None:
        try:
            view = format.read_project(client.get_project(link.project_id))
        except NotFoundError:
            view = None
        if view is not None and view.link_id == link.link_id:
            return view
    for raw in client.list_projects():
        view = format.read_project(raw)
        if view.link_id == link.link_id:
            return format.read_project(client.get_project(view.project_id))
    return None


def _ensure_webhook(client: LabelStudioClient, link: Link) -> list[str]:
    assert link.project_id is not None
    hook = format.make_webhook(link.webhook_url, link.secret)
    hooks = client.list_webhooks(link.project_id)
    repairs = []
    for stale in format.find_stale_webhooks(hooks, link.webhook_url, link.secret):
        client.delete_webhook(stale)
        repairs.append(f"removed webhook {stale}, which posted to our old address")
    found = format.find_webhook(hooks, link.webhook_url, link.secret)
    if found is None:
        client.create_webhook(link.project_id, hook)
        repairs.append(f"added the webhook {link.webhook_url}")
    elif not found[1]:
        client.update_webhook(found[0], hook)
        repairs.append(f"updated the webhook {link.webhook_url}")
    return repairs
