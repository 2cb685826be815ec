"""Smoke-test spout: emits numbered tuples with tuple ids so acking is exercised end to end."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from streamparse import Spout

EMIT_INTERVAL_SECS = 0.2  # a trickle: the smoke topology only proves the cluster runs Python components


class SmokeSpout(Spout):
    """Emit ("smoke-<n>", n) every EMIT_INTERVAL_SECS, with the tuple id "smoke-<n>"; replay failed ones."""

    outputs: ClassVar[list[str]] = ["smoke_id", "n"]

    def initialize(self, storm_conf: dict[str, Any], context: dict[str, Any]) -> None:  # noqa: ARG002 streamparse's signature
        """Start counting at 1 with nothing pending."""
        self.next_n = 1
        self.pending: dict[str, int] = {}
        self.replay: list[str] = []
        self.acked = 0
        self.last_emit = 0.0

    def next_tuple(self) -> None:
        """Emit a replayed tuple first, else the next number, at most once per interval."""
        now = time.monotonic()
        if now - self.last_emit < EMIT_INTERVAL_SECS:
            return
        self.last_emit = now
        if self.replay:
            tup_id = self.replay.pop()
        else:
            tup_id = f"smoke-{self.next_n}"
            self.pending[tup_id] = self.next_n
            self.next_n += 1
        self.emit([tup_id, self.pending[tup_id]], tup_id=tup_id)

    def ack(self, tup_id: str) -> None:
        """Forget an acked tuple and log progress every 10 acks."""
        self.pending.pop(tup_id, None)
        self.acked += 1
        if self.acked % 10 == 0:
            self.logger.info("SMOKE spout acked=%d pending=%d", self.acked, len(self.pending))

    def fail(self, tup_id: str) -> None:
        """Queue a failed tuple for replay."""
        self.logger.warning("SMOKE spout replaying failed tuple %s", tup_id)
        if tup_id in self.pending:
            self.replay.append(tup_id)
