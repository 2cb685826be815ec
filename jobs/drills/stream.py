"""The steady stream the drills run under: generated applicants through MySQL -> API -> producer, plus dirty lines.

Each scenario adds one batch: rate x duration generated applicants loaded into MySQL (the long-running API
producer publishes them at `rate`/s as they appear) and a small dirty JSON-lines file with its manifest,
published by a file producer at a tenth of the rate. Both producers are subprocesses of the drill, so a
scenario can kill them with -9 like any other process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from jobs import demo, reconcile
from jobs.settings import ROOT

PY = sys.executable


@dataclass
class Batch:
    """What one scenario publishes: its directory, applicant ids, dirty file lines and manifest(s)."""

    run_dir: Path
    ids: list[str]
    lines: list[demo.FileLine] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)
    producers: list[Producer] = field(default_factory=list)  # file producers publishing the batch's lines

    @property
    def scope_ids(self) -> set[str]:
        """Every application id the batch's records carry."""
        return set(self.ids) | {ln.id for ln in self.lines if ln.id is not None}

    @property
    def scope_shas(self) -> set[str]:
        """The payload hashes of the batch's file lines."""
        return {ln.sha256 for ln in self.lines}


def python_env() -> dict[str, str]:
    """The environment of the job subprocesses: the project on the path, the venv first on PATH."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"}


def run_job(*args: str, timeout: float = 600) -> None:
    """Run `python -m <job> ...` to completion, its output in the drill's log; raise on failure."""
    proc = subprocess.run(
        [PY, "-m", *args],
        cwd=ROOT,
        env=python_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"python -m {' '.join(args)} failed ({proc.returncode}): {proc.stdout[-500:]}")


class Producer:
    """A producer subprocess (`jobs.produce`) the drill starts, kills and resumes; output to a log file."""

    def __init__(self, log: Path, *args: str) -> None:
        """Prepare the command line; nothing runs until start()."""
        self.args, self.log = args, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the producer (it waits through outages itself: --wait)."""
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen(
                [PY, "-m", "jobs.produce", *self.args],
                cwd=ROOT,
                env=python_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        """The pid while it runs."""
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def kill9(self) -> None:
        """kill -9 the producer (no flush, no cursor save: the drill checks nothing is lost anyway)."""
        if self.pid and self.proc:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 60) -> int | None:
        """Ask it to finish its page and exit; kill it if it does not within the timeout."""
        if self.pid and self.proc:
            os.kill(self.pid, signal.SIGTERM)
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode if self.proc else None

    def wait(self, timeout: float) -> int | None:
        """Wait for it to exit by itself; return its exit code, None when still running."""
        if not self.proc:
            return None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


def write_generated(run_dir: Path, n: int, seed: int, dirty_lines: int) -> Batch:
    """Generate n applicants into MySQL and a dirty file of dirty_lines lines (with manifest) for one batch."""
    csv_path = run_dir / "applicants.csv"
    run_job("jobs.generate", "--count", str(n), "--format", "csv", "--out", str(csv_path), "--seed", str(seed))
    batch = Batch(run_dir, demo.csv_ids(csv_path))
    if dirty_lines > 0:
        dirty = run_dir / "dirty.jsonl"
        demo.generate_dirty(dirty, dirty_lines, seed + 1)
        add_file(batch, dirty, Path(f"{dirty}.dirt.jsonl"))
    return batch


def add_file(batch: Batch, path: Path, manifest: Path | None) -> None:
    """Count a JSON-lines file (and its manifest, if any) in the batch."""
    entries = reconcile.load_manifests([manifest])[0] if manifest and manifest.exists() else []
    batch.lines += demo.file_lines(path, entries)
    if manifest and manifest.exists():
        batch.manifests.append(manifest)


def mark_published(manifest: Path, lines: int) -> None:
    """Write the marker that tells reconcile the manifest's file reached this Kafka cluster."""
    marker = {"lines": lines, "at": time.time()}
    reconcile.published_marker(manifest).write_text(json.dumps(marker))
