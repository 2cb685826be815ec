"""Feed tuples to a bolt object and capture what it tells Storm (emit, ack, fail) at the protocol level.

Nothing is mocked: the bolt runs its real code; only the multilang pipe is replaced by a list of the
messages the bolt would have written to Storm. Tuple values go through JSON as they would over the pipe.
``arrive`` writes several tuples into the bolt's input pipe at once and runs the bolt's own read loop, so a
batching bolt sees input waiting behind each tuple, as under load, and flushes when the pipe runs dry.
"""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

from pystorm.component import Tuple

_ids = itertools.count(1)


class Captured:
    """A bolt wired to a message list instead of Storm's pipe."""

    def __init__(self, bolt_cls: type, conf: dict[str, Any] | None = None, name: str = "bolt") -> None:
        """Build, set up and initialize the bolt with a topology config."""
        self.messages: list[dict[str, Any]] = []
        self.pipe = io.BytesIO()
        self.bolt = bolt_cls(input_stream=self.pipe, output_stream=io.BytesIO(), rdb_signal=None)
        self.bolt.send_message = lambda msg: self.messages.append(json.loads(json.dumps(msg)))
        self.conf = {"topology.name": "loan-risk-test", **(conf or {})}
        context = {"taskid": 1, "componentid": name, "task->component": {"1": name}}
        self.bolt._setup_component(self.conf, context)
        self.bolt.initialize(self.conf, context)

    def feed(self, values: list[Any], component: str = "upstream", stream: str = "default") -> Tuple:
        """Put one tuple (values as they would cross the pipe) in the bolt's input pipe and let it run once."""
        [tup_id] = self.arrive([values], component, stream)
        return Tuple(tup_id, component, stream, 7, tuple(json.loads(json.dumps(values))))

    def arrive(self, batch: list[list[Any]], component: str = "upstream", stream: str = "default") -> list[str]:
        """Put tuples in the bolt's input pipe together, then let the bolt read and process all of them."""
        ids = [f"t{next(_ids)}" for _ in batch]
        frames = b"".join(
            json.dumps({"id": i, "comp": component, "stream": stream, "task": 7, "tuple": values}).encode() + b"\nend\n"
            for i, values in zip(ids, batch, strict=True)
        )
        position = self.pipe.tell()
        self.pipe.seek(0, io.SEEK_END)
        self.pipe.write(frames)
        self.pipe.seek(position)
        for _ in batch:
            self.bolt._run()
        return ids

    def tick(self) -> None:
        """Hand the bolt a tick tuple."""
        self.bolt.process_tick(Tuple(f"tick{next(_ids)}", "__system", "__tick", -1, (1,)))

    def emitted_and_acked(self) -> list[tuple[str, Any]]:
        """Return ("emit", stream) and ("ack", id) in the order the bolt sent them (log lines left out)."""
        return [
            ("emit", m.get("stream", "default")) if m["command"] == "emit" else ("ack", m["id"])
            for m in self.messages
            if m.get("command") in ("emit", "ack")
        ]

    def commands(self, command: str) -> list[dict[str, Any]]:
        """Return the captured messages of one command (emit, ack, fail, log...)."""
        return [m for m in self.messages if m.get("command") == command]

    def acked(self) -> list[str]:
        """Return the ids of acked tuples (tick tuples left out)."""
        return [m["id"] for m in self.commands("ack") if not m["id"].startswith("tick")]

    def acked_ticks(self) -> int:
        """Return how many tick tuples were acked."""
        return sum(1 for m in self.commands("ack") if m["id"].startswith("tick"))

    def failed(self) -> list[str]:
        """Return the ids of failed tuples."""
        return [m["id"] for m in self.commands("fail")]

    def emitted(self, stream: str = "default") -> list[dict[str, Any]]:
        """Return the emit messages on a stream."""
        return [m for m in self.commands("emit") if m.get("stream", "default") == stream]
