"""Hostile plans and accounts files: refused with a message naming the file, nothing changed.

Hypothesis writes files with wrong types, huge fields, odd encodings (UTF-16, Latin-1, BOM, NUL
bytes, lone surrogates), duplicate ids, CRLF inside quoted fields and formula-looking values.
Every outcome is either a clean import (which a second run repeats without changing a row) or
InvalidInput whose problems name FILE:LINE (or whose message names the file), with every table
exactly as before. Any other exception fails the test. The generated files run on SQLite (one
database per test, reset by snapshot comparison); the cases that differ by database (NUL
bytes, which PostgreSQL text cannot hold) also run on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput
from makegood.services.imports import import_accounts, import_plans
from makegood.store import tables as t
from makegood.store.all_tables import metadata
from makegood.store.engine import make_engine
from makegood.store.migrate import upgrade
from tests.factories import files as f
from tests.harness.clock import FrozenClock
from tests.harness.settings import make_settings

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE_CELLS = [
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2",
    "@SUM(A1)",
    "a\r\nb",
    "line\nbreak",
    "<script>alert(1)</script>",
    "1e309",
    "NaN",
    "-0",
    "0x10",
    "\u0667.\u0669\u0669",
    "7,99",
    " 7.99 ",
    "",
    "\ufeff",
    "\u202eevil",
    "x" * 10_000,
    "\U0001d7df.\U0001d7e1\U0001d7e1",
    "ana@example.org\r\nBcc: victim@evil.test",
    "2026-02-30",
    "2026-03-01T25:00",
]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "surrogates", "nul"]

cell = st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=30))
plan_id = st.one_of(st.sampled_from(["basic", "pro", "basic ", "BASIC"]), cell)


@pytest.fixture
def sqlite_container(tmp_path: Path, clock: FrozenClock) -> Iterator[Container]:
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield Container(settings=make_settings(url, tmp_path), engine=engine, clock=clock)
    engine.dispose()


def snapshot(container: Container) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to prove a refused import changed nothing."""
    with container.engine.connect() as conn:
        return {
            table.name: sorted((tuple(r) for r in conn.execute(sa.select(table))), key=repr)
            for table in metadata.sorted_tables
        }


def encode(text: str, encoding: str) -> bytes:
    if encoding == "surrogates":
        return (text + "\udc80").encode("utf-8", "surrogatepass")
    if encoding == "nul":
        return text.replace(",", ",\x00", 1).encode("utf-8")
    if encoding == "latin-1":
        return text.encode("latin-1", "replace") + b"\xe9"
    return text.encode(encoding, "surrogatepass")


def write(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # quotes fields holding CR/LF: a record may span lines
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(encode(buffer.getvalue(), encoding))
    return path


def assert_refused_cleanly(
    exc: InvalidInput, path: Path, before: object, container: Container
) -> None:
    assert str(path) in str(exc).splitlines()[0], str(exc)[:500]
    for line in exc.problems:
        assert line.startswith((f"{path}:", "... and ")), line[:300]
    assert snapshot(container) == before


def assert_idempotent(container: Container, path: Path, importer: object) -> None:
    assert callable(importer)
    before = {k: v for k, v in snapshot(container).items() if k in ("plans", "accounts")}
    again = importer(container, path)
    assert again.created == 0
    after = {k: v for k, v in snapshot(container).items() if k in ("plans", "accounts")}
    assert after == before


@HYPOTHESIS
@given(
    rows=st.lists(
        st.tuples(
            plan_id,
            st.one_of(st.just("Basic"), cell),
            st.one_of(st.sampled_from(["7.99", "990", "0", "3.500"]), cell),
            st.sampled_from(["USD", "JPY", "KWD", "usd", "XYZ", ""]),
        ),
        min_size=1,
        max_size=6,
    ),
    encoding=st.sampled_from(ENCODINGS),
    extra=st.lists(cell, max_size=2),
)
def test_hostile_plans_files_are_refused_cleanly_or_imported_idempotently(
    sqlite_container: Container,
    tmp_path: Path,
    rows: list[tuple[str, str, str, str]],
    encoding: str,
    extra: list[str],
) -> None:
    path = write(
        tmp_path / "plans.csv",
        f.PLAN_COLUMNS,
        [[*row, *extra] for row in rows],
        encoding,
    )
    before = snapshot(sqlite_container)
    try:
        summary = import_plans(sqlite_container, path)
    except InvalidInput as exc:
        event("refused")
        assert_refused_cleanly(exc, path, before, sqlite_container)
        return
    event("imported")
    assert encoding in ("utf-8", "utf-8-sig")
    assert not extra
    # A row of empty (or space-only) cells is a blank line: skipped, like an empty line.
    assert summary.rows == sum(1 for row in rows if any(c.strip(" ") for c in row))
    assert_idempotent(sqlite_container, path, import_plans)


@HYPOTHESIS
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(["a1", "a2", "a1 "]), cell),
            st.one_of(st.sampled_from(["ana@example.org", "b@example.org"]), cell),
            st.sampled_from(["basic", "nope", ""]),
            st.one_of(st.sampled_from(["active", "PAUSED"]), cell),
            st.one_of(st.sampled_from(["US", "fr"]), cell),
            st.one_of(st.sampled_from(["en-US", "pt-BR"]), cell),
            st.one_of(st.sampled_from(["2026-04-01", "2026-04-30T00:00"]), cell),
        ),
        min_size=1,
        max_size=6,
    ),
    encoding=st.sampled_from(ENCODINGS),
)
def test_hostile_accounts_files_are_refused_cleanly_or_imported_idempotently(
    sqlite_container: Container,
    tmp_path: Path,
    rows: list[tuple[str, ...]],
    encoding: str,
) -> None:
    plans = f.write_csv(tmp_path / "plans_ok.csv", f.PLAN_COLUMNS, [f.plan("basic")])
    import_plans(sqlite_container, plans)
    path = write(tmp_path / "accounts.csv", f.ACCOUNT_COLUMNS, [list(r) for r in rows], encoding)
    before = snapshot(sqlite_container)
    try:
        import_accounts(sqlite_container, path)
    except InvalidInput as exc:
        event("refused")
        assert_refused_cleanly(exc, path, before, sqlite_container)
        return
    event("imported")
    with sqlite_container.engine.connect() as conn:
        emails = conn.execute(sa.text("SELECT email FROM accounts")).scalars().all()
    for email in emails:  # nothing that could become a header ever gets stored
        assert not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in email)
    assert_idempotent(sqlite_container, path, import_accounts)


@HYPOTHESIS
@given(
    columns=st.fixed_dictionaries(
        {
            "plan_id": st.sampled_from(
                [pa.array([1, 2]), pa.array(["a", "a"]), pa.array(["x" * 10_000, None])]
            ),
            "name": st.sampled_from([pa.array([1.5, None]), pa.array(["A", "=1+1"])]),
            "monthly_price": st.sampled_from(
                [
                    pa.array([7.99, 1e309]),
                    pa.array(["7.99", "abc"]),
                    pa.array([True, False]),
                    pa.array([799, -1]),
                    pa.array([7.99, 12.5]),
                    pa.array(["7.99", "0"]),
                ]
            ),
            "currency": st.sampled_from([pa.array(["USD", "usd"]), pa.array([840, 392])]),
        }
    )
)
def test_parquet_plans_with_wrong_types_never_crash(
    sqlite_container: Container, tmp_path: Path, columns: dict[str, pa.Array]
) -> None:
    path = tmp_path / "plans.parquet"
    pq.write_table(pa.table(columns), path)
    before = snapshot(sqlite_container)
    try:
        import_plans(sqlite_container, path)
    except InvalidInput as exc:
        event("refused")
        assert_refused_cleanly(exc, path, before, sqlite_container)
        return
    event("imported")
    assert_idempotent(sqlite_container, path, import_plans)


@pytest.mark.parametrize(
    ("size", "expected"),
    [(10_000, "plans.csv:2: column plan_id: id must be at most 64"), (1_100_000, "plans.csv")],
)
def test_huge_cells_are_refused_naming_the_file(
    container: Container, tmp_path: Path, size: int, expected: str
) -> None:
    """A 10 kB id and a 1 MB cell: refused, on both databases, with nothing written."""
    path = write(tmp_path / "plans.csv", f.PLAN_COLUMNS, [["x" * size, "n", "1", "USD"]], "utf-8")
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_plans(container, path)
    assert expected in str(raised.value)
    assert_refused_cleanly(raised.value, path, before, container)


@pytest.mark.parametrize("column", ["plan_id", "name", "monthly_price", "currency"])
def test_nul_bytes_in_any_plans_cell_are_refused_on_both_databases(
    container: Container, tmp_path: Path, column: str
) -> None:
    """PostgreSQL text cannot hold NUL: the import must refuse it as bad input, not crash."""
    row = {"plan_id": "basic", "name": "Basic", "monthly_price": "7.99", "currency": "USD"}
    row[column] = row[column][:2] + "\x00" + row[column][2:]
    path = write(tmp_path / "plans.csv", f.PLAN_COLUMNS, [list(row.values())], "utf-8")
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_plans(container, path)
    assert f"plans.csv:2: column {column}:" in str(raised.value)
    assert_refused_cleanly(raised.value, path, before, container)


@pytest.mark.parametrize(
    "email",
    [
        "ana@example.org\r\nBcc: victim@evil.test",
        "ana@example.org\nBcc: victim@evil.test",
        "ana@example.org\rBcc:victim@evil.test",
        "ana@example.org,victim@evil.test",
        "ana@example.org;victim@evil.test",
        "Ana <ana@example.org>",
        '"ana@example.org\r\nBcc: v@evil.test" <ana@example.org>',
        "ana@exa\x00mple.org",
        "ana\u2028Bcc:@example.org",
    ],
)
def test_header_injection_in_account_emails_is_refused(
    container: Container, tmp_path: Path, email: str
) -> None:
    import_plans(container, f.write_csv(tmp_path / "p.csv", f.PLAN_COLUMNS, [f.plan("basic")]))
    path = write(
        tmp_path / "accounts.csv",
        f.ACCOUNT_COLUMNS,
        [list(f.account("a1", email=email).values())],  # type: ignore[arg-type]
        "utf-8",
    )
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_accounts(container, path)
    assert "accounts.csv:2: column email: is not a valid e-mail address" in str(raised.value)
    assert_refused_cleanly(raised.value, path, before, container)


@pytest.mark.parametrize("name", ["Basic\r\nBcc: victim@evil.test", "Basic\nX-Evil: 1", "B\x1bc"])
def test_plan_names_with_line_breaks_or_control_characters_are_refused(
    container: Container, tmp_path: Path, name: str
) -> None:
    path = write(tmp_path / "plans.csv", f.PLAN_COLUMNS, [["basic", name, "1", "USD"]], "utf-8")
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_plans(container, path)
    assert "plans.csv:2: column name: must not contain control characters" in str(raised.value)
    assert_refused_cleanly(raised.value, path, before, container)


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil")', "<script>alert(1)</script>"])
def test_formula_and_markup_plan_names_import_verbatim_and_idempotently(
    container: Container, tmp_path: Path, name: str
) -> None:
    """A plan name is display text: stored as written (escaped wherever it is shown), and a
    second import changes nothing."""
    path = write(tmp_path / "plans.csv", f.PLAN_COLUMNS, [["basic", name, "1", "USD"]], "utf-8")
    assert import_plans(container, path).created == 1
    with container.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM plans")).scalar_one() == name
    assert_idempotent(container, path, import_plans)


def test_nul_in_a_stripe_customer_id_is_refused_on_both_databases(
    container: Container, tmp_path: Path
) -> None:
    import_plans(container, f.write_csv(tmp_path / "p.csv", f.PLAN_COLUMNS, [f.plan("basic")]))
    header = [*f.ACCOUNT_COLUMNS, "stripe_customer_id"]
    row = [*(str(v) for v in f.account("a1").values()), "cus_\x00123"]
    path = write(tmp_path / "accounts.csv", header, [row], "utf-8")
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_accounts(container, path)
    assert "accounts.csv:2: column stripe_customer_id:" in str(raised.value)
    assert_refused_cleanly(raised.value, path, before, container)


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=64)
names = st.text(
    alphabet=st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1, max_size=60
).filter(lambda n: n.strip() == n and n != "")
valid_plans = st.lists(
    st.tuples(ids, names, st.integers(0, 10**7), st.sampled_from(["USD", "EUR", "JPY", "KWD"])),
    min_size=1,
    max_size=8,
    unique_by=lambda p: p[0],
)


def price_text(minor: int, currency: str) -> str:
    exponent = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3}[currency]
    return (
        str(minor)
        if not exponent
        else f"{minor // 10**exponent}.{minor % 10**exponent:0{exponent}d}"
    )


@HYPOTHESIS
@given(
    plans=valid_plans,
    accounts=st.lists(
        st.tuples(ids, st.sampled_from(["active", "paused", "cancelled"]), st.dates()),
        max_size=8,
        unique_by=lambda a: a[0],
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_valid_random_files_import_and_reimport_idempotently(
    sqlite_container: Container,
    tmp_path: Path,
    plans: list[tuple[str, str, int, str]],
    accounts: list[tuple[str, str, object]],
    encoding: str,
) -> None:
    plan_rows = [[pid, name, price_text(minor, cur), cur] for pid, name, minor, cur in plans]
    plans_path = write(tmp_path / "plans.csv", f.PLAN_COLUMNS, plan_rows, encoding)
    import_plans(sqlite_container, plans_path)
    account_rows = [
        [aid, f"{aid}@example.org", plans[0][0], status, "US", "en-US", str(day)]
        for aid, status, day in accounts
    ]
    accounts_path = write(tmp_path / "accounts.csv", f.ACCOUNT_COLUMNS, account_rows, encoding)
    import_accounts(sqlite_container, accounts_path)
    with sqlite_container.engine.connect() as conn:
        stored = {r.plan_id: r for r in conn.execute(sa.select(t.plans))}
    for pid, name, minor, cur in plans:
        assert (stored[pid].name, stored[pid].monthly_price_minor, stored[pid].currency) == (
            name,
            minor,
            cur,
        )
    assert_idempotent(sqlite_container, plans_path, import_plans)
    assert_idempotent(sqlite_container, accounts_path, import_accounts)


# Issue 12 item 8: the import contract's gaps, on SQLite and PostgreSQL.


@pytest.mark.parametrize(
    "price",
    ["99999999999999999999", "1e30", "1e600000", "1_000", "\u0661\u0660.\u0665\u0660", "+5"],
)
def test_prices_that_are_not_plain_bounded_decimals_are_refused(
    container: Container, tmp_path: Path, price: str
) -> None:
    path = write(tmp_path / "plans.csv", f.PLAN_COLUMNS, [["basic", "B", price, "USD"]], "utf-8")
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_plans(container, path)
    assert f"{path}:2: column monthly_price: " in raised.value.problems[0]
    assert_refused_cleanly(raised.value, path, before, container)


@pytest.mark.parametrize("price", [1e300, float("inf"), 1e30])
def test_a_parquet_double_price_out_of_range_is_refused(
    container: Container, tmp_path: Path, price: float
) -> None:
    path = tmp_path / "plans.parquet"
    table = {"plan_id": ["ok", "big"], "name": ["A", "B"], "monthly_price": [7.99, price]}
    pq.write_table(pa.table({**table, "currency": ["USD", "USD"]}), path)
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_plans(container, path)
    assert raised.value.problems[0].startswith(f"{path}:3: column monthly_price: ")
    assert_refused_cleanly(raised.value, path, before, container)


def _accounts_file(tmp_path: Path, container: Container, **changes: str) -> Path:
    import_plans(container, f.write_csv(tmp_path / "p.csv", f.PLAN_COLUMNS, [f.plan("basic")]))
    row = {**f.account("a0"), **changes}
    rows = [list(f.account("ok").values()), list(row.values())]
    return write(tmp_path / "accounts.csv", f.ACCOUNT_COLUMNS, rows, "utf-8")  # type: ignore[arg-type]


def _refused(container: Container, path: Path, expected: str) -> None:
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_accounts(container, path)
    assert any(p.startswith(f"{path}:{expected}") for p in raised.value.problems), str(raised.value)
    assert_refused_cleanly(raised.value, path, before, container)


@pytest.mark.parametrize("when", ["2030-01-15T99:99", "2030-01-15T00:00", "2030-01-15 00:00"])
def test_next_bill_date_must_be_a_plain_date(
    container: Container, tmp_path: Path, when: str
) -> None:
    path = _accounts_file(tmp_path, container, next_bill_date=when)
    _refused(container, path, "3: column next_bill_date: ")


@pytest.mark.parametrize(
    "account_id", ["a\x7fb", "\u202eevil", "a\u2066b", "a\x1bb", "a\x85b", "a\u200bb", "a\xa0b"]
)
def test_control_bidi_and_invisible_characters_in_an_id_are_refused(
    container: Container, tmp_path: Path, account_id: str
) -> None:
    path = _accounts_file(tmp_path, container, account_id=account_id)
    _refused(container, path, "3: column account_id: id must be at most 64")


@pytest.mark.parametrize(
    "email",
    ["ana\u200b@example.org", "ana@exa\ufeffmple.org", "a\u2060na@example.org", "a\xadb@x.org"],
)
def test_invisible_characters_in_an_email_are_refused(
    container: Container, tmp_path: Path, email: str
) -> None:
    path = _accounts_file(tmp_path, container, email=email)
    _refused(container, path, "3: column email: is not a valid e-mail address")


def test_a_duplicated_header_column_is_refused(container: Container, tmp_path: Path) -> None:
    import_plans(container, f.write_csv(tmp_path / "p.csv", f.PLAN_COLUMNS, [f.plan("basic")]))
    header = [*f.ACCOUNT_COLUMNS, "email"]
    row = [*(str(v) for v in f.account("a1").values()), "other@example.org"]
    path = write(tmp_path / "accounts.csv", header, [row], "utf-8")
    _refused(container, path, "1: column email: appears twice in the header")


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("email", pa.array([["a@example.org"], ["b@example.org"]])),
        ("account_id", pa.array([{"id": "a1"}, {"id": "a2"}])),
    ],
)
def test_a_parquet_list_or_struct_column_where_text_is_expected_is_refused(
    container: Container, tmp_path: Path, column: str, values: pa.Array
) -> None:
    import_plans(container, f.write_csv(tmp_path / "p.csv", f.PLAN_COLUMNS, [f.plan("basic")]))
    rows = [f.account("a1"), f.account("a2")]
    data = {c: pa.array([str(r[c]) for r in rows]) for c in f.ACCOUNT_COLUMNS}
    path = tmp_path / "accounts.parquet"
    pq.write_table(pa.table({**data, column: values}), path)
    _refused(container, path, f"1: column {column}: is a Parquet ")


def test_lines_are_right_after_blank_lines_and_quoted_line_breaks(
    container: Container, tmp_path: Path
) -> None:
    """LINE is the file's line (header 1), also when a quoted field spans lines."""
    import_plans(container, f.write_csv(tmp_path / "p.csv", f.PLAN_COLUMNS, [f.plan("basic")]))
    good = ",".join(str(v) for v in f.account("a1").values())
    text = (
        ",".join(f.ACCOUNT_COLUMNS)
        + f"\n{good}\n\n"
        + '"a\nb",x@example.org,basic,active,US,en-US,2026-04-01\n'
        + "a4,x@example.org,basic,active,US,en-US,2026-04-01,extra\n"
        + "a5,x@example.org,gold,active,US,en-US,2026-04-01\n"
    )
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_accounts(container, path)
    bad_id = "id must be at most 64 characters without spaces, control or invisible characters"
    assert raised.value.problems == [
        f"{path}:4: column account_id: {bad_id}",
        f"{path}:6: column *: row has 8 fields, the header has 7",
        f"{path}:7: column plan_id: unknown plan 'gold'; import plans first",
    ]
    assert_refused_cleanly(raised.value, path, before, container)


def test_a_bad_last_row_of_a_large_file_changes_nothing(
    container: Container, tmp_path: Path
) -> None:
    """All or nothing at scale: 200,000 good rows, then one bad one; the line is exact."""
    import_plans(container, f.write_csv(tmp_path / "p.csv", f.PLAN_COLUMNS, [f.plan("basic")]))
    rows = 200_000
    path = tmp_path / "accounts.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(",".join(f.ACCOUNT_COLUMNS) + "\n")
        fh.writelines(
            f"a{i},u{i}@example.org,basic,active,US,en-US,2026-04-01\n" for i in range(rows)
        )
        fh.write("last,last@example.org,basic,frozen,US,en-US,2026-04-01\n")
    before = snapshot(container)
    with pytest.raises(InvalidInput) as raised:
        import_accounts(container, path)
    assert raised.value.problems == [
        f"{path}:{rows + 2}: column status: 'frozen' must be one of active, paused, cancelled"
    ]
    assert_refused_cleanly(raised.value, path, before, container)


def test_cancelled_at_needs_an_offset_and_is_stored_in_utc(
    container: Container, tmp_path: Path
) -> None:
    import_plans(container, f.write_csv(tmp_path / "p.csv", f.PLAN_COLUMNS, [f.plan("basic")]))
    columns = [*f.ACCOUNT_COLUMNS, "cancelled_at"]
    bad = f.write_csv(
        tmp_path / "bad.csv", columns, [{**f.account("a1"), "cancelled_at": "2026-03-22T22:00"}]
    )
    _refused(container, bad, "2: column cancelled_at: '2026-03-22T22:00' is not an instant")
    good = f.write_csv(
        tmp_path / "good.csv",
        columns,
        [
            {**f.account("a1"), "cancelled_at": "2026-03-22T22:00:00+01:00"},
            {**f.account("a2"), "cancelled_at": ""},
        ],
    )
    import_accounts(container, good)
    with container.engine.connect() as conn:
        query = sa.select(t.accounts.c.account_id, t.accounts.c.cancelled_at)
        stored = {r.account_id: r.cancelled_at for r in conn.execute(query)}
    assert stored == {"a1": datetime(2026, 3, 22, 21, 0, tzinfo=UTC), "a2": None}
    assert_idempotent(container, good, import_accounts)
