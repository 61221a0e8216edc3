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
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

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
    return SchemaValidator(schema)
