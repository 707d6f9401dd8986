"""Observability on real lab hosts: Prometheus, Alertmanager and node_exporter from the lab mirror.

The tests run in file order: first the converged state (services, TLS, auth, firewall, every
target up), then the growth of the alertmanager group (pl2 joins: Prometheus picks the new
target up without a restart, the two peers cluster over mutual TLS), then the alert path
(node_exporter stopped on pl2 -> FdpHostDown at Alertmanager and at a test webhook receiver;
started again -> resolved), last Grafana (up to its binary here)."""

from __future__ import annotations

import base64
import configparser
import json
import os
import ssl
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import testinfra
import yaml
from fdp_testinfra import changed_tasks, playbook, recap_changed, wait_for

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
INV_DIR = Path(INVENTORY).parent
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
NET = "10.231.50"
ADDR = {"pl1": f"{NET}.11", "pl2": f"{NET}.12", "pl3": f"{NET}.13", "pl4": f"{NET}.14"}
CONTROLLER = f"{NET}.1"
WEBHOOK_PORT = 19093  # the scenario's alertmanager_webhooks URL
PORTS = yaml.safe_load((PROJECT / "roles/platform/defaults/main/ports.yml").read_text())["platform_ports"]
PROM = f"https://{ADDR['pl1']}:{PORTS['prometheus_web']['port']}"
AM_PORT = PORTS["alertmanager_web"]["port"]
NODE_PORT = PORTS["node_exporter"]["port"]
MIRROR = Path("/var/cache/fdp-lab/mirror")
GRAFANA_REAL = (MIRROR / "grafana").is_dir()
# Jobs whose server binary the lab mirror may lack: their targets exist (from the inventory) and
# are down until the mirror holds trino_server, kafka or grafana.
REAL = {"grafana": GRAFANA_REAL, "trino": (MIRROR / "trino_server").is_dir(), "kafka": (MIRROR / "kafka").is_dir()}
SERVERS = ("pl1", "pl2", "pl3")


def counted(target: dict) -> bool:
    return REAL.get(target["labels"]["job"], True)
# Rule FdpHostDown: for 1m; scrape and evaluation every 5 s, group_wait 5 s (molecule.yml).
HOST_DOWN_DEADLINE = 60 + 5 + 5 + 5 + 30  # for + scrape + evaluation + group_wait + margin


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


HOSTS = {name: get(name) for name in ADDR}


def secret(name: str) -> str:
    return (INV_DIR / "credentials" / name).read_text().strip()


def context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(INV_DIR / "pki" / "ca.crt"))


def request(url: str, user: str | None = "admin", password: str | None = None, method: str = "GET",
            data: bytes | None = None, timeout: float = 10):
    req = urllib.request.Request(url, method=method, data=data)
    if user:
        if password is None:
            password = secret(f"{'alertmanager' if f':{AM_PORT}' in url else 'prometheus'}_admin_password")
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, context=context() if url.startswith("https") else None,
                                timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def prom(path: str):
    return request(PROM + path)


def active_targets():
    return prom("/api/v1/targets?state=active")["data"]["activeTargets"]


def main_pid(host, unit: str) -> str:
    return host.check_output(f"systemctl show -p MainPID --value {unit}")


# --- converged state ------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "unit", "user"), [
    ("pl1", "prometheus", "prometheus"), ("pl1", "alertmanager", "alertmanager"),
    ("pl1", "node_exporter", "node_exporter"), ("pl2", "node_exporter", "node_exporter"),
    ("pl3", "node_exporter", "node_exporter"), ("pl4", "node_exporter", "node_exporter")])
def test_services_run_under_their_own_accounts(name, unit, user):
    host = HOSTS[name]
    assert host.service(unit).is_running and host.service(unit).is_enabled
    assert host.check_output(f"ps -o user= -p {main_pid(host, unit)}") == user


def test_web_configs_hold_bcrypt_hashes_and_no_password():
    host = HOSTS["pl1"]
    # node_exporter: the scrape user only; Prometheus: people, Grafana and its own scrape (monitor)
    for path, expected in (("/etc/fdp/prometheus/web-config.yml", {"admin", "grafana", "monitor"}),
                           ("/etc/fdp/node_exporter/web-config.yml", {"prometheus"})):
        f = host.file(path)
        assert (f.user, f.mode) == ("root", 0o640)
        config = yaml.safe_load(f.content_string)
        account = path.split("/")[3]  # each service's own copy (service_tls_copies)
        assert config["tls_server_config"]["cert_file"] == f"/etc/fdp/tls/private/{account}/host.crt"
        assert config["tls_server_config"]["key_file"] == f"/etc/fdp/tls/private/{account}/host.key"
        users = config["basic_auth_users"]
        assert set(users) == expected, path
        assert all(h.startswith("$2b$") for h in users.values()), path
        assert secret("metrics_password") not in f.content_string


def test_every_target_is_up_over_https_with_auth():
    """Every job's targets come from the inventory; all answer (Grafana only when it runs)."""
    def all_up():
        targets = [t for t in active_targets() if counted(t)]
        return targets if targets and all(t["health"] == "up" for t in targets) else None
    targets = wait_for(all_up, timeout=90)
    seen = {(t["labels"]["job"], t["labels"]["host"]) for t in targets}
    expected = {("node", "pl1"), ("node", "pl2"), ("node", "pl3"), ("node", "pl4"), ("prometheus", "pl1"),
                ("alertmanager", "pl1"), ("flink", "pl1"), ("flink", "pl2"), ("flink", "pl3")}
    expected |= {("seaweedfs", h) for h in SERVERS}
    expected |= {("kafka", h) for h in SERVERS if REAL["kafka"]} | {("trino", h) for h in SERVERS if REAL["trino"]}
    # the catalog: postgres_exporter on the database host; the metastores' JMX agents when the
    # mirror holds the agent (without it they run without one, and have no target)
    expected |= {("postgresql", "pl3")}
    expected |= {("hive_metastore", h) for h in ("pl2", "pl3") if (MIRROR / "jmx_exporter").is_dir()}
    assert seen == expected
    # SeaweedFS: one target per server process (3 masters, and a volume server, filer and S3
    # gateway per host), told apart by the role label.
    roles = sorted((t["labels"]["host"], t["labels"]["role"]) for t in targets if t["labels"]["job"] == "seaweedfs")
    assert roles == sorted((h, r) for h in SERVERS for r in ("master", "volume", "filer", "s3"))
    for t in targets:
        # the documented plaintext allowlist: SeaweedFS's metrics ports, and Flink's reporters where
        # the mirror holds no JMX exporter agent (flink_jmx_exporter false: the fallback)
        job = t["labels"]["job"]
        plain = job == "seaweedfs" or (job == "flink" and not (MIRROR / "jmx_exporter").is_dir())
        assert t["scrapeUrl"].startswith("http://" if plain else "https://"), t["scrapeUrl"]
        assert t["labels"]["instance"].startswith(t["labels"]["host"] + ":")
    node_roles = {t["labels"]["role"] for t in targets if t["labels"]["job"] == "node"}
    assert node_roles == {"node"}


def test_grafana_target_comes_from_the_inventory():
    """Grafana is scraped where it runs; a Grafana that is not installed (grafana_install false:
    the mirror has no binary) is left out of the scrape jobs like every disabled endpoint, instead
    of a target that is down for good."""
    grafana = [t for t in active_targets() if t["labels"]["job"] == "grafana"]
    assert [t["labels"]["host"] for t in grafana] == (["pl1"] if GRAFANA_REAL else [])


def test_the_platform_rules_are_loaded():
    groups = prom("/api/v1/rules")["data"]["groups"]
    names = {g["name"] for g in groups}
    assert {"fdp-hosts", "fdp-platform", "fdp-flink", "fdp-kafka"} <= names
    rules = {r["name"] for g in groups for r in g["rules"]}
    assert "FdpHostDown" in rules and all(g["rules"] for g in groups)


def test_certificate_expiry_is_exported_for_every_host():
    result = wait_for(lambda: prom("/api/v1/query?query=fdp_tls_certificate_not_after_seconds"
                                   "%7Bkind%3D%22host%22%7D")["data"]["result"], timeout=60)
    by_host = {r["metric"]["host"]: float(r["value"][1]) for r in result}
    assert set(by_host) == {"pl1", "pl2", "pl3", "pl4"}
    assert all(v > time.time() + 300 * 86400 for v in by_host.values())  # 397-day certificates


def refused_without_valid_credentials(url):
    for user, password in ((None, None), ("admin", "wrong-password"), ("prometheus", "x")):
        with pytest.raises(urllib.error.HTTPError) as err:
            request(url, user=user, password=password)
        assert err.value.code == 401


def test_prometheus_refuses_unauthenticated_and_wrong_password_requests():
    refused_without_valid_credentials(PROM + "/api/v1/targets")


def test_the_scrape_credential_opens_no_query_api():
    """The exporters' scrape user (whose password every scrape sends) is refused by the
    Prometheus and Alertmanager APIs; their own accounts (monitor, alerting) are accepted."""
    scrape = secret("metrics_password")
    am = f"https://{ADDR['pl1']}:{AM_PORT}"
    for url in (PROM + "/api/v1/query?query=up", am + "/api/v2/alerts"):
        with pytest.raises(urllib.error.HTTPError) as err:
            request(url, user="prometheus", password=scrape)
        assert err.value.code == 401, url
    assert request(PROM + "/api/v1/query?query=up", user="monitor",
                   password=secret("prometheus_monitor_password"))["status"] == "success"
    assert isinstance(request(am + "/api/v2/alerts", user="alerting",
                              password=secret("alertmanager_alerting_password")), list)


def test_prometheus_refuses_plain_http():
    refused_plain_http(PORTS["prometheus_web"]["port"])


def refused_plain_http(port):
    with pytest.raises(urllib.error.HTTPError) as err:
        request(f"http://{ADDR['pl1']}:{port}/metrics", user="admin", password=secret("prometheus_admin_password"))
    assert err.value.code == 400  # Go's TLS server answers a plaintext request with 400 only


def test_node_exporter_refuses_no_auth_wrong_password_and_plain_http():
    """Only the Prometheus hosts reach node_exporter (firewall), so the probes run on pl1."""
    curl = "curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert /etc/fdp/tls/ca.crt"
    url = f"https://{ADDR['pl2']}:{NODE_PORT}/metrics"
    pl1 = HOSTS["pl1"]
    assert pl1.check_output(f"{curl} {url}") == "401"
    assert pl1.check_output(f"{curl} -u prometheus:wrong {url}") == "401"
    assert pl1.check_output(f"{curl} -u admin:{secret('metrics_password')} {url}") == "401"
    assert pl1.check_output(f"{curl} -u prometheus:{secret('metrics_password')} http://{ADDR['pl2']}:{NODE_PORT}/metrics") \
        == "400"


def test_node_exporter_answers_the_prometheus_host_and_not_the_outsider():
    password = secret("metrics_password")
    probe = (f"curl -sS -o /dev/null -w '%{{http_code}}' --max-time 5 --cacert /etc/fdp/tls/ca.crt "
             f"-u prometheus:{password} https://{ADDR['pl2']}:{NODE_PORT}/metrics")
    assert HOSTS["pl1"].check_output(probe) == "200"
    blocked = HOSTS["pl4"].run(probe)
    assert blocked.rc != 0 and blocked.stdout.strip() in ("", "000")


# --- growth: pl2 joins the alertmanager group -----------------------------------------------

# The site secrets files/grow.yml adds to Alertmanager's receivers.
CANARIES = {"pagerduty routing key": "fdp-canary-routing-key-7f3a9c2d",
            "slack webhook url": "https://hooks.slack.invalid/services/fdp-canary-slack-token-4e1b8a"}


def growth_secrets() -> dict[str, str]:
    """The site canaries and every generated secret of the environment (credentials store).
    The bcrypt and JMX salts are left out: a salt is public by design (it opens every hash)."""
    generated = {str(p.relative_to(INV_DIR)): p.read_text().strip()
                 for p in (INV_DIR / "credentials").rglob("*")
                 if p.is_file() and not p.relative_to(INV_DIR / "credentials").parts[0].endswith("_salt")}
    assert generated and all(len(v) >= 8 for v in generated.values()), "the credentials store is empty"
    return {**CANARIES, **generated}


def test_adding_a_host_to_a_group_needs_no_prometheus_restart_and_clusters_alertmanager():
    prom_pid = main_pid(HOSTS["pl1"], "prometheus")
    # The stages a new alertmanager member needs (preflight always runs): its firewall openings
    # and the monitoring stage; the other stages have nothing to do for a monitoring group.
    grow = ["-i", str(SCENARIO / "files" / "grow.yml"), str(PROJECT / "site.yml"), "--tags", "security,monitoring"]
    # A changing run, as verbose as Ansible gets and with diffs: no site or generated secret may show.
    first = playbook(*grow, "--diff", "-vvv")
    assert first.returncode == 0, first.stdout[-4000:]
    leaked = [name for name, value in growth_secrets().items() if value in first.stdout + first.stderr]
    assert leaked == [], f"secrets in the --diff -vvv output: {leaked}"
    assert "service : Render the configuration files - alertmanager" in changed_tasks(first.stdout), \
        "the run did not change the secret-bearing config"
    for name in ("pl1", "pl2"):
        config = HOSTS[name].file("/etc/fdp/alertmanager/alertmanager.yml").content_string
        assert all(value in config for value in CANARIES.values()), name
    second = playbook(*grow)
    assert second.returncode == 0, second.stdout[-4000:]
    assert set(recap_changed(second.stdout).values()) == {0}, second.stdout[-4000:]

    # The new target reaches Prometheus through its watched target files: no restart.
    assert main_pid(HOSTS["pl1"], "prometheus") == prom_pid, "Prometheus was restarted"
    wait_for(lambda: {t["labels"]["host"] for t in active_targets()
                      if t["labels"]["job"] == "alertmanager" and t["health"] == "up"} == {"pl1", "pl2"})
    wait_for(lambda: len(prom("/api/v1/alertmanagers")["data"]["activeAlertmanagers"]) == 2)

    def peers():
        status = request(f"https://{ADDR['pl1']}:{AM_PORT}/api/v2/status")
        cluster = status["cluster"]
        return cluster if cluster["status"] == "ready" and len(cluster["peers"]) == 2 else None
    cluster = wait_for(peers, timeout=90)
    assert {p["address"].split(":")[0] for p in cluster["peers"]} == {ADDR["pl1"], ADDR["pl2"]}
    args = HOSTS["pl2"].check_output("tr '\\0' ' ' < /proc/%s/cmdline" % main_pid(HOSTS["pl2"], "alertmanager"))
    assert "--cluster.tls-config=" in args and f"--cluster.peer={ADDR['pl1']}:" in args


@pytest.mark.parametrize("name", ["pl1", "pl2"])
def test_alertmanager_runs_under_its_account_with_a_hashed_web_config(name):
    host = HOSTS[name]
    assert host.service("alertmanager").is_running and host.service("alertmanager").is_enabled
    assert host.check_output(f"ps -o user= -p {main_pid(host, 'alertmanager')}") == "alertmanager"
    config = yaml.safe_load(host.file("/etc/fdp/alertmanager/web-config.yml").content_string)
    assert set(config["basic_auth_users"]) == {"admin", "grafana", "alerting"}
    assert all(h.startswith("$2b$") for h in config["basic_auth_users"].values())


def test_alertmanager_refuses_unauthenticated_and_wrong_password_requests():
    refused_without_valid_credentials(f"https://{ADDR['pl2']}:{AM_PORT}/api/v2/status")


def test_alertmanager_refuses_plain_http():
    refused_plain_http(AM_PORT)


def test_gossip_requires_a_client_certificate():
    """The cluster port speaks TLS only and demands a certificate signed by the platform CA."""
    port = PORTS["alertmanager_cluster_tcp"]["port"]
    # stdin stays open for 2 s: with TLS 1.3 the server's "certificate required" alert comes after
    # the client's side of the handshake, and a client that quits at once (</dev/null) may not read it.
    no_cert = HOSTS["pl2"].run(f"sleep 2 | timeout 10 openssl s_client -connect {ADDR['pl1']}:{port} "
                               "-CAfile /etc/fdp/tls/ca.crt -verify_return_error -brief")
    with_cert = HOSTS["pl2"].run(f"openssl s_client -connect {ADDR['pl1']}:{port} -CAfile /etc/fdp/tls/ca.crt "
                                 "-cert /etc/fdp/tls/host.crt -key /etc/fdp/tls/host.key -verify_return_error "
                                 "-brief </dev/null")
    assert "Verification: OK" in with_cert.stderr + with_cert.stdout
    assert "CONNECTION ESTABLISHED" in with_cert.stderr + with_cert.stdout
    # Without a client certificate the server aborts the connection with an alert.
    assert no_cert.rc != 0 or "alert" in (no_cert.stderr + no_cert.stdout).lower(), no_cert.stderr


# --- the alert path -------------------------------------------------------------------------

class Receiver(BaseHTTPRequestHandler):
    notifications: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.notifications.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def webhook():
    server = ThreadingHTTPServer((CONTROLLER, WEBHOOK_PORT), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Receiver.notifications
    server.shutdown()
    server.server_close()


def host_down_notifications(notifications, status):
    return [a for n in notifications for a in n["alerts"]
            if a["labels"].get("alertname") == "FdpHostDown" and a["labels"].get("host") == "pl2"
            and a["status"] == status]


def test_stopping_node_exporter_fires_fdphostdown_to_alertmanager_and_the_webhook(webhook):
    HOSTS["pl2"].run("systemctl stop node_exporter")
    stopped = time.time()
    try:
        notified = wait_for(lambda: host_down_notifications(webhook, "firing"), timeout=HOST_DOWN_DEADLINE, step=1)
        elapsed = time.time() - stopped
        assert notified[0]["labels"]["severity"] == "critical"
        assert notified[0]["annotations"]["runbook"].endswith("#fdphostdown")
        assert elapsed >= 55, f"fired after {elapsed:.0f}s, before the rule's for: 1m"
        # Both peers hold it (the cluster), and Alertmanager's API shows it.
        for name in ("pl1", "pl2"):
            alerts = request(f"https://{ADDR[name]}:{AM_PORT}/api/v2/alerts?filter=alertname%3D%22FdpHostDown%22")
            assert [a["labels"]["host"] for a in alerts] == ["pl2"], name
    finally:
        HOSTS["pl2"].run("systemctl start node_exporter")
    wait_for(lambda: host_down_notifications(webhook, "resolved"), timeout=90, step=1)


def test_all_targets_are_up_again():
    wait_for(lambda: all(t["health"] == "up" for t in active_targets() if counted(t)), timeout=60)


# --- Grafana ----------------------------------------------------------------------------------

def test_grafana_is_configured_up_to_its_binary():
    host = HOSTS["pl1"]
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(host.file("/etc/fdp/grafana/grafana.ini").content_string)
    assert ini["server"]["protocol"] == "https"
    assert ini["server"]["http_port"] == str(PORTS["grafana_web"]["port"])
    assert ini["auth.anonymous"]["enabled"] == "false"
    assert "$__file{" in ini["security"]["admin_password"]
    datasources = yaml.safe_load(host.file("/etc/fdp/grafana/provisioning/datasources/fdp.yaml").content_string)
    uids = {d["uid"]: d for d in datasources["datasources"]}
    assert uids["fdp-prometheus"]["url"] == PROM
    dashboards = host.check_output("ls /etc/fdp/grafana/dashboards").split()
    assert "fdp-overview.json" in dashboards and len(dashboards) >= 8
    verify = host.run("systemd-analyze verify /etc/systemd/system/grafana.service")
    complaints = [line for line in (verify.stdout + verify.stderr).splitlines() if line.strip()]
    if GRAFANA_REAL:
        assert complaints == []
        assert host.service("grafana").is_running
        health = request(f"https://{ADDR['pl1']}:{PORTS['grafana_web']['port']}/api/health", user=None)
        assert health["database"] == "ok"
    else:
        # Only the binary the mirror lacks may be reported missing.
        assert complaints and all("/opt/fdp/grafana" in line or "grafana.service" in line for line in complaints), \
            complaints
        assert not host.service("grafana").is_enabled
