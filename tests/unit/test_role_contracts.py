"""House rules every role keeps: argument spec = defaults, README, short task files, managed
templates, namespaced variables, and lab image coverage of the packages roles install."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from helpers import REPO

ROLES = sorted(p for p in (REPO / "roles").iterdir() if p.is_dir())
MAX_TASK_FILE_LINES = 80


def load_defaults(role: Path) -> dict:
    data: dict = {}
    main = role / "defaults" / "main.yml"
    files = [main] if main.is_file() else sorted((role / "defaults" / "main").glob("*.yml"))
    for path in files:
        data.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return data


def spec_options(role: Path, entry: str = "main") -> dict:
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))["argument_specs"]
    if entry == "main" and role.name == "platform":
        entry = "wiring"  # the distribution wiring has no task entry point (see its argument_specs)
    return spec[entry].get("options") or {}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_argument_spec_documents_exactly_the_defaults(role):
    defaults = set(load_defaults(role))
    options = spec_options(role)
    required = {k for k, v in options.items() if v.get("required")}
    assert defaults == set(options) - required, (
        f"only in defaults: {sorted(defaults - set(options))}; only in spec: {sorted(set(options) - required - defaults)}"
    )
    for name, option in options.items():
        assert option.get("description"), f"{name} has no description"
        assert option.get("type"), f"{name} has no type"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_variables_are_namespaced(role):
    prefix = "platform_" if role.name == "platform" else f"{role.name}_"
    for name in load_defaults(role):
        assert name.startswith(prefix), f"{role.name}: default {name} lacks prefix {prefix}"
    vars_file = role / "vars" / "main.yml"
    if vars_file.is_file():
        for name in yaml.safe_load(vars_file.read_text(encoding="utf-8")) or {}:
            assert name.startswith(f"_{role.name}_"), f"{role.name}: private var {name} must start with _{role.name}_"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_has_readme_with_the_essentials(role):
    readme = (role / "README.md").read_text(encoding="utf-8")
    for heading in ("## Requirements", "## Example", "## Pitfalls", "## Variables"):
        assert heading in readme, f"{role.name}/README.md lacks {heading}"


@pytest.mark.parametrize("task_file", sorted(REPO.glob("roles/*/tasks/*.yml")), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_task_files_stay_short(task_file):
    assert len(task_file.read_text(encoding="utf-8").splitlines()) <= MAX_TASK_FILE_LINES


@pytest.mark.parametrize("template", sorted(REPO.glob("roles/*/templates/**/*.j2")), ids=lambda p: p.name)
def test_templates_are_visibly_managed_and_mirror_their_target(template):
    # the managed-file comment opens the file (the generic config template of the service
    # skeleton renders it in each format's own comment style, or none for JSON)
    first = template.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("{{ ansible_managed | comment") or first.startswith("{{ (ansible_managed ")
    # roles/<role>/templates/<absolute target path>.j2
    assert template.relative_to(REPO).parts[3] in ("etc", "usr", "opt", "var"), (
        f"{template}: the template path should mirror its target path"
    )


def image_packages(suite: str = "bookworm") -> set[str]:
    """The packages of a release's lab image: every line, "name [suite]" lines for that suite only."""
    text = (REPO / "scripts" / "lab.d" / "image-packages.txt").read_text(encoding="utf-8")
    names = set()
    for line in text.splitlines():
        fields = line.split()
        if fields and not line.startswith("#") and (len(fields) == 1 or fields[1] == f"[{suite}]"):
            names.add(fields[0])
    return names


def test_lab_image_carries_every_package_a_role_installs():
    wanted = set(load_defaults(REPO / "roles" / "common")["common_packages"])
    wanted |= set(load_defaults(REPO / "roles" / "zookeeper")["zookeeper_packages"])
    missing = (wanted - image_packages("bookworm")) | (wanted - image_packages("trixie"))
    assert not missing, f"add to scripts/lab.d/image-packages.txt so converges need no network: {sorted(missing)}"


def test_collections_are_pinned_exactly():
    data = yaml.safe_load((REPO / "ansible" / "requirements.yml").read_text(encoding="utf-8"))
    for collection in data["collections"]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", str(collection["version"])), collection


def test_python_tools_are_pinned_exactly():
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            # exact pin, optionally with extras and an environment marker
            assert re.fullmatch(r"[A-Za-z0-9_.-]+(\[[a-z0-9,_-]+\])?==[0-9][0-9A-Za-z.]*(\s*;.*)?", line.strip()), line


def test_role_readmes_variable_reference_is_generated_and_current():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(REPO / "scripts" / "role-docs"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_security_doc_port_matrix_is_generated_and_current():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(REPO / "scripts" / "port-matrix"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
