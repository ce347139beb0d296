"""``labeler ls`` on the command line: bad input and an unreachable Label Studio end with one
line naming the problem and exit code 2, and two runs never work on a project at once."""

from __future__ import annotations

import fcntl
from pathlib import Path

from labeler.store.project_files import get_label_studio_lock
from tests.server.labelstudio.conftest import get_free_port


def test_push_before_connect_says_to_connect(run_cli, project: Path) -> None:
    result = run_cli("ls", "push", project, "--token", "t" * 40)
    assert result.code == 2
    assert "is not connected to Label Studio; run `labeler ls connect" in result.err


def test_bad_flags_name_the_value_and_what_is_allowed(run_cli, project: Path) -> None:
    result = run_cli("ls", "connect", project, "--url", "ftp://x")
    assert (
        result.code == 2 and "--url must be an http:// or https:// URL, got 'ftp://x'" in result.err
    )
    result = run_cli("ls", "sync", project, "--batch-size", "0")
    assert result.code == 2 and "--batch-size must be at least 1, got 0" in result.err
    result = run_cli("ls", "pull", project, "--attempts", "0")
    assert result.code == 2 and "--attempts must be at least 1, got 0" in result.err
    assert run_cli("ls").code == 2  # no action: the help


def test_an_unreachable_label_studio_is_one_line_naming_the_url(
    run_cli, project: Path, monkeypatch
) -> None:
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "0" * 40)
    url = f"http://127.0.0.1:{get_free_port()}"
    result = run_cli("ls", "connect", project, "--url", url, "--attempts", "2")
    assert result.code == 2
    (line,) = result.err.strip().splitlines()
    assert line.startswith(f"labeler: error: Label Studio at {url} is unreachable")


def test_a_second_run_at_once_is_refused(run_cli, project: Path) -> None:
    lock_path = get_label_studio_lock(project)
    lock_path.parent.mkdir(exist_ok=True)
    with open(lock_path, "ab") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = run_cli("ls", "pull", project, "--token", "t" * 40)
    assert result.code == 2 and "another `labeler ls` run is working on" in result.err


def test_the_command_line_does_not_import_the_sdk_until_an_ls_action_runs() -> None:
    import subprocess
    import sys

    from tests.server.labelstudio.conftest import REPO_ROOT

    code = (
        "import sys; from labeler.cli import make_parser; make_parser(); "
        "print('label_studio_sdk' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert done.stdout.strip() == "False"
