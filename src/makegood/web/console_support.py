"""Console support pages: look an account up, see everything about it, act on its offers; and
the audit log. Actions need the `support` permission, and each is audited by its service."""

# No `from __future__ import annotations`: FastAPI must see the local Annotated aliases.

from typing import Annotated

from fastapi import Depends, FastAPI, Form, Response
from fastapi.responses import RedirectResponse

from makegood.billing.statements import statements_for
from makegood.bootstrap import Container
from makegood.notify.history import offer_messages
from makegood.services import console_queries as q
from makegood.services.console_queries import find_accounts as q_find
from makegood.services.support import REASON_CODES, extend_offer, goodwill_grant, resend_link
from makegood.services.users import Permission, Role, SessionUser
from makegood.web.auth import Auth
from makegood.web.console_render import ConsolePages, path_segment
from makegood.web.paging import AuditBefore

PREFIX = "/console"
FLASH = {
    "resent": "A new link was queued by e-mail; the old link no longer works.",
    "extended": "The claim window was extended.",
    "granted": "The credit was granted.",
}


def add_support_routes(app: FastAPI, container: Container, auth: Auth, pages: ConsolePages) -> None:
    Reader = Annotated[SessionUser, Depends(auth.require(Permission.READ))]  # noqa: N806
    Agent = Annotated[SessionUser, Depends(auth.require(Permission.SUPPORT))]  # noqa: N806

    def back_to_account(offer_id: str, done: str) -> Response:
        with container.uow() as uow:
            account_id = q.get_offer(uow, offer_id)["account_id"]
        return RedirectResponse(
            f"{PREFIX}/accounts/{path_segment(account_id)}?done={done}", status_code=303
        )

    @app.get("/support")
    def support(session: Reader, q: str = "") -> Response:
        """Search by account id or e-mail; one hit goes straight to the account."""
        found = []
        if q.strip():
            with container.uow() as uow:
                found = q_find(uow, q)
            if len(found) == 1:
                return RedirectResponse(
                    f"{PREFIX}/accounts/{path_segment(found[0]['account_id'])}", status_code=303
                )
        return pages.render("support.html", session=session, title="Support", q=q, found=found)

    @app.get("/accounts/{account_id:path}")
    def account(account_id: str, session: Reader, done: str = "") -> Response:
        with container.uow() as uow:
            row = q.get_account(uow, account_id)
            offers = q.offers_for(uow, account_id=account_id)
            # Every message of every offer with its delivery events (notify's history).
            messages = sorted(
                (m for o in offers for m in offer_messages(uow, o["id"])),
                key=lambda m: (m.created_at, m.id),
                reverse=True,
            )
            statements = statements_for(uow, account_id)
            entries = q.account_audit(uow, account_id)
            appeals = uow.appeals.of_account(account_id)
        return pages.render(
            "account.html",
            session=session,
            title=f"Account {account_id}",
            account=row,
            offers=offers,
            messages=messages,
            statements=statements,
            entries=entries,
            appeals=appeals,
            reasons=REASON_CODES,
            flash=FLASH.get(done),
        )

    @app.post("/offers/{offer_id}/resend")
    def resend(offer_id: str, session: Agent) -> Response:
        resend_link(container, offer_id, session.user.email)
        return back_to_account(offer_id, "resent")

    @app.post("/offers/{offer_id}/extend")
    def extend(offer_id: str, session: Agent, days: Annotated[int, Form()] = 7) -> Response:
        extend_offer(container, offer_id, days, session.user.email)
        return back_to_account(offer_id, "extended")

    @app.post("/offers/{offer_id}/grant")
    def grant(
        offer_id: str, session: Agent, reason: Annotated[str, Form(max_length=32)] = ""
    ) -> Response:
        user = session.user
        limits = None if user.role == Role.ADMIN else user.grant_limits
        goodwill_grant(container, offer_id, reason, user.email, limits)
        return back_to_account(offer_id, "granted")

    @app.get("/audit")
    def audit(session: Reader, before: AuditBefore = None) -> Response:
        with container.uow() as uow:
            entries = q.audit_entries(uow, before=before, limit=100)
        next_before = entries[-1]["id"] if len(entries) == 100 else None
        return pages.render(
            "audit.html",
            session=session,
            title="Audit log",
            entries=entries,
            next_before=next_before,
        )
