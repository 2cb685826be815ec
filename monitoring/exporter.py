"""Pipeline exporter: Prometheus metrics of the topology, read from what it writes, never from inside the bolts.

    python -m monitoring.exporter [--port 9391]     (what `make up` runs: stack/services/exporter.sh)

- Consumes ``loan-decisions`` and ``loan-applications-dlq`` from the beginning, without a consumer group (no
  commits, so it takes nothing from another consumer): after a restart the counters again equal the topics'
  totals, which is what `make reconcile` counts. Decisions are counted once per application id, by outcome,
  decided_by and grade (the event's own grade; for events published before it carried one, the grade is read
  from the HBase row, one Thrift call per polled batch); dead letters by
  reason; the end-to-end latency (``saved_at_ms - kafka_ts_ms``) and the probability of default as histograms.
- Every ``--interval`` seconds: the topology group's lag per partition of ``loan-applications`` (committed
  offsets vs end offsets) and Storm UI's REST figures per component (discovered, not listed here).
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any

import requests
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from adapters import hbase
from adapters.hbase import KeptConnection
from adapters.kafka import OffsetReader
from adapters.settings import Settings, kafka_security_from_env, kafka_security_kwargs
from loanrisk import events as ev
from monitoring.pipeline import (
    FirstDecisions,
    component_figures,
    consumer_lag,
    e2e_latency_seconds,
    event_grade,
    grade_of,
    topology_id,
)

log = logging.getLogger("loanrisk.exporter")

POLL_RECORDS = 2000  # records per consume() call at most
FETCH_MIN_BYTES = 256 * 1024  # ~500 decision events; a quiet topic's events still arrive within fetch.wait.max.ms
GRADE_CHUNK = 200  # rows per HBase multi-get of the grade lookup


def applicant_of(columns: dict[bytes, bytes]) -> dict[str, Any] | None:
    """Return the stored applicant JSON of a row, None when it is absent or unreadable."""
    try:
        applicant = json.loads(columns.get(ev.COL_APPLICANT_JSON) or b"null")
    except ValueError:
        return None
    return applicant if isinstance(applicant, dict) else None


DECISIONS_TOPIC = "loan-decisions"
DLQ_TOPIC = "loan-applications-dlq"
INPUT_TOPIC = "loan-applications"
TOPOLOGY_GROUP = "loan-risk"  # config.json: loanrisk.spout.group_id
TOPOLOGY_NAME = "loan-risk"
HTTP_TIMEOUT_S = 3
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60, 120, 300)
PD_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))


@dataclass(frozen=True)
class ExporterConfig:
    """Where the exporter reads from and listens; defaults fit the local stack (LOANRISK_* settings)."""

    kafka_bootstrap: str
    hbase_host: str
    hbase_port: int
    storm_ui_url: str
    storm_ui_headers: dict[str, str] = dataclass_field(default_factory=dict)  # the reader token (var/tokens/)
    port: int = 9391
    interval_s: float = 10.0
    topology_group: str = TOPOLOGY_GROUP
    topology_name: str = TOPOLOGY_NAME

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ExporterConfig:
        """Build the config from the project's settings, with command-line overrides."""
        config = cls(
            settings.kafka_bootstrap,
            settings.hbase_host,
            settings.hbase_port,
            settings.storm_ui_url,
            settings.auth_headers("reader"),
        )
        return replace(config, **{k: v for k, v in overrides.items() if v is not None})


class PipelineMetrics:
    """The exporter's metric families, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.decisions = Counter(
            "loanrisk_pipeline_decisions",
            "Applicants decided (one per application id)",
            ["decision", "decided_by", "grade"],
            registry=r,
        )
        self.decision_events = Counter(
            "loanrisk_pipeline_decision_events",
            "Decision events read from loan-decisions, redeliveries included",
            registry=r,
        )
        self.reasons = Counter(
            "loanrisk_pipeline_decision_reasons", "Reason codes given, by decision", ["decision", "code"], registry=r
        )
        self.versions = Counter(
            "loanrisk_pipeline_decisions_by_version",
            "Applicants decided per model and policy",
            ["model_version", "policy_version"],
            registry=r,
        )
        self.dead_letters = Counter("loanrisk_pipeline_dead_letters", "Dead letters, by reason", ["reason"], registry=r)
        self.unreadable = Counter(
            "loanrisk_pipeline_unreadable_records", "Records the exporter could not parse", ["topic"], registry=r
        )
        self.latency = Histogram(
            "loanrisk_pipeline_e2e_latency_seconds",
            "Kafka timestamp of the applicant to its HBase write",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.pd = Histogram(
            "loanrisk_pipeline_probability_of_default",
            "Predicted probability of default of model-decided applicants",
            buckets=PD_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "loanrisk_kafka_consumer_lag",
            "Records of the topic not yet committed by the group",
            ["group", "topic", "partition"],
            registry=r,
        )
        self.storm_up = Gauge(
            "loanrisk_storm_topology_up", "1 when Storm UI lists the topology", ["topology"], registry=r
        )
        self.storm = {
            field: Gauge(f"loanrisk_storm_component_{field}", doc, ["topology", "component", "kind"], registry=r)
            for field, doc in (
                ("executors", "Executors of the component"),
                ("emitted", "Tuples emitted (Storm UI's all-time window)"),
                ("acked", "Tuples acked (all-time)"),
                ("failed", "Tuples failed (all-time)"),
                ("executed", "Tuples executed by the bolt (all-time)"),
                ("capacity", "Bolt capacity: share of the last 10 minutes its executors were busy"),
                ("latency_ms", "Spout complete latency or bolt execute latency, ms"),
                ("process_latency_ms", "Bolt process latency, ms"),
            )
        }
        self.poll_errors = Counter(
            "loanrisk_exporter_source_errors", "Failed reads of a source", ["source"], registry=r
        )


def topic_reader(bootstrap: str) -> Any:
    """Return a confluent-kafka consumer for assigned partitions: no group membership, no commits.

    kafka-python's consumer cost about 0.2 ms of CPU per decision event at 1,000 applicants/s, as much as a
    bolt; librdkafka fetches and decodes in C. group.id is required by librdkafka but unused (assign, no commit).
    A fetch waits for FETCH_MIN_BYTES (or fetch.wait.max.ms, 500 ms): tailing a busy topic otherwise takes a
    fetch round trip, in this process and in the broker, for every few events.
    """
    from confluent_kafka import Consumer

    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "loanrisk-exporter",
            "client.id": "loanrisk-exporter",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "fetch.min.bytes": FETCH_MIN_BYTES,
            "fetch.wait.max.ms": 500,
            "logger": logging.getLogger("loanrisk.exporter.kafka"),
            **kafka_security_from_env().librdkafka_config(os.environ),
        }
    )


class Exporter:
    """Reads the topics, HBase, Kafka's offsets and Storm UI, and updates PipelineMetrics."""

    def __init__(self, config: ExporterConfig, metrics: PipelineMetrics) -> None:
        self.config, self.metrics = config, metrics
        self.first = FirstDecisions()
        self.consumer = topic_reader(config.kafka_bootstrap)
        self.offsets = OffsetReader(
            config.kafka_bootstrap, client_id="loanrisk-exporter-offsets", **kafka_security_kwargs()
        )
        self.hbase = KeptConnection(config.hbase_host, config.hbase_port)
        self.assigned: set[tuple[str, int]] = set()

    # ------------------------------------------------------------ topics

    def assign_new_partitions(self) -> None:
        """Follow both topics' partitions (they may be created after the exporter starts), from the beginning."""
        from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition

        try:
            existing = self.consumer.list_topics(timeout=HTTP_TIMEOUT_S).topics
        except KafkaException as exc:
            log.warning("reading Kafka's topics failed: %s", exc)
            self.metrics.poll_errors.labels("kafka").inc()
            return
        found = {(t, p) for t in (DECISIONS_TOPIC, DLQ_TOPIC) if t in existing for p in existing[t].partitions}
        new = sorted(found - self.assigned)
        if new:
            self.assigned |= set(new)
            self.consumer.incremental_assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in new])
            log.info("reading %s", ", ".join(f"{t}/{p}" for t, p in new))

    def poll_once(self, timeout_ms: int = 1000) -> int:
        """Read one batch of records and count them; return how many were read."""
        if not self.assigned:
            time.sleep(timeout_ms / 1000)
            return 0
        decisions: list[bytes] = []
        letters: list[bytes] = []
        for message in self.consumer.consume(num_messages=POLL_RECORDS, timeout=timeout_ms / 1000):
            if message.error() is not None:
                log.warning("reading %s failed: %s", message.topic(), message.error())
                self.metrics.poll_errors.labels("kafka").inc()
                continue
            (decisions if message.topic() == DECISIONS_TOPIC else letters).append(message.value() or b"")
        self.count_dead_letters(letters)
        self.count_decisions(decisions)
        return len(decisions) + len(letters)

    def count_dead_letters(self, payloads: Iterable[bytes]) -> None:
        """Count dead letters by reason (one counter update per reason and batch)."""
        reasons: collections.Counter[str] = collections.Counter()
        unreadable = 0
        for payload in payloads:
            letter = ev.parse_dead_letter(payload)
            if isinstance(letter, ev.ParseError):
                unreadable += 1
            else:
                reasons[letter.reason] += 1
        for reason, n in reasons.items():
            self.metrics.dead_letters.labels(reason).inc(n)
        if unreadable:
            self.metrics.unreadable.labels(DLQ_TOPIC).inc(unreadable)

    def count_decisions(self, payloads: list[bytes]) -> None:
        """Count the first event of each application id by outcome and grade, its reasons, latency and PD.

        Labelled counters are summed over the batch first and updated once per label set: a labels() lookup
        and inc() per event was most of the exporter's CPU during a drain.
        """
        fresh = []
        unreadable = 0
        for payload in payloads:
            event = ev.parse_decision_event(payload)
            if isinstance(event, ev.ParseError):
                unreadable += 1
                continue
            if self.first.is_first(event.application_id):
                fresh.append(event)
        m = self.metrics
        m.decision_events.inc(len(payloads) - unreadable)
        if unreadable:
            m.unreadable.labels(DECISIONS_TOPIC).inc(unreadable)
        grades = self.grades([e.application_id for e in fresh if e.grade is None])  # events before the grade field
        decisions: collections.Counter[tuple[str, str, str]] = collections.Counter()
        versions: collections.Counter[tuple[str, str]] = collections.Counter()
        reasons: collections.Counter[tuple[str, str]] = collections.Counter()
        for e in fresh:
            decisions[e.decision, e.decided_by, event_grade(e, grades)] += 1
            versions[e.model_version or "none (pre-screen)", e.policy_version] += 1
            reasons.update((e.decision, reason.code) for reason in e.reasons)
            m.latency.observe(e2e_latency_seconds(e))
            if e.probability_of_default is not None:
                m.pd.observe(e.probability_of_default)
        for counter, counts in ((m.decisions, decisions), (m.versions, versions), (m.reasons, reasons)):
            for labels, n in counts.items():
                counter.labels(*labels).inc(n)

    # ------------------------------------------------------------ HBase

    def grades(self, ids: list[str]) -> dict[str, str]:
        """Return the grade of each id's HBase row; 'unknown' when HBase cannot answer.

        Only the applicant cell is read, GRADE_CHUNK rows per Thrift call: a multi-get of 2,000 whole rows made
        HBase log responseTooLarge and, with a 1 GiB heap and a decision backlog, die of OutOfMemoryError
        (found by `make chaos`).
        """
        if not ids:
            return {}
        keys = [i.encode() for i in ids]
        for attempt in (1, 2):
            try:
                table = self.hbase.table(ev.TABLE)
                return {
                    key.decode(): grade_of(applicant_of(columns))
                    for start in range(0, len(keys), GRADE_CHUNK)
                    for key, columns in table.rows(keys[start : start + GRADE_CHUNK], columns=[ev.COL_APPLICANT_JSON])
                }
            except hbase.ERRORS as exc:  # reconnect once, then count and go on
                log.warning("HBase read failed (attempt %d): %s", attempt, exc)
                self.hbase.drop()
        self.metrics.poll_errors.labels("hbase").inc()
        return {}

    # ------------------------------------------------------------ lag and Storm

    def refresh_lag(self) -> None:
        """Set the topology group's lag on each partition of the input topic."""
        group = self.config.topology_group
        try:
            committed, ends = self.offsets.offsets(group, INPUT_TOPIC)
        except Exception as exc:  # noqa: BLE001 (the broker may be restarting; the next refresh tries again)
            log.warning("reading Kafka offsets failed: %s", exc)
            self.metrics.poll_errors.labels("kafka_offsets").inc()
            self.offsets.close()
            return
        for partition, value in consumer_lag(ends, committed).items():
            self.metrics.lag.labels(group, INPUT_TOPIC, str(partition)).set(value)

    def refresh_storm(self) -> None:
        """Set each component's figures from Storm UI's REST API (components as the API lists them)."""
        base, name = self.config.storm_ui_url.rstrip("/"), self.config.topology_name
        try:
            auth = self.config.storm_ui_headers
            summary = requests.get(f"{base}/api/v1/topology/summary", headers=auth, timeout=HTTP_TIMEOUT_S).json()
            ident = topology_id(summary, name)
            for gauge in self.metrics.storm.values():
                gauge.clear()
            self.metrics.storm_up.labels(name).set(0 if ident is None else 1)
            if ident is None:
                return
            page = requests.get(f"{base}/api/v1/topology/{ident}", headers=auth, timeout=HTTP_TIMEOUT_S).json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("reading Storm UI failed: %s", exc)
            self.metrics.poll_errors.labels("storm_ui").inc()
            return
        for fig in component_figures(page):
            for field, gauge in self.metrics.storm.items():
                value = getattr(fig, field)
                if value is not None:
                    gauge.labels(name, fig.component, fig.kind).set(value)

    def run(self) -> None:
        """Poll forever; refresh partitions, lag and Storm figures every interval."""
        next_refresh = 0.0
        while True:
            if time.monotonic() >= next_refresh:
                self.assign_new_partitions()
                self.refresh_lag()
                self.refresh_storm()
                next_refresh = time.monotonic() + self.config.interval_s
            self.poll_once()


def main(argv: list[str] | None = None) -> None:
    """Serve the pipeline metrics on 127.0.0.1:PORT/metrics and keep them current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int)
    parser.add_argument("--interval", dest="interval_s", type=float)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    config = ExporterConfig.from_settings(Settings.load(), port=args.port, interval_s=args.interval_s)
    metrics = PipelineMetrics()
    start_http_server(config.port, addr="127.0.0.1", registry=metrics.registry)
    log.info("serving pipeline metrics on http://127.0.0.1:%d/metrics", config.port)
    Exporter(config, metrics).run()


if __name__ == "__main__":
    main()
