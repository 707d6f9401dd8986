"""Filters of the PostgreSQL role: sizing from host facts, postgresql.conf syntax and its split by
what a reload applies (from the key catalog), and pg_hba.conf from the databases' consumers."""

from __future__ import annotations

import pytest

from fdp_postgresql import (
    PostgresqlError,
    conf_value,
    hba_rules,
    render_conf,
    render_hba,
    render_ident,
    restart_keys,
    sizing,
    split_conf,
)

GROUPS = {"hive_metastore": ["m1", "m2"], "metastore_db": ["d1"], "trino_worker": ["w1"]}
HOSTVARS = {"m1": {"ansible_host": "10.0.0.21"}, "m2": {"ansible_host": "10.0.0.22"}, "d1": {"ansible_host": "10.0.0.31"},
            "w1": {"ansible_host": "10.0.0.41"}}
DATABASES = [{"name": "metastore", "owner": "hive", "groups": ["hive_metastore"]}]


@pytest.mark.parametrize(("ram", "cpus", "shared", "cache", "maint", "work"), [
    (2048, 2, "256MB", "768MB", "64MB", "4MB"),        # small lab host: a gigabyte budget
    (65536, 16, "8192MB", "24576MB", "1024MB", "64MB"),  # big host: shared_buffers capped at 8 GB
    (16384, 4, "2048MB", "6144MB", "512MB", "28MB"),
])
def test_sizing_follows_the_memory_budget(ram, cpus, shared, cache, maint, work):
    sized = sizing(ram, cpus)
    assert (sized["shared_buffers"], sized["effective_cache_size"], sized["maintenance_work_mem"], sized["work_mem"]) == (
        shared, cache, maint, work)
    assert sized["max_parallel_workers"] == cpus
    assert sized["max_worker_processes"] >= 8


def test_sizing_limit_wins_over_fraction_and_small_budgets_are_refused():
    assert sizing(65536, 8, limit_mb=1024)["shared_buffers"] == "256MB"
    with pytest.raises(PostgresqlError, match="at least 256 MB"):
        sizing(400, 1)
    with pytest.raises(PostgresqlError, match="at least 10"):
        sizing(8192, 2, max_connections=5)


@pytest.mark.parametrize(("value", "text"), [
    (True, "on"), (False, "off"), (100, "100"), ("2s", "2s"), ("1GB", "1GB"), ("replica", "replica"),
    ("%m [%p] %q%u@%d ", "'%m [%p] %q%u@%d '"), ("it's", "'it''s'"), ("/etc/fdp/tls/host.key", "'/etc/fdp/tls/host.key'"),
    (["a", "b"], "'a,b'"), ("iso, mdy", "'iso, mdy'"),
])
def test_values_are_written_as_postgresql_reads_them(value, text):
    assert conf_value(value) == text


def test_bad_values_and_names_are_refused():
    with pytest.raises(PostgresqlError, match="null"):
        conf_value(None)
    with pytest.raises(PostgresqlError, match="span lines"):
        conf_value("a\nb")
    with pytest.raises(PostgresqlError, match="parameter name"):
        render_conf({"bad key": 1})


def test_the_split_follows_the_catalog_contexts():
    restart = restart_keys("15")
    assert {"shared_buffers", "listen_addresses", "port", "max_connections", "ssl_min_protocol_version"} - set(restart) == {
        "ssl_min_protocol_version"}  # TLS settings are reloadable since PostgreSQL 10
    split = split_conf({"shared_buffers": "1GB", "work_mem": "4MB", "ssl": True}, restart)
    assert split == {"restart": {"shared_buffers": "1GB"}, "reload": {"work_mem": "4MB", "ssl": True}}
    assert set(restart_keys("17")) >= {"shared_buffers", "listen_addresses"}
    with pytest.raises(PostgresqlError, match="not in the key catalog"):
        restart_keys("9")


def test_hba_lets_only_owners_from_consumer_hosts_and_admins_in_over_tls():
    rules = hba_rules(DATABASES, GROUPS, HOSTVARS, ["192.0.2.0/24"], {"postgres": "fdp_admin", "postgres_exporter": ""})
    text = render_hba(rules)
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines == [
        "local all postgres peer map=fdp_admin",
        "local all postgres_exporter peer",
        "hostssl metastore hive 10.0.0.21/32 scram-sha-256",
        "hostssl metastore hive 10.0.0.22/32 scram-sha-256",
        "hostssl all postgres 192.0.2.0/24 scram-sha-256",
        "host all all 0.0.0.0/0 reject",
        "host all all ::/0 reject",
    ]
    # No plain "host" rule lets anybody in, and no method other than SCRAM for a network login.
    assert not any(line.startswith("host ") and not line.endswith("reject") for line in lines)
    assert "10.0.0.41" not in text and "trust" not in text and "md5" not in text


def test_hba_refuses_names_that_would_break_the_file():
    with pytest.raises(PostgresqlError, match="plain name"):
        hba_rules([{"name": "meta store", "owner": "hive", "groups": []}], GROUPS, HOSTVARS)
    with pytest.raises(PostgresqlError, match="not an IP address"):
        hba_rules(DATABASES, GROUPS, {"m1": {"ansible_host": "m1.example"}}, [])


def test_ident_maps_os_users_to_the_role():
    assert render_ident({"fdp_admin": ["root", "postgres"]}) == "fdp_admin root postgres\nfdp_admin postgres postgres\n"
