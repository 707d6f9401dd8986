"""Action fdp_service_check: the service skeleton's fast path.

Renders the component's configuration files and units on the controller exactly as the
configure step's template and copy tasks would (same templar, variables, search path and
options), and sends only their SHA-256 digests, modes and owners to the host, together with the
digest of the install specification, in one call of the module fdp_service_stamp. The skeleton
runs its install and configure steps only where the answer is "not clean".

A file item may carry `vars`: further template variables, as a template task's own `vars` (the
common role's check; the skeleton's configure step passes none).
`copies` ([{dest, copy_of}], owned root:`copies_group` 0640) are the account's own copies of
host files (the TLS key): the host compares each with its original there.
`absent` lists paths that must not exist. With record: true, writes the install stamp instead
(after a complete install).

A rendering it cannot reproduce (an internal templating API that moved, a directory as src)
only costs speed: the answer is then "not clean" and the full steps run.
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

try:  # the template action's own helpers (ansible-core 2.19)
    from ansible.template import trust_as_template
    from ansible._internal._templating import _template_vars
except ImportError:  # pragma: no cover - another ansible-core: always the full path
    trust_as_template = _template_vars = None

# The skeleton and the roles it includes: a change of their code makes every stamp stale.
CODE_ROLES = ("service", "common", "java", "artifact")
_CODE_DIGEST = {}
display = Display()

UNIT_TEMPLATE = "etc/systemd/system/service.service.j2"
DATA_TEMPLATE = "etc/fdp/config.j2"


def code_digest(roles_dir, roles=CODE_ROLES):
    """SHA-256 over the files of the named roles (cached per controller process)."""
    cache_key = (roles_dir, roles)
    if cache_key not in _CODE_DIGEST:
        digest = hashlib.sha256()
        for role in roles:
            base = os.path.join(roles_dir, role)
            for directory, dirs, files in sorted(os.walk(base)):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(f for f in files if not f.endswith(".md")):
                    path = os.path.join(directory, name)
                    digest.update(os.path.relpath(path, roles_dir).encode() + b"\0")
                    with open(path, "rb") as handle:
                        digest.update(hashlib.sha256(handle.read()).digest())
        _CODE_DIGEST[cache_key] = digest.hexdigest()
    return _CODE_DIGEST[cache_key]


def install_key(spec, roles_dir):
    """Digest of the install specification and the code that carries it out."""
    document = json.dumps({"spec": spec, "code": code_digest(roles_dir)}, sort_keys=True, default=str)
    return hashlib.sha256(document.encode()).hexdigest()


def content_bytes(content):
    """What the copy action writes for `content` (a dict or list as JSON)."""
    if isinstance(content, (dict, list)):
        return to_bytes(json.dumps(content))
    return to_bytes(content)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def _render(self, src, dest, extra, task_vars):
        """The template action's rendering of src for dest, with extra loop variables."""
        source = self._find_needle("templates", src)
        data = trust_as_template(self._loader.get_text_file_contents(source))
        searchpath = list(task_vars.get("ansible_search_path", [])) + [self._loader._basedir, os.path.dirname(source)]
        searchpath = [p for base in searchpath for p in (os.path.join(base, "templates"), base)]
        variables = task_vars.copy()
        variables.update(extra)
        variables.update(_template_vars.generate_ansible_template_vars(
            path=src, fullpath=source, dest_path=dest, include_ansible_managed="ansible_managed" not in variables))
        templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=variables)
        result = templar.template(data, escape_backslashes=False, overrides={
            "trim_blocks": True, "lstrip_blocks": False, "newline_sequence": "\n"})
        return to_bytes("" if result is None else result, encoding="utf-8")

    def _expected(self, args, task_vars):
        """[{path, sha256, mode, owner, group}] of the configuration files and units."""
        source, group = args["source"], args["default_group"]
        expected = []
        for item in args.get("files", []):
            if "src" in item:
                path = self._find_needle("files", item["src"] if os.path.isabs(item["src"])
                                         else f"{source}/files/{item['src']}")
                if not os.path.isfile(path):
                    raise ValueError(f"{item['src']} is not a file")
                with open(path, "rb") as handle:
                    data = handle.read()
            elif "content" in item:
                data = content_bytes(item["content"])
            else:
                src = DATA_TEMPLATE if "format" in item else f"{source}/templates/{item['template']}"
                data = self._render(src, item["dest"], {"item": item, **item.get("vars", {})}, task_vars)
            expected.append({"path": item["dest"], "sha256": hashlib.sha256(data).hexdigest(),
                             "mode": item.get("mode", "0640"), "owner": item.get("owner", "root"),
                             "group": item.get("group", group)})
        for unit in args.get("units", []):
            dest = f"/etc/systemd/system/{unit['name']}.service"
            data = self._render(UNIT_TEMPLATE, dest, {"_service_unit": unit}, task_vars)
            expected.append({"path": dest, "sha256": hashlib.sha256(data).hexdigest(),
                             "mode": "0644", "owner": "root", "group": "root"})
        for copy in args.get("copies", []):
            expected.append({"path": copy["dest"], "same_as": copy["copy_of"],
                             "mode": "0640", "owner": "root", "group": args.get("copies_group") or group})
        return expected

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        roles_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        module_args = {"stamp_file": args["stamp_file"], "key": install_key(args.get("key", {}), roles_dir)}
        if args.get("record"):
            module_args.update(record=True, paths=args.get("paths", []), packages=args.get("packages", []),
                               users=args.get("users", []))
            result.update(self._execute_module("fdp_service_stamp", module_args=module_args, task_vars=task_vars))
            return result
        unrenderable = None
        try:
            if trust_as_template is None:
                raise ValueError("this ansible-core's templating is not the one the fast path mirrors")
            module_args["files"] = self._expected(args, task_vars)
            module_args["absent"] = list(args.get("absent", []))
        except Exception as exc:  # noqa: BLE001 - any doubt means the full path
            unrenderable = f"expected files not computed on the controller ({type(exc).__name__})"
            module_args["files"] = []
        result.update(self._execute_module("fdp_service_stamp", module_args=module_args, task_vars=task_vars))
        if unrenderable:
            result.update(files_clean=False, reasons=[unrenderable] + result.get("reasons", []))
        result.pop("invocation", None)
        # The answer at -v (the task itself is no_log: its arguments carry the files' content).
        answer = ", ".join(f"{kind} {'as specified' if result.get(kind + '_clean') else 'differ'}"
                           for kind in ("install", "files"))
        display.v(f"{task_vars.get('inventory_hostname')}: {args.get('name', '')}: {answer}"
                  + "".join(f"\n  - {reason}" for reason in result.get("reasons", [])))
        return result
