"""Filters of the service skeleton (roles/service): which files each unit's process depends
on, and the ordered, health-gated plan of restarts, reloads and starts across the play's hosts.

The plan orders units by the component's group order (e.g. JobManager before TaskManagers,
controllers before brokers, workers before the coordinator), then by inventory order. Units
that are not running start together per group; a running rolling unit restarts one host at a
time (each healthy before the next); a parallel unit (MinIO: upstream restarts every node
together) is one batch per group. Pure functions over plain data,
unit-tested in tests/unit/test_service_filters.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

try:
    from ansible.errors import AnsibleFilterError as ServiceError
except ImportError:  # pragma: no cover
    class ServiceError(Exception):  # type: ignore[no-redef]
        """The service specification of a component is wrong."""

ON_CHANGE = ("restart", "reload", "none")
POLICIES = ("rolling", "parallel")
HEALTH_TYPES = ("http", "tls", "port", "command", "none")


def runs_on(unit: Mapping[str, Any], group_names: Iterable[str]) -> bool:
    """Whether a host of these groups runs the unit ("all" in its groups: every host)."""
    groups = set(unit.get("groups", ()))
    return "all" in groups or bool(groups & set(group_names))


def host_units(units: Iterable[Mapping[str, Any]], group_names: Iterable[str], files: Iterable[Mapping[str, Any]] = (),
               tls_dir: str = "", changed: Iterable[str] = (), running: bool = False) -> list[dict[str, Any]]:
    """The units of a component this host runs (a unit runs on the members of its groups), each
    with the files its process depends on (unit_inputs) and whether a change made in this run
    is still pending for it (what check mode predicts, since it writes nothing)."""
    mine = set(group_names)
    changed = set(changed or ())
    result = []
    for unit in units:
        # running: only the units that are started (run: false = rendered and checked but never
        # started, e.g. where the environment has no binary for it)
        if not runs_on(unit, mine) or (running and not unit.get("run", True)):
            continue
        entry = dict(unit)
        if tls_dir:
            entry.update(unit_inputs(unit, list(files or ()), tls_dir))
            entry["pending_restart"] = bool(changed & set(entry["restart_inputs"]))
            entry["pending_reload"] = bool(changed & set(entry["reload_inputs"]))
        result.append(entry)
    return result


def unit_inputs(unit: Mapping[str, Any], files: Iterable[Mapping[str, Any]], tls_dir: str,
                unit_dir: str = "/etc/systemd/system") -> dict[str, list[str]]:
    """The files whose content a unit's process depends on: its unit file, the component's
    files that apply to it (on_change restart or reload), and the TLS material it reads at
    start (restart) or re-reads on a reload. A unit without reload support restarts for all."""
    restart = [f"{unit_dir}/{unit['name']}.service"]
    reload: list[str] = []
    for spec in files:
        if spec.get("units") and unit["name"] not in spec["units"]:
            continue
        when = spec.get("on_change", "restart")
        if when not in ON_CHANGE:
            raise ServiceError(f"file {spec.get('dest')}: on_change must be one of {', '.join(ON_CHANGE)}")
        if when == "none":
            continue
        (reload if when == "reload" and unit.get("reload") else restart).append(str(spec["dest"]))
    restart += [f"{tls_dir}/{name}" for name in unit.get("tls", ())]
    target = reload if unit.get("reload") else restart
    target += [f"{tls_dir}/{name}" for name in unit.get("tls_reload", ())]
    return {"restart_inputs": sorted(set(restart)), "reload_inputs": sorted(set(reload))}


TLS_COPYABLE = ("host.key", "host.crt", "fullchain.crt", "keystore.p12")
# ... and the keystore of an internal mesh (platform_tls_meshes), mesh-<name>.p12.
TLS_COPYABLE_MESH = re.compile(r"^mesh-[a-z][a-z0-9_]*\.p12$")


def tls_copies(names: Iterable[str], tls_dir: str, account: str) -> list[dict[str, str]]:
    """The account's own copies of the host's private TLS files: [{dest, copy_of}], dest in
    <tls_dir>/private/<account>/ (the pki role keeps the originals root's alone)."""
    names = list(names or ())
    if not names:
        return []
    if not account:
        raise ServiceError("service_tls_copies needs an account (service_account or service_tls_account)")
    unknown = sorted(n for n in set(names) if n not in TLS_COPYABLE and not TLS_COPYABLE_MESH.match(str(n)))
    if unknown:
        raise ServiceError(f"service_tls_copies: {', '.join(unknown)} not among {', '.join(TLS_COPYABLE)}"
                           " nor a mesh keystore (mesh-<name>.p12)")
    return [{"dest": f"{tls_dir}/private/{account}/{name}", "copy_of": f"{tls_dir}/{name}"}
            for name in dict.fromkeys(names)]


def _rank(unit: Mapping[str, Any], order: list[str]) -> int:
    ranks = [order.index(g) for g in unit.get("groups", ()) if g in order]
    return min(ranks) if ranks else len(order)


def unit_action(unit: Mapping[str, Any], state: Mapping[str, Any] | None, force: bool = False) -> str | None:
    """restart | reload | start | None for one unit, from the state fdp_service reported and the
    changes of this run that are still pending (check mode). A unit that is not running is
    started, whatever changed: its start already uses the new inputs."""
    state = state or {}
    if not state.get("exists", False) or not state.get("active", False):
        return "start"  # a first install (or check mode before it), or a stopped unit
    if state.get("restart", True) or force or unit.get("pending_restart"):
        return "restart"
    if state.get("reload", False) or unit.get("pending_reload"):
        return "reload" if unit.get("reload") else "restart"
    return None


def plan(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]], order: Iterable[str] = (),
         force: bool = False, installed_only: bool = False) -> list[list[dict[str, Any]]]:
    """Batches of steps {host, unit, action} across the play's hosts, in restart order.

    Reads each host's `_service_host_units` and `_service_query` (the fdp_service result).
    `installed_only` leaves out units whose unit file does not exist (apply-only runs)."""
    order = list(order)
    hosts = list(hosts)
    steps = []
    for index, host in enumerate(hosts):
        hv = hostvars.get(host, {})
        report = (hv.get("_service_query") or {}).get("units") or {}
        for unit in hv.get("_service_host_units") or []:
            if installed_only and not (report.get(unit["name"]) or {}).get("exists", False):
                continue
            action = unit_action(unit, report.get(unit["name"]), force)
            if action:
                policy = unit.get("policy", "rolling")
                if policy not in POLICIES:
                    raise ServiceError(f"unit {unit['name']}: policy must be one of {', '.join(POLICIES)}")
                steps.append({"host": host, "unit": unit["name"], "action": action, "policy": policy,
                              "rank": _rank(unit, order), "index": index})
    # Starts first within each group (a stopped unit serves nobody, so starting several at once
    # costs no availability - and a quorum, like a new ZooKeeper ensemble, needs its members up
    # together); then restarts and reloads, one host at a time unless the unit is parallel.
    steps.sort(key=lambda s: (s["rank"], s["action"] != "start", s["index"]))
    batches: list[list[dict[str, Any]]] = []
    for step in steps:
        last = batches[-1] if batches else None
        together = step["action"] == "start" or step["policy"] == "parallel"
        if (last and together and last[0]["rank"] == step["rank"] and last[0]["unit"] == step["unit"]
                and (last[0]["action"] == "start") == (step["action"] == "start")):
            last.append(step)
        else:
            batches.append([step])
    return batches


def _from_endpoint(health: Mapping[str, Any], endpoints: Mapping[str, Mapping[str, Any]],
                   metrics_user: str) -> dict[str, Any]:
    """A health spec with `endpoint: <name>` filled in from the endpoint registry (port, scheme,
    path, user and credential of a basic-auth endpoint); what the spec itself sets wins."""
    health = dict(health)
    name = health.pop("endpoint", None)
    if not name:
        return health
    if name not in (endpoints or {}):
        raise ServiceError(f"health endpoint '{name}' is not in platform_endpoints")
    endpoint = endpoints[name]
    filled = {"type": "http", "port": endpoint["port"], "scheme": endpoint.get("scheme", "https"),
              "path": endpoint.get("path", "/")}
    if endpoint.get("auth") == "basic" and endpoint.get("credential"):
        filled.update(user=endpoint.get("user") or metrics_user, credential=endpoint["credential"])
    filled.update(health)
    return filled


def probe(unit: Mapping[str, Any], host: str, hostvars: Mapping[str, Mapping[str, Any]],
          ports: Mapping[str, Mapping[str, Any]], endpoints: Mapping[str, Mapping[str, Any]] | None = None,
          metrics_user: str = "") -> dict[str, Any]:
    """The concrete health probe of a unit on a host: type, address, port, URL."""
    health = _from_endpoint(unit.get("health") or {"type": "none"}, endpoints or {}, metrics_user)
    kind = health.get("type", "none")
    if kind not in HEALTH_TYPES:
        raise ServiceError(f"unit {unit.get('name')}: health type must be one of {', '.join(HEALTH_TYPES)}")
    hv = hostvars.get(host, {})
    address = str(health.get("address") or hv.get("ansible_host") or host)
    health["address"] = address
    if kind in ("http", "tls", "port"):
        port_key = health.get("port")
        if port_key not in ports:
            raise ServiceError(f"unit {unit.get('name')}: health port '{port_key}' is not in platform_ports")
        health["port"] = int(ports[port_key]["port"])
    if kind == "http":
        scheme = health.get("scheme", "https")
        host_part = f"[{address}]" if ":" in address else address
        health["url"] = f"{scheme}://{host_part}:{health['port']}{health.get('path', '/')}"
        health.setdefault("status", 200)
        health.setdefault("expect", {})
    return health


def query_units(units: Iterable[Mapping[str, Any]], versions: Iterable[str] = ()) -> list[dict[str, Any]]:
    """What fdp_service needs of each unit: its inputs and the versions it runs."""
    extra = " ".join(str(v) for v in versions)
    return [{"name": u["name"], "restart_inputs": list(u.get("restart_inputs", ())),
             "reload_inputs": list(u.get("reload_inputs", ())), "extra": extra} for u in units]


def step_unit(step: Mapping[str, Any], hostvars: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The unit of a plan step, as its host computed it, with the host named."""
    for unit in hostvars.get(step["host"], {}).get("_service_host_units") or []:
        if unit["name"] == step["unit"]:
            return dict(unit, host=step["host"], action=step["action"])
    raise ServiceError(f"host {step['host']} has no unit {step['unit']}")


def target(unit: Mapping[str, Any], host: str | None, hostvars: Mapping[str, Mapping[str, Any]],
           ports: Mapping[str, Mapping[str, Any]], endpoints: Mapping[str, Mapping[str, Any]] | None = None,
           metrics_user: str = "", steady: bool = False) -> dict[str, Any]:
    """A unit with its host and concrete probe. `steady`: the check of a unit that did not
    restart in this run, which uses the probe only (restart hooks compare before and after)."""
    host = unit.get("host") or host
    result = dict(unit, host=host, probe=probe(unit, host, hostvars, ports, endpoints, metrics_user))
    hooks = dict(result.get("hooks") or {})
    if steady:
        hooks.pop("health", None)
    result["hooks"] = hooks
    return result


def file_specs(paths: Iterable[str], dest_dir: str, **common: Any) -> list[dict[str, Any]]:
    """File specs (service_files) that install each file of `paths` into dest_dir under its
    base name, with the common settings (group, validate, on_change...)."""
    return [dict(common, src=str(path), dest=f"{dest_dir.rstrip('/')}/{str(path).rsplit('/', 1)[-1]}")
            for path in paths]


def settings_specs(documents: Mapping[str, Any], dest_dir: str, fmt: str | None = None, suffix: str = "",
                   **common: Any) -> list[dict[str, Any]]:
    """File specs that write each document of a mapping (name -> data) to dest_dir/<name><suffix>:
    rendered in format `fmt`, or as it is (a string) without one."""
    specs = []
    for name, data in sorted(documents.items()):
        spec = dict(common, dest=f"{dest_dir.rstrip('/')}/{name}{suffix}")
        spec.update({"format": fmt, "settings": data} if fmt else {"content": str(data)})
        specs.append(spec)
    return specs


def json_matches(document: Any, expect: Mapping[str, Any] | None) -> bool:
    """Whether a JSON answer has every expected value: {path: value}, the path dotted for
    nested objects (data.reloadConfigSuccess); a value {"min": n} means at least n."""
    if not expect:
        return True
    for path, wanted in expect.items():
        have: Any = document
        for part in str(path).split("."):
            if not isinstance(have, Mapping) or part not in have:
                return False
            have = have[part]
        if isinstance(wanted, Mapping) and "min" in wanted:
            if not isinstance(have, (int, float)) or isinstance(have, bool) or have < wanted["min"]:
                return False
        elif have != wanted:
            return False
    return True


class FilterModule:
    """fdp_service_* filters."""

    def filters(self):
        return {
            "fdp_service_host_units": host_units,
            "fdp_service_unit_inputs": unit_inputs,
            "fdp_service_tls_copies": tls_copies,
            "fdp_service_plan": plan,
            "fdp_service_probe": probe,
            "fdp_json_matches": json_matches,
            "fdp_service_query_units": query_units,
            "fdp_service_step_unit": step_unit,
            "fdp_service_target": target,
            "fdp_file_specs": file_specs,
            "fdp_settings_specs": settings_specs,
        }
