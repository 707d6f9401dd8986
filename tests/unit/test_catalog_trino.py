"""The Trino key catalog: its generator (scripts/catalogs/trino.py) and the committed ansible/catalogs/trino.json.

The generator is tested on hand-written Java files in the shape of upstream config classes and Guice modules
(tests/unit/fixtures/catalogs/trino/{trino,airlift,launcher}), never on upstream code. The committed catalog is
checked for its structure and for every key the platform renders into Trino's properties files.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from helpers import REPO

FIXTURES = REPO / "tests" / "unit" / "fixtures" / "catalogs" / "trino"
TREES = [FIXTURES / "trino", FIXTURES / "airlift", FIXTURES / "launcher"]
CATALOG = REPO / "ansible" / "catalogs" / "trino.json"


def load_generator():
    spec = importlib.util.spec_from_file_location("catalog_trino", REPO / "scripts" / "catalogs" / "trino.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


trino = load_generator()


def parse(*sources: str):
    """Index in-memory Java files; return {simple class name: JavaClass} and the index."""
    index = trino.Index()
    for number, source in enumerate(sources):
        index.add_file(Path(f"Source{number}.java"), "test:module", source)
    index.read_annotations()
    return {cls.name: cls for jf in index.files for cls in jf.classes}, index


HEADER = """package io.trino.example;

import io.airlift.configuration.Config;
import io.airlift.configuration.DefunctConfig;
import io.airlift.configuration.LegacyConfig;
"""


# ---------------------------------------------------------------------------------------------------------------
# Parser


def test_config_and_legacy_on_the_same_setter():
    classes, _ = parse(HEADER + """
public class ExampleConfig
{
    @LegacyConfig("old.name")
    @Config("new.name")
    public ExampleConfig setName(String name) { return this; }

    @Config("other.name")
    public ExampleConfig setOther(String other) { return this; }
}
""")
    cls = classes["ExampleConfig"]
    assert cls.keys == ["new.name", "other.name"]
    assert cls.legacy == {"old.name": ["new.name"]}


def test_legacy_config_arrays_and_replaced_by():
    classes, _ = parse(HEADER + """
public class ExampleConfig
{
    @Config("query.max-stage-count")
    @LegacyConfig(value = {"query.max-stages", "experimental.max-stage-count"})
    public ExampleConfig setMaxStageCount(int count) { return this; }

    @Deprecated
    @LegacyConfig(value = "query.initial-partitions", replacedBy = "query.partitions")
    public ExampleConfig setInitialPartitions(int count) { return this; }

    @LegacyConfig(replacedBy = "query.other", value = {"query.first", "query.second",})
    public ExampleConfig setOther(int count) { return this; }

    @LegacyConfig("query.forgotten")
    public ExampleConfig setForgotten(int count) { return this; }
}
""")
    assert classes["ExampleConfig"].legacy == {
        "query.max-stages": ["query.max-stage-count"],
        "experimental.max-stage-count": ["query.max-stage-count"],
        "query.initial-partitions": ["query.partitions"],
        "query.first": ["query.other"],
        "query.second": ["query.other"],
        "query.forgotten": [None],
    }


def test_defunct_config_single_and_multi_line_arrays():
    classes, _ = parse(HEADER + """
@DefunctConfig({
        "first.removed",
        "second.removed",
})
public class FirstConfig
{
}
""", HEADER + """
@DefunctConfig("only.removed")
public final class SecondConfig
{
}
""", HEADER + """
@SuppressWarnings("unused")
@DefunctConfig(value = {"a.removed", "b.removed"})
public class ThirdConfig
{
}
""")
    assert classes["FirstConfig"].defunct == ["first.removed", "second.removed"]
    assert classes["SecondConfig"].defunct == ["only.removed"]
    assert classes["ThirdConfig"].defunct == ["a.removed", "b.removed"]


def test_multi_line_annotations_constants_and_concatenation():
    classes, _ = parse(HEADER + """
public class ExampleConfig
{
    public static final String PREFIX = "example.";
    private static final String FULL = PREFIX + "full";

    @Config(
            PREFIX
            + "split-"
            + "key")
    @LegacyConfig(
            value = FULL,
            replacedBy = PREFIX + "split-key")
    public ExampleConfig setSplit(String value) { return this; }

    @Config(OtherHolder.NAME)
    public ExampleConfig setOther(String value) { return this; }
}
""", """package io.trino.example;

public final class OtherHolder
{
    public static final String NAME = "holder.name";
}
""")
    cls = classes["ExampleConfig"]
    assert cls.keys == ["example.split-key", "holder.name"]
    assert cls.legacy == {"example.full": ["example.split-key"]}


def test_comments_strings_and_text_blocks_are_not_annotations():
    classes, index = parse(HEADER + '''
/**
 * {@code @Config("javadoc.key")}
 */
public class ExampleConfig
{
    // @Config("line.comment.key")
    /* @Config("block.comment.key") */
    private static final String TEXT = "@Config(\\"string.key\\")";
    private static final String BLOCK = """
            @Config("text.block.key")
            """;

    @Config("real.key")
    @ConfigDescription("a ) and a { in a description, and \\"@Config(\\\\"quoted.key\\\\")\\"")
    public ExampleConfig setReal(String value) { return this; }

    @Config("after.description")
    public ExampleConfig setAfter(String value) { return this; }
}
''')
    assert classes["ExampleConfig"].keys == ["real.key", "after.description"]
    assert index.warnings == []


def test_only_airlift_config_annotations_count():
    classes, _ = parse("""package io.trino.example;

import org.example.settings.Config;

public class NotAirlift
{
    @Config("not.airlift")
    public void setValue(String value) {}
}
""", """package io.trino.example;

import io.airlift.configuration.*;

public class Wildcard
{
    @Config("wildcard.key")
    public Wildcard setValue(String value) { return this; }

    @io.airlift.configuration.Config("qualified.key")
    public Wildcard setOther(String value) { return this; }
}
""")
    assert classes["NotAirlift"].keys == []
    assert classes["Wildcard"].keys == ["wildcard.key", "qualified.key"]


def test_annotations_belong_to_the_innermost_class():
    classes, _ = parse(HEADER + """
public class Outer
{
    @Config("outer.key")
    public Outer setOuter(String value) { return this; }

    @DefunctConfig("inner.removed")
    public static class Inner
    {
        @Config("inner.key")
        public Inner setInner(String value) { return this; }
    }

    @Config("outer.second")
    public Outer setSecond(String value) { return this; }
}
""")
    assert classes["Outer"].keys == ["outer.key", "outer.second"]
    assert classes["Inner"].keys == ["inner.key"]
    assert classes["Inner"].defunct == ["inner.removed"]
    assert classes["Inner"].qualname == "io.trino.example.Outer.Inner"


def test_unresolvable_constant_is_reported_not_guessed():
    classes, index = parse(HEADER + """
public class ExampleConfig
{
    @Config(Somewhere.UNKNOWN)
    public ExampleConfig setValue(String value) { return this; }
}
""")
    assert classes["ExampleConfig"].keys == []
    assert any("cannot resolve" in warning for warning in index.warnings)


# ---------------------------------------------------------------------------------------------------------------
# Sections, on the fixture trees


@pytest.fixture(scope="module")
def catalog():
    return trino.generate(TREES)


def section(catalog: dict, name: str) -> dict:
    return catalog["sections"][name]


def test_catalog_header(catalog):
    assert catalog["component"] == "trino"
    assert catalog["version"] == "483"
    assert catalog["source"] == "trinodb/trino 483, airlift/airlift 439, airlift/launcher 318"
    assert catalog["generated_by"] == (
        "scripts/key-catalog trino <trino source tree> <airlift source tree> <launcher source tree>")
    assert set(catalog["sections"]) == set(trino.SECTIONS)


def test_server_section_follows_the_modules_the_server_installs(catalog):
    server = section(catalog, "server")
    assert server["keys"] == [
        "bootstrap.quiet",  # airlift Bootstrap itself
        "coordinator",  # buildConfigObject
        "exchange.sort.buffer-size",  # bindConfig with a constant prefix
        "http-server.authentication.krb5.keytab",  # a config class handed to a helper
        "http-server.https.enabled",  # airlift module, @Nullable prefix left null
        "jwk.http-client.idle-timeout",  # bindHttpClient("jwk", ...)
        "log.path",
        "node-scheduler.include-coordinator",  # module installed under a condition
        "node-scheduler.policy",  # inherited from the superclass
        "node.environment",
        "node.id",
        "node.internal-address",
        "query.max-hash-partition-count",
        "query.max-memory",
        "query.max-memory-per-node",  # another class's constant + text
        "query.max-run-time",
        "query.max-stage-count",
    ]
    assert server["deprecated"] == {
        "experimental.max-memory": "query.max-memory",
        "experimental.max-stage-count": "query.max-stage-count",
        "http.server.authentication.krb5.keytab": "http-server.authentication.krb5.keytab",
        "jwk.http-client.read-timeout": "jwk.http-client.idle-timeout",
        "log.output-file": "log.path",
        "node.ip": "node.internal-address",
        "query.initial-hash-partitions": "query.max-hash-partition-count",
        "query.max-stages": "query.max-stage-count",
    }
    assert server["defunct"] == ["exchange.sort.buffer-count", "http-server.ip", "http-server.legacy-option",
                                 "jetty.ip", "log.enable-syslog", "log.legacy-implementation.enabled",
                                 "query.old-limit"]
    # names only known at run time: bindHttpClient(clientName, ...) and "discovery." + type
    assert server["patterns"] == [
        r"^[A-Za-z0-9_.-]+\.(?:http-client\.idle-timeout|http-client\.read-timeout)$",
        r"^discovery\.[A-Za-z0-9_.-]+\.pool$",
    ]
    assert re.match(server["patterns"][0], "exchange.http-client.idle-timeout")
    assert not re.match(server["patterns"][0], "exchange.http-client.unknown")
    assert "airlift:http-server" in server["description"] and "trino:core/trino-main" in server["description"]


def test_classes_nothing_binds_stay_out(catalog):
    everything = {key for sec in catalog["sections"].values() for key in sec["keys"]}
    for key in ("unused.name",  # only bindConfigDefaults
                "commented-out.key", "string-only.key",  # a binding in a comment or a string
                "not.airlift", "javadoc.key",
                "hive.max-partitions-per-scan",  # named in Key.get(HiveConfig.class), never bound
                "tpch.testing-only",  # src/test
                "http-client.idle-timeout",  # only ever bound under a name
                "pool"):
        assert key not in everything, key


def test_iceberg_section(catalog):
    iceberg = section(catalog, "connector.iceberg")
    assert iceberg["keys"] == [
        "bootstrap.quiet",
        "connector.name",  # read by the catalog manager
        "fs.s3.enabled",
        "hive.config.resources",  # the HDFS file system, loaded by class name
        "hive.hdfs.trino.keytab",  # a module made by a factory method of another class
        "hive.metastore.thrift.client.connect-timeout",
        "hive.metastore.thrift.client.read-timeout",
        "hive.metastore.thrift.client.ssl.enabled",
        "hive.metastore.uri",
        "iceberg.catalog.type",
        "iceberg.target-max-file-size",
        "iceberg.writer-sort-buffer-size",  # bindConfig(SortingFileWriterConfig.class, "iceberg")
        "s3-security-mapping.http-client.idle-timeout",
        "s3.aws-secret-key",
        "s3.endpoint",
    ]
    assert iceberg["deprecated"] == {
        "fs.native-s3.enabled": "fs.s3.enabled",
        # one legacy key of two setters: the first of their keys
        "hive.hdfs.presto.keytab": "hive.hdfs.trino.keytab",
        "hive.metastore-timeout": "hive.metastore.thrift.client.connect-timeout",
        "hive.target-max-file-size": "iceberg.target-max-file-size",
        "iceberg.sort-buffer-size": "iceberg.writer-sort-buffer-size",
        "s3-security-mapping.http-client.read-timeout": "s3-security-mapping.http-client.idle-timeout",
    }
    assert iceberg["defunct"] == ["fs.alluxio.enabled", "hive.old-option", "iceberg.old-option"]
    for module in ("trino:plugin/trino-iceberg", "trino:plugin/trino-hive", "trino:lib/trino-filesystem-s3"):
        assert module in iceberg["description"]


def test_plugin_and_node_sections(catalog):
    assert section(catalog, "connector.tpch")["keys"] == ["bootstrap.quiet", "connector.name", "tpch.splits-per-node"]
    assert section(catalog, "connector.tpch")["defunct"] == ["tpch.produce-pages"]
    assert section(catalog, "password-authenticator")["keys"] == [
        "bootstrap.quiet", "file.password-file", "password-authenticator.name"]
    assert section(catalog, "access-control")["keys"] == [
        "access-control.name", "bootstrap.quiet", "security.config-file", "security.refresh-period"]
    assert section(catalog, "resource-groups")["keys"] == [
        "bootstrap.quiet", "resource-groups.config-file", "resource-groups.configuration-manager"]
    node = section(catalog, "node")
    assert node["keys"] == ["node.data-dir", "node.environment", "node.id", "node.internal-address"]
    assert node["deprecated"] == {"node.ip": "node.internal-address"}
    assert node["defunct"] == ["http-server.ip", "jetty.ip"]


def test_tree_order_does_not_matter(catalog):
    again = trino.generate(list(reversed(TREES)))
    assert again["sections"] == catalog["sections"]


def test_without_the_launcher_node_data_dir_is_missing():
    catalog = trino.generate(TREES[:2])
    assert "node.data-dir" not in catalog["sections"]["node"]["keys"]
    assert catalog["source"] == "trinodb/trino 483, airlift/airlift 439"


def test_missing_trees_and_entry_classes_are_errors(tmp_path):
    with pytest.raises(trino.CatalogError, match="no Trino source tree"):
        trino.generate([FIXTURES / "airlift"])
    with pytest.raises(trino.CatalogError, match="io.example.Missing"):
        trino.generate(TREES, {"x": {"description": "x", "entries": ["io.example.Missing"]}})
    with pytest.raises(trino.CatalogError, match="not a directory"):
        trino.generate([tmp_path / "absent"])


def test_source_names_the_commit_of_a_git_checkout(tmp_path):
    tree = tmp_path / "trino"
    shutil.copytree(FIXTURES / "trino", tree)
    (tree / ".git" / "refs" / "heads").mkdir(parents=True)
    (tree / ".git" / "HEAD").write_text("0123456789abcdef0123456789abcdef01234567\n")  # a detached clone of a tag
    assert trino.generate([tree, FIXTURES / "airlift"])["source"].startswith(
        "trinodb/trino 483 (commit 0123456789abcdef0123456789abcdef01234567), airlift/airlift 439")
    (tree / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    packed = "# pack-refs\nfedcba9876543210fedcba9876543210fedcba98 refs/heads/main\n"
    (tree / ".git" / "packed-refs").write_text(packed)
    assert trino.git_head(tree) == "fedcba9876543210fedcba9876543210fedcba98"


def test_main_writes_or_prints_json(tmp_path, capsys):
    output = tmp_path / "out" / "trino.json"
    assert trino.main([*map(str, TREES), "-o", str(output), "--source", "given"]) == 0
    text = output.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["source"] == "given"
    assert text == json.dumps(data, indent=1, sort_keys=True) + "\n"
    assert trino.main([str(t) for t in TREES]) == 0
    assert json.loads(capsys.readouterr().out)["sections"] == data["sections"]
    assert trino.main([str(FIXTURES / "airlift")]) == 1
    assert "no Trino source tree" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------
# The committed catalog

SECTION_NAMES = {"server", "node", "password-authenticator", "access-control", "resource-groups",
                 "connector.iceberg", "connector.tpch"}

# every key the platform renders, by the file (section) it goes into
RENDERED = {
    "server": [
        "http-server.https.enabled", "http-server.https.port", "http-server.https.keystore.path",
        "http-server.https.keystore.key", "http-server.http.enabled", "http-server.authentication.type",
        "internal-communication.shared-secret", "internal-communication.https.required", "discovery.uri",
        "coordinator", "node-scheduler.include-coordinator", "query.max-memory", "query.max-memory-per-node",
        "memory.heap-headroom-per-node", "spill-enabled", "spiller-spill-path", "task.concurrency",
        "http-server.https.truststore.path", "internal-communication.https.keystore.path",
    ],
    "node": ["node.environment", "node.id", "node.data-dir"],
    "password-authenticator": ["password-authenticator.name", "file.password-file"],
    "access-control": ["access-control.name", "security.config-file", "security.refresh-period"],
    "resource-groups": ["resource-groups.configuration-manager", "resource-groups.config-file"],
    "connector.iceberg": [
        "connector.name", "iceberg.catalog.type", "hive.metastore.uri", "fs.s3.enabled", "s3.endpoint", "s3.region",
        "s3.path-style-access", "s3.aws-access-key", "s3.aws-secret-key", "hive.metastore.thrift.client.ssl.enabled",
        "hive.metastore.thrift.client.ssl.trust-certificate", "iceberg.file-format",
    ],
    "connector.tpch": ["connector.name", "tpch.splits-per-node"],
}


@pytest.fixture(scope="module")
def committed() -> dict:
    return json.loads(CATALOG.read_text(encoding="utf-8"))


def test_committed_catalog_structure(committed):
    assert set(committed) == {"component", "version", "source", "generated_by", "sections"}
    assert committed["component"] == "trino"
    assert committed["version"] == "483"
    assert re.match(r"trinodb/trino 483 \(commit [0-9a-f]{40}\b", committed["source"])
    assert re.search(r"airlift/airlift \d+ \(commit [0-9a-f]{40}\b", committed["source"])
    assert committed["generated_by"].startswith("scripts/key-catalog trino ")
    assert set(committed["sections"]) == SECTION_NAMES
    for name, sec in committed["sections"].items():
        assert set(sec) == {"description", "keys", "deprecated", "defunct", "patterns"}, name
        assert isinstance(sec["description"], str) and sec["description"], name
        assert sec["keys"] == sorted(set(sec["keys"])), name
        assert sec["defunct"] == sorted(set(sec["defunct"])), name
        assert all(isinstance(v, str) or v is None for v in sec["deprecated"].values()), name
        assert not set(sec["keys"]) & set(sec["defunct"]), name
        for key in (*sec["keys"], *sec["deprecated"], *sec["defunct"]):
            assert re.fullmatch(r"[A-Za-z0-9][^\s=:]*", key), (name, key)  # e.g. ...encoding.json+lz4.enabled
        for pattern in sec["patterns"]:
            assert pattern.startswith("^") and pattern.endswith("$"), (name, pattern)
            re.compile(pattern)
    assert CATALOG.read_text(encoding="utf-8") == json.dumps(committed, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("name,key", [(name, key) for name, keys in RENDERED.items() for key in keys])
def test_committed_catalog_knows_rendered_keys(committed, name, key):
    assert key in committed["sections"][name]["keys"]


def test_committed_catalog_s3_switch_is_fs_s3_enabled(committed):
    # Trino renamed fs.native-s3.enabled to fs.s3.enabled; in 483 the old name is only a legacy alias
    iceberg = committed["sections"]["connector.iceberg"]
    assert "fs.s3.enabled" in iceberg["keys"]
    assert "fs.native-s3.enabled" not in iceberg["keys"]
    assert iceberg["deprecated"]["fs.native-s3.enabled"] == "fs.s3.enabled"


def test_committed_catalog_keeps_connector_keys_apart(committed):
    sections = committed["sections"]
    assert not any(key.startswith("hive.max-partitions") for key in sections["connector.iceberg"]["keys"])
    assert not any(key.startswith("iceberg.") for key in sections["server"]["keys"])
    assert not any(key.startswith("tpch.") for key in sections["connector.iceberg"]["keys"])
    assert set(sections["node"]["keys"]) - {"node.data-dir"} <= set(sections["server"]["keys"])
