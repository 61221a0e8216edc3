"""The composition root: builds engine, clock and adapters from settings, in one place."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import sqlalchemy as sa

from makegood.settings import Settings, get_settings
from makegood.store.engine import make_engine
from makegood.store.uow import UnitOfWork

if TYPE_CHECKING:
    import httpx
    from limits.storage import Storage

    from makegood.billing.connectors import Connector
    from makegood.notify.delivery import MailTransport
    from makegood.telemetry.engine import EngineConfig

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    """What use cases need from the outside world; tests build one with their own clock."""

    settings: Settings
    engine: sa.Engine
    clock: Clock = field(default=utc_now)
    # Jitter of retry back-offs (domain/retry.py); tests pass a seeded one. Not for secrets.
    rng: random.Random = field(default_factory=random.Random)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    @cached_property
    def rate_limit_storage(self) -> Storage:
        """Where rate limits and send pacing count (MAKEGOOD_RATE_LIMIT_STORAGE): one store
        per container, so a memory store is this process's and a Redis one the fleet's."""
        from makegood.rate_limits import open_storage

        return open_storage(self.settings.rate_limit_storage, self.settings.rate_limit_prefix)

    @cached_property
    def engine_config(self) -> EngineConfig:
        """How DuckDB connections and the Spark session are set up, for the cohort, detection
        and eligibility engines (MAKEGOOD_DUCKDB_MEMORY_LIMIT, MAKEGOOD_DUCKDB_TEMP_DIR,
        MAKEGOOD_SPARK_MASTER, MAKEGOOD_SPARK_DRIVER_MEMORY)."""
        from makegood.telemetry.engine import EngineConfig

        settings = self.settings
        return EngineConfig(
            memory_limit=settings.duckdb_memory_limit,
            temp_dir=str(settings.duckdb_temp_dir) if settings.duckdb_temp_dir else None,
            spark_master=settings.spark_master,
            spark_driver_memory=settings.spark_driver_memory,
        )

    def open_mail_transport(self) -> MailTransport:
        """A new mail transport from settings, for one run (its caller closes it): SMTP when
        MAKEGOOD_SMTP_URL is set, otherwise .eml files in settings.mail_dir."""
        from makegood.domain.errors import InvalidInput
        from makegood.notify.transports import FileTransport

        settings = self.settings
        if not settings.smtp_url:
            return FileTransport(settings.mail_dir)
        from makegood.notify.smtp import AsyncSmtpTransport
        from makegood.notify.smtp_endpoint import tls_context

        try:
            return AsyncSmtpTransport(
                settings.smtp_url,
                timeout=settings.smtp_timeout_seconds,
                connections=settings.smtp_connections,
                tls_context=tls_context(settings.smtp_ca_file),
            )
        except (ValueError, OSError) as exc:
            raise InvalidInput(str(exc)) from None

    def open_channel_client(self) -> httpx.Client:
        """A new HTTP client for the SMS and push providers' webhooks (its caller closes it),
        with MAKEGOOD_CHANNEL_TIMEOUT_SECONDS."""
        import httpx

        return httpx.Client(timeout=self.settings.channel_timeout_seconds)

    def open_billing_connector(self) -> Connector:
        """The connector MAKEGOOD_BILLING_CONNECTOR names, for push (not statement or export)."""
        from makegood.billing.connectors import CONNECTORS
        from makegood.domain.errors import InvalidInput, InvalidState
        from makegood.rate_limits import Pacer

        name = self.settings.billing_connector
        if name not in CONNECTORS:
            raise InvalidInput(
                f"MAKEGOOD_BILLING_CONNECTOR={name!r} must be one of {', '.join(CONNECTORS)}"
            )
        if name == "statement":
            raise InvalidState(
                "the billing connector is `statement`: credits are applied by `makegood billing "
                "close`; set MAKEGOOD_BILLING_CONNECTOR to stripe or webhook to push"
            )
        if name == "export":
            raise InvalidState(
                "the billing connector is `export`: write the file with `makegood billing export "
                "--out FILE` and load the acknowledgement with `makegood billing ack FILE`"
            )
        if name == "stripe":
            from makegood.billing.stripe_connector import StripeConnector

            pacer = Pacer(self.rate_limit_storage, "stripe", self.settings.stripe_rate_per_second)
            return StripeConnector(self.settings, pacer)
        from makegood.billing.webhook_connector import WebhookConnector

        return WebhookConnector(self.settings)

    def now(self) -> datetime:
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return value.astimezone(UTC)


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> Container:
    """Build the container; nothing connects until a unit of work is used."""
    settings = settings or get_settings()
    return Container(
        settings=settings,
        engine=make_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size // 2,
        ),
        clock=clock or utc_now,
    )
