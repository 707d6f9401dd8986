"""Artifact resolution for the one artifact mechanism (roles/artifact) and scripts/fetch-artifacts.

An artifact entry of platform_artifacts (roles/platform/defaults/main/versions.yml):

    flink:
      version: "2.1.3"
      url: https://archive.apache.org/dist/flink/flink-{version}/flink-{version}-bin-scala_2.12.tgz
      format: tar                  # tar (unpacked, top directory stripped) | file (copied as is)
      strip: 1                     # tar: leading path components to strip (0 = no top directory)
      architectures: [any]         # or [x86_64, aarch64]
      arch_map: {}                 # Ansible architecture -> the name upstream uses in {arch}
      checksum: sha512:{url}.sha512          # checksum file URL (any version), or
      checksums:                             # literal values per version and architecture
        "2.1.3": {any: sha256:<hex>}

URL placeholders: {version}, {version_us} ('+' -> '_'), {version_enc} ('+' -> '%2B'),
{major}, {arch}, {build}, and in checksum URLs also {url} (the artifact's upstream URL).

A literal checksum for the resolved version and architecture wins over a checksum file URL.
platform_artifact_mirror replaces the artifact's URL by <mirror>/<name>/<version>/<file name> (an
HTTP(S) base URL or a local directory). A checksum file still comes from upstream then: a mirror
does not vouch for its own files unless the site says so (checksum_source 'mirror',
platform_artifact_checksum_source). Pure functions, unit-tested in tests/unit/test_artifacts.py.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

# The file the artifact role writes last into each directory it unpacked (roles/artifact).
MARKER = ".fdp-artifact.json"

try:  # inside Ansible: errors surface as clean task failures
    from ansible.errors import AnsibleFilterError as ArtifactError
except ImportError:  # scripts/fetch-artifacts may run without Ansible
    class ArtifactError(Exception):  # type: ignore[no-redef]
        """An artifact entry or override is wrong; the message says how to fix it."""

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")  # no '-': <name>-<version> directories stay unambiguous
HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
# MD5 only where upstream publishes nothing stronger (SeaweedFS), and only as a checksum file URL:
# a literal pin the project writes itself is sha256 or stronger.
FILE_ONLY = ("md5",)
FORMATS = ("tar", "file")
ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
ANY = "any"
CHECKSUM_SOURCES = ("upstream", "mirror")


def normalize_arch(arch: str) -> str:
    try:
        return ARCH_ALIASES[str(arch)]
    except KeyError:
        raise ArtifactError(f"unsupported architecture {arch!r}; supported: x86_64, aarch64") from None


def merge_entry(entry: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """entry + override, one level deep for dicts (checksums, arch_map); None removes a key."""
    merged = dict(entry)
    for key, value in (override or {}).items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            inner = dict(merged[key])
            inner.update(value)
            merged[key] = inner
        else:
            merged[key] = value
    return merged


def parse_checksum_spec(spec: str, where: str) -> tuple[str, str | None, str | None]:
    """'sha256:<hex>' -> (algo, hex, None); 'sha512:https://...' -> (algo, None, url)."""
    algo, sep, rest = str(spec).partition(":")
    algo = algo.lower()
    if not sep or algo not in HEX_LENGTHS:
        raise ArtifactError(f"{where}: checksum {spec!r} must be '<sha1|sha256|sha512>:<hex or checksum-file URL>'")
    if re.fullmatch(r"[0-9a-fA-F]+", rest):
        if algo in FILE_ONLY:
            raise ArtifactError(f"{where}: a literal {algo} checksum is too weak to pin; use sha256:<hex>")
        if len(rest) != HEX_LENGTHS[algo]:
            raise ArtifactError(f"{where}: {algo} checksum must have {HEX_LENGTHS[algo]} hex digits, not {len(rest)}")
        return algo, rest.lower(), None
    if "://" in rest:
        return algo, None, rest
    raise ArtifactError(f"{where}: checksum {spec!r} is neither a hex digest nor a URL")


def _fill(template: str, values: Mapping[str, str], where: str) -> str:
    try:
        return str(template).format(**values)
    except (KeyError, IndexError) as exc:
        raise ArtifactError(f"{where}: unknown placeholder {exc} in {template!r}") from None


def mirror_url(mirror: str, name: str, version: str, filename: str) -> str:
    """Where a mirror (HTTP(S) base URL or local directory) holds a file of an artifact."""
    mirror = str(mirror).rstrip("/")
    if mirror.startswith("/"):
        base = "file://" + quote(mirror)
    elif re.match(r"^(https?|file)://", mirror):
        base = mirror
    else:
        raise ArtifactError(f"platform_artifact_mirror {mirror!r} must be an http(s):// or file:// URL or an absolute path")
    return f"{base}/{quote(name)}/{quote(version)}/{quote(filename)}"


def resolve(artifacts: Mapping[str, Any], name: str, arch: str = "x86_64", mirror: str | None = "",
            overrides: Mapping[str, Any] | None = None, cache_dir: str = "",
            checksum_source: str = "upstream") -> dict[str, Any]:
    """Everything needed to fetch, verify and install one artifact on one architecture.

    With a mirror, a pin by checksum file reads that file from upstream (checksum_source
    'upstream', the default) or, only where the site trusts its mirror, from the mirror."""
    if checksum_source not in CHECKSUM_SOURCES:
        raise ArtifactError(f"platform_artifact_checksum_source {checksum_source!r} must be one of "
                            f"{', '.join(CHECKSUM_SOURCES)}")
    if not NAME_RE.match(str(name)):
        raise ArtifactError(f"artifact name {name!r} must match {NAME_RE.pattern} (lower case, digits, '_')")
    if name not in (artifacts or {}):
        known = ", ".join(sorted(artifacts or {}))
        raise ArtifactError(f"unknown artifact {name!r}: platform_artifacts knows {known}")
    entry = merge_entry(artifacts[name], (overrides or {}).get(name))
    where = f"platform_artifacts.{name}"
    for key in ("version", "url"):
        if not entry.get(key):
            raise ArtifactError(f"{where}: '{key}' is missing")
    version = str(entry["version"])
    fmt = entry.get("format", "tar")
    if fmt not in FORMATS:
        raise ArtifactError(f"{where}: format {fmt!r} must be one of {', '.join(FORMATS)}")
    arch = normalize_arch(arch)
    architectures = [str(a) for a in entry.get("architectures") or [ANY]]
    if ANY not in architectures and arch not in architectures:
        raise ArtifactError(f"{where}: no build for {arch} (architectures: {', '.join(architectures)})")
    arch_key = ANY if ANY in architectures else arch
    values = {
        "version": version,
        "version_us": version.replace("+", "_"),
        "version_enc": version.replace("+", "%2B"),
        "major": version.split(".")[0],
        "arch": str((entry.get("arch_map") or {}).get(arch, arch)),
        "build": str(entry.get("build", "")),
    }
    upstream_url = _fill(entry["url"], values, where + ".url")
    filename = unquote(urlsplit(upstream_url).path.rsplit("/", 1)[-1])
    if not filename:
        raise ArtifactError(f"{where}: url {upstream_url!r} does not end in a file name")

    literal = ((entry.get("checksums") or {}).get(version) or {})
    spec = literal.get(arch_key) if isinstance(literal, Mapping) else literal
    if spec is None and entry.get("checksum"):
        spec = _fill(entry["checksum"], {**values, "url": upstream_url}, where + ".checksum")
    if spec is None:
        raise ArtifactError(
            f"{where}: no checksum pinned for version {version} on {arch_key}. Add "
            f"checksums: {{'{version}': {{{arch_key}: 'sha256:<hex>'}}}} to platform_artifact_overrides.{name} "
            f"(or a checksum-file URL as 'checksum')")
    algo, value, checksum_upstream = parse_checksum_spec(spec, where)
    checksum_file = unquote(urlsplit(checksum_upstream).path.rsplit("/", 1)[-1]) if checksum_upstream else None
    if checksum_file == filename:
        raise ArtifactError(f"{where}: the checksum file URL must differ from the artifact URL")

    url, checksum_url = upstream_url, checksum_upstream
    if mirror:
        url = mirror_url(mirror, name, version, filename)
        if checksum_upstream and checksum_source == "mirror":
            checksum_url = mirror_url(mirror, name, version, checksum_file)
    cache = f"{str(cache_dir).rstrip('/')}/{name}/{version}" if cache_dir else f"{name}/{version}"
    return {
        "name": name,
        "version": version,
        "arch": arch,
        "build_arch": arch_key,  # "any" for architecture-independent files
        "format": fmt,
        "mode": str(entry.get("mode", "0755" if entry.get("executable") else "0644")),
        "strip": _strip(entry.get("strip", 1), where),
        "filename": filename,
        "upstream_url": upstream_url,
        "url": url,
        "checksum_algorithm": algo,
        "checksum_value": value,
        "checksum_url": checksum_url,
        "checksum_upstream_url": checksum_upstream,
        "checksum_file": checksum_file,
        "mirror_path": f"{name}/{version}/{filename}",
        "cache_path": f"{cache}/{filename}",
        "checksum_cache_path": f"{cache}/{checksum_file}" if checksum_file else None,
        "dir": f"{name}-{version}",
    }


def _strip(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
        raise ArtifactError(f"{where}: strip {value!r} must be 0 (no top directory), 1, 2 or 3")
    return value


def checksum_from_text(text: str, filename: str, algorithm: str) -> str:
    """The digest of `filename` in an upstream checksum file.

    Understands `sha256sum` lines ('<hex>  [*]<file>'), BSD lines ('SHA512 (<file>) = <hex>'),
    `gpg --print-md` blocks ('<file>: AB12 CD34 ...' over several lines, as older Apache releases
    publish) and a file holding only the digest.
    """
    algorithm = algorithm.lower()
    length = HEX_LENGTHS.get(algorithm)
    if length is None:
        raise ArtifactError(f"unsupported checksum algorithm {algorithm!r}")
    text = str(text)
    base = filename.rsplit("/", 1)[-1]
    candidates: list[str] = []
    for line in text.splitlines():
        m = re.match(r"^\s*([0-9a-fA-F]+)\s+\*?(\S+)\s*$", line)
        if m and m.group(2).rsplit("/", 1)[-1] == base:
            candidates.append(m.group(1))
        m = re.match(r"^\s*[A-Za-z0-9-]+\s*\((.+)\)\s*=\s*([0-9a-fA-F]+)\s*$", line)
        if m and m.group(1).rsplit("/", 1)[-1] == base:
            candidates.append(m.group(2))
    m = re.search(re.escape(base) + r"\s*:\s*((?:[0-9a-fA-F]{2,}\s*)+)", text)
    if not candidates and m:
        candidates.append(re.sub(r"\s+", "", m.group(1)))
    if not candidates:
        only = re.sub(r"\s+", "", text)
        if re.fullmatch(r"[0-9a-fA-F]+", only or "-"):  # a file holding only the digest
            candidates.append(only)
    for digest in candidates:
        if len(digest) == length:
            return digest.lower()
    raise ArtifactError(f"no {algorithm} digest for {base} in the checksum file")


def prune(found: list[Mapping[str, Any]], current: str, previous: str | None, keep: int,
          name: str | None = None) -> list[str]:
    """Versioned directories to remove: keep `current`, the `previous` one (rollback) and the
    newest others up to `keep` in total. `found` is ansible.builtin.find's `files` list: versioned
    directories, or the markers (MARKER) the role writes last into each directory it unpacked;
    a marker stands for its directory, so a directory the role did not create is never removed.
    With `name`, only `<name>-*` directories count."""
    keep = max(int(keep), 1)
    kept = [p for p in (current, previous) if p]
    dirs = []
    for entry in found:
        path = entry["path"].rstrip("/")
        if posixpath.basename(path) == MARKER:
            path = posixpath.dirname(path)
        if name and not posixpath.basename(path).startswith(f"{name}-"):
            continue
        dirs.append({"path": path, "mtime": entry.get("mtime", 0)})
    others = sorted((d for d in dirs if d["path"] not in kept), key=lambda d: d["mtime"], reverse=True)
    room = max(keep - len(set(kept)), 0)
    return [d["path"] for d in others[room:]]


def marker(artifact: Mapping[str, Any]) -> str:
    """The content of <dir>/.fdp-artifact.json: what is unpacked there (stable across runs)."""
    keys = ("name", "version", "arch", "filename", "checksum_algorithm")
    data = {k: artifact[k] for k in keys}
    return json.dumps(data, sort_keys=True, indent=2) + "\n"


def validate(artifacts: Mapping[str, Any], archs: tuple[str, ...] = ("x86_64", "aarch64")) -> dict[str, str]:
    """name/arch -> problem, for every architecture an artifact declares (tests, fetch-artifacts)."""
    problems = {}
    for name, entry in sorted((artifacts or {}).items()):
        declared = [a for a in (entry or {}).get("architectures") or [ANY]]
        for arch in archs if ANY not in declared else archs[:1]:
            if ANY not in declared and arch not in declared:
                continue
            try:
                resolve(artifacts, name, arch)
            except ArtifactError as exc:
                problems[f"{name}/{arch}"] = str(exc)
    return problems


def artifact_dirs(names: list[str], artifacts: Mapping[str, Any], arch: str = "x86_64",
                  overrides: Mapping[str, Any] | None = None) -> list[str]:
    """The versioned directory (<name>-<version>) of each artifact as resolved with the site's
    overrides: the one answer to "which version runs" (the service skeleton restarts a unit
    when it changes, whether the pin or an override moved it)."""
    return [resolve(artifacts, name, arch, "", overrides)["dir"] for name in names]


class FilterModule:
    """fdp_* artifact filters."""

    def filters(self):
        return {
            "fdp_artifact": resolve,
            "fdp_checksum_from_text": checksum_from_text,
            "fdp_artifact_prune": prune,
            "fdp_artifact_marker": marker,
            "fdp_artifact_dirs": artifact_dirs,
        }
