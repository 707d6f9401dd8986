"""Artifact resolution: versions, URLs, checksums, the mirror override, pruning, versions.yml."""

from __future__ import annotations

import pytest
import yaml

from fdp_artifacts import (
    ArtifactError,
    checksum_from_text,
    marker,
    merge_entry,
    mirror_url,
    prune,
    resolve,
    validate,
)
from helpers import REPO

SHA256 = "a" * 64
VERSIONS = REPO / "roles" / "platform" / "defaults" / "main" / "versions.yml"
LAB = REPO / "inventories" / "lab" / "mirror.yml"

ARTIFACTS = {
    "flink": {
        "version": "2.1.3",
        "url": "https://archive.apache.org/dist/flink/flink-{version}/flink-{version}-bin-scala_2.12.tgz",
        "checksum": "sha512:{url}.sha512",
    },
    "jdk25": {
        "version": "25.0.4.1+1",
        "url": "https://github.com/adoptium/temurin25-binaries/releases/download/jdk-{version_enc}/"
               "OpenJDK25U-jdk_{arch}_linux_hotspot_{version_us}.tar.gz",
        "architectures": ["x86_64", "aarch64"],
        "arch_map": {"x86_64": "x64"},
        "checksums": {"25.0.4.1+1": {"x86_64": f"sha256:{SHA256}"}},
    },
    "minio": {
        "version": "RELEASE.2025-09-07T16-13-09Z",
        "url": "https://github.com/minio/minio/releases/download/{version}/minio.linux-{arch}.{version}",
        "format": "file",
        "executable": True,
        "architectures": ["x86_64"],
        "arch_map": {"x86_64": "amd64"},
        "checksums": {"RELEASE.2025-09-07T16-13-09Z": {"x86_64": f"sha256:{SHA256}"}},
    },
    "prometheus": {
        "version": "3.13.3",
        "url": "https://github.com/prometheus/prometheus/releases/download/v{version}/prometheus-{version}.linux-{arch}.tar.gz",
        "checksum": "sha256:https://github.com/prometheus/prometheus/releases/download/v{version}/sha256sums.txt",
        "architectures": ["x86_64", "aarch64"],
        "arch_map": {"x86_64": "amd64", "aarch64": "arm64"},
    },
}


def test_version_and_url_placeholders():
    art = resolve(ARTIFACTS, "jdk25", "x86_64")
    assert art["upstream_url"].endswith("/jdk-25.0.4.1%2B1/OpenJDK25U-jdk_x64_linux_hotspot_25.0.4.1_1.tar.gz")
    assert art["filename"] == "OpenJDK25U-jdk_x64_linux_hotspot_25.0.4.1_1.tar.gz"
    assert art["dir"] == "jdk25-25.0.4.1+1" and art["format"] == "tar"
    assert (art["checksum_algorithm"], art["checksum_value"], art["checksum_url"]) == ("sha256", SHA256, None)


def test_checksum_file_url_per_version():
    art = resolve(ARTIFACTS, "flink", "amd64")  # Debian's name for the architecture works too
    assert art["arch"] == "x86_64"
    assert art["checksum_algorithm"] == "sha512" and art["checksum_value"] is None
    assert art["checksum_url"] == art["upstream_url"] + ".sha512"
    assert art["checksum_file"] == "flink-2.1.3-bin-scala_2.12.tgz.sha512"


def test_architecture_maps_and_missing_builds():
    assert resolve(ARTIFACTS, "prometheus", "aarch64")["filename"] == "prometheus-3.13.3.linux-arm64.tar.gz"
    with pytest.raises(ArtifactError, match="no build for aarch64"):
        resolve(ARTIFACTS, "minio", "aarch64")
    with pytest.raises(ArtifactError, match="unsupported architecture"):
        resolve(ARTIFACTS, "flink", "ppc64le")


def test_literal_checksum_pins_one_version_only():
    # jdk25 pins aarch64 nowhere: a clear error naming the fix
    with pytest.raises(ArtifactError, match=r"no checksum pinned for version 25.0.4.1\+1 on aarch64"):
        resolve(ARTIFACTS, "jdk25", "aarch64")
    # raising the version without a pin for it fails instead of trusting the download
    with pytest.raises(ArtifactError, match="platform_artifact_overrides.minio"):
        resolve(ARTIFACTS, "minio", "x86_64", overrides={"minio": {"version": "RELEASE.2026-01-01T00-00-00Z"}})


def test_override_version_with_checksum_file_is_enough():
    art = resolve(ARTIFACTS, "flink", overrides={"flink": {"version": "2.1.2"}})
    assert art["upstream_url"].endswith("/flink-2.1.2/flink-2.1.2-bin-scala_2.12.tgz")
    assert art["checksum_url"].endswith("flink-2.1.2-bin-scala_2.12.tgz.sha512")


def test_override_literal_wins_over_checksum_file_and_null_removes():
    pin = {"checksums": {"2.1.3": {"any": f"sha256:{SHA256}"}}}
    art = resolve(ARTIFACTS, "flink", overrides={"flink": pin})
    assert (art["checksum_algorithm"], art["checksum_value"], art["checksum_url"]) == ("sha256", SHA256, None)
    with pytest.raises(ArtifactError, match="no checksum pinned"):
        resolve(ARTIFACTS, "flink", overrides={"flink": {"checksum": None}})


def test_merge_is_one_level_deep():
    merged = merge_entry(ARTIFACTS["jdk25"], {"checksums": {"26": {"x86_64": "x"}}, "arch_map": None})
    assert set(merged["checksums"]) == {"25.0.4.1+1", "26"} and "arch_map" not in merged


def test_a_mirror_serves_the_artifact_but_does_not_vouch_for_it():
    art = resolve(ARTIFACTS, "prometheus", "x86_64", "https://mirror.example.net/fdp/")
    assert art["url"] == "https://mirror.example.net/fdp/prometheus/3.13.3/prometheus-3.13.3.linux-amd64.tar.gz"
    assert art["upstream_url"].startswith("https://github.com/")  # recorded, not used
    # The checksum file of a pin by file comes from upstream, not from the mirror being checked.
    upstream = "https://github.com/prometheus/prometheus/releases/download/v3.13.3/sha256sums.txt"
    assert art["checksum_url"] == art["checksum_upstream_url"] == upstream
    assert art["checksum_cache_path"] == "prometheus/3.13.3/sha256sums.txt"
    # Only a site that trusts its mirror reads the mirror's checksum file.
    trusted = resolve(ARTIFACTS, "prometheus", "x86_64", "https://mirror.example.net/fdp/", checksum_source="mirror")
    assert trusted["checksum_url"] == "https://mirror.example.net/fdp/prometheus/3.13.3/sha256sums.txt"
    with pytest.raises(ArtifactError, match="platform_artifact_checksum_source 'both' must be one of upstream, mirror"):
        resolve(ARTIFACTS, "prometheus", "x86_64", "", checksum_source="both")


def test_directory_mirror_becomes_file_url_and_quotes_versions():
    art = resolve(ARTIFACTS, "jdk25", "x86_64", "/srv/fdp bundle")
    assert art["url"] == ("file:///srv/fdp%20bundle/jdk25/25.0.4.1%2B1/"
                          "OpenJDK25U-jdk_x64_linux_hotspot_25.0.4.1_1.tar.gz")
    assert art["mirror_path"] == "jdk25/25.0.4.1+1/OpenJDK25U-jdk_x64_linux_hotspot_25.0.4.1_1.tar.gz"
    with pytest.raises(ArtifactError, match="must be an http"):
        mirror_url("mirror.example.net", "flink", "1", "f")


def test_cache_paths_and_file_mode():
    art = resolve(ARTIFACTS, "minio", cache_dir="/root/.cache/fdp/artifacts/")
    assert art["cache_path"] == ("/root/.cache/fdp/artifacts/minio/RELEASE.2025-09-07T16-13-09Z/"
                                 "minio.linux-amd64.RELEASE.2025-09-07T16-13-09Z")
    assert art["format"] == "file" and art["mode"] == "0755"
    assert art["checksum_cache_path"] is None


@pytest.mark.parametrize("entry, message", [
    ({"version": "1", "url": "https://x/f.tgz", "checksum": "crc32:abc"}, "must be '<sha1"),
    ({"version": "1", "url": "https://x/f.tgz", "checksums": {"1": {"any": "md5:" + "a" * 32}}}, "too weak"),
    ({"version": "1", "url": "https://x/f.tgz", "strip": 7, "checksum": "sha256:https://x/s"}, "strip 7"),
    ({"version": "1", "url": "https://x/f.tgz", "checksums": {"1": {"any": "sha256:abc"}}}, "64 hex digits"),
    ({"version": "1", "url": "https://x/f.tgz", "checksum": "sha256:{nope}"}, "unknown placeholder"),
    ({"version": "1", "url": "https://x/", "checksum": "sha256:https://x/s"}, "does not end in a file name"),
    ({"url": "https://x/f.tgz"}, "'version' is missing"),
    ({"version": "1", "url": "https://x/f.tgz", "format": "zip"}, "format 'zip'"),
])
def test_bad_entries_are_explained(entry, message):
    with pytest.raises(ArtifactError, match=message):
        resolve({"thing": entry}, "thing")


def test_flat_tarball_and_md5_checksum_file():
    # SeaweedFS: `weed` at the top of the tarball, and only an upstream .md5 beside it.
    art = resolve({"weed": {"version": "4.48", "strip": 0, "checksum": "md5:{url}.md5",
                            "url": "https://github.com/x/y/releases/download/{version}/linux_amd64.tar.gz"}}, "weed")
    assert art["strip"] == 0 and art["checksum_algorithm"] == "md5"
    assert art["checksum_file"] == "linux_amd64.tar.gz.md5"
    assert checksum_from_text("0cc175b9c0f1b6a831c399e269772661  linux_amd64.tar.gz\n",
                              "linux_amd64.tar.gz", "md5") == "0cc175b9c0f1b6a831c399e269772661"
    assert resolve(ARTIFACTS, "flink")["strip"] == 1


def test_names_and_unknown_artifacts():
    with pytest.raises(ArtifactError, match="unknown artifact 'kafka'"):
        resolve(ARTIFACTS, "kafka")
    with pytest.raises(ArtifactError, match="must match"):
        resolve({"hive-metastore": {}}, "hive-metastore")


GPG_PRINT_MD = """kafka_2.13-3.7.0.tgz: 7D4C8A3B 1E2F0A11 ...
"""


@pytest.mark.parametrize("text, name, algo, expected", [
    (f"{'b' * 64}  prometheus-3.13.3.linux-arm64.tar.gz\n{'c' * 64}  prometheus-3.13.3.linux-amd64.tar.gz\n",
     "prometheus-3.13.3.linux-amd64.tar.gz", "sha256", "c" * 64),
    (f"{'D' * 128} *flink-2.1.3-bin-scala_2.12.tgz\n", "flink-2.1.3-bin-scala_2.12.tgz", "sha512", "d" * 128),
    (f"{'e' * 40}\n", "trino-server-483.tar.gz", "sha1", "e" * 40),
    (f"{'f' * 64}  OpenJDK25U-jdk_x64_linux_hotspot_25.0.4.1_1.tar.gz\n",
     "OpenJDK25U-jdk_x64_linux_hotspot_25.0.4.1_1.tar.gz", "sha256", "f" * 64),
    (f"SHA512 (hadoop-3.4.3.tar.gz) = {'1' * 128}\n", "hadoop-3.4.3.tar.gz", "sha512", "1" * 128),
    ("kafka_2.13-4.3.0.tgz: " + " ".join(["ABCD1234"] * 8) + "\n                      "
     + " ".join(["ABCD1234"] * 8) + "\n", "kafka_2.13-4.3.0.tgz", "sha512", "abcd1234" * 16),
])
def test_checksum_files_in_upstream_formats(text, name, algo, expected):
    assert checksum_from_text(text, name, algo) == expected


def test_checksum_file_without_the_file_or_with_a_short_digest_fails():
    with pytest.raises(ArtifactError, match="no sha256 digest for a.tgz"):
        checksum_from_text(f"{'c' * 64}  b.tgz\n", "a.tgz", "sha256")
    with pytest.raises(ArtifactError, match="no sha512 digest"):
        checksum_from_text(f"{'c' * 64}  a.tgz\n", "a.tgz", "sha512")


def test_prune_keeps_current_previous_and_newest():
    found = [{"path": f"/opt/fdp/flink-2.1.{i}", "mtime": i} for i in range(5)]
    assert prune(found, "/opt/fdp/flink-2.1.4", "/opt/fdp/flink-2.1.0", 2) == [
        "/opt/fdp/flink-2.1.3", "/opt/fdp/flink-2.1.2", "/opt/fdp/flink-2.1.1"]
    assert prune(found, "/opt/fdp/flink-2.1.4", "/opt/fdp/flink-2.1.0", 3) == [
        "/opt/fdp/flink-2.1.2", "/opt/fdp/flink-2.1.1"]
    # rollback onto the previous version: the one we came from stays
    assert prune(found[:2], "/opt/fdp/flink-2.1.0", "/opt/fdp/flink-2.1.1", 2) == []
    assert prune([], "/opt/fdp/flink-2.1.4", None, 1) == []


def test_prune_removes_only_directories_the_role_unpacked():
    """The role finds its markers: a directory without one (an operator's, or another artifact's
    named alike) is never a candidate."""
    markers = [{"path": f"/opt/fdp/flink-2.1.{i}/.fdp-artifact.json", "mtime": i} for i in range(4)]
    markers.append({"path": "/opt/fdp/flink_tools-1.0/.fdp-artifact.json", "mtime": 9})
    assert prune(markers, "/opt/fdp/flink-2.1.3", "/opt/fdp/flink-2.1.2", 2, "flink") == [
        "/opt/fdp/flink-2.1.1", "/opt/fdp/flink-2.1.0"]
    # versioned directories given as such still work (the marker is optional in the answer)
    assert prune([{"path": "/opt/fdp/flink-2.1.0/", "mtime": 0}], "/opt/fdp/flink-2.1.3", None, 1, "flink") == [
        "/opt/fdp/flink-2.1.0"]


def test_marker_is_stable():
    art = resolve(ARTIFACTS, "flink")
    assert marker(art) == marker(dict(art)) and '"version": "2.1.3"' in marker(art)


def test_the_pinned_versions_resolve_on_every_declared_architecture():
    artifacts = yaml.safe_load(VERSIONS.read_text(encoding="utf-8"))["platform_artifacts"]
    problems = validate(artifacts)
    assert not problems, problems
    needed = {"trino_server", "trino_cli", "kafka", "flink", "hive_metastore", "hadoop", "hadoop_aws",
              "aws_sdk_bundle", "postgresql_jdbc", "iceberg_flink_runtime", "flink_connector_kafka",
              "minio", "minio_client", "prometheus", "alertmanager", "node_exporter", "grafana",
              "jmx_exporter", "jdk17", "jdk21", "jdk25"}
    assert needed <= set(artifacts)
    for name, entry in artifacts.items():
        assert "dl.min.io" not in entry["url"], name


# Pins that still name an upstream checksum file: no published digest of these exact files could
# be confirmed from two sources where this project is built (upstream's download sites are out
# of reach there). The list may only shrink: every other pin is a SHA-256 or SHA-512 value.
BY_CHECKSUM_FILE = {"flink/any", "flink_connector_kafka/any", "hive_metastore/any", "hadoop_aws/any",
                    "aws_sdk_bundle/any", "seaweedfs/x86_64", "seaweedfs/aarch64", "prometheus/aarch64",
                    "alertmanager/x86_64", "alertmanager/aarch64"}


def test_every_other_pin_is_a_sha256_or_sha512_value():
    artifacts = yaml.safe_load(VERSIONS.read_text(encoding="utf-8"))["platform_artifacts"]
    by_file = set()
    for name, entry in artifacts.items():
        for arch in entry.get("architectures") or ["any"]:
            art = resolve(artifacts, name, "x86_64" if arch == "any" else arch)
            key = f"{name}/{art['build_arch']}"
            if art["checksum_value"] is None:
                by_file.add(key)
            else:
                assert art["checksum_algorithm"] in ("sha256", "sha512"), key
                assert art["checksum_upstream_url"] is None, key
    assert by_file == BY_CHECKSUM_FILE


def test_trino_comes_from_its_github_releases():
    # Maven Central stops at Trino 476; 477 and later are GitHub release assets only.
    artifacts = yaml.safe_load(VERSIONS.read_text(encoding="utf-8"))["platform_artifacts"]
    server, cli = resolve(artifacts, "trino_server"), resolve(artifacts, "trino_cli")
    assert server["upstream_url"] == "https://github.com/trinodb/trino/releases/download/483/trino-server-483.tar.gz"
    assert cli["upstream_url"] == "https://github.com/trinodb/trino/releases/download/483/trino-cli-483"
    assert cli["format"] == "file" and cli["mode"] == "0755"


def test_iceberg_runtime_matches_the_flink_minor():
    artifacts = yaml.safe_load(VERSIONS.read_text(encoding="utf-8"))["platform_artifacts"]
    minor = ".".join(artifacts["flink"]["version"].split(".")[:2])
    assert f"iceberg-flink-runtime-{minor}/" in artifacts["iceberg_flink_runtime"]["url"]
    assert artifacts["flink_connector_kafka"]["version"].endswith(f"-{minor}")
    assert artifacts["hadoop_aws"]["version"] == artifacts["hadoop"]["version"]


def test_lab_pins_resolve_against_the_lab_mirror():
    artifacts = yaml.safe_load(VERSIONS.read_text(encoding="utf-8"))["platform_artifacts"]
    lab = yaml.safe_load(LAB.read_text(encoding="utf-8"))["all"]["vars"]
    for name in lab["lab_artifact_pins"]:
        art = resolve(artifacts, name, "x86_64", lab["platform_artifact_mirror"], lab["lab_artifact_pins"])
        assert art["url"].startswith("file:///var/cache/fdp-lab/mirror/")
        assert art["checksum_value"] and art["checksum_url"] is None, name  # lab pins are values
