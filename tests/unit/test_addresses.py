"""The one rule for an address on an SMTP command line (settings and the SMTP sender use it)."""

from __future__ import annotations

import pytest

from makegood.domain.addresses import is_envelope_address


@pytest.mark.parametrize("address", ["care@example.com", "a+tag@x.test", "o'neil@mail.example"])
def test_plain_addresses_pass(address: str) -> None:
    assert is_envelope_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "care",
        "@example.com",
        "care@",
        "care @example.com",
        "care@example.com>",
        "<care@example.com",
        "care@exa\r\nmple.com",
        "care@exa\x7fmple.com",
        "cäre@example.com",
    ],
)
def test_what_a_command_line_cannot_hold_is_refused(address: str) -> None:
    assert not is_envelope_address(address)
