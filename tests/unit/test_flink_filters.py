"""Flink filters: sizing from host facts under Flink's memory model, Flink's own rules over the
merged settings, dynamic properties. The merge, reserved keys, key catalog and rendering are
the shared mechanism's (test_config_filters.py)."""

from __future__ import annotations

import pytest

from fdp_config import settings
from fdp_flink import (
    check_settings,
    dynamic_properties,
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


def test_check_normalises_slots_and_accepts_the_model():
    assert check_settings({"taskmanager.numberOfTaskSlots": "3", "parallelism.default": 4}) == {
        "taskmanager.numberOfTaskSlots": 3, "parallelism.default": 4}


def test_check_applies_the_memory_model_to_an_override_of_a_size():
    merged = settings([{}, {"taskmanager.memory.process.size": "2048m"}], {"taskmanager.memory.process.size": "800m"})
    with pytest.raises(ValueError, match="task heap"):
        check_settings(merged)


def test_check_refuses_two_size_keys_for_one_process():
    merged = settings([{"taskmanager.memory.process.size": "2048m"}], {"taskmanager.memory.flink.size": "1g"})
    with pytest.raises(ValueError, match="only one"):
        check_settings(merged)
    # null removes the computed one, so the override stands alone
    merged = settings([{"taskmanager.memory.process.size": "2048m"}],
                      {"taskmanager.memory.process.size": None, "taskmanager.memory.flink.size": "1g"})
    assert check_settings(merged) == {"taskmanager.memory.flink.size": "1g"}


@pytest.mark.parametrize("bad", [{"taskmanager.numberOfTaskSlots": 0}, {"taskmanager.numberOfTaskSlots": "two"},
                                 {"jobmanager.memory.process.size": "100m"}])
def test_check_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        check_settings(bad)


def test_dynamic_properties_are_sorted_plain_argv_words():
    class TaggedInt(int):
        pass

    argv = dynamic_properties({"metrics.reporter.prom.port": TaggedInt(9250),
                               "metrics.internal.query-service.port": "6126", "x.enabled": True})
    # "-D" and "key=value" are two arguments: jobmanager.sh reads "-Dk=v" as its host argument
    assert argv == ["-D", "metrics.internal.query-service.port=6126", "-D", "metrics.reporter.prom.port=9250",
                    "-D", "x.enabled=true"]
    assert dynamic_properties({}) == []


@pytest.mark.parametrize("bad", [{"a.b": "two words"}, {"a.b": "x;rm"}, {"a b": 1}, {"a.b": "$HOME"}])
def test_dynamic_properties_refuse_what_a_unit_line_would_mangle(bad):
    with pytest.raises(ValueError, match="dynamic property"):
        dynamic_properties(bad)
