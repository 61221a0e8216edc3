"""The tests' own layout: every test engine comes from `make_engine`.

Read with `ast`, so a comment or a string that mentions a name does not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def _where(path: Path, node: ast.AST) -> str:
    shown = path.relative_to(TESTS.parent) if path.is_relative_to(TESTS.parent) else path
    return f"{shown}:{getattr(node, 'lineno', 0)}"


def engines_built_by_hand(path: Path) -> list[str]:
    """Calls of `create_engine` (sa.create_engine, sqlalchemy.create_engine, a bare name):
    such an engine has no foreign keys and no BEGIN IMMEDIATE on SQLite."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in {"create_engine", "create_async_engine"}:
            found.append(_where(path, node))
    return found


def test_every_test_engine_is_built_by_make_engine() -> None:
    found = [hit for path in _modules() for hit in engines_built_by_hand(path)]
    assert found == [], (
        "build test engines with makegood.store.engine.make_engine (SQLite then has foreign "
        f"keys and BEGIN IMMEDIATE, as in production): {found}"
    )


def test_the_engine_check_sees_a_hand_built_engine(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "import sqlalchemy as sa\n"
        "from sqlalchemy import create_engine\n"
        "# sa.create_engine(url) in a comment is fine\n"
        "TEXT = 'create_engine(url)'\n"
        "a = sa.create_engine('sqlite://')\n"
        "b = create_engine('sqlite://')\n",
        encoding="utf-8",
    )
    assert [hit.rsplit(":", 1)[1] for hit in engines_built_by_hand(sample)] == ["5", "6"]
