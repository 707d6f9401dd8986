"""Strategy mitogen_linear: Ansible's linear strategy over Mitogen's connection multiplexer
(PyPI mitogen, pinned in requirements.txt), which runs modules in a persistent interpreter on
each host instead of shipping and starting Python per task. The project's default (ansible.cfg
and the Molecule base); ANSIBLE_STRATEGY=linear goes back to plain SSH per task.
docs/operations.md shows the benchmark of both."""

from __future__ import annotations

import ansible_mitogen.loaders
import ansible_mitogen.strategy

DOCUMENTATION = """
name: mitogen_linear
short_description: the linear strategy over Mitogen connections
description:
  - Ansible's linear strategy with Mitogen's connection and module runner (PyPI mitogen).
"""

_Base = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Base):
    """linear, with Mitogen."""
