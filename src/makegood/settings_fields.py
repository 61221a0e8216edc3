"""The validator of the settings, built by pydantic-core from the annotations of their class.

pydantic's own model machinery costs every command about 0.06 s at start (its imports, the
model's build and a scan of every installed package's entry points for plugins); the settings
need only the validator underneath it. This module builds the same validator pydantic would
from the same declarations, so values are coerced and refused with pydantic's own messages
(`tests/unit/test_settings_fields.py` checks each field against a pydantic model):

- `str`, `int`, `float`, `bool`, `Path` and `X | None` fields, with their defaults validated;
- `Annotated[int, AtLeast(1)]` is pydantic's `Field(ge=1)`, `Annotated[str, Matches(P)]` its
  `Field(pattern=P)`;
- `Annotated[str, Check(f)]` is an after-validator of that field: `f(value)` returns the value or
  raises ValueError;
- the class's `CHECKS` are its model validators (mode "after"), in order: each takes the dict of
  validated values and returns it, or raises ValueError.

Loading pydantic-core itself is about a tenth of a no-work command's start-up (issue 13, item
4), for values that are nearly always the defaults or plain text. So `read_plainly` reads them
first, in plain Python, where it can promise pydantic-core's result (a default, a number of
digits, a boolean word, a path, a value already of its type); for anything else it gives up and
the validator decides, so what is refused is refused by pydantic-core, with its messages
(`tests/unit/test_settings_fields.py` holds the two readings equal).
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin, get_type_hints

if TYPE_CHECKING:
    from pydantic_core import SchemaValidator

Values = dict[str, Any]


@dataclass(frozen=True)
class AtLeast:
    """The field's value must be at least `minimum` (pydantic's `ge`)."""

    minimum: int


@dataclass(frozen=True)
class Matches:
    """The field's text must match `pattern` (pydantic's `pattern`)."""

    pattern: str


@dataclass(frozen=True)
class Check:
    """An after-validator of one field."""

    function: Callable[[Any], Any]


def _after(function: Callable[[Any], Any], schema: Values) -> Values:
    return {
        "type": "function-after",
        "function": {"type": "no-info", "function": function},
        "schema": schema,
    }


# As pydantic's schema of pathlib.Path: a Path as it is, or a string made into one.
_PATH: Values = {
    "type": "lax-or-strict",
    "lax_schema": {
        "type": "union",
        "choices": [
            {"type": "is-instance", "cls": Path},
            _after(Path, {"type": "str", "strict": True}),
        ],
        "custom_error_type": "path_type",
        "custom_error_message": f"Input is not a valid path for {Path}",
    },
    "strict_schema": {"type": "is-instance", "cls": Path},
}
_SIMPLE: Mapping[Any, Values] = {
    str: {"type": "str"},
    int: {"type": "int"},
    float: {"type": "float"},
    bool: {"type": "bool"},
    Path: _PATH,
}


def _schema_of(hint: Any) -> Values:
    origin = get_origin(hint)
    if origin is Annotated:
        base, *extras = get_args(hint)
        schema = _schema_of(base)
        for extra in extras:
            if isinstance(extra, AtLeast):
                schema = {**schema, "ge": extra.minimum}
            elif isinstance(extra, Matches):
                schema = {**schema, "pattern": extra.pattern}
            elif isinstance(extra, Check):
                schema = _after(extra.function, schema)
            else:
                raise TypeError(f"unknown setting annotation {extra!r}")
        return schema
    if origin in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(args) != 1:
            raise TypeError(f"a setting is one type or None, not {hint}")
        return {"type": "nullable", "schema": _schema_of(args[0])}
    if hint not in _SIMPLE:
        raise TypeError(f"no schema for a setting of type {hint}")
    return _SIMPLE[hint]


def field_names(cls: type) -> list[str]:
    """The settings' fields, in declaration order: every annotated attribute of the class."""
    return list(cls.__annotations__)


def build_validator(cls: type, checks: tuple[Callable[[Values], Values], ...]) -> SchemaValidator:
    """One validator of a dict of raw values into the dict of every field's value."""
    hints = get_type_hints(cls, include_extras=True)
    fields = {
        name: {
            "type": "typed-dict-field",
            "required": False,
            "schema": {
                "type": "default",
                "schema": _schema_of(hints[name]),
                "default": getattr(cls, name),
            },
        }
        for name in field_names(cls)
    }
    schema: Values = {
        "type": "typed-dict",
        "fields": fields,
        "config": {
            "title": cls.__name__,
            "extra_fields_behavior": "ignore",
            "validate_default": True,
        },
    }
    for check in checks:
        schema = _after(check, schema)
    from pydantic_core import SchemaValidator

    return SchemaValidator(schema)


class _Unsure(Exception):
    """The plain reading cannot promise pydantic-core's result for a value."""


# pydantic's words for a boolean, as it reads them from text (in any case, without blanks).
_BOOLEAN_WORDS = {
    **dict.fromkeys(("0", "off", "f", "false", "n", "no"), False),
    **dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True),
}


def _digits(text: str, most: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= most


def _plain_str(value: Any) -> Any:
    if type(value) is str:
        return value
    raise _Unsure


def _plain_int(value: Any) -> Any:
    if type(value) is int:
        return value
    # Digits without a sign, blanks, underscores or leading zeros: int() reads them as pydantic.
    if type(value) is str and _digits(value, 18) and (value == "0" or value[0] != "0"):
        return int(value)
    raise _Unsure


def _plain_float(value: Any) -> Any:
    if type(value) is float:
        return value
    if type(value) is str:
        whole, point, fraction = value.partition(".")
        # Both round the decimal to the nearest double: the same float.
        if _digits(whole, 15) and (not point or _digits(fraction, 15)):
            return float(value)
    raise _Unsure


def _plain_bool(value: Any) -> Any:
    if type(value) is bool:
        return value
    if type(value) is str and value.isascii() and value.lower() in _BOOLEAN_WORDS:
        return _BOOLEAN_WORDS[value.lower()]
    raise _Unsure


def _plain_path(value: Any) -> Any:
    if isinstance(value, Path):
        return value
    if type(value) is str:
        return Path(value)
    raise _Unsure


_PLAIN: Mapping[Any, Callable[[Any], Any]] = {
    str: _plain_str,
    int: _plain_int,
    float: _plain_float,
    bool: _plain_bool,
    Path: _plain_path,
}


def _read(hint: Any, value: Any) -> Any:
    """`value` as pydantic-core reads it for a field of type `hint`, or _Unsure."""
    origin = get_origin(hint)
    if origin is Annotated:
        base, *extras = get_args(hint)
        value = _read(base, value)
        for extra in extras:
            if isinstance(extra, AtLeast):
                if not value >= extra.minimum:
                    raise _Unsure
            elif isinstance(extra, Matches):
                # Matched whole by Python's re, the patterns used (anchored, ASCII classes) are
                # found by pydantic-core's regex too.
                if not re.fullmatch(extra.pattern, value):
                    raise _Unsure
            else:
                value = _checked(extra.function, value)
        return value
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(args) != 1:  # which member pydantic-core picks is its own to say
            raise _Unsure
        return _read(args[0], value)
    reader = _PLAIN.get(hint)
    if reader is None:  # a type the plain reading does not know (a field added since)
        raise _Unsure
    return reader(value)


def _checked(check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except (ValueError, AssertionError):  # pydantic-core's to report, as a validation error
        raise _Unsure from None


def read_plainly(
    cls: type, checks: tuple[Callable[[Values], Values], ...], raw: Mapping[str, Any]
) -> Values | None:
    """What `build_validator(cls, checks)` validates `raw` into, read without pydantic-core; or
    None when this reading cannot promise that result (a value it does not know to be valid, or
    a check that refuses), and the validator must decide."""
    hints = get_type_hints(cls, include_extras=True)
    try:
        values = {
            name: _read(hints[name], raw[name] if name in raw else getattr(cls, name))
            for name in field_names(cls)
        }
        for check in checks:
            values = _checked(check, values)
    except _Unsure:
        return None
    return values
