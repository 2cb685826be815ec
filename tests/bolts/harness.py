"""Feed tuples to a bolt object and capture what it tells Storm (emit, ack, fail) at the protocol level.

Nothing is mocked: the bolt runs its real code; only the multilang pipe is replaced by a list of the
messages the bolt would have written to Storm. Tuple values go through JSON as they would over the pipe.
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
        self.bolt = bolt_cls(input_stream=io.BytesIO(), output_stream=io.BytesIO(), rdb_signal=None)
        self.bolt.send_message = lambda msg: self.messages.append(json.loads(json.dumps(msg)))
        self.conf = {"topology.name": "loan-risk-test", **(conf or {})}
        context = {"taskid": 1, "componentid": name, "task->component": {"1": name}}
        self.bolt._setup_component(self.conf, context)
        self.bolt.initialize(self.conf, context)

    def feed(self, values: list[Any], component: str = "upstream", stream: str = "default") -> Tuple:
        """Hand one tuple (values as they would cross the pipe) to the bolt's process()."""
        tup = Tuple(f"t{next(_ids)}", component, stream, 7, tuple(json.loads(json.dumps(values))))
        self.bolt.process(tup)
        return tup

    def tick(self) -> None:
        """Hand the bolt a tick tuple."""
        self.bolt.process_tick(Tuple(f"tick{next(_ids)}", "__system", "__tick", -1, (1,)))

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
