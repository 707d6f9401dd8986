#!/usr/bin/env python3
"""Key catalog of Flink 2.1.3's conf/config.yaml, generated from the jars of the pinned distribution.

What it reads: the jars of an unpacked Flink binary distribution (a "Flink home"): lib/*.jar, opt/*.jar and
plugins/*/*.jar. The Java helper FlinkOptions.java next to this file (JDK only, no dependencies) is compiled into a
temporary directory and run over these jars; it loads Flink's classes by reflection and prints every
`public static final ConfigOption` field (key, fallback keys, @Documentation.SuffixOption prefix) plus the setting
names the metric reporter plugins read by string constant. This module turns that into the catalog.

How to run it: download flink-2.1.3-bin-scala_2.12.tgz from Apache's download site (or an Apache mirror), unpack
it, and point the generator at the unpacked flink-2.1.3 directory (needs a JDK 17: javac and java):

    tar xzf flink-2.1.3-bin-scala_2.12.tgz
    scripts/catalogs/flink.py flink-2.1.3 -o ansible/catalogs/flink.json

(`--java` names the java executable or a JDK home when the one on PATH is not wanted.)

The section, `config` (conf/config.yaml, flat dotted keys):
  keys        every key of a ConfigOption field, plus the fallback keys Flink still reads without deprecation
              warning (e.g. rest.port for rest.bind-port). Options of table connectors, formats, catalogs,
              modules and SQL hints (the WITH (...) clause of a DDL or a hint, not config.yaml: `connector`,
              `format`, `path`, `sink.parallelism`, `json.*`...) are left out; from those classes only keys in
              the table.* namespace are kept (table.catalog-store.kind). Per-field table options (`fields.#.kind`)
              are left out, too. Internal keys ($internal.*, internal.*) stay: Flink reads them from config.yaml
              as well (e.g. $internal.pipeline.job-id fixes the job id of an application cluster).
  deprecated  deprecated key -> the current key that replaces it: deprecated fallback keys of ConfigOptions,
              and @Deprecated options that another option names as its deprecated fallback. When one deprecated
              key is the fallback of several options, the most similar current key is named.
  defunct     keys that Flink no longer reads; the jars cannot tell, so it stays empty here.
  patterns    regular expressions for the families of keys with a name chosen by the user:
              - metrics.reporter.<name>.<setting>, and the same for traces.reporter and events.reporter: the
                settings are the reporter-level options of MetricOptions/TraceOptions/EventOptions (factory.class,
                interval, scope.*, filter.*), the ConfigOptions of the reporter plugins (the jars providing a
                reporter factory, e.g. the Prometheus reporter's filterLabelValueCharacters), and the string
                constants by which the plugins' reporters read their own settings (e.g. the Prometheus and JMX
                reporters' port). Flink itself hands any metrics.reporter.<name>.* setting to the reporter; the
                pattern only knows the settings of the reporters shipped with the distribution, so that a
                misspelt one does not pass.
              - other keys declared with a <placeholder> (external-resource.<resource_name>.amount,
                security.delegation.token.provider.<serviceName>.enabled, flink.hadoop.<key>): a placeholder
                stands for one dot-free name; a trailing one (an open parameter bag) for any rest, unless the
                distribution names that bag's settings (external-resource.<resource_name>.param.* -> the GPU
                driver's discovery-script.*).
              - prefixes that the options classes declare as *_PREFIX constants and that no declared key uses
                (containerized.master.env.<VAR>, containerized.taskmanager.env.<VAR>).
              - s3.<key>: the S3 file system plugins (flink-s3-fs-hadoop and flink-s3-fs-presto from opt/) read
                s3.* by prefix and pass it on to Hadoop's S3A (fs.s3a.*) or Presto (presto.s3.*) settings; the
                documented keys such as s3.access-key, s3.secret-key, s3.endpoint and s3.path.style.access are
                no ConfigOptions, so this family is written as a pattern whether or not the plugins are present.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

COMPONENT = "flink"
VERSION = "2.1.3"
SOURCE = f"flink-{VERSION}-bin-scala_2.12 distribution: lib/, opt/ and plugins/ jars (ConfigOption fields)"
GENERATED_BY = "scripts/key-catalog flink <flink home>"
JAVA_SOURCE = Path(__file__).resolve().with_name("FlinkOptions.java")
JAVA_CLASS = "FlinkOptions"

# A <placeholder> segment of a key: one name chosen by the user.
PLACEHOLDER = re.compile(r"^<[^<>]+>$")
NAME_RE = r"[^.\s]+"
REST_RE = r"\S+"

# The reporter SPIs; a plugin jar providing one of them declares reporter-relative settings.
REPORTER_SERVICES = {
    "org.apache.flink.metrics.reporter.MetricReporterFactory": "metrics",
    "org.apache.flink.traces.reporter.TraceReporterFactory": "traces",
    "org.apache.flink.events.reporter.EventReporterFactory": "events",
}
REPORTER_PREFIX = re.compile(r"^(metrics|traces|events)\.reporter\.[^.]+$")
# A string constant of a reporter class that reads like a setting name (not "flink_", "<host>", "9249", ...).
SETTING_NAME = re.compile(r"^[a-z][A-Za-z0-9]*(?:[.-][A-Za-z0-9]+)*$")

# Classes holding options of table connectors, formats, catalogs, modules and SQL hints: WITH (...) options, not
# config.yaml keys. Only their table.* keys are config keys.
TABLE_DDL_PACKAGES = (
    "org.apache.flink.formats.",
    "org.apache.flink.table.factories.",
    "org.apache.flink.table.catalog.",
    "org.apache.flink.table.module.",
    "org.apache.flink.table.connector.",
    "org.apache.flink.table.sinks.",
    "org.apache.flink.table.runtime.arrow.sources.",
    "org.apache.flink.table.utils.python.",
)
TABLE_DDL_CONNECTORS = re.compile(r"^org\.apache\.flink\.connector\.(?:\w+\.)*table\.")
TABLE_DDL_CLASSES = {
    "org.apache.flink.table.api.config.LookupJoinHintOptions",
    "org.apache.flink.table.api.config.MLPredictRuntimeConfigOptions",
}
# Options of catalog store factories are read as table.catalog-store.<kind>.<key>.
CATALOG_STORE_CLASS = re.compile(r"^org\.apache\.flink\.table\.catalog\.\w+CatalogStoreFactoryOptions$")
CATALOG_STORE_FAMILY = "table.catalog-store.<kind>"

# Passed through by prefix by the S3 file system plugins (see the module docstring).
S3_PATTERN = r"^s3\.[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*$"


# --- running the Java helper ------------------------------------------------------------------------------


def distribution_jars(home: Path) -> list[Path]:
    """lib/*.jar, opt/*.jar and plugins/*/*.jar of a Flink home, in the order of Flink's class path."""
    jars = sorted(home.glob("lib/*.jar")) + sorted(home.glob("opt/*.jar")) + sorted(home.glob("plugins/*/*.jar"))
    if not any(j.name.startswith("flink-dist-") for j in jars):
        raise ValueError(f"{home}: no lib/flink-dist-*.jar, not a Flink distribution")
    return jars


def source_jars(sources: list[Path]) -> list[Path]:
    """The jars of the sources (Flink homes or jar files); they must be the pinned version's."""
    jars: list[Path] = []
    for source in sources:
        jars.extend(distribution_jars(source) if source.is_dir() else [source])
    dist = [j.name for j in jars if re.fullmatch(r"flink-dist-.*\.jar", j.name)]
    if dist != [f"flink-dist-{VERSION}.jar"]:
        raise ValueError(f"expected one flink-dist-{VERSION}.jar among the sources, found {dist or 'none'}")
    return jars


def java_tools(java: str | None = None) -> tuple[str, str]:
    """(javac, java): from --java (an executable or a JDK home), JAVA_HOME or PATH."""
    if java is None and os.environ.get("JAVA_HOME"):
        java = os.environ["JAVA_HOME"]
    if java is not None and Path(java).is_dir():
        java = str(Path(java) / "bin" / "java")
    java = java or shutil.which("java")
    if not java or not Path(java).exists():
        raise FileNotFoundError("no java executable: install a JDK 17 or pass --java")
    javac = Path(java).resolve().with_name("javac")
    if not javac.exists():
        found = shutil.which("javac")
        if not found:
            raise FileNotFoundError(f"no javac next to {java} nor on PATH: a JDK (not a JRE) is needed")
        javac = Path(found)
    return str(javac), java


def run_java(jars: list[Path], java: str | None = None) -> list[dict]:
    """Compile FlinkOptions.java into a temporary directory, run it over the jars, return its records."""
    javac, java = java_tools(java)
    with tempfile.TemporaryDirectory(prefix="flink-options-") as classes:
        subprocess.run(
            [javac, "--release", "17", "-encoding", "UTF-8", "-d", classes, str(JAVA_SOURCE)],
            check=True,
        )
        done = subprocess.run(
            [java, "-cp", classes, JAVA_CLASS, *map(str, jars)],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


# --- assembling the catalog --------------------------------------------------------------------------------


def is_table_ddl_option(class_name: str, key: str) -> bool:
    """A WITH (...) option of a table connector, format, catalog, module or hint: not a config.yaml key."""
    if "#" in key.split("."):
        return True  # per-field option of a table (fields.#.kind)
    ddl = (
        class_name.startswith(TABLE_DDL_PACKAGES)
        or TABLE_DDL_CONNECTORS.match(class_name) is not None
        or class_name in TABLE_DDL_CLASSES
    )
    return ddl and not key.startswith("table.")


def family_of(prefix: str) -> str:
    """The family a @SuffixOption prefix stands for: a reporter's documented name is any reporter name."""
    m = REPORTER_PREFIX.match(prefix)
    return f"{m.group(1)}.reporter.<name>" if m else prefix


def split_placeholder(key: str) -> tuple[str, str | None] | None:
    """For a key with a <placeholder>: (family, setting), setting None for a trailing one (an open bag)."""
    segments = key.split(".")
    marked = [i for i, s in enumerate(segments) if PLACEHOLDER.match(s)]
    if not marked:
        return None
    last = marked[-1]
    if last == len(segments) - 1:
        return ".".join(segments[:-1]), None
    return ".".join(segments[: last + 1]), ".".join(segments[last + 1 :])


def escape(text: str) -> str:
    return re.escape(text).replace("\\-", "-")  # a hyphen is literal outside [...]


def family_regex(family: str) -> str:
    return r"\.".join(NAME_RE if PLACEHOLDER.match(s) else escape(s) for s in family.split("."))


def family_pattern(family: str, names: set[str]) -> str:
    choice = "|".join(escape(n) for n in sorted(names))
    return f"^{family_regex(family)}\\.{choice if len(names) == 1 else f'(?:{choice})'}$"


def pick_replacement(old: str, candidates: set[str]) -> str:
    """The current key most like the deprecated one (ties: the first in sorted order)."""
    return max(sorted(candidates), key=lambda new: difflib.SequenceMatcher(None, old, new).ratio())


def assemble(records: list[dict]) -> dict:
    """The config section from FlinkOptions' records."""
    services = {r["jar"]: set(r["services"]) for r in records if r["kind"] == "jar"}
    own: dict[str, bool] = {}  # key -> its field is @Deprecated
    replaced_by: dict[str, set[str]] = defaultdict(set)  # deprecated fallback key -> current keys
    plain_fallbacks: set[str] = set()
    families: dict[str, set[str]] = defaultdict(set)  # family -> setting names
    open_bags: set[str] = set()

    def relative(family: str, option: dict, key: str) -> None:
        for name in [key, *(f["key"] for f in option["fallbackKeys"])]:
            if PLACEHOLDER.match(name):
                open_bags.add(family)
            else:
                families[family].add(name)

    for r in records:
        if r["kind"] != "option":
            continue
        cls, key = r["class"], r["key"]
        reporter_families = sorted({REPORTER_SERVICES[s] for s in services.get(r["jar"], ()) if s in REPORTER_SERVICES})
        if CATALOG_STORE_CLASS.match(cls):
            relative(CATALOG_STORE_FAMILY, r, key)
        elif is_table_ddl_option(cls, key):
            continue
        elif reporter_families:
            for fam in reporter_families:
                relative(f"{fam}.reporter.<name>", r, key)
        elif r["prefix"]:
            relative(family_of(r["prefix"]), r, key)
        elif (split := split_placeholder(key)) is not None:
            family, setting = split
            if setting is None:
                open_bags.add(family)
            else:
                families[family].add(setting)
        else:
            own[key] = own.get(key, True) and r["deprecated"]
            for fallback in r["fallbackKeys"]:
                if fallback["deprecated"]:
                    replaced_by[fallback["key"]].add(key)
                else:
                    plain_fallbacks.add(fallback["key"])

    for r in records:
        if r["kind"] == "constant" and SETTING_NAME.match(r["value"]) and not r["field"].startswith("DEFAULT"):
            for fam in r["families"]:
                families[f"{fam}.reporter.<name>"].add(r["value"])

    deprecated: dict[str, str] = {}
    for old, news in replaced_by.items():
        # an own key stays current, unless its field is @Deprecated in favour of another option
        if old in own and not (own[old] and news - {old}):
            continue
        deprecated[old] = pick_replacement(old, news - {old})
    keys = (set(own) | (plain_fallbacks - set(replaced_by))) - set(deprecated)

    patterns = {family_pattern(f, names) for f, names in families.items() if names}
    patterns |= {f"^{family_regex(f)}\\.{REST_RE}$" for f in open_bags if not families.get(f)}
    declared = sorted(keys) + [f + "." for f in families] + [f + "." for f in open_bags]
    for r in records:
        value = r.get("value", "")
        if (
            r["kind"] == "prefix"
            and value.endswith(".")
            and "<" not in value
            and not any(d.startswith(value) for d in declared)
        ):
            patterns.add(f"^{escape(value[:-1])}\\.{REST_RE}$")
    patterns.add(S3_PATTERN)

    return {
        "description": "conf/config.yaml (flat dotted keys)",
        "keys": sorted(keys),
        "deprecated": dict(sorted(deprecated.items())),
        "defunct": [],
        "patterns": sorted(patterns),
    }


def catalog(section: dict) -> dict:
    return {
        "component": COMPONENT,
        "version": VERSION,
        "source": SOURCE,
        "generated_by": GENERATED_BY,
        "sections": {"config": section},
    }


def generate(sources: list[Path], java: str | None = None) -> dict:
    """The catalog from Flink homes (or jar files) of the pinned version."""
    return catalog(assemble(run_java(source_jars([Path(s) for s in sources]), java)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "home", type=Path, help=f"unpacked flink-{VERSION}-bin-scala_2.12.tgz (the flink-{VERSION} dir)"
    )
    parser.add_argument("-o", "--output", type=Path, help="write the catalog here instead of stdout")
    parser.add_argument("--java", help="java executable or JDK home (default: JAVA_HOME, then PATH)")
    args = parser.parse_args(argv)
    text = json.dumps(generate([args.home], java=args.java), indent=1, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
