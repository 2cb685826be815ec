"""The topology definition: five named components, their groupings, stream fields and per-env parallelism."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / "config.json").read_text())


def load_topology(argv: list[str]):
    """Import topologies/loan-risk.py as sparse does, with the given command line."""
    saved, sys.argv = sys.argv, argv
    try:
        spec = importlib.util.spec_from_file_location("loan_risk_topology", ROOT / "topologies" / "loan-risk.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.argv = saved
    return module


@pytest.fixture(scope="module")
def topo():
    """Return the topology module as `sparse submit -e local -n loan-risk` loads it."""
    return load_topology(["sparse", "submit", "-e", "local", "-n", "loan-risk"])


def test_five_named_components(topo):
    """Storm UI shows exactly the five components of the brief."""
    names = {spec.name for spec in topo.LoanRisk.specs}
    assert names == {"kafka_spout", "filter_bolt", "decision_bolt", "submit_bolt", "save_bolt"}


def test_every_hop_is_grouped_by_application_id(topo):
    """Records of one id follow one path in Kafka order: fields groupings on the key / id everywhere."""
    bolts = topo.LoanRisk.thrift_bolts
    groupings = {(name, sid.componentId, sid.streamId): g.fields
                 for name, bolt in bolts.items() for sid, g in bolt.common.inputs.items()}
    assert groupings == {
        ("filter_bolt", "kafka_spout", "default"): ["key"],
        ("decision_bolt", "filter_bolt", "default"): ["application_id"],
        ("submit_bolt", "decision_bolt", "default"): ["application_id"],
        ("save_bolt", "submit_bolt", "default"): ["application_id"],
        ("save_bolt", "decision_bolt", "declined"): ["application_id"],
    }


def test_stream_fields(topo):
    """Declared output fields match what the bolts emit."""
    streams = {(name, sid): s.output_fields for name, bolt in topo.LoanRisk.thrift_bolts.items()
               for sid, s in bolt.common.streams.items()}
    assert streams[("filter_bolt", "default")] == ["application_id", "applicant", "received"]
    assert streams[("decision_bolt", "default")] == ["application_id", "applicant", "received"]
    assert streams[("decision_bolt", "declined")] == ["application_id", "applicant", "decision", "received"]
    assert streams[("submit_bolt", "default")] == ["application_id", "applicant", "decision", "received"]
    spout = topo.LoanRisk.thrift_spouts["kafka_spout"].common.streams["default"].output_fields
    assert spout == ["topic", "partition", "offset", "key", "value", "timestamp", "value_sha256", "value_utf8"]


@pytest.mark.parametrize("env", sorted(CONFIG["envs"]))
def test_parallelism_comes_from_config_json(topo, env):
    """Each component's parallelism per env is loanrisk.par.<component> of that env."""
    options = CONFIG["envs"][env]["options"]
    for spec in topo.LoanRisk.specs:
        assert spec.par[env] == options[f"loanrisk.par.{spec.name}"]


def test_batching_bolts_get_tick_tuples(topo):
    """submit_bolt and save_bolt flush waiting batches on tick tuples."""
    bolts = topo.LoanRisk.thrift_bolts
    for name in ("submit_bolt", "save_bolt"):
        assert json.loads(bolts[name].common.json_conf)["topology.tick.tuple.freq.secs"] == 1


def test_spout_arguments_follow_env_and_cli_overrides():
    """The spout's constructor arguments come from the env's options, overridden by sparse -o."""
    topo = load_topology(["sparse", "run", "-e", "local", "-n", "loan-risk", "-o", "loanrisk.spout.group_id=g-test",
                          "-o", "loanrisk.spout.max_uncommitted_offsets=42"])
    args = topo.LoanRisk.thrift_spouts["kafka_spout"].spout_object.java_object.args_list
    values = [a.string_arg if a.string_arg is not None else a.long_arg for a in args]
    local = CONFIG["envs"]["local"]["options"]
    assert values == [local["loanrisk.kafka.bootstrap"], local["loanrisk.kafka.input_topic"], "g-test", 42,
                      local["loanrisk.spout.offset_commit_period_ms"], local["loanrisk.spout.retry_initial_delay_ms"],
                      local["loanrisk.spout.retry_max_delay_ms"]]


def test_storm_timeouts_leave_room_for_the_slowest_bolt_call():
    """HTTP and Kafka waits stay far below the subprocess (heartbeat) and message timeouts."""
    for env in CONFIG["envs"].values():
        o = env["options"]
        worst_submit = o["loanrisk.risk_api.retry_budget_secs"] + o["loanrisk.kafka.send_timeout_secs"]
        worst_save = 3 * o["loanrisk.hbase.timeout_ms"] / 1000 + 2 * o["loanrisk.kafka.send_timeout_secs"]
        assert max(worst_submit, worst_save) < o["topology.subprocess.timeout.secs"]
        assert max(worst_submit, worst_save) < o["topology.message.timeout.secs"]


def test_parallelism_can_be_overridden_on_the_command_line():
    """sparse ... -o loanrisk.par.<component>=N changes that component's parallelism."""
    topo = load_topology(["sparse", "submit", "-e", "local", "-n", "loan-risk", "-o", "loanrisk.par.save_bolt=5"])
    [save] = [spec for spec in topo.LoanRisk.specs if spec.name == "save_bolt"]
    assert set(save.par.values()) == {5}
