"""Trino: sizing from host facts under the rules upstream documents, the checks of the merged
settings, the JVM options file, and the security documents built from inventory data (the
password file, the file-based access control rules, the resource groups).

Upstream sources, all of Trino 483 (trinodb/trino) and the airlift launcher 318 it ships:

* docs/src/main/sphinx/installation/deployment.md, "JVM config": the recommended jvm.config, and
  "-Xmx ... 70 to 85 percent of the total available memory"; the rest is for the OS, other
  services and the JVM's off-heap memory.
* docs/src/main/sphinx/admin/properties-resource-management.md: query.max-memory-per-node and
  memory.heap-headroom-per-node default to 30 % of the heap each, and "the sum of
  query.max-memory-per-node and memory.heap-headroom-per-node must be less than the maximum heap
  size in the JVM on the node"; query.max-memory (default 20GB) is a query's user memory across
  the cluster; query.max-total-memory (default 2 x query.max-memory) "must be greater than
  query.max-memory".
* docs/src/main/sphinx/admin/properties-task.md and TaskManagerConfig: task.concurrency "must be a
  power of two", default clamp(nextPowerOfTwo(physical CPUs), 2, 32); task.max-writer-count a
  power of two too.
* docs/src/main/sphinx/admin/properties-spilling.md: spiller-spill-path "must be set when spilling
  is enabled" (a comma-separated list of directories).
* docs/src/main/sphinx/security/password-file.md with EncryptionUtil and PasswordStore of the file
  authenticator: one "user:hash" line per user, no comments; bcrypt hashes ($2a$, $2b$, $2x$ or
  $2y$ - the documented one is $2y$) with a cost of at least 8.
* docs/src/main/sphinx/security/file-system-access-control.md and FileBasedSystemAccessControlRules:
  the rule sections catalogs, schemas, tables, system_information, queries; first match wins,
  regular expressions match the whole name.
* docs/src/main/sphinx/admin/resource-groups.md with ResourceGroupSpec and
  AbstractResourceConfigurationManager: rootGroups, selectors, cpuQuotaPeriod and the validation
  the file manager applies at startup.

Pure functions, unit-tested in tests/unit/test_trino_filters.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

try:  # inside Ansible: errors surface as clean task failures
    from ansible.errors import AnsibleFilterError as TrinoError
except ImportError:  # pragma: no cover
    class TrinoError(Exception):  # type: ignore[no-redef]
        """A Trino setting or document is invalid; the message says how to fix it."""

# airlift's DataSize units (binary multiples), as Trino parses "512MB" or "1.5GB".
_UNITS = {"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40, "PB": 1 << 50}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$")
_DURATION = re.compile(r"^\s*\d+(?:\.\d+)?\s*(ns|us|ms|s|m|h|d)\s*$")
# Names that go into Java regular expressions and resource group names unescaped.
_USER = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")
_BCRYPT = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ADMIN = "admin"
VECTOR_MODULE = "--add-modules=jdk.incubator.vector"
# ResourceGroupSpec's JSON properties (the file manager), except name and subGroups.
RESOURCE_GROUP_FIELDS = ("softMemoryLimit", "maxQueued", "softConcurrencyLimit", "hardConcurrencyLimit",
                         "schedulingPolicy", "schedulingWeight", "jmxExport", "softCpuLimit", "hardCpuLimit")
SCHEDULING_POLICIES = ("fair", "weighted", "weighted_fair", "query_priority")
ALL_TABLE_PRIVILEGES = ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"]
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
_NODE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/foss-data-platform/trino/node.id")


# --- values ---------------------------------------------------------------------------------
def parse_data_size(value: Any) -> float:
    """Bytes of an airlift DataSize ("512MB", "1.5GB"; a bare number is bytes)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a data size")
    if isinstance(value, (int, float)):
        return float(value)
    match = _SIZE.match(str(value))
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"{value!r} is not a data size (a number and one of {', '.join(_UNITS)}, e.g. 512MB)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def size_mb(value: Any) -> float:
    return parse_data_size(value) / (1 << 20)


def _bool(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def next_power_of_two(value: int) -> int:
    return 1 if value <= 1 else 1 << (int(value) - 1).bit_length()


def is_power_of_two(value: Any) -> bool:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return False
    return number >= 1 and number & (number - 1) == 0


def node_environment(name: str) -> str:
    """node.environment from the platform environment: Trino accepts [a-z0-9][_a-z0-9]* only
    (deployment.md, "Node properties"), the platform's names may hold '-'."""
    value = re.sub(r"[^a-z0-9_]", "_", str(name).lower())
    if not re.fullmatch(r"[a-z0-9][_a-z0-9]*", value):
        raise TrinoError(f"cannot derive a Trino node.environment from {name!r}")
    return value


def node_id(environment: str, host: str) -> str:
    """A stable node.id per host: a name-based UUID of environment and inventory name, the same on
    every run, reboot and upgrade (deployment.md: "should remain consistent across reboots or
    upgrades"), different for every host of the environment."""
    return str(uuid.uuid5(_NODE_NAMESPACE, f"{environment}/{host}"))


# --- sizing ---------------------------------------------------------------------------------
def sizing(memtotal_mb: int, cores: int, heap_fraction: float = 0.7, heap_limit_mb: int = 0, heap_mb: int = 0,
           query_fraction: float = 0.3, headroom_fraction: float = 0.3,
           cluster: Iterable[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """This host's heap and memory settings from its RAM and cores.

    heap (-Xmx) = heap_mb when set, else RAM * heap_fraction (deployment.md recommends 70-85 %;
    0.7 leaves room for co-located services), capped by heap_limit_mb when > 0.
    query.max-memory-per-node = heap * query_fraction and memory.heap-headroom-per-node =
    heap * headroom_fraction: upstream's defaults (0.3 each) made explicit, and their sum must
    stay below the heap. task.concurrency = clamp(nextPowerOfTwo(cores), 2, 32), upstream's own
    default (TaskManagerConfig) from the cores this host really has.

    `cluster`: the nodes that run tasks (workers, and the coordinator when it schedules work on
    itself), each {memtotal_mb, heap_fraction, heap_limit_mb, heap_mb} (missing = this host's
    values): query.max-memory is then the sum of their query.max-memory-per-node - what a query
    can really get across the cluster (the coordinator reads it).
    """
    memtotal_mb, cores = int(memtotal_mb), int(cores)
    for name, fraction in (("heap_fraction", heap_fraction), ("query_fraction", query_fraction),
                           ("headroom_fraction", headroom_fraction)):
        if not 0 < float(fraction) < 1:
            raise TrinoError(f"{name} must be between 0 and 1, got {fraction}")
    if float(query_fraction) + float(headroom_fraction) >= 1:
        raise TrinoError(f"query_fraction + headroom_fraction ({query_fraction} + {headroom_fraction}) must stay below 1:"
                         " query.max-memory-per-node + memory.heap-headroom-per-node must be less than the heap")
    if memtotal_mb <= 0 or cores <= 0:
        raise TrinoError(f"host facts without memory or cores (memtotal_mb {memtotal_mb}, cores {cores})")
    heap = int(heap_mb) if int(heap_mb or 0) > 0 else int(memtotal_mb * float(heap_fraction))
    if int(heap_limit_mb or 0) > 0 and not int(heap_mb or 0) > 0:
        heap = min(heap, int(heap_limit_mb))
    if heap >= memtotal_mb:
        raise TrinoError(f"a heap of {heap} MB on a host with {memtotal_mb} MB of RAM leaves nothing to the OS and the"
                         " JVM's off-heap memory (deployment.md: allocation of all memory to the JVM is not supported)")
    per_node = int(heap * float(query_fraction))
    headroom = int(heap * float(headroom_fraction))
    config: dict[str, Any] = {
        "query.max-memory-per-node": f"{per_node}MB",
        "memory.heap-headroom-per-node": f"{headroom}MB",
        "task.concurrency": min(max(next_power_of_two(cores), 2), 32),
    }
    if cluster is not None:
        nodes = list(cluster)
        total = 0
        for node in nodes:
            node = node or {}
            sized = sizing(node.get("memtotal_mb") or memtotal_mb, cores,
                           heap_fraction=node.get("heap_fraction", heap_fraction),
                           heap_limit_mb=node.get("heap_limit_mb", heap_limit_mb),
                           heap_mb=node.get("heap_mb", 0) or 0,
                           query_fraction=query_fraction, headroom_fraction=headroom_fraction)
            total += int(size_mb(sized["config"]["query.max-memory-per-node"]))
        if nodes:
            config["query.max-memory"] = f"{total}MB"
    return {"heap_mb": heap, "config": config}


def cluster_nodes(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """{memtotal_mb, heap_fraction, heap_limit_mb, heap_mb} of each host, from its gathered facts and
    its trino_* variables; a host whose facts this run has not gathered reports no memtotal_mb
    (sizing then assumes this host's)."""
    nodes = []
    for host in hosts:
        hv = hostvars.get(host) or {}
        facts = hv.get("ansible_facts") or {}
        node: dict[str, Any] = {}
        if facts.get("memtotal_mb"):
            node["memtotal_mb"] = int(facts["memtotal_mb"])
        for key, name in (("heap_fraction", "trino_heap_fraction"), ("heap_limit_mb", "trino_heap_limit_mb"),
                          ("heap_mb", "trino_heap_mb")):
            if hv.get(name) is not None:
                node[key] = hv.get(name)
        nodes.append(node)
    return nodes


def setting_errors(settings: Mapping[str, Any], heap_mb: int, variable: str = "trino_config_overrides") -> list[str]:
    """Upstream's rules over the merged config.properties (values from overrides included)."""
    errors = []
    heap = float(heap_mb)

    def size(key: str, default: float) -> float | None:
        if key not in settings:
            return default
        try:
            return size_mb(settings[key])
        except ValueError as exc:
            errors.append(f"{variable}: {key}: {exc}")
            return None

    per_node = size("query.max-memory-per-node", heap * 0.3)
    headroom = size("memory.heap-headroom-per-node", heap * 0.3)
    if per_node is not None and headroom is not None and per_node + headroom >= heap:
        errors.append(
            f"query.max-memory-per-node ({per_node:.0f}MB) + memory.heap-headroom-per-node ({headroom:.0f}MB) must be less"
            f" than the heap (-Xmx {heap:.0f}MB; properties-resource-management.md): lower them in {variable} or raise"
            " trino_heap_fraction / trino_heap_mb")
    max_memory = size("query.max-memory", 20 * 1024)
    if max_memory is not None and "query.max-total-memory" in settings:
        total = size("query.max-total-memory", 0)
        if total is not None and total <= max_memory:
            errors.append(f"query.max-total-memory ({settings['query.max-total-memory']}) must be greater than"
                          f" query.max-memory ({max_memory:.0f}MB)")
    for key in ("task.concurrency", "task.max-writer-count"):
        if key in settings and not is_power_of_two(settings[key]):
            errors.append(f"{key} must be a power of two (properties-task.md), got {settings[key]!r}")
    if _bool(settings.get("spill-enabled", False)) and not str(settings.get("spiller-spill-path", "")).strip():
        errors.append("spill-enabled is true but spiller-spill-path is empty (properties-spilling.md)")
    return errors


def check_settings(settings: Mapping[str, Any], heap_mb: int, variable: str = "trino_config_overrides") -> dict:
    """The settings, or an error naming every broken rule."""
    errors = setting_errors(settings, heap_mb, variable)
    if errors:
        raise TrinoError("; ".join(errors))
    return dict(settings)


# --- JVM options ----------------------------------------------------------------------------
def jvm_option_errors(options: Any, variable: str = "trino_jvm_options") -> list[str]:
    """What is wrong with the base JVM options a site gives (the heap is sized by the role)."""
    if not isinstance(options, (list, tuple)) or not all(isinstance(o, str) for o in options):
        return [f"{variable} must be a list of JVM options"]
    errors = []
    for option in options:
        if not option.startswith("-") or "\n" in option:
            errors.append(f"{variable}: {option!r} is not a JVM option (one per entry, starting with '-')")
        elif option.startswith(("-Xmx", "-XX:MaxHeapSize=")):
            errors.append(f"{variable}: {option} sets the heap, which the role sizes: set trino_heap_mb"
                          " (or trino_heap_fraction / trino_heap_limit_mb) instead")
    if VECTOR_MODULE not in options:
        errors.append(f"{variable} lacks {VECTOR_MODULE}: Trino >= 479 requires the Vector API"
                      " (deployment.md lists it in jvm.config)")
    return errors


def jvm_options(options: Iterable[str], heap_mb: int, extra: Iterable[str] = ()) -> list[str]:
    """etc/jvm.config: the base options with -Xmx<heap>M after -server, then `extra` (the metrics
    agent, the truststore argfile ...)."""
    options = [str(o) for o in options]
    errors = jvm_option_errors(options)
    if errors:
        raise TrinoError("; ".join(errors))
    heap = f"-Xmx{int(heap_mb)}M"
    at = options.index("-server") + 1 if "-server" in options else 0
    return options[:at] + [heap] + options[at:] + [str(o) for o in extra]


def heap_mb_of(options: Iterable[str]) -> int:
    """The heap a JVM options list sets (the last -Xmx wins, as in java)."""
    heap = None
    for option in options:
        match = re.fullmatch(r"-Xmx(\d+)([kKmMgG]?)", str(option))
        if match:
            factor = {"": 1 / (1 << 20), "k": 1 / 1024, "m": 1, "g": 1024}[match.group(2).lower()]
            heap = int(int(match.group(1)) * factor)
    if heap is None:
        raise TrinoError("the JVM options set no -Xmx")
    return heap


# --- password file --------------------------------------------------------------------------
def bcrypt_hash(password: str, salt: str, cost: int = 10) -> str:
    """$2y$ bcrypt hash, as password-file.md documents it (EncryptionUtil accepts $2a$, $2b$, $2x$
    and $2y$; cost >= 8). The salt is a random, stored one (fdp_secret bcrypt_salt/trino/<user>):
    the file is stable between runs and changes only with a password."""
    import bcrypt  # the controller only, when hashing

    if not password:
        raise TrinoError("empty Trino password")
    if not 8 <= int(cost) <= 31:
        raise TrinoError(f"bcrypt cost {cost} is outside 8..31 (Trino's file authenticator needs at least 8)")
    salt = str(salt)
    if len(salt) != 22 or salt.strip(_BCRYPT):
        raise TrinoError("a bcrypt salt must be 22 characters of ./A-Za-z0-9")
    # 22 characters carry 132 bits; bcrypt uses 128 and rejects a last character with the unused bits set.
    salt = salt[:21] + _BCRYPT[_BCRYPT.index(salt[21]) & 0x30]
    hashed = bcrypt.hashpw(str(password).encode(), f"$2b${int(cost):02d}${salt}".encode()).decode()
    return "$2y$" + hashed[4:]


def password_file(passwords: Mapping[str, str], salts: Mapping[str, str], cost: int = 10) -> str:
    """etc/password.db: "user:hash" lines, sorted. No header: PasswordStore reads every non-empty
    line as a user (a comment line would be a broken entry)."""
    lines = []
    for user in sorted(passwords):
        if ":" in user or not _USER.match(user):
            raise TrinoError(f"Trino user name {user!r} must match {_USER.pattern}")
        lines.append(f"{user}:{bcrypt_hash(passwords[user], salts[user], cost)}\n")
    return "".join(lines)


# --- tenants: users, access rules, resource groups -------------------------------------------
def _tenant_users(users: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    by_tenant: dict[str, list[str]] = {}
    for user in users or ():
        by_tenant.setdefault(str(user.get("tenant", "")), []).append(str(user["name"]))
    return {tenant: sorted(names) for tenant, names in by_tenant.items()}


def _alternatives(names: Iterable[str]) -> str:
    """A Java regular expression matching exactly these (validated) names."""
    names = sorted(set(names))
    return names[0] if len(names) == 1 else "(" + "|".join(names) + ")"


def _schema_regex(schemas: Iterable[str]) -> str:
    schemas = list(schemas)
    return ".*" if "*" in schemas else _alternatives(schemas)


def tenant_errors(users: Any, tenants: Any, catalogs: Iterable[str] = (), rg_defaults: Any = None) -> list[str]:
    """Everything inconsistent in trino_users and trino_tenants (preflight)."""
    errors: list[str] = []
    if not isinstance(users, list) or not all(isinstance(u, Mapping) for u in users):
        return ["trino_users must be a list of {name, tenant}"]
    if not isinstance(tenants, Mapping) or not all(isinstance(t, Mapping) for t in tenants.values()):
        return ["trino_tenants must map each tenant name to {schemas, read, resource_group}"]
    catalogs = set(catalogs)
    seen: set[str] = set()
    for user in users:
        name, tenant = str(user.get("name", "")), user.get("tenant")
        if not _USER.match(name):
            errors.append(f"trino_users: user {name!r} must match {_USER.pattern}")
        elif name == ADMIN:
            errors.append(f"trino_users: '{ADMIN}' is the platform's administrator (trino_password/{ADMIN}); pick another name")
        elif name in seen:
            errors.append(f"trino_users: user {name!r} is listed twice")
        seen.add(name)
        if tenant not in tenants:
            errors.append(f"trino_users: user {name!r} has tenant {tenant!r}, which is not in trino_tenants"
                          f" ({', '.join(sorted(map(str, tenants))) or 'none'})")
        unknown = sorted(set(user) - {"name", "tenant"})
        if unknown:
            errors.append(f"trino_users: user {name!r} has unknown fields {unknown} (name, tenant)")
    for tenant, spec in tenants.items():
        where = f"trino_tenants.{tenant}"
        if not _IDENT.match(str(tenant)):
            errors.append(f"{where}: a tenant name must match {_IDENT.pattern} (it names a resource group)")
        unknown = sorted(set(spec) - {"schemas", "read", "resource_group"})
        if unknown:
            errors.append(f"{where}: unknown fields {unknown} (schemas, read, resource_group)")
        for field in ("schemas", "read"):
            grants = spec.get(field) or {}
            if not isinstance(grants, Mapping):
                errors.append(f"{where}.{field} must map catalog names to lists of schemas")
                continue
            for catalog, schemas in grants.items():
                if catalog not in catalogs:
                    errors.append(f"{where}.{field}: catalog {catalog!r} is not deployed"
                                  f" (catalogs: {', '.join(sorted(catalogs)) or 'none'})")
                if not isinstance(schemas, list) or not schemas:
                    errors.append(f"{where}.{field}.{catalog} must be a non-empty list of schema names")
                    continue
                for schema in schemas:
                    if not (_SCHEMA.match(str(schema)) or (field == "read" and schema == "*")):
                        errors.append(f"{where}.{field}.{catalog}: schema {schema!r} must match {_SCHEMA.pattern}"
                                      + (" or be '*'" if field == "read" else ""))
        group = dict(rg_defaults or {}, **(spec.get("resource_group") or {}))
        errors += resource_group_errors(group, f"{where}.resource_group")
    owners: dict[tuple[str, str], str] = {}
    for tenant, spec in tenants.items():
        for catalog, schemas in ((spec.get("schemas") or {}) if isinstance(spec.get("schemas"), Mapping) else {}).items():
            for schema in schemas if isinstance(schemas, list) else []:
                other = owners.setdefault((catalog, str(schema)), tenant)
                if other != tenant:
                    errors.append(f"trino_tenants: schema {catalog}.{schema} is owned by both {other} and {tenant}")
    return errors


def resource_group_errors(group: Any, where: str, leaf: bool = True) -> list[str]:
    """ResourceGroupSpec's checks (and the file manager's validateRootGroups) on one group."""
    if not isinstance(group, Mapping):
        return [f"{where} must be a mapping of resource group fields"]
    errors = []
    unknown = sorted(set(group) - set(RESOURCE_GROUP_FIELDS))
    if unknown:
        errors.append(f"{where}: unknown fields {unknown} (resource-groups.md: {', '.join(RESOURCE_GROUP_FIELDS)})")
    for field in ("softMemoryLimit", "maxQueued", "hardConcurrencyLimit"):
        if group.get(field) in (None, ""):
            errors.append(f"{where}: {field} is required")
    memory = str(group.get("softMemoryLimit", ""))
    if memory:
        percent = re.fullmatch(r"(\d{1,3}(?:\.\d+)?)%", memory)
        if percent:
            if float(percent.group(1)) > 100:
                errors.append(f"{where}: softMemoryLimit {memory} is above 100%")
        else:
            try:
                parse_data_size(memory)
            except ValueError:
                errors.append(f"{where}: softMemoryLimit {memory!r} must be a percentage (40%) or a size (4GB)")
    for field in ("maxQueued", "hardConcurrencyLimit", "softConcurrencyLimit", "schedulingWeight"):
        value = group.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            errors.append(f"{where}: {field} must be a non-negative integer, got {value!r}")
    soft, hard = group.get("softConcurrencyLimit"), group.get("hardConcurrencyLimit")
    if isinstance(soft, int) and isinstance(hard, int) and soft > hard:
        errors.append(f"{where}: hardConcurrencyLimit must be greater than or equal to softConcurrencyLimit")
    policy = group.get("schedulingPolicy")
    if policy is not None and str(policy).lower() not in SCHEDULING_POLICIES:
        errors.append(f"{where}: schedulingPolicy {policy!r} is not one of {', '.join(SCHEDULING_POLICIES)}")
    for field in ("softCpuLimit", "hardCpuLimit"):
        if group.get(field) is not None and not _DURATION.match(str(group[field])):
            errors.append(f"{where}: {field} {group[field]!r} must be a duration (e.g. 1h)")
    if group.get("softCpuLimit") is not None and group.get("hardCpuLimit") is None:
        errors.append(f"{where}: softCpuLimit needs hardCpuLimit too")
    return errors


def access_rules(users: Iterable[Mapping[str, Any]], tenants: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """etc/rules.json of the file-based system access control.

    The administrator (user admin) has every catalog, owns every schema, holds every table
    privilege, may read and write system information (graceful shutdown of workers needs write)
    and manages every query. Each tenant's users own the schemas of `schemas` (per catalog: full
    rights, they can create them) and may SELECT in those of `read` ('*' = every schema of the
    catalog). Nothing else matches, so everything else is denied - another tenant's schemas
    included. Trino itself appends an allow rule for the system catalog."""
    by_tenant = _tenant_users(users)
    catalogs: list[dict[str, Any]] = [{"user": ADMIN, "allow": "all"}]
    schemas: list[dict[str, Any]] = [{"user": ADMIN, "owner": True}]
    tables: list[dict[str, Any]] = [{"user": ADMIN, "privileges": list(ALL_TABLE_PRIVILEGES)}]
    for tenant in sorted(tenants):
        members = by_tenant.get(tenant)
        if not members:
            continue
        who = _alternatives(members)
        spec = tenants[tenant]
        owned = spec.get("schemas") or {}
        read = spec.get("read") or {}
        for catalog in sorted(set(owned) | set(read)):
            catalogs.append({"user": who, "catalog": catalog, "allow": "all" if catalog in owned else "read-only"})
        for catalog in sorted(owned):
            schemas.append({"user": who, "catalog": catalog, "schema": _alternatives(owned[catalog]), "owner": True})
            tables.append({"user": who, "catalog": catalog, "schema": _alternatives(owned[catalog]),
                           "privileges": list(ALL_TABLE_PRIVILEGES)})
        for catalog in sorted(read):
            tables.append({"user": who, "catalog": catalog, "schema": _schema_regex(read[catalog]),
                           "privileges": ["SELECT"]})
    return {
        "catalogs": catalogs,
        "schemas": schemas,
        "tables": tables,
        "system_information": [{"user": ADMIN, "allow": ["read", "write"]}],
        "queries": [{"user": ADMIN, "allow": ["execute", "kill", "view"]}, {"allow": ["execute"]}],
    }


def resource_groups(users: Iterable[Mapping[str, Any]], tenants: Mapping[str, Mapping[str, Any]],
                    admin_group: Mapping[str, Any], tenants_group: Mapping[str, Any],
                    tenant_defaults: Mapping[str, Any] | None = None, cpu_quota_period: str = "1h") -> dict[str, Any]:
    """etc/resource-groups.json of the file resource group manager: a root group "admin" for the
    administrator, a root group "tenants" (weighted fair between its sub-groups) with one
    sub-group per tenant - its quota from the tenant's resource_group over the defaults - and a
    selector per tenant for its users. A user no selector matches cannot run queries."""
    by_tenant = _tenant_users(users)
    root = [dict(admin_group, name="admin")]
    subgroups = []
    selectors: list[dict[str, Any]] = [{"user": ADMIN, "group": "admin"}]
    for tenant in sorted(tenants):
        group = dict(tenant_defaults or {}, **(tenants[tenant].get("resource_group") or {}))
        group.setdefault("schedulingWeight", 1)  # weighted_fair: every sub-group or none has a weight
        subgroups.append(dict(group, name=tenant))
        if by_tenant.get(tenant):
            selectors.append({"user": _alternatives(by_tenant[tenant]), "group": f"tenants.{tenant}"})
    if subgroups:
        root.append(dict(tenants_group, name="tenants", schedulingPolicy="weighted_fair", subGroups=subgroups))
    document: dict[str, Any] = {"rootGroups": root, "selectors": selectors}
    groups = root + subgroups
    if any(g.get("softCpuLimit") or g.get("hardCpuLimit") for g in groups):
        document["cpuQuotaPeriod"] = cpu_quota_period
    errors = resource_groups_errors(document)
    if errors:
        raise TrinoError("; ".join(errors))
    return document


def resource_groups_errors(document: Mapping[str, Any]) -> list[str]:
    """The file manager's startup checks on a whole document: every group valid, sub-group names
    unique, CPU limits only with cpuQuotaPeriod, every selector naming an existing group."""
    errors = []
    names: dict[str, Mapping[str, Any]] = {}

    def walk(groups: Iterable[Mapping[str, Any]], prefix: str) -> None:
        seen: set[str] = set()
        for group in groups:
            name = str(group.get("name", ""))
            path = f"{prefix}{name}"
            if name in seen:
                errors.append(f"resource group {path} is defined twice")
            seen.add(name)
            fields = {k: v for k, v in group.items() if k not in ("name", "subGroups")}
            errors.extend(resource_group_errors(fields, f"resource group {path}"))
            if (group.get("softCpuLimit") or group.get("hardCpuLimit")) and not document.get("cpuQuotaPeriod"):
                errors.append(f"resource group {path}: CPU limits need cpuQuotaPeriod")
            subs = group.get("subGroups") or []
            weights = [s.get("schedulingWeight") is not None for s in subs]
            if str(group.get("schedulingPolicy", "")).lower() in ("weighted", "weighted_fair") and any(weights) \
                    and not all(weights):
                errors.append(f"resource group {path}: give every sub-group a schedulingWeight or none")
            names[path] = group
            walk(subs, f"{path}.")

    walk(document.get("rootGroups") or [], "")
    for selector in document.get("selectors") or []:
        if selector.get("group") not in names:
            errors.append(f"selector {selector} refers to a resource group that does not exist")
    return errors


def catalog_names(iceberg: bool, tpch: bool, extra: Mapping[str, Any] | None = None) -> list[str]:
    return sorted((["iceberg"] if iceberg else []) + (["tpch"] if tpch else []) + list((extra or {}).keys()))


def log_level_errors(levels: Any) -> list[str]:
    if not isinstance(levels, Mapping):
        return ["trino_log_levels must map logger names to levels"]
    return [f"trino_log_levels: {logger}: {level!r} is not one of {', '.join(LOG_LEVELS)} (deployment.md, Log levels)"
            for logger, level in levels.items() if str(level) not in LOG_LEVELS]


class FilterModule:
    """fdp_trino_* filters."""

    def filters(self):
        return {
            "fdp_trino_sizing": sizing,
            "fdp_trino_cluster_nodes": cluster_nodes,
            "fdp_trino_check": check_settings,
            "fdp_trino_setting_errors": setting_errors,
            "fdp_trino_jvm_options": jvm_options,
            "fdp_trino_jvm_option_errors": jvm_option_errors,
            "fdp_trino_password_file": password_file,
            "fdp_trino_access_rules": access_rules,
            "fdp_trino_resource_groups": resource_groups,
            "fdp_trino_tenant_errors": tenant_errors,
            "fdp_trino_resource_group_errors": resource_group_errors,
            "fdp_trino_catalog_names": catalog_names,
            "fdp_trino_log_level_errors": log_level_errors,
            "fdp_trino_node_environment": node_environment,
            "fdp_trino_node_id": node_id,
        }
