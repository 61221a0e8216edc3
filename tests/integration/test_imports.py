"""Importing plans and accounts: upsert by id, all or nothing, messages that name FILE:LINE."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from makegood.bootstrap import Container
from makegood.domain.errors import InvalidInput
from makegood.services.imports import import_accounts, import_plans
from makegood.store import tables as t
from tests.factories import files as f


def _rows(container: Container, table: sa.Table) -> list[dict[str, object]]:
    with container.uow() as uow:
        return [
            dict(r)
            for r in uow.conn.execute(sa.select(table).order_by(*table.primary_key)).mappings()
        ]


def _plans(tmp_path: Path, *rows: dict[str, object], name: str = "plans.csv") -> Path:
    return f.write_csv(tmp_path / name, f.PLAN_COLUMNS, rows)


def _accounts(tmp_path: Path, *rows: dict[str, object], name: str = "accounts.csv") -> Path:
    return f.write_csv(tmp_path / name, f.ACCOUNT_COLUMNS, rows)


def test_reimport_updates_by_id_and_never_duplicates(container: Container, tmp_path: Path) -> None:
    import_plans(container, _plans(tmp_path, f.plan("basic", "7.99"), f.plan("jp", "990", "JPY")))
    summary = import_plans(
        container,
        _plans(tmp_path, f.plan("basic", "8.49"), f.plan("kw", "3.500", "KWD"), name="p2.csv"),
    )
    assert (summary.created, summary.updated) == (1, 1)
    prices = {
        r["plan_id"]: (r["monthly_price_minor"], r["currency"]) for r in _rows(container, t.plans)
    }
    assert prices == {"basic": (849, "USD"), "jp": (990, "JPY"), "kw": (3500, "KWD")}


def test_accounts_upsert_and_keep_billing_anchor(container: Container, tmp_path: Path) -> None:
    import_plans(container, _plans(tmp_path, f.plan("basic")))
    import_accounts(container, _accounts(tmp_path, f.account("a1", next_bill_date="2026-01-31")))
    import_accounts(
        container,
        _accounts(
            tmp_path,
            f.account("a1", status="paused", next_bill_date="2026-01-31"),
            f.account("a2"),
            name="b.csv",
        ),
    )
    rows = {r["account_id"]: r for r in _rows(container, t.accounts)}
    assert set(rows) == {"a1", "a2"}
    assert rows["a1"]["status"] == "paused"
    assert rows["a1"]["billing_day"] == 31


def test_parquet_accounts_are_read_like_csv(container: Container, tmp_path: Path) -> None:
    import duckdb

    import_plans(container, _plans(tmp_path, f.plan("basic")))
    csv_path = _accounts(tmp_path, f.account("p1", locale="pt-BR"), f.account("p2", locale="ja-JP"))
    parquet = tmp_path / "accounts.parquet"
    con = duckdb.connect()
    con.read_csv(str(csv_path), all_varchar=True).write_parquet(str(parquet))
    con.close()
    assert import_accounts(container, parquet).created == 2
    assert {r["locale"] for r in _rows(container, t.accounts)} == {"pt-BR", "ja-JP"}


@pytest.mark.parametrize(
    ("plans", "expected"),
    [
        ([f.plan("basic", currency="XYZ")], "plans.csv:2: column currency: unknown currency 'XYZ'"),
        ([f.plan("basic", price="7.999")], "plans.csv:2: column monthly_price:"),
        ([f.plan("basic", price="seven")], "plans.csv:2: column monthly_price:"),
        (
            [f.plan("a"), f.plan("b"), f.plan("a")],
            "plans.csv:4: column plan_id: duplicate id 'a' (first on line 2)",
        ),
    ],
)
def test_bad_plans_change_nothing(
    container: Container, tmp_path: Path, plans: list[dict[str, object]], expected: str
) -> None:
    import_plans(container, _plans(tmp_path, f.plan("keep", "1.00"), name="first.csv"))
    before = _rows(container, t.plans)
    with pytest.raises(InvalidInput) as err:
        import_plans(container, _plans(tmp_path, *plans))
    assert expected in str(err.value)
    assert _rows(container, t.plans) == before


def test_missing_column_is_named(container: Container, tmp_path: Path) -> None:
    path = tmp_path / "plans.csv"
    path.write_text("plan_id,name,currency\nbasic,Basic,USD\n")
    with pytest.raises(InvalidInput) as err:
        import_plans(container, path)
    assert "plans.csv:1: column monthly_price: missing from the header" in str(err.value)


def test_every_bad_account_row_is_listed_and_nothing_changes(
    container: Container, tmp_path: Path
) -> None:
    import_plans(container, _plans(tmp_path, f.plan("basic")))
    import_accounts(container, _accounts(tmp_path, f.account("old"), name="first.csv"))
    before = _rows(container, t.accounts)
    path = _accounts(
        tmp_path,
        f.account("a1"),
        f.account("a2", plan_id="gold"),
        f.account("a3", next_bill_date="2026-02-30"),
        f.account("a1"),
        f.account("a5", status="frozen"),
        f.account("a6", locale="not a locale"),
        f.account("a7", email="bad\r\nBcc: x@evil.test"),
    )
    with pytest.raises(InvalidInput) as err:
        import_accounts(container, path)
    message = str(err.value)
    for expected in (
        "accounts.csv:3: column plan_id: unknown plan 'gold'",
        "accounts.csv:4: column next_bill_date: '2026-02-30' is not a date",
        "accounts.csv:5: column account_id: duplicate id 'a1' (first on line 2)",
        "accounts.csv:6: column status:",
        "accounts.csv:7: column locale:",
        "accounts.csv:8: column email:",
    ):
        assert expected in message
    assert _rows(container, t.accounts) == before


def test_unknown_file_type_and_missing_file(container: Container, tmp_path: Path) -> None:
    (tmp_path / "plans.xlsx").write_text("x")
    with pytest.raises(InvalidInput, match=r"use \.csv or \.parquet"):
        import_plans(container, tmp_path / "plans.xlsx")
    with pytest.raises(InvalidInput, match="no such file"):
        import_plans(container, tmp_path / "nope.csv")
