"""The one configuration mechanism (fdp_config): layered merge, reserved keys, the key catalog
with did-you-mean, and rendering to every format the components read, each checked by reading
the rendered text back with a parser of that format."""

from __future__ import annotations

import configparser
import json
import tomllib
import subprocess
import xml.etree.ElementTree as ET

import pytest
import yaml

from fdp_config import ConfigError, catalog_errors, load_catalog, merge, render, settings, settings_errors

CATALOG = {
    "component": "demo",
    "version": "1.2.3",
    "sections": {
        "server": {
            "keys": ["rest.port", "rest.address", "parallelism.default", "security.ssl.enabled"],
            "deprecated": {"web.port": "rest.port", "old.thing": None},
            "defunct": ["zookeeper.connect"],
            "patterns": [r"^metrics\.reporter\.[^.]+\.(port|factory\.class)$"],
        }
    },
}


def test_merge_later_layers_win_and_null_removes():
    merged = merge([{"a": 1, "b": 2}, {"b": 3, "c": 4}, {"a": None}])
    assert merged == {"b": 3, "c": 4}


def test_merge_nested_merges_sections_and_null_removes_a_section():
    merged = merge([{"server": {"a": 1, "b": 2}, "log": {"x": 1}}, {"server": {"b": 3}, "log": None}], nested=True)
    assert merged == {"server": {"a": 1, "b": 3}}


def test_settings_orders_layers_and_overrides_win():
    result = settings([{"parallelism.default": 1}, {"rest.port": 8081}], {"parallelism.default": 4},
                      component="demo", section="server", catalog=CATALOG)
    assert result == {"parallelism.default": 4, "rest.port": 8081}


def test_reserved_keys_name_the_variable_to_use():
    errors = settings_errors({"rest.port": 9999, "parallelism.default": 2},
                             reserved={"rest.port": "set platform_ports.demo_rest"}, variable="demo_overrides")
    assert errors == ["demo_overrides sets 'rest.port', which the platform owns: set platform_ports.demo_rest"]
    # a list of reserved keys with one hint
    assert settings_errors({"a.b": 1}, reserved=["a.b"], reserved_hint="owned") == [
        "overrides sets 'a.b', which the platform owns: owned"]


def test_reserved_keys_of_nested_settings_are_section_dot_key():
    errors = settings_errors({"server": {"http_port": 1, "other": 2}, "users": {"x": 1}},
                             reserved=["server.http_port"], reserved_hint="platform_ports", nested=True)
    assert errors == ["overrides sets 'server.http_port', which the platform owns: platform_ports"]
    assert settings_errors({"server": 1}, nested=True)[0].startswith("overrides must map each section")


def test_unknown_key_gets_a_did_you_mean_and_the_escape_hatch():
    errors = catalog_errors(["rest.prot"], "demo", "server", catalog=CATALOG)
    assert len(errors) == 1
    assert "'rest.prot' is not a demo 1.2.3 server key (did you mean 'rest.port'?)" in errors[0]
    assert "platform_config_unchecked_keys.demo" in errors[0]
    assert catalog_errors(["rest.prot", "my.x"], "demo", "server", unchecked=["rest.prot", "re:my\\..*"],
                          catalog=CATALOG) == []


def test_patterns_deprecated_and_defunct_keys():
    assert catalog_errors(["metrics.reporter.prom.port"], "demo", "server", catalog=CATALOG) == []
    assert catalog_errors(["metrics.reporter.prom.prot"], "demo", "server", catalog=CATALOG)
    assert catalog_errors(["web.port"], "demo", "server", catalog=CATALOG) == [
        "'web.port' is deprecated in demo 1.2.3 (server): use 'rest.port'"]
    assert catalog_errors(["old.thing"], "demo", "server", catalog=CATALOG) == [
        "'old.thing' is deprecated in demo 1.2.3 (server): drop it"]
    assert catalog_errors(["zookeeper.connect"], "demo", "server", catalog=CATALOG) == [
        "'zookeeper.connect' was removed from demo 1.2.3 (server): drop it"]


def test_the_roles_own_layers_are_checked_too_and_null_overrides_are_not():
    with pytest.raises(ConfigError, match="'rest.adress' is not"):
        settings([{"rest.adress": "x"}], {}, component="demo", section="server", catalog=CATALOG)
    # removing a key that does not exist cannot put anything unknown into the file
    assert settings([{"rest.port": 1}], {"nonsense": None}, component="demo", section="server",
                    catalog=CATALOG) == {"rest.port": 1}


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        settings([{}], {"rest.port": 1, "rest.prot": 2}, component="demo", section="server",
                 reserved={"rest.port": "platform_ports"}, catalog=CATALOG)
    assert "owns" in str(raised.value) and "did you mean" in str(raised.value)


def test_unknown_section_and_missing_catalog_are_errors():
    with pytest.raises(ConfigError, match="no section 'client'"):
        catalog_errors(["x"], "demo", "client", catalog=CATALOG)
    with pytest.raises(ConfigError, match="no key catalog for nothing-here"):
        load_catalog("nothing-here")


@pytest.mark.parametrize("component", ["flink", "trino", "kafka"])
def test_committed_catalogs_load_and_record_their_source(component):
    catalog = load_catalog(component)
    assert catalog["component"] == component
    assert catalog["version"] and catalog["source"] and catalog["generated_by"].startswith("scripts/key-catalog")
    for name, section in catalog["sections"].items():
        assert section["keys"] == sorted(set(section["keys"])), name


def test_flink_catalog_knows_what_the_role_renders_and_rejects_a_typo():
    assert catalog_errors(["rest.port", "security.ssl.rest.enabled", "metrics.reporter.prom.port",
                           "taskmanager.memory.process.size", "execution.checkpointing.storage"], "flink", "config") == []
    errors = catalog_errors(["taskmanager.numberOfTaskSlot"], "flink", "config")
    assert "did you mean 'taskmanager.numberOfTaskSlots'" in errors[0]


# --- rendering ------------------------------------------------------------------------------
def test_yaml_flat_is_sorted_standard_yaml_with_long_values_on_one_line():
    data = {"security.ssl.internal.keystore-password": "yes: no #x", "rest.port": 8081,
            "security.ssl.internal.enabled": True, "env.java.opts.all": "--add-opens=x=ALL-UNNAMED " * 20}
    text = render(data, "yaml_flat")
    assert yaml.safe_load(text) == data
    assert [line.split(":")[0] for line in text.splitlines()] == sorted(data)
    assert len(text.splitlines()) == 4


def test_values_of_tagged_subclasses_render_as_plain_values():
    class Tagged(str):
        pass

    class TaggedInt(int):
        pass

    assert render({Tagged("blob.server.port"): TaggedInt(6124)}, "yaml_flat") == "blob.server.port: 6124\n"
    with pytest.raises(ConfigError, match="cannot render"):
        render({"x": object()}, "yaml_flat")


def test_properties_escape_what_java_would_misread(tmp_path):
    data = {"a.b": "x=y:z", "lead": " spaced", "path": "C:\\dir", "multi": "1\n2", "flag": False,
            "list": ["a", "b"], "key with space": "v", "hash": "#not-a-comment"}
    path = tmp_path / "t.properties"
    path.write_text(render(data, "properties"), encoding="utf-8")
    # java.util.Properties reads it back exactly (JDK of the controller)
    src = tmp_path / "Read.java"
    src.write_text("""
import java.io.*; import java.util.*;
public class Read { public static void main(String[] a) throws Exception {
  Properties p = new Properties(); p.load(new FileInputStream(a[0]));
  for (String k : new TreeSet<>(p.stringPropertyNames())) System.out.println(k + "\\t" + p.getProperty(k).replace("\\n", "\\\\n"));
}}""", encoding="utf-8")
    out = subprocess.run(["java", str(src), str(path)], capture_output=True, text=True, check=True).stdout
    read = dict(line.split("\t", 1) for line in out.splitlines())
    assert read == {"a.b": "x=y:z", "lead": " spaced", "path": "C:\\dir", "multi": "1\\n2", "flag": "false",
                    "list": "a,b", "key with space": "v", "hash": "#not-a-comment"}


def test_xml_is_hadoop_configuration():
    text = render({"fs.s3a.endpoint": "https://s3:9000", "x": "<&>", "b": True}, "xml")
    root = ET.fromstring(text)
    assert root.tag == "configuration"
    props = {p.findtext("name"): p.findtext("value") for p in root.findall("property")}
    assert props == {"b": "true", "fs.s3a.endpoint": "https://s3:9000", "x": "<&>"}
    # the managed-file comment may precede it: no XML declaration
    ET.fromstring("<!-- managed -->\n" + text)


def _systemd_env_value(raw: str) -> str:
    """A value of an EnvironmentFile= line as systemd reads it (env-file.c): inside double
    quotes a backslash escapes one of " \\ ` $, and nothing is expanded."""
    if not raw.startswith('"'):
        return raw
    out, escaped = [], False
    for char in raw[1:-1]:
        if escaped:
            out.append(char if char in '"\\`$' else "\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def test_env_files_quote_what_systemd_would_split():
    text = render({"JAVA_HOME": "/opt/fdp/jdk17", "OPTS": "-Xmx1g -Dx=\"y\" $HOME"}, "env")
    assert text.splitlines()[0] == "JAVA_HOME=/opt/fdp/jdk17"
    assert _systemd_env_value(text.splitlines()[1].split("=", 1)[1]) == '-Xmx1g -Dx="y" $HOME'
    with pytest.raises(ConfigError, match="not an environment variable"):
        render({"BAD-NAME": 1}, "env")


def test_jvm_options_one_per_line_and_only_options():
    assert render(["-Xmx4g", "-XX:+UseG1GC"], "jvm") == "-Xmx4g\n-XX:+UseG1GC\n"
    with pytest.raises(ConfigError, match="starting with '-'"):
        render(["Xmx4g"], "jvm")


def test_ini_sections_sorted_and_read_back():
    text = render({"server": {"http_port": 3000, "protocol": "https"}, "auth.anonymous": {"enabled": False}}, "ini")
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser["server"]["http_port"] == "3000" and parser["auth.anonymous"]["enabled"] == "false"
    assert text.index("[auth.anonymous]") < text.index("[server]")


def test_json_and_unknown_format():
    assert json.loads(render({"b": 1, "a": [1]}, "json")) == {"a": [1], "b": 1}
    with pytest.raises(ConfigError, match="unknown configuration format"):
        render({}, "hcl")


def test_toml_tables_nested_and_read_back():
    data = {"grpc": {"ca": "/etc/ca.crt", "master": {"cert": "/m.crt", "key": "/m.key"}},
            "jwt": {"signing": {"key": "a\"b\\c", "expires_after_seconds": 10, "read": {"key": "r"}}},
            "top": True, "list": ["x", 2]}
    text = render(data, "toml")
    assert tomllib.loads(text) == data
    # Plain keys of a table come before its sub-tables (TOML would otherwise file them below).
    assert text.index("ca = ") < text.index("[grpc.master]")


def test_java_argfiles_quote_what_the_launcher_would_split(tmp_path):
    options = ["-Dplain=x", "-Dspaced=a b", "-Dquoted=a\"b", "-Dwin=C:\\dir", "-Dhash=#x"]
    path = tmp_path / "opts.args"
    path.write_text("# managed\n" + render(options, "argfile"), encoding="utf-8")
    src = tmp_path / "Props.java"
    src.write_text("""
public class Props { public static void main(String[] a) {
  for (String k : new String[]{"plain", "spaced", "quoted", "win", "hash"}) System.out.println(k + "\\t" + System.getProperty(k));
}}""", encoding="utf-8")
    out = subprocess.run(["java", f"@{path}", str(src)], capture_output=True, text=True, check=True).stdout
    assert dict(line.split("\t", 1) for line in out.splitlines()) == {
        "plain": "x", "spaced": "a b", "quoted": 'a"b', "win": "C:\\dir", "hash": "#x"}
