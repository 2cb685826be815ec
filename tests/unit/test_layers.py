"""The layers: the domain imports no framework or adapter, the adapters no CLI, and no app or service imports a CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "src" / "loanrisk"
ADAPTER_PACKAGE = ROOT / "src" / "adapters"
FRAMEWORKS = {"flask", "apiflask", "werkzeug", "marshmallow", "kafka", "happybase", "thriftpy2", "streamparse",
              "pystorm", "mysql", "requests"}  # fmt: skip
ADAPTERS = FRAMEWORKS | {"webkit", "adapters", "jobs", "risk_api", "applicant_api", "bolts"}
SERVICES = [ROOT / "risk_api", ROOT / "monitoring", ROOT / "stack" / "storm", ROOT / "src" / "webkit"]


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from jobs import demo`` imports the module jobs.demo
            names |= {f"{node.module}.{alias.name}" for alias in node.names} if "." not in node.module else set()
            names.add(node.module)
    return names


def roots(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_no_framework_or_adapter(path: Path) -> None:
    assert roots(imported(path)) & ADAPTERS == set()


@pytest.mark.parametrize("path", sorted(ADAPTER_PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_adapters_import_no_cli_or_app(path: Path) -> None:
    assert roots(imported(path)) & {"jobs", "risk_api", "applicant_api", "monitoring", "bolts"} == set()


@pytest.mark.parametrize(
    "path", sorted(p for d in SERVICES for p in d.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_services_import_no_cli(path: Path) -> None:
    clis = {n for n in imported(path) if n.split(".")[0] == "jobs"}
    assert clis == set()
