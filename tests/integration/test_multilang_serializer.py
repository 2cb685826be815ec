"""The worker's side of the multilang pipe: loanrisk.storm.FastJsonSerializer against Storm's JsonSerializer.

The project's bolts write frames (bolts.multilang.FramedSerializer, orjson; and the naive design's simplejson).
tests/java/MultilangCheck.java, run by Java's source launcher on the topology jar and Storm's worker jars, reads
them with both Java serializers: each must give Storm the same ShellMsg. The BoltMsg each then writes back with
that tuple must decode to the same JSON, and the project's reader must read it. No Storm cluster is needed, only
the jars `make up` installs and `lein uberjar` builds.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from bolts.multilang import FRAME_END, FramedSerializer
from loanrisk import events

ROOT = Path(__file__).resolve().parents[2]
JAR = ROOT / "_build" / "loan-risk-0.1.0-SNAPSHOT-standalone.jar"
CHECK = ROOT / "tests" / "java" / "MultilangCheck.java"


def topology_jar() -> Path:
    """Return the topology jar, built (`lein uberjar`, as `sparse submit` does) when older than src/java."""
    sources = max(p.stat().st_mtime for p in (ROOT / "src" / "java").rglob("*.java"))
    if not JAR.exists() or JAR.stat().st_mtime < sources:
        env = {**os.environ, "LEIN_ROOT": "1"}
        subprocess.run(["lein", "uberjar"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    return JAR


def storm_worker_jars() -> str:
    """Return the classpath entry of the worker jars of the Storm `make up` installed."""
    homes = sorted((ROOT / "var" / "opt").glob("apache-storm-*/lib-worker"))
    if not homes:
        pytest.fail("no Storm under var/opt: run `make up` first")
    return f"{homes[-1]}/*"


def frames(messages: list[dict[str, Any]], codec: str) -> bytes:
    """Return the messages as the project's multilang writer puts them on the pipe."""
    out = io.BytesIO()
    writer = FramedSerializer(io.BytesIO(), out, threading.RLock(), threading.RLock())
    writer.use_codec(codec)
    for message in messages:
        writer.send_message(message)
    return out.getvalue()


def check(data: bytes) -> list[str]:
    """Run MultilangCheck on the frames and return its output lines."""
    classpath = f"{topology_jar()}:{storm_worker_jars()}"
    done = subprocess.run(
        ["java", "-cp", classpath, str(CHECK)], input=data, capture_output=True, check=True, timeout=300
    )
    return done.stdout.decode().splitlines()


def batch_items() -> list[Any]:
    """Return a batch tuple's items as the bolts send them: Tracked wire lists, with and without a decision."""
    applicant = {"id": "G1", "emp_title": 'Chef "de cuisine" \\ Zürich ☕ 😀', "title": "tab\there\nnewline"}
    received = events.Received(events.Source("loan-applications", 3, 123456), "G1", "{}", "ab" * 32, 1_790_000_000_000)
    wire = events.Tracked.of("G1", applicant, received).to_wire()
    decision = {"application_id": "G1", "decision": "DECLINE", "probability_of_default": 0.123456789012, "reasons": []}
    return [wire, [*wire, decision]]


def messages() -> list[dict[str, Any]]:
    """Return what bolts send Storm: emits (batch, dead-letter, frames longer than a pipe read), acks, fails, logs."""
    return [
        {"command": "emit", "tuple": [1, batch_items()], "anchors": ["t1", "t2"], "stream": "default"},
        {"command": "emit", "tuple": [None, {"reason": "BAD_JSON", "payload": "{\u0000\u001f"}], "stream": "dl"},
        {"command": "emit", "tuple": [0, []], "anchors": "t3", "need_task_ids": False},
        {"command": "ack", "id": "t1"},
        {"command": "fail", "id": "-6955786537413359385"},
        {"command": "log", "msg": "saving 3 tuples failed: 'é'", "level": 3},
        {"command": "sync"},
        {"command": "emit", "tuple": [2**31, 2**63 - 1, -(2**31) - 1, 1.5e300, -0.0, 1e-7, True, False, None]},
        {"command": "emit", "tuple": [0, batch_items() * 300], "anchors": [f"t{i}" for i in range(300)]},  # > 64 KiB
        {"command": "ack", "id": "t4"},
    ]


@pytest.mark.parametrize("codec", ["orjson", "json"])
def test_both_serializers_read_the_same_shell_messages_and_write_the_same_json(codec: str) -> None:
    """Every frame gives Storm the same ShellMsg, and what is written back decodes to the same JSON."""
    sent = messages()
    lines = check(frames(sent, codec))
    reads = [line for line in lines if line.startswith("READ ")]
    assert [line for line in lines if line.startswith("COUNT")] == []
    assert reads == [f"READ {i} same" for i in range(len(sent))]
    writes = [line.split() for line in lines if line.startswith("WRITE ")]
    assert len(writes) == len(sent)
    for (_, index, storm_b64, fast_b64), message in zip(writes, sent, strict=True):
        storm, fast = base64.b64decode(storm_b64), base64.b64decode(fast_b64)
        assert storm.endswith(FRAME_END), index
        assert fast.endswith(FRAME_END), index
        assert orjson.loads(fast[: -len(FRAME_END)]) == orjson.loads(storm[: -len(FRAME_END)]), index
        reader = FramedSerializer(io.BytesIO(fast), io.BytesIO(), threading.RLock(), threading.RLock())
        assert reader.read_message()["tuple"] == message.get("tuple"), index
