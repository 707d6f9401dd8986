"""The minio role rendered by the service skeleton's own configure step: the environment file (root
credentials, JWT metrics auth, region; overrides within the rules), the unit (one pool of every
host's drives, the certificate directory, upstream's limits, the servers restarting together)
checked by systemd-analyze but for the binary this machine cannot have, and the preflight rules."""

from __future__ import annotations

import pytest

from service_render import render_role, unit_complaints

INVENTORY = """
all:
  children:
    minio:
      hosts:
        m1: {ansible_host: 198.51.100.41, minio_drives: [/mnt/minio1, /mnt/minio2]}
        m2: {ansible_host: 198.51.100.42, minio_drives: [/mnt/minio1, /mnt/minio2]}
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("minio")
    result, out, creds = render_role(tmp, "minio", INVENTORY, hosts="minio",
                                     extra_vars={"minio_env_overrides": {"MINIO_API_REQUESTS_MAX": 800,
                                                                         "MINIO_SCANNER_SPEED": None}})
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    return out, creds


def env(rendered, host="m1") -> dict[str, str]:
    text = (rendered[0] / host / "etc/fdp/minio/minio.env").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_environment_holds_the_generated_root_credentials_and_the_wiring(rendered):
    out, creds = rendered
    values = {k: v.strip('"') for k, v in env(rendered).items()}
    assert values["MINIO_ROOT_USER"] == (creds / "minio_root_user").read_text().strip()
    assert values["MINIO_ROOT_PASSWORD"] == (creds / "minio_root_password").read_text().strip()
    assert values["MINIO_PROMETHEUS_AUTH_TYPE"] == "jwt" and values["MINIO_SITE_REGION"] == "us-east-1"
    assert values["MINIO_API_REQUESTS_MAX"] == "800" and "MINIO_SCANNER_SPEED" not in values


def test_unit_runs_one_pool_with_tls_and_restarts_together(rendered):
    out, _ = rendered
    unit = (out / "m2" / "etc/systemd/system/minio.service").read_text(encoding="utf-8")
    for endpoint in ("https://198.51.100.41:9000/mnt/minio1", "https://198.51.100.41:9000/mnt/minio2",
                     "https://198.51.100.42:9000/mnt/minio1", "https://198.51.100.42:9000/mnt/minio2"):
        assert endpoint in unit
    assert "--certs-dir \\\n    /etc/fdp/minio/certs" in unit.replace("    --certs-dir", "--certs-dir")
    assert "--address \\\n    198.51.100.42:9000" in unit.replace("    --address", "--address")
    assert "LimitNOFILE=1048576" in unit and "User=minio" in unit
    assert "EnvironmentFile=/etc/fdp/minio/minio.env" in unit
    assert "ReadWritePaths=/mnt/minio1 /mnt/minio2" in unit
    assert (out / "m1" / "etc/systemd/system/minio.service").read_text().count(":9000/mnt/") == 4


def test_unit_passes_systemd_analyze_verify_but_for_the_missing_binary(rendered, tmp_path):
    complaints = unit_complaints(rendered[0] / "m1" / "etc/systemd/system/minio.service", tmp_path,
                                 ("/opt/fdp/minio-", "/etc/fdp/minio/minio.env"))
    assert not complaints, "\n".join(complaints)


@pytest.mark.parametrize(("inventory", "extra", "message"), [
    (INVENTORY.replace("minio_drives: [/mnt/minio1, /mnt/minio2]}\n        m2",
                       "minio_drives: [/mnt/minio1]}\n        m2"), {}, "same number of drives"),
    (INVENTORY.replace("[/mnt/minio1, /mnt/minio2]", "[/mnt/minio1]"), {}, "at least 4"),
    (INVENTORY, {"minio_env_overrides": {"MINIO_ROOT_PASSWORD": "x"}}, "MINIO_ROOT_PASSWORD"),
    (INVENTORY, {"minio_env_overrides": {"GOMAXPROCS": 2}}, "not MinIO settings"),
])
def test_preflight_refuses(tmp_path, inventory, extra, message):
    result, _, _ = render_role(tmp_path, "minio", inventory, hosts="minio", extra_vars=extra)
    assert result.returncode != 0 and message in result.stdout, result.stdout[-3000:]
