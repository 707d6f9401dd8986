"""Preflight validation of the inventory and variables, as Ansible filters.

Every function returns a list of messages, each naming the host or variable, what is wrong and
how to fix it; an empty list means valid. The functions take plain mappings so that they are
unit-tested without Ansible (tests/unit/test_preflight.py); Ansible passes `groups`, `hostvars`
and role argument specs to them from roles/preflight.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

BUILTIN_GROUPS = ("all", "ungrouped")

# Naming conventions that carry a format, so that every role's variables are checked alike.
_SUFFIX_FORMATS = (
    ("_cidrs", "cidr_list"),
    ("_port", "port"),
    ("_dir", "abs_path"),
)
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
_TRUE = {"yes", "on", "1", "true", "y", "t"}
_FALSE = {"no", "off", "0", "false", "n", "f"}


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def inventory_errors(
    groups: Mapping[str, Iterable[str]],
    hostvars: Mapping[str, Mapping[str, Any]],
    known_groups: Iterable[str],
    extra_groups: Iterable[str] = (),
) -> list[str]:
    """Unknown group names, hosts without a usable address, duplicate addresses."""
    errors: list[str] = []
    allowed = set(known_groups) | set(extra_groups) | set(BUILTIN_GROUPS)
    for group in sorted(groups):
        if group not in allowed:
            errors.append(
                f"inventory group '{group}' is not a platform group{_suggest(group, known_groups)}: "
                f"rename it to one of {', '.join(sorted(known_groups))}, "
                f"or list it in platform_extra_groups if it is a group of your own"
            )

    seen: dict[tuple[str, int], str] = {}
    for host in sorted(set(groups.get("all", ())) | set(hostvars)):
        hv = hostvars.get(host, {})
        address = hv.get("ansible_host")
        if address in (None, ""):
            if _is_ip(host) or "." in host:
                address = host
            else:
                errors.append(
                    f"host '{host}' has no address: set ansible_host for it (an IP address or a "
                    f"resolvable FQDN), or name it by its FQDN or IP in the inventory"
                )
                continue
        address = str(address).strip()
        if not (_is_ip(address) or _HOSTNAME_RE.match(address)):
            errors.append(f"host '{host}': ansible_host '{address}' is neither an IP address nor a host name: fix its ansible_host")
            continue
        try:
            port = int(hv.get("ansible_port") or 22)
        except (TypeError, ValueError):
            errors.append(f"host '{host}': ansible_port '{hv.get('ansible_port')}' is not a number: fix its ansible_port")
            continue
        key = (address.lower().rstrip("."), port)
        if key in seen:
            errors.append(
                f"hosts '{seen[key]}' and '{host}' have the same address {address} (port {port}): "
                f"give each inventory host its own ansible_host, or merge them into one host in several groups"
            )
        else:
            seen[key] = host
    return errors


def _coerce_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _type_error(value: Any, wanted: str) -> str | None:
    """None if value fits the argument-spec type `wanted` (as Ansible would accept it)."""
    if wanted in ("raw", None):
        return None
    if wanted in ("str", "path"):
        ok = isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool))
    elif wanted == "int":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip() or "x") is not None
        )
    elif wanted == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if isinstance(value, str):
            try:
                float(value)
                ok = True
            except ValueError:
                ok = False
    elif wanted == "bool":
        ok = _coerce_bool(value) is not None
    elif wanted == "list":
        ok = isinstance(value, list)
    elif wanted == "dict":
        ok = isinstance(value, Mapping)
    else:
        return None
    if ok:
        return None
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"must be of type {wanted}, got {_type_name(value)} {shown}"


def _type_name(value: Any) -> str:
    """Plain type names: Ansible hands over tagged subclasses of the builtin types."""
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"),
                       (Mapping, "dict"), (list, "list")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


# Networks shorter than these prefixes open a port to (most of) the Internet: refused unless the
# site sets platform_allow_public_cidrs (docs/security.md).
MIN_PREFIX = {4: 8, 6: 16}
# Directory variables must not name the root, a system directory or climb out of one: the roles
# create, chown and prune below them.
SYSTEM_DIRS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local",
    "/usr/sbin", "/usr/share", "/var", "/var/backups", "/var/cache", "/var/lib", "/var/log", "/var/tmp",
})


def _cidr_list_error(value: list, allow_public: bool) -> str | None:
    bad, wide = [], []
    for item in value:
        try:
            net = ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            bad.append(str(item))
            continue
        if net.prefixlen < MIN_PREFIX[net.version]:
            wide.append(str(item))
    if bad:
        return f"has entries that are not CIDR networks: {', '.join(bad)} (write e.g. 192.0.2.0/24 or 2001:db8::/32)"
    if wide and not allow_public:
        return (f"opens to (nearly) every address: {', '.join(wide)} (prefixes shorter than /{MIN_PREFIX[4]} "
                f"for IPv4 or /{MIN_PREFIX[6]} for IPv6); list the networks that need access, or set "
                f"platform_allow_public_cidrs: true if this is meant")
    return None


def _dir_error(value: str) -> str | None:
    if not value.startswith("/"):
        return f"must be an absolute path, got '{value}'"
    parts = value.split("/")
    if ".." in parts or "." in parts or "//" in value:
        return f"must be a plain absolute path without '.', '..' or '//', got '{value}'"
    if value.rstrip("/") in SYSTEM_DIRS or value == "/":
        return (f"must not be the root or a system directory ('{value}'): the platform creates, owns and "
                f"prunes what is below it; use a directory of its own, e.g. {value.rstrip('/')}/fdp")
    return None


def _format_error(name: str, value: Any, allow_public: bool = False) -> str | None:
    fmt = next((f for suffix, f in _SUFFIX_FORMATS if name.endswith(suffix)), None)
    if fmt == "cidr_list" and isinstance(value, list):
        return _cidr_list_error(value, allow_public)
    if fmt == "cidr_list" and isinstance(value, Mapping):  # name -> networks (platform_endpoint_cidrs)
        for key, nets in sorted(value.items()):
            problem = _cidr_list_error(nets, allow_public) if isinstance(nets, list) else None
            if problem:
                return f"entry '{key}' {problem}"
    if fmt == "port" and not isinstance(value, bool):
        try:
            port = int(value)
        except (TypeError, ValueError):
            return None  # the type check reports it
        if not 1 <= port <= 65535:
            return f"must be a TCP/UDP port between 1 and 65535, got {port}"
    if fmt == "abs_path" and isinstance(value, str) and value:
        return _dir_error(value)
    if fmt == "abs_path" and isinstance(value, str):
        return f"must be an absolute path, got '{value}'"
    return None


def mirror_errors(mirror: Any, overrides: Any = None, allow_insecure: Any = False) -> list[str]:
    """Artifact sources fetched over plain http:// (the mirror, or a url in the overrides) are
    refused unless the site allows them: a checksum fetched over the same channel proves nothing."""
    if _coerce_bool(allow_insecure):
        return []
    urls = [("platform_artifact_mirror", mirror)] if isinstance(mirror, str) else []
    for name, entry in (overrides or {}).items() if isinstance(overrides, Mapping) else ():
        for key, value in (entry or {}).items() if isinstance(entry, Mapping) else ():
            if isinstance(value, str):
                urls.append((f"platform_artifact_overrides.{name}.{key}", value))
    return [f"variable '{where}' fetches over plain HTTP ({url}): use https:// or a local directory, or set "
            f"platform_allow_insecure_mirror: true for a mirror on a trusted network"
            for where, url in urls if url.lower().startswith("http://")]


def spec_errors(
    values: Mapping[str, Any],
    options: Mapping[str, Mapping[str, Any]],
    where: str,
    source: str = "",
    allow_public: bool = False,
) -> list[str]:
    """Check `values` against role argument-spec `options`: required, type, choices, elements.

    `values` holds only what the user set (inventory, host/group vars): role defaults are
    not in it, so a required option must be set by the user.
    """
    errors: list[str] = []
    origin = f" (declared in {source})" if source else ""
    for name in sorted(options):
        spec = options[name] or {}
        if name not in values:
            if spec.get("required") and "default" not in spec:
                errors.append(
                    f"{where}: required variable '{name}' is not set{origin}: "
                    f"set it in inventories/<env>/group_vars/all.yml; it means: {_describe(spec)}"
                )
            continue
        value = values[name]
        problem = _type_error(value, spec.get("type", "raw"))
        if problem is None and spec.get("choices") is not None and value not in spec["choices"]:
            problem = f"must be one of {', '.join(map(str, spec['choices']))}, got '{value}'"
        if problem is None and spec.get("type") == "list" and spec.get("elements"):
            for index, item in enumerate(value):
                item_problem = _type_error(item, spec["elements"])
                if item_problem:
                    problem = f"item {index} {item_problem}"
                    break
        if problem is None:
            problem = _format_error(name, value, allow_public)
        if problem:
            errors.append(f"{where}: variable '{name}' {problem}{origin}")
    return errors


def _describe(spec: Mapping[str, Any]) -> str:
    text = spec.get("description", "")
    if isinstance(text, list):
        text = " ".join(text)
    return text.strip().rstrip(".") or "no description"


def _materialize(value: Any) -> Any:
    """Template a host variable completely, so that an undefined part fails here (and is
    reported) instead of later, inside the checks."""
    if isinstance(value, Mapping):
        return {key: _materialize(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_materialize(item) for item in value]
    if type(value).__name__.endswith("UndefinedMarker") or type(value).__name__ == "AnsibleUndefined":
        raise ValueError(str(getattr(value, "_undefined_message", "undefined value")))
    return value


def host_var_errors(
    hostvars: Mapping[str, Mapping[str, Any]],
    hosts: Iterable[str],
    specs: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """Check every host's variables against the argument specs of the roles it gets.

    `specs` maps a role name to {"hosts": [...], "options": {...}}; a role applies to the
    hosts listed. The same message for several hosts is reported once, naming all of them.
    """
    merged: dict[str, list[str]] = {}
    for host in sorted(hosts):
        hv = hostvars.get(host, {})
        for role in sorted(specs):
            entry = specs[role]
            if host not in entry.get("hosts", ()):
                continue
            options = entry.get("options") or {}
            values = {}
            for name in options:
                try:
                    if name in hv:
                        values[name] = _materialize(hv[name])
                except Exception as exc:  # a templating error in the user's value
                    merged.setdefault(f"variable '{name}' cannot be evaluated: {exc}", []).append(host)
            allow_public = bool(_coerce_bool(hv.get("platform_allow_public_cidrs", False)))
            for message in spec_errors(values, options, where="{host}", source=f"roles/{role}",
                                       allow_public=allow_public):
                merged.setdefault(message, []).append(host)
    errors = []
    for message, hosts_with in merged.items():
        who = f"host {hosts_with[0]}" if len(hosts_with) == 1 else f"hosts {', '.join(hosts_with)}"
        errors.append(message.replace("{host}", who) if "{host}" in message else f"{who}: {message}")
    return sorted(errors)


def os_errors(
    host: str,
    family: str | None,
    distribution: str | None,
    version: str | None,
    supported: Mapping[str, Iterable[Any]],
) -> list[str]:
    """The host's OS must be one of `supported` (distribution -> major versions)."""
    if family != "Debian" or distribution not in supported:
        return [
            f"host '{host}' runs {distribution or 'an unknown OS'} {version or ''} (family {family}); "
            f"supported: {_supported_text(supported)}. Reinstall the host with a supported OS, "
            f"or remove it from the inventory"
        ]
    wanted = {str(v) for v in supported[distribution]}
    if str(version) not in wanted:
        return [
            f"host '{host}' runs {distribution} {version}, which is not supported; "
            f"supported: {_supported_text(supported)}. Upgrade or reinstall the host"
        ]
    return []


def _supported_text(supported: Mapping[str, Iterable[Any]]) -> str:
    return "; ".join(f"{d} {', '.join(map(str, v))}" for d, v in sorted(supported.items()))


def environment_name_errors(name: Any) -> list[str]:
    if isinstance(name, str) and _NAME_RE.match(name):
        return []
    return [
        f"variable 'platform_environment' must be a short lower-case name (letters, digits, '-'), "
        f"got {name!r}: it names the environment's PKI and credentials directories"
    ]


def _role_hosts(where: Any, groups: Mapping[str, Iterable[str]]) -> list[str]:
    """Members of a group name, a list of groups, or a component entry {groups: [...]}."""
    if isinstance(where, Mapping):
        where = where.get("groups", ())
    names = [where] if isinstance(where, str) else list(where or ())
    hosts: set[str] = set()
    for name in names:
        hosts.update(groups.get(name, ()))
    return sorted(hosts)


def role_specs(
    role_groups: Mapping[str, Any],
    groups: Mapping[str, Iterable[str]],
    roles_dir: str,
) -> dict[str, dict[str, Any]]:
    """{role: {"hosts": members of its group(s), "options": its main argument spec}}. A role maps
    to a group name, a list of groups, or a component entry {groups: [...]}."""
    import os

    import yaml

    specs: dict[str, dict[str, Any]] = {}
    for role, group in sorted(role_groups.items()):
        path = os.path.join(roles_dir, role, "meta", "argument_specs.yml")
        try:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
        except OSError as exc:
            raise ValueError(f"preflight_role_groups names role '{role}' but {path} cannot be read: {exc}") from exc
        entries = data.get("argument_specs") or {}
        # a role's own entry point, or the distribution wiring's (roles/platform: "wiring")
        options = ((entries.get("main") or entries.get("wiring")) or {}).get("options") or {}
        specs[role] = {"hosts": _role_hosts(group, groups), "options": options}
    return specs


class FilterModule:
    """fdp_* preflight filters."""

    def filters(self):
        return {
            "fdp_inventory_errors": inventory_errors,
            "fdp_host_var_errors": host_var_errors,
            "fdp_spec_errors": spec_errors,
            "fdp_role_specs": role_specs,
            "fdp_os_errors": os_errors,
            "fdp_environment_name_errors": environment_name_errors,
            "fdp_mirror_errors": mirror_errors,
        }
