"""Every preflight rule: a valid case, the failing cases, and the message naming the fix."""

from __future__ import annotations

import pytest

from fdp_preflight import (
    environment_name_errors,
    host_var_errors,
    inventory_errors,
    mirror_errors,
    os_errors,
    spec_errors,
)

KNOWN = ["minio", "trino_coordinator", "trino_worker", "kafka_broker", "prometheus"]


def inv(groups, hostvars=None, extra=()):
    hosts = sorted({h for members in groups.values() for h in members})
    groups = {"all": hosts, "ungrouped": [], **groups}
    hostvars = hostvars if hostvars is not None else {h: {"ansible_host": f"192.0.2.{i + 10}"} for i, h in enumerate(hosts)}
    return inventory_errors(groups, hostvars, KNOWN, extra)


# --- groups -----------------------------------------------------------------------------------

def test_valid_inventory_has_no_errors():
    assert inv({"minio": ["a", "b"], "trino_coordinator": ["a"], "kafka_broker": ["b"]}) == []


def test_unknown_group_is_named_with_a_suggestion():
    errors = inv({"kafka_brokers": ["a"]})
    assert len(errors) == 1
    assert "'kafka_brokers' is not a platform group" in errors[0]
    assert "did you mean 'kafka_broker'" in errors[0]
    assert "platform_extra_groups" in errors[0]


def test_unknown_group_without_close_match_has_no_suggestion():
    errors = inv({"zzz": ["a"]})
    assert "did you mean" not in errors[0]


def test_extra_groups_and_builtin_groups_are_allowed():
    assert inv({"lab": ["a"], "minio": ["a"]}, extra=["lab"]) == []


# --- addresses --------------------------------------------------------------------------------

def test_short_name_without_ansible_host_is_rejected():
    errors = inv({"minio": ["node1"]}, hostvars={"node1": {}})
    assert errors == [
        "host 'node1' has no address: set ansible_host for it (an IP address or a resolvable FQDN), "
        "or name it by its FQDN or IP in the inventory"
    ]


@pytest.mark.parametrize("name", ["10.0.0.5", "minio1.example.net", "2001:db8::5"])
def test_host_named_by_ip_or_fqdn_needs_no_ansible_host(name):
    assert inv({"minio": [name]}, hostvars={name: {}}) == []


def test_empty_ansible_host_counts_as_missing():
    assert "has no address" in inv({"minio": ["n1"]}, hostvars={"n1": {"ansible_host": ""}})[0]


def test_garbage_address_is_rejected():
    errors = inv({"minio": ["n1"]}, hostvars={"n1": {"ansible_host": "not an address!"}})
    assert "neither an IP address nor a host name" in errors[0]


def test_duplicate_addresses_are_rejected_naming_both_hosts():
    errors = inv(
        {"minio": ["n1", "n2"]},
        hostvars={"n1": {"ansible_host": "192.0.2.1"}, "n2": {"ansible_host": "192.0.2.1"}},
    )
    assert len(errors) == 1
    assert "hosts 'n1' and 'n2' have the same address 192.0.2.1" in errors[0]


def test_duplicate_detection_ignores_case_and_trailing_dot():
    errors = inv(
        {"minio": ["n1", "n2"]},
        hostvars={"n1": {"ansible_host": "Host.Example.net."}, "n2": {"ansible_host": "host.example.net"}},
    )
    assert "same address" in errors[0]


def test_same_address_on_different_ssh_ports_is_allowed():
    assert inv(
        {"minio": ["n1", "n2"]},
        hostvars={"n1": {"ansible_host": "192.0.2.1", "ansible_port": 22},
                  "n2": {"ansible_host": "192.0.2.1", "ansible_port": "2222"}},
    ) == []


def test_non_numeric_port_is_rejected():
    errors = inv({"minio": ["n1"]}, hostvars={"n1": {"ansible_host": "192.0.2.1", "ansible_port": "ssh"}})
    assert "ansible_port 'ssh' is not a number" in errors[0]


def test_all_errors_are_reported_at_once():
    errors = inv({"kafka_brokers": ["n1", "n2"]}, hostvars={"n1": {}, "n2": {}})
    assert len(errors) == 3


# --- variables against argument specs ---------------------------------------------------------

SPEC = {
    "platform_environment": {"type": "str", "required": True, "description": "Name of the environment."},
    "platform_admin_cidrs": {"type": "list", "elements": "str", "required": True, "description": "Admin networks"},
    "platform_endpoint_cidrs": {"type": "dict", "default": {}},
    "common_swap_policy": {"type": "str", "choices": ["off", "keep"], "default": "off"},
    "common_journald_max_use": {"type": "str", "default": "1G"},
    "common_nofile_limit": {"type": "int", "default": 1048576},
    "common_manage_time_sync": {"type": "bool", "default": True},
    "common_sysctl": {"type": "dict", "default": {}},
    "web_port": {"type": "int", "default": 8080},
    "platform_base_dir": {"type": "path", "default": "/opt/fdp"},
}


def test_required_variable_missing_names_variable_and_fix():
    errors = spec_errors({"platform_admin_cidrs": ["10.0.0.0/8"]}, SPEC, where="host a", source="roles/platform")
    assert errors == [
        "host a: required variable 'platform_environment' is not set (declared in roles/platform): "
        "set it in inventories/<env>/group_vars/all.yml; it means: Name of the environment"
    ]


def test_required_with_default_is_not_reported():
    spec = {"x": {"type": "str", "required": True, "default": "y"}}
    assert spec_errors({}, spec, where="h") == []


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("common_nofile_limit", "many", "must be of type int, got str 'many'"),
        ("common_nofile_limit", True, "must be of type int"),
        ("common_manage_time_sync", "perhaps", "must be of type bool"),
        ("common_sysctl", ["a"], "must be of type dict, got list"),
        ("platform_admin_cidrs", "10.0.0.0/8", "must be of type list, got str"),
        ("common_journald_max_use", {"a": 1}, "must be of type str, got dict"),
        ("common_swap_policy", "sometimes", "must be one of off, keep, got 'sometimes'"),
        ("platform_admin_cidrs", ["10.0.0.0/8", ["x"]], "item 1 must be of type str"),
        ("platform_admin_cidrs", ["10.0.0.0/8", "10.0.0.300/24"], "has entries that are not CIDR networks: 10.0.0.300/24"),
        ("web_port", 70000, "must be a TCP/UDP port between 1 and 65535, got 70000"),
        ("web_port", 0, "must be a TCP/UDP port between 1 and 65535, got 0"),
        ("platform_base_dir", "opt/fdp", "must be an absolute path"),
        ("platform_admin_cidrs", ["0.0.0.0/0"], "opens to (nearly) every address: 0.0.0.0/0"),
        ("platform_admin_cidrs", ["10.0.0.0/8", "::/0"], "opens to (nearly) every address: ::/0"),
        ("platform_admin_cidrs", ["64.0.0.0/2"], "opens to (nearly) every address: 64.0.0.0/2"),
        ("platform_admin_cidrs", ["2000::/3"], "opens to (nearly) every address: 2000::/3 (prefixes shorter than /8"),
        ("platform_endpoint_cidrs", {"grafana_web": ["0.0.0.0/0"]},
         "entry 'grafana_web' opens to (nearly) every address: 0.0.0.0/0"),
        ("platform_endpoint_cidrs", {"prometheus_web": ["10.0.0.0/8"], "grafana_web": ["analysts"]},
         "entry 'grafana_web' has entries that are not CIDR networks: analysts"),
        ("platform_base_dir", "/", "must not be the root or a system directory ('/')"),
        ("platform_base_dir", "/etc", "must not be the root or a system directory"),
        ("platform_base_dir", "/var/lib/", "must not be the root or a system directory"),
        ("platform_base_dir", "/usr/local", "must not be the root or a system directory ('/usr/local')"),
        ("platform_base_dir", "/opt/fdp/../../etc", "must be a plain absolute path without '.', '..' or '//'"),
        ("platform_base_dir", "/opt//fdp", "must be a plain absolute path without '.', '..' or '//'"),
        ("platform_base_dir", "/opt/./fdp", "must be a plain absolute path without '.', '..' or '//'"),
    ],
)
def test_type_choice_element_and_format_rules(name, value, fragment):
    values = {"platform_environment": "prod", "platform_admin_cidrs": ["10.0.0.0/8"], name: value}
    errors = spec_errors(values, SPEC, where="host a")
    assert len(errors) == 1, errors
    assert f"variable '{name}' {fragment}" in errors[0]


def test_wide_networks_and_system_directories_name_the_way_out():
    values = {"platform_environment": "prod", "platform_admin_cidrs": ["0.0.0.0/0"], "platform_base_dir": "/usr/local"}
    errors = spec_errors(values, SPEC, where="host a")
    assert any("set platform_allow_public_cidrs: true if this is meant" in e for e in errors)
    assert any("use a directory of its own, e.g. /usr/local/fdp" in e for e in errors)
    assert spec_errors({**values, "platform_base_dir": "/opt/fdp"}, SPEC, where="h", allow_public=True) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [("common_nofile_limit", "65536"), ("common_manage_time_sync", "yes"), ("common_manage_time_sync", False),
     ("web_port", "9090"), ("platform_admin_cidrs", ["2001:db8::/32", "192.0.2.7"]),
     ("platform_admin_cidrs", ["10.0.0.0/8", "fd00::/16"]), ("platform_base_dir", "/srv/fdp"),
     ("platform_base_dir", "/var/lib/fdp/"),
     ("platform_endpoint_cidrs", {"grafana_web": ["192.0.2.0/24"], "prometheus_web": []})],
)
def test_values_ansible_accepts_are_accepted(name, value):
    values = {"platform_environment": "prod", "platform_admin_cidrs": ["10.0.0.0/8"], name: value}
    assert spec_errors(values, SPEC, where="h") == []


def test_a_site_that_means_public_networks_says_so_per_host():
    specs = {"platform": {"hosts": ["a", "b"], "options": {"platform_client_cidrs": {"type": "list", "elements": "str"}}}}
    hostvars = {"a": {"platform_client_cidrs": ["0.0.0.0/0"], "platform_allow_public_cidrs": True},
                "b": {"platform_client_cidrs": ["0.0.0.0/0"]}}
    errors = host_var_errors(hostvars, ["a", "b"], specs)
    assert len(errors) == 1 and errors[0].startswith("host b: variable 'platform_client_cidrs' opens to"), errors


@pytest.mark.parametrize(
    ("mirror", "overrides", "allow", "expected"),
    [
        ("http://mirror.example/fdp", {}, False, ["variable 'platform_artifact_mirror' fetches over plain HTTP"]),
        ("HTTP://mirror.example/fdp", {}, False, ["variable 'platform_artifact_mirror' fetches over plain HTTP"]),
        ("", {"flink": {"url": "http://x/flink.tgz"}}, False,
         ["variable 'platform_artifact_overrides.flink.url' fetches over plain HTTP"]),
        ("http://mirror.example/fdp", {}, True, []),
        ("http://mirror.example/fdp", {}, "yes", []),
        ("https://mirror.example/fdp", {"flink": {"version": "2.1.2"}}, False, []),
        ("/srv/mirror", None, False, []),
        ("", {}, False, []),
    ],
)
def test_plain_http_artifact_sources_are_refused_unless_allowed(mirror, overrides, allow, expected):
    errors = mirror_errors(mirror, overrides, allow)
    assert len(errors) == len(expected)
    for error, fragment in zip(errors, expected):
        assert error.startswith(fragment) and "use https:// or a local directory" in error


def test_host_var_errors_groups_hosts_with_the_same_problem():
    hostvars = {
        "a": {"common_nofile_limit": "lots"},
        "b": {"common_nofile_limit": "lots"},
        "c": {"common_nofile_limit": 1024},
    }
    specs = {"common": {"hosts": ["a", "b", "c"], "options": {"common_nofile_limit": {"type": "int"}}}}
    errors = host_var_errors(hostvars, ["a", "b", "c"], specs)
    assert errors == [
        "hosts a, b: variable 'common_nofile_limit' must be of type int, got str 'lots' (declared in roles/common)"
    ]


def test_host_var_errors_only_checks_roles_the_host_gets():
    hostvars = {"a": {"kafka_heap": "x"}, "b": {}}
    specs = {"kafka": {"hosts": ["b"], "options": {"kafka_heap": {"type": "int"}}}}
    assert host_var_errors(hostvars, ["a", "b"], specs) == []


class ExplodingVars(dict):
    def __getitem__(self, key):
        raise RuntimeError("'undefined_thing' is undefined")


def test_host_var_that_cannot_be_templated_is_reported():
    hostvars = {"a": ExplodingVars(common_nofile_limit="{{ undefined_thing }}")}
    specs = {"common": {"hosts": ["a"], "options": {"common_nofile_limit": {"type": "int"}}}}
    errors = host_var_errors(hostvars, ["a"], specs)
    assert errors == ["host a: variable 'common_nofile_limit' cannot be evaluated: 'undefined_thing' is undefined"]


# --- operating system -------------------------------------------------------------------------

SUPPORTED = {"Debian": ["12", "13"]}


def test_supported_os_passes():
    assert os_errors("a", "Debian", "Debian", "12", SUPPORTED) == []


def test_unsupported_version_is_named():
    errors = os_errors("a", "Debian", "Debian", "11", SUPPORTED)
    assert errors == ["host 'a' runs Debian 11, which is not supported; supported: Debian 12, 13. Upgrade or reinstall the host"]


@pytest.mark.parametrize(("family", "dist"), [("RedHat", "Rocky"), ("Debian", "Ubuntu"), (None, None)])
def test_unsupported_distribution_is_named(family, dist):
    errors = os_errors("a", family, dist, "9", SUPPORTED)
    assert len(errors) == 1
    assert "supported: Debian 12, 13" in errors[0]
    assert errors[0].startswith("host 'a' runs ")


def test_supported_versions_may_be_numbers():
    assert os_errors("a", "Debian", "Debian", "12", {"Debian": [12]}) == []


# --- environment name -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lab", "prod-eu1", "x"])
def test_environment_name_ok(name):
    assert environment_name_errors(name) == []


@pytest.mark.parametrize("name", ["Prod", "my env", "", None, 5, "-lead", "a" * 70])
def test_environment_name_rejected(name):
    assert "platform_environment" in environment_name_errors(name)[0]


# --- role specs -------------------------------------------------------------------------------

def test_role_specs_reads_the_real_roles():
    from pathlib import Path

    from fdp_preflight import role_specs

    roles = Path(__file__).resolve().parents[2] / "roles"
    specs = role_specs({"platform": "all", "common": "all"}, {"all": ["b", "a"]}, str(roles))
    assert specs["platform"]["hosts"] == ["a", "b"]
    assert specs["platform"]["options"]["platform_environment"]["required"] is True
    assert "common_thp" in specs["common"]["options"]


def test_role_specs_names_a_missing_role():
    from fdp_preflight import role_specs

    with pytest.raises(ValueError, match="names role 'nope'"):
        role_specs({"nope": "all"}, {"all": []}, "/nonexistent")
