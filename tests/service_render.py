"""Render a component role's configuration files and units with the service skeleton's own
configure step (roles/service, service_render_dir): the role's real data, the real templates
and filters, written under a directory instead of a host. Tests read the files back with
parsers of their formats and check them with the upstream tools where we have them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from helpers import REPO, run_playbook

PLAYBOOK = """
- name: Render a component role with the service skeleton's configure step
  hosts: "{{ render_hosts }}"
  gather_facts: "{{ render_facts | bool }}"
  tasks:
    - name: Load the component role's variables (its read-only preflight checks)
      ansible.builtin.include_role:
        name: "{{ render_role }}"
        tasks_from: preflight.yml
        public: true
    - name: Render its files and units
      ansible.builtin.include_role:
        name: service
        tasks_from: configure.yml
      vars:
        service_name: "{{ render_role }}"
        service_account: "{{ render_role }}"
        service_files: "{{ lookup('ansible.builtin.vars', render_files) }}"
        service_units: "{{ lookup('ansible.builtin.vars', render_units) }}"
        service_render_dir: "{{ render_out }}/{{ inventory_hostname }}"
        service_role_path: "{{ render_repo }}/roles/{{ render_role }}"
"""


def render_role(tmp_path: Path, role: str, inventory: str, hosts: str = "all", extra_vars: dict | None = None,
                facts: bool = False, files_var: str = "", units_var: str = ""):
    """(result, out, credentials): out/<host>/<absolute path> holds what the host would get."""
    out, inv, creds = tmp_path / "out", tmp_path / "inv", tmp_path / "credentials"
    inv.mkdir(parents=True, exist_ok=True)
    (inv / "hosts.yml").write_text(textwrap.dedent(inventory), encoding="utf-8")
    variables = {
        "render_repo": str(REPO), "render_out": str(out), "render_role": role, "render_hosts": hosts,
        "render_facts": facts, "render_files": files_var or f"_{role}_files", "render_units": units_var or f"_{role}_units",
        "platform_credentials_dir": str(creds), "platform_pki_dir": str(tmp_path / "pki"),
        "platform_environment": "test", "platform_admin_cidrs": ["198.51.100.0/24"],
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        **(extra_vars or {}),
    }
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables), encoding="utf-8")
    (tmp_path / "render.yml").write_text(PLAYBOOK, encoding="utf-8")
    result = run_playbook(str(tmp_path / "render.yml"), inv, "-e", f"@{tmp_path / 'vars.yml'}")
    return result, out, creds


def unit_complaints(unit_file: Path, tmp_path: Path, expected: tuple[str, ...] = ()) -> list[str]:
    """What `systemd-analyze verify` says about a rendered unit (copied under its own name), but
    for lines naming one of `expected` (a binary this machine cannot have). Skips the test when
    systemd-analyze is missing."""
    import shutil
    import subprocess

    import pytest

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / unit_file.name
    shutil.copy(unit_file, unit)
    result = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False,
                            timeout=60)
    return [line for line in (result.stdout + result.stderr).splitlines()
            if line.strip() and not any(text in line for text in expected)]
