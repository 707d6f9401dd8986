"""SeaweedFS filters: replication against the topology, layout rules, volume sizing from the
disks, the S3 identities of the contract's consumers, the checks of extra flags, volume
directories and the S3 contract itself."""

from __future__ import annotations

import pytest

from fdp_seaweedfs import (
    SeaweedError,
    copies,
    declared_sizes,
    dir_errors,
    disks,
    flag_errors,
    identities,
    layout_errors,
    replication,
    s3_contract_errors,
    topology,
    volume_plan,
    volume_size_limit,
)

HV = {f"s{i}": {} for i in range(1, 5)}


def placed(**where):
    """hostvars placing hosts: placed(s1=("dc1", "r1"), ...)."""
    return {h: {"seaweedfs_data_center": dc, "seaweedfs_rack": rack} for h, (dc, rack) in where.items()}


@pytest.mark.parametrize("rep,expected", [("000", 1), ("001", 2), ("010", 2), ("110", 3), ("200", 3)])
def test_copies_count_the_original_and_each_digit(rep, expected):
    assert copies(rep) == expected


def test_topology_defaults_to_one_rack():
    assert topology(["s1", "s2"], HV) == {"dc1": {"rack1": ["s1", "s2"]}}
    hv = placed(s1=("a", "x"), s2=("a", "y"), s3=("b", "x"))
    assert topology(["s1", "s2", "s3"], hv) == {"a": {"x": ["s1"], "y": ["s2"]}, "b": {"x": ["s3"]}}


def test_auto_replication_spreads_two_copies_as_far_as_the_hosts_allow():
    assert replication("auto", ["s1"], HV) == "000"
    assert replication("auto", ["s1", "s2", "s3"], HV) == "001"
    assert replication("auto", ["s1", "s2"], placed(s1=("dc1", "r1"), s2=("dc1", "r2"))) == "010"
    assert replication("auto", ["s1", "s2"], placed(s1=("dc1", "r1"), s2=("dc2", "r1"))) == "100"
    assert replication("002", ["s1"], HV) == "002"  # an explicit setting is kept (and checked below)


def test_a_sound_layout_has_no_errors():
    assert layout_errors("auto", ["s1"], ["s1", "s2", "s3"], HV) == []
    assert layout_errors("auto", ["s1", "s2", "s3"], ["s1", "s2", "s3"], HV) == []
    assert layout_errors("auto", ["s1"], ["s1"], HV) == []  # one host: one copy is all there can be
    assert layout_errors("auto", [], [], HV) == []  # no SeaweedFS at all


def test_masters_need_volume_hosts_and_an_odd_count():
    assert "seaweedfs_master has none" in layout_errors("auto", [], ["s1"], HV)[0]
    assert "seaweedfs group" in layout_errors("auto", ["s1"], [], HV)[0]
    errors = layout_errors("auto", ["s1", "s2"], ["s1", "s2"], HV)
    assert len(errors) == 1 and "odd number" in errors[0]


def test_replication_beyond_the_topology_is_refused():
    errors = layout_errors("100", ["s1"], ["s1", "s2"], HV)
    assert errors == ["replication 100 puts copies in 2 data centers; the seaweedfs hosts span 1"]
    assert "2 racks" in layout_errors("010", ["s1"], ["s1", "s2"], HV)[0]
    assert "rack with 3 seaweedfs hosts" in layout_errors("002", ["s1"], ["s1", "s2"], HV)[0]
    assert "three digits" in layout_errors("2x", ["s1"], ["s1"], HV)[0]


def test_a_single_copy_on_several_hosts_needs_an_opt_in():
    errors = layout_errors("000", ["s1"], ["s1", "s2"], HV)
    assert len(errors) == 1 and "losing a host loses objects" in errors[0]
    assert layout_errors("000", ["s1"], ["s1", "s2"], HV, allow_single_copy=True) == []


MOUNTS = [{"mount": "/", "size_total": 100 << 30}, {"mount": "/srv/d1", "size_total": 500 << 30}]


def test_disks_use_the_declared_size_else_the_filesystem_of_the_path():
    assert disks([{"path": "/srv/d1/weed", "size_gb": 0}, {"path": "/var/lib/x", "size_gb": 0},
                  {"path": "/srv/d1/other", "size_gb": 2.5}], MOUNTS) == [
        {"path": "/srv/d1/weed", "size_mb": 500 * 1024}, {"path": "/var/lib/x", "size_mb": 100 * 1024},
        {"path": "/srv/d1/other", "size_mb": 2560}]
    assert disks([{"path": "/srv/d10/x"}], MOUNTS) == [{"path": "/srv/d10/x", "size_mb": 100 * 1024}]  # not /srv/d1
    with pytest.raises(SeaweedError, match="declare size_gb"):
        disks([{"path": "/data"}], [])


def test_volume_size_is_a_sixteenth_of_the_smallest_declared_disk_within_bounds():
    assert volume_size_limit([]) == 30000  # nothing declared: upstream's default
    assert volume_size_limit([256 * 1024, 64 * 1024]) == 4096
    assert volume_size_limit([8 * 1024]) == 1024  # never below 1 GiB
    assert volume_size_limit([10 << 20]) == 30000  # never above upstream's default
    assert volume_size_limit([64 * 1024], 2048) == 2048  # the setting wins
    hv = {"s1": {"seaweedfs_volume_dirs": [{"path": "/a", "size_gb": 64}, {"path": "/b", "size_gb": 0}]},
          "s2": {"seaweedfs_volume_dirs": [{"path": "/a", "size_gb": 32}]}, "s3": {}}
    assert declared_sizes(["s1", "s2", "s3"], hv) == [64 * 1024, 32 * 1024]


def test_volume_plan_fills_each_disk_minus_the_reserve():
    plan = volume_plan([{"path": "/a", "size_mb": 100 * 1024}, {"path": "/b", "size_mb": 20 * 1024}], 1024, 10)
    assert plan == [{"path": "/a", "max": 90}, {"path": "/b", "max": 18}]
    with pytest.raises(SeaweedError, match="holds 3 volumes of 30000 MiB"):
        volume_plan([{"path": "/a", "size_mb": 100 * 1024}], 30000, 10)


def test_each_consumer_gets_its_own_identity_on_its_own_buckets():
    buckets = {"warehouse": {"consumers": ["trino", "flink"]}, "flink": {"consumers": ["flink"]},
               "backups": {"consumers": ["backups"]}}
    creds = {c: {"access_key": f"AK-{c}", "secret_key": f"SK-{c}"} for c in ("trino", "flink", "backups")}
    doc = identities(buckets, creds)
    by_name = {i["name"]: i for i in doc["identities"]}
    assert sorted(by_name) == ["backups", "flink", "trino"]
    assert by_name["trino"]["credentials"] == [{"accessKey": "AK-trino", "secretKey": "SK-trino"}]
    assert by_name["trino"]["actions"] == ["Read:warehouse", "Write:warehouse", "List:warehouse", "Tagging:warehouse"]
    assert set(by_name["flink"]["actions"]) == {f"{a}:{b}" for a in ("Read", "Write", "List", "Tagging")
                                                for b in ("flink", "warehouse")}
    assert not any("Admin" in a for i in doc["identities"] for a in i["actions"])
    with pytest.raises(SeaweedError, match="no S3 credential for consumer 'backups'"):
        identities(buckets, {})


def test_extra_flags_may_not_repeat_the_platform_flags():
    reserved = {"master": ["port", "mdir"], "volume": ["dir"]}
    assert flag_errors({"master": ["-raftHashicorp", "-electionTimeout=5s"]}, reserved) == []
    errors = flag_errors({"master": ["-port=1"], "volume": ["dir=/x"], "gateway": []}, reserved)
    assert errors == ["seaweedfs_extra_args.master: -port is set by the platform (addresses, ports, TLS, directories,"
                      " replication, sizing have variables of their own)",
                      "seaweedfs_extra_args.volume: 'dir=/x' is not a -flag",
                      "seaweedfs_extra_args: unknown server 'gateway' (master, volume, filer or s3)"]
    assert flag_errors(["-x"], reserved) == ["seaweedfs_extra_args must map master, volume, filer or s3 to a list of flags"]


def test_volume_dirs_are_absolute_distinct_and_sized():
    hv = {"s1": {"seaweedfs_volume_dirs": [{"path": "/a", "size_gb": 10}, {"path": "/a"}, {"path": "rel"},
                                           {"path": "/b", "size_gb": -1}, {"path": "/c", "size_gb": True}]}}
    errors = dir_errors(["s1"], hv)
    assert len(errors) == 4
    assert "names /a twice" in errors[0] and "absolute path" in errors[1]
    assert all("size_gb must be a number" in e for e in errors[2:])


def test_the_s3_contract_is_checked_before_any_host():
    good = {"warehouse": {"consumers": ["trino"]}, "my.bucket-1": {"consumers": ["backups"]}}
    assert s3_contract_errors(good, "auto", {"seaweedfs": ["s1"]}) == []
    assert s3_contract_errors(good, "external", {}) == []
    bad = {"Warehouse": {"consumers": ["trino"]}, "ab": {"consumers": ["x"]}, "a..b": {"consumers": ["x"]},
           "empty": {"consumers": []}, "weird": {"consumers": ["Trino-1"]}}
    errors = s3_contract_errors(bad, "auto", {"seaweedfs": ["s1"]})
    assert sum("not a valid S3 bucket name" in e for e in errors) == 3
    assert any("platform_s3_buckets.empty: needs consumers" in e for e in errors)
    assert any("consumer 'Trino-1' must be a lower-case identifier" in e for e in errors)
    assert "set platform_s3_backend" in s3_contract_errors(good, "auto", {"minio": ["m"], "seaweedfs": ["s"]})[0]
    assert s3_contract_errors(good, "minio", {"minio": ["m"], "seaweedfs": ["s"]}) == []
    assert s3_contract_errors(good, "minio", {"seaweedfs": ["s"]}) == ["platform_s3_backend is minio but its group has no hosts"]
    assert "must be auto, minio" in s3_contract_errors(good, "ceph", {})[0]


def test_a_consumer_must_be_a_platform_component():
    components = ["flink", "trino", "seaweedfs"]
    buckets = {"warehouse": {"consumers": ["trino", "hive_metastore", "trnio"]}, "backups": {"consumers": ["backups"]}}
    errors = s3_contract_errors(buckets, "auto", {"seaweedfs": ["s1"]}, components)
    assert len(errors) == 1 and "consumer 'trnio' is not a platform component" in errors[0]
    assert s3_contract_errors(buckets, "auto", {"seaweedfs": ["s1"]}) == []  # without the list: not checked
