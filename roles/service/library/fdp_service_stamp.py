#!/usr/bin/python
"""Module fdp_service_stamp: is a component already installed and configured as specified on
this host? One round trip instead of the full install and configure steps.

Two answers:

- files_clean: every configuration file and unit has the expected SHA-256 (rendered on the
  controller by the action fdp_service_check, exactly as the template and copy steps would),
  mode, owner and group, and no path of `absent` exists.
- install_clean: the install stamp, written after the last complete install, carries the same
  key (a digest of the install specification and of the skeleton's code) and everything it
  recorded is still as recorded: each path's type, mode, owner, link target and (small files)
  content digest; each package installed; each account with its groups.

With record, the stamp is written from what the host has now (after a complete install).
"""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import stat
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: fdp_service_stamp
short_description: compare a host with a component's install stamp and expected files
description:
  - Reports whether the configuration files match their expected digests and owners, and
    whether the install stamp matches the key and the host's paths, packages and accounts.
  - With record, writes the install stamp from the host's current state.
options:
  stamp_file: {description: JSON install stamp of the component, type: path, required: true}
  key: {description: digest of the install specification, type: str, required: true}
  files:
    description: "[{path, sha256 (or same_as, a file it must equal), mode, owner, group}] expected configuration files, units and copies"
    type: list
    elements: dict
    default: []
  absent: {description: paths that must not exist, type: list, elements: path, default: []}
  record: {description: write the stamp (after a complete install), type: bool, default: false}
  paths: {description: paths to record, type: list, elements: str, default: []}
  packages: {description: distribution packages to record, type: list, elements: str, default: []}
  users:
    description: "[{name, groups}] accounts to record"
    type: list
    elements: dict
    default: []
"""

RETURN = r"""
files_clean: {description: every expected file matches, returned: always, type: bool}
install_clean: {description: the stamp matches key and host, returned: always, type: bool}
reasons: {description: the first differences found, returned: always, type: list}
"""

SMALL_FILE = 1 << 20


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mode(value):
    """A mode as Ansible takes it: an octal string ('0640') or the number itself."""
    if isinstance(value, int):
        return value
    return int(str(value), 8)


def path_signature(path):
    """What must stay the same about a path: type, mode, owner, link target, small content."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "missing"
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        return f"link {target} {'ok' if os.path.exists(path) else 'dangling'}"
    base = f"{stat.S_IFMT(st.st_mode):o} {stat.S_IMODE(st.st_mode):04o} {st.st_uid}:{st.st_gid}"
    if stat.S_ISREG(st.st_mode):
        if st.st_size <= SMALL_FILE:
            return f"{base} {_sha256(path)}"
        return f"{base} {st.st_size} {st.st_mtime_ns}"
    return base


def _name_to_id(name, lookup):
    try:
        return lookup(name)
    except KeyError:
        return None


def file_differences(files):
    """The expected files that differ, each with what differs."""
    out = []
    for spec in files:
        path = spec["path"]
        try:
            st = os.stat(path)
        except FileNotFoundError:
            out.append(f"{path}: missing")
            continue
        if not stat.S_ISREG(st.st_mode):
            out.append(f"{path}: not a regular file")
            continue
        uid = _name_to_id(spec.get("owner", "root"), lambda n: pwd.getpwnam(n).pw_uid)
        gid = _name_to_id(spec.get("group", "root"), lambda n: grp.getgrnam(n).gr_gid)
        if (uid, gid) != (st.st_uid, st.st_gid):
            out.append(f"{path}: owner")
        elif stat.S_IMODE(st.st_mode) != _mode(spec.get("mode", "0640")):
            out.append(f"{path}: mode")
        elif "same_as" in spec:
            if not os.path.isfile(spec["same_as"]):
                out.append(f"{path}: {spec['same_as']} missing")
            elif _sha256(path) != _sha256(spec["same_as"]):
                out.append(f"{path}: content differs from {spec['same_as']}")
        elif _sha256(path) != spec["sha256"]:
            out.append(f"{path}: content")
    return out


def absent_differences(paths):
    """The paths that must not exist but do (a settings file that moved elsewhere)."""
    return [f"{path}: present" for path in paths if os.path.lexists(path)]


def packages_installed(names, run=subprocess.run):
    """{name: installed?} from one dpkg-query."""
    if not names:
        return {}
    result = run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", "--", *names],
                 capture_output=True, text=True, check=False)
    seen = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    return {name: seen.get(name) == "installed" for name in names}


def account_differences(users):
    out = []
    for user in users:
        name = user["name"]
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            out.append(f"account {name}: missing")
            continue
        try:
            primary = grp.getgrgid(entry.pw_gid).gr_name
        except KeyError:
            primary = None
        if primary != name:
            out.append(f"account {name}: primary group")
        for group in user.get("groups", []):
            try:
                members = grp.getgrnam(group).gr_mem
            except KeyError:
                members = []
            if name not in members:
                out.append(f"account {name}: not in {group}")
    return out


def stamp_differences(stamp, key):
    if not stamp:
        return ["no install stamp"]
    if stamp.get("key") != key:
        return ["install specification or skeleton changed"]
    out = [f"{path}: changed" for path, sig in stamp.get("paths", {}).items() if path_signature(path) != sig]
    installed = packages_installed(stamp.get("packages", []))
    out += [f"package {name}: not installed" for name, ok in installed.items() if not ok]
    return out + account_differences(stamp.get("users", []))


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def _write(path, data):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(handle.name, 0o644)
    os.replace(handle.name, path)


def main():
    module = AnsibleModule(
        argument_spec={
            "stamp_file": {"type": "path", "required": True},
            "key": {"type": "str", "required": True, "no_log": False},
            "files": {"type": "list", "elements": "dict", "default": []},
            "absent": {"type": "list", "elements": "path", "default": []},
            "record": {"type": "bool", "default": False},
            "paths": {"type": "list", "elements": "str", "default": []},
            "packages": {"type": "list", "elements": "str", "default": []},
            "users": {"type": "list", "elements": "dict", "default": []},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["record"]:
        stamp = {
            "key": params["key"],
            "paths": {path: path_signature(path) for path in sorted(set(params["paths"]))},
            "packages": sorted(set(params["packages"])),
            "users": params["users"],
        }
        changed = _read(params["stamp_file"]) != json.loads(json.dumps(stamp))
        if changed and not module.check_mode:
            _write(params["stamp_file"], stamp)
        module.exit_json(changed=changed, install_clean=True, files_clean=True, reasons=[])
    files = file_differences(params["files"]) + absent_differences(params["absent"])
    install = stamp_differences(_read(params["stamp_file"]), params["key"])
    module.exit_json(changed=False, files_clean=not files, install_clean=not install,
                     reasons=(install + files)[:10])


if __name__ == "__main__":
    main()
