"""Train the risk model on the resolved loans of the shared LendingClub samples (`make train`).

Fully Paid = good (0), Charged Off = bad (1), the "Does not meet the credit policy. Status:..." rows
mapped to their status; Current / Late / In Grace Period are excluded (no outcome yet). Only the
canonical applicant record (application-time fields) feeds the features.

Evaluation is honest: a stratified held-out split (20 %) is set aside first; stratified 5-fold
cross-validation runs on the rest; the shipped model is the one fitted on the training split, so the
held-out metrics describe exactly the artifact in models/. Everything is seeded.

Writes together into models/: risk_model.skops (the Pipeline), risk_model.json (metadata: version,
data sha256, features, scikit-learn version, metrics, thresholds, reason-code columns) and MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from jobs.settings import ROOT, default_data_dir
from loanrisk import features
from loanrisk.applicant import Applicant
from loanrisk.cleaning import Rejection, clean_record, loan_outcome
from loanrisk.decision import decide, policy_from_mapping

SAMPLES = ("lending_club_sample.csv", "lending_club_2015_sample.csv")
MODELS_DIR = ROOT / "models"
POLICY_FILE = ROOT / "config" / "risk_policy.json"
ARTIFACT = "risk_model.skops"
METADATA = "risk_model.json"
CARD = "MODEL_CARD.md"
SEED = 20261122
HOLDOUT = 0.2
FOLDS = 5
C = 0.5  # fixed before evaluation (no tuning on these data), so CV and held-out figures stay unbiased
MIN_CATEGORY_COUNT = 10


def sha256_file(path: Path) -> str:
    """Return the sha256 hex digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_resolved(path: Path) -> tuple[list[Applicant], list[int], Counter]:
    """Read one LendingClub CSV: applicants and outcomes of its resolved loans, and what was dropped."""
    applicants, labels, dropped = [], [], Counter()
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


def load_training_data(data_dir: Path) -> tuple[list[Applicant], np.ndarray, dict[str, Any]]:
    """Read every shared sample; return applicants, labels and a provenance summary."""
    applicants: list[Applicant] = []
    labels: list[int] = []
    files = {}
    for name in SAMPLES:
        path = data_dir / name
        found, outcomes, dropped = read_resolved(path)
        applicants += found
        labels += outcomes
        files[name] = {"sha256": sha256_file(path), "resolved_loans": len(found), "dropped": dict(dropped)}
    combined = hashlib.sha256("".join(f["sha256"] for f in files.values()).encode()).hexdigest()
    provenance = {"files": files, "sha256": combined, "rows": len(labels), "bad": int(sum(labels))}
    return applicants, np.asarray(labels, dtype=int), provenance


def frame(applicants: list[Applicant]) -> pd.DataFrame:
    """Return the model inputs of applicants as a DataFrame with one column per feature."""
    return pd.DataFrame(features.feature_columns(applicants), columns=list(features.FEATURE_NAMES))


def build_pipeline(numeric: list[str]) -> Pipeline:
    """Return the unfitted Pipeline: impute + scale numbers, one-hot categories, logistic regression."""
    prepare = ColumnTransformer(
        [
            ("num", Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True)),
                              ("scale", StandardScaler())]), numeric),
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=MIN_CATEGORY_COUNT),
             list(features.CATEGORICAL_FEATURES)),
        ],
        verbose_feature_names_out=False,
    )
    model = LogisticRegression(C=C, max_iter=2000, random_state=SEED)
    return Pipeline([("prepare", prepare), ("model", model)])


def wrong_signs(pipeline: Pipeline, numeric: list[str]) -> list[str]:
    """Return the directional features whose fitted coefficient has the wrong sign."""
    names = list(pipeline[:-1].get_feature_names_out())
    coef = pipeline[-1].coef_[0]
    return [f for f in numeric if f in features.DIRECTIONAL_SIGNS
            and coef[names.index(f)] * features.DIRECTIONAL_SIGNS[f] < 0]


def fit_constrained(x: pd.DataFrame, y: np.ndarray) -> tuple[Pipeline, list[str]]:
    """Fit, dropping directional features whose coefficient takes the wrong sign; return model and drops."""
    numeric, dropped = list(features.NUMERIC_FEATURES), []
    while True:
        pipeline = build_pipeline(numeric).fit(x, y)
        wrong = wrong_signs(pipeline, numeric)
        if not wrong:
            return pipeline, dropped
        numeric.remove(wrong[0])
        dropped.append(wrong[0])


def ks_statistic(y: np.ndarray, p: np.ndarray) -> float:
    """Return the Kolmogorov-Smirnov separation between the score distributions of bad and good."""
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Return ROC AUC, KS and Brier score of predictions p for outcomes y."""
    return {"roc_auc": float(roc_auc_score(y, p)), "ks": ks_statistic(y, p), "brier": float(brier_score_loss(y, p))}


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Return, per decile of predicted probability, the count, mean prediction and observed bad rate."""
    order = np.argsort(p, kind="stable")
    return [
        {"bin": i + 1, "n": int(len(idx)), "mean_predicted": float(p[idx].mean()),
         "observed_bad_rate": float(y[idx].mean()), "min_p": float(p[idx].min()), "max_p": float(p[idx].max())}
        for i, idx in enumerate(np.array_split(order, bins))
    ]


def per_grade(grades: np.ndarray, y: np.ndarray, p: np.ndarray) -> dict[str, dict[str, float | int | None]]:
    """Return count, observed bad rate, mean prediction and within-grade AUC for each grade."""
    table = {}
    for grade in sorted(set(grades)):
        mask = grades == grade
        both = len(set(y[mask])) == 2
        table[grade] = {"n": int(mask.sum()), "observed_bad_rate": float(y[mask].mean()),
                        "mean_predicted": float(p[mask].mean()),
                        "roc_auc": float(roc_auc_score(y[mask], p[mask])) if both else None}
    return table


def cross_validate(x: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    """Return per-fold and mean/std ROC AUC, KS and Brier from stratified k-fold on x, y."""
    folds = []
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(x, y):
        model, _ = fit_constrained(x.iloc[train], y[train])
        folds.append(scores(y[test], model.predict_proba(x.iloc[test])[:, 1]))
    summary = {k: {"mean": float(np.mean([f[k] for f in folds])), "std": float(np.std([f[k] for f in folds]))}
               for k in folds[0]}
    return {"folds": FOLDS, "per_fold": folds, **summary}


def decision_mix(y: np.ndarray, p: np.ndarray, policy_config: dict[str, Any]) -> dict[str, Any]:
    """Return share and observed bad rate of each decision under the configured policy."""
    policy = policy_from_mapping(policy_config)
    if isinstance(policy, str):
        raise SystemExit(policy)
    decisions = np.array([decide(float(v), policy) for v in p])
    return {d: {"share": float((decisions == d).mean()),
                "observed_bad_rate": float(y[decisions == d].mean()) if (decisions == d).any() else None}
            for d in ("APPROVE", "REVIEW", "DECLINE")}


def column_map(pipeline: Pipeline, numeric: list[str]) -> list[dict[str, str]]:
    """Return, for every model column, its name, the reason factor it belongs to and its kind."""
    columns = []
    for name in pipeline[:-1].get_feature_names_out():
        if name in numeric:
            columns.append({"name": name, "factor": name, "kind": "value"})
        elif name.startswith("missingindicator_"):
            columns.append({"name": name, "factor": name.removeprefix("missingindicator_"), "kind": "missing"})
        else:
            factor = next(c for c in features.CATEGORICAL_FEATURES if name.startswith(c + "_"))
            columns.append({"name": name, "factor": factor, "kind": "category"})
    return columns


def git(*args: str) -> str:
    """Return the output of a git command run in the repository."""
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def code_version() -> str:
    """Return the git commit of the code (+dirty when the training code has uncommitted changes), or 'unknown'."""
    try:
        dirty = git("status", "--porcelain", "--", "jobs/train.py", "src/loanrisk/features.py")
        return git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def model_version(data_sha: str, numeric: list[str]) -> str:
    """Return a version derived from the data, the features and the settings: same inputs, same version."""
    recipe = json.dumps({"data": data_sha, "features": numeric, "cat": features.CATEGORICAL_FEATURES,
                         "C": C, "seed": SEED, "sklearn": sklearn.__version__}, sort_keys=True)
    return "lr-" + hashlib.sha256(recipe.encode()).hexdigest()[:12]


def split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the seeded, stratified training and held-out row indices."""
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=HOLDOUT, stratify=y, random_state=SEED)
    return idx_train, idx_test


def evaluate(applicants: list[Applicant], y: np.ndarray) -> tuple[Pipeline, list[str], dict[str, Any], Any]:
    """Split, cross-validate, fit the shipped model and score it on the held-out split."""
    x = frame(applicants)
    grades = np.array([a.grade for a in applicants])
    idx_train, idx_test = split(y)
    cv = cross_validate(x.iloc[idx_train], y[idx_train])
    model, dropped = fit_constrained(x.iloc[idx_train], y[idx_train])
    p = model.predict_proba(x.iloc[idx_test])[:, 1]
    grade_only = x["sub_grade_rank"].to_numpy()[idx_test]
    metrics = {
        "cross_validation": cv,
        "holdout": {"n": int(len(idx_test)), "bad": int(y[idx_test].sum()), **scores(y[idx_test], p),
                    "sub_grade_only_roc_auc": float(roc_auc_score(y[idx_test], grade_only)),
                    "mean_predicted": float(p.mean()), "observed_bad_rate": float(y[idx_test].mean()),
                    # Brier of always forecasting the training base rate: the bar a useful model must beat
                    "brier_base_rate": float(brier_score_loss(y[idx_test], np.full(len(p), y[idx_train].mean())))},
        "calibration_holdout": calibration_table(y[idx_test], p),
        "per_grade_holdout": per_grade(grades[idx_test], y[idx_test], p),
        "train": {"n": int(len(idx_train)), "bad": int(y[idx_train].sum())},
    }
    return model, dropped, metrics, (y[idx_test], p)


def reference_row(model: Pipeline, x: pd.DataFrame) -> list[float]:
    """Return the reference applicant in model columns: the mean transformed training applicant."""
    return [float(v) for v in np.asarray(model[:-1].transform(x)).mean(axis=0)]


def markdown_table(header: list[str], rows: list[list[object]]) -> list[str]:
    """Return the lines of a Markdown table."""
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]


def render_card(meta: dict[str, Any]) -> str:
    """Return the model card (Markdown) for the metadata of a trained model."""
    m, data = meta["metrics"], meta["training_data"]
    cv, ho = m["cross_validation"], m["holdout"]
    lines = [
        f"# Model card: loan default risk, {meta['model_version']}",
        "",
        "Generated by `make train` (`python -m jobs.train`); do not edit by hand.",
        "",
        "## What it is",
        f"Logistic regression (scikit-learn {meta['sklearn_version']}, L2, C={meta['estimator']['C']}) in a Pipeline",
        "(median imputation with missing-value indicators, standard scaling, one-hot encoding). It predicts the",
        "probability that a LendingClub loan is charged off (default) rather than fully paid, from application-time",
        "fields only (the canonical applicant record; nothing derived from payments or loan status).",
        "Intended use: the Risk API's APPROVE / REVIEW / DECLINE decision with reason codes in this demo pipeline.",
        "Not validated for real lending decisions.",
        "",
        "## Data",
        f"{data['rows']} resolved loans ({data['bad']} charged off, {data['bad'] / data['rows']:.1%}) from the shared",
        "LendingClub samples (see ../shared/data/PROVENANCE*.md); Current / Late / In Grace loans excluded.",
        f"Training data sha256 (of the files' sha256s): `{data['sha256']}`.",
        "",
        "## Features",
        "Numeric: " + ", ".join(f"`{f}`" for f in meta["features"]["numeric"]) + ".",
        "Categorical: " + ", ".join(f"`{f}`" for f in meta["features"]["categorical"]) + ".",
        "Directional features must have a coefficient of the documented sign (else they are dropped and the model",
        f"refitted); dropped this run: {meta['features']['dropped_for_wrong_sign'] or 'none'}.",
        "Not used: id, emp_title, title, zip_code, addr_state (identifiers, free text, geography as a proxy).",
        "",
        "## Evaluation (out of sample)",
        f"Stratified held-out split of {HOLDOUT:.0%} ({ho['n']} loans, {ho['bad']} bad), set aside first; stratified",
        f"{cv['folds']}-fold cross-validation on the remaining {m['train']['n']}; the shipped model is the one fitted",
        "on that training split, so the held-out figures describe this artifact. Hyperparameters were fixed, not tuned.",
        "",
    ]
    lines += markdown_table(["metric", f"CV mean ({cv['folds']} folds)", "CV std", "held-out"], [
        [k, cv[k]["mean"], cv[k]["std"], ho[k]] for k in ("roc_auc", "ks", "brier")])
    lines += ["", f"Sub-grade alone on the held-out split: ROC AUC {ho['sub_grade_only_roc_auc']:.3f}. "
              f"Brier of a constant base-rate forecast: {ho['brier_base_rate']:.3f}. Mean predicted default "
              f"{ho['mean_predicted']:.3f} vs observed {ho['observed_bad_rate']:.3f}.", "",
              "### Calibration (held-out, deciles of predicted probability)", ""]
    lines += markdown_table(["decile", "n", "mean predicted", "observed bad rate"], [
        [c["bin"], c["n"], c["mean_predicted"], c["observed_bad_rate"]] for c in m["calibration_holdout"]])
    lines += ["", "### Per grade (held-out)", ""]
    lines += markdown_table(["grade", "n", "observed bad rate", "mean predicted", "ROC AUC within grade"], [
        [g, r["n"], r["observed_bad_rate"], r["mean_predicted"], r["roc_auc"]] for g, r in m["per_grade_holdout"].items()])
    lines += ["", "## Coefficients (numeric features, per standard deviation, log-odds of default)", "",
              "Signs are constrained only for the directional features; the others are as learned. Small ones with",
              "unintuitive signs are noise-level at this sample size, yet can appear as low-ranked reason codes.", ""]
    coefficients = meta["coefficients"]
    lines += markdown_table(["feature", "coefficient", "directional"], [
        [f, coefficients[f], "yes" if f in meta["features"]["directional_signs"] else ""]
        for f in meta["features"]["numeric"]])
    policy, mix = meta["policy"], meta["decision_mix_holdout"]
    lines += ["", "## Decision policy", "",
              f"`{policy['policy_version']}` (config/risk_policy.json): APPROVE below {policy['approve_below']},",
              f"DECLINE at or above {policy['decline_at']}, REVIEW in between. On the held-out split:", ""]
    lines += markdown_table(["decision", "share", "observed bad rate"], [
        [d, r["share"], r["observed_bad_rate"]] for d, r in mix.items()])
    lines += ["", "## Limits", "",
              "- Small sample (about two thousand resolved loans); the figures carry sampling noise of a few AUC points.",
              "- Loans resolved by the snapshot date over-represent early payoffs and early charge-offs of recent vintages.",
              "- LendingClub's own grade and interest rate are inputs: the model refines the lender's grade, it does not replace it.",
              "- Accepted loans only (no reject inference); approvals may not generalise to applicants LendingClub declined.",
              "- Reason codes compare with the average training applicant and explain this linear model exactly.",
              "- One design change was made after looking at fitted coefficients (not at scores): the installment column",
              "  was removed because, collinear with loan amount, it flipped the loan amount's sign; CV AUC was unchanged.",
              ""]
    return "\n".join(lines)


def write_card(meta: dict[str, Any], path: Path) -> None:
    """Write the short model card (models/MODEL_CARD.md) from the metadata."""
    path.write_text(render_card(meta))


def save(model: Pipeline, meta: dict[str, Any], out: Path) -> None:
    """Write artifact, metadata (with the artifact's sha256) and model card together into out/."""
    out.mkdir(parents=True, exist_ok=True)
    artifact = out / ARTIFACT
    sio.dump(model, artifact)
    meta["artifact"] = {"file": ARTIFACT, "sha256": sha256_file(artifact), "format": "skops",
                        "trusted_types": sorted(sio.get_untrusted_types(file=artifact))}
    (out / METADATA).write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
    write_card(meta, out / CARD)


def train(data_dir: Path, out: Path, policy_file: Path) -> dict[str, Any]:
    """Run the whole training job and return the metadata it wrote."""
    applicants, y, provenance = load_training_data(data_dir)
    model, dropped, metrics, (y_test, p_test) = evaluate(applicants, y)
    policy = json.loads(policy_file.read_text())
    numeric = [f for f in features.NUMERIC_FEATURES if f not in dropped]
    idx_train = split(y)[0]
    names = list(model[:-1].get_feature_names_out())
    meta = {
        "model_version": model_version(provenance["sha256"], numeric),
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "code_version": code_version(),
        "sklearn_version": sklearn.__version__,
        "python_version": sys.version.split()[0],
        "seed": SEED,
        "estimator": {"type": "LogisticRegression", "C": C, "penalty": "l2",
                      "intercept": float(model[-1].intercept_[0])},
        "training_data": provenance,
        "target": "1 = Charged Off (default), 0 = Fully Paid",
        "features": {"numeric": numeric, "categorical": list(features.CATEGORICAL_FEATURES),
                     "dropped_for_wrong_sign": dropped, "directional_signs": features.DIRECTIONAL_SIGNS},
        "columns": column_map(model, numeric),
        "coefficients": dict(zip(names, map(float, model[-1].coef_[0]), strict=True)),
        "reference": reference_row(model, frame([applicants[i] for i in idx_train])),
        "metrics": metrics,
        "policy": policy,
        "decision_mix_holdout": decision_mix(y_test, p_test, policy),
    }
    save(model, meta, out)
    return meta


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, train, and print the headline figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    parser.add_argument("--policy", type=Path, default=POLICY_FILE)
    args = parser.parse_args(argv)
    if args.data_dir is None or not all((args.data_dir / s).exists() for s in SAMPLES):
        print(f"error: the shared samples {SAMPLES} are not in {args.data_dir} (set LOANRISK_DATA_DIR)", file=sys.stderr)
        return 2
    meta = train(args.data_dir, args.out, args.policy)
    m = meta["metrics"]
    cv, ho = m["cross_validation"], m["holdout"]
    print(f"model {meta['model_version']}: {meta['training_data']['rows']} resolved loans "
          f"({meta['training_data']['bad']} bad), dropped for sign: {meta['features']['dropped_for_wrong_sign']}")
    print(f"CV ({cv['folds']}-fold) AUC {cv['roc_auc']['mean']:.4f} ± {cv['roc_auc']['std']:.4f}  "
          f"KS {cv['ks']['mean']:.4f}  Brier {cv['brier']['mean']:.4f}")
    print(f"held-out (n={ho['n']}) AUC {ho['roc_auc']:.4f}  KS {ho['ks']:.4f}  Brier {ho['brier']:.4f}  "
          f"(sub-grade alone AUC {ho['sub_grade_only_roc_auc']:.4f})")
    print(f"wrote {args.out / ARTIFACT}, {args.out / METADATA}, {args.out / CARD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
