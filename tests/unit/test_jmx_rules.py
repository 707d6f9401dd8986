"""JMX exporter rule files: valid rules, and the metric names the alerts and dashboards rely on.

The agent matches each rule's pattern against one string per MBean attribute,
`domain<key=value, key=value><>Attribute: value`, wrapped as `^.*(?:pattern).*$`; the first rule
that matches wins. The name and labels are the rule's templates with $n replaced by the groups,
characters outside [a-zA-Z0-9:_] turned into "_", runs of "_" collapsed, then lowercased
(lowercaseOutputName / lowercaseOutputLabelNames). `simulate` does exactly that and nothing more.
"""

from __future__ import annotations

import re
import shutil
import subprocess
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
    # Lines as a real Flink 2.1.3's JMX reporter registers them (fixtures/flink-2.1.3-metrics).
    "flink.yml": [
        (
            "org.apache.flink.jobmanager.numRegisteredTaskManagers<host=127.0.0.1><>Value: 1",
            "flink_jobmanager_numRegisteredTaskManagers",
            {"host": "127.0.0.1"},
        ),
        (
            "org.apache.flink.jobmanager.job.numRestarts<host=127.0.0.1, job_name=jmx-capture-job, "
            "job_id=13835d660425f40de976b6dcd87f6dfb><>Value: 0",
            "flink_jobmanager_job_numRestarts",
            {"host": "127.0.0.1", "job_name": "jmx-capture-job", "job_id": "13835d660425f40de976b6dcd87f6dfb"},
        ),
        (
            "org.apache.flink.taskmanager.Status.JVM.Memory.Heap.Used<host=127.0.0.1, "
            "tm_id=127.0.0.1-35947-508ca6><>Value: 140493728",
            "flink_taskmanager_Status_JVM_Memory_Heap_Used",
            {"host": "127.0.0.1", "tm_id": "127.0.0.1-35947-508ca6"},
        ),
        (
            "org.apache.flink.taskmanager.job.task.numRecordsInPerSecond<task_name=Source-_src[1]_-_Calc[2], "
            "job_id=j1, task_attempt_id=a1, job_name=jmx-capture-job, tm_id=tm1, task_id=t1, task_attempt_num=0, "
            "host=127.0.0.1, subtask_index=0><>Rate: 113.3",
            "flink_taskmanager_job_task_numRecordsInPerSecond",
            {"host": "127.0.0.1", "tm_id": "tm1", "job_id": "j1", "job_name": "jmx-capture-job", "task_id": "t1",
             "task_name": "Source-_src[1]_-_Calc[2]", "task_attempt_id": "a1", "task_attempt_num": "0",
             "subtask_index": "0"},
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
    "flink.yml": [
        # a meter's count (its rate is the value), a histogram's statistics
        "org.apache.flink.taskmanager.job.task.numRecordsInPerSecond<task_name=n, job_id=j1, task_attempt_id=a1, "
        "job_name=j, tm_id=tm1, task_id=t1, task_attempt_num=0, host=h, subtask_index=0><>Count: 7400",
        "org.apache.flink.taskmanager.job.task.mailboxLatencyMs<task_name=n, job_id=j1, task_attempt_id=a1, "
        "job_name=j, tm_id=tm1, task_id=t1, task_attempt_num=0, host=h, subtask_index=0><>95thPercentile: 1.75",
        # a user's metric group with a variable of its own: not mistaken for the TaskManager scope
        "org.apache.flink.taskmanager.mygroup.records<host=h, tm_id=tm1, topic=orders><>Value: 1",
    ],
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
    # Flink's names keep their case: the same names as Flink's own Prometheus reporter.
    lowercase = name != "flink.yml"
    assert config["lowercaseOutputName"] is lowercase and config["lowercaseOutputLabelNames"] is lowercase
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


# --- Flink: the agent's names and labels are those of Flink's own Prometheus reporter ---------------------------
FLINK_CAPTURE = Path(__file__).parent / "fixtures" / "flink-2.1.3-metrics"


def _agent_value(line: str) -> bool:
    """The agent exports numbers (NaN too) and booleans; an attribute whose value is a string it
    matches but skips (no rule here gives it a value)."""
    value = line.rsplit(": ", 1)[1]
    try:
        float(value)
    except ValueError:
        return value in ("true", "false")
    return True


def _flink_prometheus_families(process: str) -> dict[str, set[str]]:
    """Metric name -> label names, from the Prometheus reporter's /metrics of the same process."""
    families: dict[str, set[str]] = {}
    for line in (FLINK_CAPTURE / f"prom-{process}.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(\w+)\{(.*)\} \S+$", line)
        if match:
            families.setdefault(match.group(1), set()).update(re.findall(r"(\w+)=\"", match.group(2)))
    return families


@pytest.mark.parametrize("process", ["jobmanager", "taskmanager"])
def test_flink_rules_give_the_real_mbeans_the_prometheus_reporters_names_and_labels(process: str):
    """Both captures come from one Flink 2.1.3 process pair running a job, with the JMX and the
    Prometheus reporters on at once. Every metric the reporter serves comes out of the agent
    under the same name with the same label names, and nothing else does; no two attributes
    collide. The exceptions are the reporter's histogram quantiles (the agent exports the
    histogram's count under its name) and a gauge whose value is a string (the agent skips it)."""
    config = load("flink.yml")
    lines = (FLINK_CAPTURE / f"mbeans-{process}.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) > 50
    exported: dict[str, set[str]] = {}
    seen: set[tuple[str, tuple]] = set()
    strings = {re.sub(r"<.*", "", line) for line in lines if not _agent_value(line)}
    string_gauges = {"jobmanager": {"org.apache.flink.jobmanager.job.lastCheckpointExternalPath"}, "taskmanager": set()}
    assert strings == string_gauges[process]
    for line in lines:
        result = simulate(config, line)
        if result is None or not _agent_value(line):
            continue
        name, labels = result
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen, f"two attributes export {key}: {line}"
        seen.add(key)
        # every variable of the MBean a label, with its value
        keys = dict(item.split("=", 1) for item in re.match(r"^[^<]*<(.*?)><>", line).group(1).split(", "))
        assert labels == keys, line
        exported.setdefault(name, set()).update(labels)
    reporter = _flink_prometheus_families(process)
    histograms = {name for name, labels in reporter.items() if "quantile" in labels}
    expected = {name: labels for name, labels in reporter.items()
                if not name.endswith("_count") and name not in {safe(s.replace("org.apache.", "")) for s in strings}}
    expected.update({name: labels - {"quantile"} for name, labels in expected.items() if name in histograms})
    assert exported == expected


def test_flink_alerts_and_dashboard_use_names_the_agent_exports():
    config = load("flink.yml")
    produced = {simulate(config, line)[0] for process in ("jobmanager", "taskmanager")
                for line in (FLINK_CAPTURE / f"mbeans-{process}.txt").read_text(encoding="utf-8").splitlines()
                if simulate(config, line)}
    text = (REPO / "roles/prometheus/files/rules/flink.rules.yml").read_text(encoding="utf-8")
    text += (REPO / "roles/grafana/files/dashboards/fdp-flink.json").read_text(encoding="utf-8")
    used = set(re.findall(r"\b(flink_[A-Za-z0-9_]+)\s*\{", text))
    assert used and used <= produced, sorted(used - produced)


JAVA_MATCHER = """
import java.nio.file.*; import java.util.*; import java.util.regex.*;
public class Match { public static void main(String[] a) throws Exception {
  List<String[]> rules = new ArrayList<>(); List<Pattern> patterns = new ArrayList<>();
  for (String r : Files.readAllLines(Path.of(a[0]))) {
    String[] f = r.split("\\t"); rules.add(f); patterns.add(Pattern.compile("^.*(?:" + f[0] + ").*$"));
  }
  for (String line : Files.readAllLines(Path.of(a[1]))) {
    String out = "-";
    for (int i = 0; i < rules.size(); i++) {
      Matcher m = patterns.get(i).matcher(line);
      if (!m.matches()) continue;
      String[] f = rules.get(i); StringBuilder b = new StringBuilder(m.replaceAll(f[1]));
      for (int k = 2; k + 1 < f.length; k += 2) {
        m.reset(); m.matches(); b.append("\\t" + f[k] + "=" + m.replaceAll(f[k + 1]));
      }
      out = b.toString(); break;
    }
    System.out.println(out);
  }
}}
"""


@pytest.mark.skipif(shutil.which("java") is None, reason="needs a JDK")
def test_flink_rules_match_the_same_in_javas_regex_engine(tmp_path):
    """The agent is Java: its Pattern and Matcher.replaceAll ($10 and up included) give the names
    and label values the simulation above gives, line for line, on the real capture."""
    config = load("flink.yml")
    (tmp_path / "rules.tsv").write_text("\n".join(
        "\t".join([rule["pattern"], rule["name"], *[x for k, v in rule["labels"].items() for x in (k, v)]])
        for rule in config["rules"]) + "\n", encoding="utf-8")
    lines = [line for process in ("jobmanager", "taskmanager")
             for line in (FLINK_CAPTURE / f"mbeans-{process}.txt").read_text(encoding="utf-8").splitlines()]
    lines += UNMATCHED["flink.yml"]
    (tmp_path / "lines.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "Match.java").write_text(JAVA_MATCHER, encoding="utf-8")
    command = ["java", str(tmp_path / "Match.java"), str(tmp_path / "rules.tsv"), str(tmp_path / "lines.txt")]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    java = done.stdout.splitlines()
    assert len(java) == len(lines)
    for line, out in zip(lines, java, strict=True):
        expected = simulate(config, line)
        if expected is None:
            assert out == "-", line
            continue
        name, *labels = out.split("\t")
        assert (safe(name), dict(label.split("=", 1) for label in labels)) == expected, line
