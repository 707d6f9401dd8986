"""Strategy mitogen_linear: Ansible's linear strategy over Mitogen's connection multiplexer
(PyPI mitogen, pinned in requirements.txt), which runs modules in a persistent interpreter on
each host instead of shipping and starting Python per task. The project's default (ansible.cfg
and the Molecule base); ANSIBLE_STRATEGY=linear goes back to plain SSH per task.
docs/operations.md shows the benchmark of both."""

from __future__ import annotations

import ansible_mitogen.affinity
import ansible_mitogen.loaders
import ansible_mitogen.strategy
from ansible.plugins.loader import filter_loader, test_loader

# Mitogen pins Ansible's processes to CPUs. On a machine with fewer than 4 CPUs its policy puts
# the top-level process and every worker on CPU 1 (CPU 0 is kept for its multiplexer), and
# whatever they start inherits that mask: measured on a 2-core controller, every playbook, and
# every lab host (systemd-nspawn) a playbook started, ran on CPU 1 while CPU 0 idled. The base
# Policy pins nothing: placement is left to the kernel. (Read at call time by Mitogen, so setting
# it when the strategy loads is early enough.)
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

DOCUMENTATION = """
name: mitogen_linear
short_description: the linear strategy over Mitogen connections
description:
  - Ansible's linear strategy with Mitogen's connection and module runner (PyPI mitogen).
"""

_Base = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Base):
    """linear, with Mitogen."""

    def run(self, iterator, play_context):
        # Every task runs in a worker process forked from this one. A worker that renders a
        # filter or test short name fills the Jinja plugin caches first: it imports every filter
        # and test plugin file of Ansible's and of the configured plugin paths (the project's;
        # a collection's plugins load by their full name, on use). Filled here, before the first
        # fork, they are inherited instead of rebuilt by each worker.
        list(filter_loader.all())
        list(test_loader.all())
        return super().run(iterator, play_context)
