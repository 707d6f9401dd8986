"""What the flink role ships by default, read from its rendered configuration (the service
skeleton's configure step, as on a host) and from the firewall rules the port matrix gives the
JobManager: no jar uploads through REST unless a site turns them on, and the REST API (which
accepts job graphs in any case: POST /jobs) reachable from the TaskManagers and the admin
networks only, not from the published client networks."""

from __future__ import annotations

import pytest
import yaml
from fdp_security import firewall_rules

from helpers import REPO
from service_render import render_role

INVENTORY = """
all:
  children:
    flink_jobmanager:
      hosts:
        fj1: {ansible_host: 198.51.100.61}
    flink_taskmanager:
      hosts:
        ft2: {ansible_host: 198.51.100.62}
"""
PORTS = yaml.safe_load((REPO / "roles/platform/defaults/main/ports.yml").read_text(encoding="utf-8"))["platform_ports"]


def config(tmp_path, extra=None) -> dict:
    result, out, _ = render_role(tmp_path, "flink", INVENTORY, hosts="flink_jobmanager", facts=True, extra_vars=extra)
    assert result.returncode == 0, result.stdout[-4000:]
    return yaml.safe_load((out / "fj1" / "etc/fdp/flink/config.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def default_config(tmp_path_factory):
    return config(tmp_path_factory.mktemp("flink"))


def test_jar_upload_is_off_by_default(default_config):
    assert default_config["web.submit.enable"] is False
    assert default_config["security.ssl.rest.enabled"] is True


def test_a_site_turns_jar_upload_on_explicitly(tmp_path):
    assert config(tmp_path, {"flink_config_overrides": {"web.submit.enable": True}})["web.submit.enable"] is True


def test_rest_is_for_taskmanagers_and_administrators_not_for_clients():
    groups = {"flink_jobmanager": ["fj1"], "flink_taskmanager": ["ft2"], "all": ["fj1", "ft2"]}
    hostvars = {"fj1": {"ansible_host": "198.51.100.61"}, "ft2": {"ansible_host": "198.51.100.62"}}
    rules = {r["name"]: r for r in firewall_rules(PORTS, "fj1", groups, hostvars, ["203.0.113.0/24"], ["192.0.2.0/24"])}
    assert rules["flink_rest"]["v4"] == ["192.0.2.0/24", "198.51.100.62/32"]


def _certificate(name: str) -> str:
    """A self-signed certificate (PEM) for a name: what a host's host.crt holds, for the pins."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _sha1(pem: str) -> str:
    import hashlib
    import ssl

    return hashlib.sha1(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()  # noqa: S324 - what Flink pins


def test_rest_client_auth_pins_the_flink_hosts_and_the_sites_clients_only(tmp_path):
    """With client certificates on, the REST endpoint (server and Flink's own clients) accepts
    exactly the Flink hosts' certificates (as main.yml reads them from every Flink host) and the
    site's fingerprints - normalized to what Flink compares - not every certificate of the CA."""
    import base64

    hosts = [_certificate("fj1"), _certificate("ft2")]
    operator = _sha1(_certificate("operator"))
    operator_with_colons = ":".join(operator[i:i + 2] for i in range(0, 40, 2)).upper()
    slurped = {"results": [{"item": name, "content": base64.b64encode(pem.encode()).decode()}
                           for name, pem in zip(["fj1", "ft2"], hosts, strict=True)] + [{"item": "gone", "failed": True}]}
    settings = config(tmp_path, {"flink_rest_client_auth": True, "_flink_host_certs": slurped,
                                 "flink_rest_client_fingerprints": [operator_with_colons]})
    assert settings["security.ssl.rest.authentication-enabled"] is True
    pins = settings["security.ssl.rest.cert.fingerprint"].split(",")
    assert pins == sorted([_sha1(hosts[0]), _sha1(hosts[1]), operator])


def test_without_client_auth_nothing_is_pinned(default_config):
    assert default_config["security.ssl.rest.authentication-enabled"] is False
    assert "security.ssl.rest.cert.fingerprint" not in default_config


@pytest.mark.parametrize("bad", ["abc", "zz" * 20, "ab:cd"])
def test_a_malformed_client_fingerprint_is_refused_in_preflight(tmp_path, bad):
    result, _, _ = render_role(tmp_path, "flink", INVENTORY, hosts="flink_jobmanager",
                               extra_vars={"flink_rest_client_auth": True, "flink_rest_client_fingerprints": [bad]})
    assert result.returncode != 0
    assert f"flink_rest_client_fingerprints: {bad} is not a SHA-1 fingerprint" in result.stdout


AGENT = "-javaagent:/opt/fdp/jmx_exporter-1.6.0/jmx_prometheus_javaagent-1.6.0.jar"


def _unit(tmp_path, name: str) -> str:
    """The rendered unit with its continuation lines joined."""
    import re

    text = next((tmp_path / "out").glob(f"*/etc/systemd/system/{name}.service")).read_text(encoding="utf-8")
    return re.sub(r"[ \t]*\\\n[ \t]*", " ", text)


def test_metrics_go_through_the_jmx_agent_by_default(default_config, tmp_path_factory):
    """Issue 12 (12): no plaintext reporter unless asked; each process loads the agent on its own
    metrics port with its own config, after the ZooKeeper client's @argfile when there is one;
    the agent reads its config at start only, so the config's checksum (tasks/metrics.yml) is in
    the unit."""
    assert default_config["metrics.reporter.jmx.factory.class"] == "org.apache.flink.metrics.jmx.JMXReporterFactory"
    assert not [key for key in default_config if key.startswith("metrics.reporter.prom")]
    # no JMX server of its own (jmx.server.port; the reporter's port key is deprecated in 2.1): the agent reads in-process
    assert "jmx.server.port" not in default_config and "metrics.reporter.jmx.port" not in default_config
    jm, tm = PORTS["flink_jobmanager_metrics"]["port"], PORTS["flink_taskmanager_metrics"]["port"]
    assert default_config["env.java.opts.jobmanager"] == f"{AGENT}={jm}:/etc/fdp/jmx_exporter/flink_jobmanager.yml"
    assert default_config["env.java.opts.taskmanager"] == f"{AGENT}={tm}:/etc/fdp/jmx_exporter/flink_taskmanager.yml"
    tmp_path = tmp_path_factory.mktemp("flink-ha")
    with_ha = config(tmp_path, {"flink_high_availability": True, "_flink_metrics_config": {"jobmanager": "abc123"}})
    assert with_ha["env.java.opts.jobmanager"] == (f"@/etc/fdp/flink/zookeeper-client.args "
                                                  f"{AGENT}={jm}:/etc/fdp/jmx_exporter/flink_jobmanager.yml")
    unit = _unit(tmp_path, "flink-jobmanager")
    assert "X-FdpMetricsConfig=abc123" in unit
    assert "-D metrics.internal.query-service.port=" in unit and "metrics.reporter.prom.port" not in unit


def test_the_plaintext_reporter_is_an_explicit_fallback(tmp_path):
    settings = config(tmp_path, {"flink_jmx_exporter": False, "_flink_metrics_config": {"jobmanager": "abc123"}})
    assert settings["metrics.reporter.prom.factory.class"] == "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
    assert not [key for key in settings if key.startswith(("metrics.reporter.jmx", "env.java.opts.jobmanager"))]
    # the reporter's port is the process's metrics port, given on the unit's command line; no agent config
    unit = _unit(tmp_path, "flink-jobmanager")
    assert f"-D metrics.reporter.prom.port={PORTS['flink_jobmanager_metrics']['port']}" in unit
    assert "X-FdpMetricsConfig" not in unit


def test_the_platforms_metrics_and_jvm_wiring_cannot_be_overridden(tmp_path):
    keys = ["env.java.opts.jobmanager", "metrics.reporter.prom.factory.class", "metrics.reporter.prom.port"]
    result, _, _ = render_role(tmp_path, "flink", INVENTORY, hosts="flink_jobmanager", facts=True,
                               extra_vars={"flink_config_overrides": dict.fromkeys(keys, "x")})
    assert result.returncode != 0
    assert all(key in result.stdout for key in keys), result.stdout[-3000:]
