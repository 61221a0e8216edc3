"""The suppression key: one hash per mailbox however the address is written; no plain text."""

from __future__ import annotations

from makegood.notify.tracking import address_hash, normalised_address


def test_same_mailbox_same_key() -> None:
    assert address_hash(" Ana@Example.COM ") == address_hash("ana@example.com")
    assert normalised_address("josé@bücher.de") == "josé@xn--bcher-kva.de"
    assert address_hash("josé@bücher.de") == address_hash("josé@xn--bcher-kva.de")


def test_different_mailboxes_differ_and_the_key_hides_the_address() -> None:
    key = address_hash("ana@example.com")
    assert key != address_hash("ana2@example.com")
    assert len(key) == 64
    assert "ana" not in key
