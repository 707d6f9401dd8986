"""The prometheus and alertmanager roles' configuration as Ansible renders it from the role
variables and a small inventory, checked by the real promtool and amtool; and their preflight
refusing bad settings before any host is touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from helpers import REPO, run_playbook

PLAYBOOK = """
- name: Render the Prometheus configuration
  hosts: prometheus
  gather_facts: false
  tasks:
    - name: Load the role's variables (read-only checks)
      ansible.builtin.include_role:
        name: prometheus
        tasks_from: preflight.yml
        public: true
    - name: Render prometheus.yml
      ansible.builtin.template:
        src: "{{ repo }}/roles/prometheus/templates/etc/fdp/prometheus/prometheus.yml.j2"
        dest: "{{ out }}/prometheus.yml"
        mode: "0600"
    - name: Write the targets
      ansible.builtin.copy:
        content: "{{ item.value | to_nice_yaml }}"
        dest: "{{ out }}/targets/{{ item.key }}.yml"
        mode: "0600"
      loop: "{{ _prometheus_targets | dict2items }}"

- name: Render the Alertmanager configuration
  hosts: alertmanager
  gather_facts: false
  tasks:
    - name: Load the role's variables (read-only checks)
      ansible.builtin.include_role:
        name: alertmanager
        tasks_from: preflight.yml
        public: true
    - name: Render alertmanager.yml and the unit
      ansible.builtin.copy:
        content: "{{ _alertmanager_config | to_nice_yaml(indent=2, sort_keys=false) }}"
        dest: "{{ out }}/alertmanager-{{ inventory_hostname }}.yml"
        mode: "0600"
    - name: Record the command line
      ansible.builtin.copy:
        content: "{{ _alertmanager_args | to_json }}"
        dest: "{{ out }}/alertmanager-{{ inventory_hostname }}.args"
        mode: "0600"
      vars:
        _alertmanager_dir: /opt/fdp/alertmanager-0.25.0
"""
INVENTORY = """
all:
  children:
    prometheus:
      hosts:
        mon1: {ansible_host: 198.51.100.11}
    alertmanager:
      hosts:
        mon1: {ansible_host: 198.51.100.11}
        mon2: {ansible_host: 198.51.100.12}
    flink_jobmanager:
      hosts:
        fl1: {ansible_host: 198.51.100.21}
    flink_taskmanager:
      hosts:
        fl2: {ansible_host: 198.51.100.22}
"""
ROUTING = {
    "alertmanager_webhooks": [{"url": "https://hooks.example.net/fdp", "send_resolved": True}],
    "alertmanager_email_to": ["oncall@example.net"],
    "alertmanager_smtp": {"smarthost": "smtp.example.net:587", "from": "fdp@example.net",
                          "auth_username": "fdp", "auth_password": "smtp-secret", "require_tls": True},
    "alertmanager_routes": [{"matchers": ['severity="critical"'], "receiver": "pager", "continue": True}],
    "alertmanager_receivers": [{"name": "pager", "webhook_configs": [{"url": "https://pager.example.net/v1"}]}],
}


def tool(name: str) -> str:
    path = os.environ.get(f"FDP_{name.upper()}") or str(REPO / ".tools" / "bin" / name)
    if not Path(path).is_file():
        pytest.fail(f"{name} missing: run scripts/tools (make tools)")
    return path


def render(tmp_path: Path, extra: dict | None = None):
    out, inv, conf = tmp_path / "out", tmp_path / "inv", tmp_path / "etc"
    for path in (out / "targets", inv, conf / "prometheus" / "rules", tmp_path / "tls"):
        path.mkdir(parents=True, exist_ok=True)
    (inv / "hosts.yml").write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    variables = {"repo": str(REPO), "out": str(out), "platform_credentials_dir": str(tmp_path / "credentials"),
                 "platform_config_dir": str(conf), "platform_tls_dir": str(tmp_path / "tls"),
                 "platform_environment": "test", "platform_admin_cidrs": ["198.51.100.0/24"],
                 "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 **(extra or {})}
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    (tmp_path / "render.yml").write_text(PLAYBOOK, encoding="utf-8")
    result = run_playbook(str(tmp_path / "render.yml"), inv, "-e", f"@{tmp_path / 'vars.yml'}")
    return result, out, conf


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("monitoring")
    result, out, conf = render(tmp_path, ROUTING)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return tmp_path, out, conf


def test_prometheus_config_passes_promtool_with_the_platform_rules(rendered):
    tmp_path, out, conf = rendered
    for rules in (REPO / "roles/prometheus/files/rules").glob("*.rules.yml"):
        shutil.copy(rules, conf / "prometheus" / "rules" / rules.name)
    (tmp_path / "tls" / "ca.crt").write_text("")
    (conf / "prometheus" / "secrets").mkdir(exist_ok=True)
    (conf / "prometheus" / "secrets" / "metrics_password").write_text("x")
    shutil.copytree(out / "targets", conf / "prometheus" / "targets", dirs_exist_ok=True)
    result = subprocess.run([tool("promtool"), "check", "config", str(out / "prometheus.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_prometheus_config_scrapes_the_inventory_and_alerts_every_alertmanager(rendered):
    _, out, conf = rendered
    config = yaml.safe_load((out / "prometheus.yml").read_text())
    jobs = {c["job_name"]: c for c in config["scrape_configs"]}
    assert set(jobs) == {"node", "prometheus", "alertmanager", "flink"}
    assert config["global"]["external_labels"] == {"environment": "test"}
    assert len(config["rule_files"]) == len(list((REPO / "roles/prometheus/files/rules").glob("*.rules.yml")))
    am = config["alerting"]["alertmanagers"][0]
    assert am["scheme"] == "https" and am["basic_auth"]["username"] == "prometheus"
    assert am["file_sd_configs"][0]["files"] == [f"{conf}/prometheus/targets/alertmanager.yml"]
    targets = yaml.safe_load((out / "targets" / "alertmanager.yml").read_text())
    assert [t["targets"] for t in targets] == [["198.51.100.11:9095"], ["198.51.100.12:9095"]]


def test_alertmanager_config_passes_amtool_with_webhook_email_and_routes(rendered):
    _, out, _ = rendered
    path = out / "alertmanager-mon1.yml"
    result = subprocess.run([tool("amtool"), "check-config", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(path.read_text())
    default = next(r for r in config["receivers"] if r["name"] == "default")
    assert default["webhook_configs"][0]["url"] == "https://hooks.example.net/fdp"
    assert default["email_configs"] == [{"to": "oncall@example.net", "send_resolved": True}]
    assert config["global"]["smtp_smarthost"] == "smtp.example.net:587"
    assert config["route"]["routes"][0]["receiver"] == "pager"
    assert config["route"]["group_by"] == ["alertname", "component"]
    sources = [rule["source_matchers"] for rule in config["inhibit_rules"]]
    assert ['alertname="FdpHostDown"'] in sources


def test_alertmanager_peers_cluster_over_tls_with_each_other(rendered):
    _, out, _ = rendered
    args = {h: yaml.safe_load((out / f"alertmanager-{h}.args").read_text()) for h in ("mon1", "mon2")}
    assert "--cluster.peer=198.51.100.12:9094" in args["mon1"]
    assert "--cluster.peer=198.51.100.11:9094" in args["mon2"]
    assert "--cluster.listen-address=198.51.100.11:9094" in args["mon1"]
    assert all(any(a.startswith("--cluster.tls-config=") for a in v) for v in args.values())
    assert not any(a.startswith("--cluster.peer=198.51.100.11") for a in args["mon1"])


@pytest.mark.parametrize(("extra", "message"), [
    ({"alertmanager_email_to": ["a@example.net"]}, "needs alertmanager_smtp.smarthost"),
    ({"alertmanager_routes": [{"receiver": "nobody"}]}, "unknown: nobody"),
    ({"prometheus_extra_rule_files": ["/nonexistent/x.rules.yml"]}, "must name existing controller files"),
    ({"platform_metrics_jobs": {"bad": {"targets": [{"group": "all", "port": "nope"}]}}},
     "not a key of platform_ports"),
])
def test_preflight_refuses_bad_settings(tmp_path, extra, message):
    result, _, _ = render(tmp_path, extra)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
