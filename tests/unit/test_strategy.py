"""The project's strategy (ansible/plugins/strategy/mitogen_linear.py) fills the Jinja plugin caches
in the controller process before it forks the task workers, so that the filter and test plugin files
are imported once per run instead of once per task."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from helpers import BIN, REPO

PROBE = '''
import os

with open(os.environ["FDP_PROBE_LOG"], "a", encoding="utf-8") as log:
    log.write(f"{os.getpid()}\\n")


class FilterModule:
    def filters(self):
        return {"fdp_probe": lambda value: value}
'''

PLAY = """
- name: Three tasks that render a filter
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: First
      ansible.builtin.debug:
        msg: "{{ 1 | fdp_probe }}"
    - name: Second
      ansible.builtin.debug:
        msg: "{{ 2 | fdp_probe }}"
    - name: Third
      ansible.builtin.debug:
        msg: "{{ [3] | map('fdp_probe') | list }}"
"""


def imports(tmp_path: Path, strategy: str) -> list[str]:
    """The PIDs of the processes that imported the probe filter plugin during one run."""
    filters = tmp_path / "filters"
    filters.mkdir(exist_ok=True)
    (filters / "fdp_probe.py").write_text(PROBE, encoding="utf-8")
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    log = tmp_path / f"imports-{strategy}.log"
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STRATEGY=strategy,
               ANSIBLE_FILTER_PLUGINS=f"{filters}:{REPO / 'ansible/plugins/filter'}", FDP_PROBE_LOG=str(log),
               ANSIBLE_PYTHON_INTERPRETER=str(BIN / "python"), ANSIBLE_NOCOLOR="1")
    result = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(tmp_path / "play.yml")],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "ok=3" in result.stdout
    return log.read_text(encoding="utf-8").split()


def test_the_filter_plugins_are_imported_once_per_run(tmp_path):
    assert len(imports(tmp_path, "mitogen_linear")) == 1


def test_without_it_each_task_worker_imports_them_again(tmp_path):
    """The measurement the strategy's warm-up rests on: Ansible's own strategies import the plugin
    files in every worker (ansible-core as pinned). If this ever fails, Ansible has started doing
    it itself and the warm-up can go."""
    assert len(set(imports(tmp_path, "linear"))) == 3
