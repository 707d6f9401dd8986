"""Trino on real lab hosts: pl1 the coordinator, pl2 and pl3 workers, pl4 an outsider.

What holds without the server binary (the lab mirror may have no trino-server tarball, and the
role then renders and checks everything but installs and starts nothing): the files with their
modes and owners, the password file against the generated passwords, the unit passing
systemd-analyze verify but for the missing launcher, and the firewall - 8443 open to the
workers, the coordinator and Prometheus, closed to the outsider (checked in the nft ruleset and
on the wire: an allowed connection is refused by the kernel, a dropped one times out).

With the server installed: two active workers, an HTTPS login accepted and a wrong password
refused, plain HTTP refused, a TPC-H query, an Iceberg round trip with time travel, a worker
drained during a running query without failing it, and a tenant denied another tenant's schema.
The tests run in file order; the drain comes after the queries."""

from __future__ import annotations

import base64
import importlib.machinery
import importlib.util
import json
import os
import re
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt
import pytest
import testinfra
from fdp_testinfra import accepted_sources, covers, playbook, wait_for

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
INV_DIR = Path(INVENTORY).parent
NET = "10.231.50"
ADDR = {"pl1": f"{NET}.11", "pl2": f"{NET}.12", "pl3": f"{NET}.13", "pl4": f"{NET}.14"}
CONTROLLER = f"{NET}.1"
COORDINATOR, WORKERS, OUTSIDER = "pl1", ("pl2", "pl3"), "pl4"
PORT = 8443
URL = f"https://{ADDR[COORDINATOR]}:{PORT}"
CONF = "/etc/fdp/trino"
LAUNCHER = "/opt/fdp/trino_server/bin/launcher"
NOT_INSTALLED = ("Trino is rendered and checked but not installed: the lab mirror has no trino-server-483 tarball"
                 " (platform_artifacts.trino_server)")


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


HOSTS = {name: get(name) for name in ADDR}


def secret(name: str) -> str:
    return (INV_DIR / "credentials" / name).read_text().strip()


def installed() -> bool:
    return HOSTS[COORDINATOR].file(LAUNCHER).exists


@pytest.fixture
def server():
    if not installed():
        pytest.skip(NOT_INSTALLED)


def iceberg_enabled() -> bool:
    return HOSTS[COORDINATOR].file(f"{CONF}/catalog/iceberg.properties").exists


def inventory_data() -> dict:
    variables = HOSTS[COORDINATOR].ansible.get_variables()
    return {"users": variables.get("trino_users") or [], "tenants": variables.get("trino_tenants") or {}}


# --- a small client of Trino's REST statement protocol ----------------------------------------
class QueryFailed(Exception):
    pass


def context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(INV_DIR / "pki" / "ca.crt"))


def http(url: str, user: str | None = None, password: str | None = None, method: str = "GET",
         data: bytes | None = None, timeout: float = 30):
    request = urllib.request.Request(url, method=method, data=data)
    if user:
        request.add_header("X-Trino-User", user)
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    with urllib.request.urlopen(request, context=context(), timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def query(sql: str, user: str = "admin", on_page=None, timeout: float = 600) -> list[list]:
    """Run a statement to its end; the rows. `on_page(document)` sees every answer (its stats)."""
    password = secret(f"trino_password/{user}")
    document = http(f"{URL}/v1/statement", user, password, "POST", sql.encode())
    rows: list[list] = []
    deadline = time.time() + timeout
    while True:
        if on_page:
            on_page(document)
        rows += document.get("data") or []
        if document.get("error"):
            raise QueryFailed(document["error"].get("message", document["error"]))
        if not document.get("nextUri"):
            return rows
        if time.time() > deadline:
            raise TimeoutError(sql)
        document = http(document["nextUri"], user, password)


# --- without the binary -----------------------------------------------------------------------
@pytest.mark.parametrize("name", [COORDINATOR, *WORKERS])
def test_files_are_rendered_with_their_modes_and_owners(name):
    host = HOSTS[name]
    directory = host.file(CONF)
    assert (directory.user, directory.group, directory.mode) == ("root", "trino", 0o750)
    files = ["node.properties", "config.properties", "jvm.config", "log.properties", "truststore.args",
             "password-authenticator.properties", "password.db", "access-control.properties", "rules.json",
             "catalog/tpch.properties"]
    for path in files:
        f = host.file(f"{CONF}/{path}")
        assert (f.user, f.group, f.mode) == ("root", "trino", 0o640), path
    assert host.file(f"{CONF}/resource-groups.json").exists == (name == COORDINATOR)
    config = host.file(f"{CONF}/config.properties").content_string
    assert "http-server.http.enabled=false" in config and "http-server.https.port=8443" in config
    assert f"discovery.uri=https://{ADDR[COORDINATOR]}:8443" in config
    assert ("coordinator=true" if name == COORDINATOR else "coordinator=false") in config
    node = host.file(f"{CONF}/node.properties").content_string
    assert "node.environment=molecule_platform" in node and f"node.internal-address={ADDR[name]}" in node
    jvm = host.file(f"{CONF}/jvm.config").content_string
    assert "--add-modules=jdk.incubator.vector" in jvm and re.search(r"^-Xmx\d+M$", jvm, re.M)
    assert secret("truststore_password") not in jvm


def test_node_ids_are_distinct_and_stable():
    ids = {re.search(r"^node.id=(.+)$", HOSTS[n].file(f"{CONF}/node.properties").content_string, re.M).group(1)
           for n in (COORDINATOR, *WORKERS)}
    assert len(ids) == 3


def test_password_file_holds_the_generated_passwords_as_bcrypt():
    lines = [line for line in HOSTS[WORKERS[0]].file(f"{CONF}/password.db").content_string.splitlines() if line]
    entries = dict(line.split(":", 1) for line in lines)
    assert "admin" in entries and all(h.startswith("$2y$") for h in entries.values())
    for user in entries:
        assert bcrypt.checkpw(secret(f"trino_password/{user}").encode(), entries[user].encode()), user


@pytest.mark.parametrize("name", [COORDINATOR, WORKERS[0]])
def test_unit_passes_systemd_analyze_verify_but_for_a_missing_binary(name):
    host = HOSTS[name]
    verify = host.run("systemd-analyze verify /etc/systemd/system/trino.service")
    complaints = [line for line in (verify.stdout + verify.stderr).splitlines() if line.strip()]
    if installed():
        assert complaints == []
        assert host.service("trino").is_enabled
    else:
        assert complaints and all(LAUNCHER in line or "trino.service" in line for line in complaints), complaints
        assert not host.service("trino").is_enabled and not host.service("trino").is_running


def allowed_sources(name: str) -> list:
    """Source networks the live ruleset accepts on tcp/8443."""
    return accepted_sources(HOSTS[name], PORT)


def test_firewall_opens_8443_to_the_cluster_and_prometheus_only():
    coordinator = allowed_sources(COORDINATOR)
    # workers, Prometheus (pl1), clients
    assert all(covers(coordinator, a) for a in (ADDR["pl2"], ADDR["pl3"], ADDR["pl1"], CONTROLLER))
    assert not covers(coordinator, ADDR[OUTSIDER])
    for worker in WORKERS:
        sources = allowed_sources(worker)
        other = WORKERS[1] if worker == WORKERS[0] else WORKERS[0]
        assert covers(sources, ADDR[COORDINATOR]) and covers(sources, ADDR[other])
        assert not covers(sources, ADDR[OUTSIDER]) and not covers(sources, CONTROLLER)  # workers publish nothing


def connect(source: str, target: str) -> str:
    """open | refused (allowed, nothing listens) | dropped (the firewall)."""
    result = HOSTS[source].run(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{ADDR[target]}/{PORT}'")
    if result.rc == 0:
        return "open"
    return "dropped" if result.rc == 124 else "refused"


def test_8443_on_the_wire_reachable_from_the_cluster_not_from_the_outsider():
    up = "open" if installed() else "refused"
    assert connect(WORKERS[0], COORDINATOR) == up
    assert connect(COORDINATOR, WORKERS[1]) == up
    assert connect(WORKERS[0], WORKERS[1]) == up
    assert connect(OUTSIDER, COORDINATOR) == "dropped"
    assert connect(OUTSIDER, WORKERS[0]) == "dropped"


# --- with the server ------------------------------------------------------------------------
def active_workers() -> list[list]:
    return query("SELECT node_id FROM system.runtime.nodes WHERE coordinator = false AND state = 'active'"
                 " ORDER BY node_id")


def test_two_workers_are_active(server):
    expected = sorted(re.search(r"^node.id=(.+)$", HOSTS[n].file(f"{CONF}/node.properties").content_string,
                                re.M).group(1) for n in WORKERS)
    rows = wait_for(lambda: (r := active_workers()) and len(r) == 2 and r, timeout=180)
    assert [row[0] for row in rows] == expected


def test_https_login_is_accepted_and_a_wrong_password_refused(server):
    info = http(f"{URL}/v1/info")
    assert info["starting"] is False and info["coordinator"] is True
    assert info["nodeVersion"]["version"] == "483"
    assert query("SELECT 1") == [[1]]
    for user, password in (("admin", "wrong-password"), ("nobody", "x")):
        with pytest.raises(urllib.error.HTTPError) as err:
            http(f"{URL}/v1/statement", user, password, "POST", b"SELECT 1")
        assert err.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as err:  # no credentials at all
        urllib.request.urlopen(urllib.request.Request(f"{URL}/v1/statement", data=b"SELECT 1",  # noqa: S310
                                                      headers={"X-Trino-User": "admin"}), context=context(), timeout=10)
    assert err.value.code == 401


def test_plain_http_is_refused(server):
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"http://{ADDR[COORDINATOR]}:{PORT}/v1/info", timeout=10)  # noqa: S310
    assert HOSTS[WORKERS[0]].run(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{ADDR[COORDINATOR]}/8080'").rc != 0


def test_tpch_query(server):
    assert query("SELECT count(*) FROM tpch.tiny.nation") == [[25]]
    assert query("SELECT n_name FROM tpch.tiny.nation WHERE n_nationkey = 0") == [["ALGERIA"]]


def test_iceberg_round_trip_with_time_travel(server):
    if not iceberg_enabled():
        pytest.skip("trino_iceberg_enabled is false in this inventory (no hive_metastore or S3 store)")
    name = f"t{int(time.time())}"
    table = f"iceberg.fdp_verify.{name}"
    query("CREATE SCHEMA IF NOT EXISTS iceberg.fdp_verify WITH (location = 's3a://warehouse/fdp_verify')")
    query(f"CREATE TABLE {table} (id bigint, name varchar)")
    try:
        query(f"INSERT INTO {table} VALUES (1, 'first')")
        first_snapshot = query(f'SELECT snapshot_id FROM iceberg.fdp_verify."{name}$snapshots"'
                               " ORDER BY committed_at DESC LIMIT 1")[0][0]
        query(f"INSERT INTO {table} VALUES (2, 'second')")
        assert query(f"SELECT id, name FROM {table} ORDER BY id") == [[1, "first"], [2, "second"]]
        assert query(f"SELECT id, name FROM {table} FOR VERSION AS OF {first_snapshot}") == [[1, "first"]]
    finally:
        query(f"DROP TABLE IF EXISTS {table}")


def tenant_denial():
    """(user of A, user of B, SQL only B may run, SQL B runs, iceberg schema or None) from the
    inventory's tenants, chosen as the smoke playbook's script chooses it (one rule, one place)."""
    loader = importlib.machinery.SourceFileLoader(
        "fdp_trino_smoke", str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "ansible/playbooks/files/fdp-trino-smoke"))
    smoke = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(smoke)
    data = inventory_data()
    case = smoke.tenant_case(data["users"], data["tenants"], iceberg_enabled())
    if case is None:
        return None
    user_a, user_b, denied_sql, allowed_sql, schema = case
    return user_a["name"], user_b["name"], denied_sql, allowed_sql, schema


def test_a_tenant_is_denied_another_tenants_schema(server):
    case = tenant_denial()
    if case is None:
        pytest.skip("the inventory has no two tenants with users and distinct schemas (trino_users, trino_tenants)")
    user_a, user_b, denied_sql, allowed_sql, iceberg_schema = case
    if iceberg_schema:  # the schema must exist for the denial to be about access, not existence
        query(f"CREATE SCHEMA IF NOT EXISTS iceberg.{iceberg_schema} WITH (location ="
              f" 's3a://warehouse/{iceberg_schema}')")
    query(allowed_sql, user=user_b)  # the owner of the schema may
    with pytest.raises(QueryFailed, match="Access Denied"):
        query(denied_sql, user=user_a)


def test_the_smoke_playbook_passes(server):
    """ansible/playbooks/trino-smoke.yml: cluster, wrong password, TPC-H, Iceberg with time travel
    and the tenant denial, as an operator runs it."""
    result = playbook("ansible/playbooks/trino-smoke.yml")
    assert result.returncode == 0, result.stdout[-4000:]
    # The assert's success message is the script's JSON report, escaped inside the callback's JSON.
    out = result.stdout.replace('\\"', '"')
    assert '"ok": true' in out and '"tpch": "25 nations"' in out, out[-4000:]
    assert f'"active_workers": {len(WORKERS)}' in out
    assert '"denied": ' in out  # the scenario's inventory has two tenants with distinct schemas
    if iceberg_enabled():
        assert '"time_travel_snapshot": ' in out


def worker_of(node_id: str) -> str:
    for name in WORKERS:
        if f"node.id={node_id}" in HOSTS[name].file(f"{CONF}/node.properties").content_string:
            return name
    raise KeyError(node_id)


def grace_seconds() -> int:
    text = HOSTS[WORKERS[1]].file(f"{CONF}/config.properties").content_string
    value, unit = re.search(r"^shutdown.grace-period=(\d+)([smh])$", text, re.M).groups()
    return int(value) * {"s": 1, "m": 60, "h": 3600}[unit]


def test_a_worker_drained_during_a_running_query_does_not_fail_it(server):
    """PUT /v1/info/state "SHUTTING_DOWN" on pl3 (as the role's restart hook does, from the worker
    itself, as admin) while a query that reads on both workers runs: the query finishes, the
    worker exits cleanly, and it rejoins once started again."""
    name = WORKERS[1]
    since = int(time.time())
    drained: list[bool] = []
    password = secret("trino_password/admin")

    def drain_when_running(document):
        if not drained and (document.get("stats") or {}).get("state") == "RUNNING":
            result = HOSTS[name].run(
                f"curl -sS -o /dev/null -w '%{{http_code}}' --cacert /etc/fdp/tls/ca.crt -u admin:{password}"
                f" -X PUT -H 'Content-Type: application/json' -d '\"SHUTTING_DOWN\"'"
                f" https://{ADDR[name]}:{PORT}/v1/info/state")
            assert result.stdout.strip() in ("200", "204"), result.stdout + result.stderr
            drained.append(True)

    rows = query("SELECT l_returnflag, count(*), sum(l_extendedprice * (1 - l_discount)) FROM tpch.sf1.lineitem"
                 " GROUP BY l_returnflag ORDER BY l_returnflag", on_page=drain_when_running,
                 timeout=2 * grace_seconds() + 600)
    assert drained, "the query finished before it was seen RUNNING"
    assert [r[0] for r in rows] == ["A", "N", "R"] and sum(r[1] for r in rows) == 6001215
    journal = HOSTS[name].check_output(f"journalctl -u trino --since @{since} --no-pager")
    assert "Shutdown requested" in journal
    wait_for(lambda: not HOSTS[name].service("trino").is_running, timeout=2 * grace_seconds() + 300, step=5)
    assert HOSTS[name].run("systemctl show -p Result --value trino").stdout.strip() == "success"
    assert HOSTS[name].run("systemctl start trino").rc == 0
    rows = wait_for(lambda: (r := active_workers()) and len(r) == 2 and r, timeout=300, step=5)
    assert name in {worker_of(row[0]) for row in rows}
