"""The snapshot's COPY binary rows, encoded column by column from Arrow (store.arrow_binary),
are byte for byte what `bulk_insert.encode_binary` makes value by value (the reference)."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pytest

from makegood.store import arrow_binary
from makegood.store import tables as t
from makegood.store.arrow_binary import Same, binary_pieces
from makegood.store.bulk_insert import (
    BINARY_HEADER,
    BINARY_TRAILER,
    binary_kinds,
    encode_binary,
)
from makegood.store.snapshot import SNAPSHOT_COLUMNS

CAMPAIGN = "cmp_01kx"
AT = datetime(2026, 3, 21, 18, 40, tzinfo=UTC)
INT64 = (-(2**63), 2**63 - 1)
# In SNAPSHOT_COLUMNS order, less campaign_id; NULL in every nullable column somewhere.
ROWS: list[tuple[Any, ...]] = [
    ("acc-a", 2, AT + timedelta(microseconds=1), AT + timedelta(seconds=61), None, "pln", "USD",
     30, 5, 0, "outage", 1),
    ('acc "q", x', 1, AT, AT, "unknown_account", None, None, None, None, None, None, None),
    ("acc\nline\r\\n", 1, datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
     datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "not_active", "", "EUR", INT64[0],
     0, 32767, "", 2**31 - 1),
    ("kontō-ü€😀", 2**31 - 1, datetime(1970, 1, 1, tzinfo=UTC),
     datetime(1901, 5, 6, 7, 8, 9, 123456, tzinfo=UTC), None, "plän", "JPY", INT64[1], -(2**31),
     -32768, "pannë", -(2**31)),
    ("", 0, datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC), None,
     "pln,\"x\"", "USD", 0, 1, None, "outage", None),
]  # fmt: skip
ARROW_TYPES = [
    pa.string(),
    pa.int32(),
    pa.timestamp("us", tz="UTC"),
    pa.timestamp("us", tz="UTC"),
    pa.string(),
    pa.string(),
    pa.string(),
    pa.int64(),
    pa.int32(),
    pa.int16(),
    pa.string(),
    pa.int32(),
]
KINDS = binary_kinds(t.cohort_members, SNAPSHOT_COLUMNS)


def _batch(rows: list[tuple[Any, ...]], types: list[Any] = ARROW_TYPES) -> Any:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(types)
    arrays = [pa.array(list(c), type=k) for c, k in zip(columns, types, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, names=list(SNAPSHOT_COLUMNS[1:]))


def _encoded(batches: list[Any]) -> bytes:
    rows = (_rows([Same(CAMPAIGN), *batch.columns], batch.num_rows) for batch in batches)
    return BINARY_HEADER + b"".join(rows) + BINARY_TRAILER


def _rows(columns: list[Any], rows: int) -> bytes:
    """The pieces of `binary_pieces`, joined (no header, no trailer)."""
    return b"".join(p.tobytes() for p in binary_pieces(columns, KINDS, rows))


def _reference(rows: list[tuple[Any, ...]]) -> bytes:
    return encode_binary(t.cohort_members, SNAPSHOT_COLUMNS, [(CAMPAIGN, *r) for r in rows])


def test_the_kinds_are_the_tables_own() -> None:
    assert KINDS == (
        "text", "text", "int4", "timestamptz", "timestamptz", "text", "text", "text", "int8",
        "int4", "int2", "text", "int4",
    )  # fmt: skip


def test_one_batch_is_the_references_bytes() -> None:
    assert _encoded([_batch(ROWS)]) == _reference(ROWS)


def test_several_batches_and_an_empty_one_are_the_references_bytes() -> None:
    batches = [_batch(ROWS[:2]), _batch([]), _batch(ROWS[2:3]), _batch(ROWS[3:])]
    assert _encoded(batches) == _reference(ROWS)


def test_slices_of_a_batch_read_from_their_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slice shares its parent's buffers: offsets, bitmaps and values start mid-buffer (and
    each batch is encoded in pieces of 3 rows, slices again)."""
    monkeypatch.setattr(arrow_binary, "_PIECE_ROWS", 3)
    whole = _batch(ROWS * 3)
    batches = [whole.slice(0, 4), whole.slice(4, 7), whole.slice(11, 4)]
    assert _encoded(batches) == _reference(ROWS * 3)


def test_null_text_holding_bytes_and_other_arrow_layouts_are_read_as_their_values() -> None:
    """A NULL string whose slot still spans bytes (Arrow allows it), large and view strings,
    dictionary text, wider integers and nanosecond instants in another zone."""
    rows = ROWS[:3]
    nulls_with_bytes = pa.StringArray.from_buffers(
        3,
        pa.py_buffer(np.array([0, 2, 5, 6], dtype=np.int32).tobytes()),
        pa.py_buffer(b"abcdef"),
        pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes()),
    )
    batch = _batch(rows)
    columns = list(batch.columns)
    columns[0] = columns[0].cast(pa.large_string())
    columns[4] = columns[4].cast(pa.string_view())
    columns[5] = nulls_with_bytes
    columns[6] = columns[6].dictionary_encode()
    columns[1] = columns[1].cast(pa.int64())
    columns[2] = columns[2].cast(pa.timestamp("ns", tz="Europe/Paris"))
    got = _rows([Same(CAMPAIGN), *columns], 3)
    expected = [(*r[:5], v, *r[6:]) for r, v in zip(rows, ["ab", None, "f"], strict=True)]
    assert BINARY_HEADER + got + BINARY_TRAILER == _reference(expected)


def test_a_value_out_of_its_columns_range_and_a_naive_instant_are_refused() -> None:
    batch = _batch(ROWS[:1])
    columns = [Same(CAMPAIGN), *batch.columns]
    columns[2] = pa.array([2**31], type=pa.int64())
    with pytest.raises(OverflowError):
        _rows(columns, 1)
    columns = [Same(CAMPAIGN), *batch.columns]
    columns[3] = pa.array([AT.replace(tzinfo=None)], type=pa.timestamp("us"))
    with pytest.raises(ValueError, match="timezone-aware"):
        _rows(columns, 1)


def test_one_long_text_among_short_ones_keeps_memory_to_its_own_size() -> None:
    """A text's slot is as wide as its column's longest there: one unknown account's id of
    4 kB from the logs (which the server then refuses) made a piece of 8,192 rows take 370 MB
    (a grid of rows x 4 kB and an index eight times that) for 180 kB of rows."""
    rows = [ROWS[0]] * 8_192
    rows[5] = ("x" * 4_096, *ROWS[0][1:])
    batch = _batch(rows)
    tracemalloc.start()
    try:
        encoded = _encoded([batch])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert encoded == _reference(rows)
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MB to encode {len(encoded) / 2**20:.1f} MB"


def test_rows_over_several_bounded_grids_are_the_references_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(arrow_binary, "_GRID_BYTES", 1_000)
    rows = ROWS * 7
    got = _rows([Same(CAMPAIGN), *_batch(rows).columns], len(rows))
    assert BINARY_HEADER + got + BINARY_TRAILER == _reference(rows)


def test_one_long_text_alone_is_encoded_in_memory_near_its_size() -> None:
    """Which bytes of a text's slot its value uses took a table of every prefix of the slot:
    the square of the longest text (16 kB: 268 MB; an id of 1 MB, a terabyte)."""
    rows = [ROWS[0], ("y" * 16_384, *ROWS[0][1:]), ROWS[1]]
    tracemalloc.start()
    try:
        encoded = _encoded([_batch(rows)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert encoded == _reference(rows)
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MB to encode {len(encoded) / 2**10:.0f} kB"
