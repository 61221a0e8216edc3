"""Small worlds imported through the real import and incident code: plans, accounts,
attempt logs and an incident."""

from __future__ import annotations

from pathlib import Path

from makegood.bootstrap import Container
from makegood.services.imports import import_accounts, import_plans
from makegood.services.incidents import create_incident, parse_instant
from tests.factories import files as f

START, END = "2026-03-22T20:00:00+00:00", "2026-03-23T01:00:00+00:00"


def evening_outage(container: Container, tmp_path: Path) -> tuple[str, str]:
    """Plans in three currencies, six accounts, attempts: returns (incident id, events path)."""
    import_plans(
        container,
        f.write_csv(
            tmp_path / "plans.csv",
            f.PLAN_COLUMNS,
            [
                f.plan("us", "7.99"),
                f.plan("jp", "990", "JPY"),
                f.plan("kw", "3.500", "KWD"),
                f.plan("cheap", "0.10"),
            ],
        ),
    )
    accounts = [
        f.account("a-us", plan_id="us"),
        f.account("a-jp", plan_id="jp", locale="ja-JP"),
        f.account("a-kw", plan_id="kw", locale="ar-KW"),
        f.account("a-paused", plan_id="us", status="paused"),
        f.account("a-cheap", plan_id="cheap"),
        f.account("a-ok-not-affected", plan_id="us"),
    ]
    import_accounts(container, f.write_csv(tmp_path / "accounts.csv", f.ACCOUNT_COLUMNS, accounts))
    attempts = [
        f.attempt("a-us", "2026-03-22T20:00:00Z"),  # start is included
        f.attempt("a-us", "2026-03-22T21:00:00Z"),
        f.attempt("a-jp", "2026-03-23T05:30:00+09:00"),  # 20:30 UTC
        f.attempt("a-kw", "2026-03-22T23:00:00Z"),
        f.attempt("a-paused", "2026-03-22T22:00:00Z"),
        f.attempt("a-cheap", "2026-03-22T22:00:00Z"),
        f.attempt("ghost", "2026-03-22T22:00:00Z"),  # unknown to the database
        f.attempt("a-ok-not-affected", "2026-03-23T01:00:00Z"),  # end is excluded
        f.attempt("a-ok-not-affected", "2026-03-22T21:00:00Z", outcome="success"),
    ]
    events = f.write_csv(tmp_path / "events" / "attempts.csv", f.ATTEMPT_COLUMNS, attempts)
    with container.uow() as uow:
        incident_id = create_incident(
            uow,
            "Evening outage",
            parse_instant(START, "s"),
            parse_instant(END, "e"),
            [],
            [],
            container.now(),
        )
        uow.commit()
    return incident_id, str(events)
