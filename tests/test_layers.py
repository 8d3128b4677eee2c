"""The layers import in one direction: jobs → models and scraper; scraper never imports models or
jobs; models never import jobs; the judge imports no ORM and no database."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("scraper", ("gpuscout.models", "gpuscout.jobs")),
    ("models", ("gpuscout.jobs",)),
    ("models/judge", ("sqlalchemy", "gpuscout.models.storage", "alembic", "psycopg")),
])
def test_imports_flow_one_way(folder: str, forbidden: tuple[str, ...]) -> None:
    wrong = [f"{path.relative_to(ROOT)} imports {name}"
             for path in _files(folder) for name in sorted(_imports(path))
             if name.startswith(forbidden)]
    assert wrong == []


def test_the_check_reads_imports_inside_functions() -> None:
    """The lazy imports the command line relies on are seen too."""
    assert "gpuscout.jobs.scan" in _imports(ROOT / "jobs" / "cli" / "scan.py")
