"""The operator console, server-rendered (mounted at /console): login, incidents, campaigns.

Every route states its permission through `auth.require(...)`; support and audit pages live in
console_support. Domain errors become a page with the right status in `_install_errors`.
"""

# No `from __future__ import annotations`: FastAPI must see the local Annotated aliases.

from decimal import Decimal
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from makegood.bootstrap import Container
from makegood.domain import errors
from makegood.services import console_queries as q
from makegood.services.build_jobs import build_status
from makegood.services.campaigns import get_campaign, preview
from makegood.services.console_campaigns import (
    SelfApproval,
    approve_as,
    create_command,
    create_for_remote,
    policy_from_request,
)
from makegood.services.detections import get_detection
from makegood.services.launch import launch_campaign
from makegood.services.reports import campaign_report
from makegood.services.support import GrantLimitExceeded
from makegood.services.users import (
    SESSION_LIFETIME,
    Permission,
    SessionUser,
    authenticate,
    end_session,
    start_session,
)
from makegood.web import csrf
from makegood.web.auth import (
    SESSION_COOKIE,
    Auth,
    AuthenticateFirst,
    Forbidden,
    LoginRequired,
)
from makegood.web.charts import bar_chart, column_chart
from makegood.web.console_admin import add_admin_routes
from makegood.web.console_appeals import add_appeal_routes
from makegood.web.console_render import ConsolePages, path_segment
from makegood.web.console_support import add_support_routes
from makegood.web.detection_chart import detection_chart, detection_rows
from makegood.web.ratelimit import (
    UNAVAILABLE_RETRY_SECONDS,
    RateLimitUnavailable,
    client_address,
    web_limits,
)

PREFIX = "/console"
LOGIN_NONCE = "mg_login_nonce"

ERROR_STATUS: dict[type[Exception], int] = {
    Forbidden: 403,
    SelfApproval: 403,
    GrantLimitExceeded: 403,
    errors.NotFound: 404,
    errors.OfferUnavailable: 409,
    errors.InvalidInput: 400,
    errors.InvalidState: 409,
    errors.MakegoodError: 400,
}


def safe_next(value: str | None) -> str:
    """Only a console path may follow the login (no open redirect to another site)."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//"):
        return value
    return PREFIX + "/incidents"


def _fixed_amounts(text: str) -> dict[str, str]:
    amounts: dict[str, str] = {}
    for item in text.replace(",", " ").split():
        currency, sep, amount = item.partition("=")
        if not sep:
            raise errors.InvalidInput(f"fixed amounts: {item!r} must look like USD=5")
        amounts[currency] = amount
    return amounts


def amount_bars(counts: dict[str, int], most: int = 24) -> list[tuple[str, int]]:
    """The histogram of one currency's amounts: each amount, or `most` // 2 equal ranges when
    there are more than `most` different amounts."""
    if len(counts) <= most:
        return list(counts.items())
    values = [(Decimal(a), n) for a, n in counts.items()]
    low, high = values[0][0], values[-1][0]
    buckets = most // 2
    width = (high - low) / buckets
    bars = [0] * buckets
    for value, n in values:
        bars[min(int((value - low) / width), buckets - 1)] += n
    places = -values[0][0].as_tuple().exponent  # type: ignore[operator]
    edge = [low + width * i for i in range(buckets + 1)]
    return [(f"{edge[i]:.{places}f} to {edge[i + 1]:.{places}f}", bars[i]) for i in range(buckets)]


def _days_field(text: str, name: str) -> int | None:
    """An optional whole number of days from a form (empty: none)."""
    if not text.strip():
        return None
    if not text.strip().isascii() or not text.strip().isdigit():
        raise errors.InvalidInput(f"{name}: a whole number of days, e.g. 30, or empty for none")
    return int(text.strip())


def create_console(container: Container) -> FastAPI:
    """The console application; `app.state.style_hash` is its stylesheet's CSP hash."""
    settings = container.settings
    pages = ConsolePages(settings)
    auth = Auth(container)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.style_hash = pages.style_hash
    app.add_middleware(AuthenticateFirst, auth=auth, kind="console")

    Reader = Annotated[SessionUser, Depends(auth.require(Permission.READ))]  # noqa: N806
    Creator = Annotated[SessionUser, Depends(auth.require(Permission.CAMPAIGN_WRITE))]  # noqa: N806
    Approver = Annotated[SessionUser, Depends(auth.require(Permission.CAMPAIGN_APPROVE))]  # noqa: N806

    _login_routes(app, container, auth, pages)

    @app.get("/incidents")
    def incidents(session: Reader) -> Response:
        with container.uow() as uow:
            rows = q.list_incidents(uow)
        return pages.render("incidents.html", session=session, title="Incidents", incidents=rows)

    @app.get("/incidents/{incident_id}")
    def incident(incident_id: str, session: Reader) -> Response:
        with container.uow() as uow:
            row = q.get_incident_row(uow, incident_id)
            campaigns = q.list_campaigns(uow, incident_id)
            detection = get_detection(uow, incident_id)
        return pages.render(
            "incident.html",
            session=session,
            title=row["title"],
            incident=row,
            campaigns=campaigns,
            detection=detection,
            detection_chart=detection_chart(detection) if detection else "",
            detection_rows=detection_rows(detection) if detection else [],
        )

    @app.post("/incidents/{incident_id}/campaigns")
    def new_campaign(
        incident_id: str,
        session: Creator,
        events: Annotated[str, Form(max_length=1000)] = "",
        percent: Annotated[str, Form(max_length=20)] = "",
        fixed: Annotated[str, Form(max_length=1000)] = "",
        policy: Annotated[str, Form(max_length=100_000)] = "",
        claim_days: Annotated[int, Form(ge=1, le=365)] = 7,
        plans: Annotated[str, Form(max_length=4000)] = "",
        mode: Annotated[str, Form(max_length=8)] = "claim",
        pay_within_days: Annotated[str, Form(max_length=8)] = "",
        appeal_days: Annotated[int, Form(ge=1, le=365)] = 30,
    ) -> Response:
        """Submit the draft (a worker builds it) and show its page, which follows the build."""
        cmd = create_command(
            incident_id,
            events,
            policy_from_request(percent, _fixed_amounts(fixed), policy),
            claim_days,
            plans.replace(",", " ").split() or None,
            mode,
            session.user.email,
            _days_field(pay_within_days, "pay_within_days"),
            appeal_days,
        )
        campaign_id = create_for_remote(container, cmd)
        return RedirectResponse(f"{PREFIX}/campaigns/{path_segment(campaign_id)}", status_code=303)

    @app.get("/campaigns/{campaign_id}")
    def campaign(campaign_id: str, session: Reader, done: str = "") -> Response:
        """Preview, the approve/launch buttons the role allows, and after launch the funnel."""
        with container.uow() as uow:
            c = get_campaign(uow, campaign_id)
            incident = q.get_incident_row(uow, c.incident_id)
            build = build_status(uow, campaign_id)
            summary = preview(uow, campaign_id)
            now = container.now()
            report = campaign_report(uow, campaign_id, now) if c.state == "launched" else None
            by_day = q.claims_by_day(uow, campaign_id) if report else []
            unpaid = (
                uow.reports.unpaid_credits(campaign_id, c.pay_within_days, now)
                if report and c.pay_within_days is not None
                else []
            )
        funnel = []
        if report:
            funnel = [
                (name.capitalize(), int(report[name]))
                for name in ("affected", "offered", "notified", "claimed", "applied")
            ]
        flash = {"approved": "Campaign approved.", "launched": "Campaign launched."}.get(done)
        return pages.render(
            "campaign.html",
            session=session,
            title=f"Campaign for “{incident['title']}”",
            campaign=c,
            incident=incident,
            c=summary,
            build=build,
            report=report,
            funnel=funnel,
            funnel_chart=bar_chart("Funnel", funnel) if report else "",
            amount_charts={
                cur: bar_chart(f"Eligible accounts by amount, {cur}", amount_bars(counts))
                for cur, counts in summary["amounts"].items()
            },
            by_day=by_day,
            time_chart=column_chart("Claims per day", by_day) if report else "",
            unpaid=unpaid,
            flash=flash,
        )

    @app.post("/campaigns/{campaign_id}/approve")
    def approve(campaign_id: str, session: Approver) -> Response:
        approve_as(container, campaign_id, session.user.email)
        return RedirectResponse(
            f"{PREFIX}/campaigns/{path_segment(campaign_id)}?done=approved", status_code=303
        )

    @app.post("/campaigns/{campaign_id}/launch")
    def launch(campaign_id: str, session: Approver) -> Response:
        launch_campaign(container, campaign_id, actor=session.user.email)
        return RedirectResponse(
            f"{PREFIX}/campaigns/{path_segment(campaign_id)}?done=launched", status_code=303
        )

    add_support_routes(app, container, auth, pages)
    add_appeal_routes(app, container, auth, pages)
    add_admin_routes(app, container, auth, pages)
    _install_errors(app, auth, pages)
    return app


def _install_errors(app: FastAPI, auth: Auth, pages: ConsolePages) -> None:
    def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = f"{PREFIX}/login?next={quote(PREFIX + exc.next_path.removeprefix(PREFIX))}"
        return RedirectResponse(target, status_code=303)

    def error_page(request: Request, exc: Exception) -> Response:
        status = next((ERROR_STATUS[k] for k in type(exc).__mro__ if k in ERROR_STATUS), 500)
        if isinstance(exc, StarletteHTTPException):
            status = exc.status_code
        message = str(exc.detail) if isinstance(exc, StarletteHTTPException) else str(exc)
        return pages.render(
            "error.html",
            status=status,
            session=auth.session(request) if not isinstance(exc, LoginRequired) else None,
            title="Not allowed" if status == 403 else "Something is not right",
            message=message,
            back=PREFIX + "/incidents",
        )

    def invalid_request(request: Request, exc: Exception) -> Response:
        # Query and form fields FastAPI refused (a number out of range...): the page names them.
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(f"{e.get('loc', ('',))[-1]}: {e.get('msg', '')}" for e in exc.errors())
        return pages.render(
            "error.html",
            status=422,
            session=auth.session(request),
            title="Something is not right",
            message=problems,
            back=PREFIX + "/incidents",
        )

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(RequestValidationError, invalid_request)
    for kind in ERROR_STATUS:
        app.add_exception_handler(kind, error_page)
    app.add_exception_handler(StarletteHTTPException, error_page)


def _login_routes(app: FastAPI, container: Container, auth: Auth, pages: ConsolePages) -> None:
    settings = container.settings
    secure = settings.public_url.lower().startswith("https://")
    login_limiter = web_limits(container).login
    Reader = Annotated[SessionUser, Depends(auth.require(Permission.READ))]  # noqa: N806

    def login_page(
        request: Request, status: int, error: str | None, email: str, nxt: str
    ) -> Response:
        nonce = request.cookies.get(LOGIN_NONCE)
        if not csrf.usable_nonce(nonce):
            nonce = csrf.new_nonce()
        assert nonce is not None
        response = pages.render(
            "login.html",
            status=status,
            title="Sign in",
            error=error,
            email=email,
            next=safe_next(nxt),
            login_csrf=csrf.csrf_token(settings.secret_key, nonce, "login"),
        )
        response.set_cookie(
            LOGIN_NONCE, nonce, path=PREFIX + "/login", httponly=True, samesite="lax", secure=secure
        )
        return response

    @app.get("/")
    def home() -> Response:
        return RedirectResponse(PREFIX + "/incidents", status_code=303)

    @app.get("/login")
    def login_form(request: Request, next: str = "") -> Response:
        if auth.session(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return login_page(request, 200, None, "", next)

    @app.post("/login")
    def login(
        request: Request,
        email: Annotated[str, Form(max_length=320)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        csrf_token: Annotated[str, Form(max_length=128)] = "",
        next: Annotated[str, Form(max_length=2048)] = "",
    ) -> Response:
        """Check the password; on success open a session and go where the user was going."""
        try:
            csrf.check_csrf(
                settings.secret_key, request.cookies.get(LOGIN_NONCE), "login", csrf_token
            )
        except csrf.CsrfRejected:
            return login_page(request, 403, "The form expired: please sign in again.", email, next)
        client = client_address(request)
        try:
            allowed = login_limiter.hit(client)
        except RateLimitUnavailable:
            # Fails closed: without its count, a password check would be unlimited guessing.
            busy = login_page(
                request,
                503,
                "Signing in is unavailable for a moment: try again shortly.",
                email,
                next,
            )
            busy.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
            return busy
        if not allowed:
            limited = login_page(request, 429, "Too many attempts: wait a minute.", email, next)
            limited.headers["Retry-After"] = str(login_limiter.retry_after(client))
            return limited
        with container.uow() as uow:
            user = authenticate(uow, email, password)
            if user is None:
                return login_page(request, 401, "E-mail or password is wrong.", email, next)
            raw = start_session(uow, user, container.now())
            uow.commit()
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            raw,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=secure,
        )
        response.delete_cookie(LOGIN_NONCE, path=PREFIX + "/login")
        return response

    @app.post("/logout")
    def logout(request: Request, _: Reader) -> Response:
        with container.uow() as uow:
            end_session(uow, request.cookies.get(SESSION_COOKIE), container.now())
            uow.commit()
        response = RedirectResponse(PREFIX + "/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response
