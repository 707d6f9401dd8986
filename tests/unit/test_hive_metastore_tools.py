"""The Hive Metastore role's host tools against the real metastore jars of the lab mirror (when it
is built: `make lab-mirror`, which `make test` runs first): the transaction-table DDL read from the
installed jar, and the schema-initialisation run's configuration. The Thrift probe is exercised
against real metastores by the platform scenario."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers import REPO

FILES = REPO / "roles" / "hive_metastore" / "files"
TARBALL = Path("/var/cache/fdp-lab/mirror/hive_metastore/2.3.9/hive-standalone-metastore-2.3.9-bin.tar.gz")


def load(name: str):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(FILES / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> Path:
    if not TARBALL.is_file():
        pytest.skip(f"the lab mirror's metastore is not built ({TARBALL}; make lab-mirror)")
    out = tmp_path_factory.mktemp("hms")
    with tarfile.open(TARBALL) as tar:
        members = [m for m in tar.getmembers() if "/lib/hive-metastore-" in m.name]
        tar.extractall(out, members=members, filter="data")
    return next(out.glob("*/lib"))


def test_txn_ddl_is_read_from_the_jar_and_made_for_postgresql(lib):
    result = subprocess.run([sys.executable, str(FILES / "fdp-hive-metastore-txn-ddl"), str(lib)],
                            capture_output=True, text=True, check=True)
    statements = json.loads(result.stdout)
    tables = [s.split()[2] for s in statements if s.startswith("CREATE TABLE")]
    assert set(tables) == load("fdp-hive-metastore-txn-ddl").EXPECTED
    assert not any("for bit data" in s.lower() for s in statements)
    assert sum("bytea" in s for s in statements) == 2  # the two Derby-only columns
    # the id sequences start from a row (TxnDbUtil's inserts), after their tables
    assert any(s.startswith("INSERT INTO NEXT_LOCK_ID") for s in statements)
    assert statements.index(next(s for s in statements if s.startswith("INSERT INTO NEXT_LOCK_ID"))) > \
        statements.index(next(s for s in statements if s.startswith("CREATE TABLE NEXT_LOCK_ID")))


def test_txn_ddl_refuses_a_directory_without_the_jar(tmp_path):
    result = subprocess.run([sys.executable, str(FILES / "fdp-hive-metastore-txn-ddl"), str(tmp_path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "no hive-metastore-*.jar" in result.stderr


def test_the_init_run_loads_every_persistent_class_and_allows_schema_creation(lib, tmp_path):
    init = load("fdp-hive-metastore-init")
    classes = init.model_classes(str(lib))
    assert "org.apache.hadoop.hive.metastore.model.MDatabase" in classes and len(classes) >= 30
    site = tmp_path / "hive-site.xml"
    site.write_text("<configuration><property><name>datanucleus.schema.autoCreateAll</name><value>false</value>"
                    "</property><property><name>javax.jdo.option.ConnectionUserName</name><value>hive</value></property>"
                    "</configuration>", encoding="utf-8")
    (tmp_path / "run").mkdir()
    init.init_site(str(site), classes, tmp_path / "run")
    props = {p.findtext("name"): p.findtext("value") for p in ET.parse(tmp_path / "run" / "hive-site.xml").iter("property")}
    assert props["datanucleus.schema.autoCreateAll"] == "true"
    assert props["hive.metastore.schema.verification"] == "false"
    assert props["hive.metastore.schema.verification.record.version"] == "true"
    assert props["javax.jdo.option.ConnectionUserName"] == "hive"  # the service's settings are kept
    assert (tmp_path / "run" / "hive-site.xml").stat().st_mode & 0o077 == 0
