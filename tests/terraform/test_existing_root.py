"""The `existing` root for real, per example: init, apply, output, hand-off to an inventory that
ansible-inventory and the preflight stage accept, no drift, destroy. Preflight runs with
ansible_connection=local forced: the example addresses are never contacted."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import BIN, REPO, run_playbook

EXAMPLES = sorted((REPO / "terraform" / "platforms" / "existing" / "examples").glob("*.tfvars"))
HAND_OFF = REPO / "scripts" / "tf-inventory"


def hand_off(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "python"), str(HAND_OFF), *args], capture_output=True, text=True, check=False, env=env, timeout=120
    )


def ansible_inventory(inv: Path) -> dict:
    result = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(inv), "--list"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "[WARNING]" not in result.stderr, result.stderr
    return json.loads(result.stdout)


def preflight(inv: Path):
    return run_playbook(
        "ansible/playbooks/preflight.yml",
        inv,
        "-e",
        "ansible_connection=local",
        "-e",
        "ansible_python_interpreter={{ ansible_playbook_python }}",
    )


def test_examples_exist():
    assert {p.stem for p in EXAMPLES} >= {"production", "compact"}


@pytest.fixture
def root(tf, workspace):
    path = workspace / "terraform" / "platforms" / "existing"
    tf("init", "-input=false", cwd=path, check=True)
    return path


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_apply_hand_off_preflight_destroy(tf, root, tmp_path, example):
    var_file = f"-var-file={example}"
    tf("apply", "-auto-approve", "-no-color", var_file, cwd=root, check=True)

    outputs = tf.outputs(root)
    planned = {h["name"] for h in _tfvars_hosts(example)}
    assert set(outputs["hosts"]["value"]) == planned
    assert outputs["platform"]["value"] == "existing"
    assert outputs["inventory_applied"]["value"] == outputs["ansible_inventory"]["value"]

    # Hand-off: one command writes the inventory from `terraform output -json`.
    inv = tmp_path / "inventories" / outputs["environment"]["value"]
    done = hand_off(str(root), "--inventory-dir", str(inv))
    assert done.returncode == 0, done.stderr
    assert (inv / "hosts.yml").is_file() and (inv / "group_vars" / "all" / "terraform.yml").is_file()
    assert hand_off(str(root), "--inventory-dir", str(inv), "--check").returncode == 0

    lint = subprocess.run(
        [str(BIN / "yamllint"), "--strict", "-c", str(REPO / ".yamllint"), str(inv)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout

    listed = ansible_inventory(inv)
    hostvars = listed["_meta"]["hostvars"]
    assert set(hostvars) == planned
    for name, host in outputs["hosts"]["value"].items():
        assert hostvars[name]["ansible_host"] == host["address"]
        assert hostvars[name]["platform_environment"] == outputs["environment"]["value"]
        for group in host["groups"]:
            assert name in listed[group]["hosts"], (name, group)

    result = preflight(inv)
    assert result.returncode == 0, result.stdout[-4000:]
    assert f"inventory and variables of {len(planned)} host(s) are valid" in result.stdout

    # Nothing drifts after apply; destroy leaves an empty state.
    assert tf("plan", "-detailed-exitcode", "-no-color", var_file, cwd=root).returncode == 0
    tf("destroy", "-auto-approve", "-no-color", var_file, cwd=root, check=True)
    assert tf("state", "list", cwd=root, check=True).stdout.strip() == ""


def _tfvars_hosts(example: Path) -> list[dict]:
    """The hosts of an example (every `name = "..."` of its hosts list)."""
    return [{"name": n} for n in re.findall(r'name\s*=\s*"([a-z0-9-]+)"', example.read_text(encoding="utf-8"))]


def test_hand_off_detects_a_stale_inventory(tf, root, tmp_path):
    example = root / "examples" / "compact.tfvars"
    tf("apply", "-auto-approve", "-no-color", f"-var-file={example}", cwd=root, check=True)
    inv = tmp_path / "inv"
    assert hand_off(str(root), "--inventory-dir", str(inv)).returncode == 0

    grown = tmp_path / "grown.tfvars"
    grown.write_text(
        example.read_text(encoding="utf-8").replace(
            "\n]\n", '\n  { name = "edge4", roles = ["trino_worker"], cpus = 8, memory_mib = 32768 },\n]\n'
        ),
        encoding="utf-8",
    )
    tf("apply", "-auto-approve", "-no-color", f"-var-file={grown}", cwd=root, check=True)

    stale = hand_off(str(root), "--inventory-dir", str(inv), "--check")
    assert stale.returncode == 1 and "out of date" in stale.stderr, stale.stderr
    assert hand_off(str(root), "--inventory-dir", str(inv)).returncode == 0
    assert "edge4" in ansible_inventory(inv)["trino_worker"]["hosts"]


def test_hand_off_keeps_site_files_and_refuses_contradictions(tf, root, tmp_path):
    tf("apply", "-auto-approve", "-no-color", f"-var-file={root / 'examples' / 'compact.tfvars'}", cwd=root, check=True)
    inv = tmp_path / "inv"
    site = inv / "group_vars" / "all" / "site.yml"
    site.parent.mkdir(parents=True)
    site.write_text("---\nplatform_environment: edge\ncommon_ntp_servers: [ntp1.example.net]\n", encoding="utf-8")
    assert hand_off(str(root), "--inventory-dir", str(inv)).returncode == 0
    assert "common_ntp_servers" in site.read_text(encoding="utf-8")
    assert ansible_inventory(inv)["_meta"]["hostvars"]["edge1"]["common_ntp_servers"] == ["ntp1.example.net"]

    site.write_text("---\nplatform_environment: prod\n", encoding="utf-8")
    refused = hand_off(str(root), "--inventory-dir", str(inv))
    assert refused.returncode == 2
    assert "group_vars/all/site.yml sets platform_environment to 'prod', Terraform to 'edge'" in refused.stderr


def test_hand_off_refuses_a_group_vars_file_ansible_would_ignore(tf, root, tmp_path):
    """Ansible reads group_vars/all/ and then ignores group_vars/all.yml: never let that happen silently."""
    tf("apply", "-auto-approve", "-no-color", f"-var-file={root / 'examples' / 'compact.tfvars'}", cwd=root, check=True)
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "group_vars" / "all.yml").write_text("---\ncommon_ntp_servers: []\n", encoding="utf-8")
    refused = hand_off(str(root), "--inventory-dir", str(inv))
    assert refused.returncode == 2 and "move it to group_vars/all/site.yml" in refused.stderr, refused.stderr
    assert not (inv / "hosts.yml").exists()


def test_hand_off_needs_an_applied_root(tf, root):
    result = hand_off(str(root), "--inventory-dir", "/nonexistent")
    assert result.returncode == 2 and "run `terraform apply`" in result.stderr, result.stderr


def test_hand_off_from_saved_json(tf, root, tmp_path):
    tf(
        "apply",
        "-auto-approve",
        "-no-color",
        f"-var-file={root / 'examples' / 'production.tfvars'}",
        cwd=root,
        check=True,
    )
    saved = tmp_path / "outputs.json"
    saved.write_text(tf("output", "-json", cwd=root, check=True).stdout, encoding="utf-8")
    inv = tmp_path / "inv"
    assert hand_off("--json", str(saved), "--inventory-dir", str(inv)).returncode == 0
    data = yaml.safe_load((inv / "hosts.yml").read_text(encoding="utf-8"))
    assert data["all"]["hosts"]["ops1"] == {"ansible_host": "192.0.2.61", "ansible_user": "debian"}


def test_default_inventory_location_is_inventories_env(tmp_path):
    """Without --inventory-dir the files go to inventories/<environment>/ of the repository; checked
    with --check so that nothing is written into the checkout."""
    outputs = {
        "ansible_inventory": {
            "value": {
                "environment": "tf-handoff-probe",
                "files": {
                    "hosts.yml": "---\nall: {}\n",
                    "group_vars/all/terraform.yml": "---\nplatform_environment: tf-handoff-probe\n",
                },
            }
        }
    }
    saved = tmp_path / "o.json"
    saved.write_text(json.dumps(outputs), encoding="utf-8")
    result = hand_off("--json", str(saved), "--check")
    assert result.returncode == 1
    assert str(REPO / "inventories" / "tf-handoff-probe") in result.stderr
    assert not (REPO / "inventories" / "tf-handoff-probe").exists()
