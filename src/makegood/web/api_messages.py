"""In-app messages for the service's own app backend (API key with messages:* scopes).

The backend calls these for the subscriber signed in to its app; texts come in the account's
language, amounts and dates formatted for its locale, each with the actions it allows.
"""

# No `from __future__ import annotations`: FastAPI must see the local Annotated aliases.

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Response

from makegood.bootstrap import Container
from makegood.domain.languages import match_locale
from makegood.notify.formatting import (
    format_date_long,
    format_datetime_utc,
    format_money,
)
from makegood.notify.render import text_isolated
from makegood.services.inapp import InappMessage, claim_message, dismiss_message, pending_messages
from makegood.services.users import ApiKey
from makegood.web import api_schemas as s
from makegood.web.auth import Auth
from makegood.web.texts import TEXTS, texts_for

# Values inside an in-app sentence: between Unicode isolates when the language is right to left
# (the app shows plain text, so no markup can do it there).
IN_SENTENCE = ("incident", "amount", "plan", "expires", "date")


def message_public(account_id: str, m: InappMessage, fallback: str) -> s.MessagePublic:
    # As the claim page and the e-mail: the account's language when we have it, else the
    # fallback's, and the numbers follow the words.
    choice = match_locale([m.locale], TEXTS, fallback)
    language, locale = choice.language, choice.locale
    t = texts_for(language)
    amount = format_money(m.amount_minor, m.currency, locale)
    base = f"/api/v1/accounts/{account_id}/messages/{m.id}"
    actions = []
    if m.template == "offer_claim":
        title = t["inapp_claim_title"]
        body = t["inapp_claim_body"].format(
            **text_isolated(
                {
                    "incident": m.incident_title,
                    "amount": amount,
                    "plan": m.plan_name,
                    "expires": format_datetime_utc(m.expires_at, locale),
                },
                choice.direction,
                IN_SENTENCE,
            )
        )
        if m.claimable:
            actions.append(
                s.MessageAction(name="claim", href=f"{base}/claim", label=t["inapp_claim_action"])
            )
    else:
        title = t["inapp_granted_title"]
        body = t["inapp_granted_body"].format(
            **text_isolated(
                {
                    "incident": m.incident_title,
                    "amount": amount,
                    "plan": m.plan_name,
                    "date": format_date_long(m.statement_date, locale),
                },
                choice.direction,
                IN_SENTENCE,
            )
        )
    actions.append(
        s.MessageAction(name="dismiss", href=f"{base}/dismiss", label=t["inapp_dismiss_action"])
    )
    return s.MessagePublic(
        id=m.id,
        offer_id=m.offer_id,
        kind="claim" if m.template == "offer_claim" else "credit",
        state=m.state,
        created_at=m.created_at,
        language=language,
        title=title,
        body=body,
        amount=amount,
        amount_minor=m.amount_minor,
        currency=m.currency,
        expires_at=m.expires_at,
        actions=actions,
    )


def add_message_routes(api: FastAPI, container: Container, auth: Auth) -> None:
    MsgRead = Annotated[ApiKey, Depends(auth.scope("messages:read"))]  # noqa: N806
    MsgWrite = Annotated[ApiKey, Depends(auth.scope("messages:write"))]  # noqa: N806

    @api.get("/accounts/{account_id}/messages", response_model=list[s.MessagePublic])
    def messages(account_id: str, _: MsgRead) -> Any:
        """The account's pending apology and credit messages, newest first."""
        with container.uow() as uow:
            found = pending_messages(uow, account_id, container.now())
        fallback = container.settings.fallback_locale
        return [message_public(account_id, m, fallback) for m in found]

    @api.post("/accounts/{account_id}/messages/{message_id}/claim", response_model=s.ClaimPublic)
    def claim(account_id: str, message_id: str, _: MsgWrite) -> Any:
        """Claim the message's credit for the signed-in subscriber, exactly once (409 after)."""
        with container.uow() as uow:
            result = claim_message(uow, account_id, message_id, container.now())
            uow.commit()
        return s.ClaimPublic(
            offer_id=result.offer_id,
            credit_id=result.credit_id,
            amount_minor=result.amount_minor,
            currency=result.currency,
            amount=format_money(result.amount_minor, result.currency, result.locale),
            granted_at=result.granted_at,
            statement_date=result.statement_date,
        )

    @api.post("/accounts/{account_id}/messages/{message_id}/dismiss", status_code=204)
    def dismiss(account_id: str, message_id: str, _: MsgWrite) -> Response:
        """Hide the message from the app."""
        with container.uow() as uow:
            dismiss_message(uow, account_id, message_id, container.now())
            uow.commit()
        return Response(status_code=204)
