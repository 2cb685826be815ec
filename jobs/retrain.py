"""Scheduled retraining (`make retrain`): train a candidate, re-score history against the champion, maybe promote.

    python -m jobs.retrain [--since ISO] [--min-gain 0.002] [--max-mix-shift 0.05] [--no-promote]

1. Stored history: the applicants in HBase received since ``--since`` (all without it) whose realised outcome
   is known (loan_status of the shared LendingClub files, joined on the id) are added to the shared loans.
2. A candidate is trained by jobs.train's own recipe into var/retrain/<time>/model.
3. `make rescore`'s job re-scores the stored history with the candidate under the champion's policy.
4. Verdict (``loanrisk.rescore.verdict``): promote when the candidate's out-of-time ROC AUC beats the
   champion's by ``--min-gain`` and no decision's share moves more than ``--max-mix-shift``; else stop.
   Promotion copies artifact, metadata and card into models/ (artifact first: until the metadata follows,
   risk_api/model.py's sha256 check refuses the pair, so no half-promoted model is ever loaded); a running
   Risk API takes it at its next start or by the promotion command of the README's "Decision lab".
The comparison is written to var/retrain/<time>/comparison.json whatever the verdict.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from jobs import rescore as rescore_job
from jobs import train as train_job
from jobs.settings import ROOT, Settings, default_data_dir
from loanrisk import events as ev
from loanrisk import rescore
from loanrisk.applicant import Applicant
from risk_api.model import ARTIFACT, METADATA, load_model
from risk_api.service import RiskService, load_policy

OUT_DIR = ROOT / "var" / "retrain"
CHAMPION_DIR = ROOT / "models"
FILES = (ARTIFACT, METADATA, train_job.CARD)  # in promotion order
HISTORY_COLUMNS = ev.stored_columns([ev.COL_APPLICANT_JSON, ev.COL_KAFKA_TS])


def out_of_time_auc(metadata: dict[str, Any]) -> float:
    """Return the agreed metric of a model: its out-of-time ROC AUC."""
    return float(metadata["metrics"]["out_of_time"]["model"]["roc_auc"])


def labelled_history(conn: Any, window: rescore_job.Window, labels: dict[str, bool]) -> list[tuple[Applicant, int]]:
    """Return the stored applicants of the window whose outcome is known, with the outcome."""
    found = []
    scan = conn.table(ev.TABLE).scan(columns=HISTORY_COLUMNS, batch_size=5000)
    for key, stored in scan:
        cols = ev.cells(stored)  # any row schema
        app_id = key.decode()
        if app_id in labels and window.holds(int(cols.get(ev.COL_KAFKA_TS, b"0"))):
            found.append((Applicant(**orjson.loads(cols[ev.COL_APPLICANT_JSON])), int(labels[app_id])))
    return found


def promote(candidate_dir: Path, champion_dir: Path) -> None:
    """Copy the candidate's files over the champion's, each atomically, artifact first."""
    for name in FILES:
        if not (candidate_dir / name).exists() and name == train_job.CARD:
            continue  # the card documents; artifact and metadata are what the API loads
        tmp = champion_dir / f".{name}.promoting"
        shutil.copyfile(candidate_dir / name, tmp)
        tmp.replace(champion_dir / name)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jobs.retrain", description=__doc__.splitlines()[0])
    parser.add_argument("--since", default=None, help="stored history received since (ISO time or epoch ms)")
    parser.add_argument("--min-gain", type=float, default=0.002, help="out-of-time AUC gain needed to promote")
    parser.add_argument("--max-mix-shift", type=float, default=0.05, help="largest allowed change of a decision share")
    parser.add_argument("--no-promote", action="store_true", help="write the comparison, never promote")
    parser.add_argument("--policy", type=Path, default=train_job.POLICY_FILE)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Retrain, compare, and promote or stop; print the verdict."""
    args = parse_args(argv)
    data_dir = default_data_dir()
    champion = load_model(CHAMPION_DIR)
    policy = load_policy(args.policy, {})
    if data_dir is None or isinstance(champion, str) or isinstance(policy, str):
        problem = (
            "no shared data folder (LOANRISK_DATA_DIR)"
            if data_dir is None
            else champion
            if isinstance(champion, str)
            else policy
        )
        print(f"error: {problem}", file=sys.stderr)
        return 2
    run_dir = args.out / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    window = rescore_job.Window(rescore_job.parse_time(args.since), None)
    labels = rescore_job.read_labels(data_dir)
    settings = Settings.load()
    conn = rescore_job.hbase_connection(settings)
    try:
        history = labelled_history(conn, window, labels)
    finally:
        conn.close()  # training takes minutes: the Thrift server drops an idle connection before it ends
    print(f"stored history: {len(history):,} labelled applicants; training the candidate ...", file=sys.stderr)
    meta = train_job.train(data_dir, run_dir / "model", args.policy, history)
    candidate = load_model(run_dir / "model")
    if isinstance(candidate, str):
        print(f"error: {candidate}", file=sys.stderr)
        return 2
    service = RiskService(candidate, policy)
    state = rescore_job.State(rescore_job.candidate_key(service), window, None, rescore.Tally())
    conn = rescore_job.hbase_connection(settings)
    try:
        state = rescore_job.run(conn, service, labels, state, run_dir / "rescore.state.json")
    finally:
        conn.close()
    report, text = rescore_job.write_report(state, run_dir)
    decided = rescore.verdict(
        out_of_time_auc(champion.metadata), out_of_time_auc(meta), report, args.min_gain, args.max_mix_shift
    )
    promoted = decided.promote and not args.no_promote
    if promoted:
        promote(run_dir / "model", CHAMPION_DIR)
    comparison = {
        "champion": champion.version,
        "candidate": candidate.version,
        "verdict": decided.why,
        "promoted": promoted,
        "training_data": meta["training_data"],
        "rescore": report,
    }
    (run_dir / "comparison.json").write_text(json.dumps(comparison, indent=2) + "\n")
    print(text)
    print(f"{decided.why}{'' if promoted or not decided.promote else ' (not promoted: --no-promote)'}")
    print(f"wrote {run_dir}/comparison.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
