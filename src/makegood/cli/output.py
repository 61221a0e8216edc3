"""CLI conventions: ids and JSON on stdout, human messages on stderr, domain errors as exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeGuard, TypeVar

import click

from makegood.domain.errors import InvalidInput, InvalidState, MakegoodError, NotFound

if TYPE_CHECKING:
    from pydantic_core import ValidationError

    from makegood.bootstrap import Container

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
    """Turn domain errors, and a database whose schema is not the newest, into a clear message
    on stderr and a distinct exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            problems, code = _explained(exc)
            if not problems:
                raise
            for problem in problems:
                say(f"error: {problem}")
            sys.exit(code)

    return wrapper


def _explained(exc: Exception) -> tuple[list[str], int]:
    """The lines that tell the operator what went wrong and the exit code; no lines for an
    error this edge does not know (it stays a traceback: a defect to fix)."""
    database = _database_problem(exc)
    if database is not None:  # first: a domain error may carry the database's error as cause
        return [database], EXIT_BAD_INPUT
    if isinstance(exc, InvalidInput):
        return [str(exc)], EXIT_BAD_INPUT
    if _is_validation_error(exc):  # the settings, read from the environment
        return settings_problems(exc), EXIT_BAD_INPUT
    if isinstance(exc, NotFound):
        return [str(exc)], EXIT_NOT_FOUND
    if isinstance(exc, InvalidState):
        return [str(exc)], EXIT_WRONG_STATE
    if isinstance(exc, MakegoodError):
        return [str(exc)], EXIT_FAILED
    return [], EXIT_FAILED


def _is_validation_error(exc: Exception) -> TypeGuard[ValidationError]:
    # pydantic-core is loaded only when a setting needed it (settings_fields.py): without it,
    # nothing raised its error.
    if "pydantic_core" not in sys.modules:
        return False
    from pydantic_core import ValidationError

    return isinstance(exc, ValidationError)


# Set on the click context by `db upgrade` while it migrates.
MIGRATING = "makegood.migrating"


def _database_problem(exc: BaseException) -> str | None:
    """When no connection to the database could be opened, or it said a table or column is
    missing (in `exc` or what caused it) because it is not migrated to the newest schema: that,
    naming the database without its password, and what to do. Nothing is checked at start (a
    command's start-up stays short); only here, once something failed."""
    if "sqlalchemy" not in sys.modules:  # nothing has talked to the database
        return None
    from makegood.bootstrap import Container
    from makegood.store.engine import connect_failure, names_missing_schema

    ctx = click.get_current_context(silent=True)
    container = ctx.find_root().obj if ctx is not None else None
    if not isinstance(container, Container):
        return None
    database = _database_named(container)
    # Only the error itself: a use case that wraps a lost connection says what to do next.
    unreachable = connect_failure(exc)
    if unreachable is not None:
        return (
            f"cannot connect to {database}: {unreachable}; start or create it, or correct "
            "the setting"
        )
    if ctx is not None and ctx.meta.get(MIGRATING):
        return None  # `db upgrade` failed on a missing table: "run db upgrade" would not help
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    if not any(map(names_missing_schema, chain)):
        return None
    return _schema_problem(container)


def refuse_old_schema(container: Container) -> None:
    """At the start of a long-running process (`serve`, `worker`), not of a command: stop with
    the line a command gives when it meets a missing table or column, exit 2, unless the
    database is at the newest migration (one that does not answer raises the driver's error,
    which handles_errors names)."""
    problem = _schema_problem(container, unreachable=True)
    if problem is not None:
        say(f"error: {problem}")
        sys.exit(EXIT_BAD_INPUT)


def _schema_problem(container: Container, *, unreachable: bool = False) -> str | None:
    from makegood.store.migrate import schema_behind

    behind = schema_behind(container.engine, unreachable=unreachable)
    return None if behind is None else f"{_database_named(container)} {behind}"


def _database_named(container: Container) -> str:
    from makegood.store.engine import shown_url

    return f"the database MAKEGOOD_DATABASE_URL={shown_url(container.settings.database_url)}"


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
