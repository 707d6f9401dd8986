"""The prometheus and alertmanager roles as the service skeleton's own configure step renders
them from the role data and a small inventory, checked by the real promtool and amtool; and
their preflight refusing bad settings before any host is touched."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import bcrypt
import pytest
import yaml

from helpers import REPO
from service_render import render_role

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
    """Both roles as the service skeleton renders them, then the configuration directory of
    mon1 copied to where its files point (platform_config_dir), for promtool and amtool."""
    conf, tls = tmp_path / "etc", tmp_path / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    (tls / "ca.crt").write_text("")
    # Each account's own copy of the host key and certificate (service_tls_copies).
    for account in ("prometheus", "alertmanager"):
        (tls / "private" / account).mkdir(parents=True, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=mon1", "-days", "1",
                        "-keyout", str(tls / "private" / account / "host.key"),
                        "-out", str(tls / "private" / account / "host.crt")], check=True, capture_output=True)
    # One credentials store for both roles, as in one environment.
    variables = {"platform_config_dir": str(conf), "platform_tls_dir": str(tls),
                 "platform_credentials_dir": str(tmp_path / "credentials"), **(extra or {})}
    for role in ("prometheus", "alertmanager"):
        result, out, _ = render_role(tmp_path / role, role, INVENTORY, hosts=role, extra_vars=variables)
        if result.returncode != 0:
            return result, out, conf
        if (out / "mon1" / str(conf).lstrip("/")).is_dir():
            shutil.copytree(out / "mon1" / str(conf).lstrip("/"), conf, dirs_exist_ok=True)
    return result, tmp_path, conf


def exec_start(unit: Path) -> list[str]:
    line = next(l for l in unit.read_text().replace(" \\\n    ", " ").splitlines() if l.startswith("ExecStart="))
    return line.split("=", 1)[1].split()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("monitoring")
    result, out, conf = render(tmp_path, ROUTING)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return tmp_path, out, conf


def test_prometheus_config_passes_promtool_with_the_platform_rules(rendered):
    _, _, conf = rendered
    rules = sorted(p.name for p in (conf / "prometheus" / "rules").iterdir())
    assert rules == sorted(p.name for p in (REPO / "roles/prometheus/files/rules").glob("*.rules.yml"))
    assert (conf / "prometheus" / "secrets" / "metrics_password").read_text()
    result = subprocess.run([tool("promtool"), "check", "config", str(conf / "prometheus" / "prometheus.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
    result = subprocess.run([tool("promtool"), "check", "web-config", str(conf / "prometheus" / "web-config.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_scrapes_the_inventory_and_alerts_every_alertmanager(rendered):
    _, _, conf = rendered
    config = yaml.safe_load((conf / "prometheus" / "prometheus.yml").read_text())
    jobs = {c["job_name"]: c for c in config["scrape_configs"]}
    assert set(jobs) == {"node", "prometheus", "alertmanager", "flink"}
    assert config["global"]["external_labels"] == {"environment": "test"}
    assert len(config["rule_files"]) == len(list((REPO / "roles/prometheus/files/rules").glob("*.rules.yml")))
    am = config["alerting"]["alertmanagers"][0]
    assert am["scheme"] == "https" and am["basic_auth"]["username"] == "alerting"
    assert am["file_sd_configs"][0]["files"] == [f"{conf}/prometheus/targets/alertmanager.yml"]
    targets = yaml.safe_load((conf / "prometheus" / "targets" / "alertmanager.yml").read_text())
    assert [t["targets"] for t in targets] == [["198.51.100.11:9095"], ["198.51.100.12:9095"]]


def test_each_monitoring_account_opens_only_its_own_door(rendered):
    """The exporters' scrape user is no web user of Prometheus or Alertmanager; Prometheus sends
    alerts (and scrapes Alertmanager) as alerting, scrapes itself as monitor, and the password
    files it holds open exactly those hashes."""
    _, _, conf = rendered
    prom_users = yaml.safe_load((conf / "prometheus" / "web-config.yml").read_text())["basic_auth_users"]
    am_users = yaml.safe_load((conf / "alertmanager" / "web-config.yml").read_text())["basic_auth_users"]
    assert set(prom_users) == {"admin", "grafana", "monitor"}
    assert set(am_users) == {"admin", "grafana", "alerting"}
    config = yaml.safe_load((conf / "prometheus" / "prometheus.yml").read_text())
    logins = {c["job_name"]: c.get("basic_auth") for c in config["scrape_configs"]}
    logins["(alerts)"] = config["alerting"]["alertmanagers"][0]["basic_auth"]
    users = {"prometheus": prom_users, "alertmanager": am_users, "(alerts)": am_users}
    for job, web_users in users.items():
        login = logins[job]
        password = Path(login["password_file"]).read_text().encode()
        assert bcrypt.checkpw(password, web_users[login["username"]].encode()), job
    scrape = logins["node"]
    assert scrape["username"] not in prom_users and scrape["username"] not in am_users
    scrape_password = Path(scrape["password_file"]).read_text().encode()
    for hashed in [*prom_users.values(), *am_users.values()]:
        assert not bcrypt.checkpw(scrape_password, hashed.encode())


def test_alertmanager_config_passes_amtool_with_webhook_email_and_routes(rendered):
    _, _, conf = rendered
    path = conf / "alertmanager" / "alertmanager.yml"
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
    tmp_path, _, _ = rendered
    args = {h: exec_start(tmp_path / "alertmanager" / "out" / h / "etc/systemd/system/alertmanager.service")
            for h in ("mon1", "mon2")}
    assert "--cluster.peer=198.51.100.12:9094" in args["mon1"]
    assert "--cluster.peer=198.51.100.11:9094" in args["mon2"]
    assert "--cluster.listen-address=198.51.100.11:9094" in args["mon1"]
    assert all(any(a.startswith("--cluster.tls-config=") for a in v) for v in args.values())
    assert not any(a.startswith("--cluster.peer=198.51.100.11") for a in args["mon1"])
    # Gossip takes the peers' certificates only: their names and addresses (the pinned version
    # reads client_allowed_sans), with a client certificate required.
    for host in ("mon1", "mon2"):
        tls = yaml.safe_load((tmp_path / "alertmanager" / "out" / host / str(rendered[2]).lstrip("/")
                              / "alertmanager" / "cluster-tls.yml").read_text())
        assert tls["tls_server_config"]["client_auth_type"] == "RequireAndVerifyClientCert"
        assert sorted(tls["tls_server_config"]["client_allowed_sans"]) == [
            "198.51.100.11", "198.51.100.12", "mon1", "mon2"], host


def test_alertmanager_before_0_26_gets_no_san_list_it_would_refuse_to_start_on(tmp_path):
    """Alertmanager 0.25 parses the cluster TLS file strictly and has no client_allowed_sans
    (exporter-toolkit 0.8): the role leaves the key out for it."""
    result, out, conf = render(tmp_path, {"platform_artifact_overrides": {"alertmanager": {"version": "0.25.0"}}})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    tls = yaml.safe_load((out / "alertmanager" / "out" / "mon1" / str(conf).lstrip("/") / "alertmanager"
                          / "cluster-tls.yml").read_text())
    assert "client_allowed_sans" not in tls["tls_server_config"]
    assert tls["tls_server_config"]["client_auth_type"] == "RequireAndVerifyClientCert"


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
