"""The suppression list's key, and the e-mail worker's way to its delivery records.

Events and suppressions are stored by store/deliveries.py (`uow.deliveries`); the in-app
message that another channel failed to reach is flagged by store/outbox.py
(`uow.outbox.mark_inapp_urgent`). What comes back after sending (bounces, complaints, the
provider's webhook) is recorded by services/delivery_feedback.py.
"""

from __future__ import annotations

import contextlib
import hashlib

SUPPRESSING_KINDS = ("bounced", "complained")


def normalised_address(address: str) -> str:
    """The form addresses are compared in: trimmed, lower case, IDN domain in punycode."""
    local, _, domain = address.strip().rpartition("@")
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}".lower()


def address_hash(address: str) -> str:
    """sha256 (hex) of the normalised address: the suppression list's key."""
    return hashlib.sha256(normalised_address(address).encode("utf-8")).hexdigest()
