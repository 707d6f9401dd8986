"""The preflight stage as users run it: bad inventories fail early, with one clear message each,
before any host is contacted, and change nothing. Every run forces ansible_connection=local:
the inventories use documentation addresses, which must never be contacted."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from helpers import REPO, read_report, run_playbook

GOOD_VARS = """
platform_environment: test
platform_admin_cidrs: [198.51.100.0/24]
"""


def make_inventory(tmp_path: Path, hosts_yml: str, group_vars: str = GOOD_VARS) -> Path:
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.yml").write_text(textwrap.dedent(hosts_yml), encoding="utf-8")
    (inv / "group_vars" / "all.yml").write_text(textwrap.dedent(group_vars), encoding="utf-8")
    return inv


def preflight(inv: Path, tmp_path: Path):
    report = tmp_path / "report.jsonl"
    result = run_playbook("ansible/playbooks/preflight.yml", inv, "-e", "ansible_connection=local",
                          "-e", "ansible_python_interpreter={{ ansible_playbook_python }}", report=report)
    return result, read_report(report)


def test_sample_inventory_passes(tmp_path):
    result, runs = preflight(REPO / "inventories" / "sample", tmp_path)
    assert result.returncode == 0, result.stdout
    assert "inventory and variables of 15 host(s) are valid" in result.stdout
    assert runs[-1]["changed"] == [] and runs[-1]["failed"] == []


CASES = {
    "unknown group": (
        """
        all:
          children:
            kafka_brokers:
              hosts:
                k1: {ansible_host: 198.51.100.5}
        """,
        GOOD_VARS,
        ["'kafka_brokers' is not a platform group (did you mean 'kafka_broker'?)"],
    ),
    "host without address": (
        """
        all:
          children:
            minio:
              hosts:
                store1: {}
        """,
        GOOD_VARS,
        ["host 'store1' has no address: set ansible_host"],
    ),
    "duplicate address": (
        """
        all:
          children:
            minio:
              hosts:
                store1: {ansible_host: 198.51.100.5}
                store2: {ansible_host: 198.51.100.5}
        """,
        GOOD_VARS,
        ["hosts 'store1' and 'store2' have the same address 198.51.100.5"],
    ),
    "missing required variables": (
        """
        all:
          children:
            minio:
              hosts:
                store1: {ansible_host: 198.51.100.5}
        """,
        "common_swap: 'off'\n",
        ["host store1: required variable 'platform_environment' is not set (declared in roles/platform)",
         "host store1: required variable 'platform_admin_cidrs' is not set"],
    ),
    "wrong types and formats": (
        """
        all:
          children:
            minio:
              hosts:
                store1: {ansible_host: 198.51.100.5, common_limits: lots}
                store2: {ansible_host: 198.51.100.6}
        """,
        GOOD_VARS + "common_thp: sometimes\nplatform_base_dir: opt/fdp\nplatform_admin_cidrs: [10.0.0.0/33]\n",
        ["host store1: variable 'common_limits' must be of type dict, got str 'lots' (declared in roles/common)",
         "hosts store1, store2: variable 'common_thp' must be one of madvise, never, always, got 'sometimes'",
         "hosts store1, store2: variable 'platform_base_dir' must be an absolute path, got 'opt/fdp'",
         "hosts store1, store2: variable 'platform_admin_cidrs' has entries that are not CIDR networks: 10.0.0.0/33"],
    ),
    "dangerous networks, directories and mirror": (
        """
        all:
          children:
            minio:
              hosts:
                store1: {ansible_host: 198.51.100.5}
        """,
        GOOD_VARS + "platform_client_cidrs: [0.0.0.0/0]\nplatform_data_dir: /etc\n"
        + "platform_log_dir: /var/log/fdp/../../../etc\nplatform_artifact_mirror: http://mirror.example/fdp\n",
        ["host store1: variable 'platform_client_cidrs' opens to (nearly) every address: 0.0.0.0/0",
         "host store1: variable 'platform_data_dir' must not be the root or a system directory ('/etc')",
         "host store1: variable 'platform_log_dir' must be a plain absolute path without '.', '..' or '//'",
         "variable 'platform_artifact_mirror' fetches over plain HTTP (http://mirror.example/fdp)"],
    ),
    "bad environment name": (
        """
        all:
          children:
            minio:
              hosts:
                store1: {ansible_host: 198.51.100.5}
        """,
        "platform_environment: My Env\nplatform_admin_cidrs: [198.51.100.0/24]\n",
        ["host store1: variable 'platform_environment' must be a short lower-case name"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_inventory_fails_early_with_clear_messages(case, tmp_path):
    hosts_yml, group_vars, messages = CASES[case]
    result, runs = preflight(make_inventory(tmp_path, hosts_yml, group_vars), tmp_path)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())  # undo line folding
    assert "nothing was changed" in out
    for message in messages:
        assert message in out, f"{message!r} not in:\n{result.stdout}"
    # One run_once computation failed; no host was contacted and nothing changed.
    assert runs[-1]["changed"] == [] and runs[-1]["unreachable"] == [] and len(runs[-1]["failed"]) == 1


def test_limit_does_not_skip_preflight(tmp_path):
    hosts_yml, group_vars, messages = CASES["duplicate address"]
    inv = make_inventory(tmp_path, hosts_yml, group_vars)
    report = tmp_path / "report.jsonl"
    result = run_playbook("ansible/playbooks/preflight.yml", inv, "--limit", "store2", "-e", "ansible_connection=local",
                          "-e", "ansible_python_interpreter={{ ansible_playbook_python }}", report=report)
    assert result.returncode != 0
    assert messages[0] in " ".join(result.stdout.split())


FLINK = """
all:
  children:
    flink_jobmanager:
      hosts:
        fl1: {ansible_host: 198.51.100.21}
    flink_taskmanager:
      hosts:
        fl2: {ansible_host: 198.51.100.22}
"""
# Rules of the components themselves (their tasks/preflight.yml, run on the controller by the
# preflight stage): each bad inventory fails before any host is contacted.
COMPONENT_CASES = {
    "two jobmanagers": (
        FLINK.replace("fl1: {ansible_host: 198.51.100.21}",
                      "fl1: {ansible_host: 198.51.100.21}\n        fl3: {ansible_host: 198.51.100.23}"),
        GOOD_VARS,
        ["flink_jobmanager has 2 hosts (fl1, fl3) without high availability", "put exactly one host in flink_jobmanager"],
    ),
    "two jobmanagers with a local ha directory": (
        FLINK.replace("fl1: {ansible_host: 198.51.100.21}",
                      "fl1: {ansible_host: 198.51.100.21}\n        fl3: {ansible_host: 198.51.100.23}")
        + "    zookeeper:\n      hosts:\n        fl1: {}\n",
        GOOD_VARS,
        ["flink_ha_storage_dir is local to each of them"],
    ),
    "even zookeeper ensemble": (
        FLINK + "    zookeeper:\n      hosts:\n        fl1: {}\n        fl2: {}\n",
        GOOD_VARS,
        ["the zookeeper group has 2 hosts: an ensemble needs an odd number"],
    ),
    "taskmanager without jobmanager": (
        """
        all:
          children:
            flink_taskmanager:
              hosts:
                fl2: {ansible_host: 198.51.100.22}
        """,
        GOOD_VARS,
        ["flink_taskmanager has hosts but flink_jobmanager is empty"],
    ),
    "grafana without prometheus": (
        """
        all:
          children:
            grafana:
              hosts:
                ops1: {ansible_host: 198.51.100.10}
        """,
        GOOD_VARS,
        ["the inventory group prometheus is empty"],
    ),
    "two services on one port": (
        """
        all:
          children:
            trino_coordinator:
              hosts:
                t1: {ansible_host: 198.51.100.31}
            trino_worker:
              hosts:
                t1: {}
        """,
        GOOD_VARS,
        ["host 't1': trino_coordinator_https and trino_worker_https would all listen on tcp/8443"],
    ),
    "override of a reserved key": (
        FLINK,
        GOOD_VARS + "flink_config_overrides:\n  rest.port: 9999\n  security.ssl.rest.enabled: false\n",
        ["flink_config_overrides sets 'rest.port', which the platform owns",
         "flink_config_overrides sets 'security.ssl.rest.enabled', which the platform owns: TLS from the platform PKI"],
    ),
    "seaweedfs with two masters": (
        """
        all:
          children:
            seaweedfs_master:
              hosts:
                s1: {ansible_host: 198.51.100.41}
                s2: {ansible_host: 198.51.100.42}
            seaweedfs:
              hosts:
                s1: {}
                s2: {}
        """,
        GOOD_VARS,
        ["seaweedfs_master has 2 hosts: the masters elect a leader by Raft, which needs an odd number"],
    ),
    "s3 contract with a misspelt consumer and a bad bucket name": (
        FLINK,
        GOOD_VARS + "platform_s3_buckets:\n  warehouse: {consumers: [trnio]}\n  Bad_Bucket: {consumers: [flink]}\n",
        ["platform_s3_buckets.warehouse: consumer 'trnio' is not a platform component",
         "platform_s3_buckets: 'Bad_Bucket' is not a valid S3 bucket name"],
    ),
    "unknown override key": (
        FLINK,
        GOOD_VARS + "flink_config_overrides:\n  taskmanager.numberOfTaskSlot: 2\n",
        ["'taskmanager.numberOfTaskSlot' is not a flink 2.1.3 config key (did you mean 'taskmanager.numberOfTaskSlots'?)"],
    ),
}


@pytest.mark.parametrize("case", sorted(COMPONENT_CASES))
def test_component_rules_fail_before_any_host_is_contacted(case, tmp_path):
    hosts_yml, group_vars, messages = COMPONENT_CASES[case]
    result, runs = preflight(make_inventory(tmp_path, hosts_yml, group_vars), tmp_path)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    for message in messages:
        assert message in out, f"{message!r} not in:\n{result.stdout}"
    # The controller-side play failed: the play that gathers facts from the hosts never started.
    assert "Preflight - host operating systems" not in result.stdout
    assert runs[-1]["changed"] == [] and runs[-1]["unreachable"] == [] and runs[-1]["failed"]


def test_an_unchecked_key_passes_the_catalog_with_the_escape_hatch(tmp_path):
    group_vars = (GOOD_VARS + "flink_config_overrides:\n  metrics.reporter.mine.endpoint: x\n"
                  + "platform_config_unchecked_keys:\n  flink: [metrics.reporter.mine.endpoint]\n")
    result, runs = preflight(make_inventory(tmp_path, FLINK, group_vars), tmp_path)
    assert result.returncode == 0, result.stdout


def _this_release() -> str:
    for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
        if line.startswith("VERSION_ID="):
            return line.split("=", 1)[1].strip('"').split(".")[0]
    raise AssertionError("no VERSION_ID in /etc/os-release")


HOST_ONLY = """
all:
  children:
    prometheus:
      hosts:
        mon1: {ansible_host: 198.51.100.5}
"""


def test_an_unsupported_release_is_refused_from_the_hosts_real_facts(tmp_path):
    """The OS play gathers this machine's real facts (a Debian release) against a supported list
    that lacks it - what a Debian 11 host meets against the default list."""
    release = _this_release()
    others = [v for v in ("11", "12", "13", "14") if v != release]
    group_vars = GOOD_VARS + f"platform_supported_os: {{Debian: {others}}}\n"
    result, runs = preflight(make_inventory(tmp_path, HOST_ONLY, group_vars), tmp_path)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert f"host 'mon1' runs Debian {release}, which is not supported; supported: Debian {', '.join(others)}" in out
    assert runs[-1]["changed"] == [] and [f["host"] for f in runs[-1]["failed"]] == ["mon1"]


def test_an_unsupported_release_passes_with_the_explicit_override(tmp_path):
    release = _this_release()
    group_vars = GOOD_VARS + "platform_supported_os: {Debian: ['99']}\nplatform_allow_unsupported_os: true\n"
    result, runs = preflight(make_inventory(tmp_path, HOST_ONLY, group_vars), tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    out = " ".join(result.stdout.split())
    assert f"UNSUPPORTED, accepted by platform_allow_unsupported_os: host 'mon1' runs Debian {release}" in out
    assert runs[-1]["changed"] == []
