"""The options naming playback-attempt logs, how to read them and which engine scans them,
shared by every command that reads them (cohort, detect, campaign create, incident create
--from-detection). Light on purpose: `campaign` imports it for every sub-command."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from makegood.telemetry.engines import ENGINES
from makegood.telemetry.source import BAD_ROW_POLICIES, AttemptSource

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
    click.option(
        "--map",
        "maps",
        multiple=True,
        metavar="COLUMN=SOURCE",
        help="Read a contract column from another source column: --map ts=event_time (repeat).",
    ),
    click.option(
        "--failure-values",
        metavar="V1,V2",
        help="Outcome values meaning a failed attempt (default: failure).",
    ),
    click.option(
        "--success-values",
        metavar="V1,V2",
        help="Outcome values meaning a successful attempt (default: success).",
    ),
    click.option(
        "--on-bad-rows",
        type=click.Choice(BAD_ROW_POLICIES),
        default="fail",
        show_default=True,
        help="Rows with an unparseable timestamp or outcome: stop (fail) or leave out (skip).",
    ),
)


def attempt_source_options(*, events_required: bool = True) -> Callable[[F], F]:
    """Add --events and the reader options; the command receives one `source` argument (an
    AttemptSource, or None when --events is optional and not given)."""

    def decorate(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            events = kwargs.pop("events")
            maps = kwargs.pop("maps")
            failure, success = kwargs.pop("failure_values"), kwargs.pop("success_values")
            on_bad_rows = kwargs.pop("on_bad_rows")
            kwargs["source"] = (
                None
                if events is None
                else AttemptSource.from_options(events, maps, failure, success, on_bad_rows)
            )
            return func(*args, **kwargs)

        command: Any = wrapper
        for option in reversed(_OPTIONS):
            command = option(command)
        command = click.option(
            "--events",
            required=events_required,
            help="Playback-attempt logs: a .csv/.parquet/.jsonl/.ndjson/.json file, a directory "
            "of them, or a glob.",
        )(command)
        return command  # type: ignore[no-any-return]

    return decorate


def engine_option(func: click.decorators.FC) -> click.decorators.FC:
    """--engine and --master, shared by cohort, detect and campaign create."""
    func = click.option(
        "--master", default=None, help="Spark master URL for --engine spark (default local[*])."
    )(func)
    return click.option(
        "--engine",
        type=click.Choice(ENGINES),
        default="duckdb",
        show_default=True,
        help="What scans the logs; both give identical results.",
    )(func)
