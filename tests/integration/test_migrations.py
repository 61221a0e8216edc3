"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from makegood.store.all_tables import metadata
from makegood.store.engine import make_engine
from makegood.store.migrate import current_revision, head_revisions, upgrade
from makegood.store.outbox import Outbox
from tests.factories.joined import JoinedUnitOfWork


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        assert differences == [], (
            "the tables in src/makegood/store differ from the migrations: write a migration "
            f"(`uv run alembic revision --autogenerate`). Differences: {differences}"
        )
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_reaches_every_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)  # the fixture migrated already: running again changes nothing
        assert current_revision(engine) in head_revisions()
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
        assert set(metadata.tables) <= names
    finally:
        engine.dispose()


def test_a_worker_built_campaign_keeps_the_min_failures_its_build_asked_for(
    bare_database_url: str,
) -> None:
    """0010 copies `--min-failures` from a build's request onto its campaign; a campaign the
    command built (no build row) reads the default, 1."""
    engine = make_engine(bare_database_url)
    try:
        upgrade(engine, "0009_launch_email_on_offer")
        now = "2026-03-23 09:00:00"
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO incidents (id, title, starts_at, ends_at, regions, devices, "
                    "created_at, created_by) VALUES ('inc_1', 'Outage', :now, :now2, '[]', "
                    "'[]', :now, 'ops')"
                ),
                {"now": now, "now2": "2026-03-23 10:00:00"},
            )
            for campaign_id in ("cmp_worker", "cmp_command"):
                conn.execute(
                    sa.text(
                        "INSERT INTO campaigns (id, incident_id, state, mode, policy, claim_days, "
                        "events_source, affected_count, created_at, created_by) VALUES "
                        "(:id, 'inc_1', 'draft', 'claim', '{}', 7, 'logs', 0, :now, 'ops')"
                    ),
                    {"id": campaign_id, "now": now},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO campaign_builds (campaign_id, request, state, decided, attempts, "
                    "created_at) VALUES ('cmp_worker', :request, 'done', 0, 1, :now)"
                ),
                {"request": '{"min_failures": 3, "strict": false}', "now": now},
            )

        upgrade(engine)

        with engine.connect() as conn:
            kept: dict[str, int] = dict(
                conn.execute(sa.text("SELECT id, min_failures FROM campaigns")).all()
            )
        assert kept == {"cmp_worker": 3, "cmp_command": 1}
    finally:
        engine.dispose()


def test_offers_keep_their_claim_links_found_through_a_hash_index(
    bare_database_url: str,
) -> None:
    """0011 swaps the UNIQUE B-tree of `offers.token_hash` for an index by equality (a hash
    index on PostgreSQL): an offer launched before still answers its link."""
    engine = make_engine(bare_database_url)
    digest = "ab" * 32
    try:
        upgrade(engine, "0010_campaign_min_failures")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO offers (id, campaign_id, incident_id, account_id, state, "
                    "amount_minor, currency, plan_id, created_at, expires_at, token_hash, "
                    "inapp_urgent) VALUES ('ofr_1', 'cmp_1', 'inc_1', 'acc_1', 'open', 30, "
                    "'USD', 'pln', :now, :later, :digest, false)"
                ),
                {"now": "2026-03-23 09:00:00", "later": "2026-03-30 09:00:00", "digest": digest},
            )

        upgrade(engine)

        with engine.connect() as conn:
            assert JoinedUnitOfWork(conn).offers.offer_for_link(digest) == ("ofr_1", False)
            indexes = {i["name"]: i for i in sa.inspect(conn).get_indexes("offers")}
            unique = sa.inspect(conn).get_unique_constraints("offers")
            if engine.dialect.name == "postgresql":
                using = conn.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_offers_token_hash'"
                ).scalar_one()
                assert "USING hash (token_hash)" in using
        assert indexes["ix_offers_token_hash"]["column_names"] == ["token_hash"]
        assert all("token_hash" not in u["column_names"] for u in unique)
    finally:
        engine.dispose()


def test_pending_launch_emails_get_a_range_per_campaign_and_lose_their_index(
    bare_database_url: str,
) -> None:
    """0012 replaces `ix_offers_email_pending` by `launch_email_ranges`: each campaign with
    pending launch e-mails gets one range, its lowest to its highest pending offer id, and the
    outbox then takes every one of them."""
    engine = make_engine(bare_database_url)
    try:
        upgrade(engine, "0011_offers_token_hash_index")
        offers = [  # id, campaign, launch e-mail pending
            ("ofr_1", "cmp_a", True),
            ("ofr_2", "cmp_b", True),
            ("ofr_3", "cmp_a", False),
            ("ofr_4", "cmp_a", True),
            ("ofr_5", "cmp_b", False),
            ("ofr_6", "cmp_c", False),
        ]
        with engine.begin() as conn:
            for offer_id, campaign_id, pending in offers:
                conn.execute(
                    sa.text(
                        "INSERT INTO offers (id, campaign_id, incident_id, account_id, state, "
                        "amount_minor, currency, plan_id, created_at, expires_at, inapp_urgent, "
                        "email_state) VALUES (:id, :campaign, 'inc_1', :account, 'open', 24, "
                        "'USD', 'plan', :at, :at, false, :email)"
                    ),
                    {
                        "id": offer_id,
                        "campaign": campaign_id,
                        "account": f"acc-{offer_id}",
                        "at": datetime(2026, 3, 23, 9, 0),  # noqa: DTZ001 - as stored
                        "email": "pending" if pending else None,
                    },
                )

        upgrade(engine)

        with engine.connect() as conn:
            ranges = conn.execute(
                sa.text("SELECT campaign_id, low_id, high_id FROM launch_email_ranges ORDER BY id")
            ).all()
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("offers")}
        assert [tuple(r) for r in ranges] == [
            ("cmp_a", "ofr_1", "ofr_4"),
            ("cmp_b", "ofr_2", "ofr_2"),
        ]
        assert "ix_offers_email_pending" not in indexes
        with engine.begin() as conn:
            taken = Outbox(conn).take_launch_emails(datetime(2026, 3, 24, tzinfo=UTC), 10)
        assert taken == ["msg_1", "msg_2", "msg_4"]
    finally:
        engine.dispose()
