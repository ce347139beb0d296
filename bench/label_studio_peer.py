"""Label Studio 1.23.2 as a peer under load: started as its pip install starts it
(``label-studio start``: Django's server on SQLite, through ``scripts/labelstudio.sh``), with
simulated annotators as users of its organisation, each with its own token, and one project of
queued image tasks per phase.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from server.labelstudio.format import make_label_config

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "scripts" / "labelstudio.sh"
VERSION = "1.23.2"

# Run by Label Studio's own Django shell: one user per annotator, in the first organisation,
# with the token Label Studio made for it (printed as JSON).
_MAKE_USERS = """
import json
from organizations.models import Organization
from users.models import User
organization = Organization.objects.first()
tokens = []
for name in {names!r}:
    email = name + "@example.com"
    user, _ = User.objects.get_or_create(email=email, defaults={{"username": email}})
    organization.add_user(user)
    tokens.append(user.auth_token.key)
print("TOKENS=" + json.dumps(tokens))
"""


@dataclass
class LabelStudioPeer:
    """A Label Studio server in ``data`` (a folder of its own), once ``start`` has run."""

    data: Path
    url: str = ""
    owner_token: str = ""
    projects: list[int] = field(default_factory=list)

    def start(self) -> None:
        done = subprocess.run(
            ["bash", str(SCRIPT), "start", str(self.data)],
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"Label Studio did not start: {done.stderr[-2000:]}")
        values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        self.url, self.owner_token = values["url"], values["token"]

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(self.data)], check=False, timeout=120)

    def get_pid(self) -> int:
        return int((self.data / "pid").read_text())

    def add_annotators(self, names: list[str]) -> list[str]:
        """Make (or find) one user per name; their API tokens, in order."""
        cache = Path(os.environ.get("LABELER_CACHE", Path.home() / ".cache/guided-labeler"))
        venv = cache / f"label-studio-{VERSION}"
        package = next((venv / "lib").glob("python3*/site-packages/label_studio"))
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "core.settings.label_studio",
            "LABEL_STUDIO_BASE_DATA_DIR": str((self.data / "base").resolve()),
        }
        done = subprocess.run(
            [str(venv / "bin" / "python"), "manage.py", "shell"],
            input=_MAKE_USERS.format(names=names), cwd=package, env=env,
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        lines = [line for line in done.stdout.splitlines() if line.startswith("TOKENS=")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"could not add Label Studio users: {done.stderr[-2000:]}")
        tokens: list[str] = json.loads(lines[-1].removeprefix("TOKENS="))
        return tokens

    def make_project(self, title: str, class_names: list[str], n_tasks: int) -> int:
        """A project of ``n_tasks`` image tasks (image files are never fetched by the loop)."""
        headers = {"Authorization": f"Token {self.owner_token}"}
        created = requests.post(
            f"{self.url}/api/projects/",
            headers=headers,
            json={"title": title, "label_config": make_label_config(class_names)},
            timeout=60,
        )
        created.raise_for_status()
        project_id = int(created.json()["id"])
        tasks = [{"image": f"/data/local-files/?d=pool/{index}.png"} for index in range(n_tasks)]
        imported = requests.post(
            f"{self.url}/api/projects/{project_id}/import", headers=headers, json=tasks, timeout=600
        )
        imported.raise_for_status()
        self.projects.append(project_id)
        return project_id

    def count_annotations(self, project_id: int) -> dict[str, Any]:
        """Annotations stored in a project, and on how many tasks."""
        response = requests.get(
            f"{self.url}/api/projects/{project_id}/",
            headers={"Authorization": f"Token {self.owner_token}"},
            timeout=60,
        )
        response.raise_for_status()
        project = response.json()
        return {
            "annotations": int(project["total_annotations_number"]),
            "tasks_annotated": int(project["num_tasks_with_annotations"]),
        }
