"""The catalog roles rendered by the service skeleton's own configure step (their real data, the
platform wiring, gathered facts of this machine): PostgreSQL's files split by what a reload
applies, TLS and SCRAM only, access from the metastore hosts and the admin networks only; the
Hive Metastore's hive-site.xml (JDBC with sslmode=verify-full, Thrift over TLS, S3A from the S3
contract, schema creation off, secrets only in files marked secret), its unit (the Thrift probe as
health check, the truststore password off the command line), and the preflight rules."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from fdp_postgresql import restart_keys
from helpers import run_playbook
from service_render import render_role

INVENTORY = """
all:
  children:
    metastore_db:
      hosts:
        d1: {ansible_host: 198.51.100.31}
    hive_metastore:
      hosts:
        m1: {ansible_host: 198.51.100.21}
        m2: {ansible_host: 198.51.100.22}
    seaweedfs_master:
      hosts:
        s1: {ansible_host: 198.51.100.11}
    seaweedfs:
      hosts:
        s1: {ansible_host: 198.51.100.11}
"""


def conf(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "=" in line and not line.startswith("include"):
            key, value = (part.strip() for part in line.split("=", 1))
            out[key] = value
    return out


@pytest.fixture(scope="module")
def postgresql(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("postgresql")
    result, out, _ = render_role(tmp, "postgresql", INVENTORY, hosts="metastore_db", facts=True,
                                 extra_vars={"postgresql_config_overrides": {"work_mem": "8MB", "log_min_duration_statement": None}})
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    return out / "d1" / "etc" / "fdp" / "postgresql", out / "d1" / "etc" / "systemd" / "system"


def test_postgresql_files_split_by_what_a_reload_applies(postgresql):
    conf_dir, _ = postgresql
    start, reload = conf((conf_dir / "postgresql.conf").read_text()), conf((conf_dir / "settings.conf").read_text())
    major = next(iter({"15", "17"} & set(re.findall(r"PostgreSQL (\d+)", (conf_dir / "postgresql.conf").read_text()))))
    restart = set(restart_keys(major))
    assert set(start) <= restart and not set(reload) & restart
    assert start["listen_addresses"] == "'198.51.100.31'" and start["port"] == "5432"
    assert reload["ssl"] == "on" and reload["ssl_min_protocol_version"] == "'TLSv1.2'"
    assert reload["password_encryption"] == "'scram-sha-256'"
    assert reload["work_mem"] == "8MB" and "log_min_duration_statement" not in reload  # overrides win, null removes
    assert "include = 'settings.conf'" in (conf_dir / "postgresql.conf").read_text()


def test_postgresql_hba_admits_metastores_and_admins_over_tls_only(postgresql):
    conf_dir, _ = postgresql
    lines = [line for line in (conf_dir / "pg_hba.conf").read_text().splitlines() if line and not line.startswith("#")]
    network = [line for line in lines if not line.startswith("local")]
    assert network == ["hostssl metastore hive 198.51.100.21/32 scram-sha-256",
                       "hostssl metastore hive 198.51.100.22/32 scram-sha-256",
                       "hostssl all postgres 198.51.100.0/24 scram-sha-256",
                       "host all all 0.0.0.0/0 reject", "host all all ::/0 reject"]


def test_postgresql_unit_runs_the_server_on_the_platform_config(postgresql):
    _, units = postgresql
    unit = (units / "postgresql.service").read_text()
    assert "Type=notify" in unit and "User=postgres" in unit
    assert re.search(r"ExecStart=/usr/lib/postgresql/\d+/bin/postgres", unit)
    assert "config_file=/etc/fdp/postgresql/postgresql.conf" in unit


@pytest.fixture(scope="module")
def metastore(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hms")
    result, out, creds = render_role(tmp, "hive_metastore", INVENTORY, hosts="hive_metastore", facts=True,
                                     files_var="_hive_metastore_files", units_var="_hive_metastore_units",
                                     extra_vars={"hive_metastore_jmx_exporter": False,
                                                 "hive_metastore_config_overrides": {"hive.txn.timeout": 600}})
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    return out, creds


def site(out, host="m1") -> dict[str, str]:
    root = ET.parse(out / host / "etc" / "fdp" / "hive_metastore" / "hive-site.xml").getroot()
    return {p.findtext("name"): p.findtext("value") for p in root.iter("property")}


def test_metastore_site_wires_database_tls_and_s3(metastore):
    out, creds = metastore
    props = site(out)
    assert props["javax.jdo.option.ConnectionURL"] == (
        "jdbc:postgresql://198.51.100.31:5432/metastore?sslmode=verify-full&sslrootcert=/etc/fdp/tls/ca.crt")
    assert props["javax.jdo.option.ConnectionUserName"] == "hive"
    assert props["javax.jdo.option.ConnectionPassword"] == (creds / "postgresql_password" / "hive").read_text().strip()
    assert props["hive.metastore.use.SSL"] == "true"
    assert props["hive.metastore.keystore.path"] == "/etc/fdp/tls/private/hive/keystore.p12"
    assert props["datanucleus.schema.autoCreateAll"] == "false" and props["hive.metastore.schema.verification"] == "true"
    assert props["fs.s3.impl"] == props["fs.s3a.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"
    assert props["fs.s3a.endpoint"].startswith("https://198.51.100.11:")
    assert props["fs.s3a.path.style.access"] == "true" and props["fs.s3a.connection.ssl.enabled"] == "true"
    assert props["fs.s3a.access.key"] == (creds / "s3_access_key" / "hive_metastore").read_text().strip()
    assert props["hive.txn.timeout"] == "600"


def test_metastore_unit_probes_thrift_and_keeps_passwords_off_the_command_line(metastore):
    out, creds = metastore
    unit = (out / "m2" / "etc" / "systemd" / "system" / "hive-metastore.service").read_text()
    assert "org.apache.hadoop.hive.metastore.HiveMetaStore" in unit and "-p \\\n    9083" in unit.replace("    -p", "-p")
    assert "@/etc/fdp/hive_metastore/truststore.args" in unit
    for secret in ("truststore_password", "keystore_password"):
        for path in (creds / "hosts").glob(f"*/{secret}"):
            assert path.read_text().strip() not in unit
    args = (out / "m2" / "etc" / "fdp" / "hive_metastore" / "truststore.args").read_text()
    assert "-Djavax.net.ssl.trustStore=/etc/fdp/tls/truststore.p12" in args


def test_preflight_refuses_overriding_the_wiring_and_a_missing_database(tmp_path):
    result, _, _ = render_role(tmp_path, "hive_metastore", INVENTORY, hosts="hive_metastore", facts=False,
                               files_var="_hive_metastore_files", units_var="_hive_metastore_units",
                               extra_vars={"hive_metastore_config_overrides": {"hive.metastore.use.SSL": False}})
    assert result.returncode != 0 and "hive.metastore.use.SSL" in result.stdout
    no_db = INVENTORY.replace("    metastore_db:\n      hosts:\n        d1: {ansible_host: 198.51.100.31}\n", "")
    result, _, _ = render_role(tmp_path / "2", "hive_metastore", no_db, hosts="hive_metastore", facts=False,
                               files_var="_hive_metastore_files", units_var="_hive_metastore_units")
    assert result.returncode != 0 and "exactly one metastore_db host" in result.stdout


def test_postgresql_preflight_refuses_two_servers_and_unknown_groups(tmp_path):
    two = INVENTORY.replace("        d1: {ansible_host: 198.51.100.31}\n",
                            "        d1: {ansible_host: 198.51.100.31}\n        d2: {ansible_host: 198.51.100.32}\n")
    result, _, _ = render_role(tmp_path, "postgresql", two, hosts="metastore_db", facts=False)
    assert result.returncode != 0 and "runs one PostgreSQL server" in result.stdout
    result, _, _ = render_role(tmp_path / "2", "postgresql", INVENTORY, hosts="metastore_db", facts=False,
                               extra_vars={"postgresql_databases": [{"name": "x", "owner": "y", "groups": ["nosuch"]}],
                                           "postgresql_config_overrides": {"shared_bufers": "1GB"}})
    assert result.returncode != 0 and "nosuch are not inventory groups" in result.stdout
    assert "shared_bufers" in result.stdout


_ = run_playbook  # the render helper runs the playbooks


def test_flink_gets_the_metastore_client_site_of_its_iceberg_catalog(tmp_path):
    inventory = INVENTORY + """    flink_jobmanager:
      hosts:
        j1: {ansible_host: 198.51.100.51}
"""
    result, out, creds = render_role(tmp_path, "flink", inventory, hosts="flink_jobmanager", facts=True,
                                     extra_vars={"flink_memory_limit_mb": 1280})
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    root = ET.parse(out / "j1" / "etc" / "fdp" / "flink" / "hive-conf" / "hive-site.xml").getroot()
    props = {p.findtext("name"): p.findtext("value") for p in root.iter("property")}
    assert props["hive.metastore.uris"] == "thrift://198.51.100.21:9083,thrift://198.51.100.22:9083"
    assert props["hive.metastore.use.SSL"] == "true"
    assert props["hive.metastore.truststore.path"] == "/etc/fdp/tls/truststore.p12"
    assert props["hive.metastore.truststore.password"] == (creds / "truststore_password").read_text().strip()
