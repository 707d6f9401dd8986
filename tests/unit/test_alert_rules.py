"""Prometheus alert rules: promtool check + unit tests, label/annotation contract, catalogue and runbooks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO

RULES_DIR = REPO / "roles" / "prometheus" / "files" / "rules"
TESTS_DIR = REPO / "tests" / "promtool"
DOC = REPO / "docs" / "observability.md"
RULE_FILES = sorted(RULES_DIR.glob("*.rules.yml"))
TEST_FILES = sorted(TESTS_DIR.glob("*.test.yml"))
SEVERITIES = {"critical", "warning", "info"}


def promtool() -> Path:
    """The promtool binary: $FDP_PROMTOOL, else the one scripts/tools installs."""
    path = Path(os.environ.get("FDP_PROMTOOL") or REPO / ".tools" / "bin" / "promtool")
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail("promtool missing: run scripts/tools (make tools)")
    return path


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool()), *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


def alerts() -> list[tuple[Path, dict]]:
    """Every alerting rule with the file it comes from."""
    found = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            found += [(path, rule) for rule in group["rules"] if "alert" in rule]
    return found


def test_there_are_rules_and_tests():
    assert RULE_FILES and TEST_FILES


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(path: Path):
    result = run_promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_promtool_test_rules(path: Path):
    result = run_promtool("test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_group_names(path: Path):
    for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
        assert re.fullmatch(r"fdp-[a-z0-9-]+", group["name"]), group["name"]


@pytest.mark.parametrize(("path", "rule"), alerts(), ids=lambda v: v["alert"] if isinstance(v, dict) else v.name)
def test_alert_contract(path: Path, rule: dict):
    name = rule["alert"]
    assert re.fullmatch(r"Fdp[A-Z][A-Za-z0-9]+", name), name
    labels, annotations = rule.get("labels", {}), rule.get("annotations", {})
    assert labels.get("severity") in SEVERITIES, f"{name}: severity {labels.get('severity')!r}"
    assert labels.get("component"), f"{name}: no component label"
    for key in ("summary", "description", "runbook"):
        assert annotations.get(key), f"{name}: no {key} annotation"
    assert (
        annotations["runbook"] == f"docs/observability.md#{name.lower()}"
    ), f"{name}: runbook {annotations['runbook']}"
    assert "$labels" in annotations["description"] or "$value" in annotations["description"], name


def test_alert_names_unique():
    names = [rule["alert"] for _, rule in alerts()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_host_down_timing():
    """The lab test stops node_exporter and waits for FdpHostDown: it relies on exactly 1m."""
    rule = next(rule for _, rule in alerts() if rule["alert"] == "FdpHostDown")
    assert rule["expr"].strip() == 'up{job="node"} == 0'
    assert rule["for"] == "1m"


def promtool_tests() -> list[tuple[Path, dict]]:
    return [(path, yaml.safe_load(path.read_text(encoding="utf-8"))) for path in TEST_FILES]


def test_every_alert_is_tested_firing_and_quiet():
    firing: set[str] = set()
    quiet: set[str] = set()
    for _, data in promtool_tests():
        for case in data.get("tests", []):
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for _, rule in alerts()}
    assert names - firing == set(), "alerts without a firing test"
    assert names - quiet == set(), "alerts without a not-firing test"


def test_every_rules_file_is_tested():
    referenced = {
        (path.parent / rule_file).resolve()
        for path, data in promtool_tests()
        for rule_file in data.get("rule_files", [])
    }
    assert {path.resolve() for path in RULE_FILES} <= referenced
    assert all(path.is_file() for path in referenced), "a test names a rules file that does not exist"


def heading_anchors(markdown: str) -> set[str]:
    """GitHub-style anchors of the Markdown headings."""
    anchors = set()
    for line in markdown.splitlines():
        match = re.match(r"#{1,6}\s+(.*)", line)
        if match:
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def test_runbook_anchors_exist():
    anchors = heading_anchors(DOC.read_text(encoding="utf-8"))
    missing = {
        rule["annotations"]["runbook"]
        for _, rule in alerts()
        if rule["annotations"]["runbook"].split("#", 1)[1] not in anchors
    }
    assert not missing


def test_runbooks_sit_below_the_hand_maintained_part():
    text = DOC.read_text(encoding="utf-8")
    marker = text.index("<!-- Sections above this line are maintained by hand. -->")
    assert text.index("## Alert catalogue") > marker
    assert text.index("## Alert runbooks") > marker


def test_alert_catalogue_is_current():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "alert-catalogue"), "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_catalogue_check_detects_drift(tmp_path: Path):
    doc = tmp_path / "observability.md"
    text = DOC.read_text(encoding="utf-8")
    begin = text.index("<!-- BEGIN ALERTS")
    doc.write_text(
        text[:begin] + "<!-- BEGIN ALERTS (generated by scripts/alert-catalogue) -->\nstale\n<!-- END ALERTS -->\n",
        encoding="utf-8",
    )
    script = [sys.executable, str(REPO / "scripts" / "alert-catalogue"), "--doc", str(doc)]
    assert subprocess.run([*script, "--check"], capture_output=True, text=True, check=False).returncode == 1
    assert subprocess.run(script, capture_output=True, text=True, check=False).returncode == 0
    assert subprocess.run([*script, "--check"], capture_output=True, text=True, check=False).returncode == 0
    assert "[FdpHostDown](#fdphostdown) | critical | `host` | 1m |" in doc.read_text(encoding="utf-8")
