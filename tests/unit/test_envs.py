"""Every env of config.json builds its topology without a cluster: the spec and the Storm options resolve.

This is what `sparse submit -e <env>` does before it talks to Nimbus: import the topology file with the env
selected, resolve the options (env < topology < -o), pick each component's parallelism for the env and, for an
env that builds virtualenvs on its workers, find virtualenvs/<topology>.txt with streamparse in it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from streamparse.cli.common import resolve_options

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / "config.json").read_text())
TOPOLOGY = "loan-risk"
VIRTUALENV_ENVS = sorted(name for name, cfg in CONFIG["envs"].items() if cfg.get("use_virtualenv", True))
COMPONENTS = {"kafka_spout", "filter_bolt", "decision_bolt", "submit_bolt", "save_bolt", "dead_letter_bolt"}


def import_topology(env: str) -> ModuleType:
    """Import topologies/loan-risk.py as `sparse submit -e env -n loan-risk` does."""
    saved, sys.argv = sys.argv, ["sparse", "submit", "-e", env, "-n", TOPOLOGY]
    try:
        spec = importlib.util.spec_from_file_location(f"topology_{env}", ROOT / "topologies" / f"{TOPOLOGY}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.argv = saved
    return module


def topology_class(module: ModuleType) -> Any:
    from streamparse import Topology

    classes = [
        v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Topology) and v is not Topology
    ]
    assert len(classes) == 1
    return classes[0]


@pytest.fixture(scope="module", params=sorted(CONFIG["envs"]))
def env(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def built(env: str) -> tuple[Any, dict[str, Any]]:
    topology = topology_class(import_topology(env))
    options = resolve_options({}, CONFIG["envs"][env], topology, TOPOLOGY, local_only=True)
    return topology, options


def test_every_component_has_a_parallelism_for_the_env(env: str, built: tuple[Any, dict[str, Any]]) -> None:
    topology, _ = built
    components = {**topology.thrift_spouts, **topology.thrift_bolts}
    assert set(components) == COMPONENTS
    for name, component in components.items():
        hint = component.common.parallelism_hint
        count = hint.get(env) if isinstance(hint, dict) else hint
        assert isinstance(count, int), (name, hint)
        assert count >= 1, (name, hint)


def test_the_options_resolve_to_a_storm_config(built: tuple[Any, dict[str, Any]]) -> None:
    _, options = built
    json.dumps(options)  # Storm receives the config as JSON
    for key in ("topology.message.timeout.secs", "topology.subprocess.timeout.secs", "topology.max.spout.pending"):
        assert isinstance(options.get(key), int), key
        assert options[key] > 0, key


def test_the_spout_reads_the_envs_kafka(env: str, built: tuple[Any, dict[str, Any]]) -> None:
    topology, options = built
    args = topology.thrift_spouts["kafka_spout"].spout_object.java_object.args_list
    assert all(a.string_arg is not None or a.long_arg is not None for a in args)  # String/Long constructor only
    assert args[0].string_arg == options["loanrisk.kafka.bootstrap"]


@pytest.mark.parametrize("venv_env", VIRTUALENV_ENVS)
def test_an_env_that_builds_virtualenvs_has_their_requirements(venv_env: str) -> None:
    assert CONFIG["envs"][venv_env]["virtualenv_root"]
    requirements = (ROOT / CONFIG["virtualenv_specs"] / f"{TOPOLOGY}.txt").read_text().splitlines()
    names = {line.split("==")[0].lower() for line in requirements if line and not line.startswith("#")}
    assert "streamparse" in names  # sparse refuses a requirements file without it
