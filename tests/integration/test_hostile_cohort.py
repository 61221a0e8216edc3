"""Hostile attempt files for the cohort: InvalidInput naming the file, or counted bad rows.

Hypothesis writes attempt files whose rows are good, or carry one definitely-bad timestamp or
outcome, or junk in the free columns (region, device, error code), with odd encodings and
huge cells. With the default `fail` policy the cohort either computes or raises InvalidInput
naming the file; with `skip` it counts exactly the bad rows it left out. A raw DuckDB error
(or anything else) fails the test.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from makegood.domain.errors import InvalidInput
from makegood.telemetry.cohort import compute_cohort
from makegood.telemetry.source import AttemptSource
from tests.factories.files import ATTEMPT_COLUMNS

START = datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
END = datetime(2026, 3, 22, 16, 0, tzinfo=UTC)
HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BAD_TS = ["yesterday", "2026-13-01T00:00:00Z", "2026-03-22T25:00:00Z", "=cmd|' /C calc'!A0", "1e9"]
BAD_OUTCOME = ["banana", "FAILURE", "fail", "=1+1", "<script>", "0"]
JUNK = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["=cmd|' /C calc'!A0", "a\r\nb", "x" * 10_000, "\u202e", "'; DROP TABLE x;--"]),
)
GOOD_TS = st.sampled_from(
    ["2026-03-22T13:00:00Z", "2026-03-22T14:44:00+05:30", "2026-03-22T15:59:59.999999"]
)


@st.composite
def attempt_rows(draw: st.DrawFn) -> tuple[list[list[str]], int]:
    """Rows and how many of them are bad (unparseable ts or outcome, with an account id)."""
    rows: list[list[str]] = []
    bad = 0
    for _ in range(draw(st.integers(1, 8))):
        account = draw(st.sampled_from(["acc_a", "acc_b", "acc 'c'", "ç"]))
        ts, outcome = draw(GOOD_TS), draw(st.sampled_from(["failure", "success"]))
        kind = draw(st.sampled_from(["good", "bad_ts", "bad_outcome", "junk"]))
        region, device, code = "us-east", "tv", "E500"
        if kind == "bad_ts":
            ts = draw(st.sampled_from(BAD_TS))
        elif kind == "bad_outcome":
            outcome = draw(st.sampled_from(BAD_OUTCOME))
        elif kind == "junk":
            region, device, code = draw(JUNK), draw(JUNK), draw(JUNK)
        bad += kind in ("bad_ts", "bad_outcome")
        rows.append([account, ts, outcome, code, region, device])
    return rows, bad


def write(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(ATTEMPT_COLUMNS)
    writer.writerows(rows)
    text = buffer.getvalue()
    if encoding == "latin-1-bytes":
        path.write_bytes(text.encode("utf-8") + b"acc_z,\xe9\xff,failure,,,\n")
    elif encoding == "nul":
        path.write_bytes(text.encode("utf-8") + b"acc_z,2026-03-22T13:00:00Z,fail\x00ure,,,\n")
    else:
        path.write_bytes(text.encode(encoding))
    return path


def refusal(source: str | AttemptSource, regions: list[str] | None = None) -> InvalidInput | None:
    """Compute the cohort (reading every row); the InvalidInput it raised, or None."""
    try:
        with compute_cohort(source, START, END, regions or [], []) as result:
            list(result.rows())
    except InvalidInput as exc:
        return exc
    return None


@HYPOTHESIS
@given(data=attempt_rows())
def test_skip_counts_exactly_the_bad_rows_and_fail_names_the_file(
    tmp_path: Path, data: tuple[list[list[str]], int]
) -> None:
    rows, bad = data
    path = write(tmp_path / "attempts.csv", rows)
    refused = refusal(str(path))
    assert (refused is not None) == (bad > 0), refused
    if refused is not None:
        assert "attempts.csv" in str(refused)
    source = AttemptSource(str(path), on_bad_rows="skip")
    with compute_cohort(source, START, END, [], []) as result:
        assert result.stats.rows_bad == bad
        assert result.stats.rows_read == len(rows)
        assert {r.account_id for r in result.rows()} <= {row[0] for row in rows}


@HYPOTHESIS
@given(
    data=attempt_rows(),
    encoding=st.sampled_from(["utf-16", "latin-1-bytes", "nul", "utf-8-sig"]),
    policy=st.sampled_from(["fail", "skip"]),
    scope=st.sampled_from([[], ["us-east", "=1+1'"]]),
)
def test_odd_encodings_never_escape_as_raw_duckdb_errors(
    tmp_path: Path,
    data: tuple[list[list[str]], int],
    encoding: str,
    policy: str,
    scope: list[str],
) -> None:
    path = write(tmp_path / "attempts.csv", data[0], encoding)
    refused = refusal(AttemptSource(str(path), on_bad_rows=policy), scope)
    if refused is not None:
        assert "attempts.csv" in str(refused), str(refused)[:500]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x00\x00\x00",
        b"account_id\nacc_a\n",
        b"PAR1garbage",
        "account_id,ts,outcome\n" + "x" * 1_100_000 + ",2026-03-22T13:00:00Z,failure\n",
    ],
)
def test_broken_attempt_files_raise_invalid_input_naming_the_file(
    tmp_path: Path, content: bytes | str
) -> None:
    path = tmp_path / "attempts.csv"
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    refused = refusal(str(path))
    if refused is None:
        assert isinstance(content, str)  # only the huge account id is still a readable row
    else:
        assert "attempts.csv" in str(refused), str(refused)[:500]
