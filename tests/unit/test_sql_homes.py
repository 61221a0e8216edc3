"""Services and web code build no SQL (issue 16, item 1): every query of a table lives in its
repository in `store/`, reached from the unit of work (`uow.offers`, `uow.outbox`, ...).

A module outside `store/` (and outside `telemetry/` and `import_files/`, whose DuckDB and Spark
SQL reads (or, for the demo world, writes) the playback logs and the files an import reads,
not our tables) may not import SQLAlchemy (but for `sqlalchemy.exc`, which the edges map to
answers), nor a table from `store.tables*`, nor reach a unit of work's connection (`uow.conn`)
or call `.execute(...)`. The modules still listed in NOT_YET do; the list may only
shrink: a new entry fails, and so does an entry that no longer does it.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "makegood"
EXEMPT = ("store/", "telemetry/", "import_files/", "bootstrap.py")

NOT_YET: set[str] = set()


def builds_sql(path: Path) -> list[str]:
    """What in this module builds or runs SQL (empty: nothing)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    aliases = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "sqlalchemy"
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sqlalchemy.") and alias.name != "sqlalchemy.exc":
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr != "exc"
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {a.name for a in node.names}
            if module.startswith("sqlalchemy") and not (
                module == "sqlalchemy.exc" or (module == "sqlalchemy" and names == {"exc"})
            ):
                found.append(f"line {node.lineno}: from {module} import ...")
            if module.startswith("makegood.store.tables") or (
                module == "makegood.store" and any(n.startswith("tables") for n in names)
            ):
                found.append(f"line {node.lineno}: imports a table")
        elif isinstance(node, ast.Attribute) and node.attr == "conn":
            found.append(f"line {node.lineno}: .conn")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"execute", "exec_driver_sql"}
        ):
            found.append(f"line {node.lineno}: .{node.func.attr}(...)")
    return found


def offenders(root: Path) -> dict[str, list[str]]:
    result = {}
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name.startswith(EXEMPT):
            continue
        found = builds_sql(path)
        if found:
            result[name] = found
    return result


def test_only_store_builds_sql() -> None:
    found = offenders(SRC)
    new = {name: found[name] for name in sorted(set(found) - NOT_YET)}
    assert not new, f"SQL outside store/: move it into the table's repository: {new}"
    assert NOT_YET - set(found) == set(), "builds no SQL any more: take it off NOT_YET"


def test_the_check_sees_sql(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import sqlalchemy as sa\nsa.select(1)\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("def f(uow):\n    return uow.conn\n", encoding="utf-8")
    (tmp_path / "c.py").write_text("from makegood.store import tables as t\n", encoding="utf-8")
    (tmp_path / "d.py").write_text("def f(c):\n    c.execute('select 1')\n", encoding="utf-8")
    (tmp_path / "e.py").write_text("from sqlalchemy import exc\n", encoding="utf-8")
    (tmp_path / "g.py").write_text(
        "import sqlalchemy as sa\nsa.exc.IntegrityError\n", encoding="utf-8"
    )
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "f.py").write_text(
        "import sqlalchemy as sa\nsa.select(1)\n", encoding="utf-8"
    )
    assert sorted(offenders(tmp_path)) == ["a.py", "b.py", "c.py", "d.py"]
