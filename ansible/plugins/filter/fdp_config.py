"""The one configuration mechanism of every component: layered settings, guarded overrides,
rendering to each file format the components read.

A component's file = defaults < distribution wiring < computed sizes < site overrides, merged
by `fdp_settings` (later layers win; a null in the overrides removes a key). The overrides are
guarded twice:

* reserved keys - keys the platform owns (TLS, ports, addresses, authentication): setting one is
  an error that names the variable to use instead;
* the key catalog - every rendered key must be one the pinned upstream version knows
  (ansible/catalogs/<component>.json, generated from upstream by scripts/key-catalog); an
  unknown key is an error with a did-you-mean. A site that needs a key the catalog lacks (a
  plugin of its own, say) lists it in platform_config_unchecked_keys.<component>.

`fdp_render` turns settings into text: flat YAML (Flink), nested YAML, Java properties, Hadoop
XML, systemd environment files, JVM option files (one option per line), INI and JSON.

Pure functions, unit-tested in tests/unit/test_config_filters.py.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import yaml

try:  # inside Ansible: errors surface as clean task failures
    from ansible.errors import AnsibleFilterError as ConfigError
except ImportError:  # pragma: no cover - scripts may import this without Ansible
    class ConfigError(Exception):  # type: ignore[no-redef]
        """A setting is invalid; the message names the variable and the fix."""

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalogs"
FORMATS = ("yaml_flat", "yaml", "properties", "xml", "env", "jvm", "argfile", "ini", "json", "toml")
_FLAT_KEY = re.compile(r"[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)*")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_catalog_cache: dict[str, tuple[float, dict]] = {}


# --- plain values ---------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """Plain Python types: Ansible hands over tagged subclasses that YAML/JSON dumpers reject."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    raise ConfigError(f"cannot render a {type(value).__name__} value ({value!r}) in a configuration file")


def scalar_text(value: Any) -> str:
    """How a scalar reads in a key=value file: booleans lower case, lists comma-separated."""
    value = plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(scalar_text(v) for v in value)
    if isinstance(value, dict):
        raise ConfigError(f"a nested value ({value!r}) cannot go into a key=value file")
    return "" if value is None else str(value)


# --- merging --------------------------------------------------------------------------------
def merge(layers: Iterable[Mapping[str, Any] | None], nested: bool = False) -> dict[str, Any]:
    """Later layers win; a None value removes the key. `nested` merges one level deeper
    (INI sections, YAML mappings): a None section removes the section."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if value is None:
                merged.pop(key, None)
            elif nested and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = merge([merged[key], value])
            else:
                merged[key] = dict(value) if nested and isinstance(value, Mapping) else value
    return merged


def _flat_keys(settings: Mapping[str, Any], nested: bool) -> list[str]:
    if not nested:
        return [str(k) for k in settings]
    keys = []
    for section, values in settings.items():
        if isinstance(values, Mapping):
            keys += [f"{section}.{k}" for k in values]
        else:
            keys.append(str(section))
    return keys


# --- the key catalog ------------------------------------------------------------------------
def load_catalog(component: str, directory: Path | str | None = None) -> dict:
    """ansible/catalogs/<component>.json (cached per file modification time)."""
    path = Path(directory or CATALOG_DIR) / f"{component}.json"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise ConfigError(f"no key catalog for {component}: {path} is missing (scripts/key-catalog makes it)") from None
    cached = _catalog_cache.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    data = json.loads(path.read_text(encoding="utf-8"))
    _catalog_cache[str(path)] = (mtime, data)
    return data


def _matches(key: str, entries: Iterable[str]) -> bool:
    for entry in entries:
        entry = str(entry)
        if entry.startswith("re:"):
            if re.fullmatch(entry[3:], key):
                return True
        elif entry == key:
            return True
    return False


def catalog_errors(keys: Iterable[str], component: str, section: str, unchecked: Iterable[str] = (),
                   catalog: Mapping[str, Any] | None = None) -> list[str]:
    """Keys that the pinned version's catalog does not know, each with a did-you-mean."""
    catalog = catalog if catalog is not None else load_catalog(component)
    sections = catalog.get("sections", {})
    if section not in sections:
        raise ConfigError(f"the {component} key catalog has no section '{section}' (it has {', '.join(sorted(sections))})")
    entry = sections[section]
    known = set(entry.get("keys", ()))
    deprecated = entry.get("deprecated", {}) or {}
    defunct = set(entry.get("defunct", ()))
    patterns = [re.compile(p) for p in entry.get("patterns", ())]
    unchecked = list(unchecked or ())
    where = f"{component} {catalog.get('version', '?')}"
    errors = []
    for key in sorted(set(keys)):
        if key in known or _matches(key, unchecked) or any(p.fullmatch(key) for p in patterns):
            continue
        if key in defunct:
            errors.append(f"'{key}' was removed from {where} ({section}): drop it")
        elif key in deprecated:
            new = deprecated[key]
            errors.append(f"'{key}' is deprecated in {where} ({section})"
                          + (f": use '{new}'" if new else ": drop it"))
        else:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            errors.append(
                f"'{key}' is not a {where} {section} key{hint}; if it belongs to a plugin of your own, "
                f"list it in platform_config_unchecked_keys.{component}"
            )
    return errors


# --- layered settings with guarded overrides ------------------------------------------------
def setting_keys(settings_: Mapping[str, Any], nested: bool = False) -> list[str]:
    """The keys of settings, nested ones (INI sections) as section.key."""
    return _flat_keys(settings_ or {}, nested)


def settings_errors(overrides: Mapping[str, Any] | None, component: str = "", section: str = "",
                    reserved: Mapping[str, str] | Iterable[str] | None = None, unchecked: Iterable[str] = (),
                    variable: str = "overrides", nested: bool = False, keys: Iterable[str] = (),
                    catalog: Mapping[str, Any] | None = None, reserved_hint: str = "") -> list[str]:
    """Everything wrong with `overrides` (named `variable` in messages): not a mapping, keys
    the platform reserves (a mapping key -> what to change instead, or a list of keys with one
    `reserved_hint`), and - with a component - keys (of the overrides and of `keys`, the role's
    own layers) unknown to the pinned version's catalog."""
    if reserved is not None and not isinstance(reserved, Mapping):
        reserved = {key: reserved_hint for key in reserved}
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, Mapping):
        return [f"{variable} must be a mapping of settings, got {type(overrides).__name__}"]
    if nested and any(v is not None and not isinstance(v, Mapping) for v in overrides.values()):
        return [f"{variable} must map each section to a mapping of settings (or null to remove the section)"]
    errors = []
    own = set(reserved or {})
    for key in _flat_keys(overrides, nested):
        if key in own:
            errors.append(f"{variable} sets '{key}', which the platform owns: {reserved[key]}")
        elif nested and overrides.get(key) is None:  # a null section would remove owned keys
            for owned in sorted(k for k in own if k.startswith(f"{key}.")):
                errors.append(f"{variable} removes '{owned}', which the platform owns: {reserved[owned]}")
    if not nested:
        bad = [k for k in overrides if not _FLAT_KEY.fullmatch(str(k))]
        errors += [f"{variable}: '{k}' is not a configuration key (flat dotted form, e.g. rest.port)" for k in bad]
    if component:
        # A null only removes a key: it cannot put an unknown key into the file.
        present = {k: v for k, v in overrides.items() if v is not None}
        for message in catalog_errors(_flat_keys(present, nested) + list(keys), component, section, unchecked,
                                      catalog):
            errors.append(f"{variable}: {message}")
    return errors


def settings(layers: Iterable[Mapping[str, Any] | None], overrides: Mapping[str, Any] | None = None,
             component: str = "", section: str = "", reserved: Mapping[str, str] | Iterable[str] | None = None,
             unchecked: Iterable[str] = (), variable: str = "overrides", nested: bool = False,
             catalog: Mapping[str, Any] | None = None, reserved_hint: str = "") -> dict[str, Any]:
    """layers (defaults, wiring, sizes) + overrides, checked; raises with every problem at once."""
    layers = list(layers)
    merged = merge(layers + [overrides], nested=nested)
    own_keys = _flat_keys(merge(layers, nested=nested), nested)
    errors = settings_errors(overrides, component, section, reserved, unchecked, variable, nested,
                             keys=own_keys, catalog=catalog, reserved_hint=reserved_hint)
    if errors:
        raise ConfigError("; ".join(errors))
    return dict(sorted(merged.items()))


# --- rendering ------------------------------------------------------------------------------
def _properties_escape(text: str, key: bool) -> str:
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif char in "=:#!" and (key or index == 0):
            out.append("\\" + char)
        elif char == " " and (key or index == 0):
            out.append("\\ ")
        else:
            out.append(char)
    return "".join(out)


def _env_value(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:,=+@%-]*", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n") + '"'


def render(settings_: Any, fmt: str) -> str:
    """The text of a configuration file in format `fmt` (see FORMATS), sorted where order is
    free, so an unchanged configuration renders byte-identically on every run."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown configuration format '{fmt}' (one of {', '.join(FORMATS)})")
    data = plain(settings_)
    if fmt in ("jvm", "argfile"):
        # jvm: a line may also name a java @argfile (the launcher passes each line to java as is)
        starts = ("-", "@") if fmt == "jvm" else ("-",)
        if not isinstance(data, list) or not all(isinstance(o, str) and o.startswith(starts) for o in data):
            raise ConfigError(f"a JVM options file takes a list of options, each starting with {' or '.join(map(repr, starts))}")
        if fmt == "jvm":  # one option per line, taken verbatim (e.g. Trino's etc/jvm.config)
            if any("\n" in o for o in data):
                raise ConfigError("a JVM option cannot span lines")
            return "".join(f"{option}\n" for option in data)
        # a java @argfile: whitespace separates options, so quote those that contain any
        return "".join(_argfile_word(option) + "\n" for option in data)
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(data, default_flow_style=False, sort_keys=True, width=100000, allow_unicode=True)
    if not isinstance(data, dict):
        raise ConfigError(f"a {fmt} file takes a mapping of settings, got {type(data).__name__}")
    if fmt == "yaml_flat":
        for key, value in data.items():
            if not _FLAT_KEY.fullmatch(key) or isinstance(value, dict):
                raise ConfigError(f"'{key}' is not a flat dotted key with a plain value")
        return yaml.safe_dump(dict(sorted(data.items())), default_flow_style=False, sort_keys=True,
                              width=100000, allow_unicode=True)
    if fmt == "properties":
        return "".join(f"{_properties_escape(k, True)}={_properties_escape(scalar_text(v), False)}\n"
                       for k, v in sorted(data.items()))
    if fmt == "env":
        lines = []
        for key, value in sorted(data.items()):
            if not _ENV_KEY.fullmatch(key):
                raise ConfigError(f"'{key}' is not an environment variable name")
            lines.append(f"{key}={_env_value(scalar_text(value))}\n")
        return "".join(lines)
    if fmt == "xml":
        body = "".join(
            f"  <property>\n    <name>{xml_escape(k)}</name>\n    <value>{xml_escape(scalar_text(v))}</value>\n"
            f"  </property>\n" for k, v in sorted(data.items()))
        # No XML declaration: it would have to come before the managed-file comment, and Hadoop's
        # parser does not need one (UTF-8 is the default).
        return f"<configuration>\n{body}</configuration>\n"
    if fmt == "toml":
        return _toml_table(data, ())
    # ini: section -> key -> value; sections and keys sorted
    parts = []
    for section, values in sorted(data.items()):
        if not isinstance(values, dict):
            raise ConfigError(f"INI section '{section}' must map keys to values")
        parts.append(f"[{section}]\n" + "".join(f"{k} = {scalar_text(v)}\n" for k, v in sorted(values.items())))
    return "\n".join(parts)


def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: the same escapes as JSON
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v, where) for v in value) + "]"
    raise ConfigError(f"TOML key '{where}': {type(value).__name__} values are not supported")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_table(data: Mapping[str, Any], path: tuple[str, ...]) -> str:
    """A TOML document of nested tables: a table's plain keys, then its sub-tables, all sorted."""
    plain_keys = [k for k in sorted(data) if not isinstance(data[k], Mapping)]
    tables = [k for k in sorted(data) if isinstance(data[k], Mapping)]
    out = ""
    if path and (plain_keys or not tables):
        out += "[" + ".".join(_toml_key(p) for p in path) + "]\n"
    out += "".join(f"{_toml_key(k)} = {_toml_value(data[k], '.'.join(path + (k,)))}\n" for k in plain_keys)
    for key in tables:
        sub = _toml_table(data[key], path + (str(key),))
        out += ("\n" if out else "") + sub
    return out


def _argfile_word(option: str) -> str:
    """One option of a java @argfile: quoted (with \\ and \" escaped) when it holds
    whitespace, quotes, a backslash or a comment sign, as the launcher reads them."""
    if not re.search(r"[\s\"'#\\]", option):
        return option
    return '"' + option.replace("\\", "\\\\").replace('"', '\\"') + '"'


def comment_prefix(fmt: str) -> str | None:
    """The line-comment marker of a format (None: the format has no comments)."""
    return {"json": None, "xml": None}.get(fmt, "#") if fmt in FORMATS else "#"


class FilterModule:
    """fdp_settings, fdp_settings_errors, fdp_render, fdp_catalog_errors."""

    def filters(self):
        return {
            "fdp_settings": settings,
            "fdp_settings_errors": settings_errors,
            "fdp_render": render,
            "fdp_catalog_errors": catalog_errors,
            "fdp_merge_layers": merge,
            "fdp_setting_keys": setting_keys,
        }
