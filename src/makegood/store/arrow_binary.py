"""Arrow columns as rows of COPY's binary format, encoded column by column with numpy.

The rows equal what `bulk_insert.encode_binary` makes value by value (its reference), without a
Python step per row or per value. The rows are first laid out as a grid (a numpy record per
row), one slot per column as wide as its widest field there: 4 bytes of length, then the value
(fixed-width values as big-endian bytes, text as its UTF-8 bytes gathered from Arrow's offsets
and data buffers, NULL as the length -1 from the validity bitmap); each column fills its slot
with whole-column copies. A mask of the bytes each field really uses then packs the grid into
the rows, in one pass. For 680k snapshot rows that took 0.3 s where scattering each field to
its row's offset (an index per byte) took 1.0 s.

numpy and pyarrow are imported when first used (`makegood` starts without them).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from makegood.store.bulk_insert import BinaryKind, binary_value

if TYPE_CHECKING:
    from numpy.typing import NDArray

# The microseconds from the Unix epoch (Arrow's) to 2000-01-01 UTC (PostgreSQL's).
_PG_EPOCH_US = 946_684_800_000_000
_PIECE_ROWS = 8_192
# The most a piece's grid may take (a row's widest slots times its rows): the snapshot's rows,
# every text at its column's limit in ASCII, take 2.7 MB in a piece of _PIECE_ROWS.
_GRID_BYTES = 4 << 20
_WIDTHS: dict[BinaryKind, int] = {"int2": 2, "int4": 4, "int8": 8, "timestamptz": 8, "bool": 1}


@dataclass(frozen=True)
class Same:
    """A column holding `value` in every row (encoded once)."""

    value: Any


def binary_pieces(
    columns: Sequence[Any], kinds: Sequence[BinaryKind], rows: int
) -> Iterator[NDArray[Any]]:
    """`rows` rows of COPY's binary format (no header, no trailer) as bytes (uint8 arrays), in
    pieces to send one after the other.

    `columns` are pyarrow Arrays of `rows` values, or `Same(value)`; `kinds` say how each is
    sent (`bulk_insert.binary_kinds`). Text columns are Arrow strings (large, view and
    dictionary ones are cast), integer columns Arrow integers (a value out of its kind's range
    raises OverflowError, as the reference does), timestamptz columns Arrow timestamps with a
    time zone (a naive one raises ValueError).

    A piece holds `_PIECE_ROWS` rows (the Arrow columns sliced, no copy): its grid then stays
    in the processor's cache while each column is laid into it, where one grid of 50,000 rows
    (8 MB) took twice as long. A piece whose grid would exceed `_GRID_BYTES` (a text far
    longer than its neighbours) is halved until it does not."""
    if len(columns) != len(kinds):
        raise ValueError(f"{len(columns)} columns for {len(kinds)} kinds")
    for start in range(0, rows, _PIECE_ROWS):
        count = min(_PIECE_ROWS, rows - start)
        yield from _bounded(_sliced(columns, start, count), kinds, count)


def _sliced(columns: Sequence[Any], start: int, count: int) -> list[Any]:
    return [c if isinstance(c, Same) else c.slice(start, count) for c in columns]


def _bounded(
    columns: Sequence[Any], kinds: Sequence[BinaryKind], rows: int
) -> Iterator[NDArray[Any]]:
    """The rows encoded in grids of at most `_GRID_BYTES` (but for a single row's): each row's
    slot for a text is as wide as the column's longest text there, so one long value (an
    unknown account's id comes from the logs, unchecked until the server refuses it) would
    otherwise make a grid of rows x its length, and an index eight times that."""
    fields = [_field(column, kind, rows) for column, kind in zip(columns, kinds, strict=True)]
    width = 2 + sum(f.slot.itemsize for f in fields)
    if rows > 1 and rows * width > _GRID_BYTES:
        half = rows // 2
        yield from _bounded(_sliced(columns, 0, half), kinds, half)
        yield from _bounded(_sliced(columns, half, rows - half), kinds, rows - half)
        return
    yield _encode(fields, rows)


def _encode(fields: Sequence[_Field], rows: int) -> NDArray[Any]:
    import numpy as np

    # One record per row: the field count, then per column its length and its value's slot.
    slots = [("count", np.dtype(">i2"))] + [(f"c{i}", f.slot) for i, f in enumerate(fields)]
    grid = np.empty(rows, dtype=np.dtype(slots))
    grid["count"] = len(fields)
    if not any(f.partial for f in fields):
        for i, f in enumerate(fields):
            f.write(grid[f"c{i}"], None)
        return grid.view(np.uint8)
    # The same layout over a byte mask, each slot opaque bytes (a mask of one per byte).
    used = np.ones(rows * grid.itemsize, dtype=bool)
    masks = used.view(np.dtype([(name, _opaque(slot)) for name, slot in slots]))
    for i, f in enumerate(fields):
        f.write(grid[f"c{i}"], masks[f"c{i}"])
    return grid.view(np.uint8)[used]


def _opaque(slot: Any) -> Any:
    """`slot` (a dtype, maybe of named parts) as bytes with the same parts."""
    import numpy as np

    if slot.names is None:
        return np.dtype(f"V{slot.itemsize}")
    return np.dtype([(name, _opaque(slot[name])) for name in slot.names])


def _used(sizes: NDArray[Any], width: int) -> NDArray[Any]:
    """Per row, a mask of `width` bytes (an opaque value) whose first `sizes[row]` are set."""
    import numpy as np

    return (np.arange(width) < sizes[:, None]).view(f"V{width}").reshape(-1)


class _Field(ABC):
    """One column's slot (a dtype: its length and value parts), `partial` when some fields use
    fewer bytes than it has (NULL, text shorter than the longest)."""

    slot: Any
    partial: bool

    @abstractmethod
    def write(self, slots: NDArray[Any], used: NDArray[Any] | None) -> None:
        """Fill `slots` (one per row) and, where `used` is given, mark the bytes used."""


class _SameField(_Field):
    def __init__(self, value: Any, kind: BinaryKind) -> None:
        import numpy as np

        self.data = np.frombuffer(binary_value(value, kind), dtype=np.uint8)
        self.slot, self.partial = np.dtype((np.uint8, (len(self.data),))), False

    def write(self, slots: NDArray[Any], used: NDArray[Any] | None) -> None:
        slots[:] = self.data


def _valid(array: Any, rows: int) -> NDArray[Any] | None:
    """The rows of `array` that hold a value (None: all of them)."""
    import numpy as np

    if array.null_count == 0:
        return None
    bitmap = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    bits = np.unpackbits(bitmap, bitorder="little")
    return bits[array.offset : array.offset + rows].astype(bool)


class _FixedField(_Field):
    def __init__(self, array: Any, kind: BinaryKind, rows: int) -> None:
        import numpy as np
        import pyarrow as pa  # type: ignore[import-untyped]

        self.size = size = _WIDTHS[kind]
        self.valid = _valid(array, rows)
        if kind == "bool":
            if not pa.types.is_boolean(array.type):
                raise TypeError(f"a bool column from Arrow {array.type}")
            bitmap = np.frombuffer(array.buffers()[1], dtype=np.uint8)
            values = np.unpackbits(bitmap, bitorder="little")[array.offset : array.offset + rows]
        else:
            if kind == "timestamptz":
                if not pa.types.is_timestamp(array.type) or array.type.tz is None:
                    raise ValueError(f"timestamps must be timezone-aware (Arrow {array.type})")
                if array.type.unit != "us":
                    array = array.cast(pa.timestamp("us", tz=array.type.tz))
                dtype: Any = np.int64
            elif pa.types.is_integer(array.type):
                dtype = np.dtype(array.type.to_pandas_dtype())
            else:
                raise TypeError(f"an {kind} column from Arrow {array.type}")
            values = np.frombuffer(array.buffers()[1], dtype=dtype)
            values = values[array.offset : array.offset + rows]
            if kind == "timestamptz":
                values = values - _PG_EPOCH_US
            else:
                _check_range(values, self.valid, size)
        self.values = values
        self.slot = np.dtype([("length", ">i4"), ("value", f">i{size}" if size > 1 else "u1")])
        self.partial = self.valid is not None

    def write(self, slots: NDArray[Any], used: NDArray[Any] | None) -> None:
        import numpy as np

        slots["value"] = self.values
        if self.valid is None:
            slots["length"] = self.size
            return
        slots["length"] = np.where(self.valid, self.size, -1)
        assert used is not None
        used["value"] = _used(np.where(self.valid, self.size, 0), self.size)


def _check_range(values: NDArray[Any], valid: NDArray[Any] | None, width: int) -> None:
    import numpy as np

    if values.dtype.itemsize < width or (
        values.dtype.kind == "i" and values.dtype.itemsize == width
    ):
        return
    held = values if valid is None else values[valid]
    if not len(held):
        return
    info = np.iinfo(f"i{width}")
    low, high = int(held.min()), int(held.max())
    if low < info.min or high > info.max:
        raise OverflowError(f"a value out of the range of int{width * 8}: {low}..{high}")


class _TextField(_Field):
    def __init__(self, array: Any, rows: int) -> None:
        import numpy as np
        import pyarrow as pa

        kind = array.type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            if not (
                pa.types.is_string_view(kind)
                or (pa.types.is_dictionary(kind) and _is_text(kind.value_type))
            ):
                raise TypeError(f"a text column from Arrow {kind}")
            array = array.cast(pa.large_string())
        width = np.int64 if pa.types.is_large_string(array.type) else np.int32
        offsets = np.frombuffer(array.buffers()[1], dtype=width)
        self.starts = offsets[array.offset : array.offset + rows].astype(np.int64)
        self.sizes = np.diff(offsets[array.offset : array.offset + rows + 1]).astype(np.int64)
        buffer = array.buffers()[2]
        self.data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else None
        self.valid = _valid(array, rows)
        if self.valid is not None:
            self.sizes[~self.valid] = 0
        self.longest = longest = int(self.sizes.max()) if rows else 0
        value = [("value", f"V{longest}")] if longest else []
        self.slot, self.partial = np.dtype([("length", ">i4"), *value]), True

    def write(self, slots: NDArray[Any], used: NDArray[Any] | None) -> None:
        import numpy as np

        slots["length"] = self.sizes if self.valid is None else np.where(self.valid, self.sizes, -1)
        if not self.longest:
            return
        assert self.data is not None
        assert used is not None
        # Each row's text from its start, padded with what follows it (masked out).
        # Gathered a few rows at a time: the index (8 bytes a byte) stays within _GRID_BYTES.
        reach = np.arange(self.longest)
        text = np.empty((len(self.starts), self.longest), dtype=np.uint8)
        step = max(1, _GRID_BYTES // (8 * self.longest))
        for at in range(0, len(self.starts), step):
            index = self.starts[at : at + step, None] + reach
            np.take(self.data, index, mode="clip", out=text[at : at + step])
        slots["value"] = text.view(f"V{self.longest}").reshape(-1)
        used["value"] = _used(self.sizes, self.longest)  # as large as the text gathered


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _field(column: Any, kind: BinaryKind, rows: int) -> _Field:
    if isinstance(column, Same):
        return _SameField(column.value, kind)
    if len(column) != rows:
        raise ValueError(f"a column of {len(column)} values for {rows} rows")
    if kind == "text":
        return _TextField(column, rows)
    return _FixedField(column, kind, rows)
