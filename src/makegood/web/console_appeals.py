"""The console's appeal queue: appeals the logs did not confirm first (oldest first), then
the others (newest first), each with the account, the incident, what the logs showed and the
subscriber's note; an agent grants (within their grant limit) or declines with a reason.
Both are POSTs under the console's CSRF check and audited by services.appeal_decisions."""

# No `from __future__ import annotations`: FastAPI must see the local Annotated aliases.

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Response
from fastapi.responses import RedirectResponse

from makegood.bootstrap import Container
from makegood.services.appeal_decisions import decline_appeal, grant_appeal
from makegood.services.users import Permission, Role, SessionUser
from makegood.telemetry.account_log import AccountLog
from makegood.web.auth import Auth
from makegood.web.console_render import ConsolePages

PREFIX = "/console"
FLASH = {
    "granted": "The appeal was granted: the credit is on the account and the subscriber is told.",
    "declined": "The appeal was declined: the subscriber is told why.",
}


def add_appeal_routes(app: FastAPI, container: Container, auth: Auth, pages: ConsolePages) -> None:
    Agent = Annotated[SessionUser, Depends(auth.require(Permission.SUPPORT))]  # noqa: N806

    @app.get("/appeals")
    def appeal_queue(session: Agent, done: str = "") -> Response:
        with container.uow() as uow:
            rows = [_shown(r) for r in uow.appeals.queue_page()]
        return pages.render(
            "appeals.html",
            session=session,
            title="Appeals",
            appeals=rows,
            waiting=sum(1 for r in rows if r["state"] == "needs_review"),
            flash=FLASH.get(done),
        )

    @app.post("/appeals/{appeal_id}/grant")
    def grant(
        appeal_id: str, session: Agent, note: Annotated[str, Form(max_length=500)] = ""
    ) -> Response:
        user = session.user
        limits = None if user.role == Role.ADMIN else user.grant_limits
        grant_appeal(container, appeal_id, user.email, limits, note)
        return RedirectResponse(f"{PREFIX}/appeals?done=granted", status_code=303)

    @app.post("/appeals/{appeal_id}/decline")
    def decline(
        appeal_id: str, session: Agent, reason: Annotated[str, Form(max_length=1000)] = ""
    ) -> Response:
        decline_appeal(container, appeal_id, reason, session.user.email)
        return RedirectResponse(f"{PREFIX}/appeals?done=declined", status_code=303)


def _shown(row: Any) -> dict[str, Any]:
    """A queue row with its findings read (counts, first and last instants, the proposal)."""
    findings = dict(row["findings"] or {})
    return {
        **dict(row),
        "log": AccountLog.from_json(findings) if findings else None,
        "proposed": findings.get("proposed") or {},
        "excluded": findings.get("excluded"),
    }
