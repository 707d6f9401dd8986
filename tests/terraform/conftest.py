"""Fixtures of the Terraform tests (helpers: tfhelpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfhelpers import Terraform, copy_tree, plugin_dir, write_cli_config


@pytest.fixture(scope="session")
def tf(tmp_path_factory) -> Terraform:
    base = tmp_path_factory.mktemp("tfcli")
    return Terraform(write_cli_config(base / "terraformrc", plugin_dir()))


@pytest.fixture
def workspace(tmp_path) -> Path:
    return copy_tree(tmp_path / "ws")
