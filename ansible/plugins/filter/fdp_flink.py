"""Filters for roles/flink: process sizes and task slots from host facts (respecting Flink's
memory model), and Flink's own rules over the merged settings (the merge, the reserved keys and
the key catalog are the shared mechanism's, fdp_config.py).

Flink's memory model (2.x, upstream defaults):
  TaskManager process = Flink memory + JVM metaspace (256m) + JVM overhead (10 %, 192m..1g)
  Flink memory        = framework heap (128m) + framework off-heap (128m) + task off-heap (0)
                        + network (10 % of Flink memory, 64m..1g) + managed (40 %) + task heap
  JobManager process  = JVM heap + off-heap (128m) + metaspace (256m) + overhead (10 %, 192m..1g)
The remainder (task heap, JVM heap) must stay positive; Flink refuses to start otherwise.

Unit-tested in tests/unit/test_flink_filters.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MB = 1
_UNITS = {"": 1 / (1024 * 1024), "b": 1 / (1024 * 1024), "k": 1 / 1024, "kb": 1 / 1024, "m": 1, "mb": 1,
          "g": 1024, "gb": 1024, "t": 1024 * 1024, "tb": 1024 * 1024}

# Upstream defaults of the memory components (MiB) and fractions.
TM_FRAMEWORK_HEAP = 128
TM_FRAMEWORK_OFF_HEAP = 128
TM_TASK_OFF_HEAP = 0
METASPACE_TM = 256
METASPACE_JM = 256
JM_OFF_HEAP = 128
OVERHEAD = (0.1, 192, 1024)
NETWORK = (0.1, 64, 1024)
MANAGED_FRACTION = 0.4
# Smallest heaps this platform accepts (Flink accepts less, but nothing useful runs there).
MIN_TASK_HEAP = 16
MIN_JM_HEAP = 128

TM_PROCESS_KEY = "taskmanager.memory.process.size"
JM_PROCESS_KEY = "jobmanager.memory.process.size"
SLOTS_KEY = "taskmanager.numberOfTaskSlots"
# Set only one of these per process (upstream: process size or Flink size, not several).
TM_SIZE_KEYS = (TM_PROCESS_KEY, "taskmanager.memory.flink.size")
JM_SIZE_KEYS = (JM_PROCESS_KEY, "jobmanager.memory.flink.size")


def parse_size_mb(value: Any) -> int:
    """Flink memory size ('1728m', '1g', '512 mb', 1048576 bytes as int) -> MiB (rounded down)."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a memory size")
    if isinstance(value, (int, float)):
        return int(value / (1024 * 1024))
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", str(value))
    if not match or match.group(2).lower() not in _UNITS:
        raise ValueError(f"'{value}' is not a memory size (expected e.g. 1024m or 2g)")
    return int(int(match.group(1)) * _UNITS[match.group(2).lower()])


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def tm_memory_model(process_mb: int) -> dict[str, int]:
    """TaskManager memory components (MiB) for a process size; raises if task heap is too small."""
    overhead = int(_clamp(process_mb * OVERHEAD[0], OVERHEAD[1], OVERHEAD[2]))
    flink = process_mb - METASPACE_TM - overhead
    network = int(_clamp(flink * NETWORK[0], NETWORK[1], NETWORK[2]))
    managed = int(flink * MANAGED_FRACTION)
    task_heap = flink - TM_FRAMEWORK_HEAP - TM_FRAMEWORK_OFF_HEAP - TM_TASK_OFF_HEAP - network - managed
    if task_heap < MIN_TASK_HEAP:
        raise ValueError(
            f"{TM_PROCESS_KEY} {process_mb}m leaves {task_heap}m task heap (< {MIN_TASK_HEAP}m) after "
            f"metaspace {METASPACE_TM}m, overhead {overhead}m, framework {TM_FRAMEWORK_HEAP + TM_FRAMEWORK_OFF_HEAP}m, "
            f"network {network}m and managed {managed}m: give the TaskManager more memory"
        )
    return {"process": process_mb, "metaspace": METASPACE_TM, "overhead": overhead, "flink": flink,
            "framework_heap": TM_FRAMEWORK_HEAP, "framework_off_heap": TM_FRAMEWORK_OFF_HEAP,
            "network": network, "managed": managed, "task_heap": task_heap}


def jm_memory_model(process_mb: int) -> dict[str, int]:
    """JobManager memory components (MiB) for a process size; raises if the heap is too small."""
    overhead = int(_clamp(process_mb * OVERHEAD[0], OVERHEAD[1], OVERHEAD[2]))
    heap = process_mb - METASPACE_JM - overhead - JM_OFF_HEAP
    if heap < MIN_JM_HEAP:
        raise ValueError(
            f"{JM_PROCESS_KEY} {process_mb}m leaves {heap}m JVM heap (< {MIN_JM_HEAP}m) after metaspace "
            f"{METASPACE_JM}m, overhead {overhead}m and off-heap {JM_OFF_HEAP}m: give the JobManager more memory"
        )
    return {"process": process_mb, "metaspace": METASPACE_JM, "overhead": overhead, "off_heap": JM_OFF_HEAP,
            "heap": heap}


def smallest_tm_mb() -> int:
    size = 512
    while True:
        try:
            tm_memory_model(size)
            return size
        except ValueError:
            size += 16


def smallest_jm_mb() -> int:
    size = 512
    while True:
        try:
            jm_memory_model(size)
            return size
        except ValueError:
            size += 16


def sizing(mem_total_mb: int, cores: int, jobmanager: bool = False, taskmanager: bool = False,
           limit_mb: int = 0, fraction: float = 0.75, reserve_mb: int = 1024,
           jobmanager_share: float = 0.25, jobmanager_max_mb: int = 4096, slots: int = 0) -> dict[str, Any]:
    """Process sizes and task slots for this host's Flink processes, from its RAM and cores.

    Budget = (RAM - reserve) * fraction, capped by limit_mb when > 0. A JobManager sharing the
    host with a TaskManager gets jobmanager_share of it (at most jobmanager_max_mb), the
    TaskManager the rest. Slots = cores (one slot per core) unless `slots` > 0. Sizes are
    multiples of 16m and satisfy the memory model; too little memory raises ValueError.
    """
    mem_total_mb, cores = int(mem_total_mb), int(cores)
    budget = (mem_total_mb - int(reserve_mb)) * float(fraction)
    if int(limit_mb) > 0:
        budget = min(budget, int(limit_mb))
    budget = int(budget) // 16 * 16
    result: dict[str, Any] = {}
    jm_mb = 0
    if jobmanager:
        want = budget * float(jobmanager_share) if taskmanager else budget
        jm_mb = int(_clamp(want, smallest_jm_mb(), int(jobmanager_max_mb))) // 16 * 16
        jm_memory_model(jm_mb)
        result[JM_PROCESS_KEY] = f"{jm_mb}m"
    if taskmanager:
        tm_mb = (budget - jm_mb) // 16 * 16
        if tm_mb < smallest_tm_mb():
            raise ValueError(
                f"{budget}m of memory for Flink on this host ({mem_total_mb}m RAM) leaves {tm_mb}m for the "
                f"TaskManager; it needs at least {smallest_tm_mb()}m"
            )
        tm_memory_model(tm_mb)
        result[TM_PROCESS_KEY] = f"{tm_mb}m"
        result[SLOTS_KEY] = int(slots) if int(slots) > 0 else max(1, cores)
    if jobmanager and not taskmanager and jm_mb > budget:
        raise ValueError(f"{budget}m of memory for Flink on this host is below the JobManager's minimum {jm_mb}m")
    return result


def check_settings(merged: Mapping[str, Any]) -> dict[str, Any]:
    """Flink's own rules over merged settings (fdp_settings did the merge and the key checks):
    at most one size key per process; sizes satisfy the memory model; slots a positive integer."""
    merged = dict(merged)
    for keys, model in ((TM_SIZE_KEYS, tm_memory_model), (JM_SIZE_KEYS, jm_memory_model)):
        present = [k for k in keys if k in merged]
        if len(present) > 1:
            raise ValueError(f"set only one of {present}: remove the other with null in flink_config_overrides")
        if keys[0] in merged:
            model(parse_size_mb(merged[keys[0]]))
    if SLOTS_KEY in merged:
        slots = merged[SLOTS_KEY]
        if isinstance(slots, bool) or not str(slots).isdigit() or int(slots) < 1:
            raise ValueError(f"{SLOTS_KEY} must be a positive integer, not '{slots}'")
        merged[SLOTS_KEY] = int(slots)
    return merged


def dynamic_properties(settings: Mapping[str, Any]) -> list[str]:
    """Command-line dynamic properties (`-D key=value`, sorted, as argv items) for a start script: the settings
    that differ between the JobManager and a TaskManager of one host (Flink applies them over
    config.yaml). Values must be plain words: they land unquoted in a systemd ExecStart."""
    parts = []
    for key, value in sorted(settings.items()):
        text = str(_plain(value)).lower() if isinstance(value, bool) else str(_plain(value))
        if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", str(key)) or not re.fullmatch(r"[A-Za-z0-9_.:,/-]+", text):
            raise ValueError(f"'{key}: {value}' cannot be a dynamic property (flat key, plain value)")
        # The start scripts take "-D" and "key=value" as two arguments (jobmanager.sh reads a
        # single "-Dkey=value" as its positional host/port arguments).
        parts += ["-D", f"{key}={text}"]
    return parts


def _plain(value: Any) -> Any:
    """Plain Python types (Ansible hands over tagged str/int subclasses PyYAML cannot dump)."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None:
        return None
    raise ValueError(f"cannot render {type(value).__name__} value '{value}' in config.yaml")


class FilterModule:
    """fdp_flink_* filters."""

    def filters(self):
        return {
            "fdp_flink_sizing": sizing,
            "fdp_flink_check": check_settings,
            "fdp_flink_dynamic_properties": dynamic_properties,
            "fdp_flink_tm_memory": tm_memory_model,
            "fdp_flink_jm_memory": jm_memory_model,
        }
