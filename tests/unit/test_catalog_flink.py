"""Flink key catalog: the generator's assembly from FlinkOptions' output (no Flink needed) and the committed
ansible/catalogs/flink.json."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "ansible" / "catalogs" / "flink.json"
JAVA_SOURCE = REPO / "scripts" / "catalogs" / "FlinkOptions.java"


def _load():
    spec = importlib.util.spec_from_file_location("catalog_flink", REPO / "scripts" / "catalogs" / "flink.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


flink = _load()


def accepts(section: dict, key: str) -> bool:
    return key in section["keys"] or any(re.match(p, key) for p in section["patterns"])


# --- a fake FlinkOptions output ----------------------------------------------------------------------------

METRICS_SPI = "org.apache.flink.metrics.reporter.MetricReporterFactory"
TRACES_SPI = "org.apache.flink.traces.reporter.TraceReporterFactory"


def jar(name, *services):
    return {"kind": "jar", "jar": name, "services": sorted(services)}


def option(
    key,
    cls="org.apache.flink.configuration.CoreOptions",
    jar="flink-dist-2.1.3.jar",
    prefix=None,
    deprecated=False,
    fallbacks=(),
):
    return {
        "kind": "option",
        "jar": jar,
        "class": cls,
        "field": key.upper().replace(".", "_"),
        "key": key,
        "prefix": prefix,
        "deprecated": deprecated,
        "annotations": ["Deprecated"] if deprecated else [],
        "fallbackKeys": [{"key": k, "deprecated": d} for k, d in fallbacks],
    }


def constant(value, field, cls, jar, families=("metrics",)):
    return {"kind": "constant", "jar": jar, "class": cls, "field": field, "value": value, "families": list(families)}


def prefix(value, cls="org.apache.flink.configuration.ResourceManagerOptions"):
    return {"kind": "prefix", "jar": "flink-dist-2.1.3.jar", "class": cls, "field": "X_PREFIX", "value": value}


METRIC_OPTIONS = "org.apache.flink.configuration.MetricOptions"
NAMED = "metrics.reporter.<name>"
PROM_JAR = "flink-metrics-prometheus-2.1.3.jar"
OTEL_JAR = "flink-metrics-otel-2.1.3.jar"

FAKE = [
    jar("flink-dist-2.1.3.jar", "org.apache.flink.core.fs.FileSystemFactory"),
    jar("flink-table-api-java-uber-2.1.3.jar", "org.apache.flink.table.factories.Factory"),
    jar(PROM_JAR, METRICS_SPI),
    jar(OTEL_JAR, METRICS_SPI, TRACES_SPI),
    # plain options, fallback keys
    option("rest.port", cls="org.apache.flink.configuration.RestOptions", fallbacks=[("web.port", True)]),
    option(
        "rest.bind-port",
        cls="org.apache.flink.configuration.RestOptions",
        fallbacks=[("rest.port", False), ("web.port", True)],
    ),
    option("rest.bind-address", cls="org.apache.flink.configuration.RestOptions", fallbacks=[("web.address", False)]),
    option(
        "state.backend.type",
        cls="org.apache.flink.configuration.StateBackendOptions",
        fallbacks=[("state.backend", True)],
    ),
    option("taskmanager.network.retries", fallbacks=[("taskmanager.network.retries", True)]),
    option("jobmanager.adaptive-scheduler.scaling-interval.min", deprecated=True),
    option(
        "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling",
        fallbacks=[("jobmanager.adaptive-scheduler.scaling-interval.min", True)],
    ),
    option("traces.report-events-as-spans", deprecated=True),
    # table: config keys stay, WITH (...) options go
    option(
        "table.exec.state.ttl",
        cls="org.apache.flink.table.api.config.ExecutionConfigOptions",
        jar="flink-table-api-java-uber-2.1.3.jar",
    ),
    option("connector", cls="org.apache.flink.table.factories.FactoryUtil", jar="flink-table-api-java-uber-2.1.3.jar"),
    option("table.catalog-store.kind", cls="org.apache.flink.table.catalog.CommonCatalogOptions"),
    option("type", cls="org.apache.flink.table.catalog.CommonCatalogOptions"),
    option("path", cls="org.apache.flink.table.catalog.FileCatalogStoreFactoryOptions"),
    option(
        "sink.rolling-policy.file-size",
        cls="org.apache.flink.connector.file.table.FileSystemConnectorOptions",
        jar="flink-connector-files-2.1.3.jar",
    ),
    option("ignore-parse-errors", cls="org.apache.flink.formats.json.JsonFormatOptions", jar="flink-json-2.1.3.jar"),
    option("fields.#.kind", cls="org.apache.flink.connector.datagen.table.DataGenConnectorOptions"),
    option("timeout", cls="org.apache.flink.table.api.config.LookupJoinHintOptions"),
    # reporter families
    option("metrics.reporters", cls=METRIC_OPTIONS),
    option("factory.class", cls=METRIC_OPTIONS, prefix=NAMED),
    option("interval", cls=METRIC_OPTIONS, prefix=NAMED),
    option("scope.variables.excludes", cls=METRIC_OPTIONS, prefix=NAMED),
    option("<parameter>", cls=METRIC_OPTIONS, prefix=NAMED),
    option("factory.class", cls="org.apache.flink.configuration.TraceOptions", prefix="traces.reporter.<name>"),
    option(
        "filterLabelValueCharacters",
        cls="org.apache.flink.metrics.prometheus.PrometheusPushGatewayReporterOptions",
        jar=PROM_JAR,
        prefix="metrics.reporter.prometheus",
    ),
    option("exporter.endpoint", cls="org.apache.flink.metrics.otel.OpenTelemetryReporterOptions", jar=OTEL_JAR),
    constant("port", "ARG_PORT", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory", PROM_JAR),
    constant("9249", "DEFAULT_PORT", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory", PROM_JAR),
    constant("localhost", "DEFAULT_HOST", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory", PROM_JAR),
    constant("flink_", "SCOPE_PREFIX", "org.apache.flink.metrics.prometheus.AbstractPrometheusReporter", PROM_JAR),
    constant("org.apache.flink.", "JMX_DOMAIN_PREFIX", "org.apache.flink.metrics.jmx.JMXReporter", "jmx.jar"),
    # <placeholder> keys and prefixes
    option("external-resources", cls="org.apache.flink.configuration.ExternalResourceOptions"),
    option("external-resource.<resource_name>.amount", cls="org.apache.flink.configuration.ExternalResourceOptions"),
    option(
        "external-resource.<resource_name>.param.<param>", cls="org.apache.flink.configuration.ExternalResourceOptions"
    ),
    option(
        "discovery-script.path",
        cls="org.apache.flink.externalresource.gpu.GPUDriverOptions",
        jar="flink-external-resource-gpu-2.1.3.jar",
        prefix="external-resource.<resource_name>.param",
    ),
    option("flink.hadoop.<key>", cls="org.apache.flink.yarn.configuration.YarnConfigOptions"),
    prefix("containerized.master.env."),
    prefix("metrics.reporter.", cls=METRIC_OPTIONS),
    prefix("table.catalog-store.", cls="org.apache.flink.table.catalog.CommonCatalogOptions"),
    prefix("restart-strategy", cls="org.apache.flink.configuration.RestartStrategyOptions"),
    {"kind": "summary", "classes": 1, "loaded": 1, "failed": 0, "options": 1, "constants": 1, "prefixes": 1},
]


@pytest.fixture(scope="module")
def fake():
    return flink.assemble(FAKE)


def test_assembly_shape(fake):
    assert set(fake) == {"description", "keys", "deprecated", "defunct", "patterns"}
    assert fake["description"] == "conf/config.yaml (flat dotted keys)"
    assert fake["keys"] == sorted(set(fake["keys"]))
    assert fake["patterns"] == sorted(set(fake["patterns"]))
    assert fake["defunct"] == []


def test_assembly_keys_and_fallbacks(fake):
    keys = set(fake["keys"])
    assert {"rest.port", "rest.bind-port", "rest.bind-address", "state.backend.type", "table.exec.state.ttl"} <= keys
    assert "web.address" in keys  # a fallback key read without deprecation warning
    assert "taskmanager.network.retries" in keys  # its own deprecated fallback: still current
    assert "traces.report-events-as-spans" in keys  # @Deprecated without a replacement: still read
    assert fake["deprecated"]["state.backend"] == "state.backend.type"
    assert fake["deprecated"]["web.port"] == "rest.port"  # two replacements: the most similar one
    assert (
        fake["deprecated"]["jobmanager.adaptive-scheduler.scaling-interval.min"]
        == "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling"
    )
    assert not keys & set(fake["deprecated"])
    assert set(fake["deprecated"].values()) <= keys


def test_assembly_leaves_out_table_ddl_options(fake):
    keys = set(fake["keys"])
    assert "table.catalog-store.kind" in keys
    for key in ("connector", "type", "path", "sink.rolling-policy.file-size", "ignore-parse-errors", "timeout"):
        assert not accepts(fake, key), key
    assert not any("#" in p for p in fake["patterns"])
    assert accepts(fake, "table.catalog-store.file.path")


def test_assembly_reporter_patterns(fake):
    for key in (
        "metrics.reporter.prom.factory.class",
        "metrics.reporter.prom.port",
        "metrics.reporter.prom.interval",
        "metrics.reporter.prom.scope.variables.excludes",
        "metrics.reporter.prom.filterLabelValueCharacters",
        "metrics.reporter.otel.exporter.endpoint",
        "traces.reporter.otel.exporter.endpoint",
        "traces.reporter.slf4j.factory.class",
        "metrics.reporters",
    ):
        assert accepts(fake, key), key
    for key in (
        "metrics.reporter.prom.prot",  # misspelt
        "metrics.reporter.prom.9249",  # a default value, not a name
        "metrics.reporter.prom.localhost",
        "metrics.reporter.prom.flink_",
        "metrics.reporter.prom.<parameter>",
        "metrics.reporter.port",  # no reporter name
        "metrics.reporter.a.b.port",  # a name has no dot
        "traces.reporter.otel.port",  # a metric reporter's setting
    ):
        assert not accepts(fake, key), key


def test_assembly_placeholders_and_prefixes(fake):
    assert accepts(fake, "external-resources")
    assert accepts(fake, "external-resource.gpu.amount")
    assert accepts(fake, "external-resource.gpu.param.discovery-script.path")
    # the parameter bag is named by the GPU driver, so it is not open
    assert not accepts(fake, "external-resource.gpu.param.anything")
    assert accepts(fake, "flink.hadoop.dfs.replication")  # an open passthrough
    assert accepts(fake, "containerized.master.env.JAVA_HOME")
    assert "^metrics\\.reporter\\.\\S+$" not in fake["patterns"]  # prefix of a declared family
    assert not any(p.startswith("^restart-strategy") for p in fake["patterns"])
    assert flink.S3_PATTERN in fake["patterns"]
    for pattern in fake["patterns"]:
        assert pattern.startswith("^") and pattern.endswith("$")
        re.compile(pattern)


def test_generate_from_fake_home(tmp_path, monkeypatch):
    home = tmp_path / "flink-2.1.3"
    for name in ("lib/flink-dist-2.1.3.jar", "opt/flink-python-2.1.3.jar", "plugins/metrics-jmx/flink-metrics-jmx.jar"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_bytes(b"")
    seen = {}

    def fake_run(jars, java=None):
        seen["jars"] = [j.relative_to(home).as_posix() for j in jars]
        return FAKE

    monkeypatch.setattr(flink, "run_java", fake_run)
    result = flink.generate([home])
    assert seen["jars"] == [
        "lib/flink-dist-2.1.3.jar",
        "opt/flink-python-2.1.3.jar",
        "plugins/metrics-jmx/flink-metrics-jmx.jar",
    ]
    assert {k: v for k, v in result.items() if k != "sections"} == {
        "component": "flink",
        "version": "2.1.3",
        "source": "flink-2.1.3-bin-scala_2.12 distribution: lib/, opt/ and plugins/ jars (ConfigOption fields)",
        "generated_by": "scripts/key-catalog flink <flink home>",
    }
    assert result["sections"] == {"config": flink.assemble(FAKE)}

    out = tmp_path / "flink.json"
    assert flink.main([str(home), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text == json.dumps(result, indent=1, sort_keys=True) + "\n"


def test_generate_refuses_another_version(tmp_path, monkeypatch):
    home = tmp_path / "flink-2.0.0"
    (home / "lib").mkdir(parents=True)
    (home / "lib" / "flink-dist-2.0.0.jar").write_bytes(b"")
    monkeypatch.setattr(flink, "run_java", lambda jars, java=None: FAKE)
    with pytest.raises(ValueError, match="flink-dist-2.1.3.jar"):
        flink.generate([home])
    with pytest.raises(ValueError, match="not a Flink distribution"):
        flink.generate([tmp_path])


@pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")
def test_java_helper_compiles_against_the_jdk_alone(tmp_path):
    subprocess.run(
        ["javac", "--release", "17", "-Xlint:all", "-Werror", "-d", str(tmp_path), str(JAVA_SOURCE)], check=True
    )
    done = subprocess.run(["java", "-cp", str(tmp_path), "FlinkOptions"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr


def test_generator_sources_keep_to_120_columns():
    for path in (JAVA_SOURCE, REPO / "scripts" / "catalogs" / "flink.py"):
        assert max(len(line) for line in path.read_text(encoding="utf-8").splitlines()) <= 120, path


# --- the committed catalog ---------------------------------------------------------------------------------

REQUIRED_KEYS = """
env.java.opts.all jobmanager.execution.failover-strategy parallelism.default execution.checkpointing.interval
execution.checkpointing.storage state.backend.type web.submit.enable web.cancel.enable
security.ssl.internal.enabled security.ssl.internal.keystore security.ssl.internal.keystore-type
security.ssl.internal.keystore-password security.ssl.internal.key-password security.ssl.internal.truststore
security.ssl.internal.truststore-type security.ssl.internal.truststore-password security.ssl.internal.cert.fingerprint
security.ssl.rest.enabled security.ssl.rest.authentication-enabled security.ssl.rest.keystore
security.ssl.rest.truststore security.ssl.rest.cert.fingerprint jobmanager.rpc.address jobmanager.rpc.port
jobmanager.bind-host blob.server.port rest.address rest.port rest.bind-address taskmanager.host taskmanager.bind-host
taskmanager.rpc.port taskmanager.data.port metrics.internal.query-service.port io.tmp.dirs env.log.dir
taskmanager.memory.process.size jobmanager.memory.process.size taskmanager.numberOfTaskSlots high-availability.type
high-availability.zookeeper.quorum high-availability.storageDir
""".split()
# Read by the S3 file system plugins by prefix (passed on to Hadoop S3A / Presto), no ConfigOptions.
S3_KEYS = ["s3.endpoint", "s3.path.style.access", "s3.access-key", "s3.secret-key"]


@pytest.fixture(scope="module")
def committed():
    return json.loads(CATALOG.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def config(committed):
    return committed["sections"]["config"]


def test_committed_structure(committed, config):
    assert set(committed) == {"component", "version", "source", "generated_by", "sections"}
    assert committed["component"] == "flink"
    assert committed["version"] == "2.1.3"
    assert committed["source"] == flink.SOURCE
    assert committed["generated_by"] == "scripts/key-catalog flink <flink home>"
    assert list(committed["sections"]) == ["config"]
    assert set(config) == {"description", "keys", "deprecated", "defunct", "patterns"}
    assert config["description"] == "conf/config.yaml (flat dotted keys)"
    assert config["keys"] == sorted(set(config["keys"]))
    assert config["patterns"] == sorted(set(config["patterns"]))
    assert config["defunct"] == []
    assert CATALOG.read_text(encoding="utf-8") == json.dumps(committed, indent=1, sort_keys=True) + "\n"


def test_committed_keys_look_like_keys(config):
    assert len(config["keys"]) > 800
    for key in config["keys"]:
        assert re.fullmatch(r"[$_a-z][\w.$-]*", key), key
        assert "<" not in key and "#" not in key, key


def test_committed_deprecated_point_to_current_keys(config):
    keys = set(config["keys"])
    assert len(config["deprecated"]) > 100
    assert not keys & set(config["deprecated"])
    assert set(config["deprecated"].values()) <= keys
    assert config["deprecated"]["state.backend"] == "state.backend.type"
    assert config["deprecated"]["state.checkpoints.dir"] == "execution.checkpointing.dir"
    assert config["deprecated"]["web.port"] == "rest.port"


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_committed_has_key(config, key):
    assert key in config["keys"]


@pytest.mark.parametrize("key", S3_KEYS)
def test_committed_s3_passthrough(config, key):
    assert key not in config["keys"]
    assert [p for p in config["patterns"] if re.match(p, key)] == [flink.S3_PATTERN]


def test_committed_patterns(config):
    for pattern in config["patterns"]:
        assert pattern.startswith("^") and pattern.endswith("$"), pattern
        re.compile(pattern)
    for key in (
        "metrics.reporter.prom.factory.class",
        "metrics.reporter.prom.port",
        "metrics.reporter.prom.filterLabelValueCharacters",
        "metrics.reporter.prom.interval",
        "metrics.reporter.jmx.factory.class",
        "metrics.reporter.jmx.port",
        "metrics.reporter.prom.scope.variables.excludes",
        "metrics.reporter.prom.filter.includes",
        "traces.reporter.otel.exporter.endpoint",
        "external-resource.gpu.amount",
        "external-resource.gpu.param.discovery-script.path",
        "security.delegation.token.provider.hadoopfs.enabled",
        "containerized.taskmanager.env.JAVA_HOME",
        "flink.hadoop.dfs.replication",
    ):
        assert accepts(config, key), key
    for key in (
        "metrics.reporter.prom.prot",
        "metrics.reporter.prom.factory.clas",
        "metrics.reporter.prom",
        "metrics.reporter.prom.class",
        "metrics.reporter.a.b.port",
        "metrics.reporter.prom.<parameter>",
        "rest.prot",
        "connector",
        "format",
        "path",
    ):
        assert not accepts(config, key), key


@pytest.mark.skipif(not os.environ.get("FLINK_HOME_2_1_3"), reason="set FLINK_HOME_2_1_3 to an unpacked Flink 2.1.3")
def test_committed_catalog_is_up_to_date(committed):
    assert flink.generate([Path(os.environ["FLINK_HOME_2_1_3"])]) == committed
