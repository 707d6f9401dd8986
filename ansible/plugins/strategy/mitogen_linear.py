"""Strategy mitogen_linear: Ansible's linear strategy over Mitogen's connection multiplexer
(PyPI mitogen, pinned in requirements.txt), which runs modules in a persistent interpreter on
each host instead of shipping and starting Python per task. Selected with
ANSIBLE_STRATEGY=mitogen_linear (the environment passes through make lab and scripts/bench);
the plain linear strategy stays the default. docs/operations.md shows how to benchmark it."""

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
