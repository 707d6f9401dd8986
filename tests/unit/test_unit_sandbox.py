"""Every systemd unit the platform installs, rendered from the roles' real data - the service
skeleton's units by its own configure step, the helper units (THP policy, certificate metrics,
PostgreSQL backups) from their templates - in one playbook run, then scored by `systemd-analyze
security --offline`: at most 5.0 for every unit, and for the JVM units the score of the "jvm"
preset. No unit runs as root but the helpers that must, and those keep only the capabilities
they use. Transient units (the firewall's rollback timer, made with systemd-run) are no files
and have no score."""

from __future__ import annotations

import copy
import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import REPO, run_playbook
from service_render import PLAYBOOK

# What is acceptable for any unit (systemd-analyze calls 5.0 and below "OK").
LIMIT = 5.0
# The JVM units: the "jvm" preset is the "strict" one without MemoryDenyWriteExecute, which the
# JIT compiler cannot live with (it writes the code it then runs). What is left open besides
# is what every JVM service needs: the network (they serve clients), /proc/meminfo and
# /proc/cpuinfo (ProcSubset=pid would hide them from the JVM's memory and CPU detection), the
# users' identities (PrivateUsers would break the ownership of their data), the resource calls
# the JVM makes (setrlimit, sched_*) and @privileged calls the JDK's file copies may make. The
# score of systemd 252 (Debian 12); a unit above it has lost part of the preset.
JVM_LIMIT = 1.5
# The helpers that must run as root, why, and the only capabilities they keep.
ROOT_UNITS = {
    # /sys/kernel/mm/transparent_hugepage/* is root's (0644): writing it needs uid 0, no capability.
    "fdp-thp.service": set(),
    # Logs in as postgres through the peer map, writes the root-only backup directory the restore
    # reads as root, and passes node_exporter's state directory (0750) to its textfile directory.
    "fdp-postgresql-backup.service": {"CAP_DAC_READ_SEARCH"},
}

INVENTORY = """
all:
  hosts:
    n1: {ansible_host: 198.51.100.2}
  children:
    zookeeper:
      hosts:
        z1: {ansible_host: 198.51.100.11}
    flink_jobmanager:
      hosts:
        fj1: {ansible_host: 198.51.100.21}
    flink_taskmanager:
      hosts:
        ft2: {ansible_host: 198.51.100.22}
    kafka_controller:
      hosts:
        kc1: {ansible_host: 198.51.100.31}
    kafka_broker:
      hosts:
        kc1: {}
    trino_coordinator:
      hosts:
        q1: {ansible_host: 198.51.100.41}
    trino_worker:
      hosts:
        q2: {ansible_host: 198.51.100.42}
    metastore_db:
      hosts:
        d1: {ansible_host: 198.51.100.51}
    hive_metastore:
      hosts:
        m1: {ansible_host: 198.51.100.52}
    seaweedfs_master:
      hosts:
        s1: {ansible_host: 198.51.100.61}
    seaweedfs:
      hosts:
        s1: {seaweedfs_volume_dirs: [{path: /srv/weed1, size_gb: 100}]}
    minio:
      hosts:
        mi1: {ansible_host: 198.51.100.71, minio_drives: [/mnt/minio1, /mnt/minio2, /mnt/minio3, /mnt/minio4]}
    prometheus:
      hosts:
        mon1: {ansible_host: 198.51.100.81}
    alertmanager:
      hosts:
        mon2: {ansible_host: 198.51.100.82}
    grafana:
      hosts:
        ops1: {ansible_host: 198.51.100.83}
"""
# One play per role, on hosts of its own: (role, hosts, gather facts, the skeleton's unit sets
# as the role's tasks pass them - (service_name, service_account, units variable) - the role's
# own unit templates, further variables).
PLAYS = [
    ("zookeeper", "zookeeper", True, [("zookeeper", "zookeeper", "_zookeeper_units")], [], {}),
    ("flink", "flink_jobmanager:flink_taskmanager", True, [("flink", "flink", "_flink_units")], [], {}),
    ("kafka", "kafka_controller:kafka_broker", True, [("kafka", "kafka", "_kafka_units")], [], {}),
    ("trino", "trino_coordinator:trino_worker", True, [("trino", "trino", "_trino_units")], [], {}),
    ("hive_metastore", "hive_metastore", True, [("hive_metastore", "hive", "_hive_metastore_units")], [],
     {"hive_metastore_jmx_exporter": False}),
    ("postgresql", "metastore_db", True, [("postgresql", "", "_postgresql_units"),
                                          ("postgres_exporter", "postgres_exporter", "_postgresql_exporter_units")],
     ["fdp-postgresql-backup.service"], {}),
    ("seaweedfs", "seaweedfs_master:seaweedfs", True, [("seaweedfs", "seaweedfs", "_seaweedfs_units")], [], {}),
    ("minio", "minio", False, [("minio", "minio", "_minio_units")], [], {}),
    ("prometheus", "prometheus", False, [("prometheus", "prometheus", "_prometheus_units")], [], {}),
    ("alertmanager", "alertmanager", False, [("alertmanager", "alertmanager", "_alertmanager_units")], [],
     {"alertmanager_webhooks": [{"url": "https://hooks.example.net/fdp"}]}),
    ("grafana", "grafana", False, [("grafana", "grafana", "_grafana_units")], [], {}),
    ("node_exporter", "n1", False, [("node_exporter", "node_exporter", "_node_exporter_units")],
     ["fdp-tls-metrics.service"], {}),
    ("common", "z1", False, [], ["fdp-thp.service"], {}),
]
# What the inventory above gets: host -> units.
UNITS = {
    "z1": ["zookeeper.service", "fdp-thp.service"],
    "fj1": ["flink-jobmanager.service"],
    "ft2": ["flink-taskmanager.service"],
    "kc1": ["kafka-controller.service", "kafka-broker.service"],
    "q1": ["trino.service"],
    "q2": ["trino.service"],
    "m1": ["hive-metastore.service"],
    "d1": ["postgresql.service", "postgres_exporter.service", "fdp-postgresql-backup.service"],
    "s1": ["seaweedfs-master.service", "seaweedfs-volume.service", "seaweedfs-filer.service", "seaweedfs-s3.service"],
    "mi1": ["minio.service"],
    "mon1": ["prometheus.service"],
    "mon2": ["alertmanager.service"],
    "ops1": ["grafana.service"],
    "n1": ["node_exporter.service", "fdp-tls-metrics.service"],
}
CASES = [(host, unit) for host, units in UNITS.items() for unit in units]


def playbook() -> list[dict]:
    """The plays: the role's variables loaded and its units rendered as service_render's playbook
    does (the same tasks, units only), then the role's own unit templates."""
    load, configure = yaml.safe_load(PLAYBOOK)[0]["tasks"]
    plays = []
    for role, hosts, facts, unit_sets, templates, _ in PLAYS:
        tasks = [copy.deepcopy(load)]
        for name, account, units in unit_sets:
            task = copy.deepcopy(configure)
            task["vars"].update(service_name=name, service_account=account, service_files=[],
                                service_units="{{ %s }}" % units)
            tasks.append(task)
        if templates:
            tasks += [
                {"name": "Create the unit directory", "ansible.builtin.file": {
                    "path": "{{ render_out }}/{{ inventory_hostname }}/etc/systemd/system", "state": "directory",
                    "mode": "0755"}},
                {"name": "Render the role's own units", "ansible.builtin.template": {
                    "src": "{{ render_repo }}/roles/%s/templates/etc/systemd/system/{{ item }}.j2" % role,
                    "dest": "{{ render_out }}/{{ inventory_hostname }}/etc/systemd/system/{{ item }}",
                    "mode": "0644"}, "loop": templates}]
        plays.append({"name": f"Render the units of {role}", "hosts": hosts, "gather_facts": facts,
                      "vars": {"render_role": role}, "tasks": tasks})
    return plays


def render(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "out"
    (tmp_path / "inv").mkdir(parents=True, exist_ok=True)
    (tmp_path / "inv" / "hosts.yml").write_text(INVENTORY, encoding="utf-8")
    variables = {
        "render_repo": str(REPO), "render_out": str(out),
        "platform_credentials_dir": str(tmp_path / "credentials"), "platform_pki_dir": str(tmp_path / "pki"),
        "platform_environment": "test", "platform_admin_cidrs": ["198.51.100.0/24"],
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }
    for *_, extra in PLAYS:
        variables.update(extra)
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    (tmp_path / "render.yml").write_text(yaml.safe_dump(playbook(), sort_keys=False), encoding="utf-8")
    return run_playbook(str(tmp_path / "render.yml"), tmp_path / "inv", "-e", f"@{tmp_path / 'vars.yml'}"), out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """The rendered units (out/<host>/etc/systemd/system). Under pytest-xdist the workers share
    one rendering: the first renders, the others wait for it."""
    shared = os.environ.get("PYTEST_XDIST_WORKER") is not None
    base = (tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.mktemp("units")) / "unit-sandbox"
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "done").exists():
            result, _ = render(base)
            (base / "log").write_text(result.stdout[-8000:] + result.stderr[-4000:], encoding="utf-8")
            (base / "done").write_text(str(result.returncode), encoding="utf-8")
    assert (base / "done").read_text() == "0", (base / "log").read_text()
    return base / "out"


def analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not installed (the systemd package)")
    return path


def exposure(unit: Path, tmp_path: Path) -> tuple[float, str]:
    """systemd-analyze's overall exposure of a unit file (copied under its own name), and its report."""
    copy_ = tmp_path / unit.name
    shutil.copy(unit, copy_)
    result = subprocess.run([analyze(), "security", "--offline=yes", "--no-pager", str(copy_)],
                            capture_output=True, text=True, check=False, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert found, result.stdout + result.stderr
    return float(found.group(1)), result.stdout


def service(unit: Path) -> dict[str, list[str]]:
    """[Service] of a unit, every assignment of each key (continuation lines joined)."""
    values: dict[str, list[str]] = {}
    section = ""
    for line in unit.read_text(encoding="utf-8").replace("\\\n", " ").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values.setdefault(key, []).append(value.strip())
    return values


def preset(unit: Path) -> str:
    found = re.search(r'^# Sandbox: preset "(\w+)"', unit.read_text(encoding="utf-8"), re.M)
    return found.group(1) if found else ""


# --- what is rendered ---------------------------------------------------------------------------------
def test_every_unit_of_every_role_is_rendered(rendered):
    assert {host: sorted(p.name for p in (rendered / host / "etc/systemd/system").glob("*.service"))
            for host in UNITS} == {host: sorted(units) for host, units in UNITS.items()}


def test_every_source_of_units_in_the_roles_is_covered():
    """A role that gains units (data it passes to the service skeleton, or a template of its own)
    must be added above."""
    passed = {m for path in REPO.glob("roles/*/tasks/*.yml")
              for m in re.findall(r'^\s+service_units: "\{\{ (\w+) \}\}"', path.read_text(encoding="utf-8"), re.M)}
    templates = {p.name.removesuffix(".j2") for p in REPO.glob("roles/*/templates/etc/systemd/system/*.service.j2")}
    assert passed == {units for *_, sets, _, _ in PLAYS for *_, units in sets}
    assert templates - {"service.service"} == {t for *_, names, _ in PLAYS for t in names}


# --- scores -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("host", "unit"), CASES, ids=[f"{h}-{u}" for h, u in CASES])
def test_exposure_is_within_the_limit(rendered, tmp_path, host, unit):
    path = rendered / host / "etc/systemd/system" / unit
    score, report = exposure(path, tmp_path)
    limit = JVM_LIMIT if preset(path) == "jvm" else LIMIT
    assert score <= limit, f"{unit} on {host}: exposure {score} > {limit}\n{report}"


def test_the_jvm_limit_is_what_the_jvm_preset_reaches(rendered, tmp_path):
    """JVM_LIMIT is no looser than the preset: the best JVM unit scores it exactly."""
    scores = [exposure(rendered / host / "etc/systemd/system" / unit, tmp_path)[0] for host, unit in CASES
              if preset(rendered / host / "etc/systemd/system" / unit) == "jvm"]
    assert len(scores) >= 6 and min(scores) == JVM_LIMIT, scores


# --- who they run as --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("host", "unit"), CASES, ids=[f"{h}-{u}" for h, u in CASES])
def test_only_the_helpers_that_must_run_as_root(rendered, host, unit):
    values = service(rendered / host / "etc/systemd/system" / unit)
    user = values.get("User", ["root"])[-1]
    if unit not in ROOT_UNITS:
        assert user not in ("root", "0"), f"{unit} runs as root"
        return
    assert user == "root"
    capabilities = set(values.get("CapabilityBoundingSet", ["(unset: all)"])[-1].split())
    assert capabilities == ROOT_UNITS[unit], f"{unit} keeps {capabilities}"
    assert values["NoNewPrivileges"] == ["true"] and values["ProtectSystem"] == ["strict"]


def test_the_certificate_metrics_run_as_node_exporter_writing_only_the_textfile_directory(rendered):
    values = service(rendered / "n1" / "etc/systemd/system" / "fdp-tls-metrics.service")
    assert values["User"] == ["node_exporter"] and values["Group"] == ["node_exporter"]
    assert values["ReadWritePaths"] == ["/var/lib/fdp/node_exporter/textfile"]
    assert values["CapabilityBoundingSet"] == [""] and values["PrivateNetwork"] == ["true"]
    # The directory the helper replaces its file in: root's, writable by the node_exporter group
    # (root's backup metrics are written there too); node_exporter itself only reads it.
    tasks = yaml.safe_load((REPO / "roles/node_exporter/tasks/main.yml").read_text(encoding="utf-8"))
    directories = next(t for t in tasks if "ansible.builtin.include_role" in t)["vars"]["service_directories"]
    textfile = next(d for d in directories if d["path"] == "{{ _node_exporter_textfile_dir }}")
    assert textfile["owner"] == "root" and textfile["group"] == "node_exporter"
    assert int(textfile["mode"], 8) & 0o070 == 0o070 and not int(textfile["mode"], 8) & 0o002
    exporter = service(rendered / "n1" / "etc/systemd/system" / "node_exporter.service")
    assert exporter["ProtectSystem"] == ["strict"] and "ReadWritePaths" not in exporter
