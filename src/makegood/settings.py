"""Settings from the environment (prefix MAKEGOOD_); read once, lazily, never at import time.

The environment is read here rather than by pydantic-settings, which costs a command's start-up
about 0.07 s of imports (dotenv, argparse, cloud secret stores) for what is one dictionary
look-up per field: `MAKEGOOD_<FIELD>` in any case, as text, under the keyword arguments and over
the defaults. The values are validated with pydantic's rules and messages, defaults included:
read in plain Python where that gives pydantic-core's result, by pydantic-core otherwise
(settings_fields.py says how and why).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from makegood.domain.addresses import is_envelope_address
from makegood.domain.errors import InvalidInput
from makegood.domain.languages import DEFAULT_FALLBACK, check_fallback
from makegood.domain.text import single_line
from makegood.settings_fields import (
    AtLeast,
    Check,
    Matches,
    Values,
    build_validator,
    field_names,
    read_plainly,
)

if TYPE_CHECKING:
    from pydantic_core import SchemaValidator

DEV_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development
# The secret signs CSRF tokens and console forms: outside development it must be at least this
# long (32 characters of `secrets.token_urlsafe(32)` carry 192 bits and more).
MIN_SECRET_LENGTH = 32


ENV_PREFIX = "MAKEGOOD_"


def _one_line(value: str) -> str:
    # Quoted in every e-mail: a line break there would reshape the message's text.
    try:
        return single_line(value, "the value")
    except InvalidInput as exc:
        raise ValueError(str(exc).removeprefix("the value: ")) from None


OneLine = Annotated[str, Check(_one_line)]


def _known_storage(value: str) -> str:
    parts = urlsplit(value.strip())
    if value.strip() == "memory://":
        return "memory://"
    if parts.scheme in ("redis", "rediss") and parts.hostname:
        try:
            parts.port  # noqa: B018 (raises on a port that is not a number)
        except ValueError:
            pass
        else:
            return value.strip()
    raise ValueError(
        "must be memory:// (limits counted in each process) or redis://HOST:PORT/DB "
        "(rediss:// for TLS), e.g. redis://127.0.0.1:6379/0"
    )


class Settings:
    """Everything an operator can set. Defaults run the embedded demo with no server.

    `Settings()` reads `MAKEGOOD_<FIELD>` from the environment; keyword arguments win over it.
    Every annotated attribute is a setting; an invalid value raises pydantic's ValidationError
    naming the field."""

    def __init__(self, **values: Any) -> None:
        raw = {**_from_environment(), **values}
        validated = read_plainly(Settings, CHECKS, raw)
        if validated is None:
            validated = _validator().validate_python(raw)
        self.__dict__.update(validated)

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Settings:
        """A copy with `update` applied, not validated again (as pydantic's model_copy)."""
        copy = object.__new__(Settings)
        copy.__dict__.update({**self.__dict__, **(update or {})})
        return copy

    environment: str = "development"  # development | production
    database_url: str = "sqlite:///makegood.db"
    # Connections each process keeps open (and up to half as many more at a peak). A web
    # process runs up to 40 requests at once in its thread pool: below that they queue for a
    # connection instead of opening and closing one per request.
    database_pool_size: Annotated[int, AtLeast(1)] = 20
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEV_SECRET

    # E-mail: SMTP when a URL is set (smtp://host:port), else .eml files in mail_dir.
    smtp_url: str | None = None
    smtp_timeout_seconds: float = 30.0
    smtp_ca_file: Path | None = None  # PEM CA bundle to trust for SMTP TLS (private relays)
    mail_dir: Path = Path("mail-outbox")
    mail_from: str = "Customer Care <care@example.com>"
    # The right side of every Message-ID; default: the host of public_url (see message_domain).
    message_id_domain: str | None = None
    # Offers a launch writes and commits together (0: 20,000 on PostgreSQL, 5,000 on SQLite).
    launch_chunk_size: Annotated[int, AtLeast(0)] = 0
    # Retries of e-mail, SMS and push (domain/retry.py): attempts, the first delay (the ceiling
    # of the jittered wait doubles with each try) and its cap; a message that never reached
    # the server is dead once it was queued this many hours ago.
    dispatch_max_attempts: int = 5
    dispatch_retry_seconds: int = 60
    dispatch_retry_cap_seconds: Annotated[float, AtLeast(0)] = 3600.0
    dispatch_max_age_hours: Annotated[float, AtLeast(0)] = 168.0
    # Notifications at volume (issue 5; see docs/notifications.md).
    smtp_connections: int = 4  # concurrent SMTP sessions per worker
    dispatch_batch_size: int = 100  # messages locked, sent and committed together
    worker_poll_seconds: float = 5.0  # how long an idle worker waits before looking again
    # A campaign build whose worker has not beaten its heartbeat for this long is taken over.
    build_lease_seconds: float = 120.0
    email_rate_per_second: float = 0.0  # per worker; 0 means no limit
    sms_rate_per_second: float = 0.0
    push_rate_per_second: float = 0.0
    bounce_address: str | None = None  # envelope MAIL FROM; defaults to mail_from's address
    dkim_key_path: Path | None = None  # PEM private key; signing is on when all three are set
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    email_webhook_secret: str | None = None  # HMAC key of POST /webhooks/email
    webhook_tolerance_seconds: int = 300  # signed webhooks older or newer than this: refused
    reminder_days_before_expiry: float = 0.0  # the worker queues reminders; 0 means none
    grant_at_expiry: bool = False  # the worker grants unclaimed offers just before expiry
    grant_at_expiry_lead_minutes: int = 60  # how long before expiry that grant happens
    # SMS and push go to the operator's provider as signed webhooks; a channel exists only
    # when its URL is set (see docs/notifications.md).
    sms_webhook_url: str | None = None
    push_webhook_url: str | None = None
    channel_webhook_secret: str | None = None  # HMAC key for the outgoing channel webhooks
    channel_timeout_seconds: float = 10.0
    template_dir: Path | None = None  # operator overrides of notify/templates, same layout

    # The only directory whose attempt logs the API and the console may read (`events` of a
    # campaign create); unset, remote callers read none. The CLI is not confined (see
    # docs/security.md).
    events_root: Path | None = None

    # DuckDB scans of attempt logs: a cap on its memory ("2GB"; default: DuckDB's own, 80% of
    # RAM) and where it spills beyond it (default: DuckDB's own, next to the working directory).
    duckdb_memory_limit: str | None = None
    duckdb_temp_dir: Path | None = None
    # --engine spark: the master URL (default local[*], every core of this machine) and, in
    # local mode, the driver JVM's heap ("4g"; default Spark's own, 1g).
    spark_master: str | None = None
    spark_driver_memory: str | None = None

    # What subscribers see.
    service_name: OneLine = "StreamCo"
    support_phone: OneLine = "+1 800 555 0100"
    support_url: OneLine = "https://help.example.com"
    # The language (and formats) of a subscriber whose locale matches none we have: one of
    # domain.languages.LANGUAGES, optionally with a region ("en-GB"); checked at start.
    fallback_locale: str = DEFAULT_FALLBACK
    # Claim pages: failed lookups (404 unknown link, 403 CSRF) a client address may make at once
    # and per minute before its /claim requests answer 429 (see docs/web.md); 0: no limit.
    claim_failures_per_minute: Annotated[int, AtLeast(0)] = 20
    # Request bodies larger than this are refused (413) before they are read, on every route
    # (web/edge.py); provider webhooks post events in batches, so they have their own limit.
    max_body_bytes: Annotated[int, AtLeast(4096)] = 1024 * 1024
    max_webhook_body_bytes: Annotated[int, AtLeast(4096)] = 10 * 1024 * 1024
    # "Where is my credit?" (POST /credits, docs/web.md): requests a client address may make per
    # minute, and status requests per e-mail address per hour; 0: no limit.
    status_requests_per_minute: Annotated[int, AtLeast(0)] = 10
    status_emails_per_hour: Annotated[int, AtLeast(0)] = 3
    # Where the rate limits and send pacing count (makegood/rate_limits.py, docs/security.md):
    # memory:// (each process on its own) or redis://HOST:PORT/DB (rediss:// for TLS), shared
    # by every process and host using it; keys start with the prefix (one per deployment).
    rate_limit_storage: Annotated[str, Check(_known_storage)] = "memory://"
    rate_limit_prefix: Annotated[str, Matches(r"^[A-Za-z0-9_.:-]{1,64}$")] = "makegood"

    # Billing (issue 6; see docs/billing.md): where credits go and what inactive accounts get.
    billing_connector: str = "statement"  # statement | stripe | webhook | export
    billing_inactive_policy: str = "hold"  # hold | forfeit | payout (paused/cancelled accounts)
    stripe_api_key: str | None = None
    stripe_api_base: str = "https://api.stripe.com"
    stripe_rate_per_second: float = 25.0  # below Stripe's live-mode limit, shared with others
    billing_webhook_url: str | None = None
    billing_webhook_secret: str | None = None  # HMAC-SHA256 key of Makegood-Signature
    billing_max_attempts: int = 5  # per posting and push, always with the same idempotency key
    billing_retry_seconds: float = 0.5  # first retry delay; its ceiling doubles with each try
    billing_retry_cap_seconds: Annotated[float, AtLeast(0)] = 30.0

    # Operations (issue 7; see docs/operations.md): GET /metrics answers only a scraper sending
    # this bearer token (404 when unset); the database counts are re-read at most this often.
    metrics_token: str | None = None
    metrics_cache_seconds: float = 5.0
    log_format: str = "text"  # text | json (one object per line, personal data masked)
    log_level: str = "INFO"

    def refuse_public_secret_on(self, host: str) -> None:
        """Raise InvalidInput when a server on `host` would run with the public development
        secret where others can reach it (anything but loopback): its CSRF tokens would be
        forgeable by anyone who has read this file."""
        if self.secret_key != DEV_SECRET or _is_loopback(host):
            return
        raise InvalidInput(
            f"MAKEGOOD_SECRET_KEY is the public development secret, which serves on loopback "
            f"only, not on {host}: set MAKEGOOD_SECRET_KEY to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters, or serve on --host 127.0.0.1"
        )

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def message_domain(self) -> str:
        """The domain of our Message-IDs: MAKEGOOD_MESSAGE_ID_DOMAIN, else public_url's host
        (a name we control, where `.local` reads as a misconfigured sender to spam filters)."""
        if self.message_id_domain:
            return self.message_id_domain
        host = urlsplit(self.public_url).hostname or "localhost"
        if ":" in host:  # an IPv6 address is written as a domain literal in a Message-ID
            return f"[{host}]"
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return "localhost"


def _refuse_weak_secret(values: Values) -> Values:
    if values["environment"] != "development" and (
        values["secret_key"] == DEV_SECRET or len(values["secret_key"]) < MIN_SECRET_LENGTH
    ):
        raise ValueError(
            "MAKEGOOD_SECRET_KEY must be set to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters outside development "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return values


def _check_fallback_locale(values: Values) -> Values:
    return {**values, "fallback_locale": check_fallback(values["fallback_locale"])}


def _check_envelope_sender(values: Values) -> Values:
    # Checked here, once: a sender the SMTP transport refused would fail every message.
    name, value = (
        ("MAKEGOOD_BOUNCE_ADDRESS", values["bounce_address"])
        if values["bounce_address"]
        else ("MAKEGOOD_MAIL_FROM", values["mail_from"])
    )
    address = parseaddr(value)[1] or value
    # parseaddr drops what it cannot read ("a@b c" -> "a@bc"): the address must be there.
    if not (is_envelope_address(address) and address in value):
        raise ValueError(
            f"{name} must hold a plain ASCII e-mail address, alone or with a name "
            "(Customer Care <care@example.com>): it is the envelope sender"
        )
    return values


# The checks across settings, in this order, once every field is valid.
CHECKS = (_refuse_weak_secret, _check_fallback_locale, _check_envelope_sender)


@lru_cache(maxsize=1)
def _validator() -> SchemaValidator:
    return build_validator(Settings, CHECKS)


def _from_environment() -> dict[str, str]:
    """The settings set in the environment, by field name. Names match in any case; when two
    spellings of one name are set, the one later in the environment wins."""
    environ = {name.lower(): value for name, value in os.environ.items()}
    found = {}
    for field in field_names(Settings):
        value = environ.get(f"{ENV_PREFIX}{field}".lower())
        if value is not None:
            found[field] = value
    return found


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
