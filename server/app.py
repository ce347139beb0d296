"""The app factory: ``create_app({"PROJECT": path, ...})`` builds the annotation server of one
project (configuration as in ``server.config``; blueprints for pages, API and admin)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from labeler.store.project import open_project
from server import admin, api, errors, grid, pages, pool_map, security
from server.config import load_config
from server.images import ImageCache
from server.labelstudio import routes as labelstudio_routes
from server.map_runner import MapRunner
from server.round_runner import RoundRunner
from server.state import EXTENSION_KEY, ServerState
from server.throttle import LoginThrottle

ROUND_LOG_FOLDER = "round-logs"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """An app serving the project ``config["PROJECT"]`` (or ``$LABELER_PROJECT``).

    Raises ValueError when the project cannot be opened or the configuration is bad. Call
    ``close_app(app)`` to close the project's database when done.
    """
    app = Flask(__name__)
    project_path = load_config(app, config)
    project = open_project(project_path)
    try:
        app.extensions[EXTENSION_KEY] = ServerState(
            project=project,
            images=ImageCache(project.load_images(), max_items=app.config["IMAGE_CACHE_SIZE"]),
            throttle=LoginThrottle(
                failures_allowed=app.config["LOGIN_FAILURES_ALLOWED"],
                max_delay=float(app.config["LOGIN_MAX_DELAY"]),
            ),
            rounds=RoundRunner(
                project_path,
                Path(app.instance_path) / ROUND_LOG_FOLDER,
                command=app.config["ROUND_COMMAND"],
            ),
            maps=MapRunner(
                project_path,
                Path(app.instance_path) / ROUND_LOG_FOLDER,
                command=app.config["MAP_COMMAND"],
            ),
            lease_seconds=float(app.config["LEASE_SECONDS"]),
            max_tasks_per_call=int(app.config["MAX_TASKS_PER_CALL"]),
        )
        errors.init_app(app)
        security.init_app(app)
        app.register_blueprint(pages.bp)
        app.register_blueprint(api.bp)
        app.register_blueprint(admin.bp)
        app.register_blueprint(grid.bp)
        app.register_blueprint(pool_map.bp)
        app.register_blueprint(labelstudio_routes.bp)
    except BaseException:
        project.close()
        raise
    return app


def close_app(app: Flask) -> None:
    """Close the project the app holds open."""
    state: ServerState = app.extensions[EXTENSION_KEY]
    state.close()
