"""Smoke topology: one Python spout, one Python bolt. Proves `sparse run`, `sparse submit` and Storm UI work."""

from streamparse import Grouping, Topology

from bolts.smoke_bolt import SmokeBolt
from spouts.smoke_spout import SmokeSpout


class Smoke(Topology):
    """smoke_spout -> smoke_bolt."""

    # stream: (smoke_id: str "smoke-<n>", n: int), tuple id = smoke_id
    smoke_spout = SmokeSpout.spec(name="smoke_spout")
    # stream: (smoke_id: str, squared: int); nothing consumes it
    smoke_bolt = SmokeBolt.spec(name="smoke_bolt", inputs={smoke_spout: Grouping.fields("smoke_id")}, par=1)
