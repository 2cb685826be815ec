"""Fault drills for `make chaos`: the fault-injecting Risk API proxy, process selection, the steady stream,
the scenarios and their measurement (jobs/chaos.py is the command line)."""
