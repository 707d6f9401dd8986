"""Kafka (KRaft) on real lab hosts: pl1, pl2 and pl3 each run a controller and a broker (two
processes), pl4 is an outsider.

What holds without Kafka itself (the lab mirror may have no Kafka tarball, and the role then renders
and checks everything but installs, formats and starts nothing): the files with their owners and
modes, what they say per host, the units passing systemd-analyze verify but for the missing start
script, and the firewall - 9093 open to the controllers and brokers only, 9091 to the brokers only,
9092 to the brokers, the Flink and Trino hosts and the platform's clients, none of them to the
outsider (in the nft ruleset and on the wire).

With Kafka installed: a quorum of 3 voters with a leader, every broker registered, a SCRAM client
producing and consuming over TLS, a wrong password and a plaintext connection refused, an ACL
denying an unauthorised principal, and the role's forced rolling restart (controllers, then brokers
one at a time) keeping a topic with replication factor 3 and min.insync.replicas 2 writable, each
broker stopped only once the previous one's partitions were back in sync. The tests run in file
order; the rolling restart comes last.

The scenario's inventory declares for these tests (molecule.yml):
  kafka_users: [{name: fdpverify}, {name: fdpintruder}]
  kafka_acls: fdpverify may Write, Read and Describe topic fdp-verify and Read groups fdp-verify*
  kafka_topics: [{name: fdp-verify, partitions: 3, replication_factor: 3, configs: {min.insync.replicas: 2}}]
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
import testinfra
from fdp_testinfra import accepted_sources, covers, playbook, wait_for

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
INV_DIR = Path(INVENTORY).parent
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
sys.path.insert(0, str(PROJECT / "ansible" / "plugins" / "filter"))
from fdp_kafka import (  # noqa: E402
    count_partition_lines,
    kafka_uuid,
    node_ids,
    parse_broker_ids,
    parse_quorum_status,
)

NET = "10.231.50"
ADDR = {"pl1": f"{NET}.11", "pl2": f"{NET}.12", "pl3": f"{NET}.13", "pl4": f"{NET}.14"}
CONTROLLER_HOST = f"{NET}.1"  # the Ansible controller: a platform client (platform_client_cidrs)
NODES, OUTSIDER = ("pl1", "pl2", "pl3"), "pl4"
IDS = node_ids(NODES, NODES, {h: {"ansible_host": a} for h, a in ADDR.items()})
CONF = "/etc/fdp/kafka"
START = "/opt/fdp/kafka/bin/kafka-server-start.sh"
TOOL = ["/usr/local/libexec/fdp/fdp-kafka", f"{CONF}/tools.env"]
BOOTSTRAP = ",".join(f"{ADDR[h]}:9092" for h in NODES)
TOPIC, USER, INTRUDER = "fdp-verify", "fdpverify", "fdpintruder"
NOT_INSTALLED = ("Kafka is rendered and checked but not installed: the lab mirror has no kafka_2.13-4.2.1.tgz "
                 "(platform_artifacts.kafka)")


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


HOSTS = {name: get(name) for name in ADDR}


def secret(name: str) -> str:
    return (INV_DIR / "credentials" / name).read_text().strip()


def installed() -> bool:
    return HOSTS["pl1"].file(START).exists


@pytest.fixture
def kafka():
    if not installed():
        pytest.skip(NOT_INSTALLED)


def declared(name: str) -> list:
    return HOSTS["pl1"].ansible.get_variables().get(name) or []


@pytest.fixture
def verify_data(kafka):
    users = {u["name"] for u in declared("kafka_users")}
    topics = {t["name"] for t in declared("kafka_topics")}
    if not ({USER, INTRUDER} <= users and TOPIC in topics):
        pytest.skip(f"the scenario declares no users {USER}, {INTRUDER} and topic {TOPIC} (see this file's docstring)")


def tool(host: str, *args: str, check: bool = True, limit: int = 180):
    """One of Kafka's tools on a host, through the role's wrapper (its JDK, a small heap); at most
    `limit` seconds (a refused client may retry until its own timeouts)."""
    command = f"timeout {limit} " + " ".join(f"'{a}'" for a in [*TOOL, *args])
    result = HOSTS[host].run(command)
    if check:
        assert result.rc == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result


def admin(host: str, name: str, *args: str, check: bool = True):
    return tool(host, name, "--bootstrap-server", BOOTSTRAP, "--command-config", f"{CONF}/admin.properties", *args,
                check=check)


def properties(host: str, path: str) -> dict[str, str]:
    text = HOSTS[host].file(path).content_string
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


# --- without the binary -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NODES)
def test_files_are_rendered_with_their_owners_and_modes(name):
    host = HOSTS[name]
    expected = {
        f"{CONF}/controller.properties": ("root", "kafka", 0o640),
        f"{CONF}/broker.properties": ("root", "kafka", 0o640),
        f"{CONF}/log4j2.properties": ("root", "kafka", 0o640),
        f"{CONF}/tools.env": ("root", "kafka", 0o640),
        f"{CONF}/admin.properties": ("root", "root", 0o600),
        f"{CONF}/client-tls.properties": ("root", "root", 0o600),
        "/etc/fdp/jmx_exporter/kafka_controller.yml": ("root", "kafka", 0o640),
        "/etc/fdp/jmx_exporter/kafka_broker.yml": ("root", "kafka", 0o640),
        "/etc/systemd/system/kafka-controller.service": ("root", "root", 0o644),
        "/etc/systemd/system/kafka-broker.service": ("root", "root", 0o644),
        "/usr/local/libexec/fdp/fdp-kafka": ("root", "root", 0o755),
        "/usr/local/libexec/fdp/fdp-kafka-storage-state": ("root", "root", 0o755),
        "/usr/local/libexec/fdp/fdp-kafka-quorum-ready": ("root", "root", 0o755),
    }
    for path, (user, group, mode) in expected.items():
        f = host.file(path)
        assert f.exists, path
        assert (f.user, f.group, f.mode) == (user, group, mode), path
    for path in ("/var/lib/fdp/kafka/controller", "/var/lib/fdp/kafka/broker", "/var/log/fdp/kafka"):
        d = host.file(path)
        assert d.is_directory and (d.user, d.group, d.mode) == ("kafka", "kafka", 0o750), path
    assert "fdp" in host.user("kafka").groups  # reads the PKCS12 stores of the pki role


@pytest.mark.parametrize("name", NODES)
def test_each_process_has_its_own_id_listeners_and_the_same_quorum(name):
    controller = properties(name, f"{CONF}/controller.properties")
    broker = properties(name, f"{CONF}/broker.properties")
    assert controller["node.id"] == str(IDS[name]["controller"]) and broker["node.id"] == str(IDS[name]["broker"])
    quorum = ",".join(f"{ADDR[h]}:9093" for h in NODES)
    assert controller["controller.quorum.bootstrap.servers"] == broker["controller.quorum.bootstrap.servers"] == quorum
    assert controller["advertised.listeners"] == f"CONTROLLER://{ADDR[name]}:9093"
    assert broker["advertised.listeners"] == f"BROKER://{ADDR[name]}:9091,CLIENT://{ADDR[name]}:9092"
    assert broker["listener.security.protocol.map"] == "BROKER:SSL,CLIENT:SASL_SSL,CONTROLLER:SSL"
    assert broker["super.users"] == "User:pl1;User:pl2;User:pl3;User:admin"
    assert broker["default.replication.factor"] == "3" and broker["min.insync.replicas"] == "2"
    assert broker["ssl.keystore.password"] == secret(f"hosts/{name}/keystore_password")


@pytest.mark.parametrize(("name", "unit"), [("pl1", "kafka-controller"), ("pl2", "kafka-broker")])
def test_units_pass_systemd_analyze_verify_but_for_the_missing_binary(name, unit):
    host = HOSTS[name]
    verify = host.run(f"systemd-analyze verify --man=no /etc/systemd/system/{unit}.service")
    complaints = [line for line in (verify.stdout + verify.stderr).splitlines() if line.strip()]
    if installed():
        assert complaints == []
        assert host.service(unit).is_enabled and host.service(unit).is_running
    else:
        assert complaints and all(START in line for line in complaints), complaints
        assert not host.service(unit).is_enabled and not host.service(unit).is_running
        assert not host.file("/var/lib/fdp/kafka/broker/meta.properties").exists  # nothing formatted


def allowed_sources(name: str, port: int) -> list:
    """Source networks the live ruleset accepts on tcp/<port>."""
    return accepted_sources(HOSTS[name], port)


@pytest.mark.parametrize("name", NODES)
def test_firewall_opens_the_kafka_ports_to_their_declared_groups_only(name):
    controller, internal, client = (allowed_sources(name, p) for p in (9093, 9091, 9092))
    for node in NODES:  # controllers and brokers reach the quorum; brokers replicate
        assert covers(controller, ADDR[node]) and covers(internal, ADDR[node])
        assert covers(client, ADDR[node])  # brokers (and Flink on pl1-pl3) are Kafka clients
    assert covers(client, CONTROLLER_HOST)  # platform_client_cidrs: port kafka_broker is published
    assert not covers(controller, CONTROLLER_HOST) and not covers(internal, CONTROLLER_HOST)
    for port_sources in (controller, internal, client):
        assert not covers(port_sources, ADDR[OUTSIDER])
    for metrics in (9404, 9405):  # the JMX exporter agents: Prometheus (pl1) only
        assert covers(allowed_sources(name, metrics), ADDR["pl1"])
        sources = allowed_sources(name, metrics)
        assert not covers(sources, ADDR["pl2"]) and not covers(sources, ADDR[OUTSIDER])


def connect(source: str, target: str, port: int) -> str:
    """open | refused (allowed, nothing listens) | dropped (the firewall)."""
    result = HOSTS[source].run(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{ADDR[target]}/{port}'")
    if result.rc == 0:
        return "open"
    return "dropped" if result.rc == 124 else "refused"


@pytest.mark.parametrize("port", [9091, 9092, 9093])
def test_the_kafka_ports_on_the_wire(port):
    up = "open" if installed() else "refused"
    assert connect("pl2", "pl1", port) == up
    assert connect("pl3", "pl2", port) == up
    assert connect(OUTSIDER, "pl1", port) == "dropped"
    assert connect(OUTSIDER, "pl3", port) == "dropped"


# --- with Kafka -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "unit"), [(n, u) for n in NODES for u in ("kafka-controller", "kafka-broker")])
def test_processes_run_as_kafka_with_their_heap_and_agent(kafka, name, unit):
    host = HOSTS[name]
    pid = host.check_output(f"systemctl show -p MainPID --value {unit}")
    assert host.check_output(f"ps -o user= -p {pid}") == "kafka"
    cmdline = host.check_output(f"tr '\\0' ' ' < /proc/{pid}/cmdline")
    assert "/opt/fdp/jdk" in cmdline and "-XX:+UseG1GC" in cmdline and "-javaagent:" in cmdline
    assert secret(f"hosts/{name}/keystore_password") not in cmdline
    limits = host.check_output(f"grep 'Max open files' /proc/{pid}/limits")
    assert int(limits.split()[3]) >= 100000


def test_quorum_of_three_voters_with_a_leader(kafka):
    status = parse_quorum_status(tool("pl1", "kafka-metadata-quorum.sh", "--bootstrap-controller",
                                      f"{ADDR['pl1']}:9093", "--command-config", f"{CONF}/client-tls.properties",
                                      "describe", "--status").stdout)
    voters = sorted(IDS[h]["controller"] for h in NODES)
    assert status["voters"] == voters and status["leader"] in voters
    cluster = re.search(r"^ClusterId:\s+(\S+)", tool("pl2", "kafka-metadata-quorum.sh", "--bootstrap-server",
                        BOOTSTRAP, "--command-config", f"{CONF}/admin.properties", "describe", "--status").stdout, re.M)
    assert cluster.group(1) == kafka_uuid(secret("kafka_cluster_id"))
    for name in NODES:  # the health probe of each controller agrees
        probe = HOSTS[name].run(" ".join(["/usr/local/libexec/fdp/fdp-kafka-quorum-ready", *TOOL,
                                          f"{CONF}/client-tls.properties", f"{ADDR[name]}:9093",
                                          str(IDS[name]["controller"])]))
        assert probe.rc == 0, probe.stderr


def test_every_broker_is_registered(kafka):
    out = admin("pl3", "kafka-broker-api-versions.sh").stdout
    assert parse_broker_ids(out) == sorted(IDS[h]["broker"] for h in NODES)


def client_config(host: str, name: str, user: str, password: str, protocol: str = "SASL_SSL",
                  extra: tuple[str, ...] = ()) -> str:
    """A client properties file on a host (written by Ansible's copy, 0600): SCRAM over TLS, the
    platform CA as truststore."""
    path = f"/root/{name}.properties"
    lines = [f"security.protocol={protocol}", "ssl.truststore.type=PKCS12",
             "ssl.truststore.location=/etc/fdp/tls/truststore.p12",
             f"ssl.truststore.password={secret('truststore_password')}"]
    if protocol.startswith("SASL"):
        lines += ["sasl.mechanism=SCRAM-SHA-512",
                  "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                  f'username="{user}" password="{password}";']
    lines += list(extra)
    HOSTS[host].ansible("copy", {"content": "\n".join(lines) + "\n", "dest": path, "mode": "0600"}, check=False)
    return path


def produce(host: str, config: str, messages: list[str], check: bool = True):
    payload = "\\n".join(messages)
    result = HOSTS[host].run(f"printf '{payload}\\n' | timeout 120 {' '.join(TOOL)} kafka-console-producer.sh "
                             f"--bootstrap-server {BOOTSTRAP} --topic {TOPIC} --producer.config {config} "
                             "--producer-property acks=all "
                             "--producer-property max.block.ms=20000 --producer-property delivery.timeout.ms=30000")
    if check:
        assert result.rc == 0 and "ERROR" not in result.stderr, result.stderr[-2000:]
    return result


def test_a_scram_client_produces_and_consumes_over_tls(verify_data):
    config = client_config("pl2", "fdpverify", USER, secret(f"kafka_scram_password/{USER}"))
    marker = f"fdp-verify-{int(time.time())}"
    produce("pl2", config, [f"{marker}-{i}" for i in range(5)])
    # the consumer stops 30 s after the last record (its group: the ACL's prefix fdp-verify)
    consumer = client_config("pl3", "fdpverify", USER, secret(f"kafka_scram_password/{USER}"))
    consumed = tool("pl3", "kafka-console-consumer.sh", "--bootstrap-server", BOOTSTRAP, "--topic", TOPIC,
                    "--consumer.config", consumer,
                    "--group", f"{TOPIC}-{marker}", "--from-beginning", "--timeout-ms", "30000", check=False).stdout
    assert all(f"{marker}-{i}" in consumed for i in range(5)), consumed[-2000:]


def test_a_wrong_password_is_refused(verify_data):
    config = client_config("pl2", "fdpverify-wrong", USER, "not-the-password")
    result = produce("pl2", config, ["never"], check=False)
    assert "Authentication failed" in result.stdout + result.stderr, result.stderr[-2000:]


def test_plaintext_and_tls_without_scram_are_refused(kafka):
    quick = ("request.timeout.ms=10000", "default.api.timeout.ms=20000")
    for name, protocol in (("plaintext", "PLAINTEXT"), ("tls-only", "SSL")):  # no TLS; TLS without SCRAM
        config = client_config("pl2", name, "", "", protocol=protocol, extra=quick)
        result = tool("pl2", "kafka-broker-api-versions.sh", "--bootstrap-server", f"{ADDR['pl1']}:9092",
                      "--command-config", config, check=False, limit=90)
        assert result.rc != 0 and "(id: " not in result.stdout, (protocol, result.stdout[-1000:])
    # the controller and inter-broker listeners want a client certificate of the platform CA
    base = "sleep 2 | timeout 10 openssl s_client -tls1_3 -CAfile /etc/fdp/tls/ca.crt -verify_return_error"
    for port in (9091, 9093):
        without = HOSTS["pl2"].run(f"{base} -connect {ADDR['pl1']}:{port} 2>&1").stdout
        assert "Verify return code: 0 (ok)" in without  # the server's certificate verifies ...
        assert "certificate required" in without or "alert number 116" in without  # ... but it wants ours
        with_cert = HOSTS["pl2"].run(f"{base} -connect {ADDR['pl1']}:{port} -cert /etc/fdp/tls/host.crt "
                                     "-key /etc/fdp/tls/host.key 2>&1").stdout
        assert "Verify return code: 0 (ok)" in with_cert and "alert number 116" not in with_cert


def test_an_acl_denies_an_unauthorised_principal(verify_data):
    config = client_config("pl2", "fdpintruder", INTRUDER, secret(f"kafka_scram_password/{INTRUDER}"))
    result = produce("pl2", config, ["intrusion"], check=False)
    assert "TopicAuthorizationException" in result.stdout + result.stderr or "Not authorized to access topics" in (
        result.stdout + result.stderr), result.stderr[-2000:]
    acls = admin("pl1", "kafka-acls.sh", "--list", "--topic", TOPIC).stdout
    assert f"User:{USER}" in acls and f"User:{INTRUDER}" not in acls


def test_the_declared_topic_has_its_replication_and_configs(verify_data):
    described = admin("pl1", "kafka-topics.sh", "--describe", "--topic", TOPIC).stdout
    assert "PartitionCount: 3" in described and "ReplicationFactor: 3" in described
    configs = admin("pl1", "kafka-configs.sh", "--describe", "--entity-type", "topics", "--entity-name", TOPIC).stdout
    assert "min.insync.replicas=2" in configs


def journal_times(host: str, unit: str, text: str, since: int) -> list[int]:
    out = HOSTS[host].check_output(f"journalctl -u {unit} --since @{since} -o json --output-fields=MESSAGE")
    entries = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [int(e["__REALTIME_TIMESTAMP"]) // 1000 for e in entries if text in str(e.get("MESSAGE", ""))]


def test_a_rolling_restart_keeps_rf3_minisr2_writable_and_waits_for_in_sync_replicas(verify_data):
    """The role's own path (streaming.yml with service_force_restart): controllers one at a time,
    then brokers one at a time, each after no partition was under-replicated, while a producer
    writes with acks=all to the RF 3 / min.insync.replicas 2 topic: nothing fails."""
    urp = admin("pl1", "kafka-topics.sh", "--describe", "--under-replicated-partitions").stdout
    assert count_partition_lines(urp) == 0
    config = client_config("pl1", "fdpverify-roll", USER, secret(f"kafka_scram_password/{USER}"))
    producer = HOSTS["pl1"].run(
        f"systemd-run --unit=fdp-verify-producer --collect {' '.join(TOOL)} kafka-verifiable-producer.sh "
        f"--bootstrap-server {BOOTSTRAP} --topic {TOPIC} --producer.config {config} --acks -1 --throughput 20")
    assert producer.rc == 0, producer.stderr
    since = int(time.time())
    try:
        wait_for(lambda: "startup_complete" in HOSTS["pl1"].check_output(
            "journalctl -u fdp-verify-producer -o cat --no-pager"), timeout=60)
        roll = playbook("-e", "service_force_restart=true", str(PROJECT / "ansible" / "playbooks" / "streaming.yml"))
        assert roll.returncode == 0, roll.stdout[-4000:]
    finally:
        HOSTS["pl1"].run("systemctl stop fdp-verify-producer")
    events = [json.loads(line) for line in HOSTS["pl1"].check_output(
        "journalctl -u fdp-verify-producer -o cat --no-pager").splitlines() if line.startswith("{")]
    errors = [e for e in events if e.get("name") == "producer_send_error"]
    summary = [e for e in events if e.get("name") == "tool_data"][-1]
    assert errors == [] and summary["sent"] == summary["acked"] > 100, (errors[:3], summary)

    # Order (journals): every controller restarted before the first broker stopped; each broker
    # stopped only after the previous one had started again (its hook then waited for URP 0).
    controller_starts = [t for h in NODES
                         for t in journal_times(h, "kafka-controller", "Started kafka-controller", since)]
    broker_stops = sorted((journal_times(h, "kafka-broker", "Stopping kafka-broker", since)[0], h) for h in NODES)
    assert len(controller_starts) == 3 and max(controller_starts) < broker_stops[0][0]
    for (_, previous), (stop, _) in zip(broker_stops, broker_stops[1:]):
        assert journal_times(previous, "kafka-broker", "Started kafka-broker", since)[0] < stop
    # ... and the play's output shows each URP wait passing before the next broker's restart.
    output = roll.stdout
    for (_, previous), (_, following) in zip(broker_stops, broker_stops[1:]):
        waited = output.index(f"Wait until no partition is under-replicated after the (re)start of {previous}")
        restarted = output.index(f"kafka-broker on {following}", waited)
        assert waited < restarted
