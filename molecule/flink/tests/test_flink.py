"""Flink on real lab hosts: secured REST, registrations with the computed slots, the smoke job
(submitted by side_effect.yml) with checkpoints completing, a TaskManager restart survived,
metrics reachable from the Prometheus host only.

The tests run in file order; the TaskManager restart comes after the job checks."""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import testinfra
import yaml
from fdp_testinfra import last_check_mode_run

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
INV_DIR = Path(INVENTORY).parent
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
sys.path.insert(0, str(PROJECT / "ansible" / "plugins" / "filter"))
from fdp_flink import sizing  # noqa: E402

NET = "10.231.50"
ADDR = {"fl1": f"{NET}.11", "fl2": f"{NET}.12", "fl3": f"{NET}.13", "fl4": f"{NET}.14"}
TASKMANAGERS = ("fl2", "fl3")
PORTS = yaml.safe_load((PROJECT / "roles/platform/defaults/main/ports.yml").read_text())["platform_ports"]
REST = f"https://{ADDR['fl1']}:{PORTS['flink_rest']['port']}"
TM_LIMIT_MB = 1280  # the scenario's flink_memory_limit_mb


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


HOSTS = {name: get(name) for name in ADDR}


def rest(path: str, method: str = "GET", timeout: float = 10):
    context = ssl.create_default_context(cafile=str(INV_DIR / "pki" / "ca.crt"))
    request = urllib.request.Request(REST + path, method=method)
    with urllib.request.urlopen(request, context=context, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def wait_for(predicate, timeout: float = 120, step: float = 3):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, KeyError, ValueError) as exc:
            last = exc
        time.sleep(step)
    raise AssertionError(f"timed out; last result: {last!r}")


def test_check_mode_after_converge_changed_nothing():
    run = last_check_mode_run()
    assert run["changed"] == [] and run["failed"] == []


@pytest.mark.parametrize(("name", "unit"), [("fl1", "flink-jobmanager"), ("fl2", "flink-taskmanager"),
                                            ("fl3", "flink-taskmanager")])
def test_services_run_as_flink_on_jdk17_with_the_rendered_config(name, unit):
    host = HOSTS[name]
    assert host.service(unit).is_running and host.service(unit).is_enabled
    pid = host.check_output(f"systemctl show -p MainPID --value {unit}")
    assert host.check_output(f"ps -o user= -p {pid}") == "flink"
    assert "/opt/fdp/jdk17/bin/java" in host.check_output(f"tr '\\0' ' ' < /proc/{pid}/cmdline")
    config = host.file("/etc/fdp/flink/config.yaml")
    assert (config.user, config.group, config.mode) == ("root", "flink", 0o640)
    settings = yaml.safe_load(config.content_string)
    assert settings["security.ssl.internal.enabled"] is True and settings["security.ssl.rest.enabled"] is True
    assert settings["rest.port"] == PORTS["flink_rest"]["port"]
    assert settings["blob.server.port"] == PORTS["flink_blob"]["port"]


def test_rest_is_https_verified_against_the_platform_ca():
    overview = rest("/overview")
    assert overview["flink-version"]
    # Without the platform CA the certificate does not verify.
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(REST + "/overview", context=ssl.create_default_context(), timeout=10)  # noqa: S310


def test_plain_http_is_refused():
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"http://{ADDR['fl1']}:{PORTS['flink_rest']['port']}/overview", timeout=10)  # noqa: S310


def expected_tm(name):
    facts = HOSTS[name].ansible("setup", "filter=ansible_*")["ansible_facts"]
    return sizing(facts["ansible_memtotal_mb"], facts["ansible_processor_vcpus"], taskmanager=True,
                  limit_mb=TM_LIMIT_MB)


def test_every_taskmanager_registered_with_the_computed_slots_and_memory():
    registered = rest("/taskmanagers")["taskmanagers"]
    by_host = {name: [tm for tm in registered if f"@{ADDR[name]}:" in tm["path"]] for name in TASKMANAGERS}
    assert all(len(tms) == 1 for tms in by_host.values()), by_host
    for name, (tm,) in by_host.items():
        want = expected_tm(name)
        assert tm["slotsNumber"] == want["taskmanager.numberOfTaskSlots"]
        assert tm["memoryConfiguration"]["totalProcessMemory"] == TM_LIMIT_MB * 1024 * 1024
    overview = rest("/overview")
    assert overview["taskmanagers"] == 2
    assert overview["slots-total"] == sum(expected_tm(n)["taskmanager.numberOfTaskSlots"] for n in TASKMANAGERS)


@pytest.fixture(scope="module")
def job():
    return json.loads((EPHEMERAL / "smoke" / "job.json").read_text())["jobid"]


def records_flowing(jobid):
    """Records the keyed count operator has received (through the TLS data exchange), summed
    over the TaskManagers' Prometheus reporters, scraped from the Prometheus host. (The REST
    API's per-vertex metrics come from the metric query service on a random port, which the
    firewall does not open.)"""
    total = 0.0
    for name in TASKMANAGERS:
        text = HOSTS["fl1"].check_output(f"curl -sS -m 10 http://{ADDR[name]}:{PORTS['flink_metrics']['port']}/metrics")
        for line in text.splitlines():
            if (line.startswith("flink_taskmanager_job_task_numRecordsIn{") and f'job_id="{jobid}"' in line
                    and "fdp_smoke_count" in line):
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_smoke_job_runs_with_records_flowing_and_checkpoints_completing(job):
    assert rest(f"/jobs/{job}")["state"] == "RUNNING"
    first_records = records_flowing(job)
    first_checkpoints = rest(f"/jobs/{job}/checkpoints")["counts"]["completed"]
    wait_for(lambda: records_flowing(job) > first_records > 0 and
             rest(f"/jobs/{job}/checkpoints")["counts"]["completed"] > first_checkpoints, timeout=60)


def test_job_survives_a_taskmanager_restart(job):
    host = HOSTS["fl2"]
    restarted_at = time.time() * 1000
    assert host.run("systemctl restart flink-taskmanager").rc == 0
    # fl2 registers again (new registration), the job recovers and checkpoints again.
    wait_for(lambda: len([tm for tm in rest("/taskmanagers")["taskmanagers"] if f"@{ADDR['fl2']}:" in tm["path"]]) == 1
             and rest("/overview")["taskmanagers"] == 2, timeout=180)
    wait_for(lambda: rest(f"/jobs/{job}")["state"] == "RUNNING"
             and (rest(f"/jobs/{job}/checkpoints")["latest"]["completed"] or {}).get("latest_ack_timestamp", 0)
             > restarted_at, timeout=180)
    first = records_flowing(job)
    wait_for(lambda: records_flowing(job) > first, timeout=60)


@pytest.mark.parametrize("target", ["fl2", "fl3", "fl1"])
def test_metrics_answer_to_the_prometheus_host_only(target):
    url = f"http://{ADDR[target]}:{PORTS['flink_metrics']['port']}/metrics"
    prometheus, outsider = HOSTS["fl1"], HOSTS["fl4"]
    metrics = prometheus.check_output(f"curl -sS -m 10 {url}")
    assert ("flink_taskmanager_" if target != "fl1" else "flink_jobmanager_") in metrics
    assert outsider.run(f"curl -sS -m 5 {url}").rc != 0
