"""Create the pipeline's Kafka topics, idempotently: `python -m jobs.kafka_topics [--check | --check-broker]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from adapters.settings import Settings, kafka_security_kwargs
from jobs import outage

UNKNOWN_TOPIC_OR_PARTITION = 3


@dataclass(frozen=True)
class TopicSpec:
    """A topic the pipeline needs: name, partition count and replication factor."""

    name: str
    partitions: int
    replication: int = 1


# loan-applications / loan-decisions: keyed by application id, 4 partitions so up to 4 spout executors or
# consumers share the load while each applicant's records stay in order.
# loan-applications-dlq: 1 partition. Dead letters are few; one ordered log is the easiest to audit and to
# replay, and Kafka can add partitions later but never remove them.
# Replication 1: the local stack has one broker (a production cluster would use 3 with min.insync.replicas=2).
TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("loan-applications", 4),
    TopicSpec("loan-decisions", 4),
    TopicSpec("loan-applications-dlq", 1),
)


@dataclass(frozen=True)
class TopicStatus:
    """What was found or done for one topic: action is created, exists, missing, mismatch or error."""

    name: str
    action: str
    partitions: int | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Tell whether the topic is usable as specified."""
        return self.action in ("created", "exists")


def admin_client(bootstrap: str, timeout_ms: int = 10_000) -> KafkaAdminClient:
    """Connect an admin client; raises KafkaError (e.g. NoBrokersAvailable) when no broker answers."""
    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="loanrisk-topics",
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
        **kafka_security_kwargs(),
    )


def partition_counts(admin: KafkaAdminClient, names: Iterable[str]) -> dict[str, int | None]:
    """Return each topic's partition count, None for a topic that does not exist."""
    counts: dict[str, int | None] = {}
    for topic in admin.describe_topics(list(names)):
        missing = topic["error_code"] == UNKNOWN_TOPIC_OR_PARTITION
        counts[topic["name"]] = None if missing else len(topic["partitions"])
    return counts


def compare(spec: TopicSpec, partitions: int | None) -> TopicStatus:
    """Compare an existing topic's partition count with its spec."""
    if partitions is None:
        return TopicStatus(spec.name, "missing", None)
    if partitions != spec.partitions:
        return TopicStatus(spec.name, "mismatch", partitions, f"wanted {spec.partitions} partitions")
    return TopicStatus(spec.name, "exists", partitions)


def create_missing(admin: KafkaAdminClient, specs: list[TopicSpec]) -> list[TopicStatus]:
    """Create the given topics and report each one (a concurrent creation counts as existing)."""
    request = {s.name: {"num_partitions": s.partitions, "replication_factor": s.replication} for s in specs}
    response = admin.create_topics(request, raise_errors=False)
    wanted = {s.name: s for s in specs}
    statuses = []
    for topic in response["topics"]:
        spec, error = wanted[topic["name"]], for_code(topic["error_code"])
        if topic["error_code"] == 0:
            statuses.append(TopicStatus(spec.name, "created", spec.partitions))
        elif error is TopicAlreadyExistsError:
            statuses.append(TopicStatus(spec.name, "exists", None, "created concurrently"))
        else:
            statuses.append(TopicStatus(spec.name, "error", None, f"{error.__name__}: {topic.get('error_message')}"))
    return statuses


def check_topics(bootstrap: str, topics: Iterable[TopicSpec] = TOPICS) -> list[TopicStatus]:
    """Report, without changing anything, whether each topic exists with its partition count."""
    specs = list(topics)
    admin = admin_client(bootstrap, timeout_ms=5_000)
    try:
        counts = partition_counts(admin, [s.name for s in specs])
    finally:
        admin.close()
    return [compare(s, counts.get(s.name)) for s in specs]


def ensure_topics(bootstrap: str, topics: Iterable[TopicSpec] = TOPICS) -> list[TopicStatus]:
    """Create the topics that do not exist yet; report every topic (existing ones are left as they are)."""
    specs = list(topics)
    admin = admin_client(bootstrap)
    try:
        counts = partition_counts(admin, [s.name for s in specs])
        found = {s.name: compare(s, counts.get(s.name)) for s in specs}
        missing = [s for s in specs if found[s.name].action == "missing"]
        created = {st.name: st for st in create_missing(admin, missing)} if missing else {}
    finally:
        admin.close()
    return [created.get(s.name, found[s.name]) for s in specs]


def broker_answers(bootstrap: str) -> bool:
    """Tell whether a broker answers a metadata request (lists at least one broker)."""
    try:
        admin = admin_client(bootstrap, timeout_ms=5_000)
    except KafkaError:
        return False
    try:
        return bool(admin.describe_cluster()["brokers"])
    except KafkaError:
        return False
    finally:
        admin.close()


def main(argv: list[str] | None = None) -> int:
    """Ensure (or with --check, only verify) the pipeline topics; print one line per topic."""
    parser = argparse.ArgumentParser(prog="python -m jobs.kafka_topics", description=__doc__)
    parser.add_argument("--bootstrap", default=None, help="host:port (default: settings' kafka_bootstrap)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only verify that the topics exist as specified")
    mode.add_argument("--check-broker", action="store_true", help="only verify that the broker answers")
    parser.add_argument(
        "--wait",
        type=float,
        default=120.0,
        help="seconds to wait for a broker that does not answer (default %(default)s; --check: 0)",
    )
    args = parser.parse_args(argv)
    bootstrap = args.bootstrap or Settings.load().kafka_bootstrap
    if args.check_broker:
        return 0 if broker_answers(bootstrap) else 1
    action = (lambda: check_topics(bootstrap)) if args.check else (lambda: ensure_topics(bootstrap))
    try:
        statuses = outage.until_up(
            action,
            f"kafka at {bootstrap}",
            label="kafka_topics",
            budget_s=0.0 if args.check else args.wait,
            errors=(KafkaError, OSError),
        )
    except (KafkaError, OSError) as exc:
        print(f"kafka at {bootstrap} did not answer: {outage.describe(exc)}", file=sys.stderr)
        return 1
    for st in statuses:
        print(f"{st.name:<24} {st.action:<8} partitions={st.partitions} {st.detail}".rstrip())
    return 0 if all(st.ok for st in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
