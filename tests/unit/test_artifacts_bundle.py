"""scripts/fetch-artifacts: verified, resumable downloads, manifest, deterministic lab tarballs."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
import importlib.util
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest
import yaml

from fdp_artifacts import resolve
from helpers import REPO

_loader = SourceFileLoader("fetch_artifacts", str(REPO / "scripts" / "fetch-artifacts"))
_spec = importlib.util.spec_from_loader("fetch_artifacts", _loader)
fetch = importlib.util.module_from_spec(_spec)
_loader.exec_module(fetch)

PAYLOAD = b"flink bits " * 50_000


def artifacts(sha: str) -> dict:
    return {"flink": {"version": "2.1.3", "url": "https://archive.apache.org/dist/flink/flink-{version}/f-{version}.tgz",
                      "checksums": {"2.1.3": {"any": f"sha256:{sha}"}}}}


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    src = tmp_path / "source" / "flink" / "2.1.3"
    src.mkdir(parents=True)
    (src / "f-2.1.3.tgz").write_bytes(PAYLOAD)
    return tmp_path / "source"


@pytest.fixture()
def http_source(source: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(source))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_bundle_entry_is_verified_and_recorded(tmp_path, source):
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    art = resolve(artifacts(sha), "flink")
    dest = tmp_path / "bundle"
    entry = fetch.fetch_verified(art, dest, str(source))
    assert (dest / "flink/2.1.3/f-2.1.3.tgz").read_bytes() == PAYLOAD
    assert entry["sha256"] == sha and entry["pinned_checksum"] == f"sha256:{sha}"
    assert entry["upstream_url"] == "https://archive.apache.org/dist/flink/flink-2.1.3/f-2.1.3.tgz"
    fetch.write_manifest(dest, [entry])
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["artifacts"][0]["file"] == "flink/2.1.3/f-2.1.3.tgz"
    assert (dest / "SHA256SUMS").read_text() == f"{sha}  flink/2.1.3/f-2.1.3.tgz\n"


def test_the_bundle_pins_every_file_by_value(tmp_path, source):
    # A pin by checksum file, verified once on the connected machine: pins.yml turns it into a pin
    # by value, so the air-gapped deployment needs no checksum file (and trusts no mirror's).
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    (source / "flink/2.1.3/f-2.1.3.tgz.sha512").write_text(
        f"{hashlib.sha512(PAYLOAD).hexdigest()}  f-2.1.3.tgz\n")
    by_file = {"flink": {"version": "2.1.3", "url": "https://archive.apache.org/dist/flink/flink-{version}/f-{version}.tgz",
                         "checksum": "sha512:{url}.sha512"}}
    entry = fetch.fetch_verified(resolve(by_file, "flink"), tmp_path / "bundle", str(source))
    pins = yaml.safe_load(fetch.pins_yaml([entry]))["platform_artifact_overrides"]
    assert pins == {"flink": {"version": "2.1.3", "checksums": {"2.1.3": {"any": f"sha256:{sha}"}}}}
    pinned = resolve(by_file, "flink", "x86_64", "/srv/bundle", pins)
    assert (pinned["checksum_value"], pinned["checksum_url"]) == (sha, None)


def test_a_second_run_keeps_verified_files(tmp_path, source, capsys):
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    art = resolve(artifacts(sha), "flink")
    fetch.fetch_verified(art, tmp_path / "b", str(source))
    (source / "flink/2.1.3/f-2.1.3.tgz").unlink()  # the source is gone: nothing must be fetched
    fetch.fetch_verified(art, tmp_path / "b", str(source))
    assert "already here" in capsys.readouterr().err


def test_partial_download_is_completed_over_http(tmp_path, http_source):
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    art = resolve(artifacts(sha), "flink")
    part = tmp_path / "b" / "flink/2.1.3/f-2.1.3.tgz.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:1000])  # an interrupted run
    fetch.fetch_verified(art, tmp_path / "b", http_source)
    assert (tmp_path / "b/flink/2.1.3/f-2.1.3.tgz").read_bytes() == PAYLOAD and not part.exists()


def test_a_mismatch_stops_and_keeps_nothing_in_place(tmp_path, source):
    art = resolve(artifacts("0" * 64), "flink")
    with pytest.raises(SystemExit, match="checksum mismatch for flink 2.1.3"):
        fetch.fetch_verified(art, tmp_path / "b", str(source))
    assert not (tmp_path / "b/flink/2.1.3/f-2.1.3.tgz").exists()


def test_lab_tarballs_are_deterministic(tmp_path):
    paths = []
    for run in ("one", "two"):
        tar = fetch.DeterministicTar(tmp_path / f"{run}.tar.gz")
        tar.add_bytes("top/bin/tool", b"#!/bin/sh\n", 0o755)
        tar.add_bytes("top/conf/a.yaml", b"a: 1\n")
        tar.add_symlink("top/lib/link", "../conf/a.yaml")
        tar.write()
        paths.append(tar.path)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_lab_pins_cover_every_lab_mirror_artifact():
    import yaml

    lab = yaml.safe_load((REPO / "inventories/lab/mirror.yml").read_text())["all"]["vars"]["lab_artifact_pins"]
    for name, spec in fetch.LAB_RECIPE["debian"].items():
        assert spec["version"] in lab[name]["checksums"], name
    for version in fetch.LAB_RECIPE["flink"]:
        assert version in lab["flink"]["checksums"]
