"""`site.yml --check` on fresh hosts: it exits 0, reports what a real run would change, and
changes nothing on the hosts."""

from __future__ import annotations

import pytest
from fdp_testinfra import check_mode_runs

HOSTS = {"pf1", "pf2", "pf3", "pf4"}


def test_check_mode_on_fresh_hosts_succeeded_and_reported_the_changes():
    runs = check_mode_runs()
    assert len(runs) == 1, "the scenario runs one check, on fresh hosts"
    run = runs[0]
    assert run["failed"] == [] and run["unreachable"] == []
    assert run["changed"], "a check of fresh hosts must report what a real run would change"
    assert set(run["hosts"]) == HOSTS


@pytest.mark.parametrize("path", ["/etc/fdp", "/opt/fdp", "/etc/fdp/tls/host.key", "/etc/nftables.d/fdp.nft"])
def test_the_check_left_the_hosts_untouched(host, path):
    assert not host.file(path).exists, f"{path} was created by a check-mode run"


def test_the_check_loaded_no_ruleset_and_created_no_account(host):
    assert host.run("nft list table inet fdp_filter").rc != 0
    # (the lab image's packages bring some accounts, e.g. prometheus and zookeeper; Flink's is the roles')
    assert not host.user("flink").exists
