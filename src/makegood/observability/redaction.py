"""Keep claim tokens and e-mail addresses out of logs: a claim link in a log line is as good as
the credit itself, and the console's and API's look-ups take an e-mail in the query string."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# Claim and appeal links: each token is as good as the credit (or the appeal) it opens.
_CLAIM_PATH = re.compile(r"(/(?:claim|appeal)/)[^/\s?#\"']+")
# Plain or percent-encoded (`%40`) addresses, as they appear in a logged request line.
_ADDRESS = re.compile(r"[^\s/?&=\"']+(?:@|%40)[^\s/?&#\"']+", re.IGNORECASE)


def mask_claim_tokens(text: str) -> str:
    """`GET /claim/abc.../done` -> `GET /claim/<token>/done` (and `/appeal/...` likewise);
    addresses -> `<address>`."""
    if "/claim/" in text or "/appeal/" in text:
        text = _CLAIM_PATH.sub(r"\1<token>", text)
    if "@" in text or "%40" in text:
        text = _ADDRESS.sub("<address>", text)
    return text


class MaskClaimTokens(logging.Filter):
    """Rewrites a record's message and arguments (uvicorn's access log passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_claim_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_claim_tokens(a) if isinstance(a, str) else a for a in record.args
            )
        elif isinstance(record.args, dict):
            record.args = {
                k: mask_claim_tokens(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging, with every handler masking claim tokens."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_claim_tokens"] = {"()": MaskClaimTokens}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("mask_claim_tokens")
    return config
