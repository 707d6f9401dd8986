"""The Molecule scenarios' own contracts: platform-fresh checks the platform's topology."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MOLECULE = REPO / "molecule"


def _load(name: str) -> dict:
    return yaml.safe_load((MOLECULE / name / "molecule.yml").read_text(encoding="utf-8"))


def _as_platform(value):
    """platform-fresh's names and addresses written as the platform scenario's."""
    text = yaml.safe_dump(value, sort_keys=True)
    text = re.sub(r"\bpf([1-4])\b", r"pl\1", text).replace("10.231.51.", "10.231.50.")
    return yaml.safe_load(text)


def test_platform_fresh_checks_the_platform_topology_and_inventory():
    """The check on fresh hosts proves something about the platform only while both scenarios
    declare the same hosts, groups, releases and variables (but names and subnet)."""
    platform, fresh = _load("platform"), _load("platform-fresh")
    assert _as_platform(fresh["platforms"]) == platform["platforms"]
    inventory, fresh_inventory = platform["provisioner"]["inventory"], _as_platform(fresh["provisioner"]["inventory"])
    fresh_all = dict(fresh_inventory["group_vars"]["all"])
    platform_all = dict(inventory["group_vars"]["all"])
    assert fresh_all.pop("platform_environment") == "molecule-platform-fresh"
    platform_all.pop("platform_environment")
    assert fresh_all == platform_all
    assert fresh_inventory.get("host_vars") == inventory.get("host_vars")
    assert fresh["provisioner"]["playbooks"]["converge"] == platform["provisioner"]["playbooks"]["converge"]


def test_each_scenario_has_its_own_subnet_bridge_and_host_names():
    """`make test` runs scenarios at once: machines, bridges and subnets must not collide."""
    seen: dict[str, str] = {}
    for path in sorted(MOLECULE.glob("*/molecule.yml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        env = config["provisioner"]["env"]
        keys = [f"bridge {env['LAB_BRIDGE']}", f"net {env['LAB_NET']}"]
        keys += [f"host {p['name']}" for p in config["platforms"]]
        for key in keys:
            assert key not in seen, f"{path.parent.name} and {seen[key]} share {key}"
            seen[key] = path.parent.name


def test_platform_fresh_runs_only_the_check():
    sequence = _load("platform-fresh")["scenario"]["test_sequence"]
    assert sequence == ["destroy", "syntax", "create", "check", "verify", "destroy"]
    assert "check" in _load("platform")["scenario"]["test_sequence"]
