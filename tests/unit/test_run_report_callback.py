"""The fdp_run_report callback records what changed, in normal and in check mode: the Molecule
check-mode gate and the deploy timings rely on it."""

from __future__ import annotations

from helpers import read_report, run_playbook

PLAYBOOK = """
- name: Callback probe
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write a file
      ansible.builtin.copy:
        dest: "{{ target }}"
        content: "x\\n"
        mode: "0644"
"""


def test_records_changes_check_mode_and_time(tmp_path):
    playbook = tmp_path / "probe.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    report = tmp_path / "report.jsonl"
    args = ("-e", f"target={tmp_path / 'out.txt'}", "-e", "ansible_python_interpreter={{ ansible_playbook_python }}")

    assert run_playbook(str(playbook), "localhost,", "--check", *args, report=report).returncode == 0
    assert not (tmp_path / "out.txt").exists()  # the check-mode run wrote nothing
    assert run_playbook(str(playbook), "localhost,", *args, report=report).returncode == 0
    assert run_playbook(str(playbook), "localhost,", *args, report=report).returncode == 0

    check, first, second = read_report(report)
    assert check["check_mode"] is True and check["changed"] == [{"host": "localhost", "task": "Write a file"}]
    assert first["check_mode"] is False and first["changed"] == [{"host": "localhost", "task": "Write a file"}]
    assert second["changed"] == [] and second["failed"] == []
    assert second["playbook"] == "probe.yml" and second["seconds"] > 0
    # the per-task profile: every task with its wall time, slowest first
    assert [t["task"] for t in second["tasks"]] == ["Write a file"] and second["tasks"][0]["seconds"] > 0
