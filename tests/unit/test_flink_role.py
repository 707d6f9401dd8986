"""What the flink role ships by default, read from its rendered configuration (the service
skeleton's configure step, as on a host) and from the firewall rules the port matrix gives the
JobManager: no jar uploads through REST unless a site turns them on, and the REST API (which
accepts job graphs in any case: POST /jobs) reachable from the TaskManagers and the admin
networks only, not from the published client networks."""

from __future__ import annotations

import pytest
import yaml
from fdp_security import firewall_rules

from helpers import REPO
from service_render import render_role

INVENTORY = """
all:
  children:
    flink_jobmanager:
      hosts:
        fj1: {ansible_host: 198.51.100.61}
    flink_taskmanager:
      hosts:
        ft2: {ansible_host: 198.51.100.62}
"""
PORTS = yaml.safe_load((REPO / "roles/platform/defaults/main/ports.yml").read_text(encoding="utf-8"))["platform_ports"]


def config(tmp_path, extra=None) -> dict:
    result, out, _ = render_role(tmp_path, "flink", INVENTORY, hosts="flink_jobmanager", facts=True, extra_vars=extra)
    assert result.returncode == 0, result.stdout[-4000:]
    return yaml.safe_load((out / "fj1" / "etc/fdp/flink/config.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def default_config(tmp_path_factory):
    return config(tmp_path_factory.mktemp("flink"))


def test_jar_upload_is_off_by_default(default_config):
    assert default_config["web.submit.enable"] is False
    assert default_config["security.ssl.rest.enabled"] is True


def test_a_site_turns_jar_upload_on_explicitly(tmp_path):
    assert config(tmp_path, {"flink_config_overrides": {"web.submit.enable": True}})["web.submit.enable"] is True


def test_rest_is_for_taskmanagers_and_administrators_not_for_clients():
    groups = {"flink_jobmanager": ["fj1"], "flink_taskmanager": ["ft2"], "all": ["fj1", "ft2"]}
    hostvars = {"fj1": {"ansible_host": "198.51.100.61"}, "ft2": {"ansible_host": "198.51.100.62"}}
    rules = {r["name"]: r for r in firewall_rules(PORTS, "fj1", groups, hostvars, ["203.0.113.0/24"], ["192.0.2.0/24"])}
    assert rules["flink_rest"]["v4"] == ["192.0.2.0/24", "198.51.100.62/32"]
