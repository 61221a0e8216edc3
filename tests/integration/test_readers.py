"""Attempt readers: JSON lines, column and outcome mapping, naive UTC, bad rows fail or skip."""

# ruff: noqa: S608 - the SQL here only names files the tests wrote into tmp_path.

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from makegood.domain.errors import InvalidInput
from makegood.telemetry.cohort import compute_cohort
from makegood.telemetry.source import AttemptSource
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv

START = datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
END = datetime(2026, 3, 22, 16, 0, tzinfo=UTC)
LOG_COLUMNS = ["user", "event_time", "status", "zone", "client"]
MAPPED = ("account_id=user", "ts=event_time", "outcome=status", "region=zone", "device=client")


def write_jsonl(path: Path, records: Iterable[Mapping[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def log(user: str, when: str, status: str = "error", zone: str = "us-east") -> dict[str, str]:
    """A row of a service's own log format, before mapping."""
    return {"user": user, "event_time": when, "status": status, "zone": zone, "client": "tv"}


def mapped(path: Path, on_bad_rows: str = "fail") -> AttemptSource:
    return AttemptSource.from_options(str(path), MAPPED, "error,timeout", "ok", on_bad_rows)


def affected(source: AttemptSource | Path, regions: list[str] | None = None) -> list[str]:
    events = source if isinstance(source, AttemptSource) else str(source)
    with compute_cohort(events, START, END, regions or [], []) as result:
        return [row.account_id for row in result.rows()]


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_json_lines_are_read_like_csv(tmp_path: Path, suffix: str) -> None:
    path = write_jsonl(
        tmp_path / f"attempts{suffix}",
        [
            attempt("acc_a", "2026-03-22T13:00:00Z"),
            attempt("acc_b", "2026-03-22T13:00:00Z", outcome="success"),
            attempt("acc_c", "2026-03-22T17:30:00+05:30"),  # 12:00Z, the window's start
            {"account_id": "acc_d", "ts": "2026-03-22T13:00:00Z", "outcome": "failure"},
        ],
    )
    assert affected(path) == ["acc_a", "acc_c", "acc_d"]


def test_a_json_array_document_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "attempts.json"
    path.write_text(json.dumps([attempt("acc_a", "2026-03-22T13:00:00Z")]))
    assert affected(path) == ["acc_a"]


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_columns_and_outcome_values_are_mapped(tmp_path: Path, kind: str) -> None:
    rows = [
        log("u1", "2026-03-22T13:00:00Z", "error"),
        log("u2", "2026-03-22T13:00:00Z", "timeout", zone="eu-west"),
        log("u3", "2026-03-22T13:00:00Z", "ok"),
        log("u4", "2026-03-22T11:00:00Z", "error"),
    ]
    staging = write_csv(tmp_path / "logs.csv", LOG_COLUMNS, rows)
    path = staging
    if kind == "jsonl":
        path = write_jsonl(tmp_path / "logs.jsonl", rows)
    elif kind == "parquet":
        path = tmp_path / "logs.parquet"
        conn = duckdb.connect()
        conn.execute(
            f"COPY (SELECT * FROM read_csv('{staging}', all_varchar = true)) TO '{path}' "
            f"(FORMAT parquet)"
        )
        conn.close()
    assert affected(mapped(path)) == ["u1", "u2"]
    assert affected(mapped(path), regions=["eu-west"]) == ["u2"]
    # Unmapped, the same file lacks the contract's columns.
    with pytest.raises(InvalidInput, match="column account_id: missing"):
        affected(path)


def test_naive_timestamps_are_utc_and_the_window_bounds_hold(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("before", "2026-03-22T11:59:59.999999"),
            attempt("at_start", "2026-03-22T12:00:00"),
            attempt("space", "2026-03-22 15:59:59"),
            attempt("at_end", "2026-03-22T16:00:00"),
            attempt("offset", "2026-03-22T07:59:59-08:00"),  # 15:59:59Z
        ],
    )
    with compute_cohort(str(path), START, END, [], []) as result:
        rows = {row.account_id: row for row in result.rows()}
    assert sorted(rows) == ["at_start", "offset", "space"]
    assert rows["at_start"].first_failure_at == START


def test_a_missing_mapped_column_is_named_with_its_mapping(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "logs.csv", ["user", "status", "zone"], [])
    source = AttemptSource.from_options(str(path), ["ts=event_time", "account_id=user"])
    with pytest.raises(InvalidInput, match=r"logs\.csv:1: column event_time: missing \(required; "):
        affected(source)
    jsonl = write_jsonl(tmp_path / "logs.jsonl", [{"user": "u1", "status": "error"}])
    with pytest.raises(InvalidInput, match=r"logs\.jsonl: column event_time: missing"):
        affected(AttemptSource.from_options(str(jsonl), ["ts=event_time", "account_id=user"]))


BAD_ROWS = [
    log("u1", "2026-03-22T13:00:00Z"),
    log("u2", "not a time"),
    log("u3", "2026-03-22T13:00:00Z", "maybe"),
    log("u4", "2026-03-22T13:30:00Z", "timeout"),
    log("u5", "2026-03-22T13:00:00Z", ""),
]


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_bad_rows_stop_the_work_by_default_with_counts_and_lines(tmp_path: Path, kind: str) -> None:
    if kind == "csv":
        path = write_csv(tmp_path / "logs.csv", LOG_COLUMNS, BAD_ROWS)
        first = 3  # the header is line 1
    else:
        path = write_jsonl(tmp_path / "logs.jsonl", BAD_ROWS)
        first = 2
    with pytest.raises(InvalidInput) as caught:
        affected(mapped(path))
    assert str(caught.value).startswith("3 attempt row(s) break the contract")
    assert "--on-bad-rows skip" in str(caught.value)
    assert caught.value.problems[0] == (
        f"{path}:{first}: column event_time (ts): 'not a time' is not an ISO 8601 timestamp "
        f"(e.g. 2026-03-22T20:14:00+05:30, 2026-03-22T14:44:00Z, or 2026-03-22T14:44:00 read "
        f"as UTC)"
    )
    assert caught.value.problems[1:] == [
        f"{path}:{first + 1}: column status (outcome): 'maybe' is not one of error, timeout, ok",
        f"{path}:{first + 3}: column status (outcome): empty is not one of error, timeout, ok",
    ]


def test_bad_rows_can_be_skipped_and_are_counted_with_examples(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "logs.csv", LOG_COLUMNS, BAD_ROWS)
    said: list[str] = []
    with compute_cohort(mapped(path, "skip"), START, END, [], [], say=said.append) as result:
        assert [row.account_id for row in result.rows()] == ["u1", "u4"]
        assert result.stats.rows_bad == 3
        assert result.stats.rows_read == 5
    assert "skipped 3 row(s) with a bad timestamp or outcome, e.g.:" in said
    assert f"  {path}:3: column event_time (ts): 'not a time'" in "\n".join(said)


def test_bad_text_timestamps_in_parquet_are_skipped_by_row(tmp_path: Path) -> None:
    path = tmp_path / "text_ts.parquet"
    conn = duckdb.connect()
    conn.execute(
        f"COPY (SELECT * FROM (VALUES ('acc_a', '2026-03-22T13:00:00', 'failure'), "
        f"('acc_b', 'soon', 'failure')) t(account_id, ts, outcome)) TO '{path}' (FORMAT parquet)"
    )
    conn.close()
    with pytest.raises(InvalidInput, match=r"text_ts\.parquet: row 2: column ts: 'soon'"):
        affected(path)
    assert affected(AttemptSource(str(path), on_bad_rows="skip")) == ["acc_a"]


@pytest.mark.parametrize(
    ("maps", "failure", "success", "message"),
    [
        (["ts"], None, None, "write it as COLUMN=SOURCE"),
        (["when=event_time"], None, None, "'when' is not an attempt column"),
        (["ts=a", "ts=b"], None, None, "ts is mapped twice"),
        ([], "error,ok", "ok", "'ok' is both a failure and a success value"),
        ([], " , ", None, "give at least one value"),
    ],
)
def test_reader_options_are_checked(
    maps: list[str], failure: str | None, success: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        AttemptSource.from_options("logs.csv", maps, failure, success)


PARQUET_CASES: dict[str, list[tuple[str | None, str | None]]] = {
    "clean": [("acc_a", "failure"), ("acc_b", "success")],
    "null id": [("acc_a", "failure"), (None, "failure")],
    "blank id": [("acc_a", "failure"), ("   ", "failure")],
    "unicode-blank id": [("acc_a", "failure"), ("\u00a0\u3000", "failure")],
    "trailing blanks": [("acc_a ", "failure"), ("acc_a\u00a0", "success")],
    "leading blank": [(" acc_a", "failure"), ("acc_b", "success")],
    "padded outcome": [("acc_a", " failure "), ("acc_b", "success")],
    "bad outcome": [("acc_a", "failure"), ("acc_b", "maybe"), ("acc_c", None)],
}


@pytest.mark.parametrize("case", sorted(PARQUET_CASES))
@pytest.mark.parametrize("on_bad_rows", ["fail", "skip"])
def test_the_parquet_footer_check_answers_as_the_full_check(
    tmp_path: Path, case: str, on_bad_rows: str
) -> None:
    """Parquet files with a timestamp ts are cleared from their footers and one outcome scan
    when they can be; whatever the footers show, the counts and messages are the full check's."""
    from makegood.telemetry.attempts import (
        AttemptCounts,
        _clean_by_footers,
        check_attempts,
        create_attempts_view,
    )
    from makegood.telemetry.engine import connect_duckdb
    from makegood.telemetry.files import inspect_files

    path = tmp_path / "logs.parquet"
    conn = connect_duckdb()
    rows: list[tuple[str | None, str | None, str | None]] = [
        (a, "2026-03-22T13:00:00Z", o) for a, o in PARQUET_CASES[case]
    ]
    rows.append(("acc_z", None, "failure"))  # a row without ts, skipped by both
    conn.execute(
        "CREATE TABLE t AS SELECT a AS account_id, ts::TIMESTAMPTZ AS ts, o AS outcome "
        "FROM (SELECT unnest($a) AS a, unnest($t) AS ts, unnest($o) AS o)",
        {"a": [r[0] for r in rows], "t": [r[1] for r in rows], "o": [r[2] for r in rows]},
    )
    conn.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    source = AttemptSource(str(path), on_bad_rows=on_bad_rows)
    files = inspect_files(conn, [str(path)], (), source)
    create_attempts_view(conn, files, source)
    answers: list[AttemptCounts | tuple[str, list[str]]] = []
    for given in (files, ()):
        try:
            answers.append(check_attempts(conn, source, given))
        except InvalidInput as exc:
            answers.append((str(exc), exc.problems))
    assert answers[0] == answers[1]
    # The footers clear only what they can prove; the null ts here is left to the full check.
    assert _clean_by_footers(conn, files, source) is None
    conn.execute("DELETE FROM t WHERE ts IS NULL")
    conn.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    cleared = _clean_by_footers(conn, files, source)
    assert (cleared is not None) == (case in ("clean", "trailing blanks"))
    if cleared is not None:
        assert cleared == check_attempts(conn, source)
    conn.close()


def test_ids_are_trimmed_of_every_unicode_space_and_blank_ids_skipped(tmp_path: Path) -> None:
    rows = [
        attempt("acc_a", "2026-03-22T13:00:00Z"),
        attempt("acc_a\u3000", "2026-03-22T13:01:00Z"),
        attempt("\u00a0acc_a ", "2026-03-22T13:02:00Z"),
        attempt("acc_\u00e9", "2026-03-22T13:03:00Z"),
        attempt("\u00a0", "2026-03-22T13:04:00Z"),
        attempt(" acc_a", "2026-03-22T13:05:00Z"),
        attempt("acc_a ", "2026-03-22T13:06:00Z"),
    ]
    path = write_csv(tmp_path / "logs.csv", ATTEMPT_COLUMNS, rows)
    with compute_cohort(str(path), START, END, [], []) as result:
        found = {row.account_id: row.failed_attempts for row in result.rows()}
        assert result.stats.rows_skipped == 1
    assert found == {"acc_a": 5, "acc_\u00e9": 1}
