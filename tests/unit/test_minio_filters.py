"""Filters of the MinIO role: the pool's layout rules, its endpoint list, and each consumer's
least-privilege policy (and how a policy MinIO reports is compared with it)."""

from __future__ import annotations

import json

import pytest

from fdp_minio import MinioError, consumers, layout_errors, policy, policy_matches, set_size, stale_policies, volumes

BUCKETS = {"warehouse": {"consumers": ["hive_metastore", "trino", "flink"]}, "flink": {"consumers": ["flink"]},
           "backups": {"consumers": ["backups"]}}


def hv(**drives):
    return {h: {"ansible_host": f"10.0.0.{i + 1}", "minio_drives": d} for i, (h, d) in enumerate(drives.items())}


@pytest.mark.parametrize(("layout", "ok"), [
    ({"m1": ["/mnt/d1"], "m2": ["/mnt/d1"], "m3": ["/mnt/d1"], "m4": ["/mnt/d1"]}, True),   # 4 x 1
    ({"m1": ["/mnt/d1", "/mnt/d2"], "m2": ["/mnt/d1", "/mnt/d2"]}, True),                  # 2 x 2
    ({"m1": ["/mnt/d1", "/mnt/d2", "/mnt/d3", "/mnt/d4"]}, True),                          # 1 x 4
    ({"m1": ["/mnt/d1"], "m2": ["/mnt/d1"], "m3": ["/mnt/d1"]}, False),                    # 3 drives
    ({"m1": ["/mnt/d1", "/mnt/d2"], "m2": ["/mnt/d1"]}, False),                            # uneven
    ({"m1": ["/mnt/d1"]}, False),                                                          # single, not allowed
])
def test_layout_rules(layout, ok):
    errors = layout_errors(list(layout), hv(**layout))
    assert (errors == []) is ok, errors


def test_single_drive_only_when_asked_and_bad_paths_refused():
    assert layout_errors(["m1"], hv(m1=["/mnt/d1"]), allow_single_drive=True) == []
    errors = layout_errors(["m1"], hv(m1=["/", "/data", "/mnt/../etc", "mnt/d", "/mnt/d1", "/mnt/d1/"]))
    assert sum("two levels deep" in e for e in errors) == 4
    assert any("twice" in e for e in errors)
    assert any("minio_drives is empty" in e for e in layout_errors(["m1"], {"m1": {}}))
    assert any("equal erasure sets" in e for e in layout_errors(
        [f"m{i}" for i in range(17)], {f"m{i}": {"minio_drives": ["/mnt/d1"]} for i in range(17)}))


def test_set_size_and_volumes():
    assert [set_size(n) for n in (1, 4, 6, 8, 12, 16, 24, 32)] == [1, 4, 6, 8, 12, 16, 12, 16]
    with pytest.raises(MinioError):
        set_size(17)
    layout = hv(m1=["/mnt/d1", "/mnt/d2/"], m2=["/mnt/d1", "/mnt/d2"])
    assert volumes(["m1", "m2"], layout, 9000) == [
        "https://10.0.0.1:9000/mnt/d1", "https://10.0.0.1:9000/mnt/d2",
        "https://10.0.0.2:9000/mnt/d1", "https://10.0.0.2:9000/mnt/d2"]


def test_each_consumer_gets_its_own_buckets_only():
    assert consumers(BUCKETS) == ["backups", "flink", "hive_metastore", "trino"]
    doc = policy("flink", BUCKETS)
    resources = [r for s in doc["Statement"] for r in s["Resource"]]
    assert resources == ["arn:aws:s3:::flink", "arn:aws:s3:::warehouse", "arn:aws:s3:::flink/*", "arn:aws:s3:::warehouse/*"]
    actions = {a for s in doc["Statement"] for a in s["Action"]}
    assert not any(a.startswith("admin:") or a in ("s3:*", "s3:DeleteBucket", "s3:PutBucketPolicy") for a in actions)
    assert "arn:aws:s3:::backups" not in json.dumps(policy("trino", BUCKETS))
    with pytest.raises(MinioError, match="no bucket"):
        policy("nobody", BUCKETS)


def test_reported_policies_are_compared_by_content():
    wanted = policy("trino", BUCKETS)
    reported = {"policy": "fdp-trino", "policyInfo": {"PolicyName": "fdp-trino", "Policy": {
        "Version": "2012-10-17",
        "Statement": [dict(s, Action=list(reversed(s["Action"]))) for s in reversed(wanted["Statement"])]}}}
    assert policy_matches(json.dumps(reported), wanted)
    changed = json.loads(json.dumps(reported))
    changed["policyInfo"]["Policy"]["Statement"][0]["Resource"] = ["arn:aws:s3:::*"]
    assert not policy_matches(changed, wanted)
    assert not policy_matches("not json", wanted)
    results = [{"item": "trino", "stdout": json.dumps(reported)}, {"item": "flink", "stdout": json.dumps(changed)}]
    assert stale_policies(results, BUCKETS) == ["flink"]
