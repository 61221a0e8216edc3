"""Where playback attempts come from and how to read them: one value object for every engine.

`AttemptSource` names the files (a file, a directory or a glob) and how their columns and
outcome values map onto the attempt contract (`account_id, ts, outcome` and optionally
`error_code, region, device`). The cohort, detection and campaign commands all take one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from makegood.domain.errors import InvalidInput

CONTRACT_COLUMNS = ("account_id", "ts", "outcome", "error_code", "region", "device")
BAD_ROW_POLICIES = ("fail", "skip")
DEFAULT_FAILURE_VALUES = ("failure",)
DEFAULT_SUCCESS_VALUES = ("success",)


@dataclass(frozen=True)
class AttemptSource:
    """Attempt files and how to read them.

    - `path`: a .csv / .parquet / .jsonl / .ndjson / .json file, a directory of them, or a glob.
    - `column_map`: contract column -> source column (`{"ts": "event_time"}`); unmapped contract
      columns are read under their own name.
    - `failure_values` / `success_values`: outcome values (compared after trimming surrounding
      blanks, case-sensitive) meaning a failed / a successful attempt; any other value is a bad row.
    - `on_bad_rows`: `fail` refuses the source when a row has an unparseable timestamp or
      outcome; `skip` leaves such rows out and counts them.
    """

    path: str
    column_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    failure_values: tuple[str, ...] = DEFAULT_FAILURE_VALUES
    success_values: tuple[str, ...] = DEFAULT_SUCCESS_VALUES
    on_bad_rows: str = "fail"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.column_map) - set(CONTRACT_COLUMNS))
        if unknown:
            raise InvalidInput(
                f"--map {unknown[0]}=...: {unknown[0]!r} is not an attempt column; "
                f"use one of {', '.join(CONTRACT_COLUMNS)}"
            )
        if not self.failure_values or not self.success_values:
            raise InvalidInput("--failure-values / --success-values: give at least one value")
        both = sorted(set(self.failure_values) & set(self.success_values))
        if both:
            raise InvalidInput(f"outcome value {both[0]!r} is both a failure and a success value")
        if self.on_bad_rows not in BAD_ROW_POLICIES:
            raise InvalidInput(f"--on-bad-rows: use one of {', '.join(BAD_ROW_POLICIES)}")
        object.__setattr__(self, "column_map", MappingProxyType(dict(self.column_map)))

    def column(self, name: str) -> str:
        """The source column holding contract column `name`."""
        return self.column_map.get(name, name)

    def label(self, name: str) -> str:
        """How messages name a column: `event_time (ts)` when mapped, else `ts`."""
        source = self.column(name)
        return source if source == name else f"{source} ({name})"

    @classmethod
    def of(cls, source: str | AttemptSource) -> AttemptSource:
        """`source` itself, or a source with the default contract for a bare path."""
        return source if isinstance(source, AttemptSource) else cls(str(source))

    @classmethod
    def from_options(
        cls,
        path: str,
        maps: Iterable[str] = (),
        failure_values: str | None = None,
        success_values: str | None = None,
        on_bad_rows: str = "fail",
    ) -> AttemptSource:
        """Build a source from command-line text: `--map ts=event_time` (repeatable) and
        comma-separated `--failure-values error,timeout` / `--success-values ok`."""
        column_map: dict[str, str] = {}
        for item in maps:
            name, sep, source = (part.strip() for part in item.partition("="))
            if not sep or not name or not source:
                raise InvalidInput(f"--map {item!r}: write it as COLUMN=SOURCE, e.g. ts=event_time")
            if name in column_map:
                raise InvalidInput(f"--map: {name} is mapped twice")
            column_map[name] = source
        return cls(
            path=path,
            column_map=column_map,
            failure_values=_values(failure_values, DEFAULT_FAILURE_VALUES),
            success_values=_values(success_values, DEFAULT_SUCCESS_VALUES),
            on_bad_rows=on_bad_rows,
        )


def _values(text: str | None, default: Sequence[str]) -> tuple[str, ...]:
    if text is None:
        return tuple(default)
    return tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
