"""MinIO on real lab hosts (sc2 and sc3, two drives each: one erasure-coded pool of 4 drives), as
far as this machine allows: the lab mirror holds no MinIO server, so the role stops short of the
binary (minio_install: false). What is verified on the hosts: the environment file with the root
credentials (root:minio 0640), MinIO's certificate directory linking the platform's TLS files, the
drives owned by the service account, the unit - the full pool on every host, checked by
systemd-analyze but for the binary - and the firewall: the API port open to the consumers and the
published clients, closed to others. The real-MinIO checks (cluster health with its write quorum,
the erasure set, a consumer denied another consumer's bucket) run when the mirror holds the server
and skip naming the missing artifact otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
import yaml
from botocore.config import Config
from fdp_testinfra import accepted_sources, covers, credential, inventory_dir, lab_host

PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
NET = "10.231.40"
ADDR = {"sc1": f"{NET}.11", "sc2": f"{NET}.12", "sc3": f"{NET}.13"}
SERVERS = ("sc2", "sc3")
HOSTS = {name: lab_host(name) for name in ADDR}
PORTS = yaml.safe_load((PROJECT / "roles/platform/defaults/main/ports.yml").read_text())["platform_ports"]
API = PORTS["minio_api"]["port"]
DRIVES = ("/var/lib/fdp/minio-drive1", "/var/lib/fdp/minio-drive2")
MIRROR = Path("/var/cache/fdp-lab/mirror/minio")


def installed() -> bool:
    return HOSTS["sc2"].file("/opt/fdp/minio").exists


def need_server():
    if not installed():
        pytest.skip(f"no MinIO server: the artifact mirror holds no 'minio' build ({MIRROR} is missing), "
                    "so the role stopped short of the binary")


@pytest.mark.parametrize("name", SERVERS)
def test_environment_file_holds_the_root_credentials_for_minio_only(name):
    env = HOSTS[name].file("/etc/fdp/minio/minio.env")
    assert env.exists and env.user == "root" and env.group == "minio" and env.mode == 0o640
    text = env.content_string
    assert f"MINIO_ROOT_USER={credential('minio_root_user')}" in text.replace('"', "")
    assert f"MINIO_ROOT_PASSWORD={credential('minio_root_password')}" in text.replace('"', "")
    assert "MINIO_PROMETHEUS_AUTH_TYPE=jwt" in text.replace('"', "")


@pytest.mark.parametrize("name", SERVERS)
def test_certificate_directory_links_the_platform_tls_files(name):
    host = HOSTS[name]
    for link, target in (("public.crt", "private/minio/fullchain.crt"), ("private.key", "private/minio/host.key"),
                         ("CAs/ca.crt", "ca.crt")):
        f = host.file(f"/etc/fdp/minio/certs/{link}")
        assert f.is_symlink and f.linked_to == f"/etc/fdp/tls/{target}"
    # minio reaches its copies through the platform's service group (the TLS directory's group)
    assert "fdp" in host.user("minio").groups


@pytest.mark.parametrize("name", SERVERS)
def test_minio_reads_its_own_copy_of_the_key_and_not_the_hosts(name):
    """The host key and keystore are root's alone; the minio account reads only its own copy,
    which is the host key's content, and no other account reads that copy."""
    host = HOSTS[name]
    copy = host.file("/etc/fdp/tls/private/minio/host.key")
    assert (copy.user, copy.group, copy.mode) == ("root", "minio", 0o640)
    assert copy.content_string == host.file("/etc/fdp/tls/host.key").content_string
    as_minio = "runuser -u minio -- head -c 10 "
    assert host.run(as_minio + "/etc/fdp/minio/certs/private.key").rc == 0
    for private in ("/etc/fdp/tls/host.key", "/etc/fdp/tls/keystore.p12"):
        result = host.run(as_minio + private)
        assert result.rc != 0 and "Permission denied" in result.stderr, (private, result.stderr)
    # an account of the platform's group that is not minio (created here for the check)
    host.run("useradd --system --no-create-home --shell /usr/sbin/nologin -G fdp fdp-probe")
    result = host.run("runuser -u fdp-probe -- head -c 10 /etc/fdp/tls/private/minio/host.key")
    host.run("userdel fdp-probe")
    assert result.rc != 0 and "Permission denied" in result.stderr, result.stderr


@pytest.mark.parametrize("name", SERVERS)
def test_drives_belong_to_the_service_account(name):
    for drive in DRIVES:
        d = HOSTS[name].file(drive)
        assert d.is_directory and d.user == "minio" and d.mode == 0o750


@pytest.mark.parametrize("name", SERVERS)
def test_unit_runs_the_whole_pool_and_passes_systemd_analyze(name):
    host = HOSTS[name]
    unit = host.file("/etc/systemd/system/minio.service").content_string
    for server in SERVERS:
        for drive in DRIVES:
            assert f"https://{ADDR[server]}:{API}{drive}" in unit
    assert "--certs-dir" in unit and "LimitNOFILE=1048576" in unit
    result = host.run("systemd-analyze verify --man=no /etc/systemd/system/minio.service")
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if line.strip() and "/opt/fdp/minio" not in line]
    assert not complaints, complaints
    if not installed():
        assert not host.service("minio").is_running


def test_firewall_opens_the_api_to_the_pool_consumers_and_clients_only():
    for name in SERVERS:
        sources = accepted_sources(HOSTS[name], API)
        # the other server (inter-node traffic), the consumers here (Flink on sc2/sc3, Trino and the
        # metastore on sc3), Prometheus (sc1) and the published client network (sc4's address)
        for source in ("sc1", "sc2", "sc3"):
            assert covers(sources, ADDR[source]), (name, source, sources)
        assert covers(sources, f"{NET}.14")
        assert not covers(sources, f"{NET}.1")  # the controller is an admin, not an S3 client


# --- with the server (the mirror holds it) ------------------------------------------------------

def s3(consumer: str):
    return boto3.client("s3", endpoint_url=f"https://{ADDR['sc2']}:{API}", region_name="us-east-1",
                        aws_access_key_id=credential(f"s3_access_key/{consumer}"),
                        aws_secret_access_key=credential(f"s3_secret_key/{consumer}"),
                        verify=str(inventory_dir() / "pki" / "ca.crt"),
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def test_cluster_has_its_write_quorum():
    need_server()
    out = HOSTS["sc1"].run(f"curl -s -o /dev/null -w '%{{http_code}}' --cacert /etc/fdp/tls/ca.crt "
                           f"https://{ADDR['sc2']}:{API}/minio/health/cluster")
    assert out.stdout.strip() == "200"


def test_one_erasure_set_of_four_drives():
    need_server()
    env = (f"MC_HOST_fdp=https://{credential('minio_root_user')}:{credential('minio_root_password')}"
           f"@{ADDR['sc2']}:{API}")
    info = HOSTS["sc2"].check_output(f"{env} /opt/fdp/minio_client/mc* --config-dir /etc/fdp/minio/mc admin info fdp --json")
    data = yaml.safe_load(info)
    drives = [d for s in data["info"]["servers"] for d in s.get("drives", [])]
    assert len(drives) == 4 and all(d.get("state") == "ok" for d in drives)


def test_a_consumer_is_denied_another_consumers_bucket():
    need_server()
    s3("flink").put_object(Bucket="flink", Key="fdp-verify", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3("backups").get_object(Bucket="flink", Key="fdp-verify")
    assert info.value.response["Error"]["Code"] == "AccessDenied"
