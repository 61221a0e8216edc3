"""The tests' own layout: a test module imports nothing from another test module (fixtures live
in conftest.py files, builders of rows and files in tests/factories, servers, clocks and settings
in tests/harness), and every test engine comes from `make_engine`.

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


# The only packages under tests/ that a test module may import from.
SHARED = ("tests.factories", "tests.harness")


def _shared(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in SHARED)


def imports_of_other_tests(path: Path) -> list[str]:
    """`tests.*` imports that do not come from the shared packages: another test module, a
    conftest (its fixtures arrive by name), or anything else under tests/."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            last = node.module.rsplit(".", 1)[-1]
            if last.startswith("test_") or last == "conftest":
                modules = [node.module]
            else:  # `from tests.integration import test_x` imports tests.integration.test_x
                modules = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append(f"{_where(path, node)} relative import")
            continue
        else:
            continue
        for module in modules:
            if (module == "tests" or module.startswith("tests.")) and not _shared(module):
                found.append(f"{_where(path, node)} {module}")
                break  # one line per import statement
    return found


def test_no_test_module_imports_another() -> None:
    found = [hit for path in _modules() for hit in imports_of_other_tests(path)]
    assert found == [], (
        "share fixtures through a conftest.py, builders through tests/factories and the rest "
        f"through tests/harness, not by importing another test module: {found}"
    )


def test_the_import_check_sees_each_way_of_importing_a_test_module(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "from tests.factories.offers import seed_offer\n"
        "from tests.harness.clock import FrozenClock\n"
        "from tests.factories import files as f\n"
        "# from tests.integration.test_dispatch import free_port\n"
        "from tests.integration.test_dispatch import free_port\n"
        "from tests.integration import test_dispatch\n"
        "import tests.e2e.test_claim_http\n"
        "from tests.conftest import make_settings\n"
        "def later() -> None:\n"
        "    from tests.unit.test_render import notice\n",
        encoding="utf-8",
    )
    assert [hit.split(":", 1)[1] for hit in imports_of_other_tests(sample)] == [
        "5 tests.integration.test_dispatch",
        "6 tests.integration.test_dispatch",
        "7 tests.e2e.test_claim_http",
        "8 tests.conftest",
        "10 tests.unit.test_render",
    ]


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
