"""What a drill measures, as plain values: samples of lag and workers, the table row, the verdict.

Definitions (also in the README's "Guarantees"):
- injected at: UTC time the fault began; recovery: seconds from the end of the fault (the heal; for a
  kill -9 the kill itself) until the topology has committed, on every partition, the end offset that
  partition had at the heal, i.e. until everything already in Kafka when the fault ended was processed and
  acked (the spout commits every 5 s, so this includes up to 5 s of commit delay);
- lost: applicants or reject lines of the scenario's batch with neither an HBase row nor a dead letter when
  the bounded wait ended; duplicated rows: an id both in HBase and dead-lettered, or dead-lettered with two
  different payloads; repeated events: decision events beyond one per decided applicant; repeated dead
  letters: dead letters beyond one per source record; peak lag: the largest consumer lag sampled; worker
  restarts: worker JVM pids that appeared during the scenario.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    """One look at the pipeline: when, the input topic's end offsets and the spout group's committed offsets per
    partition (both empty when Kafka did not answer), the worker pids and their resident memory."""

    at: float
    ends: dict[int, int]
    committed: dict[int, int]
    workers: frozenset[int]
    worker_rss_mb: float = 0.0

    @property
    def lag(self) -> int | None:
        """Records in Kafka not yet committed by the topology, None when unreadable."""
        if not self.ends:
            return None
        return sum(max(0, end - self.committed.get(p, 0)) for p, end in self.ends.items())


def peak_lag(samples: Iterable[Sample]) -> int | None:
    """The largest lag sampled, None when none was readable."""
    lags = [s.lag for s in samples if s.lag is not None]
    return max(lags) if lags else None


def worker_restarts(samples: list[Sample]) -> int:
    """How many worker pids appeared after the first sample (a new pid is a started worker)."""
    if not samples:
        return 0
    first = samples[0].workers
    seen = set().union(*(s.workers for s in samples))
    return len(seen - first)


def ends_at(samples: list[Sample], at: float) -> dict[int, int] | None:
    """The end offsets of the first readable sample at or after a moment, None when there is none."""
    return next((s.ends for s in samples if s.at >= at and s.ends), None)


def committed_at(samples: list[Sample], since: float, target: dict[int, int]) -> float | None:
    """When (first readable sample from since on) every partition's committed offset reached its target offset."""
    return next(
        (
            s.at
            for s in samples
            if s.at >= since and s.ends and all(s.committed.get(p, 0) >= end for p, end in target.items())
        ),
        None,
    )


def recovery_s(samples: list[Sample], healed_at: float) -> float | None:
    """Seconds from the heal until every partition's committed offset reached its end offset at the heal.

    None when no readable sample follows the heal, or the topology never caught up within the samples.
    """
    target = ends_at(samples, healed_at)
    reached = None if target is None else committed_at(samples, healed_at, target)
    return None if reached is None else round(reached - healed_at, 1)


def conflicting_events(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Application ids whose decision events carry more than one distinct event_id (a repeat that is not identical).

    Events without an event_id (older schema) are not compared.
    """
    ids: dict[str, set[str]] = {}
    for application_id, event_id in pairs:
        if event_id:
            ids.setdefault(application_id, set()).add(event_id)
    return sorted(a for a, found in ids.items() if len(found) > 1)


@dataclass
class Row:
    """One line of the `make chaos` table."""

    scenario: str
    injected_at: str = "-"
    recovery_s: float | None = None
    lost: int = 0
    duplicated: int = 0
    repeated_events: int = 0
    repeated_dead_letters: int = 0
    peak_lag: int | None = None
    worker_restarts: int = 0
    applicants: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # checks of the scenario itself that failed

    @property
    def passed(self) -> bool:
        """No loss, no duplicated row, and the scenario's own checks held."""
        return self.lost == 0 and self.duplicated == 0 and not self.problems


COLUMNS = (
    "scenario",
    "injected",
    "recovery",
    "in",
    "lost",
    "dup rows",
    "rep events",
    "rep DLQ",
    "peak lag",
    "restarts",
    "result",
)


def cells(row: Row) -> list[str]:
    """The row's cells as text."""
    recovery = "not recovered" if row.recovery_s is None else f"{row.recovery_s:.0f} s"
    return [
        row.scenario,
        row.injected_at,
        recovery,
        str(row.applicants),
        str(row.lost),
        str(row.duplicated),
        str(row.repeated_events),
        str(row.repeated_dead_letters),
        "-" if row.peak_lag is None else str(row.peak_lag),
        str(row.worker_restarts),
        "ok" if row.passed else "FAIL",
    ]


def format_table(rows: list[Row]) -> str:
    """A Markdown table with one row per scenario, then each row's notes and problems."""
    table = [COLUMNS] + [tuple(cells(r)) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in table]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        out += [f"- {r.scenario}: {note}" for note in r.notes]
        out += [f"- {r.scenario}: FAILED CHECK: {problem}" for problem in r.problems]
    return "\n".join(out)
