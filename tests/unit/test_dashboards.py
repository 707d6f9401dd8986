"""The dashboards Grafana provisions (roles/grafana/files/dashboards): well-formed JSON with the
platform's conventions, every panel on the provisioned Prometheus data source, every query valid
PromQL (checked by promtool), and every dashboard documented in the role README."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import REPO

ROLE = REPO / "roles" / "grafana"
DASHBOARDS = sorted((ROLE / "files" / "dashboards").glob("*.json"))
DATASOURCE_UID = "fdp-prometheus"
REQUIRED_KEYS = {"uid", "title", "tags", "schemaVersion", "panels", "templating", "time", "editable"}

# Grafana's built-in interval and range variables, replaced by a literal of the right type.
BUILTINS = {
    "__rate_interval": "5m", "__interval": "5m", "__range": "5m",
    "__interval_ms": "300000", "__range_ms": "300000", "__range_s": "300",
}
VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def all_panels(panels: list[dict]):
    """Every panel, including those nested in (collapsed) rows."""
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels") or [])


def promql(expr: str, variables: set[str]) -> str:
    """The expression Prometheus would get: builtins become durations or numbers, dashboard
    variables (allowed in regex matchers only) become a match-all regex."""
    def substitute(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name in BUILTINS:
            return BUILTINS[name]
        if name not in variables:
            raise AssertionError(f"${name} is not a variable of the dashboard: {expr}")
        before = expr[:match.start()]
        if not re.search(r'[=!]~\s*"[^"]*$', before):
            raise AssertionError(f"${name} used outside a regex matcher (=~ or !~): {expr}")
        return ".*"
    return VARIABLE.sub(substitute, expr)


def promtool() -> Path:
    path = Path(os.environ.get("FDP_PROMTOOL") or REPO / ".tools" / "bin" / "promtool")
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail("promtool missing: run scripts/tools (make tools)")
    return path


def check_rules(exprs: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """promtool check rules on one recording rule per expression (it parses each with the
    Prometheus parser and names the failing rule)."""
    rules = {"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard:expr:{i}", "expr": expr, "labels": {"source": where}}
        for i, (where, expr) in enumerate(sorted(exprs.items()))]}]}
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    return subprocess.run([str(promtool()), "check", "rules", str(path)],
                          capture_output=True, text=True, check=False, timeout=120)


def test_there_are_dashboards():
    assert {p.name for p in DASHBOARDS} >= {
        "fdp-overview.json", "fdp-hosts.json", "fdp-monitoring.json", "fdp-flink.json", "fdp-kafka.json",
        "fdp-trino.json", "fdp-minio.json", "fdp-hive-metastore.json"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_well_formed(path):
    dashboard = load(path)
    assert REQUIRED_KEYS <= set(dashboard), f"missing {sorted(REQUIRED_KEYS - set(dashboard))}"
    assert dashboard["uid"] == path.stem, "uid must be the file name (fdp-<name>)"
    assert len(dashboard["uid"]) <= 40, "Grafana limits uids to 40 characters"
    assert "fdp" in dashboard["tags"]
    assert dashboard["schemaVersion"] >= 39
    assert "id" not in dashboard or dashboard["id"] is None, "provisioned dashboards carry no database id"
    ids = [panel["id"] for panel in all_panels(dashboard["panels"])]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    for panel in all_panels(dashboard["panels"]):
        assert panel.get("title"), f"panel {panel['id']} has no title"
        assert {"x", "y", "w", "h"} <= set(panel.get("gridPos", {})), f"panel {panel['id']} has no gridPos"
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, f"panel {panel['id']} is wider than the grid"


def test_uids_and_titles_are_unique():
    dashboards = [load(p) for p in DASHBOARDS]
    for key in ("uid", "title"):
        values = [d[key] for d in dashboards]
        assert len(values) == len(set(values)), f"duplicate {key}s: {values}"


def uses_platform_datasource(datasource: object, variables: dict[str, dict]) -> bool:
    if not isinstance(datasource, dict) or datasource.get("type") != "prometheus":
        return False
    uid = datasource.get("uid", "")
    match = VARIABLE.fullmatch(uid)
    if match:  # a datasource variable whose default is the platform's Prometheus
        var = variables.get(match.group(1) or match.group(2), {})
        current = var.get("current", {}).get("value")
        return var.get("type") == "datasource" and current in (DATASOURCE_UID, [DATASOURCE_UID])
    return uid == DATASOURCE_UID


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_query_uses_the_platform_prometheus(path):
    dashboard = load(path)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    for panel in all_panels(dashboard["panels"]):
        if not panel.get("targets"):
            continue
        assert uses_platform_datasource(panel.get("datasource"), variables), f"panel {panel['title']!r}"
        for target in panel["targets"]:
            if "datasource" in target:
                assert uses_platform_datasource(target["datasource"], variables), f"panel {panel['title']!r}"
            assert target.get("expr"), f"panel {panel['title']!r} has a target without expr"
    for var in variables.values():
        if var.get("type") == "query":
            assert uses_platform_datasource(var.get("datasource"), variables), f"variable {var['name']}"


def dashboard_exprs(path: Path) -> dict[str, str]:
    dashboard = load(path)
    names = {v["name"] for v in dashboard["templating"]["list"]}
    exprs = {}
    for panel in all_panels(dashboard["panels"]):
        for target in panel.get("targets") or []:
            exprs[f"{path.stem} / {panel['title']} / {target['refId']}"] = promql(target["expr"], names)
    for var in dashboard["templating"]["list"]:
        query = var.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        inner = re.fullmatch(r"label_values\((.+),\s*\w+\)", query.strip())
        if inner:  # label_values(<selector>, <label>): the selector must be valid PromQL
            exprs[f"{path.stem} / variable {var['name']}"] = promql(inner.group(1), names)
    return exprs


def test_every_query_is_valid_promql(tmp_path):
    exprs: dict[str, str] = {}
    for path in DASHBOARDS:
        exprs.update(dashboard_exprs(path))
    assert len(exprs) > 50
    result = check_rules(exprs, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_promql_check_rejects_a_broken_expression(tmp_path):
    result = check_rules({"good": 'sum(up{job="node"})', "broken": 'sum(rate(up{job="node"}[5m])'}, tmp_path)
    assert result.returncode != 0
    assert "parse error" in (result.stdout + result.stderr)


def test_variables_outside_regex_matchers_are_refused():
    with pytest.raises(AssertionError, match="outside a regex matcher"):
        promql('up{host="$host"}', {"host"})
    assert promql('rate(up{host=~"$host"}[$__rate_interval])', {"host"}) == 'rate(up{host=~".*"}[5m])'


def test_every_dashboard_is_listed_in_the_readme():
    readme = (ROLE / "README.md").read_text(encoding="utf-8")
    for path in DASHBOARDS:
        dashboard = load(path)
        assert re.search(rf"^\|\s*`{re.escape(path.name)}`\s*\|\s*{re.escape(dashboard['title'])}\s*\|", readme, re.M), (
            f"add `{path.name}` | {dashboard['title']} | ... to the dashboard table of roles/grafana/README.md")
