#!/usr/bin/env python3
"""Generate the key catalog of an Apache Kafka release from its upstream sources.

What it reads
-------------
The Java (and, where a release still keeps config code there, Scala) sources of the Kafka tree(s) given on the
command line, ``src/main`` code only (directories named ``test``, ``testFixtures``, ``jmh-benchmarks``, ``build``
are skipped). Get a tree with::

    git clone --depth 1 --branch 4.2.1 https://github.com/apache/kafka kafka-4.2.1

Keys come from Kafka's ``ConfigDef`` definitions: every ``.define(NAME, ...)`` and ``.defineInternal(NAME, ...)``
call (multi-line calls and chains included). ``NAME`` is resolved to its string value: a literal, a
``static final String`` constant of the same class, of another class (``ServerLogConfigs.LOG_DIRS_CONFIG``,
static imports, inherited interface constants, nested classes), a concatenation (``LOG_PREFIX + "dirs"``), a
call of a small helper whose body is ``return <expr>;``, or ``ServerTopicConfigSynonyms.serverSynonym(...)``
(whose table is read from that class). A ConfigDef is followed wherever it is built: a field initialiser
(``new ConfigDef().define(...)``), a ``static { CONFIG.define(...); }`` block, a static method that returns
one (``RemoteLogManagerConfig.configDef()``), a merge of others (``Utils.mergeConfigs(List.of(A.CONFIG_DEF,
...))``, ``new ConfigDef(base)``) and helpers that add to one (``withClientSslSupport()`` ->
``SslConfigs.addClientSslSupport``).

What the sections mean
----------------------
``server``
    server.properties of KRaft brokers and controllers: ``AbstractKafkaConfig.CONFIG_DEF`` (4.x; the list it
    merges - ServerConfigs, KRaftConfigs, QuorumConfig, SocketServerConfigs, ReplicationConfigs,
    LogConfig.SERVER_CONFIG_DEF, GroupCoordinatorConfig, TransactionLogConfig, BrokerSecurityConfigs, ... -
    is read from the source, not from this script), else the Scala ``KafkaConfig.configDef`` of older
    releases. Added to it are the keys the default plugins read from the same file: the ``*_CONFIG``
    constants of ``StandardAuthorizer`` (``super.users``, ``allow.everyone.if.no.acl.found``) and
    ``JmxReporter`` (``metrics.jmx.include``/``exclude``).
``topic``
    topic-level configs (``kafka-topics.sh --config``, ``kafka-configs.sh --entity-type topics``, the admin
    API): the topic ``ConfigDef`` of ``LogConfig`` (field ``CONFIG``). Its extra field ``synonyms`` maps a
    topic key to the server.properties keys that set its cluster-wide default, first wins
    (``retention.ms`` -> ``log.retention.ms``, ``log.retention.minutes``, ``log.retention.hours``), read
    from ``ServerTopicConfigSynonyms``.
``admin-client``
    admin client properties (``--command-config`` of the kafka-*.sh tools, ``Admin.create(props)``):
    ``AdminClientConfig.CONFIG`` including its client SSL and SASL configs, plus ``JmxReporter``'s keys.

Per section: ``keys`` (sorted, unique; internal keys included), ``internal`` (keys from ``defineInternal``),
``deprecated`` (key -> replacement key or null: a key whose constant is ``@Deprecated`` or whose doc says the
config is deprecated; the replacement is the key the doc tells to use instead, when it names one),
``defunct`` (keys a previous release given with ``--previous`` had and this one no longer has, e.g.
``zookeeper.connect`` in 4.x), ``patterns`` (regular expressions of key families Kafka accepts beyond the
fixed keys: ``listener.name.<listener>.<ssl/sasl key>``, ``listener.name.<listener>.<mechanism>.sasl.*``,
``rsm.config.*``/``rlmm.config.*`` for the remote storage plugins, ``config.providers.<name>.*``).

How to run
----------
    scripts/catalogs/kafka.py kafka-4.2.1/ --previous kafka-3.9.1/ -o ansible/catalogs/kafka.json

The committed ansible/catalogs/kafka.json is the catalog of Kafka 4.2.1, the version platform_artifacts.kafka pins
(the pin follows the catalog: a version is pinned only once its catalog can be generated from its source). It was
generated from the 4.2.1 release tree (commit 18d5ecd939c8d510fdd72d0abb1f7099659dcd58), with the last 3.x and the
earlier 4.x releases as the baseline of ``defunct``::

    scripts/catalogs/kafka.py kafka-4.2.1/ --previous kafka-3.9.1/ --previous kafka-4.0.0/ \
        --previous kafka-4.1.0/ --strict -o ansible/catalogs/kafka.json

To move to a newer release, generate its catalog from its tree (tests/unit/test_catalog_kafka.py then asks for the
pin to follow).

Without ``-o`` the catalog is printed (JSON, indent 1, sorted keys). The ``source`` field is built from the
tree's ``gradle.properties`` version and, for a git checkout, its HEAD commit; ``--source`` replaces it and
``--version`` sets the ``version`` field when the tree stands in for another release. Define calls whose key
cannot be resolved are reported on stderr (and make the run fail with ``--strict``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIRS = {"test", "testFixtures", "jmh-benchmarks", "build", ".git", ".gradle", "node_modules"}
GENERATED_BY = "scripts/key-catalog kafka <kafka source tree>"

# (class, field) holding each section's ConfigDef, first found wins.
SERVER_DEFS = (("AbstractKafkaConfig", "CONFIG_DEF"), ("KafkaConfig", "configDef"), ("KafkaConfig", "CONFIG_DEF"))
TOPIC_DEFS = (("LogConfig", "CONFIG"), ("LogConfig", "configDef"))
ADMIN_DEFS = (("AdminClientConfig", "CONFIG"),)
# Plugins on by default that read their own keys from the same properties: (class, constant-name suffix).
SERVER_PLUGINS = (("StandardAuthorizer", "_CONFIG"), ("JmxReporter", "_CONFIG"))
ADMIN_PLUGINS = (("JmxReporter", "_CONFIG"),)
# Server keys Kafka also reads per listener (``listener.name.<l>.<key>``) besides the ssl.* and sasl.* families:
# the channel builder's principal builder and re-authentication, the per-listener connection quotas and
# network threads. Those missing from a release's server keys are left out of the pattern.
LISTENER_KEYS = ("connections.max.reauth.ms", "principal.builder.class", "max.connections",
                 "max.connection.creation.rate", "num.network.threads")
MECHANISM_KEYS = ("connections.max.reauth.ms",)  # may also be scoped to one SASL mechanism
LISTENER = "[a-z0-9_-]+"  # listener names are lower-cased in the prefix
MECHANISM = "[a-z0-9_-]+"  # SASL mechanism, lower-cased: plain, scram-sha-256, gssapi, oauthbearer
SUFFIX = "[a-z0-9._-]+"

DESCRIPTIONS = {
    "server": "server.properties of KRaft brokers and controllers",
    "topic": "topic configs: kafka-topics.sh --config, kafka-configs.sh --entity-type topics, admin API",
    "admin-client": "admin client properties: --command-config of the kafka-*.sh tools, Admin.create()",
}

MODIFIERS = {"public", "protected", "private", "static", "final", "abstract", "sealed", "strictfp", "default",
             "transient", "volatile", "synchronized", "native", "non", "-", "override", "implicit", "lazy",
             "case", "inline", "opaque"}
TYPE_KEYWORDS = {"class", "interface", "enum", "record", "object", "trait"}
NOT_NAMES = {"new", "return", "this", "super", "null", "true", "false", "instanceof", "throw", "if", "else",
             "case", "yield", "var", "val", "final", "int", "long", "short", "double", "float", "boolean",
             "char", "byte", "void"}
IMPORTANCE = {"HIGH", "MEDIUM", "LOW"}
DEFINES = ("define", "defineInternal")


class CatalogError(Exception):
    """The sources do not hold what a section needs."""


# --- lexing ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'''
    (?P<nl>\n)
  | (?P<ws>[ \t\r\f]+)
  | (?P<lc>//[^\n]*)
  | (?P<bc>/\*.*?\*/)
  | (?P<tb>"""(?:[^\\]|\\.)*?""")
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<chr>'(?:[^'\\\n]|\\.)')
  | (?P<num>0[xXbB][0-9a-fA-F_]+[lL]?|(?:\d[\d_]*(?:\.[\d_]+)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?[lLfFdD]?)
  | (?P<id>[A-Za-z_$][\w$]*)
  | (?P<op>::|->|=>|<-|\.\.\.|[-+*/%&|^!=<>]=|&&|\|\||\+\+|--|[{}()\[\];,.@=+\-*/%<>?:!~&|^\#])
  | (?P<other>.)
''', re.S | re.X)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "s": " ", '"': '"', "'": "'", "\\": "\\"}


def unescape(body: str) -> str:
    """Decode the escapes of a Java string literal's body."""
    def one(match: re.Match) -> str:
        esc = match.group(1)
        if esc[0] == "u":
            return chr(int(esc.lstrip("u"), 16))
        if esc[0] in "01234567":
            return chr(int(esc, 8))
        return _ESCAPES.get(esc, esc)
    return re.sub(r"\\(u+[0-9a-fA-F]{4}|[0-3][0-7]{0,2}|[4-7][0-7]?|.)", one, body, flags=re.S)


def text_block(raw: str) -> str:
    """Value of a Java text block / Scala triple-quoted string (indentation stripped)."""
    body = raw[3:-3]
    if body.startswith("\n"):
        lines = body[1:].split("\n")
        indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
        body = "\n".join(ln[indent:] for ln in lines)
    return unescape(body)


@dataclass(frozen=True)
class Tok:
    kind: str  # str, num, chr, id, op
    text: str  # for str and chr: the decoded value
    line: int

    def is_op(self, *ops: str) -> bool:
        return self.kind == "op" and self.text in ops

    def is_id(self, *names: str) -> bool:
        return self.kind == "id" and (not names or self.text in names)


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    line = 1
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "nl":
            line += 1
        elif kind in ("ws", "lc"):
            pass
        elif kind == "bc":
            line += value.count("\n")
        elif kind == "tb":
            toks.append(Tok("str", text_block(value), line))
            line += value.count("\n")
        elif kind == "str":
            toks.append(Tok("str", unescape(value[1:-1]), line))
        elif kind == "chr":
            toks.append(Tok("chr", unescape(value[1:-1]), line))
        elif kind in ("num", "id", "op"):
            toks.append(Tok(kind, value, line))
        else:
            toks.append(Tok("op", value, line))
    return toks


OPEN = {"(": ")", "[": "]", "{": "}"}
CLOSE = {v: k for k, v in OPEN.items()}


def matching(toks: list[Tok], start: int) -> int:
    """Index of the bracket closing the one at ``start`` (or len(toks) when unbalanced)."""
    depth = 0
    for i in range(start, len(toks)):
        tok = toks[i]
        if tok.kind != "op":
            continue
        if tok.text in OPEN:
            depth += 1
        elif tok.text in CLOSE:
            depth -= 1
            if depth == 0:
                return i
    return len(toks)


def split_top(toks: list[Tok], sep: str) -> list[list[Tok]]:
    """Split at ``sep`` outside of brackets."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for tok in toks:
        if tok.kind == "op" and tok.text in OPEN:
            depth += 1
        elif tok.kind == "op" and tok.text in CLOSE:
            depth -= 1
        if depth == 0 and tok.is_op(sep):
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def read_chain(toks: list[Tok], i: int) -> tuple[list[str], int]:
    """Read ``a.b.c`` from ``i``; return the names and the index after them."""
    names = [toks[i].text]
    j = i + 1
    while j + 1 < len(toks) and toks[j].is_op(".") and toks[j + 1].kind == "id":
        names.append(toks[j + 1].text)
        j += 2
    return names, j


# --- source model ------------------------------------------------------------------------------------

@dataclass
class FieldInfo:
    name: str
    type: str
    init: list[Tok] | None
    annotations: set[str]
    owner: ClassInfo


@dataclass
class MethodInfo:
    name: str
    params: list[str]
    body: list[Tok]
    owner: ClassInfo


@dataclass
class ClassInfo:
    name: str
    kind: str
    file: SourceFile
    outer: ClassInfo | None = None
    supers: list[list[str]] = field(default_factory=list)
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    methods: dict[str, list[MethodInfo]] = field(default_factory=dict)
    nested: dict[str, ClassInfo] = field(default_factory=dict)
    static_blocks: list[list[Tok]] = field(default_factory=list)

    @property
    def qualname(self) -> str:
        return f"{self.outer.qualname}.{self.name}" if self.outer else self.name

    @property
    def fqn(self) -> str:
        return f"{self.file.package}.{self.qualname}" if self.file.package else self.qualname


@dataclass
class SourceFile:
    path: Path
    lang: str
    package: str = ""
    imports: dict[str, str] = field(default_factory=dict)  # simple name -> fully qualified name
    static_imports: dict[str, str] = field(default_factory=dict)  # member -> class fqn
    wildcards: list[str] = field(default_factory=list)  # packages (or classes) imported with .* / ._
    static_wildcards: list[str] = field(default_factory=list)  # classes whose members are imported
    classes: dict[str, ClassInfo] = field(default_factory=dict)


def _qualified(toks: list[Tok], i: int) -> tuple[str, int]:
    """Read a dotted name that may end in ``.*`` / ``._``."""
    parts = []
    while i < len(toks):
        tok = toks[i]
        if tok.kind == "id" or tok.is_op("*"):
            parts.append(tok.text)
            i += 1
            if i < len(toks) and toks[i].is_op("."):
                i += 1
                continue
        break
    return ".".join(parts), i


class JavaParser:
    """Class structure of a Java file: fields with their initialiser tokens, methods, static blocks."""

    def __init__(self, sf: SourceFile, toks: list[Tok]):
        self.sf = sf
        self.toks = toks

    def parse(self) -> None:
        toks, i = self.toks, 0
        while i < len(toks):
            if toks[i].is_id("package"):
                self.sf.package, i = _qualified(toks, i + 1)
            elif toks[i].is_id("import"):
                static = i + 1 < len(toks) and toks[i + 1].is_id("static")
                name, i = _qualified(toks, i + (2 if static else 1))
                head, _, last = name.rpartition(".")
                if static:
                    if last == "*":
                        self.sf.static_wildcards.append(head)
                    else:
                        self.sf.static_imports[last] = head
                elif last == "*":
                    self.sf.wildcards.append(head)
                else:
                    self.sf.imports[last] = name
            elif toks[i].is_op(";"):
                i += 1
            else:
                break
        self.members(i, len(toks), None)

    def members(self, i: int, end: int, owner: ClassInfo | None) -> None:
        toks = self.toks
        while i < end:
            if toks[i].is_op(";", "}"):
                i += 1
                continue
            header: list[Tok] = []
            annotations: set[str] = set()
            j = i
            stop = None
            while j < end:
                tok = toks[j]
                if tok.is_op("@") and j + 1 < end and toks[j + 1].kind == "id" and toks[j + 1].text != "interface":
                    names, k = read_chain(toks, j + 1)
                    annotations.add(names[-1])
                    j = matching(toks, k) + 1 if k < end and toks[k].is_op("(") else k
                    continue
                if tok.is_op("(", "["):
                    k = matching(toks, j)
                    header.extend(toks[j:k + 1])
                    j = k + 1
                    continue
                if tok.is_op("=", ";", "{"):
                    stop = tok.text
                    break
                header.append(tok)
                j += 1
            if stop is None:
                return
            words = [t.text for t in header if t.kind == "id" and t.text not in MODIFIERS]
            kind = next((t.text for t in header if t.kind == "id" and t.text in TYPE_KEYWORDS), None)
            if stop == "{" and kind and words and words[0] == kind:
                close = matching(toks, j)
                self.type_decl(header, kind, j, close, owner)
                i = close + 1
            elif stop == "{":
                close = matching(toks, j)
                body = toks[j + 1:close]
                if owner is not None and [t.text for t in header] in ([], ["static"]):
                    owner.static_blocks.append(body)
                elif owner is not None:
                    self.method(header, body, owner)
                i = close + 1
            elif stop == "=":
                i = self.field_decl(header, annotations, j + 1, end, owner)
            else:  # ';': a field without initialiser or an abstract method
                if owner is not None and header and header[-1].kind == "id" and not any(t.is_op("(") for t in header):
                    self.add_field(owner, header, annotations, None)
                i = j + 1

    def type_decl(self, header: list[Tok], kind: str, brace: int, close: int, owner: ClassInfo | None) -> None:
        toks = self.toks
        pos = next(k for k, t in enumerate(header) if t.is_id(kind))
        name = header[pos + 1].text if pos + 1 < len(header) else "?"
        cls = ClassInfo(name, kind, self.sf, owner)
        rest, k = header[pos + 2:], 0
        while k < len(rest):
            if rest[k].is_id("extends", "implements", "with"):
                k += 1
                while k < len(rest) and rest[k].kind == "id":
                    names, k = read_chain(rest, k)
                    cls.supers.append(names)
                    if k < len(rest) and rest[k].is_op("<"):  # skip type arguments
                        depth = 0
                        while k < len(rest):
                            depth += rest[k].text.count("<") if rest[k].kind == "op" else 0
                            depth -= rest[k].text.count(">") if rest[k].kind == "op" else 0
                            k += 1
                            if depth <= 0:
                                break
                    if k < len(rest) and rest[k].is_op(","):
                        k += 1
            else:
                k += 1
        (owner.nested if owner else self.sf.classes)[name] = cls
        start = brace + 1
        if kind == "enum":  # skip the constants up to the first top-level ';'
            depth, k = 0, start
            while k < close:
                tok = toks[k]
                if tok.kind == "op" and tok.text in OPEN:
                    depth += 1
                elif tok.kind == "op" and tok.text in CLOSE:
                    depth -= 1
                elif depth == 0 and tok.is_op(";"):
                    break
                k += 1
            start = k + 1
        self.members(start, close, cls)

    def method(self, header: list[Tok], body: list[Tok], owner: ClassInfo) -> None:
        paren = next((k for k, t in enumerate(header) if t.is_op("(")), None)
        if paren is None or paren == 0 or header[paren - 1].kind != "id":
            return
        name = header[paren - 1].text
        close = matching(header, paren)
        params = []
        for part in split_params(header[paren + 1:close]):
            ids = [t.text for t in part if t.kind == "id"]
            if ids:
                params.append(ids[-1])
        owner.methods.setdefault(name, []).append(MethodInfo(name, params, body, owner))

    def field_decl(self, header: list[Tok], annotations: set[str], i: int, end: int,
                   owner: ClassInfo | None) -> int:
        toks = self.toks
        while True:
            depth, k = 0, i
            nxt = None
            while k < end:
                tok = toks[k]
                if tok.kind == "op" and tok.text in OPEN:
                    depth += 1
                elif tok.kind == "op" and tok.text in CLOSE:
                    depth -= 1
                elif depth == 0 and tok.is_op(";"):
                    break
                elif (depth == 0 and tok.is_op(",") and k + 2 < end and toks[k + 1].kind == "id"
                      and toks[k + 2].is_op("=")):
                    nxt = k + 1
                    break
                k += 1
            if owner is not None and header and header[-1].kind == "id":
                self.add_field(owner, header, annotations, toks[i:k])
            if nxt is None:
                return k + 1
            header = header[:-1] + [toks[nxt]]
            i = nxt + 2

    @staticmethod
    def add_field(owner: ClassInfo, header: list[Tok], annotations: set[str], init: list[Tok] | None) -> None:
        name = header[-1].text
        type_toks = [t.text for t in header[:-1] if not (t.kind == "id" and t.text in MODIFIERS)]
        owner.fields[name] = FieldInfo(name, "".join(type_toks), init, annotations, owner)


def split_params(toks: list[Tok]) -> list[list[Tok]]:
    """Split a parameter list at commas outside of brackets and type arguments."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for tok in toks:
        if tok.kind == "op" and (tok.text in OPEN or tok.text == "<"):
            depth += 1
        elif tok.kind == "op" and (tok.text in CLOSE or tok.text == ">"):
            depth -= 1
        if depth == 0 and tok.is_op(","):
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if p]


class ScalaParser:
    """Enough of a Scala file for config code: objects/classes, their ``val``s and ``def``s."""

    CONTINUE_AFTER = {"+", "-", "*", "/", ".", ",", "(", "[", "{", "=", "=>", "->", "&&", "||", "++", ":"}
    CONTINUE_BEFORE = {".", "+", ")", "]", "}", ",", "=>", "++", "&&", "||", ":"}

    def __init__(self, sf: SourceFile, toks: list[Tok]):
        self.sf = sf
        self.toks = toks

    def parse(self) -> None:
        self.body(0, len(self.toks), None)

    def statement_end(self, i: int, end: int) -> int:
        """Index of the first token after the statement starting at ``i``."""
        toks, depth, k = self.toks, 0, i
        while k < end:
            tok = toks[k]
            if tok.kind == "op" and tok.text in OPEN:
                depth += 1
            elif tok.kind == "op" and tok.text in CLOSE:
                if depth == 0:
                    return k
                depth -= 1
            elif depth == 0 and tok.is_op(";"):
                return k
            if depth == 0 and k + 1 < end and toks[k + 1].line > tok.line:
                if not (tok.kind == "op" and tok.text in self.CONTINUE_AFTER) and not (
                        toks[k + 1].kind == "op" and toks[k + 1].text in self.CONTINUE_BEFORE):
                    return k + 1
            k += 1
        return end

    def body(self, i: int, end: int, owner: ClassInfo | None) -> None:
        toks, sf = self.toks, self.sf
        while i < end:
            tok = toks[i]
            if tok.is_id("package"):
                name, i = _qualified(toks, i + 1)
                sf.package = f"{sf.package}.{name}" if sf.package else name
                continue
            if tok.is_id("import"):
                stop = self.statement_end(i, end)
                self.import_(toks[i + 1:stop])
                i = stop
                continue
            k = i
            while k < end and toks[k].kind == "id" and toks[k].text in MODIFIERS:
                k += 1
                if k < end and toks[k].is_op("["):  # private[server]
                    k = matching(toks, k) + 1
            while k < end and toks[k].is_op("@"):  # annotations
                _, k = read_chain(toks, k + 1)
                if k < end and toks[k].is_op("("):
                    k = matching(toks, k) + 1
            if k < end and toks[k].kind == "id" and toks[k].text in TYPE_KEYWORDS and k + 1 < end:
                name = toks[k + 1].text
                scope = owner.nested if owner else sf.classes
                cls = scope.get(name) or ClassInfo(name, toks[k].text, sf, owner)  # companions share one
                scope[name] = cls
                j = k + 2
                while j < end and not toks[j].is_op("{") and toks[j].line == toks[k].line or (
                        j < end and toks[j].is_id("extends", "with")):
                    if toks[j].is_id("extends", "with") and j + 1 < end and toks[j + 1].kind == "id":
                        names, j = read_chain(toks, j + 1)
                        cls.supers.append(names)
                        continue
                    if toks[j].is_op("(", "["):
                        j = matching(toks, j)
                    j += 1
                if j < end and toks[j].is_op("{"):
                    close = matching(toks, j)
                    self.body(j + 1, close, cls)
                    i = close + 1
                else:
                    i = j
                continue
            if owner is not None and k < end and toks[k].is_id("val", "var", "def") and k + 1 < end:
                stop = self.statement_end(k, end)
                name = toks[k + 1].text
                eq = next((m for m in range(k + 2, stop) if toks[m].is_op("=")), None)
                if toks[k].text == "def":
                    params = []
                    if k + 2 < stop and toks[k + 2].is_op("("):
                        close = matching(toks, k + 2)
                        params = [p[0].text for p in split_params(toks[k + 3:close]) if p and p[0].kind == "id"]
                    if eq is not None:
                        owner.methods.setdefault(name, []).append(
                            MethodInfo(name, params, toks[eq + 1:stop], owner))
                else:
                    type_ = "".join(t.text for t in toks[k + 3:eq]) if eq and toks[k + 2].is_op(":") else ""
                    owner.fields[name] = FieldInfo(name, type_, toks[eq + 1:stop] if eq else None, set(), owner)
                i = max(stop, k + 1)
                continue
            if tok.is_op("{"):
                i = matching(toks, i) + 1
                continue
            i = max(self.statement_end(i, end), i + 1)

    def import_(self, toks: list[Tok]) -> None:
        for part in split_top(toks, ","):
            if not part:
                continue
            base, k = _qualified(part, 0)
            if k < len(part) and part[k].is_op("{"):
                close = matching(part, k)
                for item in split_top(part[k + 1:close], ","):
                    names = [t.text for t in item if t.kind == "id" or t.is_op("_")]
                    if not names:
                        continue
                    if names[0] == "_":
                        self.sf.wildcards.append(base)
                    else:
                        self.sf.imports[names[-1]] = f"{base}.{names[0]}"
            elif base.endswith("._") or base == "_":
                self.sf.wildcards.append(base[:-2])
            elif k < len(part) and part[k].is_op("_") or (k > 0 and part[k - 1].is_op("_")):
                self.sf.wildcards.append(base.rstrip("."))
            elif base:
                self.sf.imports[base.rpartition(".")[2]] = base


# --- index and resolution ----------------------------------------------------------------------------

_SCALA_TYPES = re.compile(r"^[ \t]*(?:(?:private|protected|final|sealed|abstract|case|implicit)(?:\[\w+\])?\s+)*"
                          r"(?:object|class|trait)\s+(\w+)", re.M)


class Index:
    """The source trees' files by type name; files are parsed when first needed."""

    def __init__(self, roots: list[Path]):
        self.by_name: dict[str, list[Path]] = {}
        self.parsed: dict[Path, SourceFile] = {}
        for root in roots:
            if not root.is_dir():
                raise CatalogError(f"not a directory: {root}")
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
                for name in sorted(filenames):
                    path = Path(dirpath) / name
                    if name.endswith(".java"):
                        self.by_name.setdefault(name[:-5], []).append(path)
                    elif name.endswith(".scala"):
                        text = path.read_text(encoding="utf-8", errors="replace")
                        for type_name in dict.fromkeys(_SCALA_TYPES.findall(text)):
                            self.by_name.setdefault(type_name, []).append(path)

    def file(self, path: Path) -> SourceFile:
        sf = self.parsed.get(path)
        if sf is None:
            lang = "scala" if path.suffix == ".scala" else "java"
            sf = SourceFile(path, lang)
            self.parsed[path] = sf
            toks = tokenize(path.read_text(encoding="utf-8", errors="replace"))
            (ScalaParser if lang == "scala" else JavaParser)(sf, toks).parse()
        return sf

    def classes_named(self, name: str) -> list[ClassInfo]:
        found = []
        for path in self.by_name.get(name, ()):
            cls = self.file(path).classes.get(name)
            if cls is not None:
                found.append(cls)
        return found

    def by_fqn(self, fqn: str) -> ClassInfo | None:
        parts = fqn.split(".")
        for k in range(len(parts)):
            pkg = ".".join(parts[:k])
            for cls in self.classes_named(parts[k]):
                if cls.file.package == pkg:
                    return self.nested(cls, parts[k + 1:])
        return None

    @staticmethod
    def nested(cls: ClassInfo | None, names: list[str]) -> ClassInfo | None:
        for name in names:
            if cls is None:
                return None
            cls = cls.nested.get(name)
        return cls

    def simple(self, name: str, ctx: ClassInfo) -> ClassInfo | None:
        k: ClassInfo | None = ctx
        while k is not None:
            if k.name == name:
                return k
            if name in k.nested:
                return k.nested[name]
            k = k.outer
        sf = ctx.file
        if name in sf.classes:
            return sf.classes[name]
        if name in sf.imports:
            found = self.by_fqn(sf.imports[name])
            if found:
                return found
        if name in sf.static_imports:
            found = self.nested(self.by_fqn(sf.static_imports[name]), [name])
            if found:
                return found
        candidates = self.classes_named(name)
        for cls in candidates:
            if cls.file.package == sf.package:
                return cls
        for pkg in sf.wildcards + sf.static_wildcards:
            for cls in candidates:
                if cls.file.package == pkg:
                    return cls
            found = self.nested(self.by_fqn(pkg), [name])
            if found:
                return found
        return candidates[0] if len(candidates) == 1 else None

    def resolve_class(self, names: list[str], ctx: ClassInfo) -> ClassInfo | None:
        cls = self.simple(names[0], ctx)
        if cls is not None:
            return self.nested(cls, names[1:])
        return self.by_fqn(".".join(names))

    def member(self, cls: ClassInfo | None, name: str, kind: str, seen: set[int] | None = None):
        """A field (kind 'fields') or the methods (kind 'methods') of ``cls`` or its supertypes."""
        if cls is None:
            return None
        seen = set() if seen is None else seen
        if id(cls) in seen:
            return None
        seen.add(id(cls))
        found = getattr(cls, kind).get(name)
        if found:
            return found
        for sup in cls.supers:
            found = self.member(self.resolve_class(sup, cls), name, kind, seen)
            if found:
                return found
        return None

    def resolve(self, names: list[str], ctx: ClassInfo, kind: str = "fields"):
        """The field or methods a (qualified) name refers to from ``ctx``."""
        if len(names) == 1:
            name = names[0]
            k: ClassInfo | None = ctx
            while k is not None:
                found = self.member(k, name, kind)
                if found:
                    return found
                k = k.outer
            sf = ctx.file
            if name in sf.static_imports:
                found = self.member(self.by_fqn(sf.static_imports[name]), name, kind)
                if found:
                    return found
            for owner in sf.static_wildcards:
                found = self.member(self.by_fqn(owner), name, kind)
                if found:
                    return found
            if sf.lang == "scala":
                for owner in sf.wildcards:
                    found = self.member(self.by_fqn(owner), name, kind)
                    if found:
                        return found
                if name in sf.imports:  # import SomeObject.member
                    head = sf.imports[name].rpartition(".")[0]
                    found = self.member(self.by_fqn(head), name, kind)
                    if found:
                        return found
            return None
        return self.member(self.resolve_class(names[:-1], ctx), names[-1], kind)


# --- evaluation --------------------------------------------------------------------------------------

STRING_METHODS = {"toLowerCase": str.lower, "toUpperCase": str.upper, "trim": str.strip, "strip": str.strip}


class Evaluator:
    """String values of constant expressions, and the keys of ConfigDefs."""

    def __init__(self, index: Index):
        self.index = index
        self.values: dict[int, str | None] = {}
        self.busy: set[int] = set()
        self.field_defs_memo: dict[int, list[Define]] = {}
        self.has_defs_memo: dict[int, bool] = {}
        self.synonym_tables: dict[int, dict[str, list[str]]] = {}
        self.scanning: set[int] = set()
        self.unresolved: list[str] = []

    # constants

    def field_value(self, f: FieldInfo) -> str | None:
        key = id(f)
        if key in self.values:
            return self.values[key]
        if key in self.busy or f.init is None:
            return None
        self.busy.add(key)
        try:
            value = self.value(f.init, f.owner)
        finally:
            self.busy.discard(key)
        self.values[key] = value
        return value

    def value(self, toks: list[Tok], ctx: ClassInfo, env: dict[str, str] | None = None,
              lenient: bool = False) -> str | None:
        """The string a constant expression evaluates to, or None. ``lenient`` drops unknown parts."""
        terms = split_top(toks, "+")
        if len(terms) > 1:
            parts = [self.value(term, ctx, env, lenient) for term in terms]
            if any(p is None for p in parts):
                return None
            return "".join(parts)
        result = self.term(toks, ctx, env or {}, lenient)
        return "" if result is None and lenient else result

    def term(self, toks: list[Tok], ctx: ClassInfo, env: dict[str, str], lenient: bool) -> str | None:
        if not toks:
            return None
        first = toks[0]
        if first.is_op("(") and matching(toks, 0) == len(toks) - 1:
            return self.value(toks[1:-1], ctx, env, lenient)
        if first.is_op("(") and matching(toks, 0) < len(toks) - 1:  # a cast: (String) X
            close = matching(toks, 0)
            if all(t.kind == "id" or t.is_op(".") for t in toks[1:close]):
                return self.term(toks[close + 1:], ctx, env, lenient)
            return None
        if len(toks) == 1 and first.kind in ("str", "chr"):
            return first.text
        if len(toks) == 1 and first.kind == "num":
            return first.text.rstrip("lLfFdD").replace("_", "")
        if first.kind != "id" or first.text in NOT_NAMES:
            return None
        names, j = read_chain(toks, 0)
        if j == len(toks):
            if len(names) == 1 and names[0] in env:
                return env[names[0]]
            f = self.index.resolve(names, ctx)
            return self.field_value(f) if isinstance(f, FieldInfo) else None
        if toks[j].is_op("(") and matching(toks, j) == len(toks) - 1:
            args = [a for a in split_top(toks[j + 1:-1], ",") if a]
            return self.call(names, args, ctx, env, lenient)
        return None

    def call(self, names: list[str], args: list[list[Tok]], ctx: ClassInfo, env: dict[str, str],
             lenient: bool) -> str | None:
        name = names[-1]
        if name in STRING_METHODS and len(names) > 1:
            receiver = self.term(_chain_tokens(names[:-1]), ctx, env, lenient)
            return STRING_METHODS[name](receiver) if receiver is not None else None
        if names == ["String", "format"] and args:
            fmt = self.value(args[0], ctx, env, lenient)
            values = [self.value(a, ctx, env, lenient) for a in args[1:]]
            if fmt is None or any(v is None for v in values) or re.search(r"%(?!s)", fmt.replace("%%", "")):
                return None
            return fmt.replace("%%", "\0") % tuple(values) if values else fmt
        if name == "serverSynonym" and len(args) == 1:
            owner = self.index.resolve_class(names[:-1], ctx) if len(names) > 1 else ctx
            topic_key = self.value(args[0], ctx, env, lenient)
            table = self.synonyms(owner) if owner else {}
            return table.get(topic_key, [None])[0] if topic_key else None
        methods = self.index.resolve(names, ctx, "methods")
        for method in methods or ():
            if len(method.params) != len(args):
                continue
            body = method.body
            if body and body[0].is_id("return"):
                body = body[1:]
            if body and body[-1].is_op(";"):
                body = body[:-1]
            if any(t.is_op(";") for t in body):
                continue
            bound = {}
            for param, arg in zip(method.params, args):
                value = self.value(arg, ctx, env, lenient)
                if value is None:
                    return None
                bound[param] = value
            return self.value(body, method.owner, bound, lenient)
        return None

    def synonyms(self, cls: ClassInfo) -> dict[str, list[str]]:
        """ServerTopicConfigSynonyms' table: topic key -> server keys, first wins."""
        if id(cls) in self.synonym_tables:
            return self.synonym_tables[id(cls)]
        table: dict[str, list[str]] = {}
        self.synonym_tables[id(cls)] = table
        f = self.index.member(cls, "ALL_TOPIC_CONFIG_SYNONYMS", "fields")
        if f is None or not f.init:
            return table
        prefixes = {}
        for suffix in ("LogCleanerPrefix", "LogPrefix"):
            const = "LOG_CLEANER_PREFIX" if suffix == "LogCleanerPrefix" else "LOG_PREFIX"
            pf = self.index.member(cls, const, "fields")
            prefixes[suffix] = (self.field_value(pf) if pf else None) or ""
        init, entries = f.init, []
        for start in (k for k, t in enumerate(init) if t.is_op("(")):  # the call listing helper(...) entries
            entries = split_top(init[start + 1:matching(init, start)], ",")
            if sum(len(e) > 2 and e[0].kind == "id" and e[1].is_op("(") for e in entries) > 1:
                break
        for entry in entries:
            if len(entry) < 3 or entry[0].kind != "id" or not entry[1].is_op("("):
                continue
            helper = entry[0].text
            args = [a for a in split_top(entry[2:matching(entry, 1)], ",") if a]
            topic_key = self.value(args[0], cls) if args else None
            if topic_key is None:
                continue
            prefix = next((p for s, p in prefixes.items() if helper.endswith(s)), "")
            if helper.startswith("sameName"):
                names = [topic_key]
            elif helper.startswith("single") and len(args) > 1:
                names = [self.value(args[1], cls)]
            else:
                names = []
                for arg in args[1:]:
                    k = next((m for m, t in enumerate(arg) if t.is_op("(")), None)
                    if k is not None:
                        inner = [a for a in split_top(arg[k + 1:matching(arg, k)], ",") if a]
                        names.append(self.value(inner[0], cls) if inner else None)
            if names and all(n is not None for n in names):
                table[topic_key] = [prefix + n for n in names]
        return table

    # ConfigDefs

    def is_configdef(self, f: FieldInfo) -> bool:
        if re.sub(r"<.*", "", f.type).split(".")[-1].endswith("ConfigDef"):
            return True
        if f.type == "" and f.init:
            return any(t.is_id("ConfigDef") for t in f.init[:3]) or any(
                t.is_id("define") for t in f.init[:40]) or (len(f.init) > 2 and f.init[-1].is_id("CONFIG_DEF"))
        return False

    def field_defs(self, f: FieldInfo) -> list[Define]:
        key = id(f)
        if key in self.field_defs_memo:
            return self.field_defs_memo[key]
        self.field_defs_memo[key] = []  # guards against cycles
        out: list[Define] = []
        if f.init:
            self.scan(f.init, f.owner, out)
        for block in f.owner.static_blocks:
            for stmt in split_top(block, ";"):
                if len(stmt) > 1 and stmt[0].is_id(f.name):
                    self.scan(stmt[2:] if stmt[1].is_op("=") else stmt[1:], f.owner, out)
        self.field_defs_memo[key] = out
        return out

    def configdef_method(self, name: str, ctx: ClassInfo) -> list[MethodInfo]:
        cls = self.index.simple("ConfigDef", ctx)
        return (cls.methods.get(name) if cls else None) or []

    def has_defs(self, method: MethodInfo, depth: int = 0) -> bool:
        key = id(method)
        if key in self.has_defs_memo:
            return self.has_defs_memo[key]
        self.has_defs_memo[key] = False
        body, found = method.body, False
        for i, tok in enumerate(body):
            if tok.is_id("define", "defineInternal") and i > 0 and body[i - 1].is_op(".") and (
                    i + 1 < len(body) and body[i + 1].is_op("(")):
                found = True
                break
        if not found and depth < 4:
            for targets in self.calls(body, method.owner):
                if any(self.has_defs(m, depth + 1) for m in targets):
                    found = True
                    break
        self.has_defs_memo[key] = found
        return found

    def calls(self, toks: list[Tok], ctx: ClassInfo):
        """The methods called in ``toks`` that can be resolved (static calls and ConfigDef's own)."""
        i = 0
        while i < len(toks):
            tok = toks[i]
            if tok.kind == "id" and tok.text not in NOT_NAMES and (i == 0 or not toks[i - 1].is_op(".")):
                names, j = read_chain(toks, i)
                if j < len(toks) and toks[j].is_op("("):
                    found = self.index.resolve(names, ctx, "methods")
                    if found:
                        yield found
                i = j
                continue
            if tok.is_op(".") and i + 2 < len(toks) and toks[i + 1].kind == "id" and toks[i + 2].is_op("("):
                found = self.configdef_method(toks[i + 1].text, ctx)
                if found:
                    yield found
            i += 1

    def scan(self, toks: list[Tok], ctx: ClassInfo, out: list[Define]) -> None:
        """Append the keys the ConfigDef expression or statements ``toks`` define."""
        i = 0
        while i < len(toks):
            tok = toks[i]
            if tok.is_op(".") and i + 2 < len(toks) and toks[i + 1].kind == "id" and toks[i + 2].is_op("("):
                i = self.method_call(toks, i + 1, ctx, out)
                continue
            if tok.is_id("new"):  # skip the constructed type's name; its arguments are scanned
                i = read_chain(toks, i + 1)[1] if i + 1 < len(toks) and toks[i + 1].kind == "id" else i + 1
                continue
            if tok.kind == "id" and tok.text not in NOT_NAMES and (i == 0 or not toks[i - 1].is_op(".")):
                names, j = read_chain(toks, i)
                if j < len(toks) and toks[j].is_op("("):
                    methods = None if names[-1] in DEFINES else self.index.resolve(names, ctx, "methods")
                    if methods:
                        self.scan_methods(methods, out)
                        i = j
                        continue
                    if len(names) > 1:  # receiver.method(...): the receiver may be a ConfigDef field
                        self.scan_field(names[:-1], ctx, out)
                        i = self.method_call(toks, j - 1, ctx, out)
                        continue
                    i = j
                    continue
                self.scan_field(names, ctx, out)
                i = j
                continue
            i += 1

    def method_call(self, toks: list[Tok], i: int, ctx: ClassInfo, out: list[Define]) -> int:
        """``toks[i]`` names a method called on a ConfigDef; return the index to go on from."""
        name = toks[i].text
        if name in DEFINES:
            close = matching(toks, i + 1)
            args = [a for a in split_top(toks[i + 2:close], ",") if a]
            self.record(args, name == "defineInternal", ctx, out)
            return close + 1
        self.scan_methods(self.configdef_method(name, ctx), out)
        return i + 1

    def scan_methods(self, methods: list[MethodInfo], out: list[Define]) -> None:
        for method in methods:
            if id(method) not in self.scanning and self.has_defs(method):
                self.scanning.add(id(method))
                try:
                    self.scan(method.body, method.owner, out)
                finally:
                    self.scanning.discard(id(method))
                return

    def scan_field(self, names: list[str], ctx: ClassInfo, out: list[Define]) -> None:
        f = self.index.resolve(names, ctx)
        if isinstance(f, FieldInfo) and self.is_configdef(f):
            out.extend(self.field_defs(f))

    def record(self, args: list[list[Tok]], internal: bool, ctx: ClassInfo, out: list[Define]) -> None:
        if not args:
            return
        key = self.value(args[0], ctx)
        if key is None:
            if len(args) > 1:
                where = f"{ctx.fqn} ({ctx.file.path.name}:{args[0][0].line})"
                self.unresolved.append(f"{where}: {' '.join(t.text for t in args[0])}")
            return
        deprecated = False
        if args[0][0].kind == "id":
            names, j = read_chain(args[0], 0)
            f = self.index.resolve(names, ctx) if j == len(args[0]) else None
            deprecated = isinstance(f, FieldInfo) and "Deprecated" in f.annotations
        doc = None
        for k, arg in enumerate(args[1:], start=1):
            if arg[-1].kind == "id" and arg[-1].text in IMPORTANCE and len(arg) <= 7:
                if k + 1 < len(args):
                    doc = self.value(args[k + 1], ctx, lenient=True)
                break
        out.append(Define(key, internal, deprecated, doc, ctx.fqn))


def _chain_tokens(names: list[str]) -> list[Tok]:
    toks = []
    for k, name in enumerate(names):
        if k:
            toks.append(Tok("op", ".", 0))
        toks.append(Tok("id", name, 0))
    return toks


@dataclass
class Define:
    key: str
    internal: bool
    deprecated: bool
    doc: str | None
    origin: str


# --- sections ----------------------------------------------------------------------------------------

_DEPRECATED_DOC = re.compile(
    r"\b(?:this|the)\s+(?:config(?:uration)?|property|setting)\s+(?:is|has\s+been|was)\s+(?:now\s+)?deprecated"
    r"|^\s*(?:<p>)?\(?deprecated\b", re.I)
_REPLACEMENT_DOC = re.compile(
    r"\b(?:use|replaced\s+by|in\s+favou?r\s+of)\s+(?:the\s+)?(?:config(?:uration)?\s+)?(?:<code>)?"
    r"([a-z0-9][a-z0-9._-]*[a-z0-9])", re.I)


def deprecation(define: Define, keys: set[str]) -> tuple[bool, str | None]:
    """Whether a key is deprecated and the key its doc tells to use instead."""
    doc = re.sub(r"\s+", " ", define.doc or "")
    own = re.compile(rf"{re.escape(define.key)}(?:</code>)?\s+(?:is|has\s+been)\s+(?:now\s+)?deprecated", re.I)
    deprecated = define.deprecated or bool(_DEPRECATED_DOC.search(doc) or own.search(doc))
    replacement = None
    if deprecated:
        for match in _REPLACEMENT_DOC.finditer(doc):
            candidate = match.group(1)
            if candidate in keys and candidate != define.key:
                replacement = candidate
                break
    return deprecated, replacement


class Catalog:
    """Sections of one Kafka tree (or several trees searched together)."""

    def __init__(self, roots: list[Path]):
        self.roots = list(roots)
        self.index = Index(self.roots)
        self.ev = Evaluator(self.index)

    def configdef(self, candidates: tuple[tuple[str, str], ...]) -> tuple[list[Define], str] | None:
        for class_name, field_name in candidates:
            for cls in sorted(self.index.classes_named(class_name), key=lambda c: c.file.lang != "java"):
                f = cls.fields.get(field_name)
                if f is not None and self.ev.is_configdef(f):
                    return self.ev.field_defs(f), cls.fqn
        return None

    def constant(self, class_name: str, name: str) -> str | None:
        for cls in self.index.classes_named(class_name):
            f = cls.fields.get(name)
            if f is not None:
                return self.ev.field_value(f)
        return None

    def plugin_keys(self, plugins: tuple[tuple[str, str], ...]) -> list[str]:
        keys = []
        for class_name, suffix in plugins:
            for cls in self.index.classes_named(class_name)[:1]:
                for name, f in cls.fields.items():
                    if name.endswith(suffix) and f.type in ("String", ""):
                        value = self.ev.field_value(f)
                        if value and re.fullmatch(r"[a-z][a-z0-9._-]*", value):
                            keys.append(value)
        return keys

    def section(self, name: str) -> dict:
        spec = {"server": (SERVER_DEFS, SERVER_PLUGINS), "topic": (TOPIC_DEFS, ()),
                "admin-client": (ADMIN_DEFS, ADMIN_PLUGINS)}[name]
        found = self.configdef(spec[0])
        if found is None or not found[0]:
            wanted = " or ".join(f"{c}.{f}" for c, f in spec[0])
            raise CatalogError(f"section {name}: no ConfigDef {wanted} in the sources")
        defines, _ = found
        keys = {d.key for d in defines} | set(self.plugin_keys(spec[1]))
        internal = sorted({d.key for d in defines if d.internal} - {d.key for d in defines if not d.internal})
        deprecated: dict[str, str | None] = {}
        for define in defines:
            is_deprecated, replacement = deprecation(define, keys)
            if is_deprecated:
                deprecated[define.key] = replacement or deprecated.get(define.key)
        section = {
            "description": DESCRIPTIONS[name],
            "keys": sorted(keys),
            "deprecated": dict(sorted(deprecated.items())),
            "defunct": [],
            "patterns": self.patterns(name, keys),
            "internal": internal,
        }
        if name == "topic":
            section["synonyms"] = self.topic_synonyms(keys)
        return section

    def topic_synonyms(self, topic_keys: set[str]) -> dict[str, list[str]]:
        for cls in self.index.classes_named("ServerTopicConfigSynonyms"):
            table = self.ev.synonyms(cls)
            return {k: v for k, v in sorted(table.items()) if k in topic_keys}
        return {}

    def patterns(self, name: str, keys: set[str]) -> list[str]:
        patterns = []
        if name == "server":
            prefix = (self.constant("ListenerName", "CONFIG_STATIC_PREFIX") or "listener.name") + "."
            listener = f"^{re.escape(prefix)}{LISTENER}\\."
            patterns += [f"{listener}ssl\\.{SUFFIX}$", f"{listener}sasl\\.{SUFFIX}$",
                         f"{listener}{MECHANISM}\\.sasl\\.{SUFFIX}$"]
            for key in LISTENER_KEYS:
                if key in keys:
                    scope = f"({MECHANISM}\\.)?" if key in MECHANISM_KEYS else ""
                    patterns.append(f"{listener}{scope}{re.escape(key)}$")
            for const in ("DEFAULT_REMOTE_STORAGE_MANAGER_CONFIG_PREFIX",
                          "DEFAULT_REMOTE_LOG_METADATA_MANAGER_CONFIG_PREFIX"):
                value = self.constant("RemoteLogManagerConfig", const)
                if value:
                    patterns.append(f"^{re.escape(value)}.+$")
        if name in ("server", "admin-client"):
            providers = self.constant("AbstractConfig", "CONFIG_PROVIDERS_CONFIG")
            param = self.constant("AbstractConfig", "CONFIG_PROVIDERS_PARAM") or ".param."
            if providers and providers in keys:
                patterns.append(f"^{re.escape(providers)}\\.[A-Za-z0-9_-]+\\.(class|{re.escape(param[1:])}.+)$")
        return patterns

    def version(self) -> str | None:
        """The ``version=`` of the first tree's gradle.properties."""
        for root in self.roots:
            props = root / "gradle.properties"
            if props.is_file():
                match = re.search(r"^version=(\S+)", props.read_text(encoding="utf-8"), re.M)
                if match:
                    return match.group(1)
        return None


def git_head(root: Path) -> str | None:
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


SECTIONS = ("server", "topic", "admin-client")


def build(roots: list[Path], partial: bool = False) -> tuple[Catalog, dict[str, dict]]:
    """The sections of ``roots``; with ``partial`` a section the trees lack is left out instead of failing."""
    catalog = Catalog(roots)
    sections = {}
    for name in SECTIONS:
        try:
            sections[name] = catalog.section(name)
        except CatalogError:
            if not partial:
                raise
    return catalog, sections


def generate(sources: list[Path], previous: list[Path] | None = None, version: str | None = None,
             source: str | None = None, warnings: list[str] | None = None) -> dict:
    """Build the catalog of the Kafka tree(s) ``sources``.

    ``previous``: trees of an older release; their keys this release lacks become ``defunct``.
    ``version``/``source``: override the ``version`` and ``source`` fields (default: the tree's
    gradle.properties version and git HEAD). ``warnings`` collects the define calls left unresolved.
    """
    sources = [Path(s) for s in sources]
    if not sources:
        raise CatalogError("no Kafka source tree given")
    catalog, sections = build(sources)
    if warnings is not None:
        warnings.extend(catalog.ev.unresolved)
    for old in previous or ():
        old_catalog, old_sections = build([Path(old)], partial=True)
        if warnings is not None:
            warnings.extend(f"{old}: {w}" for w in old_catalog.ev.unresolved)
        for name, section in sections.items():
            current = set(section["keys"])
            patterns = [re.compile(p) for p in section["patterns"]]
            gone = {k for k in old_sections.get(name, {}).get("keys", ()) if k not in current}
            gone = {k for k in gone if not any(p.fullmatch(k) for p in patterns)}
            section["defunct"] = sorted(set(section["defunct"]) | gone)
    tree_version = catalog.version() or "unknown"
    if source is None:
        head = git_head(sources[0])
        source = f"apache/kafka {tree_version} (commit {head or 'unknown'})"
    return {
        "component": "kafka",
        "version": version or tree_version,
        "source": source,
        "generated_by": GENERATED_BY,
        "sections": sections,
    }


def dump(catalog: dict) -> str:
    return json.dumps(catalog, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="+", type=Path, help="Kafka source tree(s), searched together")
    parser.add_argument("-o", "--output", type=Path, help="write the catalog here instead of printing it")
    parser.add_argument("--previous", action="append", type=Path, default=[],
                        help="tree of an older release: its keys missing here are listed as defunct")
    parser.add_argument("--version", help="the version field (default: gradle.properties of the tree)")
    parser.add_argument("--source", help="the source field (default: 'apache/kafka <version> (commit <HEAD>)')")
    parser.add_argument("--strict", action="store_true", help="fail when a define call cannot be resolved")
    args = parser.parse_args(argv)
    warnings: list[str] = []
    try:
        catalog = generate(args.sources, args.previous, args.version, args.source, warnings)
    except CatalogError as exc:
        print(f"kafka catalog: {exc}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"kafka catalog: unresolved define key: {warning}", file=sys.stderr)
    if args.strict and warnings:
        return 1
    text = dump(catalog)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        counts = ", ".join(f"{n}: {len(s['keys'])}" for n, s in catalog["sections"].items())
        print(f"wrote {args.output} ({counts})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
