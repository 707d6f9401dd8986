"""Upstream's structure of the Trino documents the role writes, as the tests check them.

The field names and values are those of Trino 483's readers:
* rules.json: FileBasedSystemAccessControlRules and its rule classes (CatalogAccessControlRule,
  CatalogSchemaAccessControlRule, CatalogTableAccessControlRule, SystemInformationRule,
  QueryAccessRule), as docs/src/main/sphinx/security/file-system-access-control.md lists them;
* resource-groups.json: ManagerSpec, ResourceGroupSpec and SelectorSpec of the file resource group
  manager (docs/src/main/sphinx/admin/resource-groups.md) with the checks ResourceGroupSpec and
  AbstractResourceConfigurationManager apply at startup;
* password.db: PasswordStore and EncryptionUtil of the file authenticator;
* jvm.config: how the airlift launcher reads it (a properties line reader: blank lines and lines
  starting with '#' or '!' skipped, leading blanks dropped).

Plus a small evaluator of the access rules (first matching rule, regular expressions matching
whole names), to test who may do what.
"""

from __future__ import annotations

import re
from typing import Any

RULES_SECTIONS = {"catalogs", "queries", "impersonation", "principals", "system_information", "schemas", "tables",
                  "system_session_properties", "catalog_session_properties", "functions", "procedures",
                  "authorization"}
RULE_FIELDS = {
    "catalogs": {"user", "role", "group", "catalog", "allow"},
    "schemas": {"user", "role", "group", "catalog", "schema", "owner"},
    "tables": {"user", "role", "group", "catalog", "schema", "table", "privileges", "columns", "filter",
               "filter_environment"},
    "system_information": {"user", "role", "allow"},
    "queries": {"user", "role", "group", "queryOwner", "allow"},
}
TABLE_PRIVILEGES = {"SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"}
GROUP_FIELDS = {"name", "softMemoryLimit", "maxQueued", "softConcurrencyLimit", "hardConcurrencyLimit", "maxRunning",
                "schedulingPolicy", "schedulingWeight", "subGroups", "jmxExport", "softCpuLimit", "hardCpuLimit"}
SELECTOR_FIELDS = {"user", "userGroup", "originalUser", "authenticatedUser", "source", "queryType", "clientTags",
                   "selectorResourceEstimate", "group"}
MANAGER_FIELDS = {"rootGroups", "selectors", "cpuQuotaPeriod"}


def rules_problems(rules: dict[str, Any]) -> list[str]:
    problems = [f"unknown section {s}" for s in set(rules) - RULES_SECTIONS]
    for section, fields in RULE_FIELDS.items():
        for rule in rules.get(section, []):
            problems += [f"{section}: unknown field {f}" for f in set(rule) - fields]
            for key in ("user", "role", "group", "catalog", "schema", "table", "queryOwner"):
                if key in rule:
                    re.compile(rule[key])
            if section == "catalogs" and rule.get("allow") not in ("all", "read-only", "none", True, False):
                problems.append(f"catalogs: allow {rule.get('allow')!r}")
            if section == "schemas" and not isinstance(rule.get("owner"), bool):
                problems.append("schemas: owner must be a boolean")
            if section == "tables" and not set(rule.get("privileges", [None])) <= TABLE_PRIVILEGES:
                problems.append(f"tables: privileges {rule.get('privileges')}")
            if section == "system_information" and not set(rule.get("allow", [None])) <= {"read", "write"}:
                problems.append(f"system_information: allow {rule.get('allow')}")
            if section == "queries" and not set(rule.get("allow", [None])) <= {"execute", "kill", "view"}:
                problems.append(f"queries: allow {rule.get('allow')}")
    return problems


def _matches(rule: dict[str, Any], **names: str) -> bool:
    return all(re.fullmatch(rule.get(key, ".*"), value) for key, value in names.items())


def catalog_access(rules: dict, user: str, catalog: str) -> str:
    """all | read-only | none: the first matching catalog rule; Trino appends an allow-all rule
    for the system catalog."""
    for rule in rules.get("catalogs", []) + [{"catalog": "system", "allow": "all"}]:
        if _matches(rule, user=user, catalog=catalog):
            return {True: "all", False: "none"}.get(rule["allow"], rule["allow"])
    return "none"


def schema_owner(rules: dict, user: str, catalog: str, schema: str) -> bool:
    for rule in rules.get("schemas", []):
        if _matches(rule, user=user, catalog=catalog, schema=schema):
            return bool(rule["owner"])
    return False


def table_privileges(rules: dict, user: str, catalog: str, schema: str, table: str) -> set[str]:
    if catalog_access(rules, user, catalog) == "none":
        return set()
    for rule in rules.get("tables", []):
        if _matches(rule, user=user, catalog=catalog, schema=schema, table=table):
            privileges = set(rule["privileges"])
            if catalog_access(rules, user, catalog) == "read-only":
                privileges &= {"SELECT"}
            return privileges
    return set()


def system_information(rules: dict, user: str) -> set[str]:
    for rule in rules.get("system_information", []):
        if _matches(rule, user=user):
            return set(rule["allow"])
    return set()


def resource_groups_problems(document: dict[str, Any]) -> list[str]:
    problems = [f"unknown field {f}" for f in set(document) - MANAGER_FIELDS]
    paths: set[str] = set()

    def walk(groups: list[dict], prefix: str) -> None:
        names = [g["name"] for g in groups]
        if len(names) != len(set(names)):
            problems.append(f"duplicated sub group under {prefix or 'root'}")
        for group in groups:
            path = prefix + group["name"]
            paths.add(path)
            problems.extend(f"{path}: unknown field {f}" for f in set(group) - GROUP_FIELDS)
            for required in ("softMemoryLimit", "maxQueued", "hardConcurrencyLimit"):
                if required not in group:
                    problems.append(f"{path}: missing {required}")
            if not re.fullmatch(r"\d{1,3}(\.\d+)?%|\d+(\.\d+)?(B|kB|MB|GB|TB|PB)", str(group.get("softMemoryLimit"))):
                problems.append(f"{path}: softMemoryLimit {group.get('softMemoryLimit')}")
            if group.get("softConcurrencyLimit", 0) > group.get("hardConcurrencyLimit", 0):
                problems.append(f"{path}: soft above hard concurrency")
            if (group.get("softCpuLimit") or group.get("hardCpuLimit")) and "cpuQuotaPeriod" not in document:
                problems.append(f"{path}: CPU limits without cpuQuotaPeriod")
            subs = group.get("subGroups", [])
            weights = {("schedulingWeight" in s) for s in subs}
            policy = group.get("schedulingPolicy", "fair")
            if policy in ("weighted", "weighted_fair") and len(weights) > 1:
                problems.append(f"{path}: scheduling weights on some sub-groups only")
            if policy in ("fair", "query_priority") and True in weights:
                problems.append(f"{path}: scheduling weights need a weighted policy")
            walk(subs, path + ".")

    walk(document.get("rootGroups", []), "")
    for selector in document.get("selectors", []):
        problems.extend(f"selector: unknown field {f}" for f in set(selector) - SELECTOR_FIELDS)
        if selector.get("group") not in paths:
            problems.append(f"selector to a nonexistent group {selector.get('group')}")
    return problems


def selected_group(document: dict, user: str) -> str | None:
    for selector in document.get("selectors", []):
        if re.fullmatch(selector.get("user", ".*"), user):
            return selector["group"]
    return None


def password_entries(text: str) -> dict[str, str]:
    """PasswordStore.loadPasswordFile: every non-empty (trimmed) line is user:hash."""
    entries = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        user, sep, hashed = line.partition(":")
        assert sep, f"line {number}: expected two parts for user and password"
        assert user not in entries, f"line {number}: duplicate user {user}"
        entries[user] = hashed
    return entries


def launcher_lines(text: str) -> list[str]:
    """The lines of a launcher config file as the airlift launcher reads jvm.config."""
    lines = []
    for raw in text.splitlines():
        line = raw.lstrip(" \t\f")
        if not line or line[0] in "#!":
            continue
        lines.append(line)
    return lines


def java_properties(text: str) -> dict[str, str]:
    """key=value lines of a Java properties file as rendered (no continuations are written)."""
    entries = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, _, value = line.partition("=")
        entries[key.replace("\\:", ":").replace("\\=", "=")] = value.replace("\\\\", "\\")
    return entries
