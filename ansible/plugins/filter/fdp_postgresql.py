"""Filters of the PostgreSQL role (roles/postgresql): the server's memory settings from host facts,
postgresql.conf in PostgreSQL's own syntax split by what a reload can apply, and pg_hba.conf from
the databases' consumers.

Pure functions, unit-tested in tests/unit/test_postgresql_filters.py.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

try:  # inside Ansible: errors surface as clean task failures
    from ansible.errors import AnsibleFilterError as PostgresqlError
except ImportError:  # pragma: no cover
    class PostgresqlError(Exception):  # type: ignore[no-redef]
        """A PostgreSQL setting or access rule is wrong."""

# Unquoted in postgresql.conf: numbers (with an optional unit) and plain identifiers; anything
# else is a quoted string (guc-file.l: an unquoted value must start with a letter or digit).
_BARE = re.compile(r"-?[0-9]+(\.[0-9]+)?([a-zA-Z]{1,3})?|[A-Za-z_][A-Za-z0-9_]*")
_KEY = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?")
_HBA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$-]*")
HBA_METHODS = ("scram-sha-256", "peer", "reject")
CATALOG = Path(__file__).resolve().parents[2] / "catalogs" / "postgresql.json"


def sizing(memtotal_mb: int, vcpus: int = 1, limit_mb: int = 0, fraction: float = 0.5,
           max_connections: int = 100) -> dict[str, Any]:
    """Memory settings of a dedicated database host: PostgreSQL may use `fraction` of the RAM
    (or `limit_mb` when > 0, e.g. on a shared host). Of that: shared_buffers a quarter (at least
    128MB, at most 8GB: beyond it the OS page cache serves better), effective_cache_size three
    quarters (what the planner may assume is cached), maintenance_work_mem a sixteenth (64MB to
    1GB), work_mem what is left for sorts per connection (4MB to 64MB), and parallel workers by
    the cores."""
    memtotal_mb, vcpus, max_connections = int(memtotal_mb), max(int(vcpus), 1), int(max_connections)
    budget = int(limit_mb) if int(limit_mb) > 0 else int(memtotal_mb * float(fraction))
    if budget < 256:
        raise PostgresqlError(f"PostgreSQL needs at least 256 MB; this host offers {budget} MB "
                              f"(RAM {memtotal_mb} MB, postgresql_memory_fraction {fraction}, "
                              f"postgresql_memory_limit_mb {limit_mb})")
    if max_connections < 10:
        raise PostgresqlError("postgresql_max_connections must be at least 10")
    shared = min(max(budget // 4, 128), 8192)
    maintenance = min(max(budget // 16, 64), 1024)
    work = min(max((budget - shared - maintenance) // (max_connections * 2), 4), 64)
    return {
        "max_connections": max_connections,
        "shared_buffers": f"{shared}MB",
        "effective_cache_size": f"{max(budget * 3 // 4, shared)}MB",
        "maintenance_work_mem": f"{maintenance}MB",
        "work_mem": f"{work}MB",
        "max_worker_processes": max(vcpus, 8),
        "max_parallel_workers": vcpus,
        "max_parallel_workers_per_gather": max(min(vcpus // 2, 4), 1),
    }


def conf_value(value: Any) -> str:
    """A value as postgresql.conf reads it: booleans on/off, numbers and identifiers bare,
    everything else single-quoted with quotes doubled."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    if value is None:
        raise PostgresqlError("a postgresql.conf value cannot be null (a null override removes the key)")
    text = str(value)
    if _BARE.fullmatch(text):
        return text
    if "\n" in text:
        raise PostgresqlError(f"a postgresql.conf value cannot span lines: {text!r}")
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def render_conf(settings: Mapping[str, Any]) -> str:
    """key = value lines, sorted."""
    lines = []
    for key, value in sorted(settings.items()):
        if not _KEY.fullmatch(str(key)):
            raise PostgresqlError(f"'{key}' is not a PostgreSQL parameter name")
        lines.append(f"{key} = {conf_value(value)}\n")
    return "".join(lines)


def split_conf(settings: Mapping[str, Any], restart_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{'restart': ..., 'reload': ...}: the settings only a server restart applies (context
    postmaster, from the key catalog) and those a reload re-reads."""
    restart = set(restart_keys)
    return {"restart": {k: v for k, v in settings.items() if k in restart},
            "reload": {k: v for k, v in settings.items() if k not in restart}}


def restart_keys(major: str | int, catalog: Mapping[str, Any] | None = None) -> list[str]:
    """The parameters of a major version that only a server start reads (context postmaster),
    from the key catalog (ansible/catalogs/postgresql.json)."""
    catalog = catalog if catalog is not None else json.loads(CATALOG.read_text(encoding="utf-8"))
    section = catalog["sections"].get(str(major))
    if section is None:
        raise PostgresqlError(f"PostgreSQL {major} is not in the key catalog (it has {', '.join(catalog['sections'])}); "
                              "regenerate it with scripts/key-catalog postgresql")
    return list(section["restart"])


def _networks(addresses: Iterable[str]) -> list[str]:
    nets = []
    for address in addresses:
        try:
            nets.append(str(ipaddress.ip_network(str(address), strict=False)))
        except ValueError:
            raise PostgresqlError(f"'{address}' is not an IP address or network (pg_hba.conf needs addresses)") from None
    return sorted(set(nets), key=lambda n: (ipaddress.ip_network(n).version, ipaddress.ip_network(n)))


def hba_rules(databases: Iterable[Mapping[str, Any]], groups: Mapping[str, Iterable[str]],
              hostvars: Mapping[str, Mapping[str, Any]], admin_cidrs: Iterable[str] = (),
              local_users: Mapping[str, str] | None = None, admin_user: str = "postgres") -> list[dict[str, Any]]:
    """pg_hba.conf as data, first match wins:
    - local (Unix socket) peer logins: each of local_users (database role -> pg_ident map or '');
    - hostssl + scram-sha-256 for each database's owner from the addresses of the hosts of its
      `groups` (e.g. hive_metastore);
    - hostssl + scram-sha-256 for admin_user from admin_cidrs;
    - everything else rejected, with or without TLS (an explicit last line, so the log names it)."""
    rules: list[dict[str, Any]] = []
    for user, ident_map in sorted((local_users or {}).items()):
        rules.append({"type": "local", "database": "all", "user": user, "address": "", "method": "peer",
                      "options": f"map={ident_map}" if ident_map else "",
                      "comment": f"{user} over the Unix socket, as the OS user(s) of pg_ident map {ident_map}"
                      if ident_map else f"{user} over the Unix socket, as the OS user of the same name"})
    for db in databases:
        for key in ("name", "owner"):
            if not _HBA_NAME.fullmatch(str(db.get(key, ""))):
                raise PostgresqlError(f"postgresql_databases: {key} {db.get(key)!r} is not a plain name")
        hosts: list[str] = []
        for group in db.get("groups", []):
            hosts += [h for h in groups.get(group, []) if h not in hosts]
        addresses = [str(hostvars.get(h, {}).get("ansible_host") or h) for h in hosts]
        for net in _networks(addresses):
            rules.append({"type": "hostssl", "database": db["name"], "user": db["owner"], "address": net,
                          "method": "scram-sha-256", "options": "",
                          "comment": f"{db['owner']} to {db['name']} from {', '.join(db.get('groups', []))}"})
    for net in _networks(admin_cidrs):
        rules.append({"type": "hostssl", "database": "all", "user": admin_user, "address": net,
                      "method": "scram-sha-256", "options": "", "comment": "administrators (platform_admin_cidrs)"})
    for family in ("0.0.0.0/0", "::/0"):
        rules.append({"type": "host", "database": "all", "user": "all", "address": family, "method": "reject",
                      "options": "", "comment": "anything else, TLS or not"})
    return rules


def render_hba(rules: Iterable[Mapping[str, Any]]) -> str:
    lines = []
    for rule in rules:
        if rule["method"] not in HBA_METHODS:
            raise PostgresqlError(f"pg_hba.conf method {rule['method']} is not one the platform uses")
        lines.append(f"# {rule['comment']}\n" if rule.get("comment") else "")
        fields = [rule["type"], rule["database"], rule["user"]] + ([rule["address"]] if rule["address"] else [])
        fields += [rule["method"]] + ([rule["options"]] if rule.get("options") else [])
        lines.append(" ".join(fields) + "\n")
    return "".join(lines)


def render_ident(maps: Mapping[str, Iterable[str]], role: str = "postgres") -> str:
    """pg_ident.conf: map -> the OS users that may log in as `role`."""
    return "".join(f"{name} {user} {role}\n" for name, users in sorted(maps.items()) for user in users)


class FilterModule:
    """fdp_postgresql_* filters."""

    def filters(self):
        return {
            "fdp_postgresql_sizing": sizing,
            "fdp_postgresql_conf": render_conf,
            "fdp_postgresql_split": split_conf,
            "fdp_postgresql_restart_keys": restart_keys,
            "fdp_postgresql_hba_rules": hba_rules,
            "fdp_postgresql_hba": render_hba,
            "fdp_postgresql_ident": render_ident,
        }
