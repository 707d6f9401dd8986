"""The fast path beside the configure step it skips, on this machine (connection local, every
file under a temporary directory): the controller-side rendering of fdp_service_check must
give exactly the bytes the template and copy steps write - data formats through the one
rendering template, a component template with ansible_managed and trim_blocks, a file, text
and JSON content - or a no-op would never be recognised. A changed file takes the full path."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from helpers import read_report, run_playbook

def passes_playbook(title: str, passes: str, count: int, play_vars: str = "") -> str:
    """A play on localhost that runs pass.yml `count` times, then writes what each pass found
    (the fact `passes`) to out/passes.json."""
    return f"""
- name: {title}
  hosts: localhost
  gather_facts: true
  gather_subset: [min]
{play_vars}  tasks:
    - name: {passes}
      ansible.builtin.include_tasks: pass.yml
      loop: {list(range(1, count + 1))}
      loop_control:
        loop_var: pass

    - name: Write what each pass found
      ansible.builtin.copy:
        content: "{{{{ passes | to_json }}}}"
        dest: "{{{{ out }}}}/passes.json"
        mode: "0644"
"""


def configure_task(service_vars: str) -> str:
    """The skeleton's configure step of a component without units, with the pass's variables."""
    return """\
- name: Configure
  ansible.builtin.include_role:
    name: service
    tasks_from: configure.yml
    rolespec_validate: false
  vars:
""" + service_vars + """\
    service_units: []
    service_role_path: "{{ component }}"
    platform_data_dir: "{{ out }}/data"
"""


def run_passes(tmp_path: Path, play: str, passes: str, out: Path, component: Path, report: Path | None = None) -> list:
    """Runs the play with its pass.yml on this machine; what each pass found."""
    (tmp_path / "play.yml").write_text(play)
    (tmp_path / "pass.yml").write_text(passes)
    (tmp_path / "inv.yml").write_text(textwrap.dedent("""
        all:
          hosts:
            localhost: {ansible_connection: local, ansible_python_interpreter: "{{ ansible_playbook_python }}"}
        """))
    extra = tmp_path / "vars.yml"
    extra.write_text(yaml.safe_dump({"out": str(out), "component": str(component),
                                     "platform_environment": "test", "platform_admin_cidrs": ["198.51.100.0/24"]}))
    result = run_playbook(str(tmp_path / "play.yml"), tmp_path / "inv.yml", "-e", f"@{extra}", report=report)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return json.loads((out / "passes.json").read_text())


PLAYBOOK = passes_playbook("The service skeleton's configure step, three times over",
                           "Pass 1 (fresh), 2 (nothing to do), 3 (after app.conf was edited)", 3, """\
  vars:
    _svc_files:
      - {dest: "{{ out }}/etc/app.properties", format: properties, settings: {a.b: 1, name: x y}, comment: from data}
      - {dest: "{{ out }}/etc/app.yml", format: yaml, settings: {k: [1, 2], m: {n: true}}}
      - {dest: "{{ out }}/etc/app.conf", template: app.conf.j2, value: 42}
      - {dest: "{{ out }}/etc/tool", src: tool, mode: "0755"}
      - {dest: "{{ out }}/etc/secret", content: "s3cret\\n", secret: true, mode: "0600"}
      - {dest: "{{ out }}/etc/doc.json", content: {k: [1, 2]}}
""")

PASS = """
- name: Edit app.conf by hand before pass 3
  ansible.builtin.lineinfile:
    path: "{{ out }}/etc/app.conf"
    line: "edited = by hand"
  when: pass == 3

""" + configure_task("""\
    service_name: fastpath
    service_files: "{{ _svc_files }}"
""") + """

- name: Remember what the fast path found, and resolve afresh next time
  ansible.builtin.set_fact:
    passes: >-
      {{ passes | default([]) + [{'files': _service_check.files_clean, 'install': _service_check.install_clean,
                                  'reasons': _service_check.reasons}] }}
    _service_resolved_for: ""
"""

TEMPLATE = """\
# {{ ansible_managed }}
value = {{ item.value }}
{% if item.value > 1 %}
big = true
{% endif %}
arch = {{ ansible_facts['architecture'] }}
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the configure step sets root as owner")
def test_the_controller_rendering_matches_the_configure_step(tmp_path):
    component = tmp_path / "component"
    (component / "templates").mkdir(parents=True)
    (component / "files").mkdir()
    (component / "templates" / "app.conf.j2").write_text(TEMPLATE)
    (component / "files" / "tool").write_text("#!/bin/sh\necho tool\n")
    out = tmp_path / "out"
    (out / "etc").mkdir(parents=True)  # the install step's directories
    report = tmp_path / "report.jsonl"
    first, second, third = run_passes(tmp_path, PLAYBOOK, PASS, out, component, report)
    assert first["files"] is False and any("missing" in r for r in first["reasons"])
    assert second["files"] is True, f"a no-op not recognised: {second['reasons']}"
    # (no install ran here: the install stamp is missing all along, which is the install's affair)
    assert third["files"] is False and third["reasons"] == ["no install stamp", f"{out}/etc/app.conf: content"]

    changed = [c["task"] for c in read_report(report)[-1]["changed"]]
    renders = [t for t in changed if "Render the configuration files" in t or "given as files or content" in t]
    assert len(renders) == 3, changed  # pass 1: templates and copies; pass 3: app.conf again
    assert "edited = by hand" not in (out / "etc" / "app.conf").read_text()
    assert "big = true\narch = " in (out / "etc" / "app.conf").read_text()  # trim_blocks as the template step
    assert (out / "etc" / "doc.json").read_text() == '{"k": [1, 2]}'
    assert oct((out / "etc" / "tool").stat().st_mode & 0o777) == "0o755"


COPIES_PLAYBOOK = passes_playbook(
    "The account's own copies of the host key, four times over",
    "Pass 1 (fresh), 2 (nothing to do), 3 (after a new key), 4 (an account without its directory)", 4)

COPIES_PASS = """
- name: A new host key before pass 3 (a rotation)
  ansible.builtin.copy:
    content: "key 2\\n"
    dest: "{{ out }}/tls/host.key"
    mode: "0600"
  when: pass == 3

""" + configure_task("""\
    service_name: copies
    service_account: "{{ 'daemon' if pass == 4 else 'root' }}"
    service_tls_copies: [host.key, host.crt]
    service_files: []
    platform_tls_dir: "{{ out }}/tls"
""") + """

- name: Remember what the fast path found and what was copied, and resolve afresh next time
  ansible.builtin.set_fact:
    passes: >-
      {{ passes | default([]) + [{'files': _service_check.files_clean, 'reasons': _service_check.reasons,
                                  'copied': _service_tls_copied.results | default([]) | select('changed')
                                            | map(attribute='item.dest') | list}] }}
    _service_resolved_for: ""
    _service_tls_copied: {}  # (a skipped configure step registers nothing)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the copies are owned by root")
def test_the_accounts_copies_of_the_key_follow_the_original(tmp_path):
    """service_tls_copies: the configure step gives the account its own copy of the host key and
    certificate (root:<account> 0640, the original root's alone); a no-op compares them in the
    fast path and copies nothing; a new key (here without the pki role, which brings the copies
    up to date itself) is noticed and copied; a host where the account's directory does not
    exist (the component not installed, check mode on a new host) gets nothing."""
    component = tmp_path / "component"
    component.mkdir()
    out = tmp_path / "out"
    tls = out / "tls"
    (tls / "private" / "root").mkdir(parents=True)  # what the install step creates for the account
    (tls / "host.key").write_text("key 1\n")
    (tls / "host.crt").write_text("certificate\n")
    for name in ("host.key", "host.crt"):
        (tls / name).chmod(0o600)
    first, second, third, fourth = run_passes(tmp_path, COPIES_PLAYBOOK, COPIES_PASS, out, component)
    mine = [f"{tls}/private/root/host.key", f"{tls}/private/root/host.crt"]
    assert first["files"] is False and sorted(first["copied"]) == sorted(mine), first
    # (no install ran here: the install stamp is missing all along, which is the install's affair)
    assert second == {"files": True, "reasons": ["no install stamp"], "copied": []}, "a no-op copied or was not recognised"
    assert third["files"] is False and third["copied"] == [mine[0]], third
    assert f"{tls}/private/root/host.key: content differs from {tls}/host.key" in third["reasons"]
    assert fourth["copied"] == [] and not (tls / "private" / "daemon").exists()
    copy = tls / "private" / "root" / "host.key"
    assert copy.read_text() == "key 2\n"
    assert oct(copy.stat().st_mode & 0o777) == "0o640" and copy.stat().st_gid == 0
