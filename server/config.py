"""Server configuration: defaults, then the project's instance file, then ``LABELER_*``
environment variables, then what the caller passes (the command line's flags, tests)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from generators.checks import check_int, check_number
from labeler.store.database import DEFAULT_LEASE_SECONDS
from labeler.store.project_files import get_server_folder

# The instance folder sits inside the project: its secret key, config file and round logs.
INSTANCE_FILE = "server.cfg"
SECRET_KEY_FILE = "secret_key"
ENV_PREFIX = "LABELER"

DEFAULTS: dict[str, Any] = {
    # Seconds an image stays leased to the annotator it was handed to.
    "LEASE_SECONDS": DEFAULT_LEASE_SECONDS,
    # Tasks one "next" call may lease at once (the page asks for two: the image and the next).
    "MAX_TASKS_PER_CALL": 10,
    # Largest request body accepted; a label submission is well under 1 KiB.
    "MAX_CONTENT_LENGTH": 16 * 1024,
    # Failed logins from one address before each further attempt must wait, and the longest
    # wait (seconds; it doubles from 1 s with every further failure).
    "LOGIN_FAILURES_ALLOWED": 5,
    "LOGIN_MAX_DELAY": 60.0,
    # Encoded PNGs kept in memory.
    "IMAGE_CACHE_SIZE": 4096,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Strict",
    "SESSION_COOKIE_NAME": "labeler_session",
    # Command that runs a round, as a list; the project folder and options are appended.
    "ROUND_COMMAND": None,
    # Command that makes the pool's map, as a list; the project and --embedding are appended.
    "MAP_COMMAND": None,
}


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> Path:
    """Fill ``app.config`` in order and return the project folder.

    The project comes from ``overrides["PROJECT"]`` or ``LABELER_PROJECT``; its instance folder
    (``PROJECT/server``) is created, and a secret key for session cookies is made there once,
    so that sessions outlive a restart.
    """
    overrides = dict(overrides or {})
    app.config.from_mapping(DEFAULTS)
    project = overrides.get("PROJECT") or os.environ.get(f"{ENV_PREFIX}_PROJECT")
    if not project:
        raise ValueError("no project given: pass PROJECT or set LABELER_PROJECT")
    project_path = Path(project).resolve()
    if not project_path.is_dir():
        raise ValueError(f"project folder {project_path} does not exist")
    app.instance_path = str(get_server_folder(project_path))
    Path(app.instance_path).mkdir(exist_ok=True)
    app.config.from_pyfile(str(Path(app.instance_path) / INSTANCE_FILE), silent=True)
    app.config.from_prefixed_env(ENV_PREFIX)
    app.config.from_mapping(overrides)
    app.config["PROJECT"] = str(project_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _load_secret_key(Path(app.instance_path) / SECRET_KEY_FILE)
    _check_config(app.config)
    return project_path


def _load_secret_key(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = secrets.token_hex(32)
        # Made with mode 600 and exclusively: a concurrent first start keeps one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(key)
        return key


def _check_config(config: Mapping[str, Any]) -> None:
    for name in ("LEASE_SECONDS", "LOGIN_MAX_DELAY"):  # seconds
        check_number(name, config[name], low=0.0, low_open=True)
    for name in ("MAX_TASKS_PER_CALL", "MAX_CONTENT_LENGTH", "IMAGE_CACHE_SIZE"):
        check_int(name, config[name], low=1)
