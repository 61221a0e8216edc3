"""`makegood billing reconcile CAMPAIGN`: offers, credits, ledger, statements and connector
acknowledgements of one campaign, compared; every difference listed.

Difference kinds (each names the offer/credit and says what disagrees):
- credit_missing: an offer is claimed or granted but has no credit.
- offer_not_credited: a credit exists for an offer that is not claimed or granted.
- amount_mismatch: a credit's amount or currency differs from its offer's.
- grant_entry_mismatch: the credit does not have exactly one `granted` entry of its amount.
- applied_mismatch: the credit's applied amount, its `applied` entries and the credit lines of
  statements do not agree.
- over_settled: entries settle more of the credit than was granted.
- double_settlement: the credit was both applied on a statement and acknowledged by a connector.
- ack_without_entry / entry_without_ack: a connector acknowledgement without its `posted` (or
  `clawback_billed`) entry, or the entry without the acknowledgement.
- ack_amount_mismatch: the acknowledged amount differs from the ledger entry.
- unacknowledged_posting: a posting the billing system has not acknowledged (pending, failed or
  skipped), with its last error.
- reversal_incomplete: the campaign was reversed but an offer is still open or a credit still
  has an unbilled amount.
Nothing here writes; the command exits 1 when there is any difference.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from makegood.domain.errors import NotFound
from makegood.domain.offers import claimable
from makegood.store.uow import UnitOfWork

CREDITED = ("claimed", "granted")
SETTLING = ("applied", "posted", "reversed", "forfeited", "paid_out")


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str
    detail: str
    offer_id: str | None = None
    credit_id: str | None = None
    account_id: str | None = None

    def document(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "offer_id": self.offer_id,
            "credit_id": self.credit_id,
            "account_id": self.account_id,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Reconciliation:
    campaign_id: str
    offers: int
    credits: int
    postings: int
    differences: list[Difference]

    def document(self) -> dict[str, Any]:
        counts: dict[str, int] = defaultdict(int)
        for d in self.differences:
            counts[d.kind] += 1
        return {
            "campaign": self.campaign_id,
            "checked": {"offers": self.offers, "credits": self.credits, "postings": self.postings},
            "counts": dict(sorted(counts.items())),
            "differences": [d.document() for d in self.differences],
        }


def reconcile(uow: UnitOfWork, campaign_id: str) -> Reconciliation:
    """Compare everything recorded about `campaign_id`; NotFound for an unknown campaign."""
    if uow.campaigns.get(campaign_id) is None:
        raise NotFound(f"no campaign {campaign_id!r}; `makegood campaign create` prints the id")
    offers = uow.offers.of_campaign(campaign_id)
    credits = uow.credits.of_campaign(campaign_id)
    ids = list(credits)
    entries: dict[str, list[Any]] = defaultdict(list)
    lines: dict[str, int] = defaultdict(int)
    acks: dict[str, list[Any]] = defaultdict(list)
    open_postings: list[Any] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for e in uow.ledger.entries_for_credits(chunk):
            entries[e.credit_id].append(e)
        lines.update(uow.statements.credited_per_credit(chunk))
        for p in uow.postings.of_credits(chunk):
            if p.state == "acked":
                acks[p.credit_id].append(p)
            elif p.state != "cancelled":
                open_postings.append(p)
    reversed_ = uow.reversals.exists_for(campaign_id)

    found: list[Difference] = []
    found += _offers_vs_credits(offers, credits)
    for credit_id, credit in credits.items():
        found += _credit_vs_ledger(credit, entries[credit_id], lines[credit_id], acks[credit_id])
    for p in open_postings:
        found.append(
            Difference(
                "unacknowledged_posting",
                f"{p.connector} {p.purpose} posting {p.idempotency_key} is {p.state} after "
                f"{p.attempts} attempts: {p.last_error or 'not sent yet'}",
                credit_id=p.credit_id,
                account_id=p.account_id,
            )
        )
    if reversed_:
        found += _reversal_leftovers(offers, credits, entries)
    return Reconciliation(
        campaign_id,
        len(offers),
        len(credits),
        sum(len(v) for v in acks.values()) + len(open_postings),
        found,
    )


def _offers_vs_credits(offers: dict[str, Any], credits: dict[str, Any]) -> list[Difference]:
    found: list[Difference] = []
    by_offer = {c.offer_id: c for c in credits.values()}
    for offer in offers.values():
        credit = by_offer.get(offer.id)
        if offer.state in CREDITED and credit is None:
            found.append(
                Difference(
                    "credit_missing",
                    f"offer is {offer.state} but has no credit",
                    offer.id,
                    None,
                    offer.account_id,
                )
            )
        if credit is None:
            continue
        if offer.state not in CREDITED:
            found.append(
                Difference(
                    "offer_not_credited",
                    f"offer is {offer.state} but a credit exists",
                    offer.id,
                    credit.id,
                    offer.account_id,
                )
            )
        if (credit.amount_minor, credit.currency) != (offer.amount_minor, offer.currency):
            found.append(
                Difference(
                    "amount_mismatch",
                    f"credit {credit.amount_minor} {credit.currency} vs offer "
                    f"{offer.amount_minor} {offer.currency}",
                    offer.id,
                    credit.id,
                    offer.account_id,
                )
            )
    return found


def _credit_vs_ledger(
    credit: Any, entries: list[Any], line_total: int, acks: list[Any]
) -> list[Difference]:
    found: list[Difference] = []

    def add(kind: str, detail: str) -> None:
        found.append(Difference(kind, detail, credit.offer_id, credit.id, credit.account_id))

    sums: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for e in entries:
        sums[e.kind] += e.amount_minor
        counts[e.kind] += 1
    if counts["granted"] != 1 or sums["granted"] != credit.amount_minor:
        add(
            "grant_entry_mismatch",
            f"{counts['granted']} granted entries totalling {sums['granted']}, "
            f"credit is {credit.amount_minor}",
        )
    if not credit.applied_minor == -sums["applied"] == line_total:
        add(
            "applied_mismatch",
            f"credit applied {credit.applied_minor}, entries {-sums['applied']}, "
            f"statement lines {line_total}",
        )
    left = credit.amount_minor + sum(sums[k] for k in SETTLING)
    if left < 0:
        add("over_settled", f"entries settle {-left} more than granted")
    credit_acks = [a for a in acks if a.purpose == "credit"]
    if credit_acks and credit.applied_minor:
        add("double_settlement", "applied on our statements and acknowledged by a connector")
    posted = {
        e.posting_id: e for e in entries if e.kind in ("posted", "clawback_billed") and e.posting_id
    }
    for ack in acks:
        entry = posted.pop(ack.id, None)
        if entry is None:
            add(
                "ack_without_entry",
                f"{ack.connector} acknowledged {ack.idempotency_key} but the ledger has no entry",
            )
        elif entry.amount_minor != ack.amount_minor:
            add(
                "ack_amount_mismatch",
                f"acknowledged {ack.amount_minor}, ledger {entry.amount_minor}",
            )
    for entry in posted.values():
        add(
            "entry_without_ack", f"ledger {entry.kind} entry {entry.id} has no acknowledged posting"
        )
    return found


def _reversal_leftovers(
    offers: dict[str, Any], credits: dict[str, Any], entries: dict[str, list[Any]]
) -> list[Difference]:
    found: list[Difference] = []
    for offer in offers.values():
        if claimable(offer.state, offer.expires_at, None, even_after_expiry=True):
            found.append(
                Difference(
                    "reversal_incomplete",
                    "campaign reversed but the offer is still open",
                    offer.id,
                    None,
                    offer.account_id,
                )
            )
    for credit in credits.values():
        left = credit.amount_minor + sum(
            e.amount_minor for e in entries[credit.id] if e.kind in SETTLING
        )
        if left > 0:
            found.append(
                Difference(
                    "reversal_incomplete",
                    f"campaign reversed but {left} of the credit is still unbilled",
                    credit.offer_id,
                    credit.id,
                    credit.account_id,
                )
            )
    return found
