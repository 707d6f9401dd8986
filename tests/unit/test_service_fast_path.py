"""The service skeleton's fast path: the host module that compares files and the install stamp
(fdp_service_stamp), and the controller side's key (fdp_service_check). Each "clean" answer
skips work, so every test here is about a difference that must be noticed."""

from __future__ import annotations

import grp
import hashlib
import importlib.util
import json
import os
import pwd
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _load(relative, name):
    spec = importlib.util.spec_from_file_location(name, REPO / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


STAMP = _load("roles/service/library/fdp_service_stamp.py", "fdp_service_stamp_module")
CHECK = _load("roles/service/action_plugins/fdp_service_check.py", "fdp_service_check_action")
ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def _spec(path, content, mode="0640"):
    return {"path": str(path), "sha256": hashlib.sha256(content).hexdigest(), "mode": mode, "owner": ME,
            "group": MY_GROUP}


def test_files_match_only_with_content_mode_and_owner(tmp_path):
    conf = tmp_path / "server.properties"
    conf.write_bytes(b"a=1\n")
    conf.chmod(0o640)
    assert STAMP.file_differences([_spec(conf, b"a=1\n")]) == []
    assert STAMP.file_differences([_spec(conf, b"a=2\n")]) == [f"{conf}: content"]
    assert STAMP.file_differences([_spec(conf, b"a=1\n", mode="0600")]) == [f"{conf}: mode"]
    assert STAMP.file_differences([dict(_spec(conf, b"a=1\n"), owner="no-such-user-fdp")]) == [f"{conf}: owner"]
    conf.unlink()
    assert STAMP.file_differences([_spec(conf, b"a=1\n")]) == [f"{conf}: missing"]
    (tmp_path / "d").mkdir()
    assert STAMP.file_differences([_spec(tmp_path / "d", b"")]) == [f"{tmp_path / 'd'}: not a regular file"]


def test_a_copy_matches_only_its_original(tmp_path):
    """An account's copy of the host key (service_tls_copies): the same content as the original
    on the host, whatever it is (the controller never sees a key)."""
    original, copy = tmp_path / "host.key", tmp_path / "copy.key"
    original.write_bytes(b"key 1\n")
    copy.write_bytes(b"key 1\n")
    copy.chmod(0o640)
    spec = {"path": str(copy), "same_as": str(original), "mode": "0640", "owner": ME, "group": MY_GROUP}
    assert STAMP.file_differences([spec]) == []
    original.write_bytes(b"key 2\n")  # a rotation
    assert STAMP.file_differences([spec]) == [f"{copy}: content differs from {original}"]
    original.unlink()
    assert STAMP.file_differences([spec]) == [f"{copy}: {original} missing"]
    copy.chmod(0o644)
    assert STAMP.file_differences([spec]) == [f"{copy}: mode"]


def test_modes_are_taken_as_ansible_takes_them():
    assert STAMP._mode("0640") == 0o640
    assert STAMP._mode("640") == 0o640
    assert STAMP._mode(0o750) == 0o750


def test_path_signature_notices_mode_link_and_content_changes(tmp_path):
    directory = tmp_path / "etc"
    directory.mkdir(mode=0o750)
    directory.chmod(0o750)
    before = STAMP.path_signature(str(directory))
    directory.chmod(0o755)
    assert STAMP.path_signature(str(directory)) != before

    marker = tmp_path / "flink-2.1.3" / ".fdp-artifact.json"
    marker.parent.mkdir()
    marker.write_text("{}")
    signed = STAMP.path_signature(str(marker))
    marker.write_text('{"x": 1}')
    assert STAMP.path_signature(str(marker)) != signed

    link = tmp_path / "flink"
    link.symlink_to(marker.parent)
    pointing = STAMP.path_signature(str(link))
    assert pointing.startswith("link ") and pointing.endswith(" ok")
    marker.unlink()
    marker.parent.rmdir()
    assert STAMP.path_signature(str(link)).endswith(" dangling")
    assert STAMP.path_signature(str(tmp_path / "gone")) == "missing"


def test_the_stamp_is_clean_only_with_the_same_key_and_unchanged_paths(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    stamp = {"key": "k1", "paths": {str(data): STAMP.path_signature(str(data))}, "packages": [], "users": []}
    assert STAMP.stamp_differences(stamp, "k1") == []
    assert STAMP.stamp_differences({}, "k1") == ["no install stamp"]
    assert STAMP.stamp_differences(stamp, "k2") == ["install specification or skeleton changed"]
    data.chmod(0o700)
    assert STAMP.stamp_differences(stamp, "k1") == [f"{data}: changed"]
    data.rmdir()
    assert STAMP.stamp_differences(stamp, "k1") == [f"{data}: changed"]


def test_packages_and_accounts_are_checked_again():
    def dpkg(argv, **_):
        class Result:
            stdout = "openjdk-17-jre-headless installed\ncurl not-installed\n"
        assert argv[:2] == ["dpkg-query", "-W"]
        return Result()
    assert STAMP.packages_installed(["openjdk-17-jre-headless", "curl", "gone"], run=dpkg) == {
        "openjdk-17-jre-headless": True, "curl": False, "gone": False}
    assert STAMP.packages_installed([]) == {}
    assert STAMP.account_differences([{"name": "no-such-user-fdp"}]) == ["account no-such-user-fdp: missing"]
    root_groups = [g.gr_name for g in grp.getgrall() if "root" in g.gr_mem]
    assert STAMP.account_differences([{"name": "root", "groups": root_groups}]) == []
    assert STAMP.account_differences([{"name": "root", "groups": ["no-such-group-fdp"]}]) == [
        "account root: not in no-such-group-fdp"]


def test_recording_writes_the_stamp_the_check_then_accepts(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    stamp_file = tmp_path / ".services" / "x.install.json"
    paths = [str(data), str(tmp_path / "not-there")]
    stamp = {"key": "k", "paths": {p: STAMP.path_signature(p) for p in sorted(paths)}, "packages": [], "users": []}
    STAMP._write(str(stamp_file), stamp)
    assert json.loads(stamp_file.read_text()) == stamp
    assert oct(stamp_file.stat().st_mode & 0o777) == "0o644"
    assert STAMP.stamp_differences(STAMP._read(str(stamp_file)), "k") == []
    (tmp_path / "not-there").mkdir()  # a path that appears is a difference too
    assert STAMP.stamp_differences(STAMP._read(str(stamp_file)), "k") == [f"{tmp_path / 'not-there'}: changed"]
    assert STAMP._read(str(tmp_path / "unreadable.json")) == {}


def test_the_install_key_follows_the_specification_and_the_code(tmp_path):
    roles = tmp_path / "roles"
    for role in CHECK.CODE_ROLES:
        (roles / role / "tasks").mkdir(parents=True)
        (roles / role / "tasks" / "main.yml").write_text("---\n")
    spec = {"account": "flink", "versions": ["flink-2.1.3", "jdk17_debian"]}
    key = CHECK.install_key(spec, str(roles))
    assert CHECK.install_key(dict(spec), str(roles)) == key
    assert CHECK.install_key(dict(spec, versions=["flink-2.1.2", "jdk17_debian"]), str(roles)) != key
    CHECK._CODE_DIGEST.clear()
    (roles / "artifact" / "tasks" / "main.yml").write_text("---\n# changed\n")
    assert CHECK.install_key(spec, str(roles)) != key


def test_content_is_hashed_as_the_copy_action_writes_it():
    assert CHECK.content_bytes("s3cret\n") == b"s3cret\n"
    assert CHECK.content_bytes({"a": 1}) == b'{"a": 1}'
    assert CHECK.content_bytes([1, 2]) == b"[1, 2]"


def test_a_path_that_must_be_absent_is_noticed_file_or_dangling_link(tmp_path):
    stale = tmp_path / "90-fdp-limits.conf"
    assert STAMP.absent_differences([str(stale)]) == []
    stale.write_text("x")
    assert STAMP.absent_differences([str(stale)]) == [f"{stale}: present"]
    stale.unlink()
    stale.symlink_to(tmp_path / "nowhere")
    assert STAMP.absent_differences([str(stale)]) == [f"{stale}: present"]
