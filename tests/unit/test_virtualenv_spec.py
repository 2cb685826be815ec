"""virtualenvs/loan-risk.txt: the workers' requirements, generated from the lock."""

from __future__ import annotations

import pytest

from jobs import virtualenv_spec as spec


def test_pins_are_read_by_canonical_name_and_comments_are_skipped() -> None:
    pins = spec.read_pins(["# lock", "Fabric39==1.15.3.post2", "ruamel.yaml==0.19.1  # why", "", "-e ."])
    assert pins == {"fabric39": ("Fabric39", "1.15.3.post2"), "ruamel-yaml": ("ruamel.yaml", "0.19.1")}


def test_closure_follows_dependencies_once_even_in_a_cycle() -> None:
    graph = {"a": ["B_c", "d"], "b-c": ["a"], "d": [], "e": []}
    assert spec.closure(["A"], lambda name: graph[name]) == {"a", "b-c", "d"}


def test_render_pins_every_name_sorted_and_leaves_out_what_a_virtualenv_has() -> None:
    pins = {"b": ("B", "2"), "a": ("a", "1")}
    assert spec.render({"b", "a", "setuptools", "pip"}, pins) == spec.HEADER + "a==1\nB==2\n"


def test_a_package_missing_from_the_lock_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"not pinned in constraints\.txt: c"):
        spec.render({"a", "c"}, {"a": ("a", "1")})


def test_the_committed_file_is_what_the_lock_generates() -> None:
    assert spec.SPEC.read_text() == spec.generate(), "run python -m jobs.virtualenv_spec"


def test_the_workers_get_every_package_the_topology_imports() -> None:
    names = {line.split("==")[0].lower() for line in spec.SPEC.read_text().splitlines()[1:]}
    assert {"streamparse", "kafka-python", "happybase", "requests", "pystorm", "thriftpy2"} <= names
