"""JMX exporter rule files: valid rules, and the metric names the alerts and dashboards rely on.

The agent matches each rule's pattern against one string per MBean attribute,
`domain<key=value, key=value><>Attribute: value`, wrapped as `^.*(?:pattern).*$`; the first rule
that matches wins. The name and labels are the rule's templates with $n replaced by the groups,
characters outside [a-zA-Z0-9:_] turned into "_", runs of "_" collapsed, then lowercased
(lowercaseOutputName / lowercaseOutputLabelNames). `simulate` does exactly that and nothing more.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from helpers import REPO

RULES_DIR = REPO / "roles" / "jmx_exporter" / "files" / "rules"
ALLOWED_KEYS = {"lowercaseOutputName", "lowercaseOutputLabelNames", "rules", "includeObjectNames", "excludeObjectNames"}

# (sample attribute string as the agent builds it, expected metric name, expected labels)
SAMPLES: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "kafka.yml": [
        (
            "kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value: 0",
            "kafka_server_replicamanager_underreplicatedpartitions",
            {},
        ),
        (
            "kafka.server<type=ReplicaManager, name=PartitionCount><>Value: 12",
            "kafka_server_replicamanager_partitioncount",
            {},
        ),
        (
            "kafka.server<type=ReplicaManager, name=LeaderCount><>Value: 4",
            "kafka_server_replicamanager_leadercount",
            {},
        ),
        (
            "kafka.controller<type=KafkaController, name=OfflinePartitionsCount><>Value: 0",
            "kafka_controller_kafkacontroller_offlinepartitionscount",
            {},
        ),
        (
            "kafka.controller<type=KafkaController, name=ActiveControllerCount><>Value: 1",
            "kafka_controller_kafkacontroller_activecontrollercount",
            {},
        ),
        (
            "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count: 10",
            "kafka_server_brokertopicmetrics_messagesin_total",
            {},
        ),
        (
            "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec, topic=orders><>Count: 10",
            "kafka_server_brokertopicmetrics_messagesin_total",
            {"topic": "orders"},
        ),
        (
            "kafka.server<type=BrokerTopicMetrics, name=BytesInPerSec, topic=orders><>Count: 100",
            "kafka_server_brokertopicmetrics_bytesin_total",
            {"topic": "orders"},
        ),
        (
            "kafka.server<type=BrokerTopicMetrics, name=BytesOutPerSec><>Count: 100",
            "kafka_server_brokertopicmetrics_bytesout_total",
            {},
        ),
        (
            "kafka.network<type=RequestMetrics, name=RequestsPerSec, request=Produce, version=9><>Count: 5",
            "kafka_network_requestmetrics_requests_total",
            {"request": "Produce", "version": "9"},
        ),
        (
            "kafka.server<type=ReplicaManager, name=IsrShrinksPerSec><>Count: 0",
            "kafka_server_replicamanager_isrshrinks_total",
            {},
        ),
        (
            "kafka.server<type=raft-metrics><>current-state: leader",
            "kafka_server_raft_metrics_current_state_info",
            {"state": "leader"},
        ),
        (
            "kafka.network<type=RequestMetrics, name=TotalTimeMs, request=Fetch><>99thPercentile: 3.0",
            "kafka_network_requestmetrics_totaltimems",
            {"request": "Fetch", "quantile": "0.99"},
        ),
    ],
    "trino.yml": [
        ("trino.execution<name=QueryManager><>RunningQueries: 2", "trino_execution_querymanager_runningqueries", {}),
        ("trino.execution<name=QueryManager><>QueuedQueries: 0", "trino_execution_querymanager_queuedqueries", {}),
        (
            "trino.execution<name=QueryManager><>FailedQueries.TotalCount: 3",
            "trino_execution_querymanager_failedqueries_total",
            {},
        ),
        (
            "trino.execution<name=QueryManager><>CompletedQueries.TotalCount: 30",
            "trino_execution_querymanager_completedqueries_total",
            {},
        ),
        (
            "trino.execution<name=QueryManager><>UserErrorFailures.TotalCount: 1",
            "trino_execution_querymanager_usererrorfailures_total",
            {},
        ),
        (
            "trino.failuredetector<name=HeartbeatFailureDetector><>ActiveCount: 3",
            "trino_failuredetector_heartbeatfailuredetector_activecount",
            {},
        ),
        (
            "trino.failuredetector<name=HeartbeatFailureDetector><>FailedCount: 0",
            "trino_failuredetector_heartbeatfailuredetector_failedcount",
            {},
        ),
        (
            "trino.memory<type=ClusterMemoryPool, name=general><>BlockedNodes: 0",
            "trino_memory_clustermemorypool_blockednodes",
            {"pool": "general"},
        ),
        (
            "trino.memory<type=ClusterMemoryPool, name=general><>FreeDistributedBytes: 1024",
            "trino_memory_clustermemorypool_freedistributedbytes",
            {"pool": "general"},
        ),
        (
            "trino.memory<name=ClusterMemoryManager><>QueriesKilledDueToOutOfMemory: 0",
            "trino_memory_clustermemorymanager_querieskilledduetooutofmemory_total",
            {},
        ),
        (
            "trino.memory<name=ClusterMemoryManager><>ClusterMemoryBytes: 4096",
            "trino_memory_clustermemorymanager_clustermemorybytes",
            {},
        ),
    ],
    "hive_metastore.yml": [
        ("metrics<name=api_get_table><>Count: 7", "metastore_api_calls_total", {"method": "get_table"}),
        ("metrics<name=api_get_table, type=timers><>Count: 7", "metastore_api_calls_total", {"method": "get_table"}),
        (
            "metrics<type=timers, name=api_create_table><>Count: 1",
            "metastore_api_calls_total",
            {"method": "create_table"},
        ),
        ("metrics<name=active_calls_api_get_table><>Count: 0", "metastore_api_active_calls", {"method": "get_table"}),
        ("metrics<name=open_connections><>Count: 3", "metastore_open_connections", {}),
        ("metrics<name=open_connections, type=counters><>Count: 3", "metastore_open_connections", {}),
        ("metrics<name=directsql_errors><>Count: 0", "metastore_directsql_errors_total", {}),
    ],
}

# Attributes no rule may export (first-match order and anchoring mistakes show up here).
UNMATCHED = {
    "kafka.yml": ["kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Mean: 0"],
    "trino.yml": ["trino.execution<name=QueryManager><>FailedQueries.OneMinute.Count: 3"],
    "hive_metastore.yml": ["metrics<name=api_get_table><>Mean: 1.5", "metrics<name=memory.heap.used><>Value: 1"],
}


def load(name: str) -> dict:
    return yaml.safe_load((RULES_DIR / name).read_text(encoding="utf-8"))


def safe(name: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-zA-Z0-9:_]", "_", name))


def simulate(config: dict, attribute: str) -> tuple[str, dict[str, str]] | None:
    """Metric name and labels the agent would export for one attribute string, or None."""
    for rule in config["rules"]:
        match = re.fullmatch(f"^.*(?:{rule['pattern']}).*$", attribute)
        if not match:
            continue

        def expand(template: str, m: re.Match[str] = match) -> str:
            return re.sub(r"\$(\d+)", lambda g: m.group(int(g.group(1))) or "", template)

        name = safe(expand(rule["name"]))
        labels = {safe(expand(str(k))): expand(str(v)) for k, v in (rule.get("labels") or {}).items()}
        if config.get("lowercaseOutputName"):
            name = name.lower()
        if config.get("lowercaseOutputLabelNames"):
            labels = {k.lower(): v for k, v in labels.items()}
        return name, labels
    return None


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_rules_file_shape(name: str):
    config = load(name)
    assert set(config) <= ALLOWED_KEYS, "only the metric mapping belongs here (no server/TLS/auth keys)"
    assert config["lowercaseOutputName"] is True and config["lowercaseOutputLabelNames"] is True
    assert config["rules"], "no rules"
    for rule in config["rules"]:
        assert rule.get("pattern") and rule.get("name"), rule
        re.compile(rule["pattern"])
        assert rule.get("type", "UNKNOWN") in {"GAUGE", "COUNTER", "UNTYPED", "UNKNOWN"}, rule
        # client_java 1.x only accepts the _total suffix on counters.
        assert rule["name"].endswith("_total") == (rule.get("type") == "COUNTER"), rule


def test_every_rules_file_has_samples():
    assert {path.name for path in RULES_DIR.glob("*.yml")} == set(SAMPLES)


@pytest.mark.parametrize(
    ("name", "attribute", "metric", "labels"),
    [(name, *sample) for name, samples in SAMPLES.items() for sample in samples],
    ids=lambda v: v if isinstance(v, str) and "<" not in v else None,
)
def test_metric_names(name: str, attribute: str, metric: str, labels: dict[str, str]):
    assert simulate(load(name), attribute) == (metric, labels)


@pytest.mark.parametrize(("name", "attribute"), [(n, a) for n, attrs in UNMATCHED.items() for a in attrs])
def test_unmapped_attributes_are_dropped(name: str, attribute: str):
    assert simulate(load(name), attribute) is None
