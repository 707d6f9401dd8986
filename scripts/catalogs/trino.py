#!/usr/bin/env python3
"""Generate the key catalog of a Trino release from its upstream sources.

What it reads
-------------
The Java sources (``src/main/java`` only, never tests) of the source trees given on the command line:

* a Trino tree (``git clone --depth 1 --branch 483 https://github.com/trinodb/trino``);
* the airlift tree Trino's root ``pom.xml`` pins in ``<dep.airlift.version>``
  (``git clone --depth 1 --branch 439 https://github.com/airlift/airlift`` for Trino 483): the
  ``http-server.*``, ``node.*``, ``discovery.*``, ``log.*``, ``jmx.*``, ``tracing.*`` and
  ``<name>.http-client.*`` keys live in airlift's config classes;
* optionally the airlift launcher tree (``git clone --depth 1 --branch 318 https://github.com/airlift/launcher``;
  the version is ``<dep.launcher.version>`` of the airbase parent pom Trino's root pom names). The launcher,
  not a config class, reads ``node.data-dir`` from ``etc/node.properties``; its Go sources are scanned for
  ``NodeConfig["..."]`` look-ups;
* any further library tree whose config classes the server or the plugins bind (none is needed for 483).

Which tree is which is found from its layout (``core/trino-main``; airlift's ``configuration`` module; the
launcher's ``src/main/go``), so the order does not matter.

In every Java file it finds airlift's ``@Config("key")``, ``@LegacyConfig("old")`` /
``@LegacyConfig(value = {"a", "b"}, replacedBy = "new")`` and ``@DefunctConfig({...})`` annotations
(multi-line, constants such as ``@Config(SECURITY_CONFIG_FILE)`` and ``"a" + "b"`` are resolved) and the
class each belongs to. A legacy key maps to its ``replacedBy`` or else to the ``@Config`` key of the same
setter; a legacy key of several setters maps to the first of their keys in sorted order.

How classes become sections
---------------------------
A section is what one properties file may hold. Its keys are those of the config classes the file's
reader binds, found from fixed entry classes (SECTIONS below) by following Guice modules through the
sources: from an entry class (say ``io.trino.plugin.iceberg.IcebergConnectorFactory``) every module it or a
reached module creates (``new XModule(...)``, ``XModule.class``, a statically imported module or ``*Binder``
helper) is followed, and every config class passed to ``bindConfig``, ``buildConfigObject``,
``ConfigurationFactory.build`` or ``conditionalModule`` is taken, with its superclasses; inside a module a
config class handed to a helper (``installAuthenticator(..., KerberosConfig.class)``) counts too. Modules
switched on by a setting (``iceberg.catalog.type``, ``fs.s3.enabled`` ...) all count. Each class is then
attributed by its module path, and each section's description lists those paths (``trino:plugin/trino-iceberg``,
``trino:lib/trino-filesystem-s3``, ``airlift:http-server`` ...), so what went in can be checked at a glance.

A prefix given to ``bindConfig`` (``bindConfig(X.class, "iceberg")``) is put before each key, as is the name of an
airlift HTTP client (``httpClientBinder(binder).bindHttpClient("jwk", ...)`` gives ``jwk.http-client.*``). A
prefix only known at run time (``bindHttpClient(clientName, ...)``, ``"discovery." + type``) becomes a regular
expression in ``patterns``.

Keys that a manager reads itself before it hands the rest of the file to a plugin
(``properties.remove(NAME_PROPERTY)``: ``connector.name``, ``password-authenticator.name``,
``access-control.name``, ``resource-groups.configuration-manager``) are taken from those manager classes.

Sections (each file a Trino node reads):
  server                  etc/config.properties: io.trino.server.Server's modules (trino-main and airlift's
                          node, http-server, http-client, discovery, jmx, log-manager, tracing, opentelemetry,
                          metrics, bootstrap). node.* keys are here too: the server accepts them in config.properties
  node                    etc/node.properties: airlift's NodeConfig and what the launcher reads (node.data-dir)
  password-authenticator  etc/password-authenticator.properties with the file authenticator
  access-control          etc/access-control.properties with the file-based system access control
  resource-groups         etc/resource-groups.properties with the file-based resource group manager
  connector.iceberg       etc/catalog/<name>.properties of an Iceberg catalog (every catalog type, metastore,
                          file system incl. native S3 and HDFS, and connector security mode)
  connector.tpch          etc/catalog/<name>.properties of a TPC-H catalog
Every plugin starts its own airlift Bootstrap, which always accepts bootstrap.quiet.

Fields of a section: ``keys`` the current keys; ``deprecated`` legacy key -> the key it is an alias of (airlift
accepts it with a warning); ``defunct`` keys airlift rejects at startup (@DefunctConfig); ``patterns`` regular
expressions for families of keys whose prefix is chosen at run time.

How to run
----------
    scripts/catalogs/trino.py trino/ airlift/ launcher/ -o ansible/catalogs/trino.json \\
        --source "trinodb/trino 483 (commit ...), airlift/airlift 439 (commit ...), ..."

Without ``-o`` the catalog is printed. Without ``--source`` it is built from each tree's pom version and,
when the tree is a git checkout, its HEAD commit. Unresolved constants and config classes a binding names
but no tree holds are reported on stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_PACKAGE = "io.airlift.configuration"
CONFIG_ANNOTATIONS = ("Config", "LegacyConfig", "DefunctConfig")
MODULE_BASES = {"AbstractModule", "PrivateModule", "AbstractConfigurationAwareModule"}
MODULE_INTERFACES = {"Module", "ConfigurationAwareModule"}
# Calls whose first `X.class` argument is a config class the injector builds (and so whose keys it accepts).
BINDING_CALLS = ("bindConfig", "buildConfigObject", "build", "conditionalModule", "bindHttpClient")
# Calls that name a config class without binding it: inside a module, a config class literal passed to any other
# call (say a helper `installAuthenticator(..., KerberosConfig.class)`) counts as bound.
NOT_BINDING_CALLS = {"bind", "get", "getInstance", "getProvider", "containsKey", "requireBinding", "newOptionalBinder",
                     "newSetBinder", "newMapBinder", "export", "to", "toInstance", "isAnnotationPresent",
                     "getAnnotation", "equals", "bindConfigDefaults", "bindConfigGlobalDefaults",
                     "if", "switch", "while", "for", "catch", "synchronized", "return"}
# airlift's HTTP client: httpClientBinder(binder).bindHttpClient(name, ...) binds HttpClientConfig under `name`;
# the call site is read (HTTP_CLIENT_BINDER is not followed, as its own bindConfig only knows a variable name).
HTTP_CLIENT_CONFIG = "io.airlift.http.client.HttpClientConfig"
HTTP_CLIENT_BINDER = "io.airlift.http.client.HttpClientBinder"
MODIFIERS = r"(?:(?:public|protected|private|static|final|abstract|sealed|non-sealed|strictfp)\s+)*"
DYNAMIC = None  # a part of a prefix expression only known at run time
ANY_PREFIX = "[A-Za-z0-9_.-]+"

# section -> how to build it. `entries`: classes whose modules are followed; `classes`: config classes taken as
# they are; `managers`: (class, text) where `properties.remove(<key>)` names the keys the manager reads itself.
SECTIONS: dict[str, dict] = {
    "server": {
        "description": "etc/config.properties: every key the Trino server binds (io.trino.server.Server and the "
                       "modules it installs, incl. airlift's, and airlift's Bootstrap: bootstrap.*, log.*)",
        "entries": ["io.trino.server.Server", "io.airlift.bootstrap.Bootstrap"],
    },
    "node": {
        "description": "etc/node.properties: airlift NodeConfig keys (also accepted in config.properties) and "
                       "the keys the launcher reads from node.properties (node.data-dir)",
        "classes": ["io.airlift.node.NodeConfig"],
        "launcher": True,
    },
    "password-authenticator": {
        "description": "etc/password-authenticator.properties: password-authenticator.name and the keys of the "
                       "file password authenticator (password-authenticator.name=file)",
        "entries": ["io.trino.plugin.password.file.FileAuthenticatorFactory"],
        "classes": ["io.airlift.bootstrap.BootstrapConfig"],
        "managers": ["io.trino.server.security.PasswordAuthenticatorManager"],
    },
    "access-control": {
        "description": "etc/access-control.properties: access-control.name and the keys of the file-based "
                       "system access control (access-control.name=file)",
        "entries": ["io.trino.plugin.base.security.FileBasedSystemAccessControl"],
        "classes": ["io.airlift.bootstrap.BootstrapConfig"],
        "managers": ["io.trino.security.AccessControlManager"],
    },
    "resource-groups": {
        "description": "etc/resource-groups.properties: resource-groups.configuration-manager and the keys of the "
                       "file-based resource group manager (resource-groups.configuration-manager=file)",
        "entries": ["io.trino.plugin.resourcegroups.FileResourceGroupConfigurationManagerFactory"],
        "classes": ["io.airlift.bootstrap.BootstrapConfig"],
        "managers": ["io.trino.execution.resourcegroups.InternalResourceGroupManager"],
    },
    "connector.iceberg": {
        "description": "etc/catalog/<name>.properties with connector.name=iceberg: every key the Iceberg connector "
                       "binds (all catalog types, metastores, file systems, security modes)",
        # trino-filesystem-manager loads the HDFS file system (fs.hadoop.enabled) by class name, in its own
        # Bootstrap whose used keys the connector accepts
        "entries": ["io.trino.plugin.iceberg.IcebergConnectorFactory",
                    "io.trino.filesystem.hdfs.HdfsFileSystemManager"],
        "classes": ["io.airlift.bootstrap.BootstrapConfig"],
        "managers": ["io.trino.connector.StaticCatalogManager", "io.trino.connector.FileCatalogStore"],
    },
    "connector.tpch": {
        "description": "etc/catalog/<name>.properties with connector.name=tpch: every key the TPC-H connector binds",
        "entries": ["io.trino.plugin.tpch.TpchConnectorFactory"],
        "classes": ["io.airlift.bootstrap.BootstrapConfig"],
        "managers": ["io.trino.connector.StaticCatalogManager", "io.trino.connector.FileCatalogStore"],
    },
}


class CatalogError(Exception):
    """A source tree or an entry class is missing."""


# --------------------------------------------------------------------------------------------------------------
# Java text


def split_source(src: str) -> tuple[str, str]:
    """Return (code, masked): comments blanked in both, string/char literal contents also blanked in masked.

    Both keep every offset and newline of src, so a match in masked can be read from code.
    """
    code = list(src)
    masked = list(src)
    i, n = 0, len(src)

    def blank(start: int, end: int, *targets: list[str]) -> None:
        for target in targets:
            for j in range(start, end):
                if target[j] not in "\r\n":
                    target[j] = " "

    while i < n:
        c = src[i]
        if src.startswith("//", i):
            end = src.find("\n", i)
            end = n if end < 0 else end
            blank(i, end, code, masked)
            i = end
        elif src.startswith("/*", i):
            end = src.find("*/", i + 2)
            end = n if end < 0 else end + 2
            blank(i, end, code, masked)
            i = end
        elif src.startswith('"""', i):
            j = i + 3
            while j < n and not src.startswith('"""', j):
                j += 2 if src[j] == "\\" else 1
            blank(i + 3, min(j, n), masked)
            i = j + 3
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            blank(i + 1, min(j, n), masked)
            i = j + 1
        else:
            i += 1
    return "".join(code), "".join(masked)


def matching(masked: str, start: int) -> int:
    """Index just past the bracket closing the one at masked[start]."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    opening = masked[start]
    closing = pairs[opening]
    depth = 0
    for i in range(start, len(masked)):
        if masked[i] == opening:
            depth += 1
        elif masked[i] == closing:
            depth -= 1
            if depth == 0:
                return i + 1
    return len(masked)


def split_arguments(masked: str, start: int, end: int) -> list[tuple[int, int]]:
    """Top-level comma-separated (start, end) spans of masked[start:end] (inside one pair of brackets)."""
    spans, depth, first = [], 0, start
    for i in range(start, end):
        c = masked[i]
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif c == "," and depth == 0:
            spans.append((first, i))
            first = i + 1
    if masked[first:end].strip():
        spans.append((first, end))
    return spans


TOKEN = re.compile(r'\s*(?:(?P<text>"""(?:\\.|[^\\])*?""")|(?P<str>"(?:\\.|[^"\\\n])*")'
                   r"|(?P<char>'(?:\\.|[^'\\])')|(?P<num>\d[\w.]*)"
                   r"|(?P<name>[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)|(?P<op>[{}(),=+]))")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "s": " ", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


def unescape(body: str) -> str:
    return re.sub(r"\\(u+[0-9a-fA-F]{4}|.)",
                  lambda m: chr(int(m.group(1).lstrip("u"), 16)) if m.group(1)[0] == "u" and len(m.group(1)) > 1
                  else ESCAPES.get(m.group(1), m.group(1)), body)


def text_block(raw: str) -> str:
    lines = raw[3:-3].split("\n")[1:]
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return unescape("\n".join(line[indent:].rstrip() for line in lines).replace("\\\n", ""))


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = TOKEN.match(text, pos)
        if not m:
            tokens.append(("other", text[pos:].strip()))
            break
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            tokens.append(("str", unescape(value[1:-1])))
        elif kind == "text":
            tokens.append(("str", text_block(value)))
        elif kind == "name":
            tokens.append(("name", re.sub(r"\s+", "", value)))
        else:
            tokens.append((kind, value))
        pos = m.end()
    return tokens


class Expression:
    """Parser of annotation arguments and prefix expressions: strings, constants, `+`, `{...}` arrays.

    A value is a list of parts: str for known text, DYNAMIC for a name that resolves to nothing; an array is
    a list of such values.
    """

    def __init__(self, text: str, resolve):
        self.tokens = tokenize(text)
        self.pos = 0
        self.resolve = resolve

    def peek(self, offset: int = 0) -> tuple[str, str]:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.pos += 1
        return token

    def arguments(self) -> dict[str, object]:
        """`expr` or `name = expr, ...` -> {"value": ..., "name": ...}."""
        result: dict[str, object] = {}
        while self.peek()[0] != "end":
            name = "value"
            if self.peek()[0] == "name" and self.peek(1) == ("op", "="):
                name = self.take()[1]
                self.take()
            result[name] = self.expression()
            if self.peek() == ("op", ","):
                self.take()
            elif self.peek()[0] != "end":
                raise ValueError(f"unexpected {self.peek()[1]!r}")
        return result

    def expression(self):
        if self.peek() == ("op", "{"):
            self.take()
            items = []
            while self.peek() != ("op", "}"):
                if self.peek()[0] == "end":
                    raise ValueError("unclosed array")
                items.append(self.expression())
                if self.peek() == ("op", ","):
                    self.take()
            self.take()
            return items
        parts = self.term()
        while self.peek() == ("op", "+"):
            self.take()
            parts = parts + self.term()
        return parts

    def term(self) -> list:
        kind, value = self.take()
        if kind == "str":
            return [value]
        if kind in ("num", "char"):
            return [value.strip("'")]
        if kind == "name":
            if self.peek() == ("op", "("):  # a method call: its value is only known at run time
                self.pos = self.skip_call()
                return [DYNAMIC]
            if value == "null":
                return []
            resolved = self.resolve(value)
            return [DYNAMIC] if resolved is None else [resolved]
        if (kind, value) == ("op", "("):
            parts = self.expression()
            if self.take() != ("op", ")"):
                raise ValueError("unclosed parenthesis")
            return parts
        raise ValueError(f"unexpected {value!r}")

    def skip_call(self) -> int:
        depth, i = 0, self.pos
        while i < len(self.tokens):
            if self.tokens[i] == ("op", "("):
                depth += 1
            elif self.tokens[i] == ("op", ")"):
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return i


def literal(parts) -> str | None:
    """The text of a fully known value, else None."""
    if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
        return "".join(parts)
    return None


# --------------------------------------------------------------------------------------------------------------
# Index of classes


@dataclass
class JavaFile:
    path: Path
    module: str  # "<tree>:<module path>"
    package: str
    code: str
    masked: str
    imports: dict[str, str] = field(default_factory=dict)  # simple name -> qualified name
    wildcards: list[str] = field(default_factory=list)  # imported packages (or classes, for nested types)
    static_members: dict[str, str] = field(default_factory=dict)  # member -> qualified class name
    static_wildcards: list[str] = field(default_factory=list)  # qualified class names
    constants: dict[str, str] = field(default_factory=dict)
    classes: list[JavaClass] = field(default_factory=list)


@dataclass
class JavaClass:
    name: str
    qualname: str
    file: JavaFile
    start: int  # of the declaration keyword
    body_start: int
    body_end: int
    extends: str | None
    implements: list[str]
    keys: list[str] = field(default_factory=list)
    legacy: dict[str, list[str | None]] = field(default_factory=dict)
    defunct: list[str] = field(default_factory=list)

    @property
    def has_config(self) -> bool:
        return bool(self.keys or self.legacy or self.defunct)


CLASS_DECL = re.compile(r"(?<![\w.@])(class|interface|enum|record)\s+([A-Za-z_$][\w$]*)")
PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
IMPORT = re.compile(r"^\s*import\s+(static\s+)?([\w.]+)(\.\*)?\s*;", re.MULTILINE)
CONSTANT = re.compile(r"\b(?:(?:public|protected|private|static|final)\s+)*(?:static\s+final|final\s+static)\s+"
                      r"(?:(?:public|protected|private)\s+)*String\s+([A-Za-z_$][\w$]*)\s*=")
INTERFACE_CONSTANT = re.compile(r"(?:^|[;{}])\s*(?:public\s+)?String\s+([A-Za-z_$][\w$]*)\s*=")
ANNOTATION = re.compile(r"@\s*([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)")


class Index:
    def __init__(self):
        self.files: list[JavaFile] = []
        self.by_qualname: dict[str, JavaClass] = {}
        self.by_name: dict[str, list[JavaClass]] = {}
        self.warnings: list[str] = []
        self._modules: dict[str, bool] = {}

    # -- reading -----------------------------------------------------------------------------------------------

    def add_tree(self, label: str, root: Path) -> None:
        for path in sorted(root.rglob("*.java")):
            rel = path.relative_to(root).as_posix()
            if "/src/main/java/" not in "/" + rel:
                continue
            module = rel.split("src/main/java/")[0].rstrip("/") or "."
            self.add_file(path, f"{label}:{module}", path.read_text(encoding="utf-8", errors="replace"))

    def add_file(self, path: Path, module: str, src: str) -> JavaFile:
        code, masked = split_source(src)
        m = PACKAGE.search(masked)
        jf = JavaFile(path=path, module=module, package=m.group(1) if m else "", code=code, masked=masked)
        for m in IMPORT.finditer(masked):
            static, name, star = m.groups()
            if static and star:
                jf.static_wildcards.append(name)
            elif static:
                owner, _, member = name.rpartition(".")
                jf.static_members[member] = owner
            elif star:
                jf.wildcards.append(name)
            else:
                jf.imports[name.rpartition(".")[2]] = name
        self._read_classes(jf)
        self._read_constants(jf)
        self.files.append(jf)
        for cls in jf.classes:
            self.by_qualname[cls.qualname] = cls
            self.by_name.setdefault(cls.name, []).append(cls)
        return jf

    def _read_classes(self, jf: JavaFile) -> None:
        masked = jf.masked
        for m in CLASS_DECL.finditer(masked):
            brace = masked.find("{", m.end())
            if brace < 0:
                continue
            header = masked[m.end():brace]
            if ";" in header or "=" in header:  # not a declaration (e.g. `record` used as a name)
                continue
            kind = m.group(1)
            extends = re.search(r"\bextends\s+([\w.$]+)", header) if kind == "class" else None
            implements = re.search(r"\bimplements\s+(.+)$", header, re.DOTALL)
            interfaces = []
            if implements:
                interfaces = [re.sub(r"<.*", "", part).strip() for part in
                              split_top_level(implements.group(1))]
            elif kind == "interface":
                ext = re.search(r"\bextends\s+(.+)$", header, re.DOTALL)
                interfaces = [re.sub(r"<.*", "", part).strip() for part in split_top_level(ext.group(1))] if ext else []
            cls = JavaClass(name=m.group(2), qualname="", file=jf, start=m.start(), body_start=brace,
                            body_end=matching(masked, brace), extends=extends.group(1) if extends else None,
                            implements=[i for i in interfaces if i])
            jf.classes.append(cls)
        for cls in jf.classes:
            outer = [o.name for o in jf.classes if o.body_start < cls.start < o.body_end]
            cls.qualname = ".".join(filter(None, [jf.package, *outer, cls.name]))

    def _read_constants(self, jf: JavaFile) -> None:
        found = [(m, m.group(1)) for m in CONSTANT.finditer(jf.masked)]
        for cls in jf.classes:
            if jf.masked[cls.start:].startswith("interface"):
                found += [(m, m.group(1)) for m in INTERFACE_CONSTANT.finditer(jf.masked, cls.body_start, cls.body_end)]
        pending = {}
        for m, name in found:
            end = statement_end(jf.masked, m.end())
            pending.setdefault(name, jf.code[m.end():end])
        # constants may name each other: resolve until nothing changes
        for _ in range(len(pending) + 1):
            changed = False
            for name, text in pending.items():
                if name in jf.constants:
                    continue
                try:
                    value = literal(Expression(text, lambda n: self.constant(jf, n)).expression())
                except ValueError:
                    value = None
                if value is not None:
                    jf.constants[name] = value
                    changed = True
            if not changed:
                break

    # -- resolving ---------------------------------------------------------------------------------------------

    def resolve_class(self, name: str, jf: JavaFile) -> JavaClass | None:
        name = re.sub(r"\s+", "", name)
        if name in self.by_qualname:
            return self.by_qualname[name]
        first, _, rest = name.partition(".")
        if rest:  # Outer.Inner or a qualified name not in the index
            outer = self.resolve_class(first, jf)
            if outer is not None:
                return self.by_qualname.get(f"{outer.qualname}.{rest}")
            return None
        for cls in jf.classes:
            if cls.name == name:
                return cls
        if name in jf.imports:
            return self.by_qualname.get(jf.imports[name])
        for candidate in (f"{jf.package}.{name}" if jf.package else name,
                          *(f"{w}.{name}" for w in jf.wildcards),
                          *(f"{owner}.{name}" for member, owner in jf.static_members.items() if member == name)):
            if candidate in self.by_qualname:
                return self.by_qualname[candidate]
        candidates = self.by_name.get(name, [])
        return candidates[0] if len(candidates) == 1 else None

    def constant(self, jf: JavaFile, name: str) -> str | None:
        if "." not in name:
            if name in jf.constants:
                return jf.constants[name]
            owners = [jf.static_members[name]] if name in jf.static_members else []
            for owner in owners + jf.static_wildcards:
                cls = self.by_qualname.get(owner)
                if cls is not None and name in cls.file.constants:
                    return cls.file.constants[name]
            return None
        owner, _, member = name.rpartition(".")
        cls = self.resolve_class(owner, jf)
        return cls.file.constants.get(member) if cls is not None else None

    def superclass(self, cls: JavaClass) -> JavaClass | None:
        return self.resolve_class(cls.extends, cls.file) if cls.extends else None

    def lineage(self, cls: JavaClass) -> list[JavaClass]:
        chain, seen = [], set()
        while cls is not None and cls.qualname not in seen:
            seen.add(cls.qualname)
            chain.append(cls)
            cls = self.superclass(cls)
        return chain

    def is_module(self, cls: JavaClass) -> bool:
        if cls.qualname not in self._modules:
            self._modules[cls.qualname] = False  # guards against cycles
            parent = self.superclass(cls)
            self._modules[cls.qualname] = (
                (cls.extends or "").rpartition(".")[2] in MODULE_BASES
                or any(i.rpartition(".")[2] in MODULE_INTERFACES for i in cls.implements)
                or (parent is not None and self.is_module(parent))
            )
        return self._modules[cls.qualname]

    def has_config(self, cls: JavaClass) -> bool:
        return any(c.has_config for c in self.lineage(cls))

    # -- config annotations ------------------------------------------------------------------------------------

    def read_annotations(self) -> None:
        for jf in self.files:
            self._read_annotations(jf)

    def _airlift(self, jf: JavaFile, name: str) -> str | None:
        """The config annotation a written annotation name stands for, or None."""
        simple = name.rpartition(".")[2]
        if simple not in CONFIG_ANNOTATIONS:
            return None
        if "." in name:
            return simple if name == f"{CONFIG_PACKAGE}.{simple}" else None
        if jf.imports.get(simple) == f"{CONFIG_PACKAGE}.{simple}" or CONFIG_PACKAGE in jf.wildcards:
            return simple
        return simple if jf.package == CONFIG_PACKAGE and simple not in jf.imports else None

    def _read_annotations(self, jf: JavaFile) -> None:
        masked, code = jf.masked, jf.code
        found = []  # (start, end, name, argument text or None)
        for m in ANNOTATION.finditer(masked):
            name = re.sub(r"\s+", "", m.group(1))
            if name == "interface":
                continue
            end, args = m.end(), None
            rest = len(masked[end:]) - len(masked[end:].lstrip())
            if masked[end + rest:end + rest + 1] == "(":
                close = matching(masked, end + rest)
                args = code[end + rest + 1:close - 1]
                end = close
            found.append((m.start(), end, name, args))
        groups: list[list[tuple]] = []
        for item in found:
            if groups and not code[groups[-1][-1][1]:item[0]].strip():
                groups[-1].append(item)
            else:
                groups.append([item])
        for group in groups:
            config = [(self._airlift(jf, name), args, start) for start, _, name, args in group]
            config = [c for c in config if c[0]]
            if not config:
                continue
            cls = self._owner(jf, group[0][0], group[-1][1])
            if cls is None:
                self.warnings.append(f"{jf.path}: config annotation outside a class")
                continue
            self._apply(jf, cls, config)

    def _owner(self, jf: JavaFile, start: int, end: int) -> JavaClass | None:
        m = re.compile(r"\s*" + MODIFIERS + r"(class|interface|enum|record)\s+([A-Za-z_$][\w$]*)").match(jf.masked, end)
        if m:
            for cls in jf.classes:
                if cls.start == m.start(1):
                    return cls
        inner = [c for c in jf.classes if c.body_start < start < c.body_end]
        return max(inner, key=lambda c: c.body_start) if inner else None

    def _apply(self, jf: JavaFile, cls: JavaClass, config: list[tuple[str, str | None, int]]) -> None:
        def values(kind: str, args: str | None, start: int) -> dict[str, list[str]]:
            line = jf.code.count("\n", 0, start) + 1
            try:
                parsed = Expression(args or "", lambda n: self.constant(jf, n)).arguments()
            except ValueError as e:
                self.warnings.append(f"{jf.path}:{line}: @{kind}({args}): {e}")
                return {}
            result = {}
            for name, value in parsed.items():
                items = value if value and isinstance(value[0], list) else ([value] if value else [])
                texts = []
                for item in items:
                    text = literal(item)
                    if text is None:
                        self.warnings.append(f"{jf.path}:{line}: @{kind}: cannot resolve {args.strip()!r}")
                    elif text:
                        texts.append(text)
                result[name] = texts
            return result

        current: list[str] = []
        legacy: list[tuple[str, str | None]] = []
        for kind, args, start in config:
            parsed = values(kind, args, start)
            if kind == "Config":
                current += parsed.get("value", [])
            elif kind == "DefunctConfig":
                cls.defunct += [v for v in parsed.get("value", []) if v not in cls.defunct]
            else:
                replaced = (parsed.get("replacedBy") or [None])[0]
                legacy += [(v, replaced) for v in parsed.get("value", [])]
        cls.keys += [k for k in current if k not in cls.keys]
        for key, replaced in legacy:
            targets = [replaced] if replaced else (current or [None])
            cls.legacy.setdefault(key, [])
            cls.legacy[key] += [t for t in targets if t not in cls.legacy[key]]


def split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for c in text:
        if c in "<({":
            depth += 1
        elif c in ">)}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    return parts + [current]


def enclosing_call(masked: str, pos: int, floor: int) -> str | None:
    """Name of the call whose argument list holds masked[pos], or None."""
    depth = 0
    for i in range(pos - 1, floor - 1, -1):
        c = masked[i]
        if c in ")]":
            depth += 1
        elif c in "([":
            if depth == 0:
                if c == "[":
                    return None
                m = re.search(r"([A-Za-z_$][\w$]*)\s*(?:<[^()]*>)?\s*$", masked[max(floor, i - 200):i])
                return m.group(1) if m else None
            depth -= 1
        elif c in "{};" and depth == 0:
            return None
    return None


def statement_end(masked: str, start: int) -> int:
    depth = 0
    for i in range(start, len(masked)):
        c = masked[i]
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        elif c == ";" and depth <= 0:
            return i
    return len(masked)


# --------------------------------------------------------------------------------------------------------------
# Following modules from the entry classes


@dataclass(frozen=True)
class Binding:
    cls: str  # qualified name of the config class
    prefix: tuple | None = None  # None: no prefix; else parts (str or DYNAMIC), "." added before each key


NEW = re.compile(r"\bnew\s+([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)\s*(?:<[^;{}()]*?>)?\s*\(")
CLASS_LITERAL = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)\s*\.\s*class\b")
STATIC_CALL = re.compile(r"(?<![\w$.])([A-Z][\w$]*)\s*\.\s*([a-z][\w$]*)\s*\(")
CALL = re.compile(r"(?<![\w$])(" + "|".join(BINDING_CALLS) + r")\s*\(")


class Walker:
    """Collect the config bindings reachable from entry classes."""

    def __init__(self, index: Index):
        self.index = index
        self.visited: set[str] = set()
        self.bindings: set[Binding] = set()

    def walk(self, entries: list[JavaClass]) -> set[Binding]:
        """Follow from the entry classes, each with its nested classes (say FileBasedSystemAccessControl.Factory)."""
        queue = [c for entry in entries for c in entry.file.classes
                 if c is entry or entry.body_start < c.start < entry.body_end]
        while queue:
            cls = queue.pop()
            if cls.qualname in self.visited:
                continue
            self.visited.add(cls.qualname)
            queue += self.scan(cls)
        return self.bindings

    @staticmethod
    def follow_factory(owner: JavaClass, method: str) -> bool:
        """Whether owner declares `method` returning a Guice module (`Module`, `XModule`)."""
        pattern = r"\b\w*Module(?:<[^()]*>)?\s+" + re.escape(method) + r"\s*\("
        return re.search(pattern, owner.file.masked[owner.body_start:owner.body_end]) is not None

    def follow(self, cls: JavaClass | None) -> bool:
        if cls is None or cls.qualname == HTTP_CLIENT_BINDER:
            return False
        return self.index.is_module(cls) or cls.name.endswith("Binder")

    def scan(self, cls: JavaClass) -> list[JavaClass]:
        jf, masked, index = cls.file, cls.file.masked, self.index
        span_start, span_end = cls.start, cls.body_end
        nested = [c for c in jf.classes if c is not cls and span_start < c.start < span_end]
        found: list[JavaClass] = []
        parent = index.superclass(cls)
        if parent is not None:
            found.append(parent)
        consumed: set[int] = set()
        for m in CALL.finditer(masked, span_start, span_end):
            if self._in_nested(m.start(), nested):
                continue
            open_paren = m.end() - 1
            close = matching(masked, open_paren)
            spans = split_arguments(masked, open_paren + 1, close - 1)
            binding = self._binding(cls, m.group(1), spans)
            if binding is not None:
                self.bindings.add(binding)
                consumed.update(range(open_paren, close))
        module = index.is_module(cls)
        for m in CLASS_LITERAL.finditer(masked, span_start, span_end):
            if m.start() in consumed or self._in_nested(m.start(), nested):
                continue
            target = index.resolve_class(m.group(1), jf)
            if self.follow(target):
                found.append(target)
            elif (module and target is not None and index.has_config(target)
                  and enclosing_call(masked, m.start(), span_start) not in {None, *NOT_BINDING_CALLS}):
                self.bindings.add(Binding(target.qualname))
        for m in NEW.finditer(masked, span_start, span_end):
            if self._in_nested(m.start(), nested):
                continue
            target = index.resolve_class(m.group(1), jf)
            if self.follow(target):
                found.append(target)
        for owner in {*jf.static_members.values(), *jf.static_wildcards}:
            target = index.by_qualname.get(owner)
            if self.follow(target):
                found.append(target)
        # module factories: `import static ...Modules.kerberosModule;` or `Modules.kerberosModule()`, a method of
        # another class that returns a Module
        calls = [(index.by_qualname.get(owner), member) for member, owner in jf.static_members.items()]
        for m in STATIC_CALL.finditer(masked, span_start, span_end):
            calls.append((index.resolve_class(m.group(1), jf), m.group(2)))
        for target, member in calls:
            if target is not None and target is not cls and self.follow_factory(target, member):
                found.append(target)
        # nested classes are scanned when reached (an anonymous `new AbstractModule() {...}` is part of this span)
        return found

    @staticmethod
    def _in_nested(pos: int, nested: list[JavaClass]) -> bool:
        return any(c.start <= pos < c.body_end for c in nested)

    def _binding(self, cls: JavaClass, call: str, spans: list[tuple[int, int]]) -> Binding | None:
        jf, index = cls.file, self.index
        if call == "bindHttpClient":
            if not spans or HTTP_CLIENT_CONFIG not in index.by_qualname:
                index.warnings.append(f"{jf.path}: bindHttpClient without {HTTP_CLIENT_CONFIG} in the trees")
                return None
            return self._prefixed(jf, HTTP_CLIENT_CONFIG, jf.code[spans[0][0]:spans[0][1]])
        position = None
        for i, (start, end) in enumerate(spans):
            m = re.fullmatch(r"\s*([A-Za-z_$][\w$.\s]*?)\s*\.\s*class\s*", jf.masked[start:end])
            if m:
                target = index.resolve_class(m.group(1), jf)
                if target is not None and index.has_config(target):
                    position = i
                    break
                if target is None and re.search(r"Config(uration)?$", m.group(1)) and call != "build":
                    index.warnings.append(f"{jf.path}: {call}({m.group(1).strip()}.class): class not in the trees")
        if position is None:
            return None
        if call not in ("bindConfig", "buildConfigObject"):
            return Binding(target.qualname)
        rest = spans[position + 1:]
        if not rest:
            return Binding(target.qualname)
        start, end = rest[-1]
        text = jf.code[start:end]
        if len(rest) == 1 and not self._is_string(jf, text):
            return Binding(target.qualname)  # a qualifier annotation, not a prefix
        return self._prefixed(jf, target.qualname, text)

    def _prefixed(self, jf: JavaFile, qualname: str, text: str) -> Binding:
        index = self.index
        try:
            parts = Expression(text, lambda n: index.constant(jf, n)).expression()
        except ValueError:
            parts = [DYNAMIC]
        if not parts:
            return Binding(qualname)
        if parts == [DYNAMIC] and self._nullable(jf, text.strip()):
            return Binding(qualname)  # a @Nullable prefix: null unless a caller says otherwise
        merged: list = []
        for part in parts:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            elif not (part is DYNAMIC and merged and merged[-1] is DYNAMIC):
                merged.append(part)
        return Binding(qualname, tuple(merged))

    @staticmethod
    def _is_string(jf: JavaFile, text: str) -> bool:
        text = text.strip()
        if text.startswith('"') or "+" in text or text == "null":
            return True
        name = re.fullmatch(r"[A-Za-z_$][\w$.]*", text)
        if not name:
            return False
        simple = text.rpartition(".")[2]
        return simple in jf.constants or bool(re.search(r"\bString\s+" + re.escape(simple) + r"\b", jf.masked))

    @staticmethod
    def _nullable(jf: JavaFile, name: str) -> bool:
        return bool(re.search(r"@Nullable\s+(?:final\s+)?String\s+" + re.escape(name) + r"\b", jf.masked))


# --------------------------------------------------------------------------------------------------------------
# Sections


def regex_escape(text: str) -> str:
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def git_head(root: Path) -> str | None:
    """The commit a git checkout's HEAD is at, read without git."""
    git = root / ".git"
    if git.is_file():  # a worktree: "gitdir: <path>"
        git = (root / git.read_text(encoding="utf-8").split(":", 1)[1].strip()).resolve()
    head = git / "HEAD"
    if not head.is_file():
        return None
    ref = head.read_text(encoding="utf-8").strip()
    if not ref.startswith("ref:"):
        return ref
    ref = ref[4:].strip()
    if (git / ref).is_file():
        return (git / ref).read_text(encoding="utf-8").strip()
    packed = git / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    return None


def pom_version(root: Path) -> str | None:
    pom = root / "pom.xml"
    if not pom.is_file():
        return None
    text = re.sub(r"<parent>.*?</parent>", "", pom.read_text(encoding="utf-8"), count=1, flags=re.DOTALL)
    m = re.search(r"<version>\s*([^<\s]+)\s*</version>", text)
    return m.group(1) if m else None


def classify(root: Path) -> str:
    if (root / "core" / "trino-main").is_dir():
        return "trino"
    if (root / "configuration").is_dir() and (root / "bootstrap").is_dir():
        return "airlift"
    if (root / "src" / "main" / "go").is_dir():
        return "launcher"
    return root.resolve().name or "library"


UPSTREAM = {"trino": "trinodb/trino", "airlift": "airlift/airlift", "launcher": "airlift/launcher"}


def launcher_keys(root: Path) -> list[str]:
    keys = set()
    for path in sorted((root / "src" / "main" / "go").rglob("*.go")):
        if path.name.endswith("_test.go"):
            continue
        keys.update(re.findall(r'NodeConfig\s*\[\s*"([^"]+)"\s*\]', path.read_text(encoding="utf-8")))
    return sorted(keys)


def manager_keys(index: Index, cls: JavaClass) -> list[str]:
    """Keys a manager removes from a properties file before passing the rest on: properties.remove(KEY)."""
    jf, keys = cls.file, []
    for m in re.finditer(r"\.\s*remove\s*\(", jf.masked[cls.start:cls.body_end]):
        open_paren = cls.start + m.end() - 1
        text = jf.code[open_paren + 1:matching(jf.masked, open_paren) - 1]
        try:
            value = literal(Expression(text, lambda n: index.constant(jf, n)).expression())
        except ValueError:
            value = None
        if value and re.fullmatch(r"[a-z][\w.-]*", value):
            keys.append(value)
    return keys


def build_section(index: Index, spec: dict, launcher_roots: list[Path]) -> dict:
    bindings: set[Binding] = set()
    walker = Walker(index)
    entries = []
    for name in spec.get("entries", []):
        cls = index.by_qualname.get(name)
        if cls is None:
            raise CatalogError(f"entry class {name} is in none of the source trees")
        entries.append(cls)
    bindings |= walker.walk(entries)
    for name in spec.get("classes", []):
        if name not in index.by_qualname:
            raise CatalogError(f"config class {name} is in none of the source trees")
        bindings.add(Binding(name))

    keys: set[str] = set()
    deprecated: dict[str, set] = {}
    defunct: set[str] = set()
    patterns: set[str] = set()
    modules: set[str] = set()
    for binding in bindings:
        cls = index.by_qualname[binding.cls]
        chain = index.lineage(cls)
        modules.update(c.file.module for c in chain if c.has_config)
        own_keys = [k for c in chain for k in c.keys]
        own_legacy = {k: v for c in reversed(chain) for k, v in c.legacy.items()}
        own_defunct = [k for c in chain for k in c.defunct]
        if binding.prefix is None or all(isinstance(p, str) for p in binding.prefix):
            prefix = "".join(binding.prefix) + "." if binding.prefix else ""
            keys.update(prefix + k for k in own_keys)
            for key, targets in own_legacy.items():
                deprecated.setdefault(prefix + key, set()).update(prefix + t if t else None for t in targets)
            defunct.update(prefix + k for k in own_defunct)
        else:
            head = "".join(regex_escape(p) if isinstance(p, str) else ANY_PREFIX for p in binding.prefix)
            names = sorted({*own_keys, *own_legacy})
            if names:
                alternatives = "|".join(regex_escape(k) for k in names)
                patterns.add("^" + head + r"\." + (f"(?:{alternatives})" if len(names) > 1 else alternatives) + "$")
    for name in spec.get("managers", []):
        cls = index.by_qualname.get(name)
        if cls is None:
            raise CatalogError(f"manager class {name} is in none of the source trees")
        keys.update(manager_keys(index, cls))
        modules.add(cls.file.module)
    if spec.get("launcher"):
        for root in launcher_roots:
            found = launcher_keys(root)
            keys.update(found)
            if found:
                modules.add("launcher:src/main/go")

    description = spec["description"] + ". Keys from: " + ", ".join(sorted(modules))
    return {
        "description": description,
        "keys": sorted(keys),
        "deprecated": {k: (sorted(t for t in v if t) or [None])[0] for k, v in sorted(deprecated.items())},
        "defunct": sorted(defunct),
        "patterns": sorted(patterns),
    }


def generate(sources: list[Path], sections: dict[str, dict] | None = None) -> dict:
    """Build the catalog from source trees (a Trino tree, an airlift tree, optionally the launcher and others).

    sections defaults to SECTIONS; its entry, config and manager classes must all be in the trees.
    """
    index = Index()
    kinds: dict[str, Path] = {}
    launcher_roots = []
    for root in sources:
        root = Path(root)
        if not root.is_dir():
            raise CatalogError(f"{root} is not a directory")
        kind = classify(root)
        kinds.setdefault(kind, root)
        if kind == "launcher":
            launcher_roots.append(root)
        index.add_tree(kind, root)
    index.read_annotations()
    if "trino" not in kinds:
        raise CatalogError("no Trino source tree (one holding core/trino-main) was given")

    built = {name: build_section(index, spec, launcher_roots) for name, spec in (sections or SECTIONS).items()}
    source_parts = []
    for kind, root in kinds.items():
        version = pom_version(root) or "unknown version"
        commit = git_head(root)
        text = f"{UPSTREAM.get(kind, kind)} {version}" + (f" (commit {commit})" if commit else "")
        source_parts.append(text)
    generated_by = "scripts/key-catalog trino " + " ".join(f"<{kind} source tree>" for kind in kinds)
    for warning in index.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return {
        "component": "trino",
        "version": pom_version(kinds["trino"]) or "unknown",
        "source": ", ".join(source_parts),
        "generated_by": generated_by,
        "sections": built,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("sources", nargs="+", type=Path, help="source trees: Trino, airlift, launcher, libraries")
    parser.add_argument("-o", "--output", type=Path, help="write the catalog here instead of printing it")
    parser.add_argument("--source", help="the catalog's source field (default: from the trees' poms and git HEADs)")
    parser.add_argument("--version", dest="version", help="the catalog's version field (default: Trino's pom)")
    args = parser.parse_args(argv)
    try:
        catalog = generate(args.sources)
    except CatalogError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.source:
        catalog["source"] = args.source
    if args.version:
        catalog["version"] = args.version
    text = json.dumps(catalog, indent=1, sort_keys=True) + "\n"
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
