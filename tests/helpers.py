"""Helpers shared by the pytest suites: run ansible-playbook from the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_playbook(playbook: str, inventory: Path | str, *args: str, report: Path | None = None,
                 timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    if report is not None:
        env["FDP_RUN_REPORT"] = str(report)
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / playbook), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


def read_report(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def platform_default(name: str, key: str, **variables):
    """roles/platform/defaults/main/<name>.yml's `key`, its "{{ }}" strings rendered with `variables`
    (unset ones take their default(...)), the way Ansible hands them to the filters; a rendered
    "True"/"False" becomes a bool."""
    import jinja2
    import yaml

    env = jinja2.Environment(undefined=jinja2.Undefined)
    env.filters["bool"] = lambda value: value if isinstance(value, bool) else str(value).lower() in ("true", "yes", "1", "on")

    def render(value):
        if isinstance(value, dict):
            return {k: render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [render(v) for v in value]
        if isinstance(value, str) and "{{" in value:
            out = env.from_string(value).render(**variables)
            return {"True": True, "False": False}.get(out, out)
        return value

    data = yaml.safe_load((REPO / "roles" / "platform" / "defaults" / "main" / f"{name}.yml").read_text(encoding="utf-8"))
    return render(data[key])
