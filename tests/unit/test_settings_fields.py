"""The settings' validator, built by pydantic-core from the Settings class (settings_fields.py),
accepts, coerces and refuses every field's values exactly as a pydantic model of the same
declarations does: the same values out, the same errors (type, field, message)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from makegood.settings import Settings
from makegood.settings_fields import AtLeast, Check, Matches, build_validator, field_names

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
