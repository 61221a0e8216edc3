"""The unit of work: one connection, one transaction; only `commit()` makes changes durable."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from makegood.store.accounts import Accounts, Plans
    from makegood.store.appeals import Appeals
    from makegood.store.audit import Audit
    from makegood.store.build_jobs import Builds
    from makegood.store.campaigns import Campaigns
    from makegood.store.credits import Credits
    from makegood.store.deliveries import Deliveries
    from makegood.store.incidents import Incidents
    from makegood.store.ledger import Ledger
    from makegood.store.offers import Offers
    from makegood.store.outbox import Outbox
    from makegood.store.postings import Postings
    from makegood.store.reports import Reports
    from makegood.store.reversals import Reversals
    from makegood.store.snapshot import Cohort
    from makegood.store.statements import Statements
    from makegood.store.status_requests import StatusRequests
    from makegood.store.users import Users


class UnitOfWork:
    """`with uow:` opens a transaction; leaving without `commit()` rolls it back."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._conn: sa.Connection | None = None

    @property
    def conn(self) -> sa.Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __enter__(self) -> UnitOfWork:
        self._conn = self.engine.connect()
        self._conn.begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.conn
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()
            self._conn = None

    def commit(self) -> None:
        """Make everything done so far durable and start a fresh transaction."""
        self.conn.commit()
        self.conn.begin()

    def rollback(self) -> None:
        self.conn.rollback()
        self.conn.begin()

    # The repositories: every query of a table lives in its one (store/<table>.py), reached
    # from here. Each is built on this unit of work's connection and never commits.

    @property
    def accounts(self) -> Accounts:
        from makegood.store.accounts import Accounts

        return Accounts(self.conn)

    @property
    def plans(self) -> Plans:
        from makegood.store.accounts import Plans

        return Plans(self.conn)

    @property
    def incidents(self) -> Incidents:
        from makegood.store.incidents import Incidents

        return Incidents(self.conn)

    @property
    def campaigns(self) -> Campaigns:
        from makegood.store.campaigns import Campaigns

        return Campaigns(self.conn)

    @property
    def builds(self) -> Builds:
        from makegood.store.build_jobs import Builds

        return Builds(self.conn)

    @property
    def cohort(self) -> Cohort:
        from makegood.store.snapshot import Cohort

        return Cohort(self.conn)

    @property
    def offers(self) -> Offers:
        from makegood.store.offers import Offers

        return Offers(self.conn)

    @property
    def credits(self) -> Credits:
        from makegood.store.credits import Credits

        return Credits(self.conn)

    @property
    def ledger(self) -> Ledger:
        from makegood.store.ledger import Ledger

        return Ledger(self.conn)

    @property
    def statements(self) -> Statements:
        from makegood.store.statements import Statements

        return Statements(self.conn)

    @property
    def postings(self) -> Postings:
        from makegood.store.postings import Postings

        return Postings(self.conn)

    @property
    def reversals(self) -> Reversals:
        from makegood.store.reversals import Reversals

        return Reversals(self.conn)

    @property
    def outbox(self) -> Outbox:
        from makegood.store.outbox import Outbox

        return Outbox(self.conn)

    @property
    def deliveries(self) -> Deliveries:
        from makegood.store.deliveries import Deliveries

        return Deliveries(self.conn)

    @property
    def audit(self) -> Audit:
        from makegood.store.audit import Audit

        return Audit(self.conn)

    @property
    def status_requests(self) -> StatusRequests:
        from makegood.store.status_requests import StatusRequests

        return StatusRequests(self.conn)

    @property
    def appeals(self) -> Appeals:
        from makegood.store.appeals import Appeals

        return Appeals(self.conn)

    @property
    def users(self) -> Users:
        from makegood.store.users import Users

        return Users(self.conn)

    @property
    def reports(self) -> Reports:
        from makegood.store.reports import Reports

        return Reports(self.conn)
