"""Trino filters: sizing under upstream's memory rules, the checks of merged settings, the JVM
options, the bcrypt password file (verified with the bcrypt library), and the access rules and
resource groups built from tenants (validated against upstream's JSON structure and evaluated)."""

from __future__ import annotations

import bcrypt
import pytest

from fdp_trino import (
    TrinoError,
    access_rules,
    bcrypt_hash,
    check_settings,
    cluster_nodes,
    heap_mb_of,
    jvm_option_errors,
    jvm_options,
    log_level_errors,
    next_power_of_two,
    node_environment,
    node_id,
    parse_data_size,
    password_file,
    resource_group_errors,
    resource_groups,
    resource_groups_errors,
    setting_errors,
    sizing,
    tenant_errors,
)
from trino_schema import (
    catalog_access,
    password_entries,
    resource_groups_problems,
    rules_problems,
    schema_owner,
    selected_group,
    system_information,
    table_privileges,
)

UPSTREAM_JVM = ["-server", "-XX:InitialRAMPercentage=80", "-XX:MaxRAMPercentage=80", "-XX:G1HeapRegionSize=32M",
                "-XX:+ExplicitGCInvokesConcurrent", "-XX:+ExitOnOutOfMemoryError", "-XX:+HeapDumpOnOutOfMemoryError",
                "-XX:-OmitStackTraceInFastThrow", "-XX:ReservedCodeCacheSize=512M",
                "-XX:PerMethodRecompilationCutoff=10000", "-XX:PerBytecodeRecompilationCutoff=10000",
                "-Djdk.attach.allowAttachSelf=true", "-Djdk.nio.maxCachedBufferSize=2000000",
                "--add-modules=jdk.incubator.vector"]
USERS = [{"name": "alice", "tenant": "sales"}, {"name": "ann", "tenant": "sales"}, {"name": "bob", "tenant": "ops"}]
TENANTS = {
    "sales": {"schemas": {"iceberg": ["sales", "sales_stage"]}, "read": {"tpch": ["tiny"]},
              "resource_group": {"hardConcurrencyLimit": 4}},
    "ops": {"schemas": {"iceberg": ["ops"]}, "read": {"tpch": ["*"]}},
}
RG_DEFAULT = {"softMemoryLimit": "40%", "hardConcurrencyLimit": 10, "maxQueued": 100, "schedulingWeight": 1}
ADMIN_RG = {"softMemoryLimit": "100%", "hardConcurrencyLimit": 20, "maxQueued": 100}
TENANTS_RG = {"softMemoryLimit": "100%", "hardConcurrencyLimit": 100, "maxQueued": 1000}


# --- sizing ---------------------------------------------------------------------------------
def test_data_sizes_parse_like_airlift():
    assert parse_data_size("512MB") == 512 * 1024 * 1024
    assert parse_data_size("1.5GB") == 1.5 * 1024 ** 3
    assert parse_data_size("100kB") == 102400
    for bad in ("1gb", "12 parsecs", "", True):
        with pytest.raises(ValueError):
            parse_data_size(bad)


def test_heap_is_seventy_percent_of_ram_and_the_query_shares_are_upstreams_defaults():
    sized = sizing(64 * 1024, 16)
    assert sized["heap_mb"] == int(64 * 1024 * 0.7) == 45875
    assert sized["config"] == {"query.max-memory-per-node": f"{int(45875 * 0.3)}MB",
                               "memory.heap-headroom-per-node": f"{int(45875 * 0.3)}MB", "task.concurrency": 16}


def test_heap_limit_caps_and_an_explicit_heap_wins():
    assert sizing(24000, 2, heap_limit_mb=2048)["heap_mb"] == 2048
    assert sizing(2000, 2, heap_limit_mb=2048)["heap_mb"] == 1400
    assert sizing(24000, 2, heap_limit_mb=2048, heap_mb=4096)["heap_mb"] == 4096


@pytest.mark.parametrize(("cores", "concurrency"), [(1, 2), (2, 2), (3, 4), (6, 8), (16, 16), (24, 32), (96, 32)])
def test_task_concurrency_is_upstreams_clamped_power_of_two(cores, concurrency):
    # TaskManagerConfig: clamp(nextPowerOfTwo(physical processors), 2, 32)
    assert sizing(8192, cores)["config"]["task.concurrency"] == concurrency
    assert next_power_of_two(concurrency) == concurrency


def test_query_max_memory_is_the_sum_over_the_nodes_that_run_tasks():
    sized = sizing(8192, 4, heap_limit_mb=4096, cluster=[{"memtotal_mb": 8192}, {"memtotal_mb": 16384, "heap_limit_mb": 0},
                                                         {}])
    # 4096 * 0.3 = 1228 twice (the third node uses this host's facts), 16384 * 0.7 = 11468 -> 3440
    assert sized["config"]["query.max-memory"] == f"{1228 + 3440 + 1228}MB"
    assert "query.max-memory" not in sizing(8192, 4)["config"]


def test_cluster_nodes_read_facts_and_the_nodes_own_variables():
    hostvars = {"w1": {"ansible_facts": {"memtotal_mb": 4000}, "trino_heap_limit_mb": 1000},
                "w2": {"ansible_facts": {}}}
    assert cluster_nodes(["w1", "w2"], hostvars) == [{"memtotal_mb": 4000, "heap_limit_mb": 1000}, {}]


@pytest.mark.parametrize("kwargs, message", [
    ({"heap_fraction": 1.2}, "heap_fraction"),
    ({"query_fraction": 0.6, "headroom_fraction": 0.4}, "must stay below 1"),
    ({"heap_mb": 9000}, "leaves nothing to the OS"),
])
def test_sizing_refuses_what_upstream_does_not_support(kwargs, message):
    with pytest.raises(TrinoError, match=message):
        sizing(8192, 4, **kwargs)


def test_sizes_satisfy_upstreams_rule_for_any_host():
    for ram in (1024, 3000, 8192, 65536, 515000):
        sized = sizing(ram, 8)
        assert setting_errors(sized["config"], sized["heap_mb"]) == []


def test_overrides_win_but_the_rules_are_checked():
    heap = 2048
    assert check_settings({"query.max-memory-per-node": "1GB", "memory.heap-headroom-per-node": "512MB"}, heap)
    with pytest.raises(TrinoError, match="must be less than the heap"):
        check_settings({"query.max-memory-per-node": "1500MB", "memory.heap-headroom-per-node": "614MB"}, heap)
    # an absent key counts with upstream's default (30 % of the heap)
    with pytest.raises(TrinoError, match="must be less than the heap"):
        check_settings({"query.max-memory-per-node": "1.5GB"}, heap)
    errors = setting_errors({"task.concurrency": 12, "task.max-writer-count": 3, "spill-enabled": True,
                             "query.max-memory": "4GB", "query.max-total-memory": "4GB"}, 8192)
    assert len(errors) == 4
    assert any("task.concurrency must be a power of two" in e for e in errors)
    assert any("spiller-spill-path" in e for e in errors)
    assert any("query.max-total-memory" in e for e in errors)
    assert setting_errors({"query.max-memory-per-node": "lots"}, 1024) == [
        "trino_config_overrides: query.max-memory-per-node: 'lots' is not a data size (a number and one of B, kB,"
        " MB, GB, TB, PB, e.g. 512MB)"]


# --- node identity --------------------------------------------------------------------------
def test_node_environment_is_the_platform_environment_in_trinos_alphabet():
    assert node_environment("prod") == "prod"
    assert node_environment("molecule-platform") == "molecule_platform"


def test_node_id_is_stable_unique_and_valid():
    first = node_id("prod", "query1")
    assert first == node_id("prod", "query1")
    assert len({first, node_id("prod", "query2"), node_id("test", "query1")}) == 3
    import re
    assert re.fullmatch(r"[A-Za-z0-9][_\-A-Za-z0-9]*", first)


# --- JVM options ----------------------------------------------------------------------------
def test_jvm_options_get_the_heap_after_server_and_the_extras_last():
    options = jvm_options(UPSTREAM_JVM, 2048, ["-Djava.io.tmpdir=/t", "@/etc/x.args"])
    assert options[:2] == ["-server", "-Xmx2048M"] and options[-2:] == ["-Djava.io.tmpdir=/t", "@/etc/x.args"]
    assert heap_mb_of(options) == 2048
    assert heap_mb_of(["-Xmx1g", "-Xmx3G"]) == 3072


def test_jvm_options_refuse_a_heap_and_need_the_vector_api():
    errors = jvm_option_errors(["-server", "-Xmx4G"])
    assert any("trino_heap_mb" in e for e in errors)
    assert any("jdk.incubator.vector" in e and "479" in e for e in errors)
    assert jvm_option_errors(UPSTREAM_JVM) == []
    assert jvm_option_errors(["server"] + UPSTREAM_JVM)[0].endswith("(one per entry, starting with '-')")
    with pytest.raises(TrinoError):
        jvm_options(["-server"], 1024)


# --- password file --------------------------------------------------------------------------
SALTS = {"admin": "abcdefghijklmnopqrstuv", "alice": "ABCDEFGHIJKLMNOPQRSTUV", "bob": "0123456789./abcdefghij"}
PASSWORDS = {"admin": "s3cret-admin-password", "alice": "alice-password-123", "bob": "bob-password-456789"}


def test_password_file_verifies_with_bcrypt_and_reads_like_trinos_password_store():
    text = password_file(PASSWORDS, SALTS)
    entries = password_entries(text)
    assert list(entries) == ["admin", "alice", "bob"]
    for user, hashed in entries.items():
        assert hashed.startswith("$2y$10$")  # password-file.md: $2y$, cost >= 8
        assert bcrypt.checkpw(PASSWORDS[user].encode(), hashed.encode())
        assert not bcrypt.checkpw(b"wrong", hashed.encode())
    assert "#" not in text and not text.startswith("\n")


def test_password_file_is_stable_and_follows_each_password():
    assert password_file(PASSWORDS, SALTS) == password_file(PASSWORDS, SALTS)
    changed = password_entries(password_file(dict(PASSWORDS, bob="another-password-1"), SALTS))
    before = password_entries(password_file(PASSWORDS, SALTS))
    assert changed["admin"] == before["admin"] and changed["bob"] != before["bob"]


def test_password_file_refuses_bad_names_costs_and_salts():
    with pytest.raises(TrinoError, match="user name"):
        password_file({"a:b": "password-long-enough"}, {"a:b": SALTS["admin"]})
    with pytest.raises(TrinoError, match="at least 8"):
        bcrypt_hash("password", SALTS["admin"], cost=6)
    with pytest.raises(TrinoError, match="22 characters"):
        bcrypt_hash("password", "short")


# --- access rules ---------------------------------------------------------------------------
def test_rules_have_upstreams_structure():
    rules = access_rules(USERS, TENANTS)
    assert rules_problems(rules) == []
    assert rules["catalogs"][0] == {"user": "admin", "allow": "all"}


def test_rules_give_tenants_their_schemas_and_nothing_of_the_others():
    rules = access_rules(USERS, TENANTS)
    assert table_privileges(rules, "alice", "iceberg", "sales", "orders") == {
        "SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"}
    assert schema_owner(rules, "ann", "iceberg", "sales_stage")
    assert table_privileges(rules, "alice", "iceberg", "ops", "orders") == set()
    assert not schema_owner(rules, "alice", "iceberg", "ops")
    assert table_privileges(rules, "bob", "iceberg", "sales", "orders") == set()
    assert table_privileges(rules, "alice", "tpch", "tiny", "nation") == {"SELECT"}
    assert table_privileges(rules, "alice", "tpch", "sf1", "nation") == set()
    assert table_privileges(rules, "bob", "tpch", "sf100", "nation") == {"SELECT"}
    assert catalog_access(rules, "alice", "tpch") == "read-only" and catalog_access(rules, "carol", "iceberg") == "none"
    # a user with a name that merely contains a tenant member's name matches nothing
    assert table_privileges(rules, "alice2", "iceberg", "sales", "orders") == set()


def test_rules_keep_the_administrator_separate():
    rules = access_rules(USERS, TENANTS)
    assert table_privileges(rules, "admin", "iceberg", "ops", "t") >= {"SELECT", "OWNERSHIP"}
    assert system_information(rules, "admin") == {"read", "write"}  # graceful shutdown of workers
    assert system_information(rules, "alice") == set()
    assert {"user": "admin", "allow": ["execute", "kill", "view"]} in rules["queries"]


# --- resource groups ------------------------------------------------------------------------
def test_resource_groups_have_upstreams_structure_and_select_by_tenant():
    document = resource_groups(USERS, TENANTS, ADMIN_RG, TENANTS_RG, RG_DEFAULT)
    assert resource_groups_problems(document) == []
    assert selected_group(document, "admin") == "admin"
    assert selected_group(document, "ann") == "tenants.sales"
    assert selected_group(document, "bob") == "tenants.ops"
    assert selected_group(document, "mallory") is None
    tenants = document["rootGroups"][1]
    assert tenants["schedulingPolicy"] == "weighted_fair"
    sales = next(g for g in tenants["subGroups"] if g["name"] == "sales")
    assert sales == dict(RG_DEFAULT, name="sales", hardConcurrencyLimit=4)
    assert "cpuQuotaPeriod" not in document


def test_cpu_limits_bring_the_quota_period():
    tenants = {"ops": {"resource_group": {"softCpuLimit": "30m", "hardCpuLimit": "1h"}}}
    document = resource_groups([{"name": "bob", "tenant": "ops"}], tenants, ADMIN_RG, TENANTS_RG, RG_DEFAULT, "2h")
    assert document["cpuQuotaPeriod"] == "2h" and resource_groups_problems(document) == []


def test_resource_group_errors_mirror_upstreams_checks():
    assert resource_group_errors(RG_DEFAULT, "g") == []
    errors = resource_group_errors({"softMemoryLimit": "140%", "hardConcurrencyLimit": 2, "softConcurrencyLimit": 3,
                                    "schedulingPolicy": "random", "softCpuLimit": "1h", "maxQueue": 1}, "g")
    text = " ".join(errors)
    for expected in ("unknown fields ['maxQueue']", "maxQueued is required", "above 100%",
                     "hardConcurrencyLimit must be greater than or equal to softConcurrencyLimit",
                     "schedulingPolicy 'random'", "softCpuLimit needs hardCpuLimit"):
        assert expected in text, expected
    assert resource_groups_errors({"rootGroups": [dict(ADMIN_RG, name="a")],
                                   "selectors": [{"user": "x", "group": "b"}]}) == [
        "selector {'user': 'x', 'group': 'b'} refers to a resource group that does not exist"]


# --- tenants --------------------------------------------------------------------------------
def test_consistent_tenants_pass():
    assert tenant_errors(USERS, TENANTS, ["iceberg", "tpch"], RG_DEFAULT) == []


@pytest.mark.parametrize("users, tenants, expected", [
    ([{"name": "carol", "tenant": "hr"}], {}, "tenant 'hr', which is not in trino_tenants"),
    ([{"name": "admin", "tenant": "ops"}], {"ops": {}}, "'admin' is the platform's administrator"),
    ([{"name": "bob", "tenant": "ops"}, {"name": "bob", "tenant": "ops"}], {"ops": {}}, "listed twice"),
    ([{"name": "Bob!", "tenant": "ops"}], {"ops": {}}, "must match"),
    ([], {"ops": {"schemas": {"hive": ["x"]}}}, "catalog 'hive' is not deployed"),
    ([], {"ops": {"schemas": {"iceberg": ["Bad-Name"]}}}, "schema 'Bad-Name'"),
    ([], {"ops": {"schemas": {"iceberg": ["*"]}}}, "schema '*'"),
    ([], {"ops": {"schemas": {"iceberg": ["x"]}}, "hr": {"schemas": {"iceberg": ["x"]}}}, "owned by both"),
    ([], {"ops.eu": {}}, "a tenant name must match"),
    ([], {"ops": {"quota": {}}}, "unknown fields ['quota']"),
    ([], {"ops": {"resource_group": {"hardConcurrencyLimit": -1}}}, "non-negative integer"),
])
def test_inconsistent_tenants_are_refused(users, tenants, expected):
    errors = tenant_errors(users, tenants, ["iceberg", "tpch"], RG_DEFAULT)
    assert any(expected in e for e in errors), errors


def test_log_levels_are_upstreams_four():
    assert log_level_errors({"io.trino": "INFO", "io.trino.plugin.iceberg": "DEBUG"}) == []
    assert log_level_errors({"io.trino": "TRACE"})[0].startswith("trino_log_levels: io.trino: 'TRACE'")
