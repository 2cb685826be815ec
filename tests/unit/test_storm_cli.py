"""The `storm` on the project's PATH (stack/storm/storm-path-wrapper) and the Storm UI's pure helpers.

The wrapper is tested against a recorder in place of Storm's launcher (STORM_BIN): what is checked is the
command line it hands on, which is pure rewriting; the real launcher runs in tests/integration/test_storm.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "stack" / "storm" / "storm-path-wrapper"
FLUX = "org.apache.storm.flux.Flux"
FOREVER = "3153600000"


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    """A stand-in launcher that prints each argument it gets on its own line."""
    script = tmp_path / "storm"
    script.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    script.chmod(0o755)
    return script


def handed_on(recorder: Path, *args: str) -> list[str]:
    """Run the wrapper with args (in the recorder's folder) and return what it passed to the launcher."""
    (recorder.parent / "t.jar").write_bytes(b"PK")
    env = {**os.environ, "STORM_BIN": str(recorder), "TMPDIR": str(recorder.parent)}
    result = subprocess.run([str(WRAPPER), *args], cwd=recorder.parent, env=env, capture_output=True, text=True,
                            check=True)
    return result.stdout.splitlines()


@pytest.mark.parametrize(("sleep", "ttl"), [("10", "10"), ("1", "1"), ("9223372036854775807", FOREVER),
                                            ("99999999999", FOREVER), ("-5", FOREVER)])
def test_sparse_run_becomes_storm_local(recorder: Path, sleep: str, ttl: str) -> None:
    """streamparse's `storm jar … Flux --local … --sleep N` becomes `storm local --local-ttl N … Flux`."""
    args = handed_on(recorder, "jar", "t.jar", FLUX, "--local", "--no-splash", "--sleep", sleep, "/tmp/t.yaml")
    assert args[:3] == ["local", "--local-ttl", ttl]
    assert re.fullmatch(r".*/sparse-run-\w+\.jar", args[3]), "runs a private copy of the jar"
    assert args[4:] == [FLUX, "--no-splash", "/tmp/t.yaml"]
    assert not list(recorder.parent.glob("sparse-run-*")), "the copy is removed when the run ends"


@pytest.mark.parametrize("args", [["version"], ["list"], ["kill", "smoke", "-w", "0"],
                                  ["jar", "t.jar", FLUX, "--remote", "t.yaml"], ["jar", "t.jar", "com.Example"]])
def test_other_commands_pass_through(recorder: Path, args: list[str]) -> None:
    """Everything but sparse run's exact command line reaches the launcher unchanged."""
    assert handed_on(recorder, *args) == args


def load_storm_ui() -> ModuleType:
    """Import stack/storm/storm_ui.py (not a package) by path."""
    spec = importlib.util.spec_from_file_location("storm_ui", ROOT / "stack" / "storm" / "storm_ui.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("secs", "text"), [(0, "0s"), (59, "59s"), (61, "1m 1s"), (3600, "1h 0m 0s"),
                                            (90061, "1d 1h 1m 1s"), (None, "0s")])
def test_uptime_is_formatted_like_storm_ui(secs: int | None, text: str) -> None:
    """Uptimes read '1d 1h 1m 1s', leading zero units left out."""
    assert load_storm_ui().pretty_uptime(secs) == text


def test_windows_are_ordered_like_storm_ui() -> None:
    """Windows sort 10 minutes, 3 hours, 1 day, then all time."""
    ui = load_storm_ui()
    assert sorted([":all-time", "86400", "600", "10800"], key=ui.window_order) == ["600", "10800", "86400", ":all-time"]
