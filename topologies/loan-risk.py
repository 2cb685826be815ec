"""Topology `loan-risk`: Kafka loan-applications -> clean -> pre-screen -> Risk API -> HBase + loan-decisions.

The file is named after the topology so that `sparse submit|run|kill -n loan-risk` all agree on one name.
Parallelism per environment comes from config.json (`loanrisk.par.<component>` in each env's options); the
Kafka spout's constructor arguments from the options of the env being deployed (see `selected_env`), with
`sparse ... -o key=value` overrides applied as streamparse applies them to the bolts' config, e.g.
`sparse run -e local -n loan-risk -t 120 -o loanrisk.spout.group_id=loan-risk-local` consumes with its own group.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from streamparse import Grouping, JavaSpout, Topology

from bolts.decision import DECLINED_STREAM, DecisionBolt
from bolts.filter import FilterBolt
from bolts.save import SaveBolt
from bolts.submit import SubmitBolt

CONFIG = json.loads((Path(__file__).resolve().parent.parent / "config.json").read_text())
SPOUT_CLASS = "loanrisk.storm.LoanKafkaSpout"
SPOUT_FIELDS = ["topic", "partition", "offset", "key", "value", "timestamp", "value_sha256", "value_utf8"]
BATCH_TICK = {"topology.tick.tuple.freq.secs": 1}  # flushes a waiting batch when no tuple arrives


def selected_env() -> str:
    """Return the env being deployed: LOANRISK_STORM_ENV, else sparse's -e/--environment, else the default."""
    argv = sys.argv
    for flag in ("-e", "--environment"):
        if flag in argv[:-1]:
            return os.environ.get("LOANRISK_STORM_ENV", argv[argv.index(flag) + 1])
    return os.environ.get("LOANRISK_STORM_ENV", CONFIG.get("default_env", "local"))


def cli_options(argv: list[str]) -> dict[str, Any]:
    """Return sparse's -o/--option key=value overrides (they win over config.json, as for the bolts)."""
    found: dict[str, Any] = {}
    for flag, value in zip(argv, argv[1:]):
        if flag in ("-o", "--option") and "=" in value:
            key, raw = value.split("=", 1)
            try:
                found[key] = json.loads(raw)
            except ValueError:
                found[key] = raw
    return found


def options(env: str | None = None) -> dict[str, Any]:
    """Return the options of an env of config.json with sparse's -o overrides applied."""
    return {**CONFIG["envs"][env or selected_env()].get("options", {}), **cli_options(sys.argv)}


def par(component: str) -> dict[str, int]:
    """Return the component's parallelism for every env, from loanrisk.par.<component> (sparse -o wins)."""
    key, override = f"loanrisk.par.{component}", cli_options(sys.argv)
    return {env: int(override.get(key, cfg.get("options", {}).get(key, 1))) for env, cfg in CONFIG["envs"].items()}


def spout_args(opts: dict[str, Any]) -> list[Any]:
    """Return LoanKafkaSpout's constructor arguments (String/Long only)."""
    return [
        str(opts.get("loanrisk.kafka.bootstrap", "127.0.0.1:9092")),
        str(opts.get("loanrisk.kafka.input_topic", "loan-applications")),
        str(opts.get("loanrisk.spout.group_id", "loan-risk")),
        int(opts.get("loanrisk.spout.max_uncommitted_offsets", 10000)),
        int(opts.get("loanrisk.spout.offset_commit_period_ms", 5000)),
        int(opts.get("loanrisk.spout.retry_initial_delay_ms", 500)),
        int(opts.get("loanrisk.spout.retry_max_delay_ms", 30000)),
    ]


class LoanRisk(Topology):
    """kafka_spout -> filter_bolt -> decision_bolt -> (submit_bolt ->) save_bolt."""

    # Kafka records of loan-applications; default stream: topic, partition, offset, key (application id or
    # null), value (payload as UTF-8 text), timestamp (Kafka record time, ms), value_sha256 (of the exact
    # bytes), value_utf8 (whether the bytes were valid UTF-8).
    kafka_spout = JavaSpout.spec(name="kafka_spout", full_class_name=SPOUT_CLASS, args_list=spout_args(options()),
                                 outputs=SPOUT_FIELDS, par=par("kafka_spout"))

    # Grouped by key (= application id) so every record of an id takes the same path in order.
    # Default stream: application_id, applicant (canonical dict), received (Kafka coordinates, raw payload,
    # its sha256 and timestamp). Invalid records leave as dead letters on loan-applications-dlq.
    filter_bolt = FilterBolt.spec(name="filter_bolt", inputs={kafka_spout: Grouping.fields("key")},
                                  par=par("filter_bolt"))

    # Default stream (to the model): application_id, applicant, received.
    # "declined" stream (pre-screen declines): application_id, applicant, decision (Decision dict), received.
    decision_bolt = DecisionBolt.spec(name="decision_bolt", inputs={filter_bolt: Grouping.fields("application_id")},
                                      par=par("decision_bolt"))

    # Default stream: application_id, applicant, decision (MODEL Decision dict), received.
    submit_bolt = SubmitBolt.spec(name="submit_bolt", inputs={decision_bolt: Grouping.fields("application_id")},
                                  par=par("submit_bolt"), config=BATCH_TICK)

    # Sink: HBase loan_applications + loan-decisions (+ DUPLICATE_ID dead letters). Grouped by id so one task
    # owns an id and tells a replay from a duplicate without racing another task.
    save_bolt = SaveBolt.spec(name="save_bolt",
                              inputs={submit_bolt: Grouping.fields("application_id"),
                                      decision_bolt[DECLINED_STREAM]: Grouping.fields("application_id")},
                              par=par("save_bolt"), config=BATCH_TICK)
