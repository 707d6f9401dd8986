"""SeaweedFS: the layout rules (masters, replication against the hosts and racks), the volume
sizing from the disks declared, and the S3 identities built from the S3 contract's buckets.

Upstream sources, SeaweedFS 4.48 (seaweedfs/seaweedfs):

* weed/storage/super_block/replica_placement.go: a replication "xyz" is three digits, x = copies
  in other data centers, y = copies on other racks of the same data center, z = copies on other
  servers of the same rack; an object has 1 + x + y + z copies.
* weed/topology/volume_growth.go: the master grows a volume layout by placing all copies at once
  (it fails when the topology has too few data centers, racks or servers for the placement).
* weed/command/master.go (-volumeSizeLimitMB, default 30000) and weed/command/volume.go
  (-max: volumes per directory, -minFreeSpace: below it a volume turns read-only).
* weed/s3api/auth_credentials.go: an identity's actions are "Read", "Write", "List", "Tagging",
  "Admin", each optionally limited to a bucket as "<action>:<bucket>".

Pure functions, unit-tested in tests/unit/test_seaweedfs_filters.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

try:  # inside Ansible: errors surface as clean task failures
    from ansible.errors import AnsibleFilterError as SeaweedError
except ImportError:  # pragma: no cover
    class SeaweedError(Exception):  # type: ignore[no-redef]
        """A SeaweedFS setting is invalid; the message says how to fix it."""

REPLICATION_RE = re.compile(r"^[0-9]{3}$")
# Upstream's default and largest useful volume size of the normal build; the large-disk build
# (the pinned one) allows more, but 30000 MB keeps a volume quick to replicate, vacuum and move.
MAX_VOLUME_MB = 30000
MIN_VOLUME_MB = 1024
# A volume server should hold enough volumes for the master to spread writes: upstream grows 6
# volumes at a time for 2 copies (7 for one copy, 3 for three).
MIN_VOLUMES_PER_DIR = 8
# Space each disk keeps free beyond the volumes (-minFreeSpace turns volumes read-only below it).
BUCKET_ACTIONS = ("Read", "Write", "List", "Tagging")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def copies(replication: str) -> int:
    """How many copies of each object a replication setting keeps."""
    return 1 + sum(int(d) for d in str(replication))


def topology(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """{data center: {rack: [hosts]}} from seaweedfs_data_center / seaweedfs_rack of each host."""
    result: dict[str, dict[str, list[str]]] = {}
    for host in hosts:
        hv = hostvars.get(host, {})
        dc = str(hv.get("seaweedfs_data_center") or "dc1")
        rack = str(hv.get("seaweedfs_rack") or "rack1")
        result.setdefault(dc, {}).setdefault(rack, []).append(host)
    return result


def replication(setting: str, hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]]) -> str:
    """The replication in use: the setting, or for `auto` two copies placed as far apart as the
    topology allows (another data center, else another rack, else another server), one copy on a
    single server."""
    if str(setting) != "auto":
        return str(setting)
    topo = topology(hosts, hostvars)
    if len(topo) > 1:
        return "100"
    racks = next(iter(topo.values()), {})
    if len(racks) > 1:
        return "010"
    servers = sum(len(v) for v in racks.values())
    return "001" if servers > 1 else "000"


def layout_errors(setting: str, masters: list[str], hosts: list[str], hostvars: Mapping[str, Mapping[str, Any]],
                  allow_single_copy: bool = False) -> list[str]:
    """What is wrong with a SeaweedFS layout, before any host is touched."""
    errors: list[str] = []
    if hosts and not masters:
        errors.append("the seaweedfs group has hosts but seaweedfs_master has none: SeaweedFS needs 1 or 3 masters")
    if masters and not hosts:
        errors.append("seaweedfs_master has hosts but the seaweedfs group (volume, filer and S3 servers) has none")
    if masters and (len(masters) % 2 == 0 or len(masters) > 5):
        errors.append(f"seaweedfs_master has {len(masters)} hosts: the masters elect a leader by Raft, which needs "
                      "an odd number (1, 3 or 5) to keep a majority when one fails")
    if not hosts:
        return errors
    if str(setting) != "auto" and not REPLICATION_RE.match(str(setting)):
        return errors + [f"seaweedfs_replication {setting!r} must be 'auto' or three digits xyz (copies in other "
                         "data centers, other racks, other servers of the rack), e.g. 001"]
    rep = replication(setting, hosts, hostvars)
    x, y, z = (int(d) for d in rep)
    topo = topology(hosts, hostvars)
    if len(topo) < x + 1:
        errors.append(f"replication {rep} puts copies in {x + 1} data centers; the seaweedfs hosts span {len(topo)}")
    if y and not any(len(racks) >= y + 1 for racks in topo.values()):
        errors.append(f"replication {rep} needs a data center with {y + 1} racks (seaweedfs_rack); none has")
    if z and not any(len(servers) >= z + 1 for racks in topo.values() for servers in racks.values()):
        errors.append(f"replication {rep} needs a rack with {z + 1} seaweedfs hosts; none has")
    if copies(rep) < 2 and len(hosts) > 1 and not allow_single_copy:
        errors.append(f"replication {rep} keeps one copy of each object on {len(hosts)} hosts: losing a host loses "
                      "objects. Use auto (or 001/010/100), or set seaweedfs_allow_single_copy: true")
    return errors


def _mount_of(path: str, mounts: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    best = None
    for mount in mounts or []:
        point = str(mount.get("mount", ""))
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > len(str(best["mount"]))):
            best = mount
    return best


def disks(dirs: Iterable[Mapping[str, Any]], mounts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each volume directory with its disk size (MiB): the declared size_gb, else the size of the
    filesystem that holds it (Ansible's mount facts)."""
    result = []
    for entry in dirs:
        path = str(entry["path"])
        size_mb = int(float(entry.get("size_gb") or 0) * 1024)
        if not size_mb:
            mount = _mount_of(path, mounts)
            if mount is None:
                raise SeaweedError(f"seaweedfs_volume_dirs: no mounted filesystem holds {path}; declare size_gb")
            size_mb = int(mount.get("size_total", 0)) // (1 << 20)
        result.append({"path": path, "size_mb": size_mb})
    return result


def declared_sizes(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]]) -> list[int]:
    """The declared volume disk sizes (MiB) of the seaweedfs hosts (size_gb of seaweedfs_volume_dirs):
    inventory data, the same in every run, with or without --limit."""
    sizes = []
    for host in hosts:
        for entry in hostvars.get(host, {}).get("seaweedfs_volume_dirs") or []:
            if entry.get("size_gb"):
                sizes.append(int(float(entry["size_gb"]) * 1024))
    return sizes


def volume_size_limit(sizes_mb: Iterable[int], setting: int = 0) -> int:
    """The cluster's volume size (MiB, the master's -volumeSizeLimitMB): the setting, else a
    sixteenth of the smallest declared volume disk, between 1 GiB and upstream's default of
    30000 MB, in whole GiB, so the smallest disk still holds enough volumes to spread writes
    over; upstream's default when no disk declares its size."""
    if int(setting) > 0:
        return int(setting)
    sizes = [int(s) for s in sizes_mb or [] if int(s) > 0]
    if not sizes:
        return MAX_VOLUME_MB
    size = min(sizes) // 16 // 1024 * 1024
    return max(MIN_VOLUME_MB, min(MAX_VOLUME_MB, size))


def volume_plan(host_disks: list[Mapping[str, Any]], limit_mb: int, reserve_percent: int) -> list[dict[str, Any]]:
    """-dir and -max per directory: as many volumes as fit in the disk minus the reserve."""
    plan = []
    for disk in host_disks:
        usable = int(disk["size_mb"]) * (100 - int(reserve_percent)) // 100
        count = usable // int(limit_mb)
        if count < MIN_VOLUMES_PER_DIR:
            raise SeaweedError(
                f"volume directory {disk['path']}: {disk['size_mb']} MiB holds {count} volumes of {limit_mb} MiB "
                f"after the {reserve_percent}% reserve; SeaweedFS needs at least {MIN_VOLUMES_PER_DIR} per directory "
                "to spread writes. Give it a larger disk, or a smaller seaweedfs_volume_size_limit_mb")
        plan.append({"path": disk["path"], "max": count})
    return plan


def identities(buckets: Mapping[str, Mapping[str, Any]], credentials: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The S3 gateway's identities document: one identity per consumer of the contract, with
    Read/Write/List/Tagging on its own buckets only (no Admin, no bucket creation: the role makes
    the buckets). `credentials`: {consumer: {access_key, secret_key}}."""
    per_consumer: dict[str, list[str]] = {}
    for bucket, spec in sorted((buckets or {}).items()):
        for consumer in (spec or {}).get("consumers") or []:
            per_consumer.setdefault(str(consumer), []).append(str(bucket))
    result = []
    for consumer, names in sorted(per_consumer.items()):
        cred = credentials.get(consumer)
        if not cred:
            raise SeaweedError(f"no S3 credential for consumer {consumer!r}")
        result.append({
            "name": consumer,
            "credentials": [{"accessKey": cred["access_key"], "secretKey": cred["secret_key"]}],
            "actions": [f"{action}:{bucket}" for bucket in names for action in BUCKET_ACTIONS],
        })
    return {"identities": result}


def flag_errors(extra_args: Any, reserved: Mapping[str, Iterable[str]]) -> list[str]:
    """seaweedfs_extra_args: per server a list of -flag[=value], none of the platform's flags."""
    if not isinstance(extra_args, Mapping):
        return ["seaweedfs_extra_args must map master, volume, filer or s3 to a list of flags"]
    errors = []
    for server, args in extra_args.items():
        if server not in reserved:
            errors.append(f"seaweedfs_extra_args: unknown server {server!r} (master, volume, filer or s3)")
            continue
        for arg in args or []:
            flag = str(arg).lstrip("-").split("=", 1)[0]
            if not str(arg).startswith("-"):
                errors.append(f"seaweedfs_extra_args.{server}: {arg!r} is not a -flag")
            elif flag in reserved[server]:
                errors.append(f"seaweedfs_extra_args.{server}: -{flag} is set by the platform (addresses, ports, TLS, "
                              "directories, replication, sizing have variables of their own)")
    return errors


def dir_errors(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """seaweedfs_volume_dirs of each host: absolute, distinct paths with a size of 0 or more."""
    errors = []
    for host in hosts:
        dirs = hostvars.get(host, {}).get("seaweedfs_volume_dirs") or []
        seen = set()
        for entry in dirs:
            path = str((entry or {}).get("path", "")) if isinstance(entry, Mapping) else ""
            size = entry.get("size_gb", 0) if isinstance(entry, Mapping) else None
            if not path.startswith("/"):
                errors.append(f"host {host}: seaweedfs_volume_dirs entry {entry!r} needs an absolute path")
            if path in seen:
                errors.append(f"host {host}: seaweedfs_volume_dirs names {path} twice (one entry per disk)")
            seen.add(path)
            if isinstance(size, bool) or not isinstance(size, (int, float)) or size < 0:
                errors.append(f"host {host}: seaweedfs_volume_dirs {path}: size_gb must be a number >= 0 (0 = the disk's size)")
    return errors


# Consumers of the contract that are not component roles: the metastore database's backups.
NON_COMPONENT_CONSUMERS = ("backups", "hive_metastore")


def s3_contract_errors(buckets: Any, backend: str, groups: Mapping[str, Iterable[str]],
                       components: Iterable[str] | None = None) -> list[str]:
    """The S3 contract (platform_s3_*) before any host is touched: bucket names S3 accepts
    (DNS-compatible, 3 to 63 characters), consumers that are platform components (a typo would
    otherwise mint a credential nobody uses and leave the real consumer without one), and one
    backend."""
    known = set(components or []) | set(NON_COMPONENT_CONSUMERS) if components is not None else None
    errors = []
    if not isinstance(buckets, Mapping):
        return ["platform_s3_buckets must map bucket names to {consumers: [...]}"]
    for name, spec in buckets.items():
        if not BUCKET_RE.match(str(name)) or ".." in str(name):
            errors.append(f"platform_s3_buckets: {name!r} is not a valid S3 bucket name (3-63 of a-z 0-9 . -)")
        consumers = (spec or {}).get("consumers") if isinstance(spec, Mapping) else None
        if not isinstance(consumers, list) or not consumers:
            errors.append(f"platform_s3_buckets.{name}: needs consumers, a non-empty list (each gets its own credential)")
            continue
        errors += [f"platform_s3_buckets.{name}: consumer {c!r} must be a lower-case identifier (it names a secret)"
                   for c in consumers if not re.fullmatch(r"[a-z][a-z0-9_]*", str(c))]
        if known is not None:
            errors += [f"platform_s3_buckets.{name}: consumer {c!r} is not a platform component (known: "
                       f"{', '.join(sorted(known))})" for c in consumers
                       if re.fullmatch(r"[a-z][a-z0-9_]*", str(c)) and str(c) not in known]
    present = [g for g in ("minio", "seaweedfs") if list(groups.get(g) or [])]
    if str(backend) == "auto" and len(present) > 1:
        errors.append("both minio and seaweedfs have hosts: set platform_s3_backend to the one consumers use "
                      "(the other then serves nothing of the contract)")
    if str(backend) not in ("auto", "minio", "seaweedfs", "external"):
        errors.append(f"platform_s3_backend {backend!r} must be auto, minio, seaweedfs or external")
    elif str(backend) in ("minio", "seaweedfs") and str(backend) not in present:
        errors.append(f"platform_s3_backend is {backend} but its group has no hosts")
    return errors


class FilterModule:
    def filters(self):
        return {
            "fdp_seaweedfs_replication": replication,
            "fdp_seaweedfs_layout_errors": layout_errors,
            "fdp_seaweedfs_disks": disks,
            "fdp_seaweedfs_volume_size_limit": volume_size_limit,
            "fdp_seaweedfs_declared_sizes": declared_sizes,
            "fdp_seaweedfs_volume_plan": volume_plan,
            "fdp_seaweedfs_identities": identities,
            "fdp_seaweedfs_copies": copies,
            "fdp_s3_contract_errors": s3_contract_errors,
            "fdp_seaweedfs_flag_errors": flag_errors,
            "fdp_seaweedfs_dir_errors": dir_errors,
        }
