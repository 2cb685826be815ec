"""Re-score stored applicants with a candidate model and/or policy (`make rescore`).

    python -m jobs.rescore [--model DIR] [--policy FILE] [--since 2026-11-27] [--until ...] [--fresh]

Reads table ``loan_applications`` with a bounded, batched scan (``--batch`` rows per Thrift call and per
flush), scores each MODEL-decided applicant in process with the candidate (risk_api's own loader and
scoring service, so the numbers are the API's), and writes the candidate's decision, probability and reasons
to table ``loan_rescores`` (family ``c``, qualifiers ``<model_version>@<policy_version>/decision|pd|reasons``,
row key = application id). The production table is only read. Applicants declined by the pre-screen keep
their decision (the pre-screen is not the candidate's to change).

After every batch the run saves its position and its tally to var/rescore/<candidate>.state.json, so an
interrupted run (Ctrl-C, a lost connection) resumes after the last written batch; ``--fresh`` starts over.
The report (``loanrisk.rescore``) is printed and written to var/rescore/<candidate>.json and .md. Realised
outcomes come from the shared LendingClub files (loan_status, joined on the application id). Two rates are
printed: in process (parsing, scoring, deciding and tallying a scanned batch, wall clock and per CPU second)
and with HBase I/O (the whole loop: scan round trips, scoring, the batched puts, the saved state).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import orjson
from tqdm import tqdm

from jobs.settings import ROOT, SAMPLES, Settings, default_data_dir
from loanrisk import events as ev
from loanrisk import reasons, rescore
from loanrisk.applicant import FIELD_NAMES
from loanrisk.cleaning import loan_outcome
from loanrisk.decision import decide
from risk_api.model import expit, factor_groups
from risk_api.service import DIGITS, RiskService, build_service

TABLE = "loan_rescores"
FAMILY = b"c"
OUT_DIR = ROOT / "var" / "rescore"
LABEL_FILES = (*SAMPLES, "lending_club_2007_2011.csv")
READ_COLUMNS = ev.stored_columns(
    [
        ev.COL_APPLICANT_JSON,
        ev.COL_DECISION,
        ev.COL_DECIDED_BY,
        ev.COL_PD,
        ev.COL_REASONS,
        ev.COL_MODEL_VERSION,
        ev.COL_KAFKA_TS,
        ev.COL_CHALLENGER_DECISION,
    ]
)
DEFAULT_BATCH = 5000
REQUIRED_FIELDS = frozenset(FIELD_NAMES) - {"schema_version"}  # the one field with a default
NO_REASONS: tuple[tuple[str, ...], bytes] = ((), b"[]")


@dataclass(frozen=True, slots=True)
class Window:
    """Applicants received (Kafka timestamp) in [since_ms, until_ms); None = unbounded."""

    since_ms: int | None = None
    until_ms: int | None = None

    def holds(self, ts_ms: int) -> bool:
        """Return whether a timestamp falls in the window."""
        return (self.since_ms is None or ts_ms >= self.since_ms) and (self.until_ms is None or ts_ms < self.until_ms)


def parse_time(text: str | None) -> int | None:
    """Return an ISO date/time (UTC unless it says otherwise) or epoch milliseconds as epoch ms."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def candidate_key(service: RiskService) -> str:
    """Return the candidate's name in stored columns and file names: <model_version>@<policy_version>."""
    return f"{service.model.version}@{service.policy.version}"


def columns_of(key: str) -> tuple[bytes, bytes, bytes]:
    """Return the decision, probability and reasons qualifiers of a candidate in ``loan_rescores``."""
    prefix = FAMILY + b":" + key.encode()
    return prefix + b"/decision", prefix + b"/pd", prefix + b"/reasons"


def read_labels(data_dir: Path | None) -> dict[str, bool]:
    """Return application id -> defaulted, for the resolved loans of the shared files (empty without them)."""
    found: dict[str, bool] = {}
    for name in LABEL_FILES if data_dir else ():
        path = Path(data_dir or ".") / name
        if not path.is_file():
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                outcome = loan_outcome(row.get("loan_status") or "")
                if outcome is not None and row.get("id"):
                    found.setdefault(row["id"].strip(), bool(outcome))
    return found


@dataclass
class Scored:
    """One batch re-scored: outcomes for the report, the cells to store, and rows that could not be read."""

    outcomes: list[rescore.Outcome]
    cells: dict[bytes, dict[bytes, bytes]]
    unreadable: list[str]


class Scorer:
    """The candidate service applied to a whole scanned batch at once, with the Risk API's exact numbers.

    Per batch: one feature matrix, one matrix product for the probabilities and the factor points, one sort
    for the reason codes (``rescore.principal_factors``). Per row only what cannot be shared is left: parsing
    the stored JSON, the model's feature row, the policy's ``decide`` and the report's tally. Stored reason
    lists and the candidate's reason cells repeat across rows, so each distinct one is built once.

    The arithmetic is ``RiskModel.evaluate``'s, read from the model's public parts (its Pipeline and metadata):
    the Risk API's path builds Python reason objects per applicant, which was most of the re-score's time. The
    model test ``test_candidate_cells_are_the_risk_apis_results`` keeps the two paths byte-for-byte equal.
    """

    def __init__(self, service: RiskService) -> None:
        """Read the candidate's coefficients, reference applicant and reason factors once."""
        model = service.model
        self.service = service
        self.coef = model.pipeline[-1].coef_[0].astype(float)
        self.intercept = float(model.pipeline[-1].intercept_[0])
        self.reference = np.asarray(model.metadata["reference"], dtype=float)
        self.factors, self.groups = factor_groups(model.metadata["columns"])
        self.codes = [reasons.FACTOR_CODES[f] for f in self.factors]
        self.columns = columns_of(candidate_key(service))
        self._stored: dict[bytes, tuple[str, ...]] = {}
        self._reasons: dict[tuple[int, ...], tuple[tuple[str, ...], bytes]] = {}

    def score(self, applicants: Sequence[Any]) -> tuple[list[float], list[str], list[tuple[int, ...]]]:
        """Return each applicant's default probability (unrounded), decision and principal factor indices."""
        x = self.service.model.columns(applicants)
        p = expit(x @ self.coef + self.intercept)
        points = ((x - self.reference) * self.coef) @ self.groups
        factors = rescore.principal_factors(points, self.factors).tolist()
        probabilities = p.tolist()
        return probabilities, [decide(v, self.service.policy) for v in probabilities], factors

    def reasons_of(self, factors: Sequence[int]) -> tuple[tuple[str, ...], bytes]:
        """Return the reason codes of principal factor indices and their stored JSON, as the Risk API gives them."""
        key = tuple(factors)
        found = self._reasons.get(key)
        if found is None:
            codes = tuple(self.codes[i] for i in key if i >= 0)
            found = (codes, orjson.dumps([{"code": c, "text": reasons.CATALOGUE[c]} for c in codes]))
            self._reasons[key] = found
        return found

    def stored_reasons(self, cols: Mapping[bytes, bytes]) -> tuple[str, ...]:
        """Return the reason codes of a stored row."""
        raw = cols.get(ev.COL_REASONS, b"[]")
        found = self._stored.get(raw)
        if found is None:
            found = self._stored[raw] = stored_reasons(cols)
        return found


def stored_reasons(cols: Mapping[bytes, bytes]) -> tuple[str, ...]:
    """Return the reason codes of a stored row."""
    return tuple(str(r["code"]) for r in orjson.loads(cols.get(ev.COL_REASONS, b"[]")))


def shadow_decision(cols: Mapping[bytes, bytes]) -> str | None:
    """Return the live challenger's stored decision of a row, if it has one."""
    value = cols.get(ev.COL_CHALLENGER_DECISION)
    return value.decode() if value else None


def parse_stored(body: bytes) -> SimpleNamespace:
    """Return a stored applicant's canonical JSON as an object with (at least) the Applicant's fields.

    The rows were cleaned and validated when the pipeline stored them, so re-scoring needs only attribute
    access for the features: building the frozen Applicant costs 17 us a row, three times the parse itself.
    """
    data = orjson.loads(body)
    if not isinstance(data, dict) or not data.keys() >= REQUIRED_FIELDS:
        raise ValueError("not a canonical applicant record")
    return SimpleNamespace(**data)


def score_batch(
    service: RiskService | Scorer,
    rows: Sequence[tuple[bytes, Mapping[bytes, bytes]]],
    labels: Mapping[str, bool],
    window: Window = Window(),
) -> Scored:
    """Re-score stored rows with the candidate; pre-screen declines keep their decision."""
    scorer = service if isinstance(service, Scorer) else Scorer(service)
    scored = Scored([], {}, [])
    to_score: list[tuple[bytes, Mapping[bytes, bytes], SimpleNamespace]] = []
    for key, stored in rows:
        cols: Mapping[bytes, bytes] = ev.cells(stored)  # either row schema
        try:
            if not window.holds(int(cols[ev.COL_KAFKA_TS])):
                continue
            applicant = parse_stored(cols[ev.COL_APPLICANT_JSON])
        except (KeyError, ValueError, TypeError) as exc:
            scored.unreadable.append(f"{key!r}: {type(exc).__name__}: {exc}")
            continue
        if cols.get(ev.COL_DECIDED_BY) == b"MODEL":
            to_score.append((key, cols, applicant))
        else:
            decision = cols[ev.COL_DECISION].decode()
            kept = scorer.stored_reasons(cols)
            scored.outcomes.append(
                rescore.Outcome(
                    applicant.id, applicant.grade, decision, decision, None, None, kept, kept, labels.get(applicant.id)
                )
            )
    if not to_score:
        return scored
    probabilities, decisions, factors = scorer.score([a for _, _, a in to_score])
    decision_col, pd_col, reasons_col = scorer.columns
    for (key, cols, applicant), p, decision, top in zip(to_score, probabilities, decisions, factors, strict=True):
        pd_text = cols.get(ev.COL_PD, b"").decode()
        codes, reasons_json = scorer.reasons_of(top) if decision in reasons.ADVERSE_DECISIONS else NO_REASONS
        pd_candidate = round(p, DIGITS)
        scored.outcomes.append(
            rescore.Outcome(
                applicant.id,
                applicant.grade,
                cols[ev.COL_DECISION].decode(),
                decision,
                float(pd_text) if pd_text else None,
                pd_candidate,
                scorer.stored_reasons(cols),
                codes,
                labels.get(applicant.id),
                shadow_decision(cols),
            )
        )
        scored.cells[key] = {
            decision_col: decision.encode(),
            pd_col: repr(pd_candidate).encode(),
            reasons_col: reasons_json,
        }
    return scored


@dataclass
class State:
    """A run's resumable state: the last row key written and the tally so far."""

    key: str
    window: Window
    last_row: str | None
    tally: rescore.Tally
    unreadable: int = 0
    score_seconds: float = 0.0
    done: bool = False
    score_cpu_seconds: float = 0.0  # CPU time of the same work: on a shared box, less sensitive to the load
    total_seconds: float = 0.0  # wall clock of the whole loop: the scan, scoring, writes and saved state

    def to_dict(self) -> dict[str, Any]:
        """Return the state as JSON-ready data."""
        return {
            "key": self.key,
            "since_ms": self.window.since_ms,
            "until_ms": self.window.until_ms,
            "last_row": self.last_row,
            "tally": self.tally.to_dict(),
            "unreadable": self.unreadable,
            "score_seconds": self.score_seconds,
            "done": self.done,
            "score_cpu_seconds": self.score_cpu_seconds,
            "total_seconds": self.total_seconds,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> State:
        """Build the state back from ``to_dict()``'s output."""
        return cls(
            data["key"],
            Window(data["since_ms"], data["until_ms"]),
            data["last_row"],
            rescore.Tally.from_dict(data["tally"]),
            data["unreadable"],
            data["score_seconds"],
            data["done"],
            data.get("score_cpu_seconds", 0.0),
            data.get("total_seconds", 0.0),
        )


def slug(key: str) -> str:
    """Return a candidate key usable as a file name."""
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", key)


def load_state(path: Path, key: str, window: Window, fresh: bool) -> State:
    """Return the saved state of an unfinished run of the same candidate and window, else a new one."""
    if not fresh and path.is_file():
        state = State.from_dict(json.loads(path.read_text()))
        if not state.done and state.window == window:
            return state
    return State(key, window, None, rescore.Tally())


def save_state(path: Path, state: State) -> None:
    """Write the state atomically (a crash leaves the previous state, never half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.to_dict()))
    tmp.replace(path)


def batches(
    scan: Iterable[tuple[bytes, Mapping[bytes, bytes]]], size: int
) -> Iterator[list[tuple[bytes, Mapping[bytes, bytes]]]]:
    """Group scanned rows into lists of size rows."""
    batch: list[tuple[bytes, Mapping[bytes, bytes]]] = []
    for row in scan:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def hbase_connection(settings: Settings) -> Any:
    """Open a happybase connection to the Thrift server."""
    import happybase

    return happybase.Connection(settings.hbase_host, settings.hbase_port, timeout=settings.hbase_timeout_ms)


def ensure_table(conn: Any) -> Any:
    """Return table ``loan_rescores``, creating it on first use."""
    if TABLE.encode() not in conn.tables():
        conn.create_table(TABLE, {FAMILY.decode(): {"max_versions": 1}})
    return conn.table(TABLE)


def run(
    conn: Any,
    service: RiskService,
    labels: Mapping[str, bool],
    state: State,
    state_path: Path,
    batch_size: int = DEFAULT_BATCH,
    source_table: str = ev.TABLE,
) -> State:
    """Scan, re-score and store batch by batch from the state's position; return the final state."""
    target = ensure_table(conn)
    scorer = Scorer(service)
    start = (state.last_row.encode() + b"\x00") if state.last_row else None
    scan = conn.table(source_table).scan(row_start=start, columns=READ_COLUMNS, batch_size=batch_size)
    with tqdm(desc="rescore", unit=" rows", initial=state.tally.n, file=sys.stderr, mininterval=0.5) as bar:
        last = time.perf_counter()
        for batch in batches(scan, batch_size):
            began, began_cpu = time.perf_counter(), time.process_time()
            scored = score_batch(scorer, batch, labels, state.window)
            state.tally.add_all(scored.outcomes)
            state.score_seconds += time.perf_counter() - began
            state.score_cpu_seconds += time.process_time() - began_cpu
            with target.batch() as writer:
                for key, cells in scored.cells.items():
                    writer.put(key, cells)
            state.unreadable += len(scored.unreadable)
            state.last_row = batch[-1][0].decode()
            now = time.perf_counter()
            state.total_seconds, last = state.total_seconds + now - last, now
            save_state(state_path, state)
            bar.update(len(scored.outcomes))
    state.done = True
    save_state(state_path, state)
    return state


def write_report(state: State, out_dir: Path) -> tuple[dict[str, Any], str]:
    """Write the report as JSON and Markdown; return both."""
    report = rescore.summary(state.tally)
    rate = state.tally.n / state.score_seconds if state.score_seconds else None
    cpu_rate = state.tally.n / state.score_cpu_seconds if state.score_cpu_seconds else None
    report = {
        "candidate": state.key,
        "window": {"since_ms": state.window.since_ms, "until_ms": state.window.until_ms},
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "unreadable_rows": state.unreadable,
        "in_process_rate_per_s": round(rate) if rate else None,
        "in_process_rate_per_cpu_s": round(cpu_rate) if cpu_rate else None,
        "rate_with_hbase_per_s": round(state.tally.n / state.total_seconds) if state.total_seconds else None,
        **report,
    }
    text = rescore.markdown(report, f"Re-score with candidate {state.key}")
    base = out_dir / slug(state.key)
    base.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    base.with_suffix(".md").write_text(text)
    return report, text


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jobs.rescore", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models", help="candidate model directory")
    parser.add_argument("--policy", type=Path, default=ROOT / "config" / "risk_policy.json", help="candidate policy")
    parser.add_argument("--since", default=None, help="ISO date/time or epoch ms (Kafka timestamp), inclusive")
    parser.add_argument("--until", default=None, help="ISO date/time or epoch ms, exclusive")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="rows per scan call and per write")
    parser.add_argument("--fresh", action="store_true", help="ignore an unfinished run's saved state")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 50_000:
        parser.error("--batch must be 1..50000")
    return args


def main(argv: list[str] | None = None) -> int:
    """Re-score, print the report and where it was written."""
    args = parse_args(argv)
    service = build_service(args.model, args.policy, {})
    if isinstance(service, str):
        print(f"error: {service}", file=sys.stderr)
        return 2
    key = candidate_key(service)
    args.out.mkdir(parents=True, exist_ok=True)
    state_path = args.out / f"{slug(key)}.state.json"
    state = load_state(state_path, key, Window(parse_time(args.since), parse_time(args.until)), args.fresh)
    if state.last_row:
        print(f"resuming {key} after row {state.last_row} ({state.tally.n:,} applicants done)", file=sys.stderr)
    labels = read_labels(default_data_dir())
    conn = hbase_connection(Settings.load())
    try:
        state = run(conn, service, labels, state, state_path, args.batch)
    finally:
        conn.close()
    report, text = write_report(state, args.out)
    print(text)
    print(
        f"in process: {report['in_process_rate_per_s'] or 0:,} applicants/s wall clock, "
        f"{report['in_process_rate_per_cpu_s'] or 0:,} per CPU second (parse, score, decide, tally; target 20,000/s); "
        f"with HBase I/O (scan, score, write, save state): {report['rate_with_hbase_per_s'] or 0:,} applicants/s; "
        f"{state.unreadable} unreadable rows"
    )
    print(f"wrote {args.out / slug(key)}.json and .md; candidate columns in table {TABLE}, family {FAMILY.decode()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
