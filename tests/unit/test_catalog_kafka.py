"""Tests of scripts/catalogs/kafka.py (the Kafka key catalog generator) and of ansible/catalogs/kafka.json.

The parser runs on small hand-written trees in tests/unit/fixtures/catalogs/kafka/: ``current`` is shaped like the
config classes of a Kafka 4.x tree (Java), ``previous`` like an older release that kept its broker config in Scala.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "catalogs" / "kafka"
CURRENT = FIXTURES / "current"
PREVIOUS = FIXTURES / "previous"
CATALOG = REPO / "ansible" / "catalogs" / "kafka.json"

REQUIRED = {
    "server": [
        "process.roles", "node.id", "controller.quorum.bootstrap.servers", "controller.quorum.voters",
        "controller.listener.names", "listeners", "advertised.listeners", "listener.security.protocol.map",
        "inter.broker.listener.name", "sasl.enabled.mechanisms", "sasl.mechanism.inter.broker.protocol",
        "sasl.mechanism.controller.protocol", "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password",
        "ssl.key.password", "ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password",
        "ssl.client.auth", "ssl.endpoint.identification.algorithm", "ssl.principal.mapping.rules",
        "authorizer.class.name", "super.users", "allow.everyone.if.no.acl.found", "log.dirs", "num.network.threads",
        "num.io.threads", "num.replica.fetchers", "default.replication.factor", "min.insync.replicas",
        "offsets.topic.replication.factor", "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr", "auto.create.topics.enable", "unclean.leader.election.enable",
        "num.partitions", "log.retention.hours", "group.initial.rebalance.delay.ms", "metadata.log.dir",
    ],
    "topic": ["cleanup.policy", "retention.ms", "min.insync.replicas", "segment.bytes", "compression.type"],
    "admin-client": ["bootstrap.servers", "security.protocol", "sasl.mechanism", "sasl.jaas.config",
                     "ssl.truststore.location"],
}


def _load():
    spec = importlib.util.spec_from_file_location("catalog_kafka", REPO / "scripts" / "catalogs" / "kafka.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


kafka = _load()


@pytest.fixture(scope="module")
def catalog() -> dict:
    return kafka.generate([CURRENT])


@pytest.fixture(scope="module")
def server(catalog) -> dict:
    return catalog["sections"]["server"]


def matches(section: dict, key: str) -> bool:
    return any(re.fullmatch(p, key) for p in section["patterns"])


# --- the parser on the fixture trees ------------------------------------------------------------------

def test_header_fields(catalog):
    assert catalog["component"] == "kafka"
    assert catalog["version"] == "9.9.0-fixture"  # gradle.properties of the tree
    assert catalog["source"] == "apache/kafka 9.9.0-fixture (commit unknown)"
    assert catalog["generated_by"] == "scripts/key-catalog kafka <kafka source tree>"
    assert set(catalog["sections"]) == {"server", "topic", "admin-client"}


def test_version_and_source_can_be_overridden():
    result = kafka.generate([CURRENT], version="4.3.0", source="apache/kafka 4.3.0 (commit abc)")
    assert (result["version"], result["source"]) == ("4.3.0", "apache/kafka 4.3.0 (commit abc)")


def test_merged_configdefs_are_followed(server):
    # AbstractKafkaConfig.CONFIG_DEF = Utils.mergeConfigs(List.of(...)): a static method returning a ConfigDef,
    # plain fields, and a ConfigDef built from a base (new ConfigDef(BASE)) and extended in a static block.
    keys = set(server["keys"])
    assert {"process.roles", "node.id", "remote.log.storage.manager.impl.prefix", "num.partitions",
            "sasl.enabled.mechanisms", "connections.max.reauth.ms", "ssl.keystore.type"} <= keys
    assert "sasl.mechanism.inter.broker.protocol" in keys  # from the base, a constant of a nested interface


def test_constants_resolved_across_classes(server, catalog):
    keys = set(server["keys"])
    # LogConfig.SERVER_CONFIG_DEF names ServerLogConfigs.NUM_PARTITIONS_CONFIG (another class, another module)
    assert "num.partitions" in keys
    # AdminClientConfig inherits BOOTSTRAP_SERVERS_CONFIG from the interface it implements
    assert "bootstrap.servers" in catalog["sections"]["admin-client"]["keys"]
    # a key defined in src/test under the same class name is never read
    assert "from.test.sources" not in keys


def test_prefix_concatenation(server, catalog):
    keys = set(server["keys"])
    assert "log.dirs" in keys  # LOG_PREFIX + "dirs", LOG_PREFIX statically imported from another class
    assert "log.retention.hours" in keys
    assert "controller.listener.names" in keys  # CONTROLLER_PREFIX + "listener.names" in the same class
    assert "ssl.truststore.location" in catalog["sections"]["admin-client"]["keys"]  # "ssl." + "truststore" + ...
    assert "security.protocol" in catalog["sections"]["admin-client"]["keys"]


def test_server_synonym_calls(server, catalog):
    keys = set(server["keys"])
    # ServerTopicConfigSynonyms.serverSynonym(TopicConfig.X): the first broker synonym of a topic key
    assert {"log.retention.ms", "log.roll.ms", "min.insync.replicas"} <= keys
    synonyms = catalog["sections"]["topic"]["synonyms"]
    assert synonyms["retention.ms"] == ["log.retention.ms", "log.retention.hours"]
    assert synonyms["segment.ms"] == ["log.roll.ms"]
    assert synonyms["min.insync.replicas"] == ["min.insync.replicas"]


def test_multiline_defines_and_static_blocks(catalog):
    topic = catalog["sections"]["topic"]
    # `CONFIG.` and `define(` on separate lines, arguments over several lines, comments between the calls
    assert topic["keys"] == ["cleanup.policy", "compression.type", "internal.segment.bytes", "min.insync.replicas",
                             "retention.ms", "segment.bytes", "segment.ms"]
    assert "commented.out" not in topic["keys"]


def test_multiple_declarators_in_one_field_statement(server):
    assert {"num.network.threads", "principal.builder.class"} <= set(server["keys"])


def test_internal_configs(server, catalog):
    assert server["internal"] == ["log.initial.task.delay.ms", "server.max.startup.time.ms"]
    assert set(server["internal"]) <= set(server["keys"])
    assert catalog["sections"]["topic"]["internal"] == ["internal.segment.bytes"]
    assert catalog["sections"]["admin-client"]["internal"] == []


def test_client_ssl_support_helper(catalog):
    admin = catalog["sections"]["admin-client"]
    # .withClientSslSupport() -> SslConfigs.addClientSslSupport(this) -> config.define(...)
    assert admin["keys"] == ["bootstrap.servers", "metrics.jmx.include", "retries", "sasl.mechanism",
                             "security.protocol", "ssl.keystore.type", "ssl.truststore.location"]


def test_plugin_keys(server):
    assert {"super.users", "allow.everyone.if.no.acl.found", "metrics.jmx.include"} <= set(server["keys"])


def test_deprecated(server):
    assert server["deprecated"] == {
        # @Deprecated constant; its doc names the replacement
        "remote.log.manager.thread.pool.size": "remote.log.manager.follower.thread.pool.size",
        # doc says the configuration is deprecated, no replacement named
        "remote.log.legacy.flag": None,
    }


def test_patterns(server, catalog):
    for key in ("listener.name.internal.ssl.keystore.location", "listener.name.controller.sasl.enabled.mechanisms",
                "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config",
                "listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms",
                "listener.name.external.num.network.threads", "rsm.config.bucket", "rlmm.config.x"):
        assert matches(server, key), key
    for key in ("listener.name.internal.log.dirs", "ssl.keystore.locaton", "rsm.config."):
        assert not matches(server, key), key
    assert catalog["sections"]["topic"]["patterns"] == []


def test_defunct_from_a_previous_scala_tree():
    result = kafka.generate([CURRENT], previous=[PREVIOUS])
    # val ZkSessionTimeoutMsProp = "zookeeper." + <newline> "session.timeout.ms" in a Scala object
    assert result["sections"]["server"]["defunct"] == ["zookeeper.connect", "zookeeper.session.timeout.ms"]
    assert result["sections"]["topic"]["defunct"] == ["message.format.version"]
    assert result["sections"]["admin-client"]["defunct"] == []  # the old tree has no admin client: nothing gone


def test_scala_tree_alone():
    catalog, sections = kafka.build([PREVIOUS], partial=True)
    assert sections["server"]["keys"] == ["log.dirs", "num.partitions", "process.roles", "zookeeper.connect",
                                          "zookeeper.session.timeout.ms"]
    assert "admin-client" not in sections
    with pytest.raises(kafka.CatalogError):
        kafka.generate([PREVIOUS])


def test_unresolved_keys_are_reported(tmp_path):
    tree = tmp_path / "kafka"
    pkg = tree / "server" / "src" / "main" / "java" / "x"
    pkg.mkdir(parents=True)
    (pkg / "AbstractKafkaConfig.java").write_text(
        "package x;\n"
        "public class AbstractKafkaConfig {\n"
        "    public static final ConfigDef CONFIG_DEF = new ConfigDef()\n"
        "        .define(\"literal.key\", STRING, null, HIGH, \"doc\")\n"
        "        .define(Nowhere.KEY_CONFIG, STRING, null, HIGH, \"doc\");\n"
        "}\n")
    catalog = kafka.Catalog([tree])
    defines, where = catalog.configdef(kafka.SERVER_DEFS)
    assert where == "x.AbstractKafkaConfig"
    assert [d.key for d in defines] == ["literal.key"]
    assert len(catalog.ev.unresolved) == 1 and "Nowhere . KEY_CONFIG" in catalog.ev.unresolved[0]


def test_tokenizer_strings():
    toks = kafka.tokenize('String a = "x\\"y" + \'c\'; // "not.a.key"\n/* "nor.this" */ String b = """\n  t.b\n  """;')
    assert [t.text for t in toks if t.kind == "str"] == ['x"y', "t.b\n"]
    assert [t.text for t in toks if t.kind == "chr"] == ["c"]


def test_main_prints_sorted_json(capsys):
    assert kafka.main([str(CURRENT)]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert out == json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_main_writes_output(tmp_path):
    target = tmp_path / "kafka.json"
    assert kafka.main([str(CURRENT), "--previous", str(PREVIOUS), "-o", str(target), "--version", "4.3.0"]) == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["version"] == "4.3.0"
    assert data["sections"]["server"]["defunct"] == ["zookeeper.connect", "zookeeper.session.timeout.ms"]


def test_main_fails_without_a_kafka_tree(tmp_path, capsys):
    assert kafka.main([str(tmp_path)]) == 2
    assert "no ConfigDef" in capsys.readouterr().err


# --- the committed catalog -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads(CATALOG.read_text(encoding="utf-8"))


def test_committed_catalog_structure(committed):
    assert set(committed) == {"component", "version", "source", "generated_by", "sections"}
    assert committed["component"] == "kafka"
    # The pinned Kafka (platform_artifacts.kafka) is the version the catalog was generated from.
    assert committed["version"] == "4.2.1"
    assert committed["source"].startswith(f"apache/kafka {committed['version']} ")
    versions = yaml.safe_load((REPO / "roles/platform/defaults/main/versions.yml").read_text(encoding="utf-8"))
    assert versions["platform_artifacts"]["kafka"]["version"] == committed["version"]
    assert re.match(r"apache/kafka \S+ \(commit [0-9a-f]{40}\)", committed["source"])
    assert committed["generated_by"] == "scripts/key-catalog kafka <kafka source tree>"
    assert set(committed["sections"]) == {"server", "topic", "admin-client"}
    for name, section in committed["sections"].items():
        assert {"description", "keys", "deprecated", "defunct", "patterns", "internal"} <= set(section), name
        assert isinstance(section["description"], str) and section["description"]
        keys = section["keys"]
        assert keys == sorted(set(keys)) and all(isinstance(k, str) and k for k in keys), name
        assert all(k in keys for k in section["deprecated"]), name
        assert all(v is None or v in keys for v in section["deprecated"].values()), name
        assert section["defunct"] == sorted(set(section["defunct"])), name
        assert not set(section["defunct"]) & set(keys), name
        assert set(section["internal"]) <= set(keys), name
        for pattern in section["patterns"]:
            assert pattern.startswith("^") and pattern.endswith("$")
            re.compile(pattern)


def test_committed_catalog_is_formatted_as_generated(committed):
    text = CATALOG.read_text(encoding="utf-8")
    assert text == json.dumps(committed, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert max(len(line) for line in text.splitlines()) <= 120


@pytest.mark.parametrize("section", sorted(REQUIRED))
def test_committed_catalog_has_the_rendered_keys(committed, section):
    keys = set(committed["sections"][section]["keys"])
    missing = [k for k in REQUIRED[section] if k not in keys]
    assert not missing, f"{section}: {missing}"


def test_committed_catalog_knows_4x_removals_and_listener_keys(committed):
    server = committed["sections"]["server"]
    assert "zookeeper.connect" in server["defunct"]
    assert "zookeeper.connect" not in server["keys"]
    for key in ("listener.name.controller.ssl.keystore.location", "listener.name.sasl_ssl.sasl.enabled.mechanisms",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                "listener.name.broker.plain.sasl.server.callback.handler.class"):
        assert matches(server, key), key
    assert committed["sections"]["topic"]["synonyms"]["retention.ms"][0] == "log.retention.ms"
