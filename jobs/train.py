"""Train the risk model on every resolved loan of the shared LendingClub files (`make train`).

Fully Paid = good (0), Charged Off = bad (1), the "Does not meet the credit policy. Status:..." rows
mapped to their status; Current / Late / In Grace Period are excluded (no outcome yet). The three files
are read in SAMPLES order and de-duplicated by loan id (the first file's row wins). Only the canonical
applicant record (application-time fields) feeds the features.

The recipe (``fit_recipe``): the directional candidate features (``features.MODEL_CANDIDATES``), mean
imputation, standard scaling, L2 logistic regression; a feature whose coefficient takes the wrong sign
is dropped and the model refitted; C is chosen by stratified cross-validation (log-loss) on the
training part only.

Two validations, each running the whole recipe on its own training part:
* random: a seeded stratified 20 % held-out split; the shipped model is the one fitted on the other 80 %,
  so these held-out figures describe exactly the artifact in models/;
* out of time: trained on loans issued before OOT_CUTOFF, tested on loans issued from then on.
Both report the two baselines on the same splits: sub-grade alone (a logistic regression on the rank)
and model v1's recipe (all its features and categories, median imputation with missing indicators, C=0.5).

Writes together into models/: risk_model.skops (the Pipeline), risk_model.json (metadata) and MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import skops.io as sio
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from jobs import evaluate as ev
from jobs.model_card import render_card
from jobs.settings import ROOT, default_data_dir
from loanrisk import drift, features, reasons
from loanrisk.applicant import Applicant
from loanrisk.cleaning import Rejection, clean_record, loan_outcome
from loanrisk.digests import sha256_file
from loanrisk.prescreen import PrescreenPolicy, decline_reasons

SAMPLES = ("lending_club_sample.csv", "lending_club_2015_sample.csv", "lending_club_2007_2011.csv")
MODELS_DIR = ROOT / "models"
POLICY_FILE = ROOT / "config" / "risk_policy.json"
ARTIFACT = "risk_model.skops"
METADATA = "risk_model.json"
CARD = "MODEL_CARD.md"
SEED = ev.SEED
HOLDOUT = 0.2
OOT_CUTOFF = "2011-01"  # train on loans issued before January 2011 (20,795), test on the later ones
C_GRID = (0.001, 0.01, 0.1, 1.0)
SELECTION_C = 1.0  # the sign check runs at weak regularisation, where a wrong sign is the data's, not the penalty's
# Model v1's recipe, the second baseline: its features, categories, directional signs and fixed C.
V1_NUMERIC = features.V1_NUMERIC_FEATURES
V1_CATEGORICAL = ("home_ownership", "verification_status", "purpose", "application_type")
V1_SIGNS = {"dti": 1, "revol_util": 1, "fico_mid": -1, "log_annual_inc": -1, "installment_to_income": 1}
V1_C = 0.5
# Policy cut-off targets against the 15 % base rate: APPROVE where at most 8 in 100 default (about half the
# base rate), DECLINE where at least 35 in 100 do (more than twice it: a 36-month loan at LendingClub's rates
# loses money at that default rate); REVIEW, a human underwriter, in between.
APPROVE_BAD_RATE = 0.08
DECLINE_BAD_RATE = 0.35


def read_resolved(path: Path) -> tuple[list[Applicant], list[int], Counter[str]]:
    """Read one LendingClub CSV: applicants and outcomes of its resolved loans, and what was dropped."""
    applicants: list[Applicant] = []
    labels: list[int] = []
    dropped: Counter[str] = Counter()
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            outcome = loan_outcome(row.get("loan_status") or "")
            if outcome is None:
                dropped["unresolved"] += 1
                continue
            record = clean_record(row)
            if isinstance(record, Rejection):
                dropped[f"rejected:{record.reason}"] += 1
                continue
            applicants.append(record)
            labels.append(outcome)
    return applicants, labels, dropped


def load_training_data(
    data_dir: Path, extra: Sequence[tuple[Applicant, int]] = ()
) -> tuple[list[Applicant], np.ndarray, dict[str, Any]]:
    """Read every shared file, then ``extra`` (stored history with outcomes, for `make retrain`), de-duplicated
    by id (the first row wins); return applicants, labels and a provenance summary."""
    by_id: dict[str, tuple[Applicant, int]] = {}
    files: dict[str, dict[str, Any]] = {}
    for name in SAMPLES:
        path = data_dir / name
        found, outcomes, dropped = read_resolved(path)
        duplicates = sum(1 for a in found if a.id in by_id)
        for applicant, outcome in zip(found, outcomes, strict=True):
            by_id.setdefault(applicant.id, (applicant, outcome))
        files[name] = {
            "sha256": sha256_file(path),
            "resolved_loans": len(found),
            "duplicate_ids_dropped": duplicates,
            "dropped": dict(dropped),
        }
    added = 0
    for applicant, outcome in extra:
        added += applicant.id not in by_id
        by_id.setdefault(applicant.id, (applicant, outcome))
    applicants = [a for a, _ in by_id.values()]
    labels = np.asarray([y for _, y in by_id.values()], dtype=int)
    history = hashlib.sha256("".join(f"{a.id}:{y}" for a, y in extra).encode()).hexdigest() if extra else ""
    combined = hashlib.sha256(("".join(f["sha256"] for f in files.values()) + history).encode()).hexdigest()
    provenance: dict[str, Any] = {"files": files, "sha256": combined, "rows": len(labels), "bad": int(labels.sum())}
    if extra:
        provenance["stored_history"] = {"offered": len(extra), "added": added, "sha256": history}
    return applicants, labels, provenance


def frame(applicants: list[Applicant]) -> pd.DataFrame:
    """Return the model inputs of applicants as a DataFrame with one column per feature."""
    return pd.DataFrame(features.feature_columns(applicants), columns=list(features.FEATURE_NAMES))


def wrong_signs(pipeline: Pipeline, numeric: list[str], signs: dict[str, int]) -> list[str]:
    """Return the directional features whose fitted coefficient has the wrong sign, most wrong first."""
    names = list(pipeline[:-1].get_feature_names_out())
    coef = pipeline[-1].coef_[0]
    wrong = [
        (coef[names.index(f)] * signs[f], f) for f in numeric if f in signs and coef[names.index(f)] * signs[f] < 0
    ]
    return [f for _, f in sorted(wrong)]


def fit_signed(
    x: pd.DataFrame,
    y: np.ndarray,
    numeric: list[str],
    c: float,
    categorical: tuple[str, ...] = (),
    signs: dict[str, int] = features.DIRECTIONAL_SIGNS,
    v1: bool = False,
) -> tuple[Pipeline, list[str]]:
    """Fit, dropping the most wrongly signed feature until every sign is right; return model and drops."""
    numeric = list(numeric)
    dropped: list[str] = []
    while True:
        pipeline = ev.plain_pipeline(
            numeric, list(categorical), c, indicators=v1, strategy="median" if v1 else "mean"
        ).fit(x, y)
        wrong = wrong_signs(pipeline, numeric, signs)
        if not wrong:
            return pipeline, dropped
        numeric.remove(wrong[0])
        dropped.append(wrong[0])


def choose_c(x: pd.DataFrame, y: np.ndarray, numeric: list[str]) -> tuple[float, dict[str, dict[str, float]]]:
    """Return the C of C_GRID with the lowest cross-validated log-loss, and every C's CV figures."""
    results = {str(c): ev.cross_validated(functools.partial(ev.plain_pipeline, numeric, [], c), x, y) for c in C_GRID}
    best = min(C_GRID, key=lambda c: results[str(c)]["log_loss"])
    return best, results


def fit_recipe(x: pd.DataFrame, y: np.ndarray) -> tuple[Pipeline, dict[str, Any]]:
    """Run the whole recipe on a training set: sign-constrained selection, C by CV, final signed fit."""
    _, dropped = fit_signed(x, y, list(features.MODEL_CANDIDATES), SELECTION_C)
    numeric = [f for f in features.MODEL_CANDIDATES if f not in dropped]
    c, cv = choose_c(x, y, numeric)
    model, dropped_late = fit_signed(x, y, numeric, c)
    numeric = [f for f in numeric if f not in dropped_late]
    return model, {"C": c, "cv_by_C": cv, "numeric": numeric, "dropped_for_wrong_sign": dropped + dropped_late}


def fit_v1(x: pd.DataFrame, y: np.ndarray) -> Pipeline:
    """Fit model v1's recipe (the 'today's model' baseline)."""
    return fit_signed(x, y, list(V1_NUMERIC), V1_C, V1_CATEGORICAL, V1_SIGNS, v1=True)[0]


def fit_sub_grade(x: pd.DataFrame, y: np.ndarray) -> Pipeline:
    """Fit the sub-grade-alone baseline: a logistic regression on the sub-grade rank."""
    return ev.plain_pipeline(["sub_grade_rank"], [], 1.0).fit(x, y)


def validate(
    x: pd.DataFrame, y: np.ndarray, grades: np.ndarray, train: np.ndarray, test: np.ndarray
) -> tuple[Pipeline, dict[str, Any], np.ndarray]:
    """Run the recipe and both baselines on one split; return the model, the report and its test predictions."""
    model, recipe = fit_recipe(x.iloc[train], y[train])
    p = model.predict_proba(x.iloc[test])[:, 1]
    baselines: dict[str, dict[str, float]] = {}
    report = {
        "train_n": len(train),
        "train_bad": int(y[train].sum()),
        "recipe": recipe,
        "model": ev.split_report(y[train], y[test], p, grades[test]),
        "baselines": baselines,
    }
    for name, fit in (("sub_grade_alone", fit_sub_grade), ("model_v1_recipe", fit_v1)):
        q = fit(x.iloc[train], y[train]).predict_proba(x.iloc[test])[:, 1]
        baselines[name] = {**ev.scores(y[test], q), "mean_predicted": float(q.mean())}
    return model, report, p


def experiments(x: pd.DataFrame, y: np.ndarray, numeric: list[str], c: float) -> dict[str, dict[str, float]]:
    """Return the CV figures of the variants tried against the shipped recipe (on the training part only)."""
    extra = x.assign(
        term_x_grade=x["term_60"] * x["sub_grade_rank"],
        income_over_150k=np.maximum(x["log_annual_inc"] - np.log(150_000.0), 0.0),
        fico_under_700=np.maximum(700.0 - x["fico_mid"], 0.0),
        **{f"inq_bin_{k}": (x["inq_last_6mths"].clip(upper=4) == k).astype(float) for k in range(1, 5)},
    )
    bins = [f"inq_bin_{k}" for k in range(1, 5)]
    variants: dict[str, tuple[list[str], list[str], str | None]] = {
        "shipped recipe": (numeric, [], None),
        "class_weight=balanced": (numeric, [], "balanced"),
        "+ interaction term_60 x sub_grade_rank": ([*numeric, "term_x_grade"], [], None),
        "+ hinges (spline knots): income over 150k, FICO under 700": (
            [*numeric, "income_over_150k", "fico_under_700"],
            [],
            None,
        ),
        "inquiries binned 0/1/2/3/4+ instead of linear": (
            [f for f in numeric if f != "inq_last_6mths"] + bins,
            [],
            None,
        ),
        "+ purpose and home_ownership categories (no defensible direction)": (
            numeric,
            ["purpose", "home_ownership"],
            None,
        ),
    }
    return {
        name: ev.cross_validated(functools.partial(ev.plain_pipeline, n, k, c, class_weight=w), extra, y)
        for name, (n, k, w) in variants.items()
    }


def git(*args: str) -> str:
    """Return the output of a git command run in the repository."""
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def code_version() -> str:
    """Return the git commit of the code (+dirty when the training code has uncommitted changes), or 'unknown'."""
    try:
        dirty = git(
            "status",
            "--porcelain",
            "--",
            "jobs/train.py",
            "jobs/evaluate.py",
            "jobs/model_card.py",
            "src/loanrisk/features.py",
            "src/loanrisk/reasons.py",
        )
        return git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def model_version(data_sha: str, numeric: list[str], c: float) -> str:
    """Return a version derived from the data, the features and the settings: same inputs, same version."""
    recipe = json.dumps(
        {"data": data_sha, "features": numeric, "C": c, "seed": SEED, "recipe": 2, "sklearn": sklearn.__version__},
        sort_keys=True,
    )
    return "lr2-" + hashlib.sha256(recipe.encode()).hexdigest()[:12]


def split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the seeded, stratified training and held-out row indices."""
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=HOLDOUT, stratify=y, random_state=SEED)
    return idx_train, idx_test


def out_of_time_split(applicants: list[Applicant]) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows issued before OOT_CUTOFF and those issued from it on (unknown issue dates: neither)."""
    issued = np.array([a.issue_d or "" for a in applicants])
    return np.where((issued != "") & (issued < OOT_CUTOFF))[0], np.where(issued >= OOT_CUTOFF)[0]


def prescreen_declines(applicants: list[Applicant]) -> np.ndarray:
    """Return which applicants the default pre-screen policy declines before the model sees them."""
    policy = PrescreenPolicy()
    return np.array([bool(decline_reasons(a.to_dict(), policy)) for a in applicants])


def column_map(pipeline: Pipeline) -> list[dict[str, str]]:
    """Return, for every model column, its name, the reason factor it belongs to and its kind."""
    return [
        {"name": n, "factor": reasons.FACTOR_OF_FEATURE[n], "kind": "value"}
        for n in pipeline[:-1].get_feature_names_out()
    ]


def reference_row(model: Pipeline, x: pd.DataFrame) -> list[float]:
    """Return the reference applicant in model columns: the mean transformed training applicant."""
    return [float(v) for v in np.asarray(model[:-1].transform(x)).mean(axis=0)]


def reference_distribution(x: pd.DataFrame, numeric: list[str], p: np.ndarray) -> dict[str, Any]:
    """Return the training distribution of each model input and of the predicted probability (`make drift`)."""
    columns = {name: x[name].to_numpy(dtype=float) for name in numeric} | {drift.PROBABILITY: p}
    return {"bins": drift.BINS, "on": "training split", "variables": drift.references(columns)}


def train(data_dir: Path, out: Path, policy_file: Path, extra: Sequence[tuple[Applicant, int]] = ()) -> dict[str, Any]:
    """Run the whole training job and return the metadata it wrote."""
    applicants, y, provenance = load_training_data(data_dir, extra)
    x = frame(applicants)
    grades = np.array([a.grade for a in applicants])
    idx_train, idx_test = split(y)
    model, random_report, p_test = validate(x, y, grades, idx_train, idx_test)
    oot_train, oot_test = out_of_time_split(applicants)
    _, oot_report, p_oot = validate(x, y, grades, oot_train, oot_test)
    recipe = random_report["recipe"]
    policy = json.loads(policy_file.read_text())
    prescreened = prescreen_declines(applicants)
    p_train = model.predict_proba(x.iloc[idx_train])[:, 1]
    names = list(model[:-1].get_feature_names_out())
    meta = {
        "model_version": model_version(provenance["sha256"], recipe["numeric"], recipe["C"]),
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "code_version": code_version(),
        "sklearn_version": sklearn.__version__,
        "python_version": sys.version.split()[0],
        "seed": SEED,
        "estimator": {
            "type": "LogisticRegression",
            "C": recipe["C"],
            "penalty": "l2",
            "intercept": float(model[-1].intercept_[0]),
            "imputation": "mean",
            "scaling": "standard",
        },
        "training_data": provenance,
        "target": "1 = Charged Off (default), 0 = Fully Paid",
        "features": {
            "numeric": recipe["numeric"],
            "categorical": [],
            "candidates": list(features.MODEL_CANDIDATES),
            "dropped_for_wrong_sign": recipe["dropped_for_wrong_sign"],
            "directional_signs": features.DIRECTIONAL_SIGNS,
        },
        "columns": column_map(model),
        "coefficients": dict(zip(names, map(float, model[-1].coef_[0]), strict=True)),
        "reference": reference_row(model, x.iloc[idx_train]),
        "metrics": {
            "random": random_report,
            "out_of_time": {"cutoff": OOT_CUTOFF, **oot_report},
            "experiments": experiments(x.iloc[idx_train], y[idx_train], recipe["numeric"], recipe["C"]),
            # kept flat for the API's /v1/model readers and the behaviour tests
            "holdout": {k: v for k, v in random_report["model"].items() if k not in ("calibration", "per_grade")},
        },
        "policy": policy,
        "policy_tuning": {
            "approve_bad_rate_target": APPROVE_BAD_RATE,
            "decline_bad_rate_target": DECLINE_BAD_RATE,
            "on": "training split, predictions of the shipped model",
            **ev.tune_cutoffs(y[idx_train], p_train, APPROVE_BAD_RATE, DECLINE_BAD_RATE),
        },
        "decision_mix_holdout": ev.decision_mix(y[idx_test], p_test, policy),
        "decision_mix_out_of_time": ev.decision_mix(y[oot_test], p_oot, policy),
        "prescreen_policy": PrescreenPolicy().policy_version,
        "pipeline_mix_holdout": ev.decision_mix(y[idx_test], p_test, policy, prescreened[idx_test]),
        "pipeline_mix_out_of_time": ev.decision_mix(y[oot_test], p_oot, policy, prescreened[oot_test]),
        "reference_distribution": reference_distribution(x.iloc[idx_train], recipe["numeric"], p_train),
    }
    save(model, meta, out)
    return meta


def save(model: Pipeline, meta: dict[str, Any], out: Path) -> None:
    """Write artifact, metadata (with the artifact's sha256) and model card together into out/."""
    out.mkdir(parents=True, exist_ok=True)
    artifact = out / ARTIFACT
    sio.dump(model, artifact)
    meta["artifact"] = {
        "file": ARTIFACT,
        "sha256": sha256_file(artifact),
        "format": "skops",
        "trusted_types": sorted(sio.get_untrusted_types(file=artifact)),
    }
    (out / METADATA).write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
    (out / CARD).write_text(render_card(meta))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, train, and print the headline figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    parser.add_argument("--policy", type=Path, default=POLICY_FILE)
    args = parser.parse_args(argv)
    if args.data_dir is None or not all((args.data_dir / s).exists() for s in SAMPLES):
        print(f"error: the shared files {SAMPLES} are not in {args.data_dir} (set LOANRISK_DATA_DIR)", file=sys.stderr)
        return 2
    started = time.monotonic()
    meta = train(args.data_dir, args.out, args.policy)
    m, data = meta["metrics"], meta["training_data"]
    print(
        f"model {meta['model_version']}: {data['rows']} resolved loans ({data['bad']} bad), "
        f"C={meta['estimator']['C']}, "
        f"dropped for sign: {meta['features']['dropped_for_wrong_sign']}"
    )
    for name in ("random", "out_of_time"):
        r = m[name]["model"]
        base = "  ".join(f"{b} AUC {v['roc_auc']:.4f}" for b, v in m[name]["baselines"].items())
        print(
            f"{name}: n={r['n']} AUC {r['roc_auc']:.4f} Brier {r['brier']:.4f} "
            f"(base rate {r['brier_base_rate']:.4f}); {base}"
        )
    tuning = meta["policy_tuning"]
    print(f"tuned cut-offs: approve below {tuning['approve_below']}, decline at {tuning['decline_at']}")
    print(
        f"wrote {args.out / ARTIFACT}, {args.out / METADATA}, {args.out / CARD} in {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
