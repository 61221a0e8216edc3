"""E-mail addresses as they stand on an SMTP command line (``MAIL FROM:<...>``, ``RCPT TO:``)."""

from __future__ import annotations

import re

# What may not appear in an address on a command line: controls, space, angle brackets.
_UNSAFE_IN_COMMAND = re.compile(r"[\x00-\x20\x7f<>]")


def is_envelope_address(address: str) -> bool:
    """A plain ASCII ``local@domain`` that can be written between the brackets of an SMTP
    command as it is: no control characters, spaces or angle brackets."""
    local, at, domain = address.rpartition("@")
    if not (at and local and domain and address.isascii()):
        return False
    return _UNSAFE_IN_COMMAND.search(address) is None
