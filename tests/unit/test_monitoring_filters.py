"""Filters of the observability roles (ansible/plugins/filter/fdp_monitoring.py) and the
certificate metrics writer of node_exporter, checked with the real promtool where it applies."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "ansible" / "plugins" / "filter"))
import fdp_monitoring as m  # noqa: E402
from fdp_endpoints import metrics_jobs  # noqa: E402
from helpers import platform_default  # noqa: E402

PLATFORM = REPO / "roles" / "platform" / "defaults" / "main"
PORTS = yaml.safe_load((PLATFORM / "ports.yml").read_text())["platform_ports"]
# The scrape jobs the endpoint registry implies (what platform_metrics_jobs defaults to).
JOBS = metrics_jobs(platform_default("endpoints", "platform_endpoints"))
GROUPS = {
    "all": ["h1", "h2", "h3"],
    "prometheus": ["h1"],
    "alertmanager": ["h1", "h2"],
    "flink_jobmanager": ["h2"],
    "flink_taskmanager": ["h2", "h3"],
    "kafka_broker": [],
}
HOSTVARS = {"h1": {"ansible_host": "10.0.0.1"}, "h2": {"ansible_host": "10.0.0.2"}, "h3": {}}


def promtool() -> str:
    path = os.environ.get("FDP_PROMTOOL") or str(REPO / ".tools" / "bin" / "promtool")
    if not Path(path).is_file():
        pytest.fail("promtool missing: run scripts/tools (make tools)")
    return path


def self_signed(tmp_path: Path, name: str = "h1", days: int = 30) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    crt, pem = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


SALT_A, SALT_B = "abcdefghijklmnopqrstuv", "./ABCDEFGHIJKLMNOPQRSu"


def test_bcrypt_hash_verifies_is_stable_and_changes_with_password_or_salt():
    first = m.bcrypt_hash("s3cret-password", SALT_A, cost=4)
    assert first.startswith("$2b$04$")
    assert bcrypt.checkpw(b"s3cret-password", first.encode())
    assert m.bcrypt_hash("s3cret-password", SALT_A, cost=4) == first  # re-runs change nothing
    assert m.bcrypt_hash("s3cret-password", SALT_B, cost=4) != first
    assert m.bcrypt_hash("other-password", SALT_A, cost=4) != first
    assert not bcrypt.checkpw(b"wrong", first.encode())


def test_bcrypt_salt_reveals_nothing_about_the_password():
    # the stored salt is the given random one (its unused low bits cleared), not derived from
    # the password: two passwords with one salt share it, the hash differs
    one, two = m.bcrypt_hash("password-one", SALT_A, 4), m.bcrypt_hash("password-two", SALT_A, 4)
    assert one[7:28] == two[7:28] == SALT_A[:21]
    assert one != two


def test_bcrypt_accepts_every_generated_salt_shape():
    # the credentials mechanism draws 22 characters of bcrypt's alphabet at random; bcrypt
    # rejects a last character with its unused bits set unless they are cleared
    for last in "./AZaz09u9":
        assert bcrypt.checkpw(b"pw", m.bcrypt_hash("pw", SALT_A[:21] + last, 4).encode())


@pytest.mark.parametrize(("password", "salt", "cost"), [("", SALT_A, 10), ("x", SALT_A, 3), ("x", SALT_A, 32),
                                                        ("x", "short", 10), ("x", "!" * 22, 10)])
def test_bcrypt_hash_rejects_bad_input(password, salt, cost):
    with pytest.raises(AnsibleFilterError):
        m.bcrypt_hash(password, salt, cost)


def test_web_config_passes_promtool_and_holds_no_password(tmp_path):
    crt, key = self_signed(tmp_path)
    config = m.web_config({"admin": "a-password", "prometheus": "p-password"}, str(crt), str(key),
                          salts={"admin": SALT_A, "prometheus": SALT_B}, cost=4)
    assert config["tls_server_config"] == {"cert_file": str(crt), "key_file": str(key), "min_version": "TLS12"}
    assert set(config["basic_auth_users"]) == {"admin", "prometheus"}
    path = tmp_path / "web-config.yml"
    path.write_text(yaml.safe_dump(config))
    assert "a-password" not in path.read_text()
    result = subprocess.run([promtool(), "check", "web-config", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_web_config_with_client_certificates_and_missing_salts():
    config = m.web_config({"u": "p"}, "/c", "/k", salts={"u": SALT_A}, client_ca_file="/ca", cost=4)
    assert config["tls_server_config"]["client_auth_type"] == "RequireAndVerifyClientCert"
    with pytest.raises(AnsibleFilterError):
        m.web_config({}, "/c", "/k")
    with pytest.raises(AnsibleFilterError, match="no salt for u"):
        m.web_config({"u": "p"}, "/c", "/k")


def test_scrape_targets_come_from_the_inventory_with_host_role_and_instance_labels():
    targets = m.scrape_targets(JOBS, GROUPS, HOSTVARS, PORTS)
    assert set(targets) == {"node", "prometheus", "alertmanager", "flink"}  # empty groups left out
    assert targets["node"] == [
        {"targets": ["10.0.0.1:9100"], "labels": {"host": "h1", "role": "node", "instance": "h1:9100"}},
        {"targets": ["10.0.0.2:9100"], "labels": {"host": "h2", "role": "node", "instance": "h2:9100"}},
        {"targets": ["h3:9100"], "labels": {"host": "h3", "role": "node", "instance": "h3:9100"}},
    ]
    flink = {(t["labels"]["host"], t["labels"]["role"], t["targets"][0]) for t in targets["flink"]}
    jm, tm = PORTS["flink_jobmanager_metrics"]["port"], PORTS["flink_taskmanager_metrics"]["port"]
    assert flink == {("h2", "flink_jobmanager", f"10.0.0.2:{jm}"), ("h2", "flink_taskmanager", f"10.0.0.2:{tm}"),
                     ("h3", "flink_taskmanager", f"h3:{tm}")}


@pytest.mark.parametrize(("job", "message"), [
    ({"targets": []}, "non-empty 'targets'"),
    ({"targets": [{"group": "x", "port": "nope"}]}, "not a key of platform_ports"),
    ({"targets": [{"group": "x"}]}, "needs 'group' and 'port'"),
    ({"auth": "digest", "targets": [{"group": "x", "port": "node_exporter"}]}, "auth must be one of"),
    ({"auth": "bearer", "targets": [{"group": "x", "port": "node_exporter"}]}, "needs 'credential'"),
    ({"scheme": "ftp", "targets": [{"group": "x", "port": "node_exporter"}]}, "scheme must be http or https"),
])
def test_scrape_targets_reject_bad_jobs(job, message):
    with pytest.raises(AnsibleFilterError, match=message):
        m.scrape_targets({"bad": job}, GROUPS, HOSTVARS, PORTS)


def test_every_declared_job_uses_a_metrics_port_of_the_matrix_open_to_prometheus():
    for name, job in JOBS.items():
        for target in job["targets"]:
            port = PORTS[target["port"]]
            assert "prometheus" in port["from_groups"] or port.get("client"), (name, target)
            assert (job.get("scheme", "https") == "https") == port["tls"], (name, target)


def test_generated_prometheus_config_passes_promtool(tmp_path):
    """The same structure roles/prometheus/templates/.../prometheus.yml.j2 renders."""
    sd = tmp_path / "targets"
    sd.mkdir()
    targets = m.scrape_targets(JOBS, dict(GROUPS, minio=["h1"]), HOSTVARS, PORTS)
    for job, groups in targets.items():
        (sd / f"{job}.yml").write_text(yaml.safe_dump(groups))
    (tmp_path / "ca.crt").write_text("")
    (tmp_path / "metrics_password").write_text("x")
    configs = m.scrape_configs(targets, JOBS, str(sd), str(tmp_path / "ca.crt"), "prometheus",
                               str(tmp_path / "metrics_password"), str(tmp_path))
    by_job = {c["job_name"]: c for c in configs}
    # Flink through its metrics agents (HTTPS, the scrape user); plain HTTP only with the fallback reporter
    assert by_job["flink"]["scheme"] == "https" and by_job["flink"]["basic_auth"]["username"] == "prometheus"
    fallback_jobs = metrics_jobs(platform_default("endpoints", "platform_endpoints", flink_jmx_exporter=False))
    fallback = m.scrape_configs(m.scrape_targets(fallback_jobs, GROUPS, HOSTVARS, PORTS), fallback_jobs, str(sd),
                                str(tmp_path / "ca.crt"), "prometheus", str(tmp_path / "metrics_password"), str(tmp_path))
    fallback_flink = next(c for c in fallback if c["job_name"] == "flink")
    assert fallback_flink["scheme"] == "http" and "basic_auth" not in fallback_flink
    assert by_job["node"]["basic_auth"]["username"] == "prometheus"
    assert by_job["minio"]["authorization"]["credentials_file"] == str(tmp_path / "minio_prometheus_token")
    # Prometheus and Alertmanager are scraped as web users of their own, not as the scrape user.
    assert by_job["prometheus"]["basic_auth"] == {"username": "monitor",
                                                  "password_file": str(tmp_path / "prometheus_monitor_password")}
    assert by_job["alertmanager"]["basic_auth"] == {"username": "alerting",
                                                    "password_file": str(tmp_path / "alertmanager_alerting_password")}
    assert m.scrape_credentials(targets, JOBS) == ["alertmanager_alerting_password", "minio_prometheus_token",
                                                   "prometheus_monitor_password"]
    for name in m.scrape_credentials(targets, JOBS):
        (tmp_path / name).write_text("t")
    config = {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "scrape_configs": configs,
        "alerting": {"alertmanagers": [{"scheme": "https", "tls_config": {"ca_file": str(tmp_path / "ca.crt")},
                                        "file_sd_configs": [{"files": [str(sd / "alertmanager.yml")]}]}]},
    }
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run([promtool(), "check", "config", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_addresses():
    assert m.addresses(["h1", "h3"], HOSTVARS) == ["10.0.0.1", "h3"]


def test_certificate_metrics_writer_exports_every_certificate_of_a_bundle(tmp_path):
    host, _ = self_signed(tmp_path, "h1", days=30)
    ca1, _ = self_signed(tmp_path, "ca-old", days=10)
    ca2, _ = self_signed(tmp_path, "ca-new", days=3650)
    bundle = tmp_path / "ca.crt"
    bundle.write_text(ca1.read_text() + ca2.read_text())
    out = tmp_path / "fdp_tls.prom"
    script = REPO / "roles" / "node_exporter" / "files" / "fdp-tls-metrics"
    result = subprocess.run([sys.executable, str(script), str(out), f"host={host}", f"ca={bundle}",
                             f"missing={tmp_path / 'nope.crt'}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    lint = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    expiry = [line for line in text.splitlines() if line.startswith("fdp_tls_certificate_not_after_seconds{")]
    assert len(expiry) == 3
    assert any('kind="ca"' in line and 'subject="ca-old"' in line for line in expiry)
    in_30_days = datetime.datetime.now(datetime.timezone.utc).timestamp() + 30 * 86400
    host_line = next(line for line in expiry if 'kind="host"' in line)
    assert abs(float(host_line.rsplit(" ", 1)[1]) - in_30_days) < 120
    assert f'fdp_tls_certificate_check_success{{kind="missing",path="{tmp_path / "nope.crt"}"}} 0' in text
    assert f'fdp_tls_certificate_check_success{{kind="host",path="{host}"}} 1' in text


@pytest.mark.parametrize("job, message", [
    ({"auth": "basic", "user": "monitor"}, "auth basic takes 'user' and 'credential' together"),
    ({"auth": "basic", "credential": "x_password"}, "auth basic takes 'user' and 'credential' together"),
    ({"auth": "bearer"}, "auth bearer needs 'credential'"),
])
def test_a_job_with_half_a_login_is_refused(job, message):
    jobs = {"j": dict(job, targets=[{"group": "prometheus", "port": "prometheus_web"}])}
    with pytest.raises(AnsibleFilterError, match=message):
        m.scrape_configs(m.scrape_targets(jobs, GROUPS, HOSTVARS, PORTS), jobs, "/sd", "/ca", "prometheus", "/pw", "/c")
