"""Re-scoring stored decisions with a candidate model or policy: what would change, and for whom.

One ``Outcome`` per stored applicant pairs the decision it got ("now") with the candidate's. A ``Tally``
adds outcomes up; it is additive and JSON round-trips, so `make rescore` saves it with its position in the
scan and an interrupted run resumes where it stopped. ``summary`` turns a tally into the report:

* the decision mix now vs candidate, and the share of applicants whose decision is unchanged (agreement);
* the swap matrix (APPROVE->DECLINE, ...) with counts;
* per grade: approval rate and expected bad rate (mean probability of default of the approved) now vs candidate;
* the reasons whose counts change most;
* where a realised outcome is known (the shared real loans), the bad rate of the swapped-in applicants
  (approved only by the candidate) and of the swapped-out (approved only now).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, NamedTuple

import numpy as np

from loanrisk import reasons
from loanrisk.decision import APPROVE, DECISIONS

TOP_REASONS = 10


class Outcome(NamedTuple):
    """One applicant's stored decision and the candidate's; ``bad`` is the realised outcome when known.

    A NamedTuple rather than a frozen dataclass: a re-score builds one per stored row, and a frozen
    dataclass costs a few microseconds per construction, a tenth of the whole per-row budget.
    """

    application_id: str
    grade: str
    now: str
    candidate: str
    pd_now: float | None
    pd_candidate: float | None
    reasons_now: tuple[str, ...] = ()
    reasons_candidate: tuple[str, ...] = ()
    bad: bool | None = None
    shadow: str | None = None  # the decision a live challenger gave in shadow, when the row stores one


def principal_factors(points: np.ndarray, factor_names: Sequence[str], limit: int = reasons.MAX_REASONS) -> np.ndarray:
    """Return, per row of factor points, the indices of its principal reasons in order, -1 past the last one.

    The batch form of the Risk API's path (``RiskModel.evaluate``: a stable top-``limit`` of the points,
    then ``reasons.principal_reasons``: positive points only, largest first, ties by factor name), so a
    batch of thousands is one sort instead of thousands of Python sorts; a test keeps the two equal.
    """
    if points.shape[0] == 0:
        return np.empty((0, limit), dtype=int)
    top = np.argsort(-points, axis=1, kind="stable")[:, :limit]
    values = np.take_along_axis(points, top, axis=1)
    name_rank = np.argsort(np.argsort(np.asarray(factor_names, dtype=object), kind="stable"), kind="stable")
    order = np.lexsort((name_rank[top], -values), axis=1)
    top, values = np.take_along_axis(top, order, axis=1), np.take_along_axis(values, order, axis=1)
    return np.where(values > 0.0, top, -1)


@dataclass
class GradeTally:
    """Counts of one grade: applicants, approvals and summed default probability of the approved."""

    n: int = 0
    approved_now: int = 0
    approved_candidate: int = 0
    pd_approved_now: float = 0.0
    pd_approved_candidate: float = 0.0


@dataclass
class Tally:
    """Additive counts over outcomes (see the module docstring)."""

    n: int = 0
    mix_now: Counter[str] = field(default_factory=Counter)
    mix_candidate: Counter[str] = field(default_factory=Counter)
    swaps: Counter[str] = field(default_factory=Counter)  # "NOW->CANDIDATE" (unchanged ones included)
    grades: dict[str, GradeTally] = field(default_factory=dict)
    reasons_now: Counter[str] = field(default_factory=Counter)
    reasons_candidate: Counter[str] = field(default_factory=Counter)
    labelled: Counter[str] = field(default_factory=Counter)  # "<group>:n" and "<group>:bad"
    shadow: Counter[str] = field(default_factory=Counter)  # rows with a live challenger's decision: "n", "agree"

    def add(self, o: Outcome) -> None:
        """Count one outcome."""
        self.n += 1
        self.mix_now[o.now] += 1
        self.mix_candidate[o.candidate] += 1
        self.swaps[f"{o.now}->{o.candidate}"] += 1
        self._add_grade(o)
        self.reasons_now.update(o.reasons_now)
        self.reasons_candidate.update(o.reasons_candidate)
        if o.shadow is not None:
            self.shadow["n"] += 1
            self.shadow["agree"] += o.shadow == o.now
        if o.bad is not None:
            self._add_label(o)

    def _add_label(self, o: Outcome) -> None:
        for group in groups(o):
            self.labelled[f"{group}:n"] += 1
            self.labelled[f"{group}:bad"] += int(bool(o.bad))

    def _add_grade(self, o: Outcome) -> None:
        g = self.grades.setdefault(o.grade, GradeTally())
        g.n += 1
        if o.now == APPROVE:
            g.approved_now += 1
            g.pd_approved_now += o.pd_now or 0.0
        if o.candidate == APPROVE:
            g.approved_candidate += 1
            g.pd_approved_candidate += o.pd_candidate or 0.0

    def add_all(self, outcomes: Sequence[Outcome]) -> None:
        """Count many outcomes (as ``add`` does one by one, with the counters updated per batch)."""
        self.n += len(outcomes)
        self.mix_now.update([o.now for o in outcomes])
        self.mix_candidate.update([o.candidate for o in outcomes])
        self.swaps.update([f"{o.now}->{o.candidate}" for o in outcomes])
        self.reasons_now.update(chain.from_iterable(o.reasons_now for o in outcomes))
        self.reasons_candidate.update(chain.from_iterable(o.reasons_candidate for o in outcomes))
        for o in outcomes:
            self._add_grade(o)
            if o.shadow is not None:
                self.shadow["n"] += 1
                self.shadow["agree"] += o.shadow == o.now
            if o.bad is not None:
                self._add_label(o)

    def to_dict(self) -> dict[str, Any]:
        """Return the tally as JSON-ready data (the resumable state of a run)."""
        return {
            "n": self.n,
            "mix_now": dict(self.mix_now),
            "mix_candidate": dict(self.mix_candidate),
            "swaps": dict(self.swaps),
            "grades": {k: vars(v) for k, v in self.grades.items()},
            "reasons_now": dict(self.reasons_now),
            "reasons_candidate": dict(self.reasons_candidate),
            "labelled": dict(self.labelled),
            "shadow": dict(self.shadow),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tally:
        """Build a tally back from ``to_dict()``'s output."""
        return cls(
            int(data["n"]),
            Counter(data["mix_now"]),
            Counter(data["mix_candidate"]),
            Counter(data["swaps"]),
            {k: GradeTally(**v) for k, v in data["grades"].items()},
            Counter(data["reasons_now"]),
            Counter(data["reasons_candidate"]),
            Counter(data["labelled"]),
            Counter(data.get("shadow", {})),
        )


def groups(o: Outcome) -> list[str]:
    """Return the label groups an outcome belongs to: all, approved now / by the candidate, swapped in / out."""
    found = ["all"]
    if o.now == APPROVE:
        found.append("approved_now")
    if o.candidate == APPROVE:
        found.append("approved_candidate")
    if o.candidate == APPROVE != o.now:
        found.append("swap_in")
    if o.now == APPROVE != o.candidate:
        found.append("swap_out")
    return found


def rate(part: float, whole: float) -> float | None:
    """Return part / whole rounded, or None when whole is 0."""
    return round(part / whole, 6) if whole else None


def summary(tally: Tally) -> dict[str, Any]:
    """Return the report of a tally as JSON-ready data."""
    unchanged = sum(tally.swaps.get(f"{d}->{d}", 0) for d in DECISIONS)
    return {
        "applicants": tally.n,
        "agreement": rate(unchanged, tally.n),
        "changed": tally.n - unchanged,
        "mix": {
            d: {
                "now": tally.mix_now.get(d, 0),
                "candidate": tally.mix_candidate.get(d, 0),
                "now_share": rate(tally.mix_now.get(d, 0), tally.n),
                "candidate_share": rate(tally.mix_candidate.get(d, 0), tally.n),
            }
            for d in DECISIONS
        },
        "swap_matrix": {now: {cand: tally.swaps.get(f"{now}->{cand}", 0) for cand in DECISIONS} for now in DECISIONS},
        "by_grade": {grade: grade_row(g) for grade, g in sorted(tally.grades.items())},
        "reason_changes": reason_changes(tally),
        "shadow": {
            "rows": tally.shadow.get("n", 0),
            "agreement": rate(tally.shadow.get("agree", 0), tally.shadow.get("n", 0)),
        },
        "labelled": {
            group: {
                "n": tally.labelled.get(f"{group}:n", 0),
                "bad_rate": rate(tally.labelled.get(f"{group}:bad", 0), tally.labelled.get(f"{group}:n", 0)),
            }
            for group in ("all", "approved_now", "approved_candidate", "swap_in", "swap_out")
        },
    }


def grade_row(g: GradeTally) -> dict[str, Any]:
    """Return approval rate and expected bad rate of one grade, now vs candidate."""
    return {
        "n": g.n,
        "approval_rate_now": rate(g.approved_now, g.n),
        "approval_rate_candidate": rate(g.approved_candidate, g.n),
        "expected_bad_rate_now": rate(g.pd_approved_now, g.approved_now),
        "expected_bad_rate_candidate": rate(g.pd_approved_candidate, g.approved_candidate),
    }


def reason_changes(tally: Tally, top: int = TOP_REASONS) -> list[dict[str, Any]]:
    """Return the reasons whose count changes most between now and the candidate, largest change first."""
    codes = set(tally.reasons_now) | set(tally.reasons_candidate)
    rows: list[dict[str, Any]] = [
        {
            "code": c,
            "now": tally.reasons_now.get(c, 0),
            "candidate": tally.reasons_candidate.get(c, 0),
            "change": tally.reasons_candidate.get(c, 0) - tally.reasons_now.get(c, 0),
        }
        for c in codes
    ]
    return sorted(rows, key=lambda r: (-abs(r["change"]), r["code"]))[:top]


def mix_shift(report: Mapping[str, Any]) -> float:
    """Return the largest absolute change of a decision's share between now and the candidate (0..1)."""
    shares = [abs((m["candidate_share"] or 0.0) - (m["now_share"] or 0.0)) for m in report["mix"].values()]
    return max(shares, default=0.0)


def percent(value: float | None) -> str:
    """Return a share as a percentage string, '-' when unknown."""
    return "-" if value is None else f"{100 * value:.1f} %"


def markdown(report: Mapping[str, Any], title: str) -> str:
    """Return the report as Markdown (also what `make rescore` prints)."""
    lines = [
        f"# {title}",
        "",
        (
            f"Applicants: {report['applicants']:,}; decision unchanged for "
            f"{percent(report['agreement'])} ({report['changed']:,} changed)."
        ),
        "",
        "## Decision mix",
        "",
        "| decision | now | candidate |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {d} | {m['now']:,} ({percent(m['now_share'])}) | {m['candidate']:,} ({percent(m['candidate_share'])}) |"
        for d, m in report["mix"].items()
    ]
    lines += [
        "",
        "## Swap matrix (rows: now, columns: candidate)",
        "",
        "| now \\ candidate | " + " | ".join(DECISIONS) + " |",
        "|---|" + "---:|" * len(DECISIONS),
    ]
    lines += [
        f"| {now} | " + " | ".join(f"{row[c]:,}" for c in DECISIONS) + " |"
        for now, row in report["swap_matrix"].items()
    ]
    lines += [
        "",
        "## By grade",
        "",
        "| grade | n | approval now | approval candidate | expected bad now | expected bad candidate |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {g} | {r['n']:,} | {percent(r['approval_rate_now'])} | {percent(r['approval_rate_candidate'])} | "
        f"{percent(r['expected_bad_rate_now'])} | {percent(r['expected_bad_rate_candidate'])} |"
        for g, r in report["by_grade"].items()
    ]
    lines += ["", "## Reasons that change most", "", "| reason | now | candidate | change |", "|---|---:|---:|---:|"]
    lines += [
        f"| {r['code']} | {r['now']:,} | {r['candidate']:,} | {r['change']:+,} |" for r in report["reason_changes"]
    ]
    lines += [
        "",
        "## Realised bad rate (applicants with a known outcome)",
        "",
        "| group | n | bad rate |",
        "|---|---:|---:|",
    ]
    lines += [f"| {g} | {v['n']:,} | {percent(v['bad_rate'])} |" for g, v in report["labelled"].items()]
    shadow = report["shadow"]
    lines += ["", "## Live champion vs challenger (rows scored in shadow)", ""]
    lines += [
        f"{shadow['rows']:,} rows carry a challenger's decision; it agrees with the champion's on "
        f"{percent(shadow['agreement'])}."
        if shadow["rows"]
        else "No stored row carries a challenger's decision."
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a retrained candidate replaces the champion, and why."""

    promote: bool
    why: str


def verdict(
    champion_auc: float, candidate_auc: float, report: Mapping[str, Any], min_gain: float, max_mix_shift: float
) -> Verdict:
    """Promote when the candidate's AUC beats the champion's by min_gain and no decision's share moves more
    than max_mix_shift (the agreed metric: out-of-time ROC AUC, the model card's headline figure)."""
    gain, shift = candidate_auc - champion_auc, mix_shift(report)
    figures = f"AUC {champion_auc:.4f} -> {candidate_auc:.4f} ({gain:+.4f}), largest mix shift {100 * shift:.1f} points"
    if gain < min_gain:
        return Verdict(False, f"stop: not better enough (needs {min_gain:+.4f}); {figures}")
    if shift > max_mix_shift:
        return Verdict(
            False, f"stop: the decision mix moves too much (limit {100 * max_mix_shift:.1f} points); {figures}"
        )
    return Verdict(True, f"promote: {figures}")
