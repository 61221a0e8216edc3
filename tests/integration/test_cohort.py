"""The affected cohort computed by DuckDB from real CSV and Parquet attempt files."""

# ruff: noqa: S608 - the SQL here only names files the tests wrote into tmp_path.

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from makegood.domain.errors import InvalidInput
from makegood.telemetry.cohort import CohortRow, compute_cohort
from tests.factories.files import ATTEMPT_COLUMNS, attempt, write_csv

START = datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
END = datetime(2026, 3, 22, 16, 0, tzinfo=UTC)
NOT_A_TIMESTAMP = (
    "is not an ISO 8601 timestamp (e.g. 2026-03-22T20:14:00+05:30, 2026-03-22T14:44:00Z, "
    "or 2026-03-22T14:44:00 read as UTC)"
)


def write_parquet(path: Path, rows: Iterable[Mapping[str, object]]) -> Path:
    """A Parquet attempt file with ts as a real timestamp column (microseconds, UTC)."""
    staging = write_csv(path.with_suffix(".staging.csv"), ATTEMPT_COLUMNS, rows)
    conn = duckdb.connect()
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute(
        f"COPY (SELECT account_id, CAST(ts AS TIMESTAMPTZ) AS ts, outcome, error_code, region, "
        f"device FROM read_csv('{staging}', all_varchar = true, header = true)) "
        f"TO '{path}' (FORMAT parquet)"
    )
    conn.close()
    staging.unlink()
    return path


def write_attempts(path: Path, rows: list[dict[str, object]]) -> Path:
    if path.suffix == ".parquet":
        return write_parquet(path, rows)
    return write_csv(path, ATTEMPT_COLUMNS, rows)


def cohort_of(
    events: Path | str,
    regions: list[str] | None = None,
    devices: list[str] | None = None,
    start: datetime = START,
    end: datetime = END,
) -> dict[str, CohortRow]:
    with compute_cohort(str(events), start, end, regions or [], devices or []) as result:
        rows = list(result.rows())
        assert result.count == len(rows)
        return {row.account_id: row for row in rows}


@pytest.fixture(params=["csv", "parquet"])
def ext(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_failures_in_the_window_make_an_account_affected_with_its_evidence(
    tmp_path: Path, ext: str
) -> None:
    path = write_attempts(
        tmp_path / f"attempts.{ext}",
        [
            attempt("acc_b", "2026-03-22T13:00:00Z"),
            attempt("acc_b", "2026-03-22T14:30:00.250000Z"),
            attempt("acc_a", "2026-03-22T12:10:00Z"),
            attempt("acc_c", "2026-03-22T13:00:00Z", outcome="success"),
            attempt("acc_d", "2026-03-22T11:00:00Z"),  # failed, but before the outage
        ],
    )
    cohort = cohort_of(path)
    assert list(cohort) == ["acc_a", "acc_b"]  # ordered by account_id; successes don't count
    assert cohort["acc_b"] == CohortRow(
        "acc_b",
        2,
        datetime(2026, 3, 22, 13, 0, tzinfo=UTC),
        datetime(2026, 3, 22, 14, 30, 0, 250000, tzinfo=UTC),
        180,  # no success after 13:00, so the impact runs to the window's end at 16:00
    )
    assert cohort["acc_b"].first_failure_at.utcoffset() is not None


def test_window_includes_its_start_and_excludes_its_end(tmp_path: Path, ext: str) -> None:
    path = write_attempts(
        tmp_path / f"attempts.{ext}",
        [
            attempt("at_start", "2026-03-22T12:00:00Z"),
            attempt("just_before", "2026-03-22T11:59:59.999999Z"),
            attempt("just_before_end", "2026-03-22T15:59:59.999999Z"),
            attempt("at_end", "2026-03-22T16:00:00Z"),
        ],
    )
    assert sorted(cohort_of(path)) == ["at_start", "just_before_end"]


def test_offsets_are_converted_to_utc_before_the_window_is_applied(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("ist_before", "2026-03-22T17:29:59+05:30"),  # 11:59:59Z
            attempt("ist_start", "2026-03-22T17:30:00+05:30"),  # 12:00:00Z
            attempt("pst_last", "2026-03-22T07:59:59-08:00"),  # 15:59:59Z
            attempt("pst_end", "2026-03-22T08:00:00-08:00"),  # 16:00:00Z
        ],
    )
    cohort = cohort_of(path)
    assert sorted(cohort) == ["ist_start", "pst_last"]
    assert cohort["ist_start"].first_failure_at == START
    assert cohort["pst_last"].last_failure_at == datetime(2026, 3, 22, 15, 59, 59, tzinfo=UTC)


def test_identical_rows_count_once_but_distinct_attempts_all_count(tmp_path: Path) -> None:
    same = attempt("acc_a", "2026-03-22T13:00:00Z")
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [same, same, same, attempt("acc_a", "2026-03-22T13:00:00Z", device="mobile")],
    )
    with compute_cohort(str(path), START, END, [], []) as result:
        assert [r.failed_attempts for r in result.rows()] == [2]
        assert result.stats.duplicates_ignored == 2
        assert result.stats.failed_attempts == 2


def test_rows_without_account_or_timestamp_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("", "2026-03-22T13:00:00Z"),
            attempt("acc_a", ""),
            attempt("acc_b", "2026-03-22T13:00:00Z"),
        ],
    )
    with compute_cohort(str(path), START, END, [], []) as result:
        assert [r.account_id for r in result.rows()] == ["acc_b"]
        assert result.stats.rows_read == 3
        assert result.stats.rows_skipped == 2


def test_scope_keeps_only_the_incidents_regions_and_devices(tmp_path: Path, ext: str) -> None:
    path = write_attempts(
        tmp_path / f"attempts.{ext}",
        [
            attempt("east_tv", "2026-03-22T13:00:00Z", region="us-east", device="tv"),
            attempt("east_web", "2026-03-22T13:00:00Z", region="us-east", device="web"),
            attempt("west_tv", "2026-03-22T13:00:00Z", region="us-west", device="tv"),
            attempt("eu_mobile", "2026-03-22T13:00:00Z", region="eu-west", device="mobile"),
        ],
    )
    assert sorted(cohort_of(path)) == ["east_tv", "east_web", "eu_mobile", "west_tv"]
    assert sorted(cohort_of(path, regions=["us-east", "eu-west"])) == [
        "east_tv",
        "east_web",
        "eu_mobile",
    ]
    assert sorted(cohort_of(path, devices=["tv"])) == ["east_tv", "west_tv"]
    assert sorted(cohort_of(path, regions=["us-east"], devices=["tv"])) == ["east_tv"]


def test_a_directory_of_mixed_csv_and_parquet_files_and_a_glob(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_csv(logs / "day1.csv", ATTEMPT_COLUMNS, [attempt("acc_a", "2026-03-22T12:30:00Z")])
    write_parquet(logs / "2026" / "day2.parquet", [attempt("acc_b", "2026-03-22T13:30:00Z")])
    # Only account_id, ts, outcome are required; other columns are ignored.
    write_csv(
        logs / "2026" / "day3.csv",
        ["ts", "account_id", "outcome", "session"],
        [{"account_id": "acc_c", "ts": "2026-03-22T14:00:00Z", "outcome": "failure"}],
    )
    (logs / "README.txt").write_text("not an attempt file")
    assert sorted(cohort_of(logs)) == ["acc_a", "acc_b", "acc_c"]
    assert sorted(cohort_of(f"{logs}/**/*.parquet")) == ["acc_b"]
    assert sorted(cohort_of(f"{logs}/day*.csv")) == ["acc_a"]


def test_batches_come_in_account_order_and_bounded_size(tmp_path: Path) -> None:
    ids = [f"acc_{i:03d}" for i in range(7)]
    rows = [attempt(a, "2026-03-22T13:00:00Z") for a in reversed(ids)]
    path = write_csv(tmp_path / "attempts.csv", ATTEMPT_COLUMNS, rows)
    with compute_cohort(str(path), START, END, [], []) as result:
        batches = list(result.batches(size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [r.account_id for b in batches for r in b] == ids


@pytest.mark.parametrize("out_name", ["cohort.csv", "cohort.parquet"])
def test_written_cohort_reads_back_with_the_contract_columns(tmp_path: Path, out_name: str) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("acc_b", "2026-03-22T13:00:00.5+01:00"),
            attempt("acc_a", "2026-03-22T12:00:00Z"),
            attempt("acc_a", "2026-03-22T15:00:00Z"),
        ],
    )
    out = tmp_path / "out" / out_name
    with compute_cohort(str(path), START, END, [], []) as result:
        expected = list(result.rows())
        result.write(out)
    if out.suffix == ".csv":
        with out.open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            body = list(reader)
        assert body[0] == [
            "acc_a",
            "2",
            "2026-03-22T12:00:00+00:00",
            "2026-03-22T15:00:00+00:00",
            "240",
        ]
        got = [
            CohortRow(a, int(n), datetime.fromisoformat(f), datetime.fromisoformat(last), int(m))
            for a, n, f, last, m in body
        ]
    else:
        conn = duckdb.connect()
        schema = conn.execute(
            f"SELECT name, logical_type FROM parquet_schema('{out}') WHERE name LIKE '%_at'"
        ).fetchall()
        assert all("isAdjustedToUTC=1" in t and "MICROS" in t for _, t in schema), schema
        header = [d[0] for d in conn.execute(f"DESCRIBE SELECT * FROM '{out}'").fetchall()]
        records = conn.execute(
            f"SELECT account_id, failed_attempts, epoch_us(first_failure_at), "
            f"epoch_us(last_failure_at), impact_minutes FROM '{out}'"
        ).fetchall()
        conn.close()
        epoch = datetime(1970, 1, 1, tzinfo=UTC).timestamp()
        got = [
            CohortRow(
                a,
                n,
                datetime.fromtimestamp(epoch + f / 1e6, UTC),
                datetime.fromtimestamp(epoch + last / 1e6, UTC),
                m,
            )
            for a, n, f, last, m in records
        ]
    # The four contract columns first and unchanged, then the impact minutes.
    assert header == [
        "account_id",
        "failed_attempts",
        "first_failure_at",
        "last_failure_at",
        "impact_minutes",
    ]
    assert got == expected
    assert got[1].first_failure_at == datetime(2026, 3, 22, 12, 0, 0, 500000, tzinfo=UTC)


def test_a_missing_required_column_is_named_with_its_file(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ["account_id", "ts", "result"],
        [{"account_id": "acc_a", "ts": "2026-03-22T13:00:00Z", "result": "failure"}],
    )
    with pytest.raises(InvalidInput, match=r"attempts\.csv:1: column outcome: missing"):
        compute_cohort(str(path), START, END, [], [])


def test_a_scope_on_a_file_without_that_column_is_refused(tmp_path: Path, ext: str) -> None:
    rows = [attempt("acc_a", "2026-03-22T13:00:00Z")]
    if ext == "csv":
        path = write_csv(tmp_path / "a.csv", ["account_id", "ts", "outcome", "region"], rows)
    else:
        path = write_parquet(tmp_path / "a.parquet", rows)  # has every column
        assert sorted(cohort_of(path, devices=["tv"])) == ["acc_a"]
        return
    assert sorted(cohort_of(path, regions=["us-east"])) == ["acc_a"]
    with pytest.raises(InvalidInput, match=r"a\.csv:1: column device: missing"):
        compute_cohort(str(path), START, END, [], ["tv"])


def test_bad_timestamps_are_listed_with_file_and_line(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [
            attempt("acc_a", "2026-03-22T13:00:00Z"),
            attempt("acc_b", "yesterday evening"),
            attempt("acc_c", "13:00 on the 22nd"),
        ],
    )
    with pytest.raises(InvalidInput) as caught:
        compute_cohort(str(path), START, END, [], [])
    assert caught.value.problems == [
        f"{path}:3: column ts: 'yesterday evening' {NOT_A_TIMESTAMP}",
        f"{path}:4: column ts: '13:00 on the 22nd' {NOT_A_TIMESTAMP}",
    ]
    assert str(caught.value).startswith("2 attempt row(s) break the contract")


def test_an_unknown_outcome_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "attempts.csv",
        ATTEMPT_COLUMNS,
        [attempt("acc_a", "2026-03-22T13:00:00Z", outcome="FAILED")],
    )
    with pytest.raises(InvalidInput, match=r"attempts\.csv:2: column outcome: 'FAILED' is not"):
        compute_cohort(str(path), START, END, [], [])


def test_bad_text_timestamps_in_parquet_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "text_ts.parquet"
    conn = duckdb.connect()
    conn.execute(
        f"COPY (SELECT * FROM (VALUES ('acc_a', '2026-03-22T13:00:00Z', 'failure'), "
        f"('acc_b', 'soon', 'failure')) t(account_id, ts, outcome)) TO '{path}' (FORMAT parquet)"
    )
    conn.close()
    with pytest.raises(InvalidInput, match=r"text_ts\.parquet: row 2: column ts: 'soon'"):
        compute_cohort(str(path), START, END, [], [])


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.csv", "no such file or directory"),
        ("nothing-*.csv", r"no \.csv, \.parquet, \.jsonl, \.ndjson or \.json files match"),
        ("attempts.txt", r"must end in \.csv, \.parquet, \.jsonl, \.ndjson or \.json"),
    ],
)
def test_a_source_without_attempt_files_is_refused(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "attempts.txt").write_text("[]")
    with pytest.raises(InvalidInput, match=message):
        compute_cohort(str(tmp_path / name), START, END, [], [])


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no \.csv, .* attempt files in this directory"):
        compute_cohort(str(tmp_path), START, END, [], [])


def test_a_row_with_extra_fields_is_reported_with_duckdbs_line(tmp_path: Path) -> None:
    rows = [attempt(f"acc_{i}", "2026-03-22T13:00:00Z") for i in range(3000)]
    path = write_csv(tmp_path / "ragged.csv", ATTEMPT_COLUMNS, rows)
    with path.open("a") as fh:
        fh.write("acc_x,2026-03-22T13:00:00Z,failure,E1,us-east,tv,surplus\r\n")
    with pytest.raises(InvalidInput) as caught:
        compute_cohort(str(path), START, END, [], [], memory_limit="256MB", temp_dir=str(tmp_path))
    message = str(caught.value)
    assert str(path) in message
    assert "3002" in message  # the header is line 1
    assert "LINE 1" not in message  # no SQL echoed back


def test_a_parquet_timestamp_without_zone_is_read_as_utc(tmp_path: Path) -> None:
    path = tmp_path / "naive.parquet"
    conn = duckdb.connect()
    conn.execute(
        f"COPY (SELECT 'acc_a' AS account_id, TIMESTAMP '2026-03-22 12:00:00' AS ts, "
        f"'failure' AS outcome) TO '{path}' (FORMAT parquet)"
    )
    conn.close()
    assert cohort_of(path)["acc_a"].first_failure_at == START
