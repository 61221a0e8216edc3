"""The settings' validator, built by pydantic-core from the Settings class (settings_fields.py),
accepts, coerces and refuses every field's values exactly as a pydantic model of the same
declarations does: the same values out, the same errors (type, field, message). The plain
reading that spares a command loading pydantic-core gives the validator's values or gives up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from makegood.settings import CHECKS, Settings
from makegood.settings_fields import (
    AtLeast,
    Check,
    Matches,
    build_validator,
    field_names,
    read_plainly,
)

# Text as the environment gives it, and Python values as code passes them.
SAMPLES: list[Any] = [
    "", " 7 ", "7", "-1", "0", "4096", "1_000", "1.5", "1e3", "inf", "true", "no", "abc",
    "/srv/x", "a\nb", "None", "memory://", " redis://127.0.0.1:6379/0 ", "redis://h:x/0",
    "makegood", "bad prefix!", None, 5, 2.0, 2.5, True, Path("/x"), b"bytes", [1],
]  # fmt: skip


def _as_pydantic(hint: Any) -> Any:
    if get_origin(hint) is not Annotated:
        return hint
    base, *extras = get_args(hint)
    marks: list[Any] = []
    for extra in extras:
        if isinstance(extra, AtLeast):
            marks.append(Field(ge=extra.minimum))
        elif isinstance(extra, Matches):
            marks.append(Field(pattern=extra.pattern))
        elif isinstance(extra, Check):
            marks.append(AfterValidator(extra.function))
    return Annotated[base, *marks]


def reference_model() -> type[BaseModel]:
    hints = get_type_hints(Settings, include_extras=True)
    fields: Any = {
        name: (_as_pydantic(hints[name]), getattr(Settings, name)) for name in field_names(Settings)
    }
    config = ConfigDict(extra="ignore", validate_default=True)
    return create_model("Settings", __config__=config, **fields)


def _outcome(validate: Any, data: dict[str, Any], name: str) -> Any:
    try:
        result = validate(data)
    except ValidationError as exc:
        return [
            (e["type"], e["loc"], e["msg"])
            for e in exc.errors(include_url=False, include_input=False)
        ]
    return getattr(result, name) if isinstance(result, BaseModel) else result[name]


@pytest.mark.parametrize("name", field_names(Settings))
def test_each_field_validates_as_pydantic_would(name: str) -> None:
    ours = build_validator(Settings, ()).validate_python
    theirs = reference_model().model_validate
    for value in SAMPLES:
        expected = _outcome(theirs, {name: value}, name)
        got = _outcome(ours, {name: value}, name)
        assert (value, got) == (value, expected)
        assert type(got) is type(expected)


def test_the_defaults_are_pydantic_s() -> None:
    ours = build_validator(Settings, ()).validate_python({})
    theirs = reference_model()()
    assert ours == dict(theirs)
    assert len(ours) > 60  # every annotated attribute is a setting


# Text an operator may write for a number, a boolean or a path, beside SAMPLES' odd cases.
PLAIN_SAMPLES: list[Any] = [
    "00", "007", "12345678901234567890", "1.", ".5", "1.50", "-0", "+1", "\u0663", "\uff11", "1 ",
    "TRUE", "Yes", "OFF", "t", "N", "on ", "İ", "srv/x", ".", "a" * 65, "make good",
    "make\ngood", "makegood\n", Path("rel"), 0, -3, 10**20, 0.0, float("inf"), False,
]  # fmt: skip


@pytest.mark.parametrize("name", field_names(Settings))
def test_the_plain_reading_gives_pydantic_core_s_value_or_gives_up(name: str) -> None:
    # Read without pydantic-core where it can promise the validator's value (settings.py reads
    # the environment so at every start), never another value nor an error of its own.
    validate = build_validator(Settings, ()).validate_python
    for value in SAMPLES + PLAIN_SAMPLES:
        plain = read_plainly(Settings, (), {name: value})
        if plain is None:
            continue
        expected = validate({name: value})
        assert (value, plain) == (value, expected)
        assert type(plain[name]) is type(expected[name])


def test_the_defaults_and_the_common_spellings_are_read_plainly() -> None:
    defaults = read_plainly(Settings, CHECKS, {})
    assert defaults == build_validator(Settings, CHECKS).validate_python({})
    common = {
        "database_pool_size": "7",
        "grant_at_expiry": "true",
        "template_dir": "/srv/templates",
        "smtp_timeout_seconds": "2.5",
        "smtp_url": "smtp://127.0.0.1:25",
        "rate_limit_prefix": "shop.eu",
    }
    assert read_plainly(Settings, CHECKS, common) == build_validator(
        Settings, CHECKS
    ).validate_python(common)


def test_a_value_a_check_refuses_is_left_to_pydantic_core() -> None:
    # Its message is pydantic-core's (settings_problems reads it): the plain reading gives up.
    assert read_plainly(Settings, CHECKS, {"mail_from": "not an address"}) is None
    assert read_plainly(Settings, CHECKS, {"service_name": "two\nlines"}) is None
    assert read_plainly(Settings, CHECKS, {"database_pool_size": "0"}) is None


class _Wider:
    """Fields of types the plain reading does not know."""

    tags: tuple[str, ...] = ()
    limit: int | str = 5


def test_a_field_of_a_type_the_plain_reading_does_not_know_is_left_to_pydantic_core() -> None:
    assert read_plainly(_Wider, (), {}) is None
    assert read_plainly(_Wider, (), {"tags": ("a",), "limit": "7"}) is None
