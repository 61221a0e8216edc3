"""Only the use case at the top commits (issue 16, item 3): a function handed a unit of work
(a parameter named `uow`) never calls its `commit()`; its caller decides.

The claim and grant functions follow it. The functions still listed in NOT_YET commit a unit
of work they were handed (their callers are the web routes and CLI commands that opened it);
the list may only shrink: a new entry fails, and so does an entry that no longer commits.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "makegood"

NOT_YET: set[str] = set()


def committing_handed_uow(root: Path) -> set[str]:
    """`module:function` of every function with a `uow` parameter that calls `uow.commit()`."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
            if "uow" not in params:
                continue
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "uow"
                ):
                    found.add(f"{path.relative_to(root).as_posix()}:{fn.name}")
    return found


def test_functions_handed_a_unit_of_work_do_not_commit_it() -> None:
    found = committing_handed_uow(SRC)
    assert found - NOT_YET == set(), "a function handed `uow` commits it: let its caller commit"
    assert NOT_YET - found == set(), "no longer commits: take it off NOT_YET"


def test_the_check_sees_a_commit_of_a_handed_unit_of_work(tmp_path: Path) -> None:
    (tmp_path / "sample.py").write_text(
        "def handed(uow):\n    uow.commit()\n\n"
        "def opens(container):\n    with container.uow() as uow:\n        uow.commit()\n",
        encoding="utf-8",
    )
    assert committing_handed_uow(tmp_path) == {"sample.py:handed"}
