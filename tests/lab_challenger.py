"""A challenger model for the shadow tests: the shipped pipeline with its intercept moved, saved and verified
like a real artifact (sha256 in its metadata, a model version of its own)."""

from __future__ import annotations

import json
from pathlib import Path

import skops.io as sio

from jobs.settings import ROOT
from risk_api.model import ARTIFACT, METADATA, sha256_file


def make_challenger(out: Path, intercept_shift: float = 1.0, version: str = "lr2-challenger-test") -> Path:
    """Write a challenger model into out (riskier by intercept_shift in log-odds) and return out."""
    source = ROOT / "models"
    pipeline = sio.load(source / ARTIFACT, trusted=sio.get_untrusted_types(file=source / ARTIFACT))
    pipeline[-1].intercept_ = pipeline[-1].intercept_ + intercept_shift
    out.mkdir(parents=True, exist_ok=True)
    sio.dump(pipeline, out / ARTIFACT)
    meta = json.loads((source / METADATA).read_text())
    meta["model_version"] = version
    meta["artifact"]["sha256"] = sha256_file(out / ARTIFACT)
    (out / METADATA).write_text(json.dumps(meta))
    return out
