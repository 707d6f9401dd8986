"""Filters for the OS baseline (roles/common): settings merge, sysctl split, limit parsing.

Unit-tested in tests/unit/test_baseline_filters.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Sysctls that belong to the whole machine even though they sit under net.*: a container's own
# network namespace cannot set them ("Invalid argument" or absent), only its host can.
HOST_GLOBAL_NET_KEYS = frozenset(
    {
        "net.core.rmem_max",
        "net.core.wmem_max",
        "net.core.rmem_default",
        "net.core.wmem_default",
        "net.core.netdev_max_backlog",
        "net.core.optmem_max",
        "net.netfilter.nf_conntrack_max",
    }
)
_HOST_PREFIXES = ("vm.", "fs.", "kernel.")
UNLIMITED = 2**63 - 1


def merge_settings(defaults: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """defaults + overrides; an override of None (YAML null) removes the key."""
    merged = dict(defaults or {})
    for key, value in (overrides or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return dict(sorted(merged.items()))


def is_host_global_sysctl(key: str) -> bool:
    return key.startswith(_HOST_PREFIXES) or key in HOST_GLOBAL_NET_KEYS


def sysctl_split(settings: Mapping[str, Any], apply_host_global: bool) -> dict[str, dict[str, str]]:
    """Split sysctls into those to apply here and those only rendered (not appliable).

    Network-namespace sysctls are always applied. Host-global ones (vm.*, fs.*, kernel.* and
    the host-global net.* keys) are applied only when the host owns its kernel.
    """
    plan: dict[str, dict[str, str]] = {"apply": {}, "render_only": {}}
    for key, value in sorted(settings.items()):
        if not re.fullmatch(r"[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+", key):
            raise ValueError(f"'{key}' is not a sysctl key (expected dotted form such as net.core.somaxconn)")
        text = " ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
        bucket = "render_only" if is_host_global_sysctl(key) and not apply_host_global else "apply"
        plan[bucket][key] = text
    return plan


def proc_limit(limits_text: str, name: str = "Max open files", column: str = "hard") -> int | None:
    """A limit from the text of /proc/<pid>/limits; 'unlimited' is a very large number."""
    for line in limits_text.splitlines():
        if line.startswith(name):
            fields = line[len(name):].split()
            value = fields[1] if column == "hard" else fields[0]
            return UNLIMITED if value == "unlimited" else int(value)
    return None


def limits_conf_lines(limits: Mapping[str, Any], domain: str = "*") -> list[str]:
    """pam_limits lines (soft and hard) for {item: value}, e.g. {"nofile": 1048576}."""
    lines = []
    for item, value in sorted(limits.items()):
        for kind in ("soft", "hard"):
            lines.append(f"{domain:<8} {kind:<5} {item:<10} {value}")
            if domain == "*":
                # pam_limits' "*" does not cover root.
                lines.append(f"{'root':<8} {kind:<5} {item:<10} {value}")
    return lines


def limits_exceeding(limits: Mapping[str, Any], caps: Mapping[str, int | None]) -> dict[str, str]:
    """Limits that ask for more than the hard cap the host can grant ({item: "want > cap"})."""
    over = {}
    for item, value in sorted(limits.items()):
        cap = caps.get(item)
        want = UNLIMITED if str(value) in ("unlimited", "infinity", "-1") else int(value)
        if cap is not None and want > cap:
            over[item] = f"{value} > {cap}"
    return over


class FilterModule:
    """fdp_* baseline filters."""

    def filters(self):
        return {
            "fdp_merge_settings": merge_settings,
            "fdp_sysctl_split": sysctl_split,
            "fdp_proc_limit": proc_limit,
            "fdp_limits_conf_lines": limits_conf_lines,
            "fdp_limits_exceeding": limits_exceeding,
        }
