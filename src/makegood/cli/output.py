"""CLI conventions: ids and JSON on stdout, human messages on stderr, domain errors as exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click
from pydantic_core import ValidationError

from makegood.domain.errors import InvalidInput, InvalidState, MakegoodError, NotFound

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILED = 1  # the command ran but something it did failed (a message not sent)
EXIT_BAD_INPUT = 2  # bad input or usage: nothing was changed
EXIT_NOT_FOUND = 3
EXIT_WRONG_STATE = 4


def say(message: str) -> None:
    """A human message: always standard error, so standard output stays machine-readable."""
    click.echo(message, err=True)


def print_id(new_id: str) -> None:
    """The id of what a command created: the last line of standard output."""
    click.echo(new_id)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(document: Any) -> None:
    """Exactly one JSON document on standard output."""
    click.echo(json.dumps(document, default=_default, ensure_ascii=False, indent=2))


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into a clear message on stderr and a distinct exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except InvalidInput as exc:
            say(f"error: {exc}")
            sys.exit(EXIT_BAD_INPUT)
        except ValidationError as exc:  # the settings, read from the environment
            for problem in settings_problems(exc):
                say(f"error: {problem}")
            sys.exit(EXIT_BAD_INPUT)
        except NotFound as exc:
            say(f"error: {exc}")
            sys.exit(EXIT_NOT_FOUND)
        except InvalidState as exc:
            say(f"error: {exc}")
            sys.exit(EXIT_WRONG_STATE)
        except MakegoodError as exc:
            say(f"error: {exc}")
            sys.exit(EXIT_FAILED)

    return wrapper


def settings_problems(exc: ValidationError) -> list[str]:
    """One line per setting in error, named as the operator sets it (MAKEGOOD_...), without
    the value given (it may be a secret)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field = ".".join(str(part) for part in error["loc"])
        if field:
            problems.append(f"MAKEGOOD_{field.upper()}: {message}")
        else:
            problems.append(message)
    return problems
