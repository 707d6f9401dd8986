"""Baseline filters: merge with null removal, sysctl split, /proc limits parsing, limits.conf."""

from __future__ import annotations

import pytest

from fdp_baseline import (
    UNLIMITED,
    is_host_global_sysctl,
    limits_conf_lines,
    limits_exceeding,
    merge_settings,
    proc_limit,
    sysctl_split,
)

PROC_LIMITS = """Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             95952                95952                processes
Max open files            1024                 20000                files
Max locked memory         8388608              8388608              bytes
"""


def test_merge_overrides_win_and_null_removes():
    merged = merge_settings({"a": 1, "b": 2, "c": 3}, {"b": 20, "c": None, "d": 4})
    assert merged == {"a": 1, "b": 20, "d": 4}


def test_merge_is_sorted_and_tolerates_none():
    assert list(merge_settings({"z": 1, "a": 2}, None)) == ["a", "z"]
    assert merge_settings(None, {"x": 1}) == {"x": 1}


@pytest.mark.parametrize(
    ("key", "host_global"),
    [
        ("vm.swappiness", True),
        ("fs.file-max", True),
        ("kernel.pid_max", True),
        ("net.core.rmem_max", True),
        ("net.core.netdev_max_backlog", True),
        ("net.core.somaxconn", False),
        ("net.ipv4.tcp_keepalive_time", False),
    ],
)
def test_host_global_classification(key, host_global):
    assert is_host_global_sysctl(key) is host_global


def test_split_in_a_container_applies_only_namespaced_keys():
    settings = {"vm.swappiness": 1, "net.core.somaxconn": 4096, "net.core.rmem_max": 16777216,
                "net.ipv4.tcp_rmem": [4096, 131072, 16777216]}
    plan = sysctl_split(settings, apply_host_global=False)
    assert plan == {
        "apply": {"net.core.somaxconn": "4096", "net.ipv4.tcp_rmem": "4096 131072 16777216"},
        "render_only": {"net.core.rmem_max": "16777216", "vm.swappiness": "1"},
    }


def test_split_on_a_real_host_applies_everything():
    plan = sysctl_split({"vm.swappiness": 1, "net.core.somaxconn": 4096}, apply_host_global=True)
    assert plan == {"apply": {"net.core.somaxconn": "4096", "vm.swappiness": "1"}, "render_only": {}}


@pytest.mark.parametrize("key", ["swappiness", "vm..x", "vm.swappiness;rm", ""])
def test_split_rejects_malformed_keys(key):
    with pytest.raises(ValueError, match="not a sysctl key"):
        sysctl_split({key: 1}, apply_host_global=True)


def test_proc_limit_reads_hard_and_soft_and_unlimited():
    assert proc_limit(PROC_LIMITS) == 20000
    assert proc_limit(PROC_LIMITS, column="soft") == 1024
    assert proc_limit(PROC_LIMITS, "Max cpu time") == UNLIMITED
    assert proc_limit(PROC_LIMITS, "Max pending signals") is None


def test_limits_conf_lines_cover_root_explicitly():
    lines = limits_conf_lines({"nofile": 1048576})
    assert "*        soft  nofile     1048576" in lines
    assert "root     hard  nofile     1048576" in lines
    assert len(lines) == 4


def test_limits_exceeding_reports_what_the_host_cannot_grant():
    caps = {"nofile": 20000, "nproc": UNLIMITED, "memlock": 8388608}
    over = limits_exceeding({"nofile": 1048576, "nproc": 131072, "memlock": "unlimited"}, caps)
    assert over == {"memlock": f"unlimited > 8388608", "nofile": "1048576 > 20000"}
    assert limits_exceeding({"nofile": 20000}, caps) == {}
    assert limits_exceeding({"nofile": 1048576}, {}) == {}
