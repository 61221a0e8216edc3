"""Attempt logs named by remote callers (API and console `events`): confined to
MAKEGOOD_EVENTS_ROOT, and errors told without server paths or cell values.

The command line reads any file its operator names and keeps its full messages: the operator
runs it on their own files. A remote caller names a path the server reads, so:

- nothing is read when the setting is unset (a server does not open its file system by default);
- the path is taken relative to the root (an absolute one must lie inside it), `..` and
  symlinks are resolved, and every file it names, a directory's or a glob's included, must
  resolve inside the root. Outside-ness is decided before existence, so the answer for a path
  outside is the same whether it exists or not;
- an error names files relative to the root and quotes no value read from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from makegood.domain.errors import InvalidInput
from makegood.telemetry.files import resolve_attempt_files

_GLOB_CHARS = set("*?[")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/[^\s:'\"()]+")


def _outside() -> InvalidInput:
    return InvalidInput(
        "events: the path is outside the events directory of this server; give a path "
        "inside it (relative to it, e.g. logs/2026-03-22/)"
    )


def _inside(path: Path, base: Path) -> bool:
    return path.resolve().is_relative_to(base)


def confine_events(events: str, root: Path | None) -> str:
    """The path of `events` inside `root` to read; InvalidInput (nothing read) otherwise."""
    text = events.strip()
    if root is None:
        raise InvalidInput(
            "events: this server reads no attempt logs for remote callers "
            "(MAKEGOOD_EVENTS_ROOT is not set): ask its operator to set it, or create the "
            "campaign with `makegood campaign create` at the server"
        )
    if not text:
        raise InvalidInput("events: give the location of the attempt logs in the events directory")
    if "\x00" in text:
        raise InvalidInput("events: the path holds a NUL character")
    base = root.resolve()
    candidate = Path(text) if Path(text).is_absolute() else base / text
    parts = candidate.parts
    first_glob = next((i for i, p in enumerate(parts) if _GLOB_CHARS & set(p)), None)
    if first_glob is None:
        if not _inside(candidate, base):
            raise _outside()
    # The fixed directory before the pattern must be inside, and the pattern may not climb
    # out again: checked before any globbing, so `/**` never walks the server's disk.
    elif ".." in parts[first_glob:] or not _inside(Path(*parts[:first_glob]), base):
        raise _outside()
    with remote_errors(base):
        files = resolve_attempt_files(str(candidate))
    if not all(_inside(Path(f), base) for f in files):
        raise _outside()  # a symlink inside that points out
    return str(candidate)


def redact(message: str, base: Path) -> str:
    """`message` with paths relative to `base`, other absolute paths and quoted values hidden."""
    prefix = str(base).rstrip("/") + "/"
    message = message.replace(prefix, "").replace(str(base), ".")
    message = _QUOTED.sub("'…'", message)
    return _ABSOLUTE_PATH.sub("<server path>", message)


@contextmanager
def remote_errors(base: Path) -> Iterator[None]:
    """Re-raise InvalidInput with `redact`ed message and problems."""
    try:
        yield
    except InvalidInput as exc:
        head = redact(exc.args[0] if exc.args else "", base)
        raise InvalidInput(head, [redact(p, base) for p in exc.problems]) from None
