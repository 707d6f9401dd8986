#!/usr/bin/python
"""Module fdp_service: what each unit of a component needs (restart, reload, start), in one
round trip, from what its process depends on.

A unit's restart fingerprint is a SHA-256 over the content of the files its process reads at
start (configuration, unit file, TLS material) and a few strings (the artifact and Java runtime
versions). The state file records the fingerprint each unit was last (re)started with, written
only after the unit came back healthy. So a change lands as a restart even when the run that
wrote it was interrupted, an upgrade restarts whatever path it came by (pin or override), and
nothing restarts when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: fdp_service
short_description: restart/reload/start needs of a component's systemd units, from fingerprints
description:
  - Computes each unit's restart and reload fingerprints from the files it reads and version
    strings, compares them with the state file, and reports the unit's systemd state.
  - With record, stores the current fingerprints of the named units (after a healthy start).
options:
  state_file: {description: JSON state of the component, type: path, required: true}
  units:
    description: "[{name, restart_inputs: [paths], reload_inputs: [paths], extra: str}]"
    type: list
    elements: dict
    required: true
  record: {description: units whose current fingerprints to store, type: list, elements: str, default: []}
"""

RETURN = r"""
units:
  description: "name -> {exists, active, enabled, needs_daemon_reload, restart, reload, missing_inputs, fingerprints}"
  returned: always
  type: dict
"""


def _file_digest(path):
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def fingerprint(paths, extra=""):
    """(sha256 over path + content digest of each input and the extra string, missing paths)."""
    total = hashlib.sha256()
    missing = []
    for path in sorted(set(paths or [])):
        file_digest = _file_digest(path)
        if file_digest is None:
            missing.append(path)
        total.update(f"{path}\0{file_digest or 'missing'}\n".encode())
    total.update(str(extra or "").encode())
    return total.hexdigest(), missing


def systemd_state(names, run=subprocess.run):
    """{name: {exists, active, enabled, needs_daemon_reload}} from one `systemctl show`."""
    if not names:
        return {}
    units = [n if "." in n else f"{n}.service" for n in names]
    out = run(["systemctl", "show", "--property=LoadState,ActiveState,UnitFileState,NeedDaemonReload", "--", *units],
              capture_output=True, text=True, check=False).stdout
    blocks = [b for b in out.strip().split("\n\n")] if out.strip() else []
    result = {}
    for name, block in zip(names, blocks + [""] * (len(names) - len(blocks))):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        result[name] = {
            "exists": props.get("LoadState") == "loaded",
            "active": props.get("ActiveState") == "active",
            "enabled": props.get("UnitFileState") in ("enabled", "enabled-runtime", "static", "alias"),
            "needs_daemon_reload": props.get("NeedDaemonReload") == "yes",
        }
    return result


def plan(units, state, systemd):
    report = {}
    for unit in units:
        name = unit["name"]
        restart_fp, missing = fingerprint(unit.get("restart_inputs"), unit.get("extra", ""))
        reload_fp, missing_reload = fingerprint(unit.get("reload_inputs"))
        seen = state.get(name, {})
        report[name] = dict(systemd.get(name, {}), **{
            "restart": seen.get("restart") != restart_fp,
            "reload": seen.get("reload") != reload_fp,
            "missing_inputs": missing + missing_reload,
            "fingerprints": {"restart": restart_fp, "reload": reload_fp},
        })
    return report


def main():
    module = AnsibleModule(
        argument_spec={
            "state_file": {"type": "path", "required": True},
            "units": {"type": "list", "elements": "dict", "required": True},
            "record": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    path = module.params["state_file"]
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle).get("units", {})
    except FileNotFoundError:
        state = {}
    except (OSError, ValueError) as exc:
        module.warn(f"{path} is unreadable ({exc}); every unit is treated as never started")
        state = {}
    units = module.params["units"]
    known = {u["name"] for u in units}
    unknown = sorted(set(module.params["record"]) - known)
    if unknown:
        module.fail_json(msg=f"record names units that are not in units: {', '.join(unknown)}")
    report = plan(units, state, systemd_state([u["name"] for u in units]))
    new_state = dict(state)
    for name in module.params["record"]:
        new_state[name] = dict(report[name]["fingerprints"])
    changed = new_state != state
    if changed and not module.check_mode:
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, encoding="utf-8") as handle:
            json.dump({"units": new_state}, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, path)
        for name in module.params["record"]:
            report[name]["restart"] = report[name]["reload"] = False
    module.exit_json(changed=changed, units=report)


if __name__ == "__main__":
    main()
