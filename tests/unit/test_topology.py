"""The topology definition: named components, groupings, stream fields, settings merged from one set of defaults."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from bolts.settings import DEFAULTS, STORM_DEFAULTS, merged, opt

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / "config.json").read_text())


def load_topology(argv: list[str]):
    """Import topologies/loan-risk.py as sparse does, with the given command line."""
    saved, sys.argv = sys.argv, argv
    try:
        spec = importlib.util.spec_from_file_location("loan_risk_topology", ROOT / "topologies" / "loan-risk.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.argv = saved
    return module


@pytest.fixture(scope="module")
def topo():
    """Return the topology module as `sparse submit -e local -n loan-risk` loads it."""
    return load_topology(["sparse", "submit", "-e", "local", "-n", "loan-risk"])


def test_named_components_with_the_dead_letter_path_in_the_graph(topo):
    """Storm UI shows the five pipeline components and the dead_letter_bolt every bolt's letters go to."""
    names = {spec.name for spec in topo.LoanRisk.specs}
    assert names == {"kafka_spout", "filter_bolt", "decision_bolt", "submit_bolt", "save_bolt", "dead_letter_bolt"}


def test_every_hop_keeps_an_id_on_one_task(topo):
    """Fields grouping on the key into the filter, on the shard of the id hash after it; letters shuffled."""
    bolts = topo.LoanRisk.thrift_bolts
    groupings = {
        (name, sid.componentId, sid.streamId): g.fields or ("shuffle" if g.shuffle else None)
        for name, bolt in bolts.items()
        for sid, g in bolt.common.inputs.items()
    }
    assert groupings == {
        ("filter_bolt", "kafka_spout", "default"): ["partition"],  # LoanBatchSpout: Kafka partitions by key
        ("decision_bolt", "filter_bolt", "default"): ["shard"],
        ("submit_bolt", "decision_bolt", "default"): ["shard"],
        ("save_bolt", "submit_bolt", "default"): ["shard"],
        ("save_bolt", "decision_bolt", "declined"): ["shard"],
        ("dead_letter_bolt", "filter_bolt", "dead_letter"): "shuffle",
        ("dead_letter_bolt", "decision_bolt", "dead_letter"): "shuffle",
        ("dead_letter_bolt", "submit_bolt", "dead_letter"): "shuffle",
        ("dead_letter_bolt", "save_bolt", "dead_letter"): "shuffle",
    }


def test_stream_fields(topo):
    """Declared output fields match what the bolts emit."""
    streams = {
        (name, sid): s.output_fields
        for name, bolt in topo.LoanRisk.thrift_bolts.items()
        for sid, s in bolt.common.streams.items()
    }
    for key in [
        ("filter_bolt", "default"),
        ("decision_bolt", "default"),
        ("decision_bolt", "declined"),
        ("submit_bolt", "default"),
    ]:
        assert streams[key] == ["shard", "items"]
    for bolt in ("filter_bolt", "decision_bolt", "submit_bolt", "save_bolt"):
        assert streams[(bolt, "dead_letter")] == ["application_id", "letter"]
    spout = topo.LoanRisk.thrift_spouts["kafka_spout"].common.streams["default"].output_fields
    assert spout == ["partition", "records"]  # each record: topic, partition, offset, key, value, timestamp, ...


@pytest.mark.parametrize("env", sorted(CONFIG["envs"]))
def test_parallelism_comes_from_the_env_else_the_single_default(topo, env):
    """Each component's parallelism per env is the env's loanrisk.par.<component>, else the default."""
    options = CONFIG["envs"][env]["options"]
    for spec in topo.LoanRisk.specs:
        key = f"loanrisk.par.{spec.name}"
        assert spec.par[env] == options.get(key, DEFAULTS[key])


def test_envs_hold_only_what_differs_from_the_defaults():
    """No env repeats a default; every loanrisk.* key an env sets is a known setting."""
    for env in CONFIG["envs"].values():
        for key, value in env["options"].items():
            if key.startswith("loanrisk.") and not key.startswith("loanrisk.prescreen."):
                assert key in DEFAULTS, key
                assert value != DEFAULTS[key], key
            assert STORM_DEFAULTS.get(key, object()) != value, key


def test_topology_config_carries_the_merged_settings(topo):
    """The topology's config is defaults < env options < -o, which the bolts read."""
    assert topo.LoanRisk.config["loanrisk.design"] == "batched"
    assert topo.LoanRisk.config["topology.max.spout.pending"] == STORM_DEFAULTS["topology.max.spout.pending"]
    naive = load_topology(
        ["sparse", "submit", "-e", "local", "-o", "loanrisk.design=naive", "-o", "loanrisk.save.batch_size=7"]
    )
    assert naive.LoanRisk.config["loanrisk.filter.batch_size"] == 1
    assert naive.LoanRisk.config["loanrisk.multilang.codec"] == "json"
    assert naive.LoanRisk.config["loanrisk.save.batch_size"] == 7


def test_bolts_read_the_design_preset_and_explicit_settings_win():
    """settings.opt: an explicit key, else the design's preset, else the default."""
    assert opt({}, "loanrisk.save.batch_size") == DEFAULTS["loanrisk.save.batch_size"]
    assert opt({"loanrisk.design": "naive"}, "loanrisk.save.batch_size") == 1
    assert opt({"loanrisk.design": "naive", "loanrisk.save.batch_size": "9"}, "loanrisk.save.batch_size") == 9
    assert opt({"loanrisk.hbase.batch_puts": "false"}, "loanrisk.hbase.batch_puts") is False
    with pytest.raises(ValueError, match=r"loanrisk\.design must be one of"):
        merged({"loanrisk.design": "fast"})


def test_spout_arguments_follow_env_and_cli_overrides():
    """The spout's constructor arguments come from the env's options, overridden by sparse -o."""
    topo = load_topology(
        [
            "sparse",
            "run",
            "-e",
            "local",
            "-n",
            "loan-risk",
            "-o",
            "loanrisk.spout.group_id=g-test",
            "-o",
            "loanrisk.spout.max_uncommitted_offsets=42",
        ]
    )
    args = topo.LoanRisk.thrift_spouts["kafka_spout"].spout_object.java_object.args_list
    values = [a.string_arg if a.string_arg is not None else a.long_arg for a in args]
    local = merged(CONFIG["envs"]["local"]["options"])
    assert values == [
        local["loanrisk.kafka.bootstrap"],
        local["loanrisk.kafka.input_topic"],
        "g-test",
        42,
        local["loanrisk.spout.offset_commit_period_ms"],
        local["loanrisk.spout.retry_initial_delay_ms"],
        local["loanrisk.spout.retry_max_delay_ms"],
        # the consumer's properties: PLAINTEXT has no security ones, only the fetch settings
        (
            f"fetch.max.wait.ms={local['loanrisk.spout.fetch_max_wait_ms']}\n"
            f"fetch.min.bytes={local['loanrisk.spout.fetch_min_bytes']}\n"
        ),
        "",  # and no worker environment variables needed
        local["loanrisk.spout.records_per_tuple"],
    ]


def test_storm_timeouts_leave_room_for_the_slowest_bolt_call():
    """HTTP and Kafka waits stay far below the subprocess (heartbeat) and message timeouts."""
    for env in CONFIG["envs"].values():
        o = merged(env["options"])
        worst_submit = o["loanrisk.risk_api.retry_budget_secs"] + o["loanrisk.kafka.send_timeout_secs"]
        worst_save = 3 * o["loanrisk.hbase.timeout_ms"] / 1000 + 2 * o["loanrisk.kafka.send_timeout_secs"]
        assert max(worst_submit, worst_save) < o["topology.subprocess.timeout.secs"]
        assert max(worst_submit, worst_save) < o["topology.message.timeout.secs"]


def test_parallelism_can_be_overridden_on_the_command_line():
    """sparse ... -o loanrisk.par.<component>=N changes that component's parallelism."""
    topo = load_topology(["sparse", "submit", "-e", "local", "-n", "loan-risk", "-o", "loanrisk.par.save_bolt=5"])
    [save] = [spec for spec in topo.LoanRisk.specs if spec.name == "save_bolt"]
    assert set(save.par.values()) == {5}


def test_records_per_tuple_above_one_deploys_the_batch_spout_grouped_by_partition():
    """loanrisk.spout.records_per_tuple=500: LoanBatchSpout, (partition, records), filter grouped on partition."""
    topo = load_topology(
        ["sparse", "submit", "-e", "local", "-n", "loan-risk", "-o", "loanrisk.spout.records_per_tuple=500"]
    )
    spout = topo.LoanRisk.thrift_spouts["kafka_spout"]
    java = spout.spout_object.java_object
    assert java.full_class_name == "loanrisk.storm.LoanBatchSpout"
    assert java.args_list[-1].long_arg == 500
    assert spout.common.streams["default"].output_fields == ["partition", "records"]
    [grouping] = topo.LoanRisk.thrift_bolts["filter_bolt"].common.inputs.values()
    assert grouping.fields == ["partition"]


def test_the_naive_design_keeps_one_record_per_spout_tuple():
    """The naive preset sets records_per_tuple 1: storm-kafka-client's spout, one tuple per record, by key."""
    topo = load_topology(["sparse", "submit", "-e", "local", "-n", "loan-risk", "-o", "loanrisk.design=naive"])
    spout = topo.LoanRisk.thrift_spouts["kafka_spout"]
    assert spout.spout_object.java_object.full_class_name == "loanrisk.storm.LoanKafkaSpout"
    assert len(spout.spout_object.java_object.args_list) == 9
    assert spout.common.streams["default"].output_fields[:4] == ["topic", "partition", "offset", "key"]
    [grouping] = topo.LoanRisk.thrift_bolts["filter_bolt"].common.inputs.values()
    assert grouping.fields == ["key"]
