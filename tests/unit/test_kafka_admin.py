"""The role's admin tasks run by Ansible itself (tasks/admin.yml with users.yml, acls.yml and
topics.yml) against a stand-in for Kafka's tools (fixtures/kafka/fake_kafka.py: the cluster as a
JSON file, the 4.x tools' output formats) behind the real tool wrapper: the declared users, ACLs
and topics are applied from the first broker, each tool read before it writes; the second run
changes nothing; a new partition count, a changed topic config, a rotated password, a user and a
topic declared absent, an undeclared ACL are each one write; check mode writes nothing but says
what a run would change; what Kafka cannot do in place stops the run."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from helpers import REPO, run_playbook

PLAY = """
- name: The admin step of roles/kafka, after its apply step
  hosts: kafka_controller:kafka_broker
  gather_facts: false
  tasks:
    - name: Users, ACLs and topics as declared
      ansible.builtin.include_role:
        name: kafka
        tasks_from: admin.yml
"""
INVENTORY = """
all:
  children:
    kafka_controller:
      hosts:
        a1: {ansible_host: 198.51.100.81}
        a2: {ansible_host: 198.51.100.82}
        a3: {ansible_host: 198.51.100.83}
    kafka_broker:
      hosts:
        a1: {}
        a2: {}
        a3: {}
"""
DATA = {
    "kafka_users": [{"name": "orders-app"}, {"name": "analytics"}],
    "kafka_acls": [
        {"principal": "orders-app", "name": "orders", "operations": ["Write", "Describe"]},
        {"principal": "analytics", "name": "orders", "operations": ["Read", "Describe"]},
        {"principal": "analytics", "resource_type": "group", "name": "analytics-", "pattern_type": "prefixed",
         "operations": ["Read"]},
    ],
    "kafka_topics": [
        {"name": "orders", "partitions": 3, "replication_factor": 3, "configs": {"min.insync.replicas": 2}},
        {"name": "events", "partitions": 1, "configs": {"retention.ms": 86400000, "cleanup.policy": "delete"}},
    ],
}


@pytest.fixture()
def cluster(tmp_path):
    home = tmp_path / "kafka-home"
    (home / "bin").mkdir(parents=True)
    for tool in ("kafka-configs.sh", "kafka-acls.sh", "kafka-topics.sh", "kafka-metadata-quorum.sh",
                 "kafka-broker-api-versions.sh"):
        (home / "bin" / tool).symlink_to(REPO / "tests" / "unit" / "fixtures" / "kafka" / "fake_kafka.py")
    conf = tmp_path / "conf"
    conf.mkdir()
    state = tmp_path / "cluster.json"
    (conf / "tools.env").write_text(f"KAFKA_HOME={home}\nFAKE_KAFKA_STATE={state}\n"
                                    f"FAKE_KAFKA_ADMIN_CONFIG={conf}/admin.properties\n", encoding="utf-8")
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "hosts.yml").write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    return tmp_path


def run(cluster: Path, data: dict, *args: str):
    variables = {
        "platform_credentials_dir": str(cluster / "credentials"), "platform_environment": "test",
        "platform_admin_cidrs": ["198.51.100.0/24"], "kafka_install": True,
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "_kafka_libexec": str(REPO / "roles" / "kafka" / "files"), "_kafka_conf_dir": str(cluster / "conf"),
        **data,
    }
    (cluster / "vars.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    return run_playbook(str(cluster / "play.yml"), cluster / "inv", "-e", f"@{cluster / 'vars.yml'}", *args)


def state(cluster: Path) -> dict:
    return json.loads((cluster / "cluster.json").read_text(encoding="utf-8"))


def writes(cluster: Path) -> list[list[str]]:
    calls = [json.loads(line) for line in (cluster / "cluster.json.calls").read_text().splitlines()]
    return [c for c in calls if any(a in c for a in ("--alter", "--add", "--remove", "--create", "--delete"))]


def changed(result) -> int:
    recap = result.stdout.split("PLAY RECAP")[1]
    return sum(int(n) for n in re.findall(r"changed=(\d+)", recap))


def test_declared_state_is_applied_once_and_then_nothing_changes(cluster):
    first = run(cluster, DATA)
    assert first.returncode == 0, first.stdout[-4000:]
    s = state(cluster)
    password = (cluster / "credentials" / "kafka_scram_password" / "orders-app").read_text().split()[0]
    assert s["users"]["orders-app"]["SCRAM-SHA-512"] == {"iterations": 8192, "password": password}
    assert set(s["users"]) == {"orders-app", "analytics"}
    assert password not in first.stdout
    assert sorted(map(tuple, s["acls"])) == [
        ("GROUP", "analytics-", "PREFIXED", "User:analytics", "*", "READ", "ALLOW"),
        ("TOPIC", "orders", "LITERAL", "User:analytics", "*", "DESCRIBE", "ALLOW"),
        ("TOPIC", "orders", "LITERAL", "User:analytics", "*", "READ", "ALLOW"),
        ("TOPIC", "orders", "LITERAL", "User:orders-app", "*", "DESCRIBE", "ALLOW"),
        ("TOPIC", "orders", "LITERAL", "User:orders-app", "*", "WRITE", "ALLOW"),
    ]
    assert s["topics"]["orders"] == {"partitions": 3, "rf": 3, "configs": {"min.insync.replicas": "2"}}
    # no replication_factor declared: the cluster's default for 3 brokers
    assert s["topics"]["events"] == {"partitions": 1, "rf": 3,
                                     "configs": {"retention.ms": "86400000", "cleanup.policy": "delete"}}
    # every write came from the first broker, one per user, one ACL call per principal and resource, one per topic
    assert len(writes(cluster)) == 2 + 3 + 2
    credential = cluster / "conf" / "users" / "orders-app.properties"
    assert oct(credential.stat().st_mode & 0o777) == "0o600"

    second = run(cluster, DATA)
    assert second.returncode == 0, second.stdout[-4000:]
    assert changed(second) == 0 and len(writes(cluster)) == 7


def test_changes_are_single_writes_and_check_mode_only_reports(cluster):
    assert run(cluster, DATA).returncode == 0
    (cluster / "credentials" / "kafka_scram_password" / "analytics").write_text("rotated-password-0123456789\n")
    state_before = state(cluster)
    # an undeclared ACL (made by hand): removed, since kafka_acls_exclusive is true
    state_before["acls"].append(["TOPIC", "orders", "LITERAL", "User:old-app", "*", "READ", "ALLOW"])
    (cluster / "cluster.json").write_text(json.dumps(state_before))
    data = json.loads(json.dumps(DATA))
    data["kafka_users"][0]["state"] = "absent"
    data["kafka_topics"][0]["partitions"] = 6
    data["kafka_topics"][1]["configs"] = {"retention.ms": 3600000}
    data["kafka_topics"].append({"name": "gone", "state": "absent"})
    data["kafka_acls"] = data["kafka_acls"][1:]  # orders-app loses its ACLs too

    check = run(cluster, data, "--check")
    assert check.returncode == 0, check.stdout[-4000:]
    assert state(cluster) == state_before and len(writes(cluster)) == 7
    assert changed(check) > 0 and "partitions of orders: 3 -> 6" in check.stdout

    real = run(cluster, data)
    assert real.returncode == 0, real.stdout[-4000:]
    s = state(cluster)
    assert "orders-app" not in s["users"]
    assert s["users"]["analytics"]["SCRAM-SHA-512"]["password"] == "rotated-password-0123456789"
    assert s["topics"]["orders"]["partitions"] == 6
    assert s["topics"]["events"]["configs"] == {"retention.ms": "3600000"}
    assert not any(a[3] in ("User:old-app", "User:orders-app") for a in s["acls"])
    new = writes(cluster)[7:]
    # user delete, password set, one ACL removal call per principal, partitions, configs
    assert len(new) == 1 + 1 + 2 + 1 + 1, new
    assert run(cluster, data).stdout.count("changed=0") == 3


def test_what_kafka_cannot_do_in_place_stops_the_run(cluster):
    assert run(cluster, DATA).returncode == 0
    data = json.loads(json.dumps(DATA))
    data["kafka_topics"][0].update(partitions=2, replication_factor=2, configs={"min.insync.replicas": 1})
    result = run(cluster, data)
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert "Kafka cannot remove partitions" in out and "partition reassignment" in out
    assert state(cluster)["topics"]["orders"]["partitions"] == 3


def test_a_controller_that_is_not_a_voter_is_named(cluster):
    (cluster / "cluster.json").write_text(json.dumps({"users": {}, "acls": [], "topics": {}, "voters": [3000, 3002],
                                                      "leader": 3000}))
    result = run(cluster, {"kafka_acls_exclusive": False})
    assert result.returncode == 0, result.stdout[-4000:]
    out = " ".join(result.stdout.split())
    assert "the controllers a2 (3001) are not voters of the quorum" in out


HOOKS = """
- name: The brokers' restart hooks of roles/kafka, as the service skeleton includes them
  hosts: a1
  gather_facts: false
  tasks:
    - name: Before a restart of a2
      ansible.builtin.include_role:
        name: kafka
        tasks_from: restart_broker_before.yml
      vars:
        _service_unit: {host: a2, name: kafka-broker, action: "{{ action }}", node_id: 2}
    - name: After the (re)start of a2
      ansible.builtin.include_role:
        name: kafka
        tasks_from: restart_broker_health.yml
      vars:
        _service_target: {host: a2, name: kafka-broker, node_id: 2}
"""


@pytest.mark.parametrize(("cluster_state", "action", "ok", "message"), [
    ({"registered": [1, 2, 3], "urp": []}, "restart", True, ""),
    ({"registered": [1, 2, 3], "urp": [["orders", 1]]}, "restart", False,
     "Wait until no partition is under-replicated before restarting a2"),
    ({"registered": [1, 2, 3], "urp": [["orders", 1]]}, "start", False,  # a start waits for nothing before...
     "Wait until no partition is under-replicated after the (re)start of a2"),  # ... but after, like a restart
    ({"registered": [1, 3], "urp": []}, "restart", False, "Wait until the cluster lists the broker again - a2"),
])
def test_broker_hooks_wait_for_in_sync_replicas_and_the_registration(cluster, cluster_state, action, ok, message):
    (cluster / "cluster.json").write_text(json.dumps({"users": {}, "acls": [], "topics": {}, "voters": [3000],
                                                      "leader": 3000, **cluster_state}))
    (cluster / "play.yml").write_text(HOOKS, encoding="utf-8")
    result = run(cluster, {"kafka_health_timeout": 1, "action": action})
    assert (result.returncode == 0) is ok, result.stdout[-3000:]
    if not ok:
        # the task that failed is the TASK header before the first "fatal:"
        before = result.stdout.split("fatal:", 1)[0]
        assert message in before.rsplit("TASK [", 1)[1], result.stdout[-3000:]
