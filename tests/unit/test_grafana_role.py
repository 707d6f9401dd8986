"""The grafana role rendered by the service skeleton's own configure step (the role's data, the
platform's wiring, a small inventory): grafana.ini, the data source provisioning, the secrets
and the unit say what the platform promises, and the checks refuse overrides of the wiring."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from service_render import render_role

FILES = [
    "etc/fdp/grafana/grafana.ini",
    "etc/fdp/grafana/provisioning/datasources/fdp.yaml",
    "etc/fdp/grafana/provisioning/dashboards/fdp.yaml",
    "etc/systemd/system/grafana.service",
]
INVENTORY = """
all:
  children:
    grafana:
      hosts:
        ops1: {ansible_host: 198.51.100.10}
    prometheus:
      hosts:
        mon1: {ansible_host: 198.51.100.11}
    alertmanager:
      hosts:
        mon2: {ansible_host: 198.51.100.12}
"""


def render(tmp_path: Path, extra_vars: dict | None = None, inventory: str = INVENTORY):
    """The role's files and unit as the service skeleton renders them for host ops1."""
    result, out, creds = render_role(tmp_path, "grafana", inventory, hosts="grafana", extra_vars=extra_vars)
    return result, out / "ops1", creds


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("grafana")
    result, out, creds = render(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return out, creds


def read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_grafana_ini_is_https_only_with_the_host_certificate(rendered):
    ini = read_ini(rendered[0] / FILES[0])
    assert ini["server"]["protocol"] == "https"
    assert ini["server"]["http_port"] == "3000"
    assert ini["server"]["cert_file"] == "/etc/fdp/tls/private/grafana/host.crt"
    assert ini["server"]["cert_key"] == "/etc/fdp/tls/private/grafana/host.key"
    assert ini["server"]["domain"] == "198.51.100.10"
    assert ini["server"]["root_url"] == "https://198.51.100.10:3000/"


def test_grafana_ini_locks_the_doors(rendered):
    ini = read_ini(rendered[0] / FILES[0])
    assert ini["auth.anonymous"]["enabled"] == "false"
    assert ini["users"]["allow_sign_up"] == "false"
    assert ini["security"]["cookie_secure"] == "true"
    assert ini["security"]["disable_gravatar"] == "true"
    for key in ("reporting_enabled", "check_for_updates", "check_for_plugin_updates"):
        assert ini["analytics"][key] == "false"
    assert ini["log"]["mode"] == "console"
    assert ini["paths"]["data"] == "/var/lib/fdp/grafana"
    assert ini["paths"]["logs"] == "/var/log/fdp/grafana"
    assert ini["paths"]["provisioning"] == "/etc/fdp/grafana/provisioning"


def test_secrets_are_file_references_never_values(rendered):
    out, creds = rendered
    ini = read_ini(out / FILES[0])
    assert ini["security"]["admin_user"] == "admin"
    assert ini["security"]["admin_password"] == "$__file{/etc/fdp/grafana/secrets/admin_password}"
    assert ini["security"]["secret_key"] == "$__file{/etc/fdp/grafana/secrets/secret_key}"
    assert ini["metrics"]["enabled"] == "true"
    assert ini["metrics"]["basic_auth_username"] == "prometheus"
    assert ini["metrics"]["basic_auth_password"] == "$__file{/etc/fdp/grafana/secrets/metrics_password}"
    text = "".join((out / t).read_text(encoding="utf-8") for t in FILES)
    secrets = {p.name: p.read_text(encoding="utf-8") for p in (out / "etc/fdp/grafana/secrets").iterdir()}
    assert set(secrets) == {"admin_password", "secret_key", "metrics_password", "prometheus_password",
                            "alertmanager_password"}
    for name, value in secrets.items():
        assert len(value) == 32 and value.isalnum(), name
        assert value not in text, f"{name} leaked into a rendered file"
    # The shared ones are the files the other roles generate too.
    assert secrets["metrics_password"] == (creds / "metrics_password").read_text(encoding="utf-8").split()[0]
    assert secrets["prometheus_password"] == (creds / "prometheus_grafana_password").read_text(encoding="utf-8").split()[0]


def test_datasources_are_verified_https_with_basic_auth(rendered):
    config = yaml.safe_load((rendered[0] / FILES[1]).read_text(encoding="utf-8"))
    assert config["apiVersion"] == 1 and config["prune"] is True
    by_uid = {d["uid"]: d for d in config["datasources"]}
    prometheus = by_uid["fdp-prometheus"]
    assert prometheus["type"] == "prometheus" and prometheus["isDefault"] is True
    assert prometheus["url"] == "https://198.51.100.11:9090"
    assert prometheus["basicAuth"] is True and prometheus["basicAuthUser"] == "grafana"
    assert prometheus["secureJsonData"]["basicAuthPassword"] == "$__file{/etc/fdp/grafana/secrets/prometheus_password}"
    assert prometheus["jsonData"]["tlsAuthWithCACert"] is True
    assert prometheus["secureJsonData"]["tlsCACert"] == "$__file{/etc/fdp/tls/ca.crt}"
    alertmanager = by_uid["fdp-alertmanager"]
    assert alertmanager["type"] == "alertmanager" and alertmanager["jsonData"]["implementation"] == "prometheus"
    assert alertmanager["url"] == "https://198.51.100.12:9095"
    assert alertmanager["secureJsonData"]["basicAuthPassword"] == "$__file{/etc/fdp/grafana/secrets/alertmanager_password}"
    assert [d for d in config["datasources"] if d.get("isDefault")] == [prometheus]


def test_dashboard_provider_is_read_only_files(rendered):
    config = yaml.safe_load((rendered[0] / FILES[2]).read_text(encoding="utf-8"))
    (provider,) = config["providers"]
    assert provider["type"] == "file" and provider["folder"] == "FOSS Data Platform"
    assert provider["options"]["path"] == "/etc/fdp/grafana/dashboards"
    assert provider["allowUiUpdates"] is False and provider["disableDeletion"] is True
    assert provider["updateIntervalSeconds"] == 30


def unit_service(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8").replace(" \\\n    ", " "))
    return dict(parser["Service"])


def test_unit_runs_the_artifact_as_grafana(rendered):
    service = unit_service(rendered[0] / FILES[3])
    assert service["User"] == "grafana"
    assert service["ExecStart"].startswith("/opt/fdp/grafana/bin/grafana server ")
    assert "--config=/etc/fdp/grafana/grafana.ini" in service["ExecStart"]
    assert "--homepath=/opt/fdp/grafana" in service["ExecStart"]
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "true"
    assert set(service["ReadWritePaths"].split()) == {"/var/lib/fdp/grafana", "/var/log/fdp/grafana"}
    assert service["CapabilityBoundingSet"] == ""


BINARY = "/opt/fdp/grafana/bin/grafana"


def verify_complaints(unit: Path) -> list[str]:
    """What systemd-analyze verify says about a unit, minus the binary this machine lacks."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    result = subprocess.run([analyze, "verify", "--man=no", str(unit)],
                            capture_output=True, text=True, check=False, timeout=60)
    return [line for line in (result.stdout + result.stderr).splitlines()
            if line.strip() and not (BINARY in line and ("is not executable" in line or "No such file" in line))]


def test_unit_passes_systemd_analyze_verify_but_for_the_missing_binary(rendered, tmp_path):
    unit = tmp_path / "grafana.service"
    shutil.copy(rendered[0] / FILES[3], unit)
    complaints = verify_complaints(unit)
    assert not complaints, "\n".join(complaints)


def test_systemd_analyze_verify_would_catch_a_broken_unit(rendered, tmp_path):
    unit = tmp_path / "grafana.service"
    text = (rendered[0] / FILES[3]).read_text(encoding="utf-8")
    unit.write_text(text.replace("[Service]\n", "[Service]\nProtectSystem=sometimes\nHardening=yes\n"),
                    encoding="utf-8")
    complaints = "\n".join(verify_complaints(unit))
    assert "sometimes" in complaints and "Hardening" in complaints


def test_no_alertmanager_means_only_prometheus(tmp_path):
    inventory = """
    all:
      children:
        grafana:
          hosts:
            ops1: {ansible_host: 198.51.100.10}
        prometheus:
          hosts:
            ops1: {}
    """
    result, out, _ = render(tmp_path, inventory=inventory)
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((out / FILES[1]).read_text(encoding="utf-8"))
    assert [d["uid"] for d in config["datasources"]] == ["fdp-prometheus"]
    assert config["datasources"][0]["url"] == "https://198.51.100.10:9090"


def test_overrides_win_and_null_removes(tmp_path):
    overrides = {"grafana_ini_overrides": {"auth.anonymous": {"enabled": True, "org_role": "Viewer"},
                                           "snapshots": None, "security": {"disable_gravatar": None}}}
    result, out, _ = render(tmp_path, overrides)
    assert result.returncode == 0, result.stdout + result.stderr
    ini = read_ini(out / FILES[0])
    assert ini["auth.anonymous"]["enabled"] == "true" and ini["auth.anonymous"]["org_role"] == "Viewer"
    assert "snapshots" not in ini
    assert "disable_gravatar" not in ini["security"] and ini["security"]["cookie_secure"] == "true"


@pytest.mark.parametrize("overrides, owned", [
    ({"server": {"protocol": "http"}}, "server.protocol"),
    ({"security": {"admin_password": "admin"}}, "security.admin_password"),
    ({"paths": None}, "paths.data"),
])
def test_preflight_refuses_overrides_of_the_wiring(tmp_path, overrides, owned):
    result, _, _ = render(tmp_path, {"grafana_ini_overrides": overrides})
    assert result.returncode != 0
    assert owned in result.stdout and "which the platform owns" in result.stdout


def test_preflight_needs_a_prometheus(tmp_path):
    inventory = """
    all:
      children:
        grafana:
          hosts:
            ops1: {ansible_host: 198.51.100.10}
    """
    result, _, _ = render(tmp_path, inventory=inventory)
    assert result.returncode != 0
    assert "the inventory group\nprometheus is empty" in result.stdout or "prometheus is empty" in result.stdout
