"""The trained risk model, loaded once: verified artifact, vectorised scoring and reason codes.

Framework-free (no Flask here) so the benchmark and the model tests use exactly what the API serves.
The Pipeline's preprocessing turns applicants into model columns; probability and reason codes are
then both computed from the same linear log-odds, so the reasons explain the score exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio

from loanrisk import features, reasons
from loanrisk.applicant import Applicant
from loanrisk.digests import sha256_file as sha256_file  # re-exported: tests/lab_challenger.py imports it from here

ARTIFACT = "risk_model.skops"
METADATA = "risk_model.json"
# Types skops does not trust by default that our Pipeline legitimately contains; anything else refuses to load.
TRUSTED_TYPES = frozenset({"numpy.dtype"})


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The model's view of one applicant: default probability and principal adverse reasons."""

    application_id: str
    probability_of_default: float
    reasons: tuple[reasons.Reason, ...]


class RiskModel:
    """A fitted Pipeline with its metadata, scoring many applicants at once."""

    def __init__(self, pipeline: Any, metadata: dict[str, Any]) -> None:
        """Keep the pipeline and precompute what scoring and reason codes need."""
        self.pipeline = pipeline
        self.metadata = metadata
        self.version: str = metadata["model_version"]
        self._prepare = pipeline[:-1]
        self._compiled = CompiledPreparation(
            pipeline[0], metadata["features"]["numeric"], metadata["features"].get("categorical", [])
        )
        self._coef = pipeline[-1].coef_[0].astype(float)
        self._intercept = float(pipeline[-1].intercept_[0])
        self._reference = np.asarray(metadata["reference"], dtype=float)
        self._factors, self._groups = factor_groups(metadata["columns"])

    def columns(self, applicants: Sequence[Applicant]) -> np.ndarray:
        """Return the model columns (imputed, scaled, one-hot) of applicants, via the compiled fast path."""
        return self._compiled.transform(applicants)

    def pipeline_columns(self, applicants: Sequence[Applicant]) -> np.ndarray:
        """Return the model columns computed by the scikit-learn Pipeline itself (the reference path)."""
        frame = pd.DataFrame(features.feature_columns(applicants), columns=list(features.FEATURE_NAMES))
        return np.asarray(self._prepare.transform(frame), dtype=float)

    def probabilities(self, applicants: Sequence[Applicant]) -> np.ndarray:
        """Return the default probability of each applicant."""
        return expit(self.columns(applicants) @ self._coef + self._intercept)

    def evaluate(self, applicants: Sequence[Applicant]) -> list[Evaluation]:
        """Return an Evaluation (probability and up to four reasons) for each applicant, in order."""
        if not applicants:
            return []
        x = self.columns(applicants)
        p = expit(x @ self._coef + self._intercept)
        points = self._points(x)
        top = np.argsort(-points, axis=1, kind="stable")[:, : reasons.MAX_REASONS]  # one sort for the batch
        return [
            Evaluation(a.id, float(p[i]), tuple(self._reasons(points[i], top[i]))) for i, a in enumerate(applicants)
        ]

    def factor_points(self, applicants: Sequence[Applicant]) -> tuple[list[str], np.ndarray]:
        """Return the factor names and each applicant's log-odds contribution per factor vs the reference."""
        return list(self._factors), self._points(self.columns(applicants))

    def reference_log_odds(self) -> float:
        """Return the log-odds of default of the reference applicant (contributions are measured from it)."""
        return float(self._reference @ self._coef + self._intercept)

    def _points(self, x: np.ndarray) -> np.ndarray:
        """Return factor contributions coefficient x (column - reference), summed per factor."""
        points: np.ndarray = ((x - self._reference) * self._coef) @ self._groups
        return points

    def _reasons(self, points: np.ndarray, top: np.ndarray) -> list[reasons.Reason]:
        """Return the principal reasons from one applicant's factor points and largest factors."""
        contributions = [
            reasons.Contribution(self._factors[j], float(points[j])) for j in top.tolist() if points[j] > 0.0
        ]
        return reasons.principal_reasons(contributions)


class CompiledPreparation:
    """The fitted ColumnTransformer's arithmetic in plain numpy: same numbers, without pandas overhead.

    scikit-learn's ColumnTransformer costs milliseconds per call whatever the batch size; the API scores
    single applicants, so its fitted parameters (medians, indicator columns, scaler, one-hot categories)
    are read once here. A model test checks this path equals the Pipeline's transform.
    """

    def __init__(self, prepare: Any, numeric: list[str], categorical: list[str]) -> None:
        """Read the fitted imputer, scaler and (when the model has categories) encoder of the ColumnTransformer."""
        names = [name for name, _, _ in prepare.transformers_ if name != "remainder"]
        if names != (["num", "cat"] if categorical else ["num"]):
            raise ValueError(f"unexpected ColumnTransformer layout {names}")
        impute, scale = prepare.named_transformers_["num"].named_steps.values()
        self.numeric_index = [features.NUMERIC_FEATURES.index(f) for f in numeric]
        self.medians = impute.statistics_.astype(float)
        self.indicators = impute.indicator_.features_ if impute.indicator_ is not None else np.array([], int)
        self.mean, self.scale = scale.mean_.astype(float), scale.scale_.astype(float)
        self.width = len(self.mean)
        self.categorical_index = [features.CATEGORICAL_FEATURES.index(f) for f in categorical]
        self.onehot = onehot_maps(prepare.named_transformers_["cat"], self.width) if categorical else []
        self.total = self.width + sum(block for _, _, block in self.onehot)

    def transform(self, applicants: Sequence[Applicant]) -> np.ndarray:
        """Return the model columns of applicants."""
        raw = np.array([features.numeric_values(a) for a in applicants], dtype=float)[:, self.numeric_index]
        missing = np.isnan(raw)
        filled = np.where(missing, self.medians, raw)
        out = np.zeros((len(applicants), self.total))
        out[:, : self.width] = (np.hstack([filled, missing[:, self.indicators]]) - self.mean) / self.scale
        for i, a in enumerate(applicants if self.onehot else ()):
            values = features.categorical_values(a)
            for value, (mapping, fallback, _) in zip(
                [values[k] for k in self.categorical_index], self.onehot, strict=True
            ):
                column = mapping.get(value, fallback) if value is not None else fallback
                if column is not None:
                    out[i, column] = 1.0
        return out


def onehot_maps(encoder: Any, offset: int) -> list[tuple[dict[str, int], int | None, int]]:
    """Return, per categorical feature, category -> output column, the column for unknowns, and block width."""
    maps, start = [], offset
    infrequent = encoder.infrequent_categories_ if hasattr(encoder, "infrequent_categories_") else None
    for i, categories in enumerate(encoder.categories_):
        rare = set() if infrequent is None or infrequent[i] is None else set(infrequent[i])
        frequent = [c for c in categories if c not in rare]
        mapping = {c: start + k for k, c in enumerate(frequent)}
        fallback = start + len(frequent) if rare else None
        mapping |= dict.fromkeys(rare, fallback)
        width = len(frequent) + (1 if rare else 0)
        maps.append((mapping, fallback, width))
        start += width
    return maps


def expit(z: np.ndarray) -> np.ndarray:
    """Return the logistic function of z."""
    result: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return result


def factor_groups(columns: list[dict[str, str]]) -> tuple[list[str], np.ndarray]:
    """Return the reason factor names and the column->factor summing matrix."""
    factors = list(dict.fromkeys(c["factor"] for c in columns))
    groups = np.zeros((len(columns), len(factors)))
    for i, column in enumerate(columns):
        groups[i, factors.index(column["factor"])] = 1.0
    return factors, groups


def load_model(model_dir: Path) -> RiskModel | str:
    """Load and verify the model in model_dir, or return why it cannot be used."""
    meta_path, artifact = model_dir / METADATA, model_dir / ARTIFACT
    if not meta_path.is_file() or not artifact.is_file():
        return f"no trained model in {model_dir} (run `make train`)"
    metadata = json.loads(meta_path.read_text())
    if sha256_file(artifact) != metadata.get("artifact", {}).get("sha256"):
        return f"{artifact} does not match the sha256 in {meta_path}: refusing to load it"
    untrusted = set(sio.get_untrusted_types(file=artifact))
    if not untrusted <= TRUSTED_TYPES:
        return f"{artifact} holds types outside the allowlist: {sorted(untrusted - TRUSTED_TYPES)}"
    return RiskModel(sio.load(artifact, trusted=sorted(untrusted)), metadata)
