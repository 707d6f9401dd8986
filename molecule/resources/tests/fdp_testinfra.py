"""Helpers shared by the Molecule verify tests of every scenario."""

from __future__ import annotations

import json
import os
from pathlib import Path


def run_reports() -> list[dict]:
    """Summaries of every ansible-playbook run of this scenario (fdp_run_report callback)."""
    path = Path(os.environ["FDP_RUN_REPORT"])
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def last_check_mode_run() -> dict:
    runs = [r for r in run_reports() if r["check_mode"]]
    assert runs, "no check-mode run recorded: the scenario's test_sequence must run `check` before `verify`"
    return runs[-1]


def read_json(host, path: str) -> dict:
    return json.loads(host.file(path).content_string)
