"""Callback plugin fdp_run_report: one JSON line per playbook run, for tests and timing.

Enabled in ansible.cfg but inert unless the environment variable FDP_RUN_REPORT names a file.
Each run appends {"playbook", "check_mode", "changed": [{"host", "task"}], "failed": [...],
"unreachable": [...], "seconds", "tasks"} to that file; "tasks" lists each task's wall time
(from its start to the next task's, as ansible.posix.profile_tasks measures it), slowest first. Molecule's verify step reads it to prove that the
check-mode pass after converge reported no change (molecule's own `check` action does not assert
that), and `make lab` uses it to report the wall time of a deploy.
"""

from __future__ import annotations

import json
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: fdp_run_report
type: aggregate
short_description: append a JSON summary of each playbook run to $FDP_RUN_REPORT
description:
  - Records which tasks changed or failed on which host, whether the run was in check mode,
    and its wall time. Does nothing unless FDP_RUN_REPORT is set.
requirements:
  - enabled in ansible.cfg callbacks_enabled
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fdp_run_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("FDP_RUN_REPORT")
        self._start = time.monotonic()
        self._playbook = None
        self._changed: list[dict[str, str]] = []
        self._failed: list[dict[str, str]] = []
        self._unreachable: list[str] = []
        self._task_times: dict[str, float] = {}
        self._current: tuple[str, float] | None = None

    def _close_task(self):
        if self._current is not None:
            name, started = self._current
            self._task_times[name] = self._task_times.get(name, 0.0) + time.monotonic() - started
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        role = f"{task._role.get_name()} : " if task._role else ""
        self._current = (role + task.get_name(), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)
        self._start = time.monotonic()

    def _record(self, bucket, result):
        bucket.append({"host": result._host.get_name(), "task": result._task.get_name()})

    def v2_runner_on_ok(self, result):
        if result._result.get("changed"):
            self._record(self._changed, result)

    def v2_runner_item_on_ok(self, result):
        # Loop items are summarised by v2_runner_on_ok of the task itself.
        return

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._record(self._failed, result)

    def v2_runner_on_unreachable(self, result):
        self._unreachable.append(result._host.get_name())

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        if not self._path:
            return
        entry = {
            "playbook": self._playbook,
            "check_mode": bool(context.CLIARGS.get("check", False)),
            "changed": self._changed,
            "failed": self._failed,
            "unreachable": self._unreachable,
            "hosts": sorted(stats.processed.keys()),
            "seconds": round(time.monotonic() - self._start, 2),
            "tasks": [{"task": name, "seconds": round(secs, 3)}
                      for name, secs in sorted(self._task_times.items(), key=lambda item: -item[1])],
        }
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
