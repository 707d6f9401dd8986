"""Filters of the MinIO role (roles/minio): the server pool from the inventory (every host's drives,
one erasure-coded pool), its layout rules, and the least-privilege policy of each consumer of the
S3 contract.

Pure functions, unit-tested in tests/unit/test_minio_filters.py.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

try:  # inside Ansible: errors surface as clean task failures
    from ansible.errors import AnsibleFilterError as MinioError
except ImportError:  # pragma: no cover
    class MinioError(Exception):  # type: ignore[no-redef]
        """A MinIO layout or policy is wrong."""

# Erasure sets hold 2 to 16 drives (MinIO's setSizes); the platform wants parity that survives a
# lost host, so a pool needs at least 4 drives, split into equal sets of 4 to 16.
SET_SIZES = range(4, 17)
# What a consumer may do on its own buckets: list them, and read, write and delete their objects
# (multipart uploads included) - no bucket administration, no policy, no other bucket.
BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
OBJECT_ACTIONS = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                  "s3:PutObject"]


def _address(host: str, hostvars: Mapping[str, Mapping[str, Any]]) -> str:
    return str((hostvars.get(host) or {}).get("ansible_host") or host)


def drives_of(host: str, hostvars: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [str(d) for d in ((hostvars.get(host) or {}).get("minio_drives") or [])]


def layout_errors(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]],
                  allow_single_drive: bool = False) -> list[str]:
    """The pool the inventory describes: every host with the same number of drives (MinIO
    stripes each erasure set across hosts evenly), drive paths absolute, distinct and not a
    system directory, and enough drives for erasure coding - at least 4 in total, in sets of
    4 to 16 - unless a single drive without redundancy is asked for (a test host)."""
    hosts = list(hosts)
    errors: list[str] = []
    if not hosts:
        return errors
    counts = {}
    for host in hosts:
        drives = drives_of(host, hostvars)
        counts[host] = len(drives)
        if not drives:
            errors.append(f"{host}: minio_drives is empty (one mounted drive per entry, e.g. [/mnt/minio1])")
        for drive in drives:
            norm = posixpath.normpath(drive)
            if not drive.startswith("/") or ".." in drive.split("/") or norm.count("/") < 2:
                errors.append(f"{host}: minio drive {drive!r} must be an absolute path at least two levels deep "
                              "(a mount point such as /mnt/minio1, never / or /data)")
        if len(set(map(posixpath.normpath, drives))) != len(drives):
            errors.append(f"{host}: minio_drives lists a drive twice")
    if len(set(counts.values())) > 1:
        errors.append("every minio host needs the same number of drives (MinIO stripes erasure sets across hosts): "
                      + ", ".join(f"{h} {n}" for h, n in counts.items()))
        return errors
    total = sum(counts.values())
    if total == 1 and allow_single_drive:
        return errors
    if total < 4:
        errors.append(f"the minio pool has {total} drive(s): erasure coding needs at least 4 "
                      "(e.g. 4 hosts x 1 drive, 2 x 2, 1 x 4); minio_allow_single_drive runs one drive without redundancy")
    elif not any(total % size == 0 for size in SET_SIZES):
        errors.append(f"the minio pool's {total} drives cannot be split into equal erasure sets of 4 to 16 drives")
    return errors


def set_size(total: int) -> int:
    """The erasure set size MinIO chooses for a symmetric pool: the largest of 4..16 dividing the
    drive count (a single drive: 1)."""
    if total == 1:
        return 1
    sizes = [s for s in SET_SIZES if total % s == 0]
    if not sizes:
        raise MinioError(f"{total} drives cannot be split into erasure sets of 4 to 16")
    return max(sizes)


def volumes(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]], port: int, scheme: str = "https") -> list[str]:
    """The server arguments of the pool: one endpoint per drive of every host, in inventory order
    (the same list on every host, as MinIO requires)."""
    out = []
    for host in hosts:
        out += [f"{scheme}://{_address(host, hostvars)}:{int(port)}{d.rstrip('/')}" for d in drives_of(host, hostvars)]
    return out


def consumers(buckets: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted({str(c) for spec in buckets.values() for c in (spec or {}).get("consumers", [])})


def policy(consumer: str, buckets: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The IAM policy of one consumer: its own buckets of the contract, nothing else."""
    own = sorted(name for name, spec in buckets.items() if consumer in (spec or {}).get("consumers", []))
    if not own:
        raise MinioError(f"consumer {consumer!r} has no bucket in platform_s3_buckets")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": BUCKET_ACTIONS, "Resource": [f"arn:aws:s3:::{b}" for b in own]},
            {"Effect": "Allow", "Action": OBJECT_ACTIONS, "Resource": [f"arn:aws:s3:::{b}/*" for b in own]},
        ],
    }


def policy_matches(current: Any, wanted: Mapping[str, Any]) -> bool:
    """Whether the policy MinIO reports (`mc admin policy info --json`) is the wanted one."""
    if isinstance(current, str):
        try:
            current = json.loads(current)
        except ValueError:
            return False
    if not isinstance(current, Mapping):
        return False
    doc = current.get("policyInfo", {}).get("Policy", current.get("Policy", current))

    def norm(p):
        statements = p.get("Statement", []) if isinstance(p, Mapping) else []
        return sorted(json.dumps({"Effect": s.get("Effect"), "Action": sorted(_list(s.get("Action"))),
                                  "Resource": sorted(_list(s.get("Resource")))}, sort_keys=True) for s in statements)

    return norm(doc) == norm(wanted)


def stale_policies(results: Iterable[Mapping[str, Any]], buckets: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The consumers whose policy, as `mc admin policy info --json` printed it (registered loop
    results: item = consumer, stdout), is not the one the contract wants."""
    return [str(r["item"]) for r in results if not policy_matches(r.get("stdout", ""), policy(str(r["item"]), buckets))]


def _list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


class FilterModule:
    def filters(self):
        return {
            "fdp_minio_layout_errors": layout_errors,
            "fdp_minio_set_size": set_size,
            "fdp_minio_volumes": volumes,
            "fdp_minio_consumers": consumers,
            "fdp_minio_policy": policy,
            "fdp_minio_policy_matches": policy_matches,
            "fdp_minio_stale_policies": stale_policies,
        }
