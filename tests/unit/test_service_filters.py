"""The service skeleton's logic: which files each unit depends on, the ordered plan of restarts
across hosts, concrete health probes, and the fdp_service module's fingerprints and state."""

from __future__ import annotations

import importlib.util
import json
import sys
import types

import pytest

from fdp_services import (
    ServiceError,
    file_specs,
    host_units,
    json_matches,
    plan,
    probe,
    query_units,
    settings_specs,
    step_unit,
    target,
    tls_copies,
    unit_action,
    unit_inputs,
)
from helpers import REPO

FILES = [
    {"dest": "/etc/fdp/x/config.yaml"},
    {"dest": "/etc/fdp/x/rules.yml", "on_change": "reload"},
    {"dest": "/etc/fdp/x/web.yml", "on_change": "none"},
    {"dest": "/etc/fdp/x/jm-only.properties", "units": ["x-jm"]},
]
JM = {"name": "x-jm", "groups": ["x_jm"], "tls": ["keystore.p12"], "reload": True, "tls_reload": ["ca.crt"]}
TM = {"name": "x-tm", "groups": ["x_tm"], "tls": ["keystore.p12"]}


def test_unit_inputs_split_restart_and_reload_and_follow_the_files_units():
    jm = unit_inputs(JM, FILES, "/etc/fdp/tls")
    assert jm == {
        "restart_inputs": ["/etc/fdp/tls/keystore.p12", "/etc/fdp/x/config.yaml", "/etc/fdp/x/jm-only.properties",
                           "/etc/systemd/system/x-jm.service"],
        "reload_inputs": ["/etc/fdp/tls/ca.crt", "/etc/fdp/x/rules.yml"],
    }
    # without reload support, reload-class files restart; files of other units do not count
    tm = unit_inputs(TM, FILES, "/etc/fdp/tls")
    assert tm["reload_inputs"] == []
    assert "/etc/fdp/x/rules.yml" in tm["restart_inputs"] and "/etc/fdp/x/jm-only.properties" not in tm["restart_inputs"]
    with pytest.raises(ServiceError, match="on_change"):
        unit_inputs(TM, [{"dest": "/a", "on_change": "sometimes"}], "/t")


def test_host_units_by_group_all_and_pending_changes():
    units = [JM, TM, {"name": "everywhere", "groups": ["all"]}, {"name": "idle", "groups": ["x_jm"], "run": False}]
    mine = host_units(units, ["x_jm"], FILES, "/etc/fdp/tls", changed=["/etc/fdp/x/rules.yml"], running=True)
    assert [u["name"] for u in mine] == ["x-jm", "everywhere"]
    assert mine[0]["pending_reload"] and not mine[0]["pending_restart"]
    # rendering takes every unit of the host's groups, started or not
    assert [u["name"] for u in host_units(units, ["x_jm"])] == ["x-jm", "everywhere", "idle"]


@pytest.mark.parametrize(("state", "unit", "force", "action"), [
    ({"exists": False}, {}, False, "start"),
    ({"exists": True, "active": True, "restart": True}, {}, False, "restart"),
    ({"exists": True, "active": True, "restart": False}, {}, True, "restart"),
    ({"exists": True, "active": False, "restart": False}, {}, False, "start"),
    ({"exists": True, "active": False, "restart": True}, {}, True, "start"),
    ({"exists": True, "active": True, "restart": False, "reload": True}, {"reload": True}, False, "reload"),
    ({"exists": True, "active": True, "restart": False, "reload": True}, {}, False, "restart"),
    ({"exists": True, "active": True, "restart": False, "reload": False}, {"pending_restart": True}, False, "restart"),
    ({"exists": True, "active": True, "restart": False, "reload": False}, {}, False, None),
])
def test_unit_action(state, unit, force, action):
    assert unit_action(unit, state, force) == action


def _hostvars(actions):
    """hostvars of hosts whose units report the given fdp_service states."""
    hostvars = {}
    for host, units in actions.items():
        hostvars[host] = {
            "_service_host_units": [dict(u) for u, _ in units],
            "_service_query": {"units": {u["name"]: s for u, s in units}},
        }
    return hostvars


CHANGED = {"exists": True, "active": True, "restart": True}
SAME = {"exists": True, "active": True, "restart": False, "reload": False}


def test_plan_orders_groups_then_hosts_one_step_each():
    hostvars = _hostvars({"h1": [(TM, CHANGED)], "h2": [(TM, CHANGED)], "h3": [(JM, CHANGED), (TM, SAME)]})
    batches = plan(["h1", "h2", "h3"], hostvars, ["x_jm", "x_tm"])
    assert [[(s["host"], s["unit"], s["action"]) for s in b] for b in batches] == [
        [("h3", "x-jm", "restart")], [("h1", "x-tm", "restart")], [("h2", "x-tm", "restart")]]
    # nothing changed: nothing to do
    assert plan(["h3"], _hostvars({"h3": [(JM, SAME)]}), ["x_jm"]) == []


def test_plan_starts_stopped_units_of_a_group_together_before_any_restart():
    stopped = {"exists": True, "active": False, "restart": True}
    zk = {"name": "zookeeper", "groups": ["zookeeper"]}
    hostvars = _hostvars({"z1": [(zk, stopped)], "z2": [(zk, CHANGED)], "z3": [(zk, stopped)]})
    batches = plan(["z1", "z2", "z3"], hostvars, ["zookeeper"])
    # a new ensemble's members come up together (a quorum needs them), running ones roll after
    assert [[(s["host"], s["action"]) for s in b] for b in batches] == [
        [("z1", "start"), ("z3", "start")], [("z2", "restart")]]


def test_plan_batches_a_parallel_unit_per_group():
    minio = {"name": "minio", "groups": ["minio"], "policy": "parallel"}
    hostvars = _hostvars({f"m{i}": [(minio, CHANGED)] for i in range(4)})
    batches = plan([f"m{i}" for i in range(4)], hostvars, ["minio"])
    assert len(batches) == 1 and [s["host"] for s in batches[0]] == ["m0", "m1", "m2", "m3"]
    with pytest.raises(ServiceError, match="policy"):
        plan(["m0"], _hostvars({"m0": [(dict(minio, policy="yolo"), CHANGED)]}), [])


def test_plan_force_restarts_everything_in_order():
    hostvars = _hostvars({"h1": [(TM, SAME)], "h2": [(JM, SAME)]})
    assert [b[0]["host"] for b in plan(["h1", "h2"], hostvars, ["x_jm", "x_tm"], force=True)] == ["h2", "h1"]


def test_step_unit_and_target_resolve_the_host_and_probe():
    unit = dict(JM, health={"type": "http", "port": "x_rest", "path": "/overview", "expect": {"ok": True}},
                hooks={"before": "b.yml", "health": "h.yml"})
    hostvars = {"h1": {"ansible_host": "10.0.0.5", "_service_host_units": [unit]}}
    ports = {"x_rest": {"port": 8081}}
    step = step_unit({"host": "h1", "unit": "x-jm", "action": "restart"}, hostvars)
    assert step["host"] == "h1" and step["action"] == "restart"
    t = target(step, None, hostvars, ports)
    assert t["probe"]["url"] == "https://10.0.0.5:8081/overview" and t["hooks"]["health"] == "h.yml"
    # the steady-state check uses the probe, not the restart hooks
    assert "health" not in target(unit, "h1", hostvars, ports, steady=True)["hooks"]
    with pytest.raises(ServiceError, match="no unit"):
        step_unit({"host": "h1", "unit": "nope", "action": "start"}, hostvars)


def test_probe_types_and_errors():
    hostvars = {"h": {"ansible_host": "fd00::5"}}
    assert probe({"health": {"type": "http", "port": "p"}}, "h", hostvars, {"p": {"port": 1}})["url"] == \
        "https://[fd00::5]:1/"
    assert probe({"health": {"type": "tls", "port": "p"}}, "h", hostvars, {"p": {"port": 9}})["port"] == 9
    assert probe({}, "h", hostvars, {})["type"] == "none"
    with pytest.raises(ServiceError, match="health type"):
        probe({"health": {"type": "smoke"}}, "h", hostvars, {})
    with pytest.raises(ServiceError, match="not in platform_ports"):
        probe({"health": {"type": "http", "port": "nope"}}, "h", hostvars, {})


def test_json_matches_nested_paths_and_minimums():
    doc = {"status": "success", "data": {"reloadConfigSuccess": True}, "taskmanagers": 2}
    assert json_matches(doc, {"status": "success", "data.reloadConfigSuccess": True, "taskmanagers": {"min": 2}})
    assert not json_matches(doc, {"taskmanagers": {"min": 3}})
    assert not json_matches(doc, {"data.missing": 1})
    assert not json_matches("not json", {"a": 1})
    assert json_matches(None, {})


def test_query_units_and_file_spec_helpers():
    units = host_units([TM], ["x_tm"], FILES, "/t")
    assert query_units(units, ["x-1.0", "jdk17"]) == [
        {"name": "x-tm", "restart_inputs": units[0]["restart_inputs"], "reload_inputs": [], "extra": "x-1.0 jdk17"}]
    assert file_specs(["/ctl/rules/a.yml", "b.yml"], "/etc/r/", group="g") == [
        {"group": "g", "src": "/ctl/rules/a.yml", "dest": "/etc/r/a.yml"}, {"group": "g", "src": "b.yml", "dest": "/etc/r/b.yml"}]
    assert settings_specs({"job": [1]}, "/d", "yaml", ".yml") == [{"dest": "/d/job.yml", "format": "yaml", "settings": [1]}]
    assert settings_specs({"pw": "s3cret"}, "/d", secret=True) == [{"secret": True, "dest": "/d/pw", "content": "s3cret"}]


# --- the fdp_service module -----------------------------------------------------------------
def _module():
    path = REPO / "roles" / "service" / "library" / "fdp_service.py"
    spec = importlib.util.spec_from_file_location("fdp_service_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fingerprint_changes_with_content_and_extra_not_with_order(tmp_path):
    m = _module()
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("1")
    b.write_text("2")
    first, missing = m.fingerprint([str(a), str(b)], "flink-2.1.3")
    assert missing == []
    assert m.fingerprint([str(b), str(a)], "flink-2.1.3")[0] == first
    assert m.fingerprint([str(a), str(b)], "flink-2.1.2")[0] != first  # an upgrade (pin or override)
    a.write_text("changed")
    assert m.fingerprint([str(a), str(b)], "flink-2.1.3")[0] != first
    assert m.fingerprint([str(tmp_path / "gone")])[1] == [str(tmp_path / "gone")]


def test_plan_of_the_module_compares_with_the_recorded_state(tmp_path):
    m = _module()
    f = tmp_path / "conf"
    f.write_text("x")
    units = [{"name": "u", "restart_inputs": [str(f)], "reload_inputs": [], "extra": "v1"}]
    report = m.plan(units, {}, {"u": {"exists": True, "active": True}})
    assert report["u"]["restart"] is True  # never started with these inputs
    state = {"u": report["u"]["fingerprints"]}
    assert m.plan(units, state, {})["u"]["restart"] is False
    f.write_text("y")
    assert m.plan(units, state, {})["u"]["restart"] is True


def test_systemd_state_parses_one_show_per_unit():
    m = _module()

    def fake_run(argv, **kwargs):
        assert argv[-2:] == ["a.service", "b.timer"]
        out = ("LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=no\n\n"
               "LoadState=not-found\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n")
        return types.SimpleNamespace(stdout=out)

    state = m.systemd_state(["a", "b.timer"], run=fake_run)
    assert state["a"] == {"exists": True, "active": True, "enabled": True, "needs_daemon_reload": False}
    assert state["b.timer"]["exists"] is False


def test_module_records_only_after_being_asked_and_never_in_check_mode(tmp_path, monkeypatch):
    m = _module()
    conf = tmp_path / "conf"
    conf.write_text("x")
    state_file = tmp_path / "state" / "demo.json"
    monkeypatch.setattr(m, "systemd_state", lambda names: {n: {"exists": True, "active": True} for n in names})

    import ansible.module_utils.basic as basic

    outputs = []
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", lambda self, **kw: (outputs.append(kw), sys.exit(0)))
    monkeypatch.setattr(basic, "_load_params", lambda: {"state_file": str(state_file), "record": ["u"],
                                                        "units": [{"name": "u", "restart_inputs": [str(conf)],
                                                                   "reload_inputs": [], "extra": ""}],
                                                        "_ansible_check_mode": True})
    with pytest.raises(SystemExit):
        m.main()
    assert outputs[-1]["changed"] is True and not state_file.exists()  # check mode: would record
    monkeypatch.setattr(basic, "_load_params", lambda: {"state_file": str(state_file), "record": ["u"],
                                                        "units": [{"name": "u", "restart_inputs": [str(conf)],
                                                                   "reload_inputs": [], "extra": ""}]})
    with pytest.raises(SystemExit):
        m.main()
    assert outputs[-1]["changed"] is True and outputs[-1]["units"]["u"]["restart"] is False
    assert json.loads(state_file.read_text())["units"]["u"]["restart"]
    with pytest.raises(SystemExit):
        m.main()
    assert outputs[-1]["changed"] is False  # recording the same fingerprint again changes nothing


def test_each_account_gets_its_own_copies_of_the_private_tls_files():
    assert tls_copies(["keystore.p12"], "/etc/fdp/tls", "flink") == [
        {"dest": "/etc/fdp/tls/private/flink/keystore.p12", "copy_of": "/etc/fdp/tls/keystore.p12"}]
    assert [c["dest"] for c in tls_copies(["host.crt", "host.key", "host.crt"], "/t", "prometheus")] == [
        "/t/private/prometheus/host.crt", "/t/private/prometheus/host.key"]
    assert tls_copies([], "/t", "") == []
    with pytest.raises(ServiceError, match="needs an account"):
        tls_copies(["host.key"], "/t", "")
    with pytest.raises(ServiceError, match="ca.key not among"):
        tls_copies(["ca.key"], "/t", "x")
    assert tls_copies(["mesh-flink.p12"], "/t", "flink") == [
        {"dest": "/t/private/flink/mesh-flink.p12", "copy_of": "/t/mesh-flink.p12"}]
    for refused in ("mesh-flink.key", "mesh-../x.p12", "mesh-.p12"):  # a mesh's key, not its keystore
        with pytest.raises(ServiceError, match="nor a mesh keystore"):
            tls_copies([refused], "/t", "flink")
