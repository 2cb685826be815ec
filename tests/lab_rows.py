"""Stored ``loan_applications`` rows built exactly as the pipeline builds them (decision bolt, Risk API service,
SaveBolt's ``events.row_columns``), for the decision lab's tests."""

from __future__ import annotations

from collections.abc import Sequence

from loanrisk import events as ev
from loanrisk.applicant import Applicant
from loanrisk.prescreen import PrescreenPolicy, prescreen
from risk_api.service import RiskService

Row = tuple[bytes, dict[bytes, bytes]]


def stored_rows(
    service: RiskService, applicants: Sequence[Applicant], kafka_ts_ms: int = 1_700_000_000_000
) -> list[Row]:
    """Return the HBase row of each applicant: pre-screened, else decided by the service."""
    rows = []
    for offset, applicant in enumerate(applicants):
        body = ev.applicant_json(applicant.to_dict())
        tracked = ev.Tracked(
            applicant.id,
            body.decode(),
            ev.Source("loan-applications", 0, offset),
            kafka_ts_ms + offset,
            ev.sha256_hex(body),
        )
        decision = prescreen(applicant.to_dict(), PrescreenPolicy()) or ev.decision_from_evaluation(
            service.evaluate([applicant])[0]
        )
        rows.append((applicant.id.encode(), ev.row_columns(body, decision, tracked, kafka_ts_ms + offset + 5)))
    return rows


def generated(count: int, seed: int, shift: dict[str, float] | None = None) -> list[Applicant]:
    """Return count clean generated applicants (the generator's canonical JSON lines), optionally shifted."""
    import orjson

    from jobs.generate import generate_lines, load_params, shifted

    params = shifted(load_params(), shift) if shift else None
    return [
        Applicant(**orjson.loads(line))
        for lines, _ in generate_lines(count, "jsonl", seed, 0.0, params)
        for line in lines
    ]
