"""The domain package stays framework-free: the problem shapes, rules and records import no adapter library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "loanrisk"
ADAPTERS = {"flask", "apiflask", "werkzeug", "marshmallow", "kafka", "happybase", "thriftpy2", "streamparse",
            "pystorm", "mysql", "requests", "webkit", "jobs", "risk_api", "applicant_api", "bolts"}  # fmt: skip


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_no_framework_or_adapter(path: Path) -> None:
    assert imported_roots(path) & ADAPTERS == set()
