"""Kafka filters (ansible/plugins/filter/fdp_kafka.py): ids, the listener/security map and Kafka's own
listener rules, sizing, the preflight rules, and the desired state of users, ACLs and topics with
the diff against what the 4.x tools print (hand-written samples of their output formats:
AclCommand, TopicCommand, ConfigCommand, MetadataQuorumCommand, BrokerApiVersionsCommand)."""

from __future__ import annotations

import base64
import textwrap

import pytest
import yaml

from fdp_config import catalog_errors, settings
from fdp_kafka import (
    KafkaError,
    acl_commands,
    acl_diff,
    acl_errors,
    acls_desired,
    check_server,
    count_partition_lines,
    format_args,
    format_plan,
    initial_controllers,
    jaas_config,
    jvm_environment,
    kafka_uuid,
    listener_settings,
    missing_voters,
    node_id_errors,
    node_ids,
    parse_acls,
    parse_broker_ids,
    parse_quorum_status,
    parse_scram_users,
    parse_topic_configs,
    parse_topics,
    quorum_bootstrap,
    replication_defaults,
    replication_errors,
    reserved_keys,
    scram_file,
    security_settings,
    server_errors,
    sizing,
    super_users,
    tls_settings,
    topic_commands,
    topic_errors,
    topic_plan,
    topics_normalized,
    topology_errors,
    topology_warnings,
    user_errors,
    user_plan,
)
from helpers import REPO

PORTS = yaml.safe_load((REPO / "roles/platform/defaults/main/ports.yml").read_text())["platform_ports"]
HOSTVARS = {"c1": {"ansible_host": "10.0.0.1"}, "c2": {"ansible_host": "10.0.0.2"}, "c3": {"ansible_host": "10.0.0.3"},
            "b4": {"ansible_host": "10.0.0.4"}, "v6": {"ansible_host": "fd00::5"}}
CONTROLLERS = ["c1", "c2", "c3"]
BROKERS = ["c1", "c2", "c3", "b4"]


# --- ids --------------------------------------------------------------------------------------------
def test_uuid_from_hex_is_what_random_uuid_prints():
    uuid = kafka_uuid("0123456789abcdef0123456789abcdef")
    assert uuid == "ASNFZ4mrze8BI0VniavN7w" and len(uuid) == 22
    raw = base64.urlsafe_b64decode(uuid + "==")
    assert raw == bytes.fromhex("0123456789abcdef0123456789abcdef")  # first byte < 0x80 stays as it is


def test_uuid_never_starts_with_a_dash_and_keeps_a_kafka_uuid():
    assert kafka_uuid("f" * 32)[0] not in "-_"
    assert kafka_uuid("F8" + "0" * 30)[0] not in "-_"  # 0xf8 would encode as '-'
    assert kafka_uuid("fMCL8kv1SWm87L_Md-I2hg") == "fMCL8kv1SWm87L_Md-I2hg"  # upstream's docs example


@pytest.mark.parametrize("bad", ["fMCL8kv1SWm87L_Md-I2hh", "-MCL8kv1SWm87L_Md-I2hg", "0" * 32, "0" * 30 + "01",
                                 "not-a-uuid", "AAAAAAAAAAAAAAAAAAAAAA"])
def test_uuid_refuses_non_canonical_reserved_and_garbage(bad):
    with pytest.raises(KafkaError):
        kafka_uuid(bad)


def test_node_ids_from_inventory_positions_and_pins():
    ids = node_ids(CONTROLLERS, BROKERS, HOSTVARS)
    assert ids["c1"] == {"controller": 3000, "broker": 1}
    assert ids["c3"] == {"controller": 3002, "broker": 3}
    assert ids["b4"] == {"controller": None, "broker": 4}
    pinned = node_ids(CONTROLLERS, BROKERS, {**HOSTVARS, "b4": {"kafka_broker_node_id": 7}})
    assert pinned["b4"]["broker"] == 7 and node_id_errors(pinned) == []


def test_node_id_collisions_are_reported():
    ids = node_ids(CONTROLLERS, BROKERS, {"b4": {"kafka_broker_node_id": 2}, "c1": {"kafka_controller_node_id": 3001}})
    errors = node_id_errors(ids)
    assert any("node id 2 is given to both" in e for e in errors)
    assert any("node id 3001 is given to both" in e for e in errors)
    assert node_id_errors({"x": {"controller": -5, "broker": None}})[0].startswith("host x: controller node id -5")


def test_quorum_strings():
    assert quorum_bootstrap(CONTROLLERS, HOSTVARS, 9093) == "10.0.0.1:9093,10.0.0.2:9093,10.0.0.3:9093"
    assert quorum_bootstrap(["v6"], HOSTVARS, 9093) == "[fd00::5]:9093"
    ids = node_ids(CONTROLLERS, BROKERS, HOSTVARS)
    dirs = {h: f"{i:x}" * 32 for i, h in enumerate(CONTROLLERS, start=1)}
    text = initial_controllers(CONTROLLERS, HOSTVARS, 9093, ids, dirs)
    first = text.split(",")[0]
    assert first == f"3000@10.0.0.1:9093:{kafka_uuid(dirs['c1'])}"
    assert len(text.split(",")) == 3


# --- listeners and security --------------------------------------------------------------------------
def test_controller_listens_on_the_controller_listener_only_with_mutual_tls():
    s = listener_settings("controller", "10.0.0.1", PORTS, CONTROLLERS, HOSTVARS)
    assert s["process.roles"] == "controller"
    assert s["listeners"] == "CONTROLLER://0.0.0.0:9093"
    assert s["advertised.listeners"] == "CONTROLLER://10.0.0.1:9093"
    assert s["listener.security.protocol.map"] == "CONTROLLER:SSL"
    assert s["listener.name.controller.ssl.client.auth"] == "required"
    assert s["controller.quorum.bootstrap.servers"] == "10.0.0.1:9093,10.0.0.2:9093,10.0.0.3:9093"
    assert "sasl.enabled.mechanisms" not in s  # no SCRAM on the controller listener


def test_broker_replicates_over_mtls_and_serves_clients_over_scram():
    s = listener_settings("broker", "10.0.0.4", PORTS, CONTROLLERS, HOSTVARS)
    assert s["listeners"] == "BROKER://0.0.0.0:9091,CLIENT://0.0.0.0:9092"
    assert s["advertised.listeners"] == "BROKER://10.0.0.4:9091,CLIENT://10.0.0.4:9092"
    assert s["listener.security.protocol.map"] == "BROKER:SSL,CLIENT:SASL_SSL,CONTROLLER:SSL"
    assert s["inter.broker.listener.name"] == "BROKER" and s["controller.listener.names"] == "CONTROLLER"
    assert s["listener.name.broker.ssl.client.auth"] == "required"
    assert s["listener.name.client.ssl.client.auth"] == "none"
    assert s["sasl.enabled.mechanisms"] == s["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert s["listener.name.client.scram-sha-512.sasl.jaas.config"].startswith(
        "org.apache.kafka.common.security.scram.ScramLoginModule required")
    assert "PLAINTEXT" not in " ".join(map(str, s.values()))


def full(role: str, **extra) -> dict:
    return {**listener_settings(role, "10.0.0.1", PORTS, CONTROLLERS, HOSTVARS), **tls_settings("/t", "k", "t"),
            **security_settings(BROKERS, "admin"), **extra}


@pytest.mark.parametrize("role", ["controller", "broker"])
def test_rendered_settings_pass_kafkas_listener_rules_and_the_catalog(role):
    assert server_errors(full(role)) == []
    assert check_server(full(role)) == full(role)
    assert catalog_errors(full(role).keys(), "kafka", "server") == []


@pytest.mark.parametrize(("change", "message"), [
    ({"listener.security.protocol.map": "BROKER:SSL,CLIENT:SASL_PLAINTEXT,CONTROLLER:SSL"},
     "CLIENT uses SASL_PLAINTEXT"),
    ({"advertised.listeners": "BROKER://0.0.0.0:9091,CLIENT://10.0.0.1:9092"}, "non-routable"),
    ({"listeners": "BROKER://0.0.0.0:9091,CLIENT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093"},
     "may not listen on the controller listener"),
    ({"inter.broker.listener.name": "CLIENT"}, "must replicate over SSL"),
    ({"controller.quorum.bootstrap.servers": ""}, "kafka_controller group has no hosts"),
    ({"controller.quorum.voters": "1@x:9093"}, "must not be set with a dynamic quorum"),
    ({"process.roles": "broker,controller"}, "one process per role"),
    ({"ssl.client.auth": "requested"}, "ssl.client.auth must be required"),
])
def test_broken_broker_settings_are_refused(change, message):
    errors = server_errors(full("broker", **change))
    assert any(message in e for e in errors), errors
    with pytest.raises(KafkaError, match=message.split(" ")[0]):
        check_server(full("broker", **change))


def test_a_controller_with_scram_or_a_client_listener_is_refused():
    errors = server_errors(full("controller", **{"listener.security.protocol.map": "CONTROLLER:SASL_SSL"}))
    assert any("must be SSL (SCRAM cannot authenticate controllers)" in e for e in errors)
    errors = server_errors(full("controller", listeners="CONTROLLER://0.0.0.0:9093,CLIENT://0.0.0.0:9092",
                                **{"listener.security.protocol.map": "CONTROLLER:SSL,CLIENT:SSL"}))
    assert any("controller listener only" in e for e in errors)


def test_super_users_are_the_hosts_and_the_admin_separated_by_semicolons():
    assert super_users(["c2", "c1", "c2"], "admin") == "User:c1;User:c2;User:admin"
    s = security_settings(["c1"], "admin")
    assert s["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert s["allow.everyone.if.no.acl.found"] is False
    assert s["ssl.principal.mapping.rules"] == "RULE:^CN=([^,]+)(,.*)?$/$1/,DEFAULT"


def test_tls_uses_the_pki_stores_and_verifies_host_names():
    s = tls_settings("/etc/fdp/tls", "ks", "ts")
    assert s["ssl.keystore.location"] == "/etc/fdp/tls/keystore.p12" and s["ssl.keystore.type"] == "PKCS12"
    assert tls_settings("/etc/fdp/tls", "ks", "ts", "/etc/fdp/tls/private/kafka/keystore.p12")["ssl.keystore.location"] \
        == "/etc/fdp/tls/private/kafka/keystore.p12"
    assert s["ssl.keystore.password"] == s["ssl.key.password"] == "ks"
    assert s["ssl.truststore.location"] == "/etc/fdp/tls/truststore.p12" and s["ssl.truststore.password"] == "ts"
    assert s["ssl.endpoint.identification.algorithm"] == "https" and s["ssl.client.auth"] == "required"


def test_reserved_keys_cover_everything_the_wiring_renders():
    reserved = reserved_keys()
    for role in ("controller", "broker"):
        wiring = {**listener_settings(role, "10.0.0.1", PORTS, CONTROLLERS, HOSTVARS), **tls_settings("/t", "k", "t"),
                  **security_settings(BROKERS, "admin"), "node.id": 1, "log.dirs": "/d"}
        missing = [k for k in wiring if k not in reserved]
        assert missing == [], missing
    assert "num.io.threads" not in reserved and "default.replication.factor" not in reserved
    assert reserved["ssl.keystore.password"].startswith("TLS from the platform PKI")
    assert reserved["listener.name.client.sasl.enabled.mechanisms"] == "listeners are the platform's"
    with pytest.raises(Exception, match="kafka_broker_config_overrides sets 'listeners', which the platform owns"):
        settings([{}], {"listeners": "PLAINTEXT://:9092"}, component="kafka", section="server", reserved=reserved,
                 variable="kafka_broker_config_overrides")


def test_jaas_config_refuses_characters_that_break_it():
    assert jaas_config("admin", "s3cret") == ('org.apache.kafka.common.security.scram.ScramLoginModule required '
                                              'username="admin" password="s3cret";')
    for bad in ('a"b', "a b", "a;b", "a\\b"):
        with pytest.raises(KafkaError):
            jaas_config("admin", bad)


# --- sizing -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("mem", "cpus", "broker_heap", "net", "io", "fetchers"), [
    (2048, 2, 512, 3, 8, 1),        # floor
    (16384, 8, 4096, 4, 8, 2),
    (65536, 32, 6144, 16, 32, 4),   # upstream's 6 GiB cap; threads capped
    (262144, 96, 6144, 16, 64, 4),
])
def test_broker_sizing(mem, cpus, broker_heap, net, io, fetchers):
    sized = sizing(mem, cpus, broker=True)
    assert sized["broker"]["heap_mb"] == broker_heap
    assert sized["broker"]["settings"] == {"num.network.threads": net, "num.io.threads": io,
                                           "num.replica.fetchers": fetchers}
    assert sized["broker"]["heap_mb"] <= mem // 4 or sized["broker"]["heap_mb"] == 512


def test_io_threads_cover_every_disk_and_controller_heaps_share_the_host():
    assert sizing(8192, 4, log_dirs=12)["broker"]["settings"]["num.io.threads"] == 12
    alone = sizing(16384, 4, broker=False, controller=True)["controller"]["heap_mb"]
    beside = sizing(16384, 4, broker=True, controller=True)["controller"]["heap_mb"]
    assert alone == 2048 and beside == 1024
    assert sizing(1024, 1, broker=False, controller=True)["controller"]["heap_mb"] == 256


def test_explicit_heaps_win_but_must_leave_half_the_ram():
    sized = sizing(8192, 4, broker=True, controller=True, broker_heap_mb=2000, controller_heap_mb=500)
    assert sized["broker"]["heap_mb"] == 2000 and sized["controller"]["heap_mb"] == 500
    with pytest.raises(KafkaError, match="more than half"):
        sizing(8192, 4, broker=True, controller=True, broker_heap_mb=4000, controller_heap_mb=500)


def test_jvm_environment_follows_upstream():
    small, large = jvm_environment(512), jvm_environment(6144)
    assert small["KAFKA_HEAP_OPTS"] == "-Xms512m -Xmx512m"
    flags = small["KAFKA_JVM_PERFORMANCE_OPTS"].split()
    assert "-XX:+UseG1GC" in flags and "-XX:MaxGCPauseMillis=20" in flags
    assert "G1HeapRegionSize" not in small["KAFKA_JVM_PERFORMANCE_OPTS"]
    assert "-XX:G1HeapRegionSize=16M" in large["KAFKA_JVM_PERFORMANCE_OPTS"]


def test_replication_defaults_follow_the_broker_count():
    assert replication_defaults(5)["default.replication.factor"] == 3
    assert replication_defaults(5)["min.insync.replicas"] == 2
    assert replication_defaults(2)["default.replication.factor"] == 2
    assert replication_defaults(2)["min.insync.replicas"] == 1
    assert replication_defaults(1)["offsets.topic.replication.factor"] == 1
    assert replication_defaults(1)["transaction.state.log.min.isr"] == 1
    assert catalog_errors(replication_defaults(3).keys(), "kafka", "server") == []


# --- preflight rules ------------------------------------------------------------------------------------
def test_topology_rules():
    assert topology_errors(CONTROLLERS, BROKERS, HOSTVARS) == []
    assert "needs an odd number" in topology_errors(["c1", "c2"], BROKERS, HOSTVARS)[0]
    assert "kafka_controller is empty" in topology_errors([], ["b4"], HOSTVARS)[0]
    assert "kafka_broker is empty" in topology_errors(["c1"], [], HOSTVARS)[0]
    assert "named like kafka_admin_user" in topology_errors(["admin"], ["admin"], {})[0]
    assert topology_errors([], [], {}) == []
    assert "single point of failure" in topology_warnings(["c1"], ["c1"])[0]
    assert topology_warnings(CONTROLLERS, BROKERS) == []


def test_replication_rules():
    assert replication_errors(replication_defaults(3), 3) == []
    errors = replication_errors({**replication_defaults(3), "default.replication.factor": 4}, 3)
    assert any("default.replication.factor 4 is more than the 3 broker(s)" in e for e in errors)
    errors = replication_errors({**replication_defaults(3), "min.insync.replicas": 3}, 3)
    assert any("min.insync.replicas 3 is not below default.replication.factor 3" in e for e in errors)
    assert replication_errors({**replication_defaults(3), "default.replication.factor": None}, 3) == []


def test_topic_rules_and_the_catalog():
    ok = [{"name": "orders", "partitions": 6, "replication_factor": 3, "configs": {"min.insync.replicas": 2}}]
    assert topic_errors(ok, 3, 3, 2) == []
    errors = topic_errors([{"name": "big", "replication_factor": 4}], 3, 3, 2)
    assert errors == ["kafka_topics 'big': replication_factor 4 must be 1..3 (the brokers of kafka_broker)"]
    errors = topic_errors([{"name": "t", "replication_factor": 3, "configs": {"min.insync.replicas": 3}}], 3, 3, 2)
    assert "min.insync.replicas 3 is not below replication_factor 3" in errors[0]
    errors = topic_errors([{"name": "t", "configs": {"retention.msx": 1}}], 3, 3, 2)
    assert "'retention.msx' is not a kafka 4.2.1 topic key (did you mean 'retention.ms'?)" in errors[0]
    assert topic_errors([{"name": "t", "configs": {"my.plugin": 1}}], 3, 3, 2, unchecked=["my.plugin"]) == []
    errors = topic_errors([{"name": "__consumer_offsets"}, {"name": "a b"}, {"name": "d"}, {"name": "d"},
                           {"name": "p", "partitions": 0}, {"name": "x", "partition": 3}], 3, 3, 2)
    text = " ".join(errors)
    for part in ("internal topics", "1-249 of", "declared twice", "partitions must be at least 1", "unknown fields"):
        assert part in text, text
    # the cluster default min.insync.replicas applies to topics that do not set one
    assert "is not below replication_factor 2" in topic_errors([{"name": "t", "replication_factor": 2}], 3, 3, 2)[0]


def test_user_and_acl_rules():
    assert user_errors([{"name": "orders-app"}], BROKERS, "admin") == []
    text = " ".join(user_errors([{"name": "c1"}, {"name": "admin"}, {"name": "a b"}, {"name": "u", "state": "gone"}],
                                BROKERS, "admin"))
    assert "'c1' is a super user" in text and "'admin' is a super user" in text and "1-128" in text and "state" in text
    assert acl_errors([{"principal": "app", "name": "t", "operations": ["Read", "describe_configs", "IdempotentWrite"]},
                       {"principal": "User:x", "resource_type": "cluster", "operations": ["All"]}]) == []
    text = " ".join(acl_errors([{"principal": "app", "operations": ["Read"]},
                                {"principal": "app", "name": "t", "operations": ["Fly"]},
                                {"principal": "app", "name": "t", "operations": ["Read"], "host": "db.example"},
                                {"principal": "app", "name": "t", "operations": ["Read"], "resource_type": "table"}]))
    for part in ("needs a name", "unknown: Fly", "host must be", "resource_type must be"):
        assert part in text, text


# --- ACLs ------------------------------------------------------------------------------------------------
ACL_LIST = textwrap.dedent("""\
    Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:
     \t(principal=User:orders-app, host=*, operation=WRITE, permissionType=ALLOW)
    \t(principal=User:orders-app, host=*, operation=DESCRIBE, permissionType=ALLOW)
    \t(principal=User:old-app, host=*, operation=READ, permissionType=ALLOW)

    Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=analytics-, patternType=PREFIXED)`:
     \t(principal=User:analytics, host=*, operation=READ, permissionType=ALLOW)

    Current ACLs for resource `ResourcePattern(resourceType=CLUSTER, name=kafka-cluster, patternType=LITERAL)`:
     \t(principal=User:ops, host=10.0.0.9, operation=DESCRIBE_CONFIGS, permissionType=DENY)
    """)
DECLARED = [
    {"principal": "orders-app", "name": "orders", "operations": ["Write", "Describe"]},
    {"principal": "User:analytics", "resource_type": "group", "name": "analytics-", "pattern_type": "prefixed",
     "operations": ["read"]},
    {"principal": "analytics", "name": "orders", "operations": ["Read", "Describe"]},
    {"principal": "ops", "resource_type": "cluster", "operations": ["DescribeConfigs"], "permission": "deny",
     "host": "10.0.0.9"},
]


def test_acl_list_output_is_parsed():
    current = parse_acls(ACL_LIST)
    assert len(current) == 5
    assert {"resource_type": "CLUSTER", "name": "kafka-cluster", "pattern_type": "LITERAL", "principal": "User:ops",
            "host": "10.0.0.9", "operation": "DESCRIBE_CONFIGS", "permission": "DENY"} in current
    assert parse_acls("") == []


def test_acl_diff_adds_the_missing_and_removes_the_undeclared():
    diff = acl_diff(acls_desired(DECLARED), parse_acls(ACL_LIST))
    assert [(b["principal"], b["operation"]) for b in diff["add"]] == [("User:analytics", "DESCRIBE"),
                                                                      ("User:analytics", "READ")]
    assert [(b["principal"], b["operation"]) for b in diff["remove"]] == [("User:old-app", "READ")]
    assert acl_diff(acls_desired(DECLARED), parse_acls(ACL_LIST), exclusive=False)["remove"] == []
    # converged: nothing to do
    assert acl_diff(acls_desired(DECLARED), acls_desired(DECLARED)) == {"add": [], "remove": []}


def test_acl_commands_group_operations_per_binding():
    diff = acl_diff(acls_desired(DECLARED), parse_acls(ACL_LIST))
    commands = acl_commands(diff, ["kafka-acls.sh", "--bootstrap-server", "b:9092"])
    assert [c["argv"][3:] for c in commands] == [
        ["--remove", "--allow-principal", "User:old-app", "--allow-host", "*", "--operation", "Read",
         "--topic", "orders", "--resource-pattern-type", "literal", "--force"],
        ["--add", "--allow-principal", "User:analytics", "--allow-host", "*", "--operation", "Describe",
         "--operation", "Read", "--topic", "orders", "--resource-pattern-type", "literal"],
    ]
    cluster = acl_commands({"add": acls_desired([DECLARED[3]])}, ["t"])[0]["argv"]
    assert cluster == ["t", "--add", "--deny-principal", "User:ops", "--deny-host", "10.0.0.9",
                       "--operation", "DescribeConfigs", "--cluster", "--resource-pattern-type", "literal"]


def test_unexpected_acl_output_is_an_error():
    with pytest.raises(KafkaError):
        parse_acls("\t(principal=User:x, host=*, operation=READ, permissionType=ALLOW)\n")


# --- topics ---------------------------------------------------------------------------------------------
TOPICS = ("Topic: orders\tTopicId: mF6GUi8dQkqZ8dhTL7ULyQ\tPartitionCount: 3\tReplicationFactor: 3\t"
          "Configs: min.insync.replicas=2,cleanup.policy=delete\n"
          "\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\tElr: \tLastKnownElr: \n"
          "\tTopic: orders\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3\tElr: \tLastKnownElr: \n"
          "\tTopic: orders\tPartition: 2\tLeader: 3\tReplicas: 3,1,2\tIsr: 3,1,2\tElr: \tLastKnownElr: \n"
          "Topic: logs\tTopicId: 2Qm0vJxYQpa8i7mVtsXw0A\tPartitionCount: 1\tReplicationFactor: 2\tConfigs: \n"
          "\tTopic: logs\tPartition: 0\tLeader: 4\tReplicas: 4,1\tIsr: 4,1\tElr: N/A\tLastKnownElr: N/A\n")
CONFIGS = ("Dynamic configs for topic orders are:\n"
           "  min.insync.replicas=2 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:min.insync.replicas=2, "
           "STATIC_BROKER_CONFIG:min.insync.replicas=2, DEFAULT_CONFIG:min.insync.replicas=1}\n"
           "  cleanup.policy=delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=delete, "
           "DEFAULT_CONFIG:log.cleanup.policy=delete}\n"
           "Dynamic configs for topic logs are:\n")


def test_topic_and_config_output_is_parsed():
    assert parse_topics(TOPICS) == {"orders": {"partitions": 3, "replication_factor": 3},
                                    "logs": {"partitions": 1, "replication_factor": 2}}
    assert parse_topic_configs(CONFIGS) == {"orders": {"min.insync.replicas": "2", "cleanup.policy": "delete"},
                                            "logs": {}}
    urp = "\tTopic: orders\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3\tElr: \tLastKnownElr: \n"
    assert count_partition_lines(urp) == 1 and count_partition_lines("") == 0
    assert count_partition_lines(TOPICS) == 4


def test_converged_topics_plan_nothing():
    desired = topics_normalized([{"name": "orders", "partitions": 3, "replication_factor": 3,
                                  "configs": {"min.insync.replicas": 2, "cleanup.policy": "delete"}}], 3)
    assert topic_plan(desired, parse_topics(TOPICS), parse_topic_configs(CONFIGS)) == {"actions": [], "errors": []}


def test_topic_plan_creates_grows_configures_and_deletes():
    desired = topics_normalized([
        {"name": "orders", "partitions": 6, "replication_factor": 3, "configs": {"min.insync.replicas": 2,
                                                                               "retention.ms": 86400000}},
        {"name": "events", "partitions": 2, "configs": {"cleanup.policy": ["compact", "delete"]}},
        {"name": "logs", "state": "absent"},
    ], 3)
    plan = topic_plan(desired, parse_topics(TOPICS), parse_topic_configs(CONFIGS))
    assert plan["errors"] == []
    assert plan["actions"] == [
        {"action": "partitions", "topic": "orders", "from": 3, "to": 6},
        {"action": "configs", "topic": "orders", "set": {"retention.ms": "86400000"}, "delete": ["cleanup.policy"]},
        {"action": "create", "topic": "events", "partitions": 2, "replication_factor": 3,
         "configs": {"cleanup.policy": "compact,delete"}},
        {"action": "delete", "topic": "logs"},
    ]
    commands = [c["argv"] for c in topic_commands(plan, ["kt"], ["kc"])]
    assert commands == [
        ["kt", "--alter", "--topic", "orders", "--partitions", "6"],
        ["kc", "--alter", "--entity-type", "topics", "--entity-name", "orders", "--add-config", "retention.ms=86400000",
         "--delete-config", "cleanup.policy"],
        ["kt", "--create", "--topic", "events", "--partitions", "2", "--replication-factor", "3",
         "--config", "cleanup.policy=compact,delete"],
        ["kt", "--delete", "--topic", "logs"],
    ]
    grouped = {"action": "configs", "topic": "t", "set": {"cleanup.policy": "compact,delete"}, "delete": []}
    values = topic_commands({"actions": [grouped]}, ["kt"], ["kc"])[0]["argv"]
    assert values[-2:] == ["--add-config", "cleanup.policy=[compact,delete]"]  # ConfigCommand's grouping


def test_topic_plan_refuses_shrinking_and_replication_changes():
    desired = topics_normalized([{"name": "orders", "partitions": 2, "replication_factor": 2,
                                  "configs": {"min.insync.replicas": 1}}], 3)
    errors = topic_plan(desired, parse_topics(TOPICS), parse_topic_configs(CONFIGS))["errors"]
    assert any("cannot remove partitions" in e for e in errors)
    assert any("partition reassignment" in e for e in errors)


# --- users ---------------------------------------------------------------------------------------------
USERS = ("Quota configs for user-principal 'orders-app' are producer_byte_rate=1048576.0\n"
         "SCRAM credential configs for user-principal 'admin' are SCRAM-SHA-512=iterations=8192\n"
         "SCRAM credential configs for user-principal 'orders-app' are SCRAM-SHA-256=iterations=4096, "
         "SCRAM-SHA-512=iterations=8192\n"
         "SCRAM credential configs for user-principal 'legacy' are SCRAM-SHA-256=iterations=4096\n")


def test_user_output_and_plan():
    current = parse_scram_users(USERS)
    assert current == {"admin": {"SCRAM-SHA-512": 8192},
                       "orders-app": {"SCRAM-SHA-256": 4096, "SCRAM-SHA-512": 8192},
                       "legacy": {"SCRAM-SHA-256": 4096}}
    users = [{"name": "orders-app"}, {"name": "legacy"}, {"name": "new"}, {"name": "admin", "state": "absent"},
             {"name": "ghost", "state": "absent"}]
    assert user_plan(users, current) == {"upsert": ["legacy", "new"], "delete": ["admin"]}
    assert user_plan(users, current, changed=["orders-app"])["upsert"] == ["legacy", "new", "orders-app"]
    assert user_plan([{"name": "orders-app"}], current) == {"upsert": [], "delete": []}


def test_scram_file_is_a_properties_value_without_brackets():
    assert scram_file("pw") == {"SCRAM-SHA-512": "iterations=8192,password=pw"}


# --- quorum, brokers, storage ------------------------------------------------------------------------------
STATUS = textwrap.dedent("""\
    ClusterId:              fMCL8kv1SWm87L_Md-I2hg
    LeaderId:               3002
    LeaderEpoch:            2
    HighWatermark:          10
    MaxFollowerLag:         0
    MaxFollowerLagTimeMs:   -1
    CurrentVoters:          [{"id": 3000, "directoryId": "ILZ5MPTeRWakmJu99uBJCA", "endpoints": ["C://c1:9093"]},
                             {"id": 3002, "directoryId": "g42deArWBTRM5A1yuVpMCg", "endpoints": ["C://c3:9093"]}]
    CurrentObservers:       [{"id": 1, "directoryId": "3Db5QLSqSZieL3rJBUUegA"},
                             {"id": 3001, "directoryId": "UegA3Db5QLSqSZieL3rJBU"}]
    """)


def test_quorum_status_and_missing_voters():
    status = parse_quorum_status(STATUS)
    assert status == {"leader": 3002, "voters": [3000, 3002]}
    ids = node_ids(CONTROLLERS, BROKERS, HOSTVARS)
    assert missing_voters(CONTROLLERS, ids, status["voters"]) == ["c2 (3001)"]


def test_broker_api_versions_lists_the_registered_brokers():
    out = ("10.0.0.2:9092 (id: 2 rack: null isFenced: false) -> (\n\tProduce(0): 3 to 12 [usable: 12],\n)\n"
           "10.0.0.1:9092 (id: 1 rack: null) -> (\n\tFetch(1): 4 to 17 [usable: 17],\n)\n")
    assert parse_broker_ids(out) == [1, 2]


def storage(meta=None, entries=(), started=False):
    return {"exists": True, "meta": meta, "entries": list(entries), "quorum_state": started}


CID = "fMCL8kv1SWm87L_Md-I2hg"
IDS = node_ids(CONTROLLERS, BROKERS, HOSTVARS)


def states(formatted=False, started=False):
    result = {}
    for host in BROKERS:
        entry = {"broker": {f"/data/{host}": storage({"cluster.id": CID, "node.id": str(IDS[host]["broker"])}
                                                      if formatted else None)}}
        if host in CONTROLLERS:
            entry["controller"] = {"/meta": storage({"cluster.id": CID, "node.id": str(IDS[host]["controller"])}
                                                    if formatted else None, started=started)}
        result[host] = entry
    return result


def test_first_format_initial_controllers_and_brokers():
    plan = format_plan(states(), CONTROLLERS, BROKERS, BROKERS, IDS, CID)
    assert plan["errors"] == []
    assert plan["hosts"]["c1"] == {"controller": {"action": "initial", "dirs": ["/meta"]},
                                   "broker": {"action": "format", "dirs": ["/data/c1"]}}
    assert plan["hosts"]["b4"]["controller"]["action"] == "none"


def test_formatted_storage_is_never_formatted_again():
    plan = format_plan(states(formatted=True, started=True), CONTROLLERS, BROKERS, BROKERS, IDS, CID)
    assert plan["errors"] == []
    assert all(e[k]["action"] == "none" for e in plan["hosts"].values() for k in ("controller", "broker"))


def test_an_emptied_controller_joins_a_started_quorum():
    current = states(formatted=True, started=True)
    current["c2"]["controller"]["/meta"] = storage()
    plan = format_plan(current, CONTROLLERS, BROKERS, BROKERS, IDS, CID)
    assert plan["hosts"]["c2"]["controller"]["action"] == "join" and plan["errors"] == []


def test_an_interrupted_first_format_resumes_with_the_same_initial_controllers():
    current = states(formatted=True, started=False)
    current["c3"]["controller"]["/meta"] = storage()
    plan = format_plan(current, CONTROLLERS, BROKERS, BROKERS, IDS, CID)
    assert plan["hosts"]["c3"]["controller"]["action"] == "initial"


def test_format_refusals():
    current = states(formatted=True, started=True)
    current["c1"]["broker"]["/data/c1"] = storage({"cluster.id": "otherClusterIdAAAAAAAAA", "node.id": "1"})
    current["c2"]["broker"]["/data/c2"] = storage({"cluster.id": CID, "node.id": "9"})
    current["b4"]["broker"]["/data/b4"] = storage(entries=["orders-0"])
    errors = " ".join(format_plan(current, CONTROLLERS, BROKERS, BROKERS, IDS, CID)["errors"])
    assert "belongs to Kafka cluster otherClusterIdAAAAAAAAA" in errors
    assert "was formatted for node 9" in errors and "pin kafka_broker_node_id: 9" in errors
    assert "holds orders-0" in errors
    # a new controller while other controllers are outside the run (--limit): refused
    fresh = states()
    errors = format_plan({"c1": fresh["c1"]}, CONTROLLERS, BROKERS, ["c1"], IDS, CID)["errors"]
    assert any("run without --limit" in e for e in errors)


def test_format_arguments():
    args = format_args("initial", "/etc/fdp/kafka/controller.properties", CID, "3000@10.0.0.1:9093:x", "admin", "pw")
    assert args == ["format", "--config", "/etc/fdp/kafka/controller.properties", "--cluster-id", CID,
                    "--ignore-formatted", "--initial-controllers", "3000@10.0.0.1:9093:x",
                    "--add-scram", "SCRAM-SHA-512=[name=admin,iterations=8192,password=pw]"]
    assert format_args("join", "c", CID)[-1] == "--no-initial-controllers"
    assert format_args("format", "b", CID)[-1] == "--ignore-formatted"
    for bad in ("a,b", "a b", "a]"):
        with pytest.raises(KafkaError):
            format_args("initial", "c", CID, "x", "admin", bad)
