"""Settings from the environment (prefix MAKEGOOD_); read once, lazily, never at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    """Everything an operator can set. Defaults run the embedded demo with no server."""

    model_config = SettingsConfigDict(env_prefix="MAKEGOOD_", extra="ignore")

    environment: str = "development"  # development | production
    database_url: str = "sqlite:///makegood.db"
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEV_SECRET

    # E-mail: SMTP when a URL is set (smtp://host:port), else .eml files in mail_dir.
    smtp_url: str | None = None
    smtp_timeout_seconds: float = 30.0
    mail_dir: Path = Path("mail-outbox")
    mail_from: str = "Customer Care <care@example.com>"
    message_id_domain: str = "makegood.local"
    dispatch_max_attempts: int = 5
    dispatch_retry_seconds: int = 60  # first retry delay; doubles with each attempt

    # What subscribers see.
    service_name: str = "StreamCo"
    support_phone: str = "+1 800 555 0100"
    support_url: str = "https://help.example.com"

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEV_SECRET:
            raise ValueError(
                "MAKEGOOD_SECRET_KEY must be set to a long random value outside development"
            )
        return self

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
