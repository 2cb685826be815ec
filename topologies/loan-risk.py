"""Topology `loan-risk`: Kafka loan-applications -> clean -> pre-screen -> Risk API -> HBase + loan-decisions.

The file is named after the topology so that `sparse submit|run|kill -n loan-risk` all agree on one name.
Settings: bolts.settings.DEFAULTS (every loanrisk.* default, once), then config.json's env options (only
what differs: hosts, parallelism), then sparse's `-o key=value` overrides, e.g.
`sparse submit -e local -n loan-risk -o loanrisk.design=naive` deploys the seed's one-applicant-per-tuple
shape for comparison, and `-o loanrisk.par.save_bolt=3` changes one component's parallelism.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

from streamparse import Grouping, JavaSpout, Topology

from bolts.common import BATCH_SPOUT_FIELDS, DEAD_LETTER_STREAM, SPOUT_FIELDS
from bolts.dead_letter import DeadLetterBolt
from bolts.decision import DECLINED_STREAM, DecisionBolt
from bolts.filter import FilterBolt
from bolts.save import SaveBolt
from bolts.settings import merged
from bolts.submit import SubmitBolt
from loanrisk.kafka_security import KafkaSecurity

CONFIG = json.loads((Path(__file__).resolve().parent.parent / "config.json").read_text())
LOCAL_SCORER_TOKEN = Path(__file__).resolve().parent.parent / "var" / "tokens" / "scorer.token"  # `make up` writes it
SPOUT_CLASS = "loanrisk.storm.LoanKafkaSpout"  # one tuple per record (loanrisk.spout.records_per_tuple = 1)
BATCH_SPOUT_CLASS = "loanrisk.storm.LoanBatchSpout"  # a poll's records of one partition per tuple


def selected_env() -> str:
    """Return the env being deployed: LOANRISK_STORM_ENV, else sparse's -e/--environment, else the default."""
    argv = sys.argv
    for flag in ("-e", "--environment"):
        if flag in argv[:-1]:
            return os.environ.get("LOANRISK_STORM_ENV", argv[argv.index(flag) + 1])
    default_env: str = CONFIG.get("default_env", "local")
    return os.environ.get("LOANRISK_STORM_ENV", default_env)


def cli_options(argv: list[str]) -> dict[str, Any]:
    """Return sparse's -o/--option key=value overrides (they win over config.json, as for the bolts)."""
    found: dict[str, Any] = {}
    for flag, value in itertools.pairwise(argv):
        if flag in ("-o", "--option") and "=" in value:
            key, raw = value.split("=", 1)
            try:
                found[key] = json.loads(raw)
            except ValueError:
                found[key] = raw
    return found


def options(env: str | None = None) -> dict[str, Any]:
    """Return the settings of an env: defaults, the env's options, sparse's -o overrides."""
    found = merged(CONFIG["envs"][env or selected_env()].get("options", {}), cli_options(sys.argv))
    if not found["loanrisk.risk_api.token_file"]:  # a path, never the token: the workers read the file
        found["loanrisk.risk_api.token_file"] = str(LOCAL_SCORER_TOKEN)
    return found


def par(component: str) -> dict[str, int]:
    """Return the component's parallelism for every env, from loanrisk.par.<component> (sparse -o wins)."""
    return {env: int(options(env)[f"loanrisk.par.{component}"]) for env in CONFIG["envs"]}


def spout_args(opts: dict[str, Any]) -> list[Any]:
    """Return LoanKafkaSpout's constructor arguments (String/Long only).

    The last two carry the consumer's properties (Properties text: the fetch settings, and the security ones
    with credentials as ${env:NAME}) and the worker environment variables they need; the spout refuses to open
    when one is missing.
    """
    security = KafkaSecurity.from_options(opts)
    return [
        str(opts["loanrisk.kafka.bootstrap"]),
        str(opts["loanrisk.kafka.input_topic"]),
        str(opts["loanrisk.spout.group_id"]),
        int(opts["loanrisk.spout.max_uncommitted_offsets"]),
        int(opts["loanrisk.spout.offset_commit_period_ms"]),
        int(opts["loanrisk.spout.retry_initial_delay_ms"]),
        int(opts["loanrisk.spout.retry_max_delay_ms"]),
        properties_text({**security.java_properties(), **fetch_properties(opts)}),
        ",".join(security.required_env()),
        *([int(opts["loanrisk.spout.records_per_tuple"])] if batch_spout(opts) else []),
    ]


def fetch_properties(opts: dict[str, Any]) -> dict[str, str]:
    """Return the spout consumer's fetch settings: how much to gather, and for how long at most, per fetch."""
    return {
        "fetch.min.bytes": str(int(opts["loanrisk.spout.fetch_min_bytes"])),
        "fetch.max.wait.ms": str(int(opts["loanrisk.spout.fetch_max_wait_ms"])),
    }


def batch_spout(opts: dict[str, Any]) -> bool:
    """Tell whether the spout emits several records per tuple (LoanBatchSpout)."""
    return int(opts["loanrisk.spout.records_per_tuple"]) > 1


def properties_text(props: dict[str, str]) -> str:
    """Write properties in java.util.Properties text form (keys and values escaped, one per line)."""
    return "".join(f"{_escape(k)}={_escape(v)}\n" for k, v in sorted(props.items()))


def _escape(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")
    return escaped.replace("#", "\\#").replace("!", "\\!")


def by_shard(*streams: Any) -> dict[Any, Any]:
    """Group each stream on the shard of its applicants' ids: one task owns an id from the filter on."""
    return {stream: Grouping.fields("shard") for stream in streams}


class LoanRisk(Topology):
    """kafka_spout -> filter_bolt -> decision_bolt -> (submit_bolt ->) save_bolt; dead letters -> dead_letter_bolt."""

    # Every setting, merged (streamparse gives a topology's config precedence over config.json's options, so
    # this carries the merge itself: defaults < env options < -o). The bolts read it through settings.opt.
    config = options()

    # Kafka records of loan-applications, one per tuple: topic, partition, offset, key (application id or
    # null), value (payload as UTF-8 text), timestamp (Kafka record time, ms), value_sha256 (of the exact
    # bytes), value_utf8 (whether the bytes were valid UTF-8).
    # With loanrisk.spout.records_per_tuple > 1 (LoanBatchSpout): partition, records (a list of the above).
    kafka_spout = JavaSpout.spec(
        name="kafka_spout",
        full_class_name=BATCH_SPOUT_CLASS if batch_spout(options()) else SPOUT_CLASS,
        args_list=spout_args(options()),
        outputs=list(BATCH_SPOUT_FIELDS if batch_spout(options()) else SPOUT_FIELDS),
        par=par("kafka_spout"),
    )

    # Grouped by key (= application id), or by partition for LoanBatchSpout (Kafka partitions by key), so every
    # record of an id takes the same path in order.
    # Default stream: shard, items (a batch of Tracked records: id, canonical applicant, Kafka coordinates,
    # timestamp, payload sha256). dead_letter stream: application_id, letter (with the raw payload).
    filter_bolt = FilterBolt.spec(
        name="filter_bolt",
        inputs={kafka_spout: Grouping.fields("partition" if batch_spout(options()) else "key")},
        par=par("filter_bolt"),
    )

    # Default stream (to the model): shard, items. "declined" stream (pre-screen declines): shard, items
    # with a Decision dict each. dead_letter stream: DUPLICATE_ID letters.
    decision_bolt = DecisionBolt.spec(name="decision_bolt", inputs=by_shard(filter_bolt), par=par("decision_bolt"))

    # Default stream: shard, items with the MODEL Decision dict each. dead_letter stream: RISK_API_REJECTED.
    submit_bolt = SubmitBolt.spec(name="submit_bolt", inputs=by_shard(decision_bolt), par=par("submit_bolt"))

    # Sink: HBase loan_applications + loan-decisions. dead_letter stream: DUPLICATE_ID letters of ids already
    # in HBase with other content (ids older than the decision bolt's window).
    save_bolt = SaveBolt.spec(
        name="save_bolt", inputs=by_shard(submit_bolt, decision_bolt[DECLINED_STREAM]), par=par("save_bolt")
    )

    # Sink: loan-applications-dlq. Acks a letter (and so its Kafka record) once Kafka has it.
    dead_letter_bolt = DeadLetterBolt.spec(
        name="dead_letter_bolt",
        par=par("dead_letter_bolt"),
        inputs={
            bolt[DEAD_LETTER_STREAM]: Grouping.SHUFFLE for bolt in (filter_bolt, decision_bolt, submit_bolt, save_bolt)
        },
    )
