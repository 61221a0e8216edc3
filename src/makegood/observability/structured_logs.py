"""Logs as text lines or one JSON object per line (MAKEGOOD_LOG_FORMAT), personal data masked.

Every record passes `MaskPersonalData` first, whatever the format: e-mail addresses and claim
tokens are replaced in the message, its arguments and every extra field, because a claim link
in a log line is as good as the credit itself and logs travel further than the database. Both
formatters mask their tracebacks too (an exception's text can quote an address).
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from makegood.domain.errors import InvalidInput
from makegood.observability.redaction import mask_claim_tokens
from makegood.settings import Settings

# A bare claim token (32 random bytes, URL-safe base64 = 43 characters) anywhere in a text.
_BARE_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
# Field names whose whole value is secret, whatever it looks like.
_SECRET_KEYS = re.compile(r"token|password|secret|authorization|cookie", re.IGNORECASE)
# The attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_STANDARD.add("color_message")  # uvicorn's copy of the message with terminal colours


def mask_text(text: str) -> str:
    """Addresses -> `<address>`, claim paths and bare tokens -> `<token>`."""
    return _BARE_TOKEN.sub("<token>", mask_claim_tokens(text))


def mask_value(key: str, value: Any) -> Any:
    """`value` with personal data masked; secret-named fields are dropped to a placeholder."""
    if _SECRET_KEYS.search(key) and value is not None:
        return "<redacted>"
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(key, v) for v in value]
    return value


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class MaskPersonalData(logging.Filter):
    """Masks the message, its arguments and every extra field of each record, in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Format first, then mask: masking the template could eat a `%s` and break it.
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} {record.args!r}"
        record.msg = mask_text(message)
        record.args = ()
        for key, value in extra_fields(record).items():
            setattr(record, key, mask_value(key, value))
        return True


class TextFormatter(logging.Formatter):
    """`time level logger message` lines, masked after formatting: the filter masks the message,
    but a traceback (`exc_info`, `stack_info`) is formatted here and may quote an address from
    an exception's message or a statement's parameters."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", ...extra fields, "exc"?}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": mask_text(record.getMessage()),
        }
        for key, value in extra_fields(record).items():
            if key not in entry:
                entry[key] = mask_value(key, value)
        if record.exc_info:
            entry["exc"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the process (uvicorn's loggers included); InvalidInput
    naming MAKEGOOD_LOG_FORMAT when it is neither text nor json."""
    if settings.log_format.lower() not in {"text", "json"}:
        raise InvalidInput(f"MAKEGOOD_LOG_FORMAT must be text or json, not {settings.log_format!r}")
    json_format = settings.log_format.lower() == "json"
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if json_format
        else {"()": TextFormatter, "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "default",
        "filters": ["mask_personal_data"],
    }
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask_personal_data": {"()": MaskPersonalData}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's own handlers are replaced by the root's, so its lines are masked too.
            name: {"handlers": [], "level": level, "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


@contextmanager
def process_logging(settings: Settings) -> Iterator[None]:
    """`configure_logging` for the length of a command (`worker`, `bounces serve`); the root
    logger's handlers and level it replaced come back afterwards, so that a test running such
    a command in its own process leaves no handler behind on a stream that is gone."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(settings)
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


def configure_logging(settings: Settings) -> None:
    """Apply `logging_config(settings)` to this process (the long-running commands: `serve` hands
    the same configuration to uvicorn)."""
    logging.config.dictConfig(logging_config(settings))
