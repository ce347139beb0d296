"""Configuration order: defaults, the instance file, LABELER_* variables, then the caller."""

from __future__ import annotations

import pytest

from server.app import close_app, create_app


def test_config_comes_from_defaults_file_environment_and_caller(project, monkeypatch) -> None:
    instance = project / "server"
    instance.mkdir(exist_ok=True)
    (instance / "server.cfg").write_text("LEASE_SECONDS = 120.0\nMAX_TASKS_PER_CALL = 4\n")
    monkeypatch.setenv("LABELER_MAX_TASKS_PER_CALL", "6")
    app = create_app({"PROJECT": str(project), "IMAGE_CACHE_SIZE": 7})
    try:
        assert app.config["LEASE_SECONDS"] == 120.0  # file over default
        assert app.config["MAX_TASKS_PER_CALL"] == 6  # environment over file
        assert app.config["IMAGE_CACHE_SIZE"] == 7  # caller over everything
        assert app.config["LOGIN_FAILURES_ALLOWED"] == 5  # default
        key = app.config["SECRET_KEY"]
    finally:
        close_app(app)
    again = create_app({"PROJECT": str(project)})
    try:
        assert again.config["SECRET_KEY"] == key  # sessions outlive a restart
    finally:
        close_app(again)
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0


def test_bad_configuration_is_named(project, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("LABELER_PROJECT", raising=False)
    with pytest.raises(ValueError, match="no project given"):
        create_app({})
    with pytest.raises(ValueError, match="does not exist"):
        create_app({"PROJECT": str(tmp_path / "missing")})
    with pytest.raises(ValueError, match=r"LEASE_SECONDS must be a finite number > 0, got -1"):
        create_app({"PROJECT": str(project), "LEASE_SECONDS": -1})
    not_a_project = tmp_path / "empty"
    not_a_project.mkdir()
    with pytest.raises(ValueError, match="not a project folder"):
        create_app({"PROJECT": str(not_a_project)})
