"""Static checks of every module and root, and the provider roots (libvirt, Proxmox) without their
providers: they parse, pin exact provider versions, share the common inputs and outputs, and
their examples are valid plans. With FDP_TF_PLUGIN_DIR pointing at a provider mirror
(`terraform providers mirror DIR` on a connected machine) their mock_provider tests run too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import REPO
from tfhelpers import PLUGIN_DIR_ENV, count_runs, plugin_dir, summary

TF = REPO / "terraform"
MODULE_DIRS = sorted(p for p in (TF / "modules").iterdir() if p.is_dir())
ROOTS = sorted(p for p in (TF / "platforms").iterdir() if p.is_dir())
PROVIDER_ROOTS = {  # root -> (provider source, thin module, line the exact pin must be in)
    "libvirt": ("dmacvicar/libvirt", "libvirt_hosts", r"^0\.9\.\d+$"),
    "proxmox": ("bpg/proxmox", "proxmox_hosts", r"^0\.\d+\.\d+$"),
}
COMMON_VARIABLES = (
    "environment",
    "hosts",
    "network",
    "admin_cidrs",
    "client_cidrs",
    "endpoint_cidrs",
    "ssh",
    "ports_file",
    "platform_file",
)
COMMON_OUTPUTS = ("environment", "hosts", "groups", "firewall", "inventory_yaml", "ansible_inventory", "platform")
BLOCK = re.compile(r'^(\w+)((?: "[^"]*")*) \{\n(.*?)^\}\n', re.M | re.S)


def blocks(directory: Path, kind: str) -> dict[str, str]:
    """Top-level blocks of one kind in a directory's .tf files: name -> body. The files are
    `terraform fmt` clean (tested), so blocks open and close at column 0."""
    found = {}
    for path in sorted(directory.glob("*.tf")):
        for match in BLOCK.finditer(path.read_text(encoding="utf-8")):
            if match.group(1) == kind:
                labels = re.findall(r'"([^"]*)"', match.group(2))
                found[labels[0] if labels else kind] = match.group(3)
    return found


def attribute(body: str, name: str) -> str | None:
    """A top-level attribute of a block body, with nested braces/brackets, whitespace-normalised."""
    match = re.search(rf"^  {name}\s+=\s+", body, flags=re.M)
    if not match:
        return None
    text, depth, out = body[match.end() :], 0, []
    for line in text.splitlines():
        out.append(line.strip())
        depth += (
            line.count("{") + line.count("(") + line.count("[") - line.count("}") - line.count(")") - line.count("]")
        )
        if depth <= 0:
            break
    return " ".join(" ".join(out).split())


@pytest.mark.parametrize("directory", MODULE_DIRS + ROOTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_variable_is_typed_and_described(directory):
    variables = blocks(directory, "variable")
    assert variables, f"{directory} declares no variables"
    missing = [
        f"{name}: {what}"
        for name, body in variables.items()
        for what in ("type", "description")
        if attribute(body, what) is None
    ]
    assert not missing, f"{directory.relative_to(REPO)}: {missing}"


@pytest.mark.parametrize("directory", MODULE_DIRS + ROOTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_output_is_described(directory):
    outputs = blocks(directory, "output")
    assert outputs, f"{directory} has no outputs"
    assert not [n for n, body in outputs.items() if attribute(body, "description") is None]


def test_the_block_scanner_sees_what_is_there():
    """Guard for the two tests above: the scanner finds known blocks and attributes."""
    variables = blocks(TF / "modules" / "cluster_plan", "variable")
    assert set(variables) >= {"environment", "hosts", "network", "ports_file"}
    assert attribute(variables["ports_file"], "type") == "string"
    assert attribute(variables["hosts"], "type").startswith("list(object({ name = string")
    assert attribute("  x = 1\n", "type") is None


@pytest.mark.parametrize("root", ROOTS, ids=lambda p: p.name)
def test_roots_share_the_common_inputs_and_outputs(root):
    plan_vars = blocks(TF / "modules" / "cluster_plan", "variable")
    reference = blocks(TF / "platforms" / "existing", "variable")
    variables = blocks(root, "variable")
    for name in COMMON_VARIABLES:
        assert name in variables, f"{root.name} lacks variable {name}"
        assert variables[name] == reference[name], f"{root.name}: variable {name} differs from platforms/existing"
        assert attribute(variables[name], "type") == attribute(
            plan_vars[name], "type"
        ), f"{root.name}: type of {name} differs from modules/cluster_plan"
    outputs = blocks(root, "output")
    for name in COMMON_OUTPUTS:
        assert name in outputs, f"{root.name} lacks output {name}"
        if name != "platform":
            assert attribute(outputs[name], "value") == f"module.plan.{name}"
    assert attribute(outputs["platform"], "value") == f'"{root.name}"'
    module = blocks(root, "module")["plan"]
    assert attribute(module, "source") == '"../../modules/cluster_plan"'
    for name in COMMON_VARIABLES:
        assert attribute(module, name) == f"var.{name}", f"{root.name} does not pass {name} to cluster_plan"


@pytest.mark.parametrize("name", sorted(PROVIDER_ROOTS))
def test_provider_root_parses_and_pins_exact_versions(tf, workspace, name):
    source, thin, pin_re = PROVIDER_ROOTS[name]
    root = workspace / "terraform" / "platforms" / name
    versions = (root / "versions.tf").read_text(encoding="utf-8")
    pin = re.search(rf'source\s+=\s+"{re.escape(source)}"\n\s+version\s+=\s+"([^"]+)"', versions)
    assert pin and re.match(pin_re, pin.group(1)), f"{name}: {source} must be pinned to one exact version"

    # Terraform itself parses the configuration; provider installation may only fail for want
    # of the provider (the CLI configuration allows no network, only an empty local mirror).
    init = tf("init", "-input=false", "-backend=false", "-no-color", cwd=root)
    if plugin_dir() is None:
        assert init.returncode == 1, str(init)
        assert "Failed to query available provider packages" in init.output, str(init)
        assert "encountered problems during initialisation" not in init.output, str(init)
    else:
        assert init.returncode == 0, str(init)
    providers = tf("providers", "-no-color", cwd=root, check=True).stdout
    assert f"provider[registry.terraform.io/{source}] {pin.group(1)}" in providers, providers
    assert re.search(
        rf"module\.vms\n[│\s]+└── provider\[registry\.terraform\.io/{re.escape(source)}\] ~> ", providers
    ), providers
    assert set(re.findall(r"provider\[registry\.terraform\.io/([^\]]+)\]", providers)) == {source}
    module_versions = (TF / "modules" / thin / "versions.tf").read_text(encoding="utf-8")
    assert re.search(
        rf'source\s+=\s+"{re.escape(source)}"\n\s+version\s+=\s+"~> ', module_versions
    ), f"modules/{thin} must state a range (~>), the root the exact version"


def test_existing_root_needs_no_provider(tf, workspace):
    root = workspace / "terraform" / "platforms" / "existing"
    tf("init", "-input=false", cwd=root, check=True)
    providers = tf("providers", "-no-color", cwd=root, check=True).stdout
    assert "registry.terraform.io" not in providers, providers
    for module in ("cluster_plan", "cloud_init"):
        assert "required_providers" not in (TF / "modules" / module / "versions.tf").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(PROVIDER_ROOTS))
def test_lock_file_matches_the_pin(name):
    root = TF / "platforms" / name
    lock = root / ".terraform.lock.hcl"
    if not lock.exists():
        pytest.skip(
            f"platforms/{name} has no .terraform.lock.hcl: provider hashes come from the registry, which is "
            "not reachable here; generate it as docs/infrastructure.md says"
        )
    source = PROVIDER_ROOTS[name][0]
    pin = re.search(r'version\s+=\s+"([^"]+)"', (root / "versions.tf").read_text(encoding="utf-8")).group(1)
    entry = re.search(
        rf'provider "registry\.terraform\.io/{re.escape(source)}" \{{\n\s+version\s+=\s+"([^"]+)"',
        lock.read_text(encoding="utf-8"),
    )
    assert entry and entry.group(1) == pin, f"{lock} does not match the pinned {source} {pin}"


@pytest.mark.parametrize("name", sorted(PROVIDER_ROOTS))
def test_provider_root_examples_are_valid_plans(tf, workspace, name):
    """The examples' common part is planned through the existing root (same inputs, same module);
    platform-only variables are undeclared there, which Terraform only warns about."""
    existing = workspace / "terraform" / "platforms" / "existing"
    tf("init", "-input=false", cwd=existing, check=True)
    examples = sorted((TF / "platforms" / name / "examples").glob("*.tfvars"))
    assert examples, f"platforms/{name} has no example tfvars"
    for example in examples:
        result = tf("plan", "-no-color", f"-var-file={example}", cwd=existing)
        assert result.returncode == 0, str(result)


@pytest.mark.parametrize("name", sorted(PROVIDER_ROOTS))
def test_provider_root_validate_and_mock_tests(tf, workspace, name):
    if plugin_dir() is None:
        pytest.skip(
            f"{PLUGIN_DIR_ENV} is not set: validate and the mock_provider tests of platforms/{name} need the "
            f"{PROVIDER_ROOTS[name][0]} provider binary (set it to a `terraform providers mirror` directory)"
        )
    root = workspace / "terraform" / "platforms" / name
    tf("init", "-input=false", "-backend=false", cwd=root, check=True)
    tf("validate", "-no-color", cwd=root, check=True)
    result = tf("test", "-no-color", cwd=root)
    assert result.returncode == 0, str(result)
    assert summary(result) == (count_runs(root), 0), str(result)


@pytest.mark.parametrize("name", sorted(PROVIDER_ROOTS))
def test_mock_test_inputs_are_clean_plans(tf, workspace, tmp_path, name):
    """Offline part of the mock tests: their variables (a tfvars body) plan through the existing
    root without errors or advisories, so that with a mirror only the provider layer is on trial."""
    text = (TF / "platforms" / name / "tests" / "mock.tftest.hcl").read_text(encoding="utf-8")
    body = re.search(r"^variables \{\n(.*?)^\}\n", text, flags=re.M | re.S)
    assert body, "tests/mock.tftest.hcl has no file-level variables block"
    var_file = tmp_path / "mock.tfvars"
    var_file.write_text(body.group(1), encoding="utf-8")
    existing = workspace / "terraform" / "platforms" / "existing"
    tf("init", "-input=false", cwd=existing, check=True)
    result = tf("plan", "-no-color", f"-var-file={var_file}", cwd=existing)
    assert result.returncode == 0, str(result)
    assert "Check block assertion failed" not in result.output, str(result)
