"""scripts/bench: the lab topology per host count and the report it writes."""

from __future__ import annotations

import importlib.util
from importlib.machinery import SourceFileLoader
from pathlib import Path

_PATH = str(Path(__file__).resolve().parents[2] / "scripts" / "bench")
_SPEC = importlib.util.spec_from_loader("fdp_bench", SourceFileLoader("fdp_bench", _PATH))
BENCH = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(BENCH)


def test_topology_spreads_the_groups_over_the_hosts():
    one = BENCH.topology(1)
    assert one["flink_taskmanager"] == ["bn1"] and one["zookeeper"] == ["bn1"]
    six = BENCH.topology(6)
    assert six["flink_taskmanager"] == ["bn2", "bn3", "bn4", "bn5", "bn6"]
    assert six["zookeeper"] == ["bn1", "bn2", "bn3"] and six["alertmanager"] == ["bn1", "bn2"]


def test_summary_is_median_min_max():
    assert BENCH.summary([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "runs": [3.0, 1.0, 2.0]}


def test_report_shows_the_no_op_with_and_without_the_fast_path():
    row = {"hosts": 3, "cold": BENCH.summary([160.0]), "noop": BENCH.summary([40.0]),
           "noop_full_path": BENCH.summary([90.0]), "noop_share_of_cold": 0.25,
           "profile": [{"task": "Gathering Facts", "seconds": 1.5}],
           "heal": {"seconds": 70.0, "changed": 6, "healthy": True}}
    text = BENCH.markdown({"when": "now", "machine": "2 cores", "runs": 1, "platform": [row], "anchor": {}})
    assert "| 3 | 160.0 (160.0-160.0) | 40.0 (40.0-40.0) | 90.0 (90.0-90.0) | 25% | 70.0 (6 changed, healthy) |" in text
    assert "| Gathering Facts | 1.5 |" in text
