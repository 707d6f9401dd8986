"""The kafka role up to the binary: every file and unit rendered by the service skeleton's own
configure step (the role's data, the platform's wiring, a 3+1 host inventory) and read back; the
JVM options run by real JDKs; a keystore built like the pki role's, read by Java with the
passwords and mapped by the rendered principal rule; the log4j2 config loaded by real Log4j 2; the
role's scripts run on real directories and sample tool output; the preflight rules as users run
them (the preflight stage on bad inventories); the metric names the alerts and the dashboard use
produced by the JMX exporter rules from upstream's MBeans."""

from __future__ import annotations

import configparser
import datetime
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from fdp_config import catalog_errors
from fdp_kafka import PRINCIPAL_MAPPING, format_plan, jvm_environment, kafka_uuid, node_ids, sizing
from helpers import REPO
from service_render import render_role
from test_jmx_rules import load as load_rules
from test_jmx_rules import simulate
from test_preflight_playbook import GOOD_VARS, make_inventory, preflight

ROLE = REPO / "roles" / "kafka"
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "kafka"
INVENTORY = """
all:
  children:
    kafka_controller:
      hosts:
        kc1: {ansible_host: 198.51.100.41}
        kc2: {ansible_host: 198.51.100.42}
        kc3: {ansible_host: 198.51.100.43}
    kafka_broker:
      hosts:
        kc1: {}
        kc2: {}
        kc3: {}
        kb4: {ansible_host: 198.51.100.44}
"""
HOSTS = {"kc1": "198.51.100.41", "kc2": "198.51.100.42", "kc3": "198.51.100.43", "kb4": "198.51.100.44"}
CONTROLLERS, BROKERS = ["kc1", "kc2", "kc3"], ["kc1", "kc2", "kc3", "kb4"]
IDS = node_ids(CONTROLLERS, BROKERS, {h: {"ansible_host": a} for h, a in HOSTS.items()})


def read_properties(path: Path) -> dict[str, str]:
    """A Java properties file as fdp_render writes it (key=value, no continuation lines)."""
    result = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            result[key] = re.sub(r"\\(.)", r"\1", value)
    return result


def unit_service(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """[Service] of a unit (continuations joined) and its Environment= assignments."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    text = path.read_text(encoding="utf-8").replace(" \\\n    ", " ")
    parser.read_string(text)
    env = dict(m.split("=", 1) for m in re.findall(r'^Environment="([^"]*)"$', text, re.M))
    return dict(parser["Service"]), env


def host_facts() -> tuple[int, int]:
    """What Ansible's setup reports for this machine: memtotal_mb and processor_vcpus."""
    mem = int(re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M).group(1)) // 1024
    cpus = len(re.findall(r"^processor\s*:", Path("/proc/cpuinfo").read_text(), re.M))
    return mem, cpus


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("kafka")
    result, out, creds = render_role(tmp_path, "kafka", INVENTORY, facts=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return out, creds


def secret(creds: Path, name: str) -> str:
    return (creds / name).read_text(encoding="utf-8").split()[0]


# --- what each host gets ---------------------------------------------------------------------------------
def test_each_host_gets_the_files_of_its_processes(rendered):
    out, _ = rendered
    common = {"etc/fdp/kafka/log4j2.properties", "etc/fdp/kafka/tools.env", "etc/fdp/kafka/client-tls.properties"}
    broker = {"etc/fdp/kafka/broker.properties", "etc/fdp/kafka/admin.properties",
              "etc/systemd/system/kafka-broker.service"}
    controller = {"etc/fdp/kafka/controller.properties", "etc/systemd/system/kafka-controller.service"}
    for host in HOSTS:
        files = {str(p.relative_to(out / host)) for p in (out / host).rglob("*") if p.is_file()}
        assert files == common | broker | (controller if host in CONTROLLERS else set()), host


@pytest.mark.parametrize("host", CONTROLLERS)
def test_controller_properties(rendered, host):
    out, creds = rendered
    p = read_properties(out / host / "etc/fdp/kafka/controller.properties")
    assert p["process.roles"] == "controller" and p["node.id"] == str(IDS[host]["controller"])
    assert p["listeners"] == "CONTROLLER://0.0.0.0:9093"
    assert p["advertised.listeners"] == f"CONTROLLER://{HOSTS[host]}:9093"
    assert p["controller.quorum.bootstrap.servers"] == ",".join(f"{HOSTS[h]}:9093" for h in CONTROLLERS)
    assert p["listener.security.protocol.map"] == "CONTROLLER:SSL"
    assert p["listener.name.controller.ssl.client.auth"] == "required" and p["ssl.client.auth"] == "required"
    assert p["log.dirs"] == "/var/lib/fdp/kafka/controller"
    assert "controller.quorum.voters" not in p and "sasl.enabled.mechanisms" not in p
    assert p["ssl.keystore.password"] == secret(creds, f"hosts/{host}/keystore_password")
    assert catalog_errors(p.keys(), "kafka", "server") == []


@pytest.mark.parametrize("host", BROKERS)
def test_broker_properties(rendered, host):
    out, creds = rendered
    p = read_properties(out / host / "etc/fdp/kafka/broker.properties")
    address = HOSTS[host]
    assert p["process.roles"] == "broker" and p["node.id"] == str(IDS[host]["broker"])
    assert p["listeners"] == "BROKER://0.0.0.0:9091,CLIENT://0.0.0.0:9092"
    assert p["advertised.listeners"] == f"BROKER://{address}:9091,CLIENT://{address}:9092"
    assert p["listener.security.protocol.map"] == "BROKER:SSL,CLIENT:SASL_SSL,CONTROLLER:SSL"
    assert p["inter.broker.listener.name"] == "BROKER" and p["controller.listener.names"] == "CONTROLLER"
    assert p["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert p["log.dirs"] == "/var/lib/fdp/kafka/broker"
    # 4 brokers: replication factor 3, one broker may restart without refusing acks=all writes
    assert (p["default.replication.factor"], p["min.insync.replicas"]) == ("3", "2")
    assert (p["offsets.topic.replication.factor"], p["transaction.state.log.min.isr"]) == ("3", "2")
    mem, cpus = host_facts()
    for key, value in sizing(mem, cpus, broker=True, controller=host in CONTROLLERS)["broker"]["settings"].items():
        assert p[key] == str(value), key
    assert p["auto.create.topics.enable"] == "false" and p["unclean.leader.election.enable"] == "false"
    assert catalog_errors(p.keys(), "kafka", "server") == []


def test_security_is_the_same_on_every_process(rendered):
    out, creds = rendered
    for path in sorted(out.rglob("*.properties")):
        if path.name not in ("broker.properties", "controller.properties"):
            continue
        p = read_properties(path)
        assert p["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
        assert p["super.users"] == "User:kb4;User:kc1;User:kc2;User:kc3;User:admin"
        assert p["allow.everyone.if.no.acl.found"] == "false"
        assert p["ssl.principal.mapping.rules"] == PRINCIPAL_MAPPING
        assert p["ssl.keystore.location"] == "/etc/fdp/tls/private/kafka/keystore.p12" and p["ssl.keystore.type"] == "PKCS12"
        assert p["ssl.truststore.password"] == secret(creds, "truststore_password")
        assert p["ssl.endpoint.identification.algorithm"] == "https"
        assert "PLAINTEXT" not in path.read_text(encoding="utf-8")


def test_admin_clients_are_catalog_checked_and_hold_the_named_secrets(rendered):
    out, creds = rendered
    admin = read_properties(out / "kb4/etc/fdp/kafka/admin.properties")
    assert admin["security.protocol"] == "SASL_SSL" and admin["sasl.mechanism"] == "SCRAM-SHA-512"
    assert admin["sasl.jaas.config"] == ('org.apache.kafka.common.security.scram.ScramLoginModule required '
                                         f'username="admin" password="{secret(creds, "kafka_admin_password")}";')
    tls = read_properties(out / "kc1/etc/fdp/kafka/client-tls.properties")
    assert tls["security.protocol"] == "SSL" and tls["ssl.keystore.location"] == "/etc/fdp/tls/private/kafka/keystore.p12"
    for client in (admin, tls):
        assert catalog_errors(client.keys(), "kafka", "admin-client") == []


def test_tools_env_and_log4j(rendered):
    out, _ = rendered
    env = (out / "kc1/etc/fdp/kafka/tools.env").read_text(encoding="utf-8")
    assert "KAFKA_HOME=/opt/fdp/kafka\n" in env and "JAVA_HOME=/opt/fdp/jdk21\n" in env
    assert 'KAFKA_HEAP_OPTS="-Xms64m -Xmx256m"' in env
    log4j = read_properties(out / "kc1/etc/fdp/kafka/log4j2.properties")
    assert log4j["rootLogger.appenderRef.stdout.ref"] == "STDOUT" and log4j["appender.console.type"] == "Console"


IDS_PLAY = """
- name: The role's ids and format arguments, as the storage tasks compute them
  hosts: kafka_controller
  gather_facts: false
  tasks:
    - name: Load the role's variables
      ansible.builtin.include_role:
        name: kafka
        tasks_from: preflight.yml
        public: true
    - name: Write what the format of the first controllers gets
      ansible.builtin.copy:
        content: >-
          {{ {'cluster_id': _kafka_cluster_id, 'initial': _kafka_initial_controllers,
              'args': 'initial' | fdp_kafka_format_args(_kafka_conf_dir ~ '/controller.properties', _kafka_cluster_id,
                        _kafka_initial_controllers, kafka_admin_user, _kafka_admin_password)} | to_json }}
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        mode: "0600"
      delegate_to: localhost
"""


def test_cluster_and_directory_ids_are_kept_with_the_credentials_in_kafkas_form(tmp_path):
    """The ids come from the credentials store once (hex), in Kafka's Uuid form; every controller
    gets the same --initial-controllers, naming each by its pinned id, address and directory id."""
    from helpers import run_playbook

    inv, out, creds = tmp_path / "inv", tmp_path / "out", tmp_path / "credentials"
    inv.mkdir()
    out.mkdir()
    (inv / "hosts.yml").write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    (tmp_path / "play.yml").write_text(IDS_PLAY, encoding="utf-8")
    variables = {"out": str(out), "platform_credentials_dir": str(creds), "platform_environment": "test",
                 "platform_admin_cidrs": ["198.51.100.0/24"], "ansible_connection": "local",
                 "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    result = run_playbook(str(tmp_path / "play.yml"), inv, "-e", f"@{tmp_path / 'vars.yml'}")
    assert result.returncode == 0, result.stdout[-4000:]
    seen = {h: json.loads((out / f"{h}.json").read_text(encoding="utf-8")) for h in CONTROLLERS}
    raw = secret(creds, "kafka_cluster_id")
    assert re.fullmatch(r"[0-9a-fA-F]{32}", raw)
    assert {s["cluster_id"] for s in seen.values()} == {kafka_uuid(raw)}
    assert len({s["initial"] for s in seen.values()}) == 1
    expected = ",".join(f"{IDS[h]['controller']}@{HOSTS[h]}:9093:{kafka_uuid(secret(creds, f'kafka_directory_id/{h}'))}"
                        for h in CONTROLLERS)
    assert seen["kc1"]["initial"] == expected
    args = seen["kc2"]["args"]
    assert args[:6] == ["format", "--config", "/etc/fdp/kafka/controller.properties", "--cluster-id",
                        kafka_uuid(raw), "--ignore-formatted"]
    assert args[-1] == f"SCRAM-SHA-512=[name=admin,iterations=8192,password={secret(creds, 'kafka_admin_password')}]"
    assert all(a == a.strip() and "\n" not in a for a in args)  # one argument per line of the @argfile


# --- units ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("host", "unit"), [("kc1", "kafka-controller"), ("kc1", "kafka-broker"),
                                            ("kb4", "kafka-broker")])
def test_units_run_the_start_script_in_the_foreground_hardened(rendered, host, unit):
    out, _ = rendered
    service, env = unit_service(out / host / f"etc/systemd/system/{unit}.service")
    role = unit.split("-")[1]
    assert service["ExecStart"] == f"/opt/fdp/kafka/bin/kafka-server-start.sh /etc/fdp/kafka/{role}.properties"
    assert service["User"] == "kafka" and service["EnvironmentFile"] == "/etc/fdp/java/jdk21.env"
    assert int(service["LimitNOFILE"]) >= 100000
    assert service["SuccessExitStatus"] == "143" and service["ProtectSystem"] == "strict"
    assert "MemoryDenyWriteExecute" not in service  # the jvm preset
    writable = set(service["ReadWritePaths"].split())
    assert writable == {"/var/log/fdp/kafka", "/var/lib/fdp/kafka/controller" if role == "controller"
                        else "/var/lib/fdp/kafka/broker"}
    mem, cpus = host_facts()
    heap = sizing(mem, cpus, broker=host in BROKERS, controller=host in CONTROLLERS)[role]["heap_mb"]
    assert env["KAFKA_HEAP_OPTS"] == f"-Xms{heap}m -Xmx{heap}m"
    assert env["EXTRA_ARGS"] == f"-name kafka{role.capitalize()} -loggc"  # distinct GC logs per process
    assert env["LOG_DIR"] == "/var/log/fdp/kafka"
    assert env["KAFKA_LOG4J_OPTS"] == "-Dlog4j2.configurationFile=/etc/fdp/kafka/log4j2.properties"
    metrics = {"controller": 9405, "broker": 9404}[role]
    assert env["KAFKA_OPTS"] == (f"-javaagent:/opt/fdp/jmx_exporter-1.6.0/jmx_prometheus_javaagent-1.6.0.jar={metrics}:"
                                 f"/etc/fdp/jmx_exporter/kafka_{role}.yml")


def verify_complaints(unit: Path) -> list[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    result = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False,
                            timeout=60)
    binary = "/opt/fdp/kafka/bin/kafka-server-start.sh"
    return [line for line in (result.stdout + result.stderr).splitlines()
            if line.strip() and not (binary in line and ("is not executable" in line or "No such file" in line))]


@pytest.mark.parametrize("unit", ["kafka-controller", "kafka-broker"])
def test_units_pass_systemd_analyze_verify_but_for_the_missing_binary(rendered, tmp_path, unit):
    out, _ = rendered
    path = tmp_path / f"{unit}.service"
    text = (out / "kc1" / f"etc/systemd/system/{unit}.service").read_text(encoding="utf-8")
    # the line the role adds once the agent config exists (its checksum): systemd ignores X- keys
    path.write_text(text.replace("\n[Install]", "X-FdpMetricsConfig=0123456789abcdef\n\n[Install]"), encoding="utf-8")
    assert verify_complaints(path) == []


# --- the JVM --------------------------------------------------------------------------------------------
def jdks() -> list[Path]:
    """Every JDK on this machine (the one on PATH and those under /usr/lib/jvm), each once."""
    binaries = [shutil.which("java")] + [str(p / "bin" / "java") for p in Path("/usr/lib/jvm").glob("*")]
    homes = {Path(os.path.realpath(b)).parent.parent for b in binaries if b and Path(b).is_file()}
    return sorted(homes) or [Path("/nonexistent")]


@pytest.mark.parametrize("jdk", jdks(), ids=lambda p: p.name)
def test_jvm_options_are_accepted_by_a_real_jdk(rendered, jdk):
    """KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS as the units set them (and the large-heap
    variant with upstream's region size), run by java -version as kafka-run-class.sh passes them."""
    java = jdk / "bin" / "java"
    if not java.is_file():
        pytest.skip("no JDK on this machine")
    out, _ = rendered
    variants = []
    for unit in ("kafka-controller", "kafka-broker"):
        _, env = unit_service(out / "kc1" / f"etc/systemd/system/{unit}.service")
        variants.append(env["KAFKA_HEAP_OPTS"].split() + env["KAFKA_JVM_PERFORMANCE_OPTS"].split())
    large = jvm_environment(6144)
    variants.append(["-Xms6144m", "-Xmx6144m"] + large["KAFKA_JVM_PERFORMANCE_OPTS"].split())
    for options in variants:
        result = subprocess.run([str(java), *options, "-XX:+PrintFlagsFinal", "-version"], capture_output=True,
                                text=True, check=False, timeout=120)
        assert result.returncode == 0, (options, result.stderr)
        assert "Unrecognized" not in result.stderr and "warning" not in result.stderr.lower(), result.stderr
        flags = result.stdout
        assert re.search(r"\bUseG1GC\s+= true", flags) and re.search(r"\bMaxGCPauseMillis\s+= 20\b", flags)
        assert re.search(r"\bExitOnOutOfMemoryError\s+= true", flags)


# --- TLS material as Kafka reads it ------------------------------------------------------------------------
def make_stores(tmp_path: Path, subject: list[tuple[str, str]], password: str, trust_password: str):
    """A CA and a host certificate, a PKCS12 keystore (key and chain, as community.crypto's
    openssl_pkcs12 writes it for the pki role) and a PKCS12 truststore made by keytool (as java_cert)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FOSS Data Platform test CA")])
    day = now + datetime.timedelta(days=1)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(day)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(getattr(NameOID, attr), value) for attr, value in subject])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(day)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    keystore = tmp_path / "keystore.p12"
    keystore.write_bytes(pkcs12.serialize_key_and_certificates(
        b"kc1", key, cert, [ca], serialization.BestAvailableEncryption(password.encode())))
    (tmp_path / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    truststore = tmp_path / "truststore.p12"
    subprocess.run(["keytool", "-importcert", "-noprompt", "-trustcacerts", "-alias", "fdp-test-ca", "-file",
                    str(tmp_path / "ca.crt"), "-keystore", str(truststore), "-storetype", "PKCS12",
                    "-storepass", trust_password], check=True, capture_output=True, timeout=120)
    return keystore, truststore


@pytest.mark.parametrize(("subject", "principal"), [
    ([("COMMON_NAME", "kc1")], "User:kc1"),                                        # the pki role's certificates
    # a site's own CA, subject in the usual order (C, O, CN: RFC 2253 prints it most specific first)
    ([("COUNTRY_NAME", "DE"), ("ORGANIZATION_NAME", "Example"), ("COMMON_NAME", "kc1")], "User:kc1"),
    # a subject whose most specific part is not the CN: the DEFAULT rule, i.e. no super user (fails closed)
    ([("COMMON_NAME", "kc1"), ("ORGANIZATION_NAME", "Example")], "User:O=Example,CN=kc1"),
])
def test_keystores_are_read_with_their_passwords_and_subjects_map_to_principals(tmp_path, subject, principal):
    if shutil.which("java") is None or shutil.which("keytool") is None:
        pytest.skip("no JDK on this machine")
    keystore, truststore = make_stores(tmp_path, subject, "ks-Pass1", "ts-Pass1")
    rule = re.match(r"RULE:(.*?)/(.*?)/,", PRINCIPAL_MAPPING)
    result = subprocess.run(["java", str(FIXTURES / "PrincipalCheck.java"), str(keystore), "ks-Pass1", str(truststore),
                             "ts-Pass1", rule.group(1), rule.group(2)], capture_output=True, text=True, check=False,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert lines["verified"] == "true" and lines["principal"] == principal
    assert f"User:{lines['principal'].split(':', 1)[1]}" == principal


def test_log4j_config_works_with_real_log4j2(rendered, tmp_path):
    jars = [Path("/usr/share/java/log4j-api.jar"), Path("/usr/share/java/log4j-core.jar")]
    if shutil.which("java") is None or not all(j.is_file() for j in jars):
        pytest.skip("needs a JDK and Log4j 2 (Debian liblog4j2-java)")
    out, _ = rendered
    result = subprocess.run(["java", "-cp", ":".join(map(str, jars)),
                             f"-Dlog4j2.configurationFile={out / 'kc1/etc/fdp/kafka/log4j2.properties'}",
                             str(FIXTURES / "Log4jCheck.java")],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "StatusLogger" not in result.stderr, result.stderr  # the config parsed without complaint
    assert "INFO marker-authorizer-info (kafka.authorizer.logger)" in result.stdout  # denials reach the journal
    assert "WARN marker-request-warn" in result.stdout and "marker-request-info" not in result.stdout
    assert "marker-channel-info" not in result.stdout and "marker-debug" not in result.stdout
    assert "INFO marker-controller-info" in result.stdout


# --- the role's scripts -----------------------------------------------------------------------------------
def load_script(name: str):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(ROLE / "files" / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def write_meta(path: Path, cluster_id: str, node_id: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "meta.properties").write_text(
        f"#\n#Mon Nov 30 07:00:00 UTC 2026\nnode.id={node_id}\ndirectory.id=ILZ5MPTeRWakmJu99uBJCA\nversion=1\n"
        f"cluster.id={cluster_id}\n", encoding="utf-8")


def test_storage_reader_feeds_the_format_plan(tmp_path):
    cid = "fMCL8kv1SWm87L_Md-I2hg"
    write_meta(tmp_path / "meta", cid, 3000)
    (tmp_path / "meta" / "__cluster_metadata-0").mkdir()
    (tmp_path / "meta" / "__cluster_metadata-0" / "quorum-state").write_text("{}", encoding="utf-8")
    (tmp_path / "new-disk" / "lost+found").mkdir(parents=True)
    (tmp_path / "dirty" / "orders-0").mkdir(parents=True)
    args = [f"controller={tmp_path / 'meta'}", f"broker={tmp_path / 'new-disk'}", f"broker={tmp_path / 'dirty'}",
            f"broker={tmp_path / 'absent'}"]
    result = subprocess.run([sys.executable, str(ROLE / "files" / "fdp-kafka-storage-state"), *args],
                            capture_output=True, text=True, check=True)
    state = json.loads(result.stdout)
    assert state["controller"][str(tmp_path / "meta")]["meta"] == {
        "node.id": "3000", "directory.id": "ILZ5MPTeRWakmJu99uBJCA", "version": "1", "cluster.id": cid}
    assert state["controller"][str(tmp_path / "meta")]["quorum_state"] is True
    assert state["broker"][str(tmp_path / "new-disk")] == {"exists": True, "meta": None, "entries": [],
                                                            "quorum_state": False}
    assert state["broker"][str(tmp_path / "dirty")]["entries"] == ["orders-0"]
    assert state["broker"][str(tmp_path / "absent")]["exists"] is False
    ids = {"h": {"controller": 3000, "broker": 1}}
    plan = format_plan({"h": state}, ["h"], ["h"], ["h"], ids, cid)
    assert plan["hosts"]["h"]["controller"]["action"] == "none"
    assert plan["hosts"]["h"]["broker"] == {"action": "format",
                                            "dirs": [str(tmp_path / "absent"), str(tmp_path / "new-disk")]}
    assert any("holds orders-0" in e for e in plan["errors"])
    bad = subprocess.run([sys.executable, str(ROLE / "files" / "fdp-kafka-storage-state"), "tools=/x"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2


REPLICATION = textwrap.dedent("""\
    NodeId\tDirectoryId           \tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus  \t
    3002  \tg42deArWBTRM5A1yuVpMCg\t1234        \t0  \t1700000000100     \t1700000000100        \tLeader  \t
    3000  \tILZ5MPTeRWakmJu99uBJCA\t1230        \t4  \t1700000000050     \t1700000000040        \tFollower\t
    3001  \tb-DwmhtOheTqZzPoh52kfA\t900         \t334\t1699999900000     \t1699999890000        \tFollower\t
    3003  \tUegA3Db5QLSqSZieL3rJBU\t1234        \t0  \t1700000000090     \t1700000000090        \tObserver\t
    1     \t3Db5QLSqSZieL3rJBUUegA\t1234        \t0  \t1700000000099     \t1700000000099        \tObserver\t
    """)


def test_quorum_probe_reads_describe_replication():
    probe = load_script("fdp-kafka-quorum-ready")
    rows = probe.parse("some log line\n" + REPLICATION)
    assert [r["NodeId"] for r in rows] == ["3002", "3000", "3001", "3003", "1"]
    assert probe.caught_up(rows, 3002)[0] is True            # the leader
    assert probe.caught_up(rows, 3000)[0] is True            # a follower, 4 records behind
    ok, reason = probe.caught_up(rows, 3001)
    assert ok is False and "lags 334 records" in reason      # a follower that stopped fetching
    assert probe.caught_up(rows, 3001, max_lag=1000)[0] is False  # ... and fetched 100 s ago
    assert probe.caught_up(rows, 3003)[0] is True            # a controller not added to the voters yet
    assert probe.caught_up(rows, 9)[0] is False
    assert probe.caught_up([r for r in rows if r["Status"] != "Leader"], 3000) == (False, "the quorum has no leader")


def test_quorum_probe_runs_the_tool_through_the_wrapper(tmp_path):
    """The probe, the wrapper and its environment file together, with a stand-in for Kafka's bin/."""
    home = tmp_path / "kafka"
    (home / "bin").mkdir(parents=True)
    fake = home / "bin" / "kafka-metadata-quorum.sh"
    fake.write_text("#!/bin/sh\necho \"$JAVA_HOME|$KAFKA_HEAP_OPTS|$*\" > \"$LOG_DIR/args\"\n"
                    f"cat <<'EOF'\n{REPLICATION}EOF\n", encoding="utf-8")
    fake.chmod(0o755)
    env = tmp_path / "tools.env"
    env.write_text(f'KAFKA_HOME={home}\nJAVA_HOME=/opt/fdp/jdk21\nKAFKA_HEAP_OPTS="-Xms64m -Xmx256m"\n'
                   f"LOG_DIR={tmp_path}\n", encoding="utf-8")
    wrapper = ROLE / "files" / "fdp-kafka"
    probe = [sys.executable, str(ROLE / "files" / "fdp-kafka-quorum-ready"), str(wrapper), str(env),
             "/etc/fdp/kafka/client-tls.properties", "198.51.100.41:9093"]
    assert subprocess.run([*probe, "3000"], capture_output=True, text=True, check=False).returncode == 0
    assert (tmp_path / "args").read_text(encoding="utf-8").strip() == (
        "/opt/fdp/jdk21|-Xms64m -Xmx256m|--bootstrap-controller 198.51.100.41:9093 --command-config "
        "/etc/fdp/kafka/client-tls.properties describe --replication")
    failed = subprocess.run([*probe, "3001"], capture_output=True, text=True, check=False)
    assert failed.returncode == 1 and "lags 334 records" in failed.stderr
    refused = subprocess.run(["sh", str(wrapper), str(env), "rm"], capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "not one of Kafka's" in refused.stderr


# --- the preflight stage on Kafka inventories -------------------------------------------------------------
KAFKA = """
all:
  children:
    kafka_controller:
      hosts:
        k1: {ansible_host: 198.51.100.61}
        k2: {ansible_host: 198.51.100.62}
        k3: {ansible_host: 198.51.100.63}
    kafka_broker:
      hosts:
        k1: {}
        k2: {}
        k3: {}
"""
FOUR_CONTROLLERS = KAFKA.replace("k3: {ansible_host: 198.51.100.63}",
                                 "k3: {ansible_host: 198.51.100.63}\n        k4: {ansible_host: 198.51.100.64}")
CASES = {
    "even controllers": (FOUR_CONTROLLERS, "", ["kafka_controller has 4 hosts (k1, k2, k3, k4): a KRaft quorum needs "
                                                "an odd number"]),
    "broker without controllers": ("""
        all:
          children:
            kafka_broker:
              hosts:
                k1: {ansible_host: 198.51.100.61}
        """, "", ["kafka_broker has 1 hosts but kafka_controller is empty"]),
    "replication factor above the brokers": (KAFKA, "kafka_topics:\n  - {name: orders, replication_factor: 4}\n",
                                             ["kafka_topics 'orders': replication_factor 4 must be 1..3"]),
    "min.insync.replicas not below the replication factor": (
        KAFKA, "kafka_topics:\n  - {name: orders, replication_factor: 3, configs: {min.insync.replicas: 3}}\n"
               "kafka_broker_config_overrides:\n  min.insync.replicas: 3\n",
        ["kafka_topics 'orders': min.insync.replicas 3 is not below replication_factor 3",
         "min.insync.replicas 3 is not below default.replication.factor 3"]),
    "misspelled override": (KAFKA, "kafka_broker_config_overrides:\n  log.retention.hour: 24\n",
                            ["kafka_broker_config_overrides: 'log.retention.hour' is not a kafka 4.2.1 server key "
                             "(did you mean 'log.retention.hours'?)"]),
    "misspelled topic config": (KAFKA, "kafka_topics:\n  - {name: t, configs: {retention.msx: 1}}\n",
                                ["'retention.msx' is not a kafka 4.2.1 topic key (did you mean 'retention.ms'?)"]),
    "reserved override": (KAFKA, "kafka_controller_config_overrides:\n  listeners: PLAINTEXT://:9093\n",
                          ["kafka_controller_config_overrides sets 'listeners', which the platform owns"]),
    "reserved TLS override": (KAFKA, "kafka_broker_config_overrides:\n  ssl.keystore.location: /tmp/x.p12\n",
                              ["kafka_broker_config_overrides sets 'ssl.keystore.location', which the platform owns: "
                               "TLS from the platform PKI"]),
    "user named like a host": (KAFKA, "kafka_users:\n  - {name: k2}\n", ["kafka_users 'k2': 'k2' is a super user"]),
    "colliding pinned node ids": (KAFKA.replace("k3: {}", "k3: {kafka_broker_node_id: 1}"), "",
                                  ["node id 1 is given to both"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_preflight_refuses_bad_kafka_inventories_before_any_host_is_contacted(case, tmp_path):
    hosts_yml, extra, messages = CASES[case]
    result, runs = preflight(make_inventory(tmp_path, hosts_yml, GOOD_VARS + extra), tmp_path)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    for message in messages:
        assert message in out, f"{message!r} not in:\n{result.stdout[-4000:]}"
    assert "Preflight - host operating systems" not in result.stdout
    assert runs[-1]["changed"] == [] and runs[-1]["unreachable"] == [] and runs[-1]["failed"]


def test_preflight_accepts_declared_data_and_warns_about_a_single_controller(tmp_path):
    single = """
    all:
      children:
        kafka_controller:
          hosts:
            k1: {ansible_host: 198.51.100.61}
        kafka_broker:
          hosts:
            k1: {}
    """
    data = textwrap.dedent("""\
        kafka_users: [{name: orders-app}]
        kafka_acls:
          - {principal: orders-app, name: orders, operations: [Write, Describe]}
        kafka_topics:
          - {name: orders, partitions: 3, configs: {retention.ms: 86400000}}
        """)
    result, runs = preflight(make_inventory(tmp_path, single, GOOD_VARS + data), tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "a single KRaft controller (k1) is a single point of failure" in " ".join(result.stdout.split())
    assert runs[-1]["changed"] == []
    # preflight generated no secret: it needs none
    assert not (tmp_path / "inv" / "credentials").exists()


# --- metrics: the names the alerts and the dashboard use ---------------------------------------------------
# MBean attributes of Kafka 4.x KRaft controllers and brokers (upstream operations/monitoring), as the
# JMX exporter agent renders them for its rules.
UPSTREAM_MBEANS = [
    "kafka.controller<type=KafkaController, name=ActiveControllerCount><>Value: 1",
    "kafka.controller<type=KafkaController, name=OfflinePartitionsCount><>Value: 0",
    "kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value: 0",
    "kafka.server<type=ReplicaManager, name=PartitionCount><>Value: 10",
    "kafka.server<type=ReplicaManager, name=LeaderCount><>Value: 4",
    "kafka.server<type=ReplicaManager, name=IsrShrinksPerSec><>Count: 0",
    "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count: 1",
    "kafka.server<type=BrokerTopicMetrics, name=BytesInPerSec><>Count: 1",
    "kafka.server<type=BrokerTopicMetrics, name=BytesOutPerSec><>Count: 1",
    "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec, topic=orders><>Count: 1",
    "kafka.network<type=RequestMetrics, name=RequestsPerSec, request=Produce, version=11><>Count: 1",
]


def test_alerts_and_dashboard_use_metric_names_the_rules_produce_from_upstream_mbeans():
    rules = load_rules("kafka.yml")
    produced = {simulate(rules, attribute)[0] for attribute in UPSTREAM_MBEANS if simulate(rules, attribute)}
    text = (REPO / "roles/prometheus/files/rules/kafka.rules.yml").read_text(encoding="utf-8")
    text += (REPO / "roles/grafana/files/dashboards/fdp-kafka.json").read_text(encoding="utf-8")
    used = set(re.findall(r"\b(kafka_[a-z0-9_]+)\s*\{", text))
    assert used and used <= produced, sorted(used - produced)
    # jobs and ports: both processes are scraped as job kafka on their own metrics ports
    endpoints = yaml.safe_load((REPO / "roles/platform/defaults/main/endpoints.yml").read_text())["platform_endpoints"]
    assert {endpoints[n]["metrics"]["job"] for n in ("kafka_broker_metrics", "kafka_controller_metrics")} == {"kafka"}


# --- the role's data contracts ------------------------------------------------------------------------------
def test_units_are_rendered_but_never_started_or_verified_without_the_binary():
    data = yaml.safe_load((ROLE / "vars" / "main.yml").read_text(encoding="utf-8"))
    assert data["_kafka_unit_common"]["run"] == "{{ kafka_install | bool }}"
    assert data["_kafka_unit_common"]["verify"] == "{{ kafka_install | bool }}"
    main = (ROLE / "tasks" / "main.yml").read_text(encoding="utf-8")
    assert "service_artifacts: \"{{ ['kafka'] if kafka_install | bool else [] }}\"" in main
    assert "service_order: [kafka_controller, kafka_broker]" in main


def test_no_password_reaches_a_command_line():
    """Every command task's argv is built from names and paths; secrets travel in files."""
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            for inner in task.get("block", [task]) + task.get("always", []):
                command = inner.get("ansible.builtin.command")
                if command:
                    assert "password" not in json.dumps(command).lower(), (path.name, inner["name"])
                    assert "changed_when" in inner, (path.name, inner["name"])
                if "ansible.builtin.copy" in inner and re.search("secret|password", json.dumps(inner).lower()):
                    assert inner.get("no_log") is True, (path.name, inner["name"])
    assert os.access(ROLE / "files" / "fdp-kafka", os.X_OK)
