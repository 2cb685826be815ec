"""Evaluation of the risk model recipe: metrics, calibration, baselines, experiments and policy cut-offs.

Every function takes arrays and returns JSON-able dicts, so the training job saves them with the model
and the card quotes them. Nothing here writes files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from loanrisk.decision import decide, policy_from_mapping

SEED = 20261122
CV_FOLDS = 3  # small on purpose: `make train` shares a 2-core box
MIN_CATEGORY_COUNT = 10


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
        {
            "bin": i + 1,
            "n": len(idx),
            "mean_predicted": float(p[idx].mean()),
            "observed_bad_rate": float(y[idx].mean()),
            "min_p": float(p[idx].min()),
            "max_p": float(p[idx].max()),
        }
        for i, idx in enumerate(np.array_split(order, bins))
    ]


def per_grade(grades: np.ndarray, y: np.ndarray, p: np.ndarray) -> dict[str, dict[str, float | int | None]]:
    """Return count, observed bad rate, mean prediction and within-grade AUC for each grade."""
    table = {}
    for grade in sorted(set(grades)):
        mask = grades == grade
        both = len(set(y[mask])) == 2
        table[grade] = {
            "n": int(mask.sum()),
            "observed_bad_rate": float(y[mask].mean()),
            "mean_predicted": float(p[mask].mean()),
            "roc_auc": float(roc_auc_score(y[mask], p[mask])) if both else None,
        }
    return table


def split_report(y_train: np.ndarray, y: np.ndarray, p: np.ndarray, grades: np.ndarray) -> dict[str, Any]:
    """Return the full report of predictions p on one test set: scores, calibration by decile and grade."""
    return {
        "n": len(y),
        "bad": int(y.sum()),
        **scores(y, p),
        "mean_predicted": float(p.mean()),
        "observed_bad_rate": float(y.mean()),
        # Brier of always forecasting the training base rate: the bar a useful model must beat
        "brier_base_rate": float(brier_score_loss(y, np.full(len(p), y_train.mean()))),
        "calibration": calibration_table(y, p),
        "per_grade": per_grade(grades, y, p),
    }


def plain_pipeline(
    numeric: list[str],
    categorical: list[str],
    c: float,
    indicators: bool = False,
    strategy: str = "mean",
    class_weight: str | None = None,
) -> Pipeline:
    """Return an unfitted imputer + scaler (+ one-hot) + logistic regression Pipeline."""
    blocks = [
        (
            "num",
            Pipeline(
                [("impute", SimpleImputer(strategy=strategy, add_indicator=indicators)), ("scale", StandardScaler())]
            ),
            numeric,
        )
    ]
    if categorical:
        blocks.append(
            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=MIN_CATEGORY_COUNT), categorical)
        )
    model = LogisticRegression(C=c, max_iter=2000, random_state=SEED, class_weight=class_weight)
    return Pipeline([("prepare", ColumnTransformer(blocks, verbose_feature_names_out=False)), ("model", model)])


def cross_validated(make: Callable[[], Pipeline], x: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    """Return mean ROC AUC, Brier and log-loss of a recipe over seeded stratified folds of x, y."""
    folds = []
    for train, test in StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED).split(x, y):
        p = make().fit(x.iloc[train], y[train]).predict_proba(x.iloc[test])[:, 1]
        folds.append({**scores(y[test], p), "log_loss": float(log_loss(y[test], p))})
    return {k: float(np.mean([f[k] for f in folds])) for k in folds[0]}


PRESCREEN_DECLINE = "DECLINE (pre-screen)"


def decision_mix(
    y: np.ndarray, p: np.ndarray, policy_config: dict[str, Any], prescreened: np.ndarray | None = None
) -> dict[str, Any]:
    """Return share and observed bad rate of each decision under the configured policy; with a pre-screen
    mask, as the pipeline decides: pre-screen declines first, the model's bands for the rest."""
    policy = policy_from_mapping(policy_config)
    if isinstance(policy, str):
        raise SystemExit(policy)
    decisions = np.array([decide(float(v), policy) for v in p], dtype=object)
    bands: tuple[str, ...] = ("APPROVE", "REVIEW", "DECLINE")
    if prescreened is not None:
        decisions[prescreened] = PRESCREEN_DECLINE
        bands = (PRESCREEN_DECLINE, *bands)
    return {
        d: {
            "n": int((decisions == d).sum()),
            "share": float((decisions == d).mean()),
            "observed_bad_rate": float(y[decisions == d].mean()) if (decisions == d).any() else None,
        }
        for d in bands
    }


def tune_cutoffs(y: np.ndarray, p: np.ndarray, approve_bad_rate: float, decline_bad_rate: float) -> dict[str, float]:
    """Return the widest APPROVE band whose bad rate stays at or under approve_bad_rate, and the widest
    DECLINE band whose bad rate is at least decline_bad_rate, on a grid of 0.005 steps."""
    grid = np.round(np.arange(0.01, 0.80, 0.005), 3)
    approve = max((t for t in grid if (p < t).sum() >= 100 and y[p < t].mean() <= approve_bad_rate), default=grid[0])
    decline = min((t for t in grid if (p >= t).sum() >= 100 and y[p >= t].mean() >= decline_bad_rate), default=grid[-1])
    return {"approve_below": float(approve), "decline_at": float(max(decline, approve))}
