"""The provider-free modules: formatting, their native `terraform test` suites, and the exact
message of each hard rule as a user sees it in `terraform plan`."""

from __future__ import annotations

import json
import re

import pytest

from tfhelpers import copy_tree, count_runs, summary

MODULES = {"cluster_plan": 60, "cloud_init": 5}  # module -> least number of runs it must have


def test_fmt_check_is_clean_everywhere(tf):
    result = tf("fmt", "-check", "-recursive", "-diff", "terraform")
    assert result.returncode == 0, f"run: scripts/terraform fmt -recursive terraform\n{result}"


def test_fmt_check_fails_on_unformatted_code(tf, tmp_path):
    (tmp_path / "ugly.tf").write_text('variable "x" {\ntype=string\n}\n', encoding="utf-8")
    result = tf("fmt", "-check", "-recursive", str(tmp_path))
    assert result.returncode == 3 and "ugly.tf" in result.stdout, str(result)


@pytest.mark.parametrize("path", ["modules/cluster_plan", "modules/cloud_init", "platforms/existing"])
def test_provider_free_configurations_validate(tf, workspace, path):
    directory = workspace / "terraform" / path
    tf("init", "-input=false", cwd=directory, check=True)
    result = tf("validate", "-no-color", cwd=directory)
    assert result.returncode == 0 and "Success" in result.stdout, str(result)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_test_suite_passes(tf, workspace, module):
    mod = workspace / "terraform" / "modules" / module
    tf("init", "-input=false", cwd=mod, check=True)
    result = tf("test", "-no-color", cwd=mod)
    expected = count_runs(mod)
    assert expected >= MODULES[module], f"{module} lost test runs: {expected}"
    assert result.returncode == 0, str(result)
    assert summary(result) == (expected, 0), str(result)


def test_module_tests_fail_when_a_rule_is_dropped(tf, workspace):
    """The suite is not vacuous: without the odd-controller rule its expect_failures run fails."""
    mod = workspace / "terraform" / "modules" / "cluster_plan"
    variables = mod / "variables.tf"
    text = variables.read_text(encoding="utf-8")
    rule = re.search(
        r"  validation \{\n    condition     = [^\n]*% 2 == 1[^\n]*kafka_controller[^\n]*\n.*?\n  \}\n",
        text,
        flags=re.S,
    )
    assert rule, "the KRaft controller rule was not found in variables.tf"
    variables.write_text(text.replace(rule.group(0), ""), encoding="utf-8")
    tf("init", "-input=false", cwd=mod, check=True)
    result = tf("test", "-no-color", "-filter=tests/validation.tftest.hcl", cwd=mod)
    assert result.returncode != 0, str(result)
    assert re.search(r'run "even_kraft_controller_count"\.\.\. fail', result.output), str(result)
    assert summary(result)[1] == 1, str(result)


BASE = {
    "environment": "test",
    "admin_cidrs": ["192.0.2.0/24"],
    "network": {"cidr": "10.20.0.0/24"},
    "hosts": [
        {"name": f"n{i}", "roles": ["minio", "kafka_controller", "kafka_broker"], "data_disks_gib": [50]}
        for i in (1, 2, 3)
    ]
    + [
        {"name": "n4", "roles": ["minio"], "data_disks_gib": [50]},
        {"name": "ops", "roles": ["prometheus", "trino_coordinator", "metastore_db", "hive_metastore"]},
    ],
}

MESSAGES = {
    "unknown role": (
        {"hosts": [*BASE["hosts"], {"name": "x", "roles": ["kafka_brokers"]}]},
        "Unknown role(s): x: kafka_brokers",
    ),
    "two coordinators": (
        {"hosts": [*BASE["hosts"], {"name": "x", "roles": ["trino_coordinator"]}]},
        "Trino needs exactly one coordinator when it is deployed: trino_coordinator has 2 host(s) (ops, x)",
    ),
    "even controllers": (
        {"hosts": [*BASE["hosts"][:3], {**BASE["hosts"][3], "roles": ["minio", "kafka_controller"]}, BASE["hosts"][4]]},
        "Kafka KRaft needs an odd number of controllers (1, 3, 5) for a majority quorum; "
        "kafka_controller has 4: n1, n2, n3, n4",
    ),
    "minio drives": (
        {"hosts": [*BASE["hosts"], {"name": "x", "roles": ["minio"], "data_disks_gib": [50, 50]}]},
        "All MinIO hosts of the pool need the same number of data drives; drives per host: n1=1, n2=1, n3=1, n4=1, x=2",
    ),
    "duplicate name": (
        {"hosts": [*BASE["hosts"], {"name": "ops", "roles": ["grafana"]}]},
        "Host names must be unique; duplicated: ops",
    ),
    "duplicate address": (
        {
            "hosts": [
                *BASE["hosts"],
                {"name": "x", "roles": ["grafana"], "address": "10.20.0.99"},
                {"name": "y", "roles": ["grafana"], "address": "10.20.0.99"},
            ]
        },
        "Host addresses must be unique; used more than once: 10.20.0.99",
    ),
    "address outside": (
        {"hosts": [*BASE["hosts"], {"name": "x", "roles": ["grafana"], "address": "10.21.0.5"}]},
        "wrong: x: 10.21.0.5",
    ),
    "assigned collides": (
        {"hosts": [*BASE["hosts"], {"name": "x", "roles": ["grafana"], "address": "10.20.0.11"}]},
        "Two hosts would get the same address (10.20.0.11)",
    ),
    "network too small": ({"network": {"cidr": "10.20.0.0/29", "first_host_index": 3}}, "has no address left for ops"),
    # One host running coordinator and worker: both listen on 8443.
    "port collision": (
        {"hosts": [*BASE["hosts"][:4], {**BASE["hosts"][4], "roles": [*BASE["hosts"][4]["roles"], "trino_worker"]}]},
        "would all listen on tcp/8443. Move one of the roles to another host",
    ),
    "environment": ({"environment": "Prod"}, "environment must be a short lower-case name"),
}


@pytest.fixture(scope="module")
def existing_root(tf, tmp_path_factory):
    root = copy_tree(tmp_path_factory.mktemp("messages")) / "terraform" / "platforms" / "existing"
    tf("init", "-input=false", cwd=root, check=True)
    return root


def test_base_of_the_message_cases_is_valid(tf, existing_root, tmp_path):
    (tmp_path / "base.tfvars.json").write_text(json.dumps(BASE), encoding="utf-8")
    result = tf("plan", "-no-color", f"-var-file={tmp_path / 'base.tfvars.json'}", cwd=existing_root)
    assert result.returncode == 0, str(result)


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_plan_rejects_with_a_clear_message(tf, existing_root, tmp_path, case):
    change, message = MESSAGES[case]
    (tmp_path / "case.tfvars.json").write_text(json.dumps({**BASE, **change}), encoding="utf-8")
    result = tf("plan", "-no-color", f"-var-file={tmp_path / 'case.tfvars.json'}", cwd=existing_root)
    assert result.returncode == 1, str(result)
    flat = " ".join(result.output.split())
    assert message in flat, str(result)
