"""Records the pipeline writes: the HBase row, the decision event and the dead letter.

One definition per record, pure functions only (no Kafka, HBase or Storm imports). The SaveBolt and
the FilterBolt build these; the reconciliation and the demo summary parse them back.

HBase table ``loan_applications``, row key = application id (UTF-8), two families. Schema 3 (what the
SaveBolt writes) stores three cells a row; HBase's cost is per cell (WAL entry, memstore, flush, compaction:
measured on this stack, 100,000 rows cost HBase + Thrift 0.089 ms a row as schema 2's seven cells, 0.050 as
three), so the decision travels in one JSON cell:

    applicant:json              canonical applicant JSON (sorted keys, compact; see ``applicant_json``)
    applicant:fingerprint       sha256 hex of applicant:json (replay vs. duplicate id with other content)
    decision:record             JSON {"decision", "decided_by" (PRESCREEN | MODEL), "probability_of_default"
                                (null when declined by the pre-screen), "reasons" [{"code", "text"}],
                                "model_version" (null when declined by the pre-screen), "policy_version",
                                "source" {"topic", "partition", "offset"}, "kafka_ts_ms" (Kafka record
                                timestamp), "saved_at_ms" (when the SaveBolt wrote the row), "schema_version",
                                and "challenger" {"model_version", "probability_of_default", "decision"} only
                                when the Risk API scored a challenger in shadow (it never decides; see ``Shadow``)}

Older rows stay readable. Schema 2 rows kept four of those fields in cells of their own (decision:saved_at_ms,
decision:kafka_ts_ms, decision:decided_by, decision:model_version) beside decision:record. Schema 1 rows hold
one cell per field: decision:decision, decision:probability_of_default (decimal string), decision:reasons,
decision:policy_version, decision:source, decision:schema_version, decision:challenger_* and
decision:event_published as well. Readers see every layout the same way: ask HBase for ``stored_columns(the
COL_* you need)`` and read the row through ``cells(row)``, which gives every field as its schema-1 cell
(``parse_row`` does this).

Decision event on ``loan-decisions`` (key = application id): ``DecisionEvent.to_dict()`` as JSON. Schema 2
adds ``event_id``, a digest of what was decided (id, applicant fingerprint, decision, model version), so a
replayed batch republishes the identical event and a consumer dedupes on ``event_id``.
Dead letter on ``loan-applications-dlq`` (key = application id or none): ``DeadLetter.to_dict()`` as JSON.
Schema 2: ``raw`` is the payload only for letters raised by the filter bolt; later stages no longer carry the
payload and send ``raw`` empty, with ``raw_sha256`` and ``source`` (the Kafka coordinates of the payload).

After the filter bolt an applicant travels as a ``Tracked`` record (``to_wire``: a short list), grouped in
batches by ``shard_of(application_id, shards)`` so that each id stays owned by one task of every later bolt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import orjson

from loanrisk.cleaning import loads_json
from loanrisk.decision import DECISIONS as DECISIONS  # re-exported: events.DECISIONS is public
from loanrisk.reasons import Reason as Reason  # re-exported: events.Reason is public

ROW_SCHEMA_VERSION = 3
EVENT_SCHEMA_VERSION = 2
DEAD_LETTER_SCHEMA_VERSION = 2

TABLE = "loan_applications"
FAMILIES = ("applicant", "decision")
DECIDED_BY = ("PRESCREEN", "MODEL")

COL_APPLICANT_JSON = b"applicant:json"
COL_FINGERPRINT = b"applicant:fingerprint"
COL_DECISION = b"decision:decision"
COL_DECIDED_BY = b"decision:decided_by"
COL_PD = b"decision:probability_of_default"
COL_REASONS = b"decision:reasons"
COL_MODEL_VERSION = b"decision:model_version"
COL_POLICY_VERSION = b"decision:policy_version"
COL_SOURCE = b"decision:source"
COL_KAFKA_TS = b"decision:kafka_ts_ms"
COL_SAVED_AT = b"decision:saved_at_ms"
COL_SCHEMA_VERSION = b"decision:schema_version"
COL_EVENT_PUBLISHED = b"decision:event_published"
COL_CHALLENGER_MODEL = b"decision:challenger_model_version"
COL_CHALLENGER_PD = b"decision:challenger_probability_of_default"
COL_CHALLENGER_DECISION = b"decision:challenger_decision"
COL_RECORD = b"decision:record"
# the fields that schema 3 keeps inside COL_RECORD (schema 2: the first four in cells of their own; schema 1: all)
PACKED = frozenset(
    {
        COL_SAVED_AT,
        COL_KAFKA_TS,
        COL_DECIDED_BY,
        COL_MODEL_VERSION,
        COL_DECISION,
        COL_PD,
        COL_REASONS,
        COL_POLICY_VERSION,
        COL_SOURCE,
        COL_SCHEMA_VERSION,
        COL_CHALLENGER_MODEL,
        COL_CHALLENGER_PD,
        COL_CHALLENGER_DECISION,
    }
)

# Reason codes of dead letters raised by the pipeline itself (cleaning has its own catalogue).
DUPLICATE_ID = "DUPLICATE_ID"  # an id already decided, with other content: the first one is kept
RISK_API_REJECTED = "RISK_API_REJECTED"  # the Risk API answered 422 for this applicant
RISK_API_FAILED = "RISK_API_FAILED"  # the Risk API kept answering 5xx for this applicant alone


@dataclass(frozen=True, slots=True)
class ParseError:
    """A stored record that could not be read back (error as value)."""

    detail: str


@dataclass(frozen=True, slots=True)
class Source:
    """Kafka coordinates of the record an applicant came from."""

    topic: str
    partition: int
    offset: int

    def to_dict(self) -> dict[str, Any]:
        """Return the coordinates as a JSON-ready dict."""
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Source:
        """Build coordinates from a dict with topic, partition and offset."""
        return cls(str(data["topic"]), int(data["partition"]), int(data["offset"]))


@dataclass(frozen=True, slots=True)
class Received:
    """A Kafka record as the spout delivered it: what every later step needs to trace it back."""

    source: Source
    key: str | None
    raw: str  # the payload, decoded as UTF-8 with replacement characters
    raw_sha256: str  # sha256 hex of the payload's exact bytes
    kafka_ts_ms: int

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict (it travels inside Storm tuples)."""
        return {
            "source": self.source.to_dict(),
            "key": self.key,
            "raw": self.raw,
            "raw_sha256": self.raw_sha256,
            "kafka_ts_ms": self.kafka_ts_ms,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Received:
        """Build the record back from ``to_dict()``'s output."""
        return cls(
            Source.from_dict(data["source"]), data.get("key"), data["raw"], data["raw_sha256"], int(data["kafka_ts_ms"])
        )


@dataclass(frozen=True, slots=True)
class Shadow:
    """A challenger model's result for an applicant, scored beside the champion's: recorded, never decisive."""

    model_version: str
    probability_of_default: float
    decision: str

    def to_dict(self) -> dict[str, Any]:
        """Return the shadow result as a JSON-ready dict."""
        return {
            "model_version": self.model_version,
            "probability_of_default": self.probability_of_default,
            "decision": self.decision,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Shadow | None:
        """Build the shadow result back from ``to_dict()``'s output (None stays None)."""
        if not data:
            return None
        return cls(str(data["model_version"]), float(data["probability_of_default"]), str(data["decision"]))


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one applicant, from the pre-screen or from the Risk API."""

    application_id: str
    decision: str  # APPROVE | REVIEW | DECLINE
    decided_by: str  # PRESCREEN | MODEL
    probability_of_default: float | None
    reasons: tuple[Reason, ...]
    model_version: str | None
    policy_version: str
    challenger: Shadow | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the decision as a JSON-ready dict (it travels inside Storm tuples)."""
        data = {
            "application_id": self.application_id,
            "decision": self.decision,
            "decided_by": self.decided_by,
            "probability_of_default": self.probability_of_default,
            "reasons": _reason_dicts(self.reasons),
            "model_version": self.model_version,
            "policy_version": self.policy_version,
        }
        return data if self.challenger is None else data | {"challenger": self.challenger.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """Build the decision back from ``to_dict()``'s output."""
        pd = data.get("probability_of_default")
        return cls(
            str(data["application_id"]),
            str(data["decision"]),
            str(data["decided_by"]),
            None if pd is None else float(pd),
            _reasons(data.get("reasons") or []),
            data.get("model_version") or None,
            str(data["policy_version"]),
            Shadow.from_dict(data.get("challenger")),
        )


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    """What downstream systems receive on ``loan-decisions`` for each decided applicant."""

    application_id: str
    decision: str
    decided_by: str
    probability_of_default: float | None
    reasons: tuple[Reason, ...]
    model_version: str | None
    policy_version: str
    source: Source
    kafka_ts_ms: int
    saved_at_ms: int
    event_id: str = ""
    schema_version: int = EVENT_SCHEMA_VERSION
    # the applicant's LendingClub grade as stored (None when it had none): consumers that count by grade (the
    # monitoring exporter) need not read the row back from HBase
    grade: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-ready dict (built by hand: dataclasses.asdict measured ~30x slower)."""
        return {
            "application_id": self.application_id,
            "decision": self.decision,
            "decided_by": self.decided_by,
            "probability_of_default": self.probability_of_default,
            "reasons": _reason_dicts(self.reasons),
            "model_version": self.model_version,
            "policy_version": self.policy_version,
            "source": self.source.to_dict(),
            "kafka_ts_ms": self.kafka_ts_ms,
            "saved_at_ms": self.saved_at_ms,
            "event_id": self.event_id,
            "schema_version": self.schema_version,
            "grade": self.grade,
        }


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input the pipeline could not decide, with why and where it came from."""

    reason: str
    field: str | None
    detail: str
    application_id: str | None
    raw: str
    raw_sha256: str
    source: Source
    dead_lettered_at_ms: int
    schema_version: int = DEAD_LETTER_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Return the dead letter as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A ``loan_applications`` row read back from HBase."""

    application_id: str
    applicant: dict[str, Any]
    fingerprint: str
    decision: Decision
    source: Source
    kafka_ts_ms: int
    saved_at_ms: int
    schema_version: int
    event_published: bool = field(default=False)


def _reason_dicts(reasons: tuple[Reason, ...]) -> list[dict[str, str]]:
    return [{"code": r.code, "text": r.text} for r in reasons]


def _reasons(items: Any) -> tuple[Reason, ...]:
    """Turn a list of {"code", "text"} dicts into Reasons."""
    return tuple(Reason(str(r["code"]), str(r.get("text", ""))) for r in items)


# orjson writes these exact types byte for byte as json.dumps does (a fuzz in tests/unit/test_dumps.py keeps it so).
# A float only when 0 or 1e-4 <= |x| < 1e16, where both print it positionally: outside, repr writes 1e+16 and
# 1e-05 where orjson writes 1e16 and 0.00001, and orjson writes NaN and Infinity as null.
_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})
_FLOAT_LOW, _FLOAT_HIGH = 1e-4, 1e16
_MAX_DEPTH = 32  # deeper (or circular) data goes to json.dumps, which decides


def dumps(data: Any) -> bytes:
    """Serialise a record for Kafka or HBase: compact, sorted keys, UTF-8 (json.dumps's bytes, by orjson when equal)."""
    if _plain(data, 0):
        try:
            return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # an int over 64 bits, a lone surrogate: json.dumps writes or refuses it
            pass
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _plain(value: Any, depth: int) -> bool:
    """Tell whether value holds only what orjson writes as json.dumps does (dicts, lists, tuples, plain scalars)."""
    kind = type(value)
    if kind is float:
        return bool(value == 0.0 or _FLOAT_LOW <= abs(value) < _FLOAT_HIGH)  # NaN and infinities fail both
    if kind in _PLAIN_SCALARS:
        return True
    if depth >= _MAX_DEPTH:
        return False
    if kind is dict:
        items = value.values()  # keys: orjson itself refuses any key that is not exactly a str
    elif kind is list or kind is tuple:
        items = value
    else:
        return False
    for item in items:  # a loop, floats checked in place: a generator and a call per float cost ~3x (filter bolt)
        item_kind = type(item)
        if item_kind in _PLAIN_SCALARS:
            continue
        if item_kind is float:
            if not (item == 0.0 or _FLOAT_LOW <= abs(item) < _FLOAT_HIGH):
                return False
        elif not _plain(item, depth + 1):
            return False
    return True


def sha256_hex(payload: bytes) -> str:
    """Return the sha256 hex digest of exact bytes."""
    return hashlib.sha256(payload).hexdigest()


def applicant_json(applicant: Mapping[str, Any]) -> bytes:
    """Return the canonical applicant JSON (``Applicant.to_dict()``, sorted keys, compact)."""
    return dumps(dict(applicant))


def fingerprint(applicant: Mapping[str, Any]) -> str:
    """Return the sha256 hex of the canonical applicant JSON: equal content, equal fingerprint."""
    return sha256_hex(applicant_json(applicant))


def decode_raw(payload: bytes | str | None) -> tuple[str, str]:
    """Return (payload decoded as UTF-8 with replacement, sha256 hex of its exact bytes)."""
    if payload is None:
        return "", sha256_hex(b"")
    data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    return data.decode("utf-8", errors="replace"), sha256_hex(data)


def decision_from_evaluation(result: Mapping[str, Any]) -> Decision:
    """Build a MODEL decision from one Risk API evaluation result."""
    return Decision(
        application_id=str(result["application_id"]),
        decision=str(result["decision"]),
        decided_by="MODEL",
        probability_of_default=float(result["probability_of_default"]),
        reasons=_reasons(result.get("reasons") or []),
        model_version=str(result["model_version"]),
        policy_version=str(result["policy_version"]),
        challenger=Shadow.from_dict(result.get("challenger")),
    )


def hbase_row(
    applicant: Mapping[str, Any], decision: Decision, received: Received | Tracked, saved_at_ms: int
) -> dict[bytes, bytes]:
    """Return the HBase columns of a decided applicant."""
    return row_columns(applicant_json(applicant), decision, received, saved_at_ms)


def row_columns(body: bytes, decision: Decision, received: Received | Tracked, saved_at_ms: int) -> dict[bytes, bytes]:
    """Return the HBase cells (schema 3) of a decided applicant whose canonical JSON is ``body``."""
    return {
        COL_APPLICANT_JSON: body,
        COL_FINGERPRINT: sha256_hex(body).encode(),
        COL_RECORD: orjson.dumps(packed_record(decision, received, saved_at_ms)),
    }


def packed_record(decision: Decision, received: Received | Tracked, saved_at_ms: int) -> dict[str, Any]:
    """Return what a schema-3 row keeps in its decision:record cell."""
    record = {
        "decision": decision.decision,
        "decided_by": decision.decided_by,
        "probability_of_default": decision.probability_of_default,
        "reasons": _reason_dicts(decision.reasons),
        "model_version": decision.model_version,
        "policy_version": decision.policy_version,
        "source": received.source.to_dict(),
        "kafka_ts_ms": received.kafka_ts_ms,
        "saved_at_ms": saved_at_ms,
        "schema_version": ROW_SCHEMA_VERSION,
    }
    return record if decision.challenger is None else record | {"challenger": decision.challenger.to_dict()}


def stored_columns(wanted: Iterable[bytes]) -> list[bytes]:
    """Return the columns to ask HBase for, to read the ``wanted`` fields of rows of either schema."""
    columns = list(dict.fromkeys(wanted))
    return [*columns, COL_RECORD] if PACKED.intersection(columns) and COL_RECORD not in columns else columns


def cells(columns: Mapping[bytes, bytes]) -> dict[bytes, bytes]:
    """Return a row's fields as schema-1 cells, whichever schema stored it.

    An unreadable decision:record is left out, so the reader fails on the missing field, its own error path.
    """
    if COL_RECORD not in columns:
        return dict(columns)
    found = {col: value for col, value in columns.items() if col != COL_RECORD}
    try:
        return found | unpacked_cells(orjson.loads(columns[COL_RECORD]))
    except (KeyError, ValueError, TypeError, AttributeError):
        return found


def unpacked_cells(record: Mapping[str, Any]) -> dict[bytes, bytes]:
    """Return the schema-1 cells of a decision:record's fields (schema 2 records lack the first four of schema 3)."""
    pd = record["probability_of_default"]
    return (
        shadow_columns(Shadow.from_dict(record.get("challenger")))
        | schema_3_cells(record)
        | {
            COL_DECISION: str(record["decision"]).encode(),
            COL_PD: b"" if pd is None else repr(float(pd)).encode(),
            COL_REASONS: dumps(record["reasons"]),
            COL_POLICY_VERSION: str(record["policy_version"]).encode(),
            COL_SOURCE: dumps(record["source"]),
            COL_SCHEMA_VERSION: str(int(record["schema_version"])).encode(),
        }
    )


def schema_3_cells(record: Mapping[str, Any]) -> dict[bytes, bytes]:
    """Return the cells of the fields a schema-3 record holds that schema 2 kept in cells of their own."""
    if "decided_by" not in record:
        return {}
    return {
        COL_DECIDED_BY: str(record["decided_by"]).encode(),
        COL_MODEL_VERSION: (record["model_version"] or "").encode(),
        COL_KAFKA_TS: str(int(record["kafka_ts_ms"])).encode(),
        COL_SAVED_AT: str(int(record["saved_at_ms"])).encode(),
    }


def shadow_columns(challenger: Shadow | None) -> dict[bytes, bytes]:
    """Return the challenger's columns of a row (none when no challenger scored it)."""
    if challenger is None:
        return {}
    return {
        COL_CHALLENGER_MODEL: challenger.model_version.encode(),
        COL_CHALLENGER_PD: repr(float(challenger.probability_of_default)).encode(),
        COL_CHALLENGER_DECISION: challenger.decision.encode(),
    }


def parse_shadow(columns: Mapping[bytes, bytes]) -> Shadow | None:
    """Read the challenger's columns of a row back (None when the row has none)."""
    if COL_CHALLENGER_MODEL not in columns:
        return None
    return Shadow(
        columns[COL_CHALLENGER_MODEL].decode(),
        float(columns[COL_CHALLENGER_PD]),
        columns[COL_CHALLENGER_DECISION].decode(),
    )


def parse_row(row_key: bytes | str, columns: Mapping[bytes, bytes]) -> StoredRow | ParseError:
    """Read a ``loan_applications`` row of either schema back (happybase's ``table.row()`` dict)."""
    key = row_key.decode() if isinstance(row_key, bytes) else row_key
    columns = cells(columns)
    try:
        applicant = json.loads(columns[COL_APPLICANT_JSON])
        pd_text = columns.get(COL_PD, b"").decode()
        decision = Decision(
            application_id=key,
            decision=columns[COL_DECISION].decode(),
            decided_by=columns[COL_DECIDED_BY].decode(),
            probability_of_default=float(pd_text) if pd_text else None,
            reasons=_reasons(json.loads(columns.get(COL_REASONS, b"[]"))),
            model_version=columns.get(COL_MODEL_VERSION, b"").decode() or None,
            policy_version=columns.get(COL_POLICY_VERSION, b"").decode(),
            challenger=parse_shadow(columns),
        )
        return StoredRow(
            key,
            applicant,
            columns[COL_FINGERPRINT].decode(),
            decision,
            Source.from_dict(json.loads(columns[COL_SOURCE])),
            int(columns[COL_KAFKA_TS]),
            int(columns[COL_SAVED_AT]),
            int(columns.get(COL_SCHEMA_VERSION, b"1")),
            columns.get(COL_EVENT_PUBLISHED) == b"1",
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        return ParseError(f"row {key!r}: {type(exc).__name__}: {exc}")


def event_id(application_id: str, applicant_fingerprint: str, decision: Decision) -> str:
    """Return the decision event's id: equal for every publication of the same decision on the same content."""
    parts = (
        application_id,
        applicant_fingerprint,
        decision.decision,
        decision.model_version or "",
        decision.policy_version,
    )
    return sha256_hex("\x1f".join(parts).encode("utf-8"))


def decision_event(
    decision: Decision,
    received: Received | Tracked,
    saved_at_ms: int,
    applicant_fingerprint: str = "",
    grade: str | None = None,
) -> DecisionEvent:
    """Build the decision event published after the row was saved (saved_at_ms: the row's own)."""
    return DecisionEvent(
        decision.application_id,
        decision.decision,
        decision.decided_by,
        decision.probability_of_default,
        decision.reasons,
        decision.model_version,
        decision.policy_version,
        received.source,
        received.kafka_ts_ms,
        saved_at_ms,
        event_id(decision.application_id, applicant_fingerprint, decision),
        grade=grade,
    )


def applicant_grade(applicant: Mapping[str, Any] | bytes | str) -> str | None:
    """Return the grade of a canonical applicant (a dict or its JSON), None when it has none or is unreadable."""
    if not isinstance(applicant, Mapping):
        try:
            applicant = orjson.loads(applicant)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(applicant, Mapping):
            return None
    grade = applicant.get("grade")
    return grade if isinstance(grade, str) else None


def stored_event(row: StoredRow) -> DecisionEvent:
    """Rebuild the decision event of a saved row from the row: what a replay of that row publishes again.

    A replay is scored anew, possibly by a newer model or policy; publishing that decision would contradict
    the row (the first content wins and is not rewritten) and give the event another ``event_id``.
    """
    return DecisionEvent(
        row.application_id,
        row.decision.decision,
        row.decision.decided_by,
        row.decision.probability_of_default,
        row.decision.reasons,
        row.decision.model_version,
        row.decision.policy_version,
        row.source,
        row.kafka_ts_ms,
        row.saved_at_ms,
        event_id(row.application_id, row.fingerprint, row.decision),
        grade=applicant_grade(row.applicant),
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_decision_event(payload: bytes | str) -> DecisionEvent | ParseError:
    """Read a decision event back from its Kafka value."""
    try:
        data = orjson.loads(payload)
        pd = data["probability_of_default"]
        return DecisionEvent(
            str(data["application_id"]),
            str(data["decision"]),
            str(data["decided_by"]),
            None if pd is None else float(pd),
            _reasons(data["reasons"]),
            data.get("model_version"),
            str(data["policy_version"]),
            Source.from_dict(data["source"]),
            int(data["kafka_ts_ms"]),
            int(data["saved_at_ms"]),
            str(data.get("event_id", "")),
            int(data["schema_version"]),
            _optional_str(data.get("grade")),
        )
    except (KeyError, ValueError, TypeError) as exc:
        return ParseError(f"decision event: {type(exc).__name__}: {exc}")


def dead_letter(
    received: Received, reason: str, field_name: str | None, detail: str, application_id: str | None, now_ms: int
) -> DeadLetter:
    """Build the dead letter of a received record that cannot be decided."""
    return DeadLetter(
        reason, field_name, detail, application_id, received.raw, received.raw_sha256, received.source, now_ms
    )


def parse_dead_letter(payload: bytes | str) -> DeadLetter | ParseError:
    """Read a dead letter back from its Kafka value."""
    try:
        data = json.loads(payload)
        return DeadLetter(
            str(data["reason"]),
            data.get("field"),
            str(data.get("detail", "")),
            data.get("application_id"),
            str(data.get("raw", "")),
            str(data["raw_sha256"]),
            Source.from_dict(data["source"]),
            int(data["dead_lettered_at_ms"]),
            int(data["schema_version"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        return ParseError(f"dead letter: {type(exc).__name__}: {exc}")


MAX_ID_LENGTH = 64


def application_id_hint(received: Received) -> str | None:
    """Return the application id of a payload that failed validation, when one can be told."""
    try:
        data = json.loads(received.raw)
    except (ValueError, RecursionError):
        data = None
    candidate = data.get("id") if isinstance(data, dict) else None
    if isinstance(candidate, bool) or not isinstance(candidate, (str, int)) or not str(candidate).strip():
        candidate = received.key
    return None if candidate is None or not str(candidate).strip() else str(candidate).strip()[:MAX_ID_LENGTH]


# What the SaveBolt does with each decided applicant of a batch (see ``plan_saves``).
WRITE = "WRITE"  # new id: write the row and publish its event
REPUBLISH = "REPUBLISH"  # a replay of a saved row: publish its event again (same event_id), write nothing
SKIP = "SKIP"  # a repeat within the batch: nothing to do
DUPLICATE = "DUPLICATE"  # the id is taken by other content: dead-letter as DUPLICATE_ID, keep the first


@dataclass(frozen=True, slots=True)
class Stored:
    """What the SaveBolt needs to know about an existing row: its fingerprint and when it was saved."""

    fingerprint: str
    saved_at_ms: int


def plan_saves(items: list[tuple[str, str]], existing: Mapping[str, Stored]) -> list[str]:
    """Decide WRITE, REPUBLISH, SKIP or DUPLICATE for (application_id, fingerprint) items, in the order given.

    ``existing`` holds the rows already in HBase for these ids. The first content seen for an id wins:
    the stored row, else the first item of the batch with that id. A stored row with the same content is
    a replay (its batch failed after the HBase write): its event is published again, identical, because
    the earlier attempt may have failed before Kafka acknowledged it. Repeats therefore only follow a failure.
    """
    owner: dict[str, str] = {app_id: row.fingerprint for app_id, row in existing.items()}
    handled: set[str] = set()
    actions = []
    for app_id, fp in items:
        if owner.setdefault(app_id, fp) != fp:
            actions.append(DUPLICATE)
        elif app_id in handled:
            actions.append(SKIP)
        else:
            handled.add(app_id)
            actions.append(REPUBLISH if app_id in existing else WRITE)
    return actions


@dataclass(frozen=True, slots=True)
class Tracked:
    """An applicant after the filter bolt: what every later step needs, without the raw payload.

    ``body`` is the canonical applicant JSON (``applicant_json``), made once by the filter bolt: the decision
    bolt fingerprints it, the submit bolt splices it into the Risk API request, the save bolt stores it, and
    nobody serialises the applicant again.
    """

    application_id: str
    body: str
    source: Source
    kafka_ts_ms: int
    raw_sha256: str

    @property
    def applicant(self) -> dict[str, Any]:
        """Return the canonical applicant dict (orjson: json.loads's result, a few times faster)."""
        return cast("dict[str, Any]", loads_json(self.body))

    @property
    def fingerprint(self) -> str:
        """Return the sha256 hex of the canonical applicant JSON (see ``fingerprint``)."""
        return sha256_hex(self.body.encode("utf-8"))

    def to_wire(self) -> list[Any]:
        """Return the record as the short list that travels inside a batch tuple."""
        s = self.source
        return [self.application_id, self.body, s.topic, s.partition, s.offset, self.kafka_ts_ms, self.raw_sha256]

    @classmethod
    def from_wire(cls, wire: list[Any]) -> Tracked:
        """Build the record back from ``to_wire()``'s output."""
        app_id, body, topic, partition, offset, ts, sha = wire[:7]
        return cls(str(app_id), str(body), Source(str(topic), int(partition), int(offset)), int(ts), str(sha))

    @classmethod
    def of(cls, application_id: str, applicant: Mapping[str, Any], received: Received | Tracked) -> Tracked:
        """Keep what later steps need of a received record."""
        return cls(
            application_id,
            applicant_json(applicant).decode("utf-8"),
            received.source,
            received.kafka_ts_ms,
            received.raw_sha256,
        )


def shard_of(application_id: str, shards: int) -> int:
    """Return the id's shard: stable across processes and runs (unlike hash()), so one task owns an id."""
    return int.from_bytes(hashlib.blake2b(application_id.encode("utf-8"), digest_size=4).digest(), "big") % shards


def late_letter(tracked: Tracked, reason: str, field_name: str | None, detail: str, now_ms: int) -> DeadLetter:
    """Build the dead letter of an applicant refused after the filter (payload: by sha256 and coordinates)."""
    return DeadLetter(
        reason, field_name, detail, tracked.application_id, "", tracked.raw_sha256, tracked.source, now_ms
    )


def duplicate_letter(tracked: Tracked, stored_fingerprint: str, now_ms: int) -> DeadLetter:
    """Build the DUPLICATE_ID dead letter of a record whose id was already decided with other content."""
    detail = f"id {tracked.application_id} already decided with other content (fingerprint {stored_fingerprint[:12]})"
    return late_letter(tracked, DUPLICATE_ID, "id", detail, now_ms)


class FirstSeen:
    """Remembers the first content seen for recent application ids, to tell a later duplicate in Kafka order.

    The DecisionBolt sees every record of an id in Kafka order (fields grouping on the id all the way from
    the spout), whereas declined and scored applicants reach the SaveBolt at different speeds. Deciding
    "first" here keeps the earlier record even when the later one would reach HBase first. Bounded: the
    oldest ids are forgotten (the SaveBolt's check against HBase covers those).
    """

    def __init__(self, capacity: int) -> None:
        """Create an empty window holding up to capacity ids."""
        from collections import OrderedDict

        self.capacity = capacity
        self._seen: OrderedDict[str, tuple[str, Source]] = OrderedDict()

    def is_later_duplicate(self, app_id: str, fp: str, source: Source) -> bool:
        """Record the id's first content; True for other content at a later offset of the same partition."""
        first = self._seen.get(app_id)
        if first is None:
            self._seen[app_id] = (fp, source)
            if len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
            return False
        self._seen.move_to_end(app_id)
        first_fp, first_source = first
        if first_fp == fp:
            return False
        same_log = (first_source.topic, first_source.partition) == (source.topic, source.partition)
        return not same_log or source.offset > first_source.offset

    def first_fingerprint(self, app_id: str) -> str | None:
        """Return the fingerprint remembered for an id."""
        first = self._seen.get(app_id)
        return first[0] if first else None
