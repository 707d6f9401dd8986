"""SeaweedFS on real lab hosts: pl1, pl2 and pl3 each run a master (Raft), a volume server, a
filer and the S3 gateway; pl4 is an outsider. The platform's S3 contract is what is tested: the
consumers' view (one identity per consumer, its buckets only, HTTPS verified against the platform
CA), two copies of every object that survive a lost volume server, and the servers' own HTTP and
gRPC ports closed to anything without a platform certificate.

The tests run in file order; the lost volume server comes last."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
import testinfra
import yaml
from botocore.config import Config
from fdp_testinfra import wait_for

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
INV_DIR = Path(INVENTORY).parent
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
NET = "10.231.50"
ADDR = {"pl1": f"{NET}.11", "pl2": f"{NET}.12", "pl3": f"{NET}.13", "pl4": f"{NET}.14"}
SERVERS, OUTSIDER = ("pl1", "pl2", "pl3"), "pl4"
PORTS = {k: v["port"] for k, v in
         yaml.safe_load((PROJECT / "roles/platform/defaults/main/ports.yml").read_text())["platform_ports"].items()}
S3 = PORTS["seaweedfs_s3"]
TLS = "--cacert /etc/fdp/tls/ca.crt"
CLIENT_CERT = "--cert /etc/fdp/tls/host.crt --key /etc/fdp/tls/host.key"
BUCKETS = {"warehouse": {"hive_metastore", "trino", "flink"}, "flink": {"flink"}, "backups": {"backups"}}


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


HOSTS = {name: get(name) for name in ADDR}


def secret(name: str) -> str:
    return (INV_DIR / "credentials" / name).read_text().strip()


def s3(consumer: str, host: str = "pl1", secret_key: str | None = None):
    """A consumer's S3 client as the contract hands it out: its own keys, HTTPS, the platform CA."""
    return boto3.client(
        "s3", endpoint_url=f"https://{ADDR[host]}:{S3}", region_name="us-east-1",
        aws_access_key_id=secret(f"s3_access_key/{consumer}"),
        aws_secret_access_key=secret_key or secret(f"s3_secret_key/{consumer}"),
        verify=str(INV_DIR / "pki" / "ca.crt"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))


def error_code(call) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


def curl_json(host: str, url: str, cert: bool = True):
    out = HOSTS[host].check_output(f"curl -sS --max-time 20 --fail {TLS} {CLIENT_CERT if cert else ''} '{url}'")
    return yaml.safe_load(out)  # JSON is YAML


def reaches(source: str, target: str, port: int) -> bool:
    return HOSTS[source].run(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{ADDR[target]}/{port}'").rc == 0


@pytest.mark.parametrize("name", SERVERS)
def test_every_server_runs_hardened_as_its_account(name):
    host = HOSTS[name]
    for unit in ("seaweedfs-master", "seaweedfs-volume", "seaweedfs-filer", "seaweedfs-s3"):
        service = host.service(unit)
        assert service.is_running and service.is_enabled, unit
        props = dict(line.split("=", 1) for line in host.check_output(
            f"systemctl show -p User -p ProtectSystem -p NoNewPrivileges -p WorkingDirectory {unit}").splitlines())
        assert props == {"User": "seaweedfs", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
                         "WorkingDirectory": "/etc/fdp/seaweedfs"}, unit
    security = host.file("/etc/fdp/seaweedfs/security.toml")
    assert (security.user, security.group, security.mode) == ("root", "seaweedfs", 0o640)
    identities = host.file("/etc/fdp/seaweedfs/s3.json")
    assert (identities.user, identities.group, identities.mode) == ("root", "seaweedfs", 0o640)
    for consumer in ("trino", "flink", "backups", "hive_metastore"):
        assert secret(f"s3_secret_key/{consumer}") not in host.check_output("ps -eo args")
    # The inventory's seaweedfs_extra_args reach the volume server (last, after the platform's flags).
    volume_args = host.check_output("systemctl show -p ExecStart --value seaweedfs-volume")
    assert "-preStopSeconds=2" in volume_args and volume_args.index("-preStopSeconds=2") > volume_args.index("-dir=")


def test_the_masters_agree_on_one_leader():
    statuses = {name: curl_json("pl2", f"https://{ADDR[name]}:{PORTS['seaweedfs_master']}/cluster/status")
                for name in SERVERS}
    assert sum(bool(s.get("IsLeader")) for s in statuses.values()) == 1, statuses  # followers omit it
    leaders = {s["Leader"] for s in statuses.values()}
    assert len(leaders) == 1 and leaders.pop().split(":")[0] in {ADDR[n] for n in SERVERS}


@pytest.mark.parametrize("port", ["seaweedfs_master", "seaweedfs_volume", "seaweedfs_filer"])
def test_server_ports_demand_a_platform_client_certificate(port):
    url = f"https://{ADDR['pl3']}:{PORTS[port]}/healthz" if port != "seaweedfs_master" else \
        f"https://{ADDR['pl3']}:{PORTS[port]}/cluster/status"
    assert HOSTS["pl1"].run(f"curl -sS --max-time 20 --fail -o /dev/null {TLS} {CLIENT_CERT} '{url}'").rc == 0
    # the same request without a client certificate fails in the TLS handshake
    refused = HOSTS["pl1"].run(f"curl -sS --max-time 20 --fail -o /dev/null {TLS} '{url}'")
    assert refused.rc != 0, refused.stdout


def weed_shell(host: str, command: str, workdir: str):
    masters = ",".join(f"{ADDR[n]}:{PORTS['seaweedfs_master']}.{PORTS['seaweedfs_master_grpc']}" for n in SERVERS)
    return HOSTS[host].run(f"cd {workdir} && echo '{command}' | timeout 20 /opt/fdp/seaweedfs/weed shell -master={masters}")


def test_grpc_demands_mutual_tls():
    """weed shell administers the cluster over gRPC: with the platform's security.toml (the host
    certificate) it works; run elsewhere it has no client certificate and gets no session."""
    admin = weed_shell("pl2", "cluster.check", "/etc/fdp/seaweedfs")
    assert admin.rc == 0 and admin.stdout.count("... ok round trip") >= 9, admin.stdout  # 3 filers x 3
    stranger = weed_shell("pl2", "cluster.check", "/tmp")
    assert stranger.rc == 124 and "ok" not in stranger.stdout  # timed out, never connected


@pytest.mark.parametrize("name", SERVERS)
def test_s3_serves_https_only_with_a_certificate_of_the_platform_ca(name):
    context = ssl.create_default_context(cafile=str(INV_DIR / "pki" / "ca.crt"))
    with socket.create_connection((ADDR[name], S3), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=ADDR[name]) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    # plain HTTP on the S3 port is answered with an error, never with S3
    plain = HOSTS["pl2"].run(f"curl -sS --max-time 20 -o /dev/null -w '%{{http_code}}' http://{ADDR[name]}:{S3}/warehouse/")
    assert plain.stdout.strip() == "400", plain.stdout


def test_the_contract_buckets_exist_and_each_consumer_sees_its_own():
    for consumer in ("trino", "flink", "backups", "hive_metastore"):
        listed = {b["Name"] for b in s3(consumer).list_buckets().get("Buckets", [])}
        assert listed == {b for b, users in BUCKETS.items() if consumer in users}, consumer


def test_a_consumer_writes_and_reads_its_buckets_through_any_gateway():
    body = os.urandom(3 * 1024 * 1024)  # spans chunks of the filer
    s3("trino", "pl1").put_object(Bucket="warehouse", Key="verify/blob", Body=body)
    assert s3("flink", "pl3").get_object(Bucket="warehouse", Key="verify/blob")["Body"].read() == body
    s3("flink", "pl2").put_object(Bucket="flink", Key="checkpoints/x", Body=b"state")
    assert s3("flink", "pl1").get_object(Bucket="flink", Key="checkpoints/x")["Body"].read() == b"state"


def test_a_consumer_is_denied_other_buckets_and_bad_keys():
    assert error_code(lambda: s3("backups").get_object(Bucket="warehouse", Key="verify/blob")) == "AccessDenied"
    assert error_code(lambda: s3("trino").put_object(Bucket="backups", Key="x", Body=b"x")) == "AccessDenied"
    assert error_code(lambda: s3("trino").create_bucket(Bucket="rogue")) == "AccessDenied"
    bad = error_code(lambda: s3("trino", secret_key="x" * 40).get_object(Bucket="warehouse", Key="verify/blob"))
    assert bad in ("SignatureDoesNotMatch", "AccessDenied")


@pytest.mark.parametrize("port", ["seaweedfs_s3", "seaweedfs_master", "seaweedfs_volume", "seaweedfs_filer",
                                  "seaweedfs_master_grpc", "seaweedfs_volume_metrics"])
def test_firewall_keeps_the_outsider_out(port):
    assert not reaches(OUTSIDER, "pl1", PORTS[port])


def test_metrics_ports_are_open_to_prometheus_only():
    port = PORTS["seaweedfs_volume_metrics"]
    assert reaches("pl1", "pl3", port)  # pl1 is the Prometheus host
    assert not reaches("pl2", "pl3", port)
    # the servers among themselves reach their gRPC ports
    assert reaches("pl2", "pl3", PORTS["seaweedfs_volume_grpc"])


def volume_copies(collection: str) -> dict[int, dict[str, int]]:
    """{volume id: {server address: its file count}} of a collection, from the leader's topology."""
    status = curl_json("pl1", f"https://{ADDR['pl1']}:{PORTS['seaweedfs_master']}/vol/status")
    found: dict[int, dict[str, int]] = {}
    for racks in status["Volumes"]["DataCenters"].values():
        for nodes in racks.values():
            for node, volumes in nodes.items():
                for volume in volumes or []:
                    if volume["Collection"] == collection:
                        found.setdefault(volume["Id"], {})[node.split(":")[0]] = volume["FileCount"]
    return found


def holds_objects(copies: dict[int, dict[str, int]], address: str) -> bool:
    return any(count > 0 for servers in copies.values() for server, count in servers.items() if server == address)


def test_every_object_survives_a_lost_volume_server():
    """Replication auto on three hosts in one rack is 001: two copies on different servers. With
    pl3's volume server stopped, every object is still read back through the gateways."""
    objects = {f"lost/{i}": os.urandom(1024 + i * 4096) for i in range(24)}
    client = s3("trino", "pl1")
    for key, body in objects.items():
        client.put_object(Bucket="warehouse", Key=key, Body=body)
    # the file counts reach the leader with the volume servers' heartbeats
    copies = wait_for(lambda: (c := volume_copies("warehouse")) and holds_objects(c, ADDR["pl3"]) and c, timeout=60)
    assert copies and all(len(servers) == 2 for servers in copies.values()), copies
    HOSTS["pl3"].check_output("systemctl stop seaweedfs-volume")
    try:
        for gateway in ("pl1", "pl2"):
            reader = s3("flink", gateway)
            for key, body in objects.items():
                assert reader.get_object(Bucket="warehouse", Key=key)["Body"].read() == body, (gateway, key)
    finally:
        HOSTS["pl3"].check_output("systemctl start seaweedfs-volume")
    health = f"curl -sS --max-time 20 --fail -o /dev/null {TLS} {CLIENT_CERT} https://{ADDR['pl3']}:{PORTS['seaweedfs_volume']}/healthz"
    wait_for(lambda: HOSTS["pl3"].run(health).rc == 0, timeout=60)
    # back in the topology with its copies
    wait_for(lambda: all(len(s) == 2 for s in volume_copies("warehouse").values()) or None, timeout=60)
