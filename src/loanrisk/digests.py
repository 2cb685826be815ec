"""Content digests: the model artifact's and the training files' sha256, checked before a file is trusted."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
