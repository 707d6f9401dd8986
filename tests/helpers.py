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
