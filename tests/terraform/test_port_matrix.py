"""One port matrix for Terraform and Ansible: cluster_plan reads roles/platform/defaults/main/ports.yml
(never a copy), and its per-host rules equal what the Ansible firewall role composes from the same
file (fdp_firewall_rules, the filter roles/firewall uses). Editing the port data changes both alike."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml

from helpers import REPO

fdp_security = pytest.importorskip(
    "fdp_security", reason="the Ansible firewall filter (ansible/plugins/filter) is missing"
)

EXAMPLE = "production.tfvars"


def ansible_rules(ports: dict, inventory_yaml: str, cidrs: tuple) -> dict[str, list[tuple]]:
    """Per host, the rules the Ansible firewall role computes from the rendered inventory."""
    inv = yaml.safe_load(inventory_yaml)["all"]
    hostvars = inv["hosts"]
    groups = {name: list((g.get("hosts") or {}).keys()) for name, g in inv["children"].items()}
    groups["all"] = list(hostvars)
    return {
        host: normalise(fdp_security.firewall_rules(ports, host, groups, hostvars, *cidrs), "v4")
        for host in hostvars
    }


def normalise(rules: list[dict], key: str) -> list[tuple]:
    """(name, port, protocol, collapsed sources): Ansible merges adjacent addresses, Terraform lists them."""
    out = []
    for rule in rules:
        nets = [ipaddress.ip_network(s) for s in rule[key]]
        out.append(
            (rule["name"], rule["port"], rule["protocol"], tuple(str(n) for n in ipaddress.collapse_addresses(nets)))
        )
    return sorted(out)


def terraform_rules(outputs: dict) -> dict[str, list[tuple]]:
    return {host: normalise(rules, "sources") for host, rules in outputs["firewall"]["value"]["rules"].items()}


@pytest.fixture
def root(tf, workspace):
    path = workspace / "terraform" / "platforms" / "existing"
    tf("init", "-input=false", cwd=path, check=True)
    return path


def apply(tf, root: Path, *extra: str) -> dict:
    tf("apply", "-auto-approve", "-no-color", f"-var-file={root / 'examples' / EXAMPLE}", *extra, cwd=root, check=True)
    return tf.outputs(root)


def client_cidrs(outputs: dict) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(platform_client_cidrs, platform_admin_cidrs, platform_endpoint_cidrs) of the rendered inventory."""
    group_vars = yaml.safe_load(outputs["ansible_inventory"]["value"]["files"]["group_vars/all/terraform.yml"])
    return (group_vars["platform_client_cidrs"], group_vars["platform_admin_cidrs"],
            group_vars.get("platform_endpoint_cidrs", {}))


def test_terraform_matrix_equals_the_ansible_firewall(tf, root):
    outputs = apply(tf, root)
    ports = yaml.safe_load((REPO / "roles/platform/defaults/main/ports.yml").read_text(encoding="utf-8"))[
        "platform_ports"
    ]
    assert set(outputs["firewall"]["value"]["ports"]) == set(ports)
    expected = ansible_rules(ports, outputs["inventory_yaml"]["value"], client_cidrs(outputs))
    assert terraform_rules(outputs) == expected
    assert sum(len(r) for r in expected.values()) > 0


def test_endpoint_networks_change_both_alike(tf, root):
    """platform_endpoint_cidrs (Terraform's endpoint_cidrs) reach the inventory and give the same
    rules on both sides: Prometheus opened to one more network, Grafana closed to users."""
    before = apply(tf, root)
    after = apply(tf, root, '-var=endpoint_cidrs={"prometheus_web": ["198.51.100.0/24"], "grafana_web": []}')
    cidrs = client_cidrs(after)
    assert cidrs[2] == {"prometheus_web": ["198.51.100.0/24"], "grafana_web": []}
    ports = yaml.safe_load((REPO / "roles/platform/defaults/main/ports.yml").read_text(encoding="utf-8"))[
        "platform_ports"
    ]
    assert terraform_rules(after) == ansible_rules(ports, after["inventory_yaml"]["value"], cidrs)
    assert terraform_rules(after) != terraform_rules(before)
    assert "198.51.100.0/24" in after["firewall"]["value"]["ports"]["prometheus_web"]["client_cidrs"]


def test_a_change_to_the_port_data_changes_both_alike(tf, root, tmp_path):
    before = apply(tf, root)
    data = yaml.safe_load((REPO / "roles/platform/defaults/main/ports.yml").read_text(encoding="utf-8"))
    ports = data["platform_ports"]
    # Move one port, let one more group in, and add a service.
    moved = sorted(ports)[0]
    ports[moved]["port"] = 40001
    # flink_taskmanager hosts of the example are in no other group: their addresses are new sources.
    widened = next(
        name
        for name, e in sorted(ports.items())
        if e["from_groups"] and not {"flink_taskmanager", "all"} & set(e["from_groups"])
    )
    ports[widened]["from_groups"] = [*ports[widened]["from_groups"], "flink_taskmanager"]
    ports["tf_test_service"] = {
        "port": 40002,
        "protocol": "udp",
        "groups": ["grafana"],
        "from_groups": ["minio"],
        "client": False,
        "tls": True,
        "description": "added by the test",
    }
    edited = tmp_path / "ports.yml"
    edited.write_text(yaml.safe_dump(data), encoding="utf-8")

    after = apply(tf, root, f"-var=ports_file={edited}")
    assert after["firewall"]["value"]["ports_file"] == str(edited)
    tf_after = terraform_rules(after)
    assert tf_after != terraform_rules(before)
    assert tf_after == ansible_rules(ports, after["inventory_yaml"]["value"], client_cidrs(after))

    grafana_host = after["groups"]["value"]["grafana"][0]
    assert any(r[0] == "tf_test_service" and r[1] == 40002 and r[2] == "udp" for r in tf_after[grafana_host])
    moved_hosts = after["firewall"]["value"]["ports"][moved]["hosts"]
    assert moved_hosts and all(
        any(r[0] == moved and r[1] == 40001 for r in tf_after[h])
        for h in moved_hosts
        if after["firewall"]["value"]["ports"][moved]["sources"]
        or after["firewall"]["value"]["ports"][moved]["client_cidrs"]
    )
    taskmanager = after["hosts"]["value"][after["groups"]["value"]["flink_taskmanager"][0]]["address"] + "/32"
    assert taskmanager in after["firewall"]["value"]["ports"][widened]["sources"]
    assert taskmanager not in before["firewall"]["value"]["ports"][widened]["sources"]
