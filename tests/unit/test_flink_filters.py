"""Flink filters: sizing from host facts under Flink's memory model, settings merge and checks,
config.yaml rendering."""

from __future__ import annotations

import pytest
import yaml

from fdp_flink import (
    config_yaml,
    dynamic_properties,
    flink_settings,
    jm_memory_model,
    parse_size_mb,
    sizing,
    smallest_jm_mb,
    smallest_tm_mb,
    tm_memory_model,
)


@pytest.mark.parametrize(
    ("text", "mb"),
    [("1728m", 1728), ("1g", 1024), ("2 GB", 2048), ("512mb", 512), (1073741824, 1024), ("1048576k", 1024)],
)
def test_parse_size(text, mb):
    assert parse_size_mb(text) == mb


@pytest.mark.parametrize("bad", ["lots", "1.5g", "", True, "12 parsecs"])
def test_parse_size_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        parse_size_mb(bad)


def test_tm_model_matches_flink_for_1024m():
    # Flink 2.1.3's BashJavaUtils for process.size 1024m: overhead 192m (min), Flink memory 576m,
    # network 64m (min), managed 230.4m, task heap 25.6m.
    model = tm_memory_model(1024)
    assert (model["overhead"], model["flink"], model["network"], model["managed"]) == (192, 576, 64, 230)
    assert model["task_heap"] == 26


def test_tm_model_matches_flink_default_1728m():
    model = tm_memory_model(1728)
    assert model["overhead"] == 192 and model["flink"] == 1280 and model["network"] == 128 and model["managed"] == 512
    assert model["task_heap"] == 1280 - 256 - 128 - 512


def test_tm_model_overhead_and_network_are_capped():
    model = tm_memory_model(64 * 1024)
    assert model["overhead"] == 1024 and model["network"] == 1024


def test_too_small_processes_are_rejected_with_the_reason():
    with pytest.raises(ValueError, match="task heap"):
        tm_memory_model(900)
    with pytest.raises(ValueError, match="JVM heap"):
        jm_memory_model(600)


def test_smallest_sizes_satisfy_the_model():
    tm_memory_model(smallest_tm_mb())
    jm_memory_model(smallest_jm_mb())
    with pytest.raises(ValueError):
        tm_memory_model(smallest_tm_mb() - 16)


def test_sizing_taskmanager_only_uses_the_budget_and_one_slot_per_core():
    sized = sizing(16384, 8, taskmanager=True)
    assert sized == {"taskmanager.memory.process.size": f"{int((16384 - 1024) * 0.75) // 16 * 16}m",
                     "taskmanager.numberOfTaskSlots": 8}


def test_sizing_shared_host_splits_between_jobmanager_and_taskmanager():
    sized = sizing(16384, 4, jobmanager=True, taskmanager=True)
    jm = parse_size_mb(sized["jobmanager.memory.process.size"])
    tm = parse_size_mb(sized["taskmanager.memory.process.size"])
    assert jm + tm <= (16384 - 1024) * 0.75
    assert jm == 2880 and tm == 11520 - 2880
    assert sized["taskmanager.numberOfTaskSlots"] == 4


def test_sizing_jobmanager_is_capped_and_floored():
    assert sizing(256 * 1024, 64, jobmanager=True)["jobmanager.memory.process.size"] == "4096m"
    assert sizing(4096, 2, jobmanager=True, limit_mb=800)["jobmanager.memory.process.size"] == "800m"
    # shared host: a quarter of 2048m is below the JobManager's floor, which wins
    shared = sizing(24 * 1024, 2, jobmanager=True, taskmanager=True, limit_mb=2048)
    assert shared["jobmanager.memory.process.size"] == f"{smallest_jm_mb()}m"
    with pytest.raises(ValueError, match="below the JobManager"):
        sizing(4096, 2, jobmanager=True, limit_mb=600)


def test_sizing_limit_caps_the_budget_and_slots_override():
    sized = sizing(24 * 1024, 2, taskmanager=True, limit_mb=1024, slots=3)
    assert sized == {"taskmanager.memory.process.size": "1024m", "taskmanager.numberOfTaskSlots": 3}


def test_sizing_every_result_satisfies_the_model():
    for ram in (2048, 3072, 4096, 8192, 65536, 262144):
        for jm, tm in ((True, False), (False, True), (True, True)):
            try:
                sized = sizing(ram, 2, jobmanager=jm, taskmanager=tm)
            except ValueError:
                assert ram <= 3072
                continue
            if tm:
                tm_memory_model(parse_size_mb(sized["taskmanager.memory.process.size"]))
            if jm:
                jm_memory_model(parse_size_mb(sized["jobmanager.memory.process.size"]))


def test_sizing_refuses_a_host_too_small():
    with pytest.raises(ValueError, match="needs at least"):
        sizing(2048, 2, jobmanager=True, taskmanager=True)


def test_settings_overrides_win_and_null_removes():
    merged = flink_settings({"rest.port": 8081, "parallelism.default": 1},
                            {"taskmanager.numberOfTaskSlots": 2},
                            {"parallelism.default": 4, "rest.port": None, "taskmanager.numberOfTaskSlots": "3"})
    assert merged == {"parallelism.default": 4, "taskmanager.numberOfTaskSlots": 3}


def test_settings_override_of_a_size_is_checked_against_the_model():
    with pytest.raises(ValueError, match="task heap"):
        flink_settings({}, {"taskmanager.memory.process.size": "2048m"}, {"taskmanager.memory.process.size": "800m"})


def test_settings_refuse_two_size_keys_for_one_process():
    with pytest.raises(ValueError, match="only one"):
        flink_settings({}, {"taskmanager.memory.process.size": "2048m"}, {"taskmanager.memory.flink.size": "1g"})
    # null removes the computed one, so the override stands alone
    merged = flink_settings({}, {"taskmanager.memory.process.size": "2048m"},
                            {"taskmanager.memory.process.size": None, "taskmanager.memory.flink.size": "1g"})
    assert merged == {"taskmanager.memory.flink.size": "1g"}


@pytest.mark.parametrize("bad", [{"taskmanager.numberOfTaskSlots": 0}, {"taskmanager.numberOfTaskSlots": "two"},
                                 {"rest port": 1}, {"": 1}])
def test_settings_reject_bad_values_and_keys(bad):
    with pytest.raises(ValueError):
        flink_settings({}, {}, bad)


def test_settings_refuse_overrides_of_reserved_keys():
    reserved = ("metrics.reporter.prom.port", "metrics.internal.query-service.port")
    with pytest.raises(ValueError, match="per process"):
        flink_settings({}, {}, {"metrics.reporter.prom.port": 9999}, reserved=reserved)
    # other overrides pass; the reserved keys may still come from the defaults
    assert flink_settings({"metrics.reporter.prom.port": 1}, {}, {"parallelism.default": 2}, reserved=reserved) == {
        "metrics.reporter.prom.port": 1, "parallelism.default": 2}


def test_dynamic_properties_are_sorted_plain_words():
    class TaggedInt(int):
        pass

    text = dynamic_properties({"metrics.reporter.prom.port": TaggedInt(9250),
                               "metrics.internal.query-service.port": "6126", "x.enabled": True})
    assert text == ("-D metrics.internal.query-service.port=6126 -D metrics.reporter.prom.port=9250 "
                    "-D x.enabled=true")
    assert dynamic_properties({}) == ""


@pytest.mark.parametrize("bad", [{"a.b": "two words"}, {"a.b": "x;rm"}, {"a b": 1}, {"a.b": "$HOME"}])
def test_dynamic_properties_refuse_what_a_unit_line_would_mangle(bad):
    with pytest.raises(ValueError, match="dynamic property"):
        dynamic_properties(bad)


def test_config_yaml_is_flat_sorted_standard_yaml():
    settings = {
        "security.ssl.internal.keystore-password": "yes: no #x",
        "rest.port": 8081,
        "security.ssl.internal.enabled": True,
        "env.java.opts.all": "--add-opens=java.base/java.lang=ALL-UNNAMED " * 20,
    }
    text = config_yaml(settings)
    assert yaml.safe_load(text) == settings
    lines = text.splitlines()
    assert [line.split(":")[0] for line in lines] == sorted(settings)
    assert "security.ssl.internal.enabled: true" in lines
    assert len(lines) == 4  # long values stay on one line


def test_config_yaml_renders_str_and_int_subclasses_as_plain_values():
    class Tagged(str):
        pass

    class TaggedInt(int):
        pass

    text = config_yaml({Tagged("blob.server.port"): TaggedInt(6124), "rest.address": Tagged("10.0.0.1")})
    assert text == "blob.server.port: 6124\nrest.address: 10.0.0.1\n"
    with pytest.raises(ValueError, match="cannot render"):
        config_yaml({"x": object()})
