"""The jmx_exporter role run by Ansible itself, included as a component role includes it (with
jmx_exporter_install false, against a temporary config directory): the agent config holds the
fragment's rules, HTTPS with the host keystore and basic auth as a salted SHA-256 hash that the
agent's formula accepts, never the plaintext; the JVM option names the pinned jar; a second run
changes nothing."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from helpers import REPO, read_report, run_playbook

ROLE = REPO / "roles" / "jmx_exporter"
PLAYBOOK = """
- name: Include the jmx_exporter role as a component role would
  hosts: kafka_broker
  gather_facts: false
  tasks:
    - name: Metrics endpoint (JMX exporter agent, HTTPS + basic auth)
      ansible.builtin.include_role:
        name: jmx_exporter
        public: true
      vars:
        jmx_exporter_component: "{{ component }}"
        jmx_exporter_port: "{{ platform_ports.kafka_broker_metrics.port }}"
        jmx_exporter_rules: kafka
        jmx_exporter_owner_group: root
        jmx_exporter_install: false
    - name: Record the facts the component role would use
      ansible.builtin.copy:
        content: >-
          {{ {'java_opts': jmx_exporter_java_opts, 'config': jmx_exporter_config,
              'changed': jmx_exporter_changed, 'keystore_password': lookup('fdp_secret', 'keystore_password')} | to_json }}
        dest: "{{ out }}/facts-{{ run }}.json"
        mode: "0600"
      changed_when: false
      no_log: true
"""
INVENTORY = """
all:
  children:
    kafka_broker:
      hosts:
        Kafka1: {ansible_host: 198.51.100.21}
"""


def upstream_sha256(salt: str, password: str) -> str:
    """jmx_exporter 1.x MessageDigestAuthenticator: hex(digest((salt + ":" + password) as UTF-8))."""
    return hashlib.sha256(f"{salt}:{password}".encode("utf-8")).hexdigest()


def run(tmp_path: Path, name: str, component: str = "kafka_broker", *args: str):
    out, inv, creds = tmp_path / "out", tmp_path / "inv", tmp_path / "credentials"
    for path in (out, inv):
        path.mkdir(parents=True, exist_ok=True)
    (inv / "hosts.yml").write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    variables = {"out": str(out), "run": name, "component": component,
                 "platform_config_dir": str(tmp_path / "etc"), "platform_credentials_dir": str(creds),
                 "platform_environment": "test", "platform_admin_cidrs": ["198.51.100.0/24"],
                 "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    report = tmp_path / f"report-{name}.jsonl"
    result = run_playbook(str(tmp_path / "play.yml"), inv, "-e", f"@{tmp_path / 'vars.yml'}", *args, report=report)
    return result, report


@pytest.fixture(scope="module")
def converged(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("jmx_exporter")
    check, check_report = run(tmp_path, "check", "kafka_broker", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert not (tmp_path / "etc").exists()
    first, first_report = run(tmp_path, "first")
    assert first.returncode == 0, first.stdout + first.stderr
    second, second_report = run(tmp_path, "second")
    assert second.returncode == 0, second.stdout + second.stderr
    recheck, recheck_report = run(tmp_path, "recheck", "kafka_broker", "--check")
    assert recheck.returncode == 0, recheck.stdout + recheck.stderr
    config = tmp_path / "etc" / "jmx_exporter" / "kafka_broker.yml"
    facts = {n: json.loads((tmp_path / "out" / f"facts-{n}.json").read_text(encoding="utf-8"))
             for n in ("first", "second")}
    password = (tmp_path / "credentials" / "metrics_password").read_text(encoding="utf-8").split()[0]
    return {"tmp": tmp_path, "config": config, "facts": facts, "password": password, "stdout": first.stdout,
            "reports": tuple(read_report(r)[-1] for r in (check_report, first_report, second_report, recheck_report))}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_upstream_formula_reproduces_upstream_test_vector():
    # integration_test_suite/.../BasicAuthenticationSHA256Test/JavaAgent/exporter.yaml (v1.6.0),
    # user Prometheus, password "secret".
    assert upstream_sha256("U9i%=N+m]#i9yvUV:bA/3n4X9JdPXf=n", "secret") == (
        "2bf7ed4906ac065bde39f7508d6102a6cdd7153a929ea883ff6cd04442772c99")


def test_config_is_the_fragment_plus_the_http_server(converged):
    config = load(converged["config"])
    fragment = load(ROLE / "files" / "rules" / "kafka.yml")
    assert {k: v for k, v in config.items() if k != "httpServer"} == fragment
    assert config["lowercaseOutputName"] is True and config["rules"]
    # JSON below comment lines: what the host-side check parses without PyYAML.
    text = converged["config"].read_text(encoding="utf-8")
    assert text.startswith("#")
    assert json.loads("\n".join(line for line in text.splitlines() if not line.startswith("#"))) == config


def test_https_with_the_host_keystore(converged):
    ssl = load(converged["config"])["httpServer"]["ssl"]
    assert ssl["keyStore"] == {"filename": "/etc/fdp/tls/private/root/keystore.p12", "type": "PKCS12",
                               "password": converged["facts"]["first"]["keystore_password"]}
    assert len(ssl["keyStore"]["password"]) == 32
    assert ssl["certificate"] == {"alias": "kafka1"}  # pki's friendly name, as Java lists it


def test_basic_auth_is_a_salted_hash_the_agent_accepts(converged):
    basic = load(converged["config"])["httpServer"]["authentication"]["basic"]
    password = converged["password"]
    assert set(basic) == {"username", "algorithm", "salt", "passwordHash"}
    assert basic["username"] == "prometheus" and basic["algorithm"] == "SHA-256"
    assert basic["passwordHash"] == upstream_sha256(basic["salt"], password)
    assert upstream_sha256(basic["salt"], password + "x") != basic["passwordHash"]
    assert password not in converged["config"].read_text(encoding="utf-8")
    assert password not in converged["stdout"]
    # a random salt kept in the credentials store, not derived from the password
    salt_file = converged["tmp"] / "credentials" / "jmx_salt" / "kafka_broker"
    assert basic["salt"] == salt_file.read_text(encoding="utf-8").split()[0] and len(basic["salt"]) == 22


def test_salt_differs_per_component(converged, tmp_path):
    (tmp_path / "credentials").mkdir()
    (tmp_path / "credentials" / "metrics_password").write_text(converged["password"] + "\n", encoding="utf-8")
    result, _ = run(tmp_path, "other", component="kafka_controller")
    assert result.returncode == 0, result.stdout + result.stderr
    other = load(tmp_path / "etc" / "jmx_exporter" / "kafka_controller.yml")["httpServer"]["authentication"]["basic"]
    basic = load(converged["config"])["httpServer"]["authentication"]["basic"]
    assert other["salt"] != basic["salt"]
    assert other["passwordHash"] == upstream_sha256(other["salt"], converged["password"])


def test_config_is_readable_by_the_owner_group_only(converged):
    mode = converged["config"].stat().st_mode
    assert stat.S_IMODE(mode) == 0o640
    assert stat.S_IMODE(converged["config"].parent.stat().st_mode) == 0o755


def test_java_opts_point_at_the_pinned_jar_port_and_config(converged):
    facts = converged["facts"]["first"]
    assert facts["java_opts"] == (
        "-javaagent:/opt/fdp/jmx_exporter-1.6.0/jmx_prometheus_javaagent-1.6.0.jar"
        f"=9404:{converged['config']}")
    assert facts["config"] == str(converged["config"])
    assert "jar was not installed" in converged["stdout"]


def test_check_mode_then_converge_then_nothing_changes(converged):
    check, first, second, recheck = converged["reports"]
    assert check["check_mode"] is True and any("Render the agent config" in c["task"] for c in check["changed"])
    assert converged["facts"]["first"]["changed"] is True
    assert any("Render the agent config" in c["task"] for c in first["changed"])
    assert converged["facts"]["second"]["changed"] is False
    assert second["changed"] == [] and second["failed"] == []
    assert recheck["check_mode"] is True and recheck["changed"] == [] and recheck["failed"] == []


def host_check(path: Path) -> subprocess.CompletedProcess[str]:
    code = yaml.safe_load((ROLE / "vars" / "main.yml").read_text(encoding="utf-8"))["_jmx_exporter_check"]
    assert "'" not in code and "%" not in code  # it is passed as: python3 -c '<code>' %s
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False)


def test_host_check_accepts_the_config_and_rejects_a_plaintext_password(converged, tmp_path):
    assert host_check(converged["config"]).returncode == 0
    config = load(converged["config"])
    config["httpServer"]["authentication"]["basic"]["password"] = "secret"
    bad = tmp_path / "bad.yml"
    bad.write_text("# comment\n" + json.dumps(config), encoding="utf-8")
    result = host_check(bad)
    assert result.returncode != 0 and "plaintext password" in result.stderr


def test_rules_choices_are_the_fragments():
    spec = load(ROLE / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(spec["jmx_exporter_rules"]["choices"]) == sorted(
        p.stem for p in (ROLE / "files" / "rules").glob("*.yml"))


def test_role_refuses_to_run_without_its_inputs(tmp_path):
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "hosts.yml").write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    playbook = tmp_path / "alone.yml"
    playbook.write_text(textwrap.dedent("""
        - name: The role on its own
          hosts: kafka_broker
          gather_facts: false
          roles:
            - jmx_exporter
    """), encoding="utf-8")
    result = run_playbook(str(playbook), tmp_path / "inv", "-e", "ansible_connection=local",
                          "-e", "ansible_python_interpreter={{ ansible_playbook_python }}",
                          "-e", "platform_environment=test", "-e", '{"platform_admin_cidrs": ["198.51.100.0/24"]}',
                          "-e", f"platform_credentials_dir={tmp_path / 'credentials'}")
    assert result.returncode != 0
    assert "jmx_exporter_component" in result.stdout
