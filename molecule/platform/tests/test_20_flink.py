"""Flink on real lab hosts: secured REST (client certificates required after side_effect.yml's
rolling change), the rolling restart's order, registrations with the computed slots, the smoke
job (submitted by ansible/playbooks/flink-smoke.yml) with checkpoints completing, a TaskManager
restart survived, per-process metrics ports reachable from the Prometheus host only.

The tests run in file order; the TaskManager restart comes after the job checks."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from shlex import quote

import pytest
import testinfra
import yaml
from fdp_testinfra import playbook, recap_changed, wait_for

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
INV_DIR = Path(INVENTORY).parent
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
sys.path.insert(0, str(PROJECT / "ansible" / "plugins" / "filter"))
from fdp_flink import sizing  # noqa: E402

NET = "10.231.50"
ADDR = {"pl1": f"{NET}.11", "pl2": f"{NET}.12", "pl3": f"{NET}.13", "pl4": f"{NET}.14"}
TASKMANAGERS = ("pl2", "pl3")
PORTS = yaml.safe_load((PROJECT / "roles/platform/defaults/main/ports.yml").read_text())["platform_ports"]
REST = f"https://{ADDR['pl1']}:{PORTS['flink_rest']['port']}"
TM_LIMIT_MB = 1280  # the scenario's flink_memory_limit_mb
# Flink's metrics: the JMX exporter agent where the lab mirror holds it (flink_jmx_exporter, set
# from the mirror by inventories/lab/mirror.yml), else Flink's plaintext Prometheus reporter.
AGENT = Path("/var/cache/fdp-lab/mirror/jmx_exporter").is_dir()
NO_AGENT = "the JMX exporter agent (platform_artifacts.jmx_exporter) is not in the lab mirror"


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


HOSTS = {name: get(name) for name in ADDR}


# Copies of host keys for the REST client: removed when the test process ends.
_KEYS_DIR = tempfile.TemporaryDirectory(prefix="fdp-flink-client-")


def client_cert_files(name: str = "pl1") -> tuple[str, str]:
    """A host's certificate and key (CA-signed, clientAuth), copied for the REST client."""
    directory = Path(tempfile.mkdtemp(dir=_KEYS_DIR.name, prefix=f"{name}-"))
    for file in ("host.crt", "host.key"):
        (directory / file).write_text(HOSTS[name].file(f"/etc/fdp/tls/{file}").content_string)
        (directory / file).chmod(0o600)
    return str(directory / "host.crt"), str(directory / "host.key")


_CONTEXT: list[ssl.SSLContext] = []


def client_context(cert: bool = True, name: str = "pl1") -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(INV_DIR / "pki" / "ca.crt"))
    if cert:
        context.load_cert_chain(*client_cert_files(name))
    return context


def rest(path: str, method: str = "GET", timeout: float = 10):
    if not _CONTEXT:
        _CONTEXT.append(client_context())
    request = urllib.request.Request(REST + path, method=method)
    with urllib.request.urlopen(request, context=_CONTEXT[0], timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


@pytest.mark.parametrize(("name", "unit"), [("pl1", "flink-jobmanager"), ("pl2", "flink-taskmanager"),
                                            ("pl3", "flink-taskmanager")])
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


def test_rest_accepts_only_the_pinned_client_certificates():
    """side_effect.yml rolled flink_rest_client_auth: true through the cluster, then rotated every
    certificate: the REST API takes the Flink hosts' current certificates (pinned by their SHA-1
    fingerprints, the rotated ones) and refuses no certificate and a platform-CA certificate of
    another host (pl4's: signed by the same CA, not meant for Flink)."""
    expected = sorted(hashlib.sha1(ssl.PEM_cert_to_DER_cert(  # noqa: S324 - the fingerprint Flink pins
        HOSTS[name].file("/etc/fdp/tls/host.crt").content_string)).hexdigest() for name in ("pl1", "pl2", "pl3"))
    for name in ("pl1", "pl2", "pl3"):
        settings = yaml.safe_load(HOSTS[name].file("/etc/fdp/flink/config.yaml").content_string)
        assert settings["security.ssl.rest.authentication-enabled"] is True
        assert settings["security.ssl.rest.cert.fingerprint"].split(",") == expected, name
    for context in (client_context(cert=False), client_context(name="pl4")):
        with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            urllib.request.urlopen(REST + "/overview", context=context, timeout=10)  # noqa: S310
    assert rest("/overview")["taskmanagers"] == 2
    with urllib.request.urlopen(REST + "/overview", context=client_context(name="pl3"), timeout=10) as response:  # noqa: S310
        assert json.loads(response.read())["taskmanagers"] == 2


def journal(name: str, unit: str, since: int) -> list[tuple[int, str]]:
    """(microseconds since the epoch, message) of a unit's journal since a time."""
    out = HOSTS[name].check_output(f"journalctl -u {unit} --since @{since} -o json --output-fields=MESSAGE")
    entries = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [(int(e["__REALTIME_TIMESTAMP"]), str(e.get("MESSAGE", ""))) for e in entries]


def first_entry(entries, text, after=0):
    return min(t for t, message in entries if text in message and t > after)


def assert_rolled_once_in_order(since: int) -> None:
    """Since `since`: the JobManager restarted exactly once and was serving again before any
    TaskManager stopped; each TaskManager restarted exactly once, the second only after the
    first had registered again (read from the journals)."""
    jm = journal("pl1", "flink-jobmanager", since)
    jm_stop = first_entry(jm, "Stopping flink-jobmanager")
    jm_ready = first_entry(jm, "Rest endpoint listening at", jm_stop)
    tms = {name: journal(name, "flink-taskmanager", since) for name in TASKMANAGERS}
    stops = {name: first_entry(entries, "Stopping flink-taskmanager") for name, entries in tms.items()}
    order = sorted(TASKMANAGERS, key=stops.get)
    previous_done = jm_ready
    for name in order:
        entries = tms[name]
        assert stops[name] > previous_done, f"{name} stopped before the previous step was done"
        started = first_entry(entries, "Started flink-taskmanager", stops[name])
        previous_done = first_entry(entries, "Successful registration at resource manager", started)
    assert len([m for _, m in jm if "Stopping flink-jobmanager" in m]) == 1
    for entries in tms.values():
        assert len([m for _, m in entries if "Stopping flink-taskmanager" in m]) == 1


def test_the_configuration_change_rolled_jobmanager_first_then_one_taskmanager_at_a_time():
    since = json.loads((EPHEMERAL / "roll.json").read_text())["roll_started"]
    rotation = json.loads((EPHEMERAL / "rotate.json").read_text())["rotation_started"]
    # only the entries of the configuration change (the rotation restarts them again later)
    jm = [e for e in journal("pl1", "flink-jobmanager", since) if e[0] < rotation * 1_000_000]
    assert len([m for _, m in jm if "Stopping flink-jobmanager" in m]) == 1
    for name in TASKMANAGERS:
        entries = [e for e in journal(name, "flink-taskmanager", since) if e[0] < rotation * 1_000_000]
        assert len([m for _, m in entries if "Stopping flink-taskmanager" in m]) == 1
        assert first_entry(entries, "Stopping flink-taskmanager") > first_entry(jm, "Rest endpoint listening at")


ZK_MEMBERS = ("pl1", "pl2", "pl3")
ZK_PORT = PORTS["zookeeper_client"]["port"]


def zk_srvr(via: str, target: str, cert: bool = True) -> str:
    tls = "-CAfile /etc/fdp/tls/ca.crt" + (" -cert /etc/fdp/tls/host.crt -key /etc/fdp/tls/host.key" if cert else "")
    return HOSTS[via].run(f"printf srvr | timeout 10 openssl s_client -quiet -verify_return_error "
                          f"-connect {ADDR[target]}:{ZK_PORT} {tls} 2>/dev/null").stdout


def test_zookeeper_ensemble_has_one_leader_and_speaks_mutual_tls_only():
    modes = {}
    for name in ZK_MEMBERS:
        found = re.search(r"^Mode: (\w+)$", zk_srvr(name, name), re.M)
        assert found, name
        modes[name] = found.group(1)
    assert sorted(modes.values()) == ["follower", "follower", "leader"], modes
    # no client certificate of the platform CA: no answer; no plaintext client port at all
    assert "Mode:" not in zk_srvr("pl2", "pl1", cert=False)
    assert HOSTS["pl2"].run(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{ADDR['pl1']}/2181'").rc != 0
    # the outsider does not reach the client port (firewall)
    assert HOSTS["pl4"].run(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{ADDR['pl1']}/{ZK_PORT}'").rc != 0


def test_flink_uses_the_ensemble_with_its_client_secrets_off_the_command_line():
    settings = yaml.safe_load(HOSTS["pl1"].file("/etc/fdp/flink/config.yaml").content_string)
    assert settings["high-availability.type"] == "zookeeper"
    assert settings["high-availability.zookeeper.quorum"] == ",".join(f"{ADDR[n]}:{ZK_PORT}" for n in ZK_MEMBERS)
    args = HOSTS["pl2"].file("/etc/fdp/flink/zookeeper-client.args")
    assert (args.user, args.group, args.mode) == ("root", "flink", 0o640)
    assert "zookeeper.client.secure=true" in args.content_string
    password = (INV_DIR / "credentials" / "truststore_password").read_text().strip()
    for name, unit in (("pl1", "flink-jobmanager"), ("pl2", "flink-taskmanager")):
        pid = HOSTS[name].check_output(f"systemctl show -p MainPID --value {unit}")
        cmdline = HOSTS[name].check_output(f"tr '\\0' ' ' < /proc/{pid}/cmdline")
        assert "@/etc/fdp/flink/zookeeper-client.args" in cmdline and password not in cmdline


# Each line: the case, then what openssl s_client printed (one byte sent after the handshake and
# the answer read, so a client certificate refused after the handshake shows too).
HANDSHAKES = r"""
cd /etc/fdp/tls
while read -r target material ca; do
  out=$( (sleep 1; printf x) | timeout 20 openssl s_client -connect "$target" -cert "$material.crt" \
        -key "$material.key" -CAfile "$ca" -verify_return_error -brief 2>&1 ); rc=$?
  echo "$target $material $ca rc=$rc $(echo "$out" | grep -E 'Verification|alert|verify error' | tr '\n' ' ')"
done
"""


def test_internal_tls_admits_only_the_flink_mesh():
    """Flink's internal endpoints (JobManager RPC, blob server, TaskManager RPC and data exchange)
    present a certificate of the flink mesh's own CA and take only a client certificate of that
    CA: the host certificate of the platform CA - which every service on every host has - is
    refused, and the platform CA does not verify them."""
    targets = [f"{ADDR['pl1']}:{PORTS['flink_rpc']['port']}", f"{ADDR['pl1']}:{PORTS['flink_blob']['port']}",
               f"{ADDR['pl3']}:{PORTS['flink_taskmanager_rpc']['port']}",
               f"{ADDR['pl3']}:{PORTS['flink_taskmanager_data']['port']}"]
    cases = [f"{t} mesh-flink mesh-flink-ca.crt\n{t} host mesh-flink-ca.crt" for t in targets]
    cases.append(f"{targets[0]} mesh-flink cas/ca.crt")
    lines = HOSTS["pl2"].check_output(f"bash -c {quote(HANDSHAKES)} <<'CASES'\n" + "\n".join(cases) + "\nCASES")
    rows = {tuple(line.split()[:3]): line for line in lines.splitlines()}
    assert len(rows) == 2 * len(targets) + 1, lines
    for target in targets:
        mesh = rows[(target, "mesh-flink", "mesh-flink-ca.crt")]
        assert " rc=0 " in mesh and "Verification: OK" in mesh and "alert" not in mesh, mesh
        platform = rows[(target, "host", "mesh-flink-ca.crt")]
        assert " rc=0 " not in platform and re.search(r"alert (bad certificate|certificate unknown)", platform), platform
    server = rows[(targets[0], "mesh-flink", "cas/ca.crt")]
    assert " rc=0 " not in server and "verify error" in server, server


def test_plain_http_is_refused():
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"http://{ADDR['pl1']}:{PORTS['flink_rest']['port']}/overview", timeout=10)  # noqa: S310


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


def metrics_command(target: str, port: str, user: str | None = "prometheus") -> str:
    """curl of a Flink process's metrics as Prometheus (pl1) scrapes it: HTTPS against the platform
    CA with the scrape user from the agent, plain HTTP from the fallback reporter."""
    if not AGENT:
        return f"curl -sS -m 10 http://{ADDR[target]}:{PORTS[port]['port']}/metrics"
    password = (INV_DIR / "credentials" / "metrics_password").read_text().strip()
    auth = f"-u {user}:{quote(password)}" if user else ""
    return f"curl -sS -m 10 --cacert /etc/fdp/tls/ca.crt {auth} https://{ADDR[target]}:{PORTS[port]['port']}/metrics"


def records_flowing(jobid):
    """Records the keyed count operator has received (through the TLS data exchange), summed
    over the TaskManagers' metrics endpoints, scraped from the Prometheus host. (The reporter
    turns the "-" of the task's name into "_"; the JMX reporter keeps it.)"""
    total = 0.0
    for name in TASKMANAGERS:
        text = HOSTS["pl1"].check_output(metrics_command(name, "flink_taskmanager_metrics"))
        for line in text.splitlines():
            if (line.startswith("flink_taskmanager_job_task_numRecordsIn{") and f'job_id="{jobid}"' in line
                    and ("fdp_smoke_count" in line or "fdp-smoke-count" in line)):
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_smoke_job_runs_with_records_flowing_and_checkpoints_completing(job):
    assert rest(f"/jobs/{job}")["state"] == "RUNNING"
    first_records = records_flowing(job)
    first_checkpoints = rest(f"/jobs/{job}/checkpoints")["counts"]["completed"]
    wait_for(lambda: records_flowing(job) > first_records > 0 and
             rest(f"/jobs/{job}/checkpoints")["counts"]["completed"] > first_checkpoints, timeout=60)


def test_rotation_rolled_the_new_material_and_the_job_kept_running(job):
    """side_effect.yml ran rotate-certs.yml while the smoke job ran: a new key and certificate on
    every host (key rotation is the default), the JobManager restarted first (high availability
    recovered the job), then one TaskManager at a time; the same job is RUNNING and checkpoints
    after the rotation."""
    since = json.loads((EPHEMERAL / "rotate.json").read_text())["rotation_started"]
    keys_before = json.loads((EPHEMERAL / "public-keys.json").read_text())
    for name in ("pl1", "pl2", "pl3", "pl4"):
        issued = HOSTS[name].check_output("date -d \"$(openssl x509 -noout -startdate -in /etc/fdp/tls/host.crt"
                                          " | cut -d= -f2)\" +%s")
        assert int(issued) >= since - 120, f"{name}: certificate not reissued"  # notBefore is backdated a little
        key_now = HOSTS[name].check_output("openssl pkey -in /etc/fdp/tls/host.key -pubout")
        assert key_now.strip() != keys_before[name].strip(), f"{name}: the rotation kept the private key"
        assert HOSTS[name].check_output("openssl x509 -in /etc/fdp/tls/host.crt -noout -pubkey").strip() == \
            key_now.strip(), f"{name}: the certificate is not for the new key"
    # The flink mesh followed: a new key and a certificate for it from the same mesh CA, so the
    # processes restarted first and those not yet restarted kept trusting each other.
    mesh_before = json.loads((EPHEMERAL / "mesh-public-keys.json").read_text())
    for name in ("pl1", "pl2", "pl3"):
        key_now = HOSTS[name].check_output("openssl pkey -in /etc/fdp/tls/mesh-flink.key -pubout")
        assert mesh_before[name] and key_now.strip() != mesh_before[name].strip(), f"{name}: the mesh key was kept"
        assert HOSTS[name].check_output("openssl x509 -in /etc/fdp/tls/mesh-flink.crt -noout -pubkey").strip() == \
            key_now.strip(), f"{name}: the mesh certificate is not for the new key"
        assert HOSTS[name].run("openssl verify -CAfile /etc/fdp/tls/mesh-flink-ca.crt /etc/fdp/tls/mesh-flink.crt").rc == 0
    assert mesh_before["pl4"] == "", "pl4 runs no Flink: no mesh key"
    assert_rolled_once_in_order(since)
    wait_for(lambda: rest(f"/jobs/{job}")["state"] == "RUNNING", timeout=120)
    recovered_after = first_entry(journal("pl1", "flink-jobmanager", since), "Rest endpoint listening at") // 1000
    wait_for(lambda: (rest(f"/jobs/{job}/checkpoints")["latest"]["completed"] or {}).get("latest_ack_timestamp", 0)
             > recovered_after, timeout=120)


def test_job_survives_a_taskmanager_restart(job):
    host = HOSTS["pl2"]
    restarted_at = time.time() * 1000
    assert host.run("systemctl restart flink-taskmanager").rc == 0
    # pl2 registers again (new registration), the job recovers and checkpoints again.
    wait_for(lambda: len([tm for tm in rest("/taskmanagers")["taskmanagers"] if f"@{ADDR['pl2']}:" in tm["path"]]) == 1
             and rest("/overview")["taskmanagers"] == 2, timeout=180)
    wait_for(lambda: rest(f"/jobs/{job}")["state"] == "RUNNING"
             and (rest(f"/jobs/{job}/checkpoints")["latest"]["completed"] or {}).get("latest_ack_timestamp", 0)
             > restarted_at, timeout=180)
    first = records_flowing(job)
    wait_for(lambda: records_flowing(job) > first, timeout=60)


def test_rest_vertex_metrics_come_through_the_pinned_query_service_ports(job):
    # The JobManager reads them from each TaskManager's metric query service (6126, internal TLS).
    def read_records():
        vertices = rest(f"/jobs/{job}")["vertices"]
        return sum(v["metrics"]["read-records"] for v in vertices if "fdp-smoke-count" in v["name"])
    first_value = wait_for(read_records, timeout=60)
    wait_for(lambda: read_records() > first_value, timeout=60)


@pytest.mark.parametrize(("target", "port", "kind"), [
    ("pl1", "flink_jobmanager_metrics", "flink_jobmanager_"),
    ("pl2", "flink_taskmanager_metrics", "flink_taskmanager_"),
    ("pl3", "flink_taskmanager_metrics", "flink_taskmanager_"),
])
def test_metrics_answer_per_process_to_the_prometheus_host_only(target, port, kind):
    prometheus, outsider = HOSTS["pl1"], HOSTS["pl4"]
    metrics = prometheus.check_output(metrics_command(target, port))
    assert kind in metrics
    assert outsider.run(metrics_command(target, port).replace("-m 10", "-m 5")).rc != 0


@pytest.mark.skipif(not AGENT, reason=NO_AGENT)
@pytest.mark.parametrize(("target", "port"), [("pl1", "flink_jobmanager_metrics"),
                                             ("pl2", "flink_taskmanager_metrics")])
def test_the_metrics_agent_answers_the_scrape_user_over_https_only(target, port):
    prometheus, status = HOSTS["pl1"], "-o /dev/null -w '%{http_code}'"
    assert prometheus.check_output(f"{metrics_command(target, port)} {status}") == "200"
    assert prometheus.check_output(f"{metrics_command(target, port, user=None)} {status}") == "401"
    assert prometheus.check_output(f"{metrics_command(target, port, user='admin')} {status}") == "401"
    assert prometheus.run(f"curl -sS -m 5 http://{ADDR[target]}:{PORTS[port]['port']}/metrics").rc != 0


@pytest.mark.parametrize(("target", "process"), [("pl1", "jobmanager"), ("pl2", "taskmanager")])
def test_each_process_loads_the_metrics_agent_or_the_fallback_reporter(target, process):
    """flink_jmx_exporter (true where the mirror holds the agent): the process's JVM runs the agent
    on its own port with its own config (root:flink 0640: it holds the keystore password), and
    Flink the JMX reporter, not the plaintext one; without the agent, the reporter on that port."""
    host = HOSTS[target]
    pid = host.check_output(f"systemctl show -p MainPID --value flink-{process}")
    command = host.file(f"/proc/{pid}/cmdline").content_string.replace("\0", " ")
    config = yaml.safe_load(host.file("/etc/fdp/flink/config.yaml").content_string)
    agent_config = host.file(f"/etc/fdp/jmx_exporter/flink_{process}.yml")
    if AGENT:
        port = PORTS[f"flink_{process}_metrics"]["port"]
        assert "jmx_prometheus_javaagent-" in command
        assert f".jar={port}:/etc/fdp/jmx_exporter/flink_{process}.yml" in command
        assert (agent_config.user, agent_config.group, agent_config.mode) == ("root", "flink", 0o640)
        assert "metrics.reporter.jmx.factory.class" in config and "metrics.reporter.prom.factory.class" not in config
    else:
        assert "-javaagent:" not in command and not agent_config.exists
        assert "metrics.reporter.prom.factory.class" in config and "metrics.reporter.jmx.factory.class" not in config
        assert f"metrics.reporter.prom.port={PORTS[f'flink_{process}_metrics']['port']}" in command


@pytest.mark.parametrize(("target", "unit", "port"), [
    ("pl1", "flink-jobmanager", "flink_jobmanager_query"),
    ("pl2", "flink-taskmanager", "flink_taskmanager_query"),
])
def test_query_service_listens_on_its_pinned_port_for_platform_hosts_only(target, unit, port):
    number = PORTS[port]["port"]
    pid = HOSTS[target].check_output(f"systemctl show -p MainPID --value {unit}")
    assert f"pid={pid}," in HOSTS[target].check_output(f"ss -Htlnp 'sport = :{number}'")
    probe = f"timeout 5 bash -c 'exec 3<>/dev/tcp/{ADDR[target]}/{number}'"
    assert HOSTS["pl3" if target == "pl2" else "pl2"].run(probe).rc == 0
    assert HOSTS["pl4"].run(probe).rc != 0


def test_prometheus_scrapes_every_flink_process_with_the_cluster_state():
    """The real Prometheus on pl1 (monitoring stage) scrapes the reporters found from the inventory."""
    prom = f"https://{ADDR['pl1']}:{PORTS['prometheus_web']['port']}"
    password = (INV_DIR / "credentials" / "prometheus_admin_password").read_text().strip()
    context = ssl.create_default_context(cafile=str(INV_DIR / "pki" / "ca.crt"))

    def query(path):
        request = urllib.request.Request(prom + path)
        request.add_header("Authorization", "Basic " + base64.b64encode(f"admin:{password}".encode()).decode())
        with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())["data"]

    def flink_targets_up():
        targets = [t for t in query("/api/v1/targets?state=active")["activeTargets"] if t["labels"]["job"] == "flink"]
        return targets if len(targets) == 3 and all(t["health"] == "up" for t in targets) else None

    targets = wait_for(flink_targets_up, timeout=90)
    assert {(t["labels"]["host"], t["labels"]["role"], t["scrapeUrl"].split(":")[-1].split("/")[0]) for t in targets} == {
        ("pl1", "flink_jobmanager", str(PORTS["flink_jobmanager_metrics"]["port"])),
        ("pl2", "flink_taskmanager", str(PORTS["flink_taskmanager_metrics"]["port"])),
        ("pl3", "flink_taskmanager", str(PORTS["flink_taskmanager_metrics"]["port"])),
    }
    registered = wait_for(lambda: query("/api/v1/query?query=flink_jobmanager_numRegisteredTaskManagers")["result"])
    assert [r["value"][1] for r in registered] == ["2"]


def test_an_artifact_override_restarts_each_process_exactly_once_in_order_and_a_rerun_changes_nothing():
    """platform_artifact_overrides moves Flink to another build (2.1.2, also in the lab mirror)
    while a new flink mesh CA comes in (how one is replaced: its files removed from
    platform_pki_dir, then the pki stage): the round restarts every process once through the
    health-gated path - the JobManager first, which does not wait for the TaskManagers still on
    the old CA (they refuse each other until they restart, next), then one TaskManager at a
    time - and the run after it changes nothing. Runs last: the cluster keeps 2.1.2."""
    pins = yaml.safe_load((PROJECT / "inventories/lab/mirror.yml").read_text())["all"]["vars"]["lab_artifact_pins"]
    pins["flink"]["version"] = "2.1.2"
    extra = EPHEMERAL / "override.yml"
    extra.write_text(yaml.safe_dump({"platform_artifact_overrides": pins, "flink_rest_client_auth": True}))
    since = int(time.time())
    old_ca = (INV_DIR / "pki" / "mesh-flink-ca.crt").read_text()
    for suffix in ("crt", "key"):
        (INV_DIR / "pki" / f"mesh-flink-ca.{suffix}").unlink()
    pki = playbook("-e", f"@{extra}", str(PROJECT / "site.yml"), "--tags", "pki")
    assert pki.returncode == 0, pki.stdout[-4000:]
    new_ca = (INV_DIR / "pki" / "mesh-flink-ca.crt").read_text()
    assert new_ca != old_ca
    compute = str(PROJECT / "ansible" / "playbooks" / "compute.yml")
    first = playbook("-e", f"@{extra}", compute)
    assert first.returncode == 0, first.stdout[-4000:]
    second = playbook("-e", f"@{extra}", compute)
    assert second.returncode == 0, second.stdout[-4000:]
    assert set(recap_changed(second.stdout).values()) == {0}, second.stdout[-4000:]

    assert_rolled_once_in_order(since)
    assert rest("/config")["flink-version"] == "2.1.2"
    for name, unit in (("pl1", "flink-jobmanager"), ("pl2", "flink-taskmanager"), ("pl3", "flink-taskmanager")):
        assert HOSTS[name].check_output("readlink /opt/fdp/flink") == "flink-2.1.2"
        pid = HOSTS[name].check_output(f"systemctl show -p MainPID --value {unit}")
        assert "flink-dist-2.1.2.jar" in HOSTS[name].check_output(f"tr '\\0' ' ' < /proc/{pid}/cmdline")
        assert HOSTS[name].file("/etc/fdp/tls/mesh-flink-ca.crt").content_string.strip() == new_ca.strip()
    assert rest("/overview")["taskmanagers"] == len(TASKMANAGERS)  # all registered under the new mesh CA
