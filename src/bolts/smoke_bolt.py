"""Smoke-test bolt: logs a recognisable line per tuple and emits it onward (auto-acked)."""

from __future__ import annotations

from typing import ClassVar

from streamparse import Bolt, Tuple

SMOKE_MARK = "SMOKE-OK"  # tests/integration/test_storm.py looks for this in the logs


class SmokeBolt(Bolt):
    """Log 'SMOKE-OK <id> n=<n> squared=<n*n>' for each tuple and emit (smoke_id, squared)."""

    outputs: ClassVar[list[str]] = ["smoke_id", "squared"]

    def process(self, tup: Tuple) -> None:
        """Square n, log the mark, emit anchored to the input (streamparse acks it afterwards)."""
        smoke_id, n = tup.values
        squared = int(n) * int(n)
        self.logger.info("%s %s n=%s squared=%d", SMOKE_MARK, smoke_id, n, squared)
        self.emit([smoke_id, squared])
