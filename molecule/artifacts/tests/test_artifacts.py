"""The artifact mechanism and the java role on real lab hosts, with real Flink from the lab mirror."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import yaml
from fdp_testinfra import last_check_mode_run, run_reports

REPO = Path(__file__).resolve().parents[3]
# The lab's pins of the mirror's tarballs (inventories/lab/mirror.yml, shared by every scenario).
LAB_PINS = yaml.safe_load((REPO / "inventories/lab/mirror.yml").read_text(encoding="utf-8"))["all"]["vars"]["lab_artifact_pins"]
FLINK = "flink-2.1.3"
DOWNLOAD_TASK = "Download and verify the checksum"


def runs(playbook: str, check: bool = False) -> list[dict]:
    return [r for r in run_reports() if r["playbook"] == playbook and r["check_mode"] == check]


def test_first_converge_downloaded_each_file_once_not_per_host():
    first = runs("converge.yml")[-2]  # converge, then the idempotence run
    assert first["failed"] == []
    downloads = [c for c in first["changed"] if c["task"].endswith(DOWNLOAD_TASK)]
    # jdk17 and flink: one download each on the controller for both hosts.
    assert len(downloads) == 2, downloads
    unpacks = [c for c in first["changed"] if "unpack" in c["task"].lower()]
    assert {c["host"] for c in unpacks} == {"ar1", "ar2"}


def test_second_converge_downloaded_and_unpacked_nothing():
    second = runs("converge.yml")[-1]
    assert second["failed"] == [] and second["changed"] == [], second["changed"]


def test_check_mode_after_converge_changed_nothing():
    run = last_check_mode_run()
    assert run["failed"] == [] and run["unreachable"] == []
    assert run["changed"] == [], f"check mode would change: {run['changed']}"
    assert set(run["hosts"]) >= {"ar1", "ar2"}


def test_tampered_artifact_was_rejected_on_the_controller(host):
    side = runs("side_effect.yml")[-1]
    failed = {f["task"].rsplit(" : ", 1)[-1] for f in side["failed"]}
    assert DOWNLOAD_TASK in failed and "Stop before any host is changed" in failed, side["failed"]
    outcome = json.loads(host.file("/var/tmp/fdp-artifacts-side-effect.json").content_string)
    assert outcome["tamper"] != "installed"
    assert "REJECTED" in outcome["rejection"] and "did not match" in outcome["rejection"], outcome


def test_versioned_directories_and_stable_link(host):
    link = host.file("/opt/fdp/flink")
    assert link.is_symlink and link.linked_to == f"/opt/fdp/{FLINK}"
    assert host.file(f"/opt/fdp/{FLINK}/lib/flink-dist-2.1.3.jar").is_file
    assert host.file("/opt/fdp/flink-2.1.2/lib/flink-dist-2.1.2.jar").is_file  # kept for rollback
    marker = json.loads(host.file(f"/opt/fdp/{FLINK}/.fdp-artifact.json").content_string)
    assert marker["version"] == "2.1.3" and marker["name"] == "flink"
    d = host.file(f"/opt/fdp/{FLINK}")
    assert (d.user, d.group, d.mode) == ("root", "root", 0o755)


def test_pruning_removed_only_what_the_role_unpacked(host):
    """side_effect.yml put /opt/fdp/flink-0.0.1 (an operator's, no marker) and flink-0.0.2 (the
    role's marker) beside Flink before the switch: the switch pruned the second only."""
    assert host.file("/opt/fdp/flink-0.0.1/NOTES").content_string == "an operator's notes\n"
    assert not host.file("/opt/fdp/flink-0.0.2").exists


def test_flink_runs_on_the_java_role_java_home(host):
    env = host.file("/etc/fdp/java/jdk17.env").content_string
    assert "JAVA_HOME=/opt/fdp/jdk17" in env
    cmd = host.run("set -a; . /etc/fdp/java/jdk17.env; JVM_ARGS=-XshowSettings:properties /opt/fdp/flink/bin/flink --version")
    assert cmd.rc == 0, cmd.stderr
    assert "Version: 2.1.3" in cmd.stdout
    # The JVM that ran the Flink client is the tarball JDK the java role linked, not /usr/bin/java.
    assert "java.home = /opt/fdp/jdk17-17.0.21.1+2" in cmd.stderr + cmd.stdout


def test_two_java_runtimes_side_by_side(host):
    tarball, package = host.file("/opt/fdp/jdk17"), host.file("/opt/fdp/openjdk17_pkg")
    assert tarball.linked_to == "/opt/fdp/jdk17-17.0.21.1+2"
    assert package.linked_to.startswith("/usr/lib/jvm/java-17-openjdk-")
    for home in ("/opt/fdp/jdk17", "/opt/fdp/openjdk17_pkg"):
        out = host.run(f"{home}/bin/java -version")
        assert out.rc == 0 and 'version "17.' in out.stderr, out.stderr
    assert "JAVA_HOME=/opt/fdp/openjdk17_pkg" in host.file("/etc/fdp/java/openjdk17_pkg.env").content_string


def test_controller_cache_holds_verified_files():
    cache = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "artifact-cache"
    pins = LAB_PINS
    for version in ("2.1.3", "2.1.2"):
        path = cache / "flink" / version / f"flink-{version}-bin-scala_2.12.tgz"
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert pins["flink"]["checksums"][version]["any"] == f"sha256:{sha}"
