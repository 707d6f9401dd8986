"""The Trino smoke script (ansible/playbooks/files/fdp-trino-smoke): how it picks the tenant
denial from the inventory's data, and that it reports failures as JSON without a server. Its
queries run against a real coordinator in the platform scenario (test_40_trino.py)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "ansible" / "playbooks" / "files" / "fdp-trino-smoke"


def load():
    loader = importlib.machinery.SourceFileLoader("fdp_trino_smoke", str(SCRIPT))
    spec = importlib.util.spec_from_loader("fdp_trino_smoke", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


SMOKE = load()
ALICE = {"name": "alice", "tenant": "sales", "password": "a"}
BOB = {"name": "bob", "tenant": "ops", "password": "b"}


def test_a_tpch_schema_only_the_other_tenant_reads_is_the_denial():
    tenants = {"sales": {"read": {"tpch": ["tiny"]}}, "ops": {"read": {"tpch": ["sf1"]}}}
    user_a, user_b, denied, allowed, schema = SMOKE.tenant_case([ALICE, BOB], tenants, iceberg=True)
    assert (user_a["name"], user_b["name"]) == ("alice", "bob")
    assert denied == allowed == "SELECT count(*) FROM tpch.sf1.nation" and schema is None


def test_an_owned_iceberg_schema_when_the_reads_do_not_differ():
    tenants = {"sales": {"read": {"tpch": ["*"]}, "schemas": {"iceberg": ["sales"]}},
               "ops": {"read": {"tpch": ["*"]}, "schemas": {"iceberg": ["ops"]}}}
    user_a, user_b, denied, allowed, schema = SMOKE.tenant_case([ALICE, BOB], tenants, iceberg=True)
    assert denied == "CREATE TABLE iceberg.ops.fdp_smoke_denied (i integer)"
    assert allowed == "SHOW TABLES FROM iceberg.ops" and schema == "ops" and user_a["tenant"] == "sales"
    assert SMOKE.tenant_case([ALICE, BOB], tenants, iceberg=False) is None


@pytest.mark.parametrize("users", [[ALICE], [ALICE, {**BOB, "tenant": "sales"}], []])
def test_no_case_without_two_tenants_with_users(users):
    tenants = {"sales": {"read": {"tpch": ["tiny"]}}, "ops": {"read": {"tpch": ["sf1"]}}}
    assert SMOKE.tenant_case(users, tenants, iceberg=True) is None


def test_usage_without_the_run_command():
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "usage: fdp-trino-smoke run" in result.stderr


def test_an_unreachable_coordinator_is_a_json_failure():
    with socket.socket() as sock:  # a free loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ca = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    env = {"FDP_TRINO_URL": f"https://127.0.0.1:{port}", "FDP_CA_FILE": ca, "FDP_TRINO_ADMIN_PASSWORD": "x",
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, str(SCRIPT), "run"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False and "Connection refused" in report["error"], report


def test_plain_http_is_refused_before_any_connection(tmp_path):
    env = {"FDP_TRINO_URL": "http://127.0.0.1:9", "FDP_CA_FILE": "/nonexistent", "FDP_TRINO_ADMIN_PASSWORD": "x",
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, str(SCRIPT), "run"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 1
    assert "refusing a non-HTTPS URL" in json.loads(result.stdout)["error"]
