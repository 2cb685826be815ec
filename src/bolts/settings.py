"""Every ``loanrisk.*`` topology setting and its default, defined here once.

The defaults run on the local stack (`make up`). config.json's envs hold only what differs from them
(`prod`: hosts and parallelism); the topology file merges DEFAULTS, the env's options and sparse's
``-o key=value`` overrides, in that order, and the bolts read the merged topology config through ``opt``.
Pre-screen thresholds (``loanrisk.prescreen.*``) are defined with their justification in
``loanrisk.prescreen.PrescreenPolicy``.

``loanrisk.design`` picks the pipeline's shape:
- ``batched`` (default): from the filter bolt on, a tuple carries every applicant of one shard of the id hash
  that arrived together; a bolt flushes when its input queue runs dry or its batch is full; the multilang pipe
  speaks orjson; HBase rows go in one mutation per batch.
- ``naive``: the seed's shape, kept for comparison (`make bench` runs both): one applicant per tuple, one
  Risk API call per applicant, one HBase put per row, pystorm's stock JSON codec. NAIVE overrides the
  batching settings; anything given explicitly with ``-o`` still wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loanrisk.kafka_security import KafkaSecurity

DEFAULTS: dict[str, Any] = {
    "loanrisk.design": "batched",
    # parallelism per component (topology file)
    "loanrisk.par.kafka_spout": 1,
    "loanrisk.par.filter_bolt": 1,
    "loanrisk.par.decision_bolt": 1,
    "loanrisk.par.submit_bolt": 2,
    "loanrisk.par.save_bolt": 2,
    "loanrisk.par.dead_letter_bolt": 1,
    # Kafka
    "loanrisk.kafka.bootstrap": "127.0.0.1:9092",
    "loanrisk.kafka.input_topic": "loan-applications",
    "loanrisk.kafka.decisions_topic": "loan-decisions",
    "loanrisk.kafka.dlq_topic": "loan-applications-dlq",
    "loanrisk.kafka.send_timeout_secs": 10,
    # Kafka security (security_protocol, sasl_mechanism, ssl_cafile, sasl_username_env, sasl_password_env), defined
    # in loanrisk.kafka_security: PLAINTEXT on the local stack; prod uses SASL_SSL. The SASL user and password are
    # read on the worker from the environment variables named there, never from the topology config.
    **KafkaSecurity().as_options(),
    # the Kafka spout (storm-kafka-client)
    "loanrisk.spout.group_id": "loan-risk",
    "loanrisk.spout.max_uncommitted_offsets": 20000,
    "loanrisk.spout.offset_commit_period_ms": 5000,
    "loanrisk.spout.retry_initial_delay_ms": 500,
    "loanrisk.spout.retry_max_delay_ms": 30000,
    # records per spout tuple: 1 = storm-kafka-client's KafkaSpout (LoanKafkaSpout), one tuple per record;
    # more = LoanBatchSpout, the records of one poll and partition in one tuple (one multilang message and one
    # acker entry per tuple instead of per record), offsets committed per acked range
    "loanrisk.spout.records_per_tuple": 500,
    # the spout's Kafka fetch: the broker answers once fetch_min_bytes have arrived or fetch_max_wait_ms have
    # passed. A backlog fills the bytes at once (no wait); at a few hundred records a second the wait gathers a
    # tuple of tens of records instead of a handful, and every hop after it handles, calls and writes per tuple.
    "loanrisk.spout.fetch_min_bytes": 262144,
    "loanrisk.spout.fetch_max_wait_ms": 50,
    # batching (design "batched"): shards of the id hash, and the most applicants one flush handles
    "loanrisk.batch.shards": 2,
    "loanrisk.filter.batch_size": 200,
    "loanrisk.submit.batch_size": 200,
    "loanrisk.save.batch_size": 500,
    "loanrisk.dead_letter.batch_size": 500,
    "loanrisk.multilang.codec": "orjson",
    # Risk API
    "loanrisk.risk_api.url": "http://127.0.0.1:5001",
    "loanrisk.risk_api.connect_timeout_secs": 1.0,
    "loanrisk.risk_api.read_timeout_secs": 5.0,
    "loanrisk.risk_api.max_attempts": 3,
    "loanrisk.risk_api.backoff_secs": 0.25,
    "loanrisk.risk_api.retry_budget_secs": 12.0,
    # deliveries of an applicant the Risk API alone answers 5xx for, before it is dead-lettered RISK_API_FAILED
    "loanrisk.risk_api.poison_deliveries": 3,
    # the scorer token: from the environment variable named by token_env on the worker, else from token_file
    # (a path on the worker; empty = the submitting checkout's var/tokens/scorer.token, which `make up` writes,
    # filled in by the topology file at submit). The token itself never goes into the topology config.
    "loanrisk.risk_api.token_env": "LOANRISK_SCORER_TOKEN",
    "loanrisk.risk_api.token_file": "",
    # HTTPS: the CA bundle that signs the Risk API's certificate (empty = the system's CAs); always verified
    "loanrisk.risk_api.ca_file": "",
    # duplicate-id window of the decision bolt
    "loanrisk.decision.duplicate_window": 100_000,
    # HBase Thrift
    "loanrisk.hbase.host": "127.0.0.1",
    "loanrisk.hbase.port": 9090,
    "loanrisk.hbase.table": "loan_applications",
    "loanrisk.hbase.timeout_ms": 5000,
    "loanrisk.hbase.batch_puts": True,
}

NAIVE: dict[str, Any] = {
    "loanrisk.spout.records_per_tuple": 1,
    "loanrisk.spout.fetch_min_bytes": 1,
    "loanrisk.spout.fetch_max_wait_ms": 500,
    "loanrisk.filter.batch_size": 1,
    "loanrisk.submit.batch_size": 1,
    "loanrisk.save.batch_size": 1,
    "loanrisk.dead_letter.batch_size": 1,
    "loanrisk.multilang.codec": "json",
    "loanrisk.hbase.batch_puts": False,
    "topology.stats.sample.rate": 0.05,
    "topology.multilang.serializer": "org.apache.storm.multilang.JsonSerializer",
}

DESIGNS: dict[str, dict[str, Any]] = {"batched": {}, "naive": NAIVE}

# Storm settings every env shares. max.spout.pending: records in flight from the spout; at 3,000/s, 5,000
# leaves ~1.6 s of work queued, enough to keep batches full while a replay stays well inside the 60 s timeout.
STORM_DEFAULTS: dict[str, Any] = {
    "topology.message.timeout.secs": 60,
    "topology.subprocess.timeout.secs": 60,
    "topology.max.spout.pending": 5000,
    # Storm's default samples 1 tuple in 20 for its statistics. A batched tuple carries up to 500 applicants, so a
    # run of a few thousand is a few dozen tuples, and Storm UI showed 0 for whole components; counting every
    # tuple costs per batch what sampling saved per applicant. The naive design keeps Storm's 0.05.
    "topology.stats.sample.rate": 1.0,
    # The worker's side of the multilang pipe: the same JSON messages, read and written with Jackson (json-smart,
    # Storm's default, was ~65 % of the worker's CPU in a drain profile). The naive design keeps Storm's.
    "topology.multilang.serializer": "loanrisk.storm.FastJsonSerializer",
    # Tuples that cross workers (two supervisors, or more than one worker) are Kryo-serialised; the spout emits
    # json-smart objects, which Storm refuses to send unless registered ("Class is not registered").
    "topology.kryo.register": [
        "org.apache.storm.shade.net.minidev.json.JSONObject",
        "org.apache.storm.shade.net.minidev.json.JSONArray",
    ],
}


def merged(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge STORM_DEFAULTS and DEFAULTS, the chosen design's preset, then each layer (env options, -o).

    A design preset yields to a key given explicitly in a later layer than DEFAULTS.
    """
    given: dict[str, Any] = {}
    for layer in layers:
        given.update(layer or {})
    design = str(given.get("loanrisk.design", DEFAULTS["loanrisk.design"]))
    if design not in DESIGNS:
        raise ValueError(f"loanrisk.design must be one of {sorted(DESIGNS)}, not {design!r}")
    return {**STORM_DEFAULTS, **DEFAULTS, **DESIGNS[design], **given}


def opt(conf: Mapping[str, Any] | None, key: str) -> Any:
    """Return a ``loanrisk.*`` setting from the topology config, else the design's value, else its default."""
    conf = conf or {}
    default = DEFAULTS[key]
    if key in conf:
        value = conf[key]
    else:
        value = DESIGNS.get(str(conf.get("loanrisk.design", DEFAULTS["loanrisk.design"])), {}).get(key, default)
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    return value if value is None else type(default)(value)
