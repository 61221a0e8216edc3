"""Reading a policy document from TOML or JSON text, with errors naming file, line and key.

tomllib and json give no positions for keys, so `key_lines` finds the line that defines each
key in the source text: enough to point at `FILE:LINE` for any problem `from_document` finds.
"""

from __future__ import annotations

import json
import re
import tomllib
from decimal import Decimal
from typing import Any

from makegood.domain.errors import InvalidInput
from makegood.domain.policy import CreditPolicy
from makegood.domain.policy_document import Path, PolicyError, dotted, from_document

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")
_INLINE_KEY = re.compile(r"([A-Za-z0-9_\-\"']+)\s*=")
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _key_parts(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def toml_key_lines(text: str) -> dict[Path, int]:
    """The line (from 1) of each table header and key of a TOML document, by key path."""
    lines: dict[Path, int] = {}
    prefix: Path = ()
    counts: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = _key_parts(header.group(2))
            if header.group(1) == "[[":
                index = counts.get(name, -1) + 1
                counts[name] = index
                prefix = (*name, index)
            else:
                prefix = name
            lines.setdefault(prefix, number)
            continue
        key = _KEY.match(line)
        if not key:
            continue
        path = (*prefix, *_key_parts(key.group(1)))
        lines.setdefault(path, number)
        rest = line[key.end() :]
        if "{" in rest:  # an inline table: its keys live on this line
            for inner in _INLINE_KEY.finditer(rest.split("#", 1)[0]):
                lines.setdefault((*path, inner.group(1).strip("\"'")), number)
    return lines


def json_key_lines(text: str) -> dict[Path, int]:
    """The line (from 1) of each key and array element of a JSON document, by key path."""
    lines: dict[Path, int] = {}
    stack: list[list[Any]] = []  # [kind, key or index] per open container
    pending: str | None = None
    i, line, n = 0, 1, len(text)

    def here() -> Path:
        return tuple(frame[1] for frame in stack if frame[1] is not None)

    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            word = text[i + 1 : end]
            if stack and stack[-1][0] == "{" and pending is None:
                after = text[end + 1 :].lstrip()
                if after.startswith(":"):
                    pending = word
                    stack[-1][1] = word
                    lines.setdefault(here(), line)
            i = end
        elif ch in "{[":
            if stack and stack[-1][0] == "[":
                lines.setdefault(here(), line)
            stack.append([ch, None if ch == "{" else 0])
            pending = None
        elif ch in "}]":
            if stack:
                stack.pop()
        elif ch == ",":
            if stack and stack[-1][0] == "[":
                stack[-1][1] += 1
            pending = None
        i += 1
    return lines


def _line_of(lines: dict[Path, int], path: Path) -> int:
    for cut in range(len(path), 0, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return 1


def looks_like_json(text: str) -> bool:
    return text.lstrip().startswith("{")


def parse_document(text: str, source: str, fmt: str | None = None) -> dict[str, Any]:
    """The document held by `text` (fmt "toml" or "json"; None: JSON when it starts with "{")."""
    is_json = fmt == "json" or (fmt is None and looks_like_json(text))
    try:
        if is_json:
            doc = json.loads(text, parse_float=Decimal)
            if not isinstance(doc, dict):
                raise InvalidInput(f"{source}:1: the policy must be a JSON object")
            return doc
        return tomllib.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{source}:{exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno}); "
            "fix the syntax (docs/policies.md shows the format)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_AT.search(str(exc))
        # "at end of document": the last line is where the document stopped short.
        line = found.group(1) if found else str(max(1, len(text.splitlines())))
        problem = _TOML_AT.sub("", str(exc)).strip()
        raise InvalidInput(
            f"{source}:{line}: not valid TOML ({problem}); fix the syntax "
            "(docs/policies.md shows the format)"
        ) from None


def read_policy(text: str, source: str, fmt: str | None = None) -> CreditPolicy:
    """Parse and check a policy; any problem names `source`, the line, the key and what to do."""
    doc = parse_document(text, source, fmt)
    try:
        return from_document(doc)
    except PolicyError as exc:
        is_json = fmt == "json" or (fmt is None and looks_like_json(text))
        lines = json_key_lines(text) if is_json else toml_key_lines(text)
        line = _line_of(lines, exc.path)
        raise InvalidInput(
            f"{source}:{line}: key {dotted(exc.path)}: {exc.problem} (docs/policies.md)"
        ) from None
