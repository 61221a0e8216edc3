"""Contract files the billing connectors read (an acknowledgement file): CSV and Parquet give
the same rows, with the line a person finds them on; an unreadable file is refused by name."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from makegood.billing.tabular import read_rows
from makegood.domain.errors import InvalidInput

ANSWERS: list[dict[str, str | None]] = [
    {"idempotency_key": "makegood-cmp-acc-1", "status": "applied", "external_id": "inv-1"},
    {"idempotency_key": "makegood-cmp-acc-2", "status": "rejected", "external_id": None},
]


def write(path: Path) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(ANSWERS[0]))
            writer.writeheader()
            writer.writerows(ANSWERS)
    else:
        pq.write_table(pa.Table.from_pylist(ANSWERS), path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_answer_file_reads_alike_in_csv_and_parquet(tmp_path: Path, suffix: str) -> None:
    rows = list(read_rows(write(tmp_path / f"ack{suffix}"), ("status",)))

    assert [(r.line, r.values) for r in rows] == [
        (2, {"idempotency_key": "makegood-cmp-acc-1", "status": "applied", "external_id": "inv-1"}),
        (3, {"idempotency_key": "makegood-cmp-acc-2", "status": "rejected", "external_id": ""}),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_missing_column_is_named(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"ack{suffix}")
    with pytest.raises(InvalidInput) as refused:
        list(read_rows(path, ("status", "credit_id")))
    assert refused.value.problems == [f"{path}:1: column credit_id: missing from the header"]


def test_a_file_that_is_not_parquet_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "ack.parquet"
    path.write_bytes(b"idempotency_key,status\nk,applied\n")
    with pytest.raises(InvalidInput, match=r"ack\.parquet: not a readable Parquet file"):
        list(read_rows(path, ("status",)))
