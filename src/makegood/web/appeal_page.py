"""`/appeal/{token}`: a subscriber the snapshot did not find affected says they could not watch.

GET shows the incident, the appeal window and a confirm button with an optional "roughly
when" field, or the appeal already filed; it changes nothing (mail scanners fetch links).
POST, with the page's CSRF token, files the appeal once (services/appeals.py) and sends the
browser back to GET, which then shows its state. The language is the account's, as on the
claim page (Accept-Language only for pages that name no account). Unknown links answer the
claim pages' 404 page and count against the claim pages' failed-lookup limit; a closed window is a
410 page of its own.

CSRF: as on the claim page, a nonce cookie (path /appeal) and an HMAC of it and the link's
hash in the form.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from makegood.bootstrap import Container
from makegood.domain import errors
from makegood.domain.appeals import MAX_NOTE_LENGTH
from makegood.domain.languages import LocaleChoice, match_locale
from makegood.domain.tokens import hash_token
from makegood.notify.formatting import format_datetime_utc
from makegood.services.appeals import AppealPage, file_appeal, view_appeal
from makegood.web import csrf
from makegood.web.pages import Pages, languages_from_header
from makegood.web.ratelimit import RateLimit, RateLimited, client_address
from makegood.web.texts import TEXTS

COOKIE = "mg_appeal_nonce"
PATH = "/appeal"
SCOPE = "appeal:"  # what the CSRF HMAC binds the nonce to, before the link's hash


FormReader = Callable[[Request], Awaitable[dict[str, str]]]


def appeal_router(
    container: Container, pages: Pages, limiter: RateLimit | None, small_form: FormReader
) -> APIRouter:
    settings = container.settings
    router = APIRouter()
    secure_cookie = settings.public_url.lower().startswith("https://")

    def language(page: AppealPage | None, request: Request) -> LocaleChoice:
        candidates = (
            [page.locale]
            if page is not None
            else languages_from_header(request.headers.get("accept-language"))
        )
        return match_locale(candidates, TEXTS, settings.fallback_locale)

    def closed(request: Request, page: AppealPage) -> Response:
        choice = language(page, request)
        when = format_datetime_utc(page.expires_at, choice.locale)
        return pages.render("appeal_closed.html", status=410, language=choice, when=when)

    def refused(request: Request, exc: Exception) -> Response:
        if limiter is not None:
            limiter.hit(client_address(request))  # a failed lookup or a refused form
        choice = language(None, request)
        if isinstance(exc, csrf.CsrfRejected):
            return pages.render("forbidden.html", status=403, language=choice)
        return pages.render("not_found.html", status=404, language=choice)

    def refuse_if_limited(request: Request) -> None:
        if limiter is not None:
            client = client_address(request)
            if limiter.limited(client):
                raise RateLimited(limiter.retry_after(client))

    @router.get(PATH + "/{token}")
    def show_appeal(token: str, request: Request) -> Response:
        """The appeal page, or the appeal already filed; changes nothing."""
        refuse_if_limited(request)
        try:
            with container.uow() as uow:
                page = view_appeal(uow, token, container.now())
        except errors.AppealLinkInvalid as exc:
            return refused(request, exc)
        if page.closed and page.state is None:
            return closed(request, page)
        nonce = request.cookies.get(COOKIE)
        if not csrf.usable_nonce(nonce):
            nonce = csrf.new_nonce()
        assert nonce is not None
        choice = language(page, request)
        locale = choice.locale
        response = pages.render(
            "appeal.html",
            status=200,
            language=choice,
            appeal=page,
            incident=page.incident_title,
            window=(
                f"{format_datetime_utc(page.incident_starts_at, locale)} \u2013 "
                f"{format_datetime_utc(page.incident_ends_at, locale)}"
            ),
            until=format_datetime_utc(page.expires_at, locale),
            note_max=MAX_NOTE_LENGTH,
            csrf_token=csrf.csrf_token(settings.secret_key, nonce, SCOPE + hash_token(token)),
        )
        response.set_cookie(
            COOKIE, nonce, path=PATH, httponly=True, samesite="lax", secure=secure_cookie
        )
        return response

    @router.post(PATH + "/{token}")
    async def file(request: Request) -> Response:
        """Files the appeal once (CSRF-checked), then shows its state (GET)."""
        token = str(request.path_params["token"])
        refuse_if_limited(request)
        form = await small_form(request)
        try:
            csrf.check_csrf(
                settings.secret_key,
                request.cookies.get(COOKIE),
                SCOPE + hash_token(token),
                form.get("csrf_token"),
            )
            page = await run_in_threadpool(_file, container, token, form.get("note"))
        except (errors.AppealLinkInvalid, csrf.CsrfRejected) as exc:
            if isinstance(exc, errors.AppealWindowClosed):
                with container.uow() as uow:
                    return closed(request, view_appeal(uow, token, container.now()))
            return refused(request, exc)
        assert page is not None
        return RedirectResponse(f"{PATH}/{quote(token, safe='')}", status_code=303)

    return router


def _file(container: Container, token: str, note: str | None) -> AppealPage:
    with container.uow() as uow:
        page = file_appeal(uow, token, note, container.now())
        uow.commit()
        return page
