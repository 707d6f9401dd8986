"""SANs, firewall rule composition from the port matrix, and port-matrix consistency."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fdp_security import (collapse_networks, firewall_rules, host_address, mesh_errors, mesh_record, meshes,
                          port_collisions, port_matrix_errors, stale_copies, stale_meshes, subject_alt_names)

REPO = Path(__file__).resolve().parents[2]
PLATFORM = REPO / "roles" / "platform" / "defaults" / "main"
PORTS = yaml.safe_load((PLATFORM / "ports.yml").read_text())["platform_ports"]
GROUPS = yaml.safe_load((PLATFORM / "platform.yml").read_text())["platform_groups"]


def test_sans_split_dns_and_ip_and_dedupe():
    assert subject_alt_names(["node1", "Node1.Example.net.", "10.0.0.1", "node1", "", "2001:db8::1", "10.0.0.1"]) == [
        "DNS:node1", "DNS:node1.example.net", "IP:10.0.0.1", "IP:2001:db8::1"]


def test_shipped_port_matrix_is_consistent():
    assert port_matrix_errors(PORTS, GROUPS) == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"port": 70000}, "port must be 1..65535"),
        ({"protocol": "sctp"}, "protocol must be tcp or udp"),
        ({"groups": ["kafka_brokers"]}, "unknown groups ['kafka_brokers']"),
        ({"from_groups": ["nope"]}, "unknown from_groups ['nope']"),
    ],
)
def test_port_matrix_errors(change, fragment):
    ports = {"x": {**PORTS["minio_api"], **change}}
    assert any(fragment in e for e in port_matrix_errors(ports, GROUPS))


def test_port_matrix_missing_field():
    entry = dict(PORTS["minio_api"])
    del entry["tls"]
    assert port_matrix_errors({"x": entry}, GROUPS) == ["platform_ports.x: missing 'tls'"]


INV = {
    "all": ["s1", "s2", "q1", "p1", "out"],
    "minio": ["s1", "s2"],
    "trino_coordinator": ["q1"],
    "prometheus": ["p1"],
    "ungrouped": ["out"],
}
HV = {"s1": {"ansible_host": "10.0.0.11"}, "s2": {"ansible_host": "10.0.0.12"},
      "q1": {"ansible_host": "10.0.0.21"}, "p1": {"ansible_host": "10.0.0.31"}, "out": {"ansible_host": "10.0.0.99"}}


def rules_by_name(host, clients=()):
    return {r["name"]: r for r in firewall_rules(PORTS, host, INV, HV, clients)}


def test_minio_node_admits_its_declared_peers_only():
    rules = rules_by_name("s1")
    assert set(rules) == {"minio_api", "node_exporter"}  # console: client-only, no clients set
    # minio peers, the Trino coordinator and Prometheus; never the outsider (10.0.0.99).
    assert rules["minio_api"]["v4"] == ["10.0.0.11/32", "10.0.0.12/32", "10.0.0.21/32", "10.0.0.31/32"]
    assert rules["node_exporter"]["v4"] == ["10.0.0.31/32"]


def test_adjacent_addresses_are_collapsed():
    hv = dict(HV, s2={"ansible_host": "10.0.0.10"})  # .10/32 + .11/32 = .10/31
    rules = {r["name"]: r for r in firewall_rules(PORTS, "s1", INV, hv)}
    assert rules["minio_api"]["v4"][0] == "10.0.0.10/31"


def test_client_ports_open_to_client_cidrs():
    rules = rules_by_name("s1", clients=["192.0.2.0/24"])
    assert "192.0.2.0/24" in rules["minio_api"]["v4"]
    assert "minio_console" not in rules  # administration: no consumers, no admin networks given here
    assert "192.0.2.0/24" not in rules["node_exporter"]["v4"]  # not a client port


def test_outsider_listens_on_node_exporter_only():
    assert set(rules_by_name("out")) == {"node_exporter"}


def test_ipv6_sources_are_kept_apart():
    hv = dict(HV, p1={"ansible_host": "2001:db8::31"})
    rules = {r["name"]: r for r in firewall_rules(PORTS, "s1", INV, hv)}
    assert rules["node_exporter"] == {"name": "node_exporter", "port": 9100, "protocol": "tcp", "v4": [],
                                      "v6": ["2001:db8::31/128"], "description": PORTS["node_exporter"]["description"]}


def test_address_from_facts_when_ansible_host_is_a_name():
    hv = {"n": {"ansible_host": "n.example.net", "ansible_facts": {"default_ipv4": {"address": "10.1.1.1"}}}}
    assert str(host_address("n", hv)) == "10.1.1.1"
    with pytest.raises(ValueError, match="host 'm' has no IP address"):
        host_address("m", {"m": {"ansible_host": "m.example.net"}})


def test_changing_the_port_data_changes_the_rules():
    changed = {k: dict(v) for k, v in PORTS.items()}
    changed["minio_api"]["port"] = 9010
    rules = {r["name"]: r for r in firewall_rules(changed, "s1", INV, HV)}
    assert rules["minio_api"]["port"] == 9010


def test_port_collisions_on_shared_hosts():
    inv = dict(INV, kafka_controller=["p1"], alertmanager=["p1"], trino_worker=["q1"])
    assert port_collisions(PORTS, "p1", inv) == []  # alertmanager web moved to 9095
    inv["trino_worker"] = ["q1"]
    collisions = port_collisions(PORTS, "q1", inv)
    assert collisions == ["host 'q1': trino_coordinator_https and trino_worker_https would all listen on tcp/8443; "
                          "move one of them to another host or change its port"]


def test_collapse_networks_drops_addresses_inside_a_listed_cidr():
    assert collapse_networks(["10.0.0.0/24", "10.0.0.1", "2001:db8::1", "192.0.2.7/32", " "]) == [
        "10.0.0.0/24", "192.0.2.7/32", "2001:db8::1/128"]


def test_admin_ports_open_to_the_admin_networks_only():
    ports = {"thrift": {"port": 9083, "protocol": "tcp", "groups": ["minio"], "from_groups": ["trino_coordinator"],
                        "client": False, "admin": True, "tls": True, "description": "x"},
             "plain": {"port": 9084, "protocol": "tcp", "groups": ["minio"], "from_groups": ["trino_coordinator"],
                       "client": False, "tls": True, "description": "y"}}
    rules = {r["name"]: r for r in firewall_rules(ports, "s1", INV, HV, ["192.0.2.0/24"], ["198.51.100.7/32"])}
    assert rules["thrift"]["v4"] == ["10.0.0.21/32", "198.51.100.7/32"]  # a consumer and the admins, no clients
    assert rules["plain"]["v4"] == ["10.0.0.21/32"]
    assert port_matrix_errors(ports, GROUPS) == []


def test_administration_endpoints_are_not_published_to_every_user_network():
    """Prometheus, Alertmanager and the MinIO console are administration: admin networks by
    default, not the user networks Grafana, S3, Trino and Kafka are published to."""
    for name in ("prometheus_web", "alertmanager_web", "minio_console"):
        assert PORTS[name]["client"] is False and PORTS[name]["admin"] is True, name
    for name in ("grafana_web", "minio_api", "trino_coordinator_https", "kafka_broker"):
        assert PORTS[name]["client"] is True, name
    inv = {**INV, "prometheus": ["p1"], "grafana": ["p1"]}
    rules = {r["name"]: r for r in firewall_rules(PORTS, "p1", inv, HV, ["192.0.2.0/24"], ["198.51.100.7/32"])}
    assert "192.0.2.0/24" not in rules["prometheus_web"]["v4"] and "198.51.100.7/32" in rules["prometheus_web"]["v4"]
    assert "192.0.2.0/24" in rules["grafana_web"]["v4"]


def test_an_endpoint_gets_its_own_user_networks():
    """platform_endpoint_cidrs: an entry replaces the user networks of that one port (narrowing
    a published port, or opening an administration port to one more network); admin networks
    stay on admin ports; an empty list closes a published port to users."""
    inv = {**INV, "prometheus": ["p1"], "grafana": ["p1"], "alertmanager": ["p1"]}
    own = {"grafana_web": ["192.0.2.128/25"], "prometheus_web": ["203.0.113.0/28"], "alertmanager_web": []}
    rules = {r["name"]: r for r in firewall_rules(PORTS, "p1", inv, HV, ["192.0.2.0/24"], ["198.51.100.7/32"], own)}
    assert "192.0.2.128/25" in rules["grafana_web"]["v4"] and "192.0.2.0/24" not in rules["grafana_web"]["v4"]
    assert {"203.0.113.0/28", "198.51.100.7/32"} <= set(rules["prometheus_web"]["v4"])
    assert "192.0.2.0/24" not in rules["alertmanager_web"]["v4"] and "198.51.100.7/32" in rules["alertmanager_web"]["v4"]
    # a port that is not named keeps the common user networks
    minio = {r["name"]: r for r in firewall_rules(PORTS, "s1", INV, HV, ["192.0.2.0/24"], [], own)}
    assert "192.0.2.0/24" in minio["minio_api"]["v4"]
    # an empty list on a client port without admin or consumers leaves no rule at all
    closed = {r["name"] for r in firewall_rules(PORTS, "s1", INV, HV, ["192.0.2.0/24"], [], {"minio_console": []})}
    assert "minio_console" not in closed


def test_endpoint_networks_must_name_ports():
    from fdp_security import port_errors
    errors = port_errors(PORTS, INV, GROUPS, {"grafana_wbe": ["192.0.2.0/24"], "grafana_web": "192.0.2.0/24"})
    assert any("platform_endpoint_cidrs.grafana_wbe: no such port" in e and "did you mean 'grafana_web'" in e
               for e in errors), errors
    assert any("platform_endpoint_cidrs.grafana_web: must be a list" in e for e in errors), errors
    assert port_errors(PORTS, INV, GROUPS, {"grafana_web": ["192.0.2.0/24"]}) == []


def test_certificate_names_are_the_host_and_its_service_address():
    """A multi-homed host (here with a Docker bridge) is named by its names, ansible_host, the
    address peers use and the aliases: not by every address it has."""
    from fdp_security import host_names
    facts = {"hostname": "db1", "fqdn": "db1.corp.example", "all_ipv4_addresses": ["10.0.0.5", "172.17.0.1"],
             "default_ipv4": {"address": "10.0.0.5"}}
    hostvars = {"db1": {"ansible_host": "db1.corp.example", "ansible_facts": facts},
                "ip1": {"ansible_host": "10.0.0.6", "ansible_facts": {**facts, "hostname": "ip1", "fqdn": "ip1"}}}
    assert host_names("db1", hostvars, ["metastore.corp.example"]) == [
        "db1", "db1.corp.example", "10.0.0.5", "metastore.corp.example"]
    assert "172.17.0.1" not in subject_alt_names(host_names("db1", hostvars))
    # with an IP as ansible_host, that IP is the service address
    assert host_names("ip1", hostvars) == ["ip1", "10.0.0.6"]
    # without facts nor an IP: the names only (the firewall reports the missing address)
    assert host_names("bare", {"bare": {}}) == ["bare"]


def test_egress_destinations_are_the_inventory_and_the_admin_networks():
    from fdp_security import egress_destinations
    assert egress_destinations(["s1", "s2", "q1", "s1"], HV, ["198.51.100.0/24", "10.0.0.11/32"]) == [
        "10.0.0.11/32", "10.0.0.12/32", "10.0.0.21/32", "198.51.100.0/24"]


@pytest.mark.parametrize(
    ("entries", "fragment"),
    [
        ({"destinations": ["192.0.2.10/32"]}, "must be a list"),
        ([{"destinations": []}], "destinations must be a non-empty list"),
        ([{"destinations": ["mirror.example"]}], "'mirror.example' is not a network"),
        ([{"destinations": ["192.0.2.10/32"], "port": 70000}], "port must be 1..65535"),
        ([{"destinations": ["192.0.2.10/32"], "port": 443, "protocol": "icmp"}], "protocol must be tcp or udp"),
        ([{"destinations": ["192.0.2.10/32"], "protocol": "udp"}], "a protocol needs a port"),
        ([{"destinations": ["192.0.2.10/32"], "ports": [443]}], "unknown keys ['ports']"),
    ],
)
def test_the_egress_allow_list_is_checked(entries, fragment):
    from fdp_security import output_allow_errors
    errors = output_allow_errors(entries)
    assert any(fragment in e for e in errors), errors


def test_a_valid_egress_allow_list_passes():
    from fdp_security import output_allow_errors
    assert output_allow_errors([{"destinations": ["192.0.2.10/32", "2001:db8::/48"], "port": 443, "comment": "mirror"},
                                {"destinations": ["203.0.113.5/32"]},
                                {"destinations": ["192.0.2.53/32"], "port": 123, "protocol": "udp"}]) == []


def test_stale_copies_are_the_services_copies_that_differ_from_their_original():
    t = "/etc/fdp/tls"
    found = [
        {"path": f"{t}/host.key", "checksum": "k2"}, {"path": f"{t}/host.crt", "checksum": "c2"},
        {"path": f"{t}/keystore.p12", "checksum": "s1"},
        {"path": f"{t}/private/flink/keystore.p12", "checksum": "s1", "gr_name": "flink"},  # current
        {"path": f"{t}/private/prometheus/host.key", "checksum": "k1", "gr_name": "prometheus"},  # old key
        {"path": f"{t}/private/prometheus/host.crt", "checksum": "c1", "gr_name": "prometheus"},
        {"path": f"{t}/private/postgres/fullchain.crt", "checksum": "f1", "gr_name": "postgres"},  # no original found
        {"path": f"{t}/private/x/notes.txt", "checksum": "n"}, {"path": f"{t}/cas/ca.crt", "checksum": "a"},
    ]
    assert stale_copies(found, t + "/") == [
        {"path": f"{t}/private/prometheus/host.crt", "src": f"{t}/host.crt", "group": "prometheus"},
        {"path": f"{t}/private/prometheus/host.key", "src": f"{t}/host.key", "group": "prometheus"}]
    assert stale_copies([], t) == []


def test_a_mesh_keystore_copy_is_refreshed_too():
    t = "/etc/fdp/tls"
    found = [{"path": f"{t}/mesh-flink.p12", "checksum": "m2"},
             {"path": f"{t}/private/flink/mesh-flink.p12", "checksum": "m1", "gr_name": "flink"},
             {"path": f"{t}/mesh-flink.key", "checksum": "k"},
             {"path": f"{t}/private/flink/mesh-flink.key", "checksum": "old", "gr_name": "flink"}]  # not copyable
    assert stale_copies(found, t) == [
        {"path": f"{t}/private/flink/mesh-flink.p12", "src": f"{t}/mesh-flink.p12", "group": "flink"}]


def test_meshes_of_a_host_and_bad_names():
    declared = {"flink": ["flink_jobmanager", "flink_taskmanager"], "other": ["kafka_broker"]}
    assert meshes(declared, ["lab", "flink_taskmanager"]) == ["flink"]
    assert meshes(declared, ["flink_jobmanager", "kafka_broker", "zookeeper"]) == ["flink", "other"]
    assert meshes(declared, ["prometheus"]) == [] and meshes({}, ["flink_jobmanager"]) == []
    with pytest.raises(ValueError, match="must match"):
        meshes({"../x": ["flink_jobmanager"]}, [])
    with pytest.raises(ValueError, match="list of inventory groups"):
        meshes({"flink": "flink_jobmanager"}, [])


def test_mesh_errors_name_bad_names_values_and_unknown_groups():
    assert mesh_errors({"flink": ["flink_jobmanager", "flink_taskmanager"]}, GROUPS) == []
    assert mesh_errors({}, GROUPS) == []
    errors = mesh_errors({"Flink/x": ["flink_jobmanager"], "a": "flink_jobmanager", "b": ["flink_jobmanagers"]}, GROUPS)
    assert len(errors) == 3 and "'Flink/x' must match" in errors[0]
    assert "platform_tls_meshes.a must be a list" in errors[1] and "unknown groups ['flink_jobmanagers']" in errors[2]
    assert mesh_errors(["flink"], GROUPS) == ["platform_tls_meshes must be a mapping of mesh names to lists of inventory groups"]


def test_a_mesh_is_stale_unless_its_record_describes_its_files_ca_and_settings(tmp_path):
    import hashlib
    t = "/etc/fdp/tls"
    (tmp_path / "mesh-flink-ca.crt").write_text("CA one\n")
    files = [{"path": f"{t}/mesh-flink{suffix}", "checksum": f"sum{suffix}", "pw_name": "root", "gr_name": "root",
              "mode": mode} for suffix, mode in ((".key", "0600"), (".crt", "0644"), ("-ca.crt", "0644"),
                                                 (".p12", "0600"), ("-trust.p12", "0644"))]
    settings = ["RSA", "3072", "pw", "hostcert", "lab1"]
    text = mesh_record(files, t, "flink", str(tmp_path), settings)
    assert text.split()[:3] == ["fdp-pki-mesh", "1", "flink"] and "sum.key:root:root:0600" in text
    assert hashlib.sha1(b"CA one\n").hexdigest() in text and text.endswith("RSA 3072 pw hostcert lab1")
    record = {"path": f"{t}/.mesh-flink.verified", "checksum": hashlib.sha1(text.encode()).hexdigest()}
    assert stale_meshes(files + [record], t, ["flink"], str(tmp_path), settings) == []
    assert stale_meshes(files, t, ["flink"], str(tmp_path), settings) == ["flink"]  # no record
    loosened = [dict(f, mode="0644") if f["path"].endswith(".key") else f for f in files]
    assert stale_meshes(loosened + [record], t, ["flink"], str(tmp_path), settings) == ["flink"]
    assert stale_meshes(files[1:] + [record], t, ["flink"], str(tmp_path), settings) == ["flink"]  # key gone
    assert stale_meshes(files + [record], t, ["flink"], str(tmp_path), settings[:3] + ["renewed", "lab1"]) == ["flink"]
    # A CA rollover's next mesh CA (trusted before it signs), then its previous one (trusted after).
    for step in ("next", "previous"):
        (tmp_path / f"mesh-flink-ca-{step}.crt").write_text(f"CA {step}\n")
        assert stale_meshes(files + [record], t, ["flink"], str(tmp_path), settings) == ["flink"]
        digest = hashlib.sha1(f"CA {step}\n".encode()).hexdigest()
        assert f"{step}:{digest}" in mesh_record(files, t, "flink", str(tmp_path), settings)
        (tmp_path / f"mesh-flink-ca-{step}.crt").unlink()
    assert stale_meshes(files + [record], t, ["flink"], str(tmp_path), settings) == []  # as before the rollover
    (tmp_path / "mesh-flink-ca.crt").write_text("CA two\n")  # a new mesh CA on the controller
    assert stale_meshes(files + [record], t, ["flink"], str(tmp_path), settings) == ["flink"]
    (tmp_path / "mesh-flink-ca.crt").unlink()
    assert "no-ca" in mesh_record(files, t, "flink", str(tmp_path), settings)
