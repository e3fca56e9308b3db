"""The staff web console at `/admin`: sign-in with a link from the chat, then the pages.

Every path under `/admin` but the sign-in link's own answers a request without a valid session
with the sign-in page and nothing else (`SignedIn`). Every POST with a session carries the
session's form token and comes from the console's own origin (`_form`).
"""

from __future__ import annotations

import hmac
import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Match, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.admin.audit import Audit
from bot.admin.broadcast import BroadcastPage
from bot.admin.curation import Curation, photo
from bot.admin.fridays import FridayPlan
from bot.admin.imports import MAX_UPLOAD, Imports
from bot.admin.merchants import Merchants
from bot.admin.results import ResultsPage
from bot.admin.typed import number
from handlers.formatting import local_time
from handlers.texts import LANGUAGES, text
from models.uow import UnitOfWork
from models.web_sessions import Signed, end_session, signed_in, use_link

if TYPE_CHECKING:
    from bot.bootstrap import App
    from models.media import MediaStore

log = logging.getLogger(__name__)

PREFIX = "/admin"
COOKIE = "jbl_staff"
# Paths a person without a session may open: the sign-in link's page and its form.
SIGN_IN = "/masuk"
# Form bodies of the console are small; anything bigger is no form of ours.
MAX_FORM = 64 * 1024

Page = Callable[[Request, Signed], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ConsoleConfig:
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    session_hours: int
    # The console's public address (`Settings.console_url`); None: no public address.
    console_url: str | None
    timezone: Any
    default_language: str
    # Where photos sent in chat are kept: the curation cards show them.
    media: MediaStore
    # The results' spreadsheet: its products sheet's most rows, and whether it reads its parts
    # on several connections at once (not on SQLite's one).
    sheet_products: int = 100_000
    at_once: bool = False
    invite_days: int = 7
    # Where uploaded import files wait between their dry run and their import.
    uploads: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "jbl-imports")
    # The Telegram bot's @name for invite links, asked once; None without Telegram.
    name_bot: Callable[[], Awaitable[str | None]] | None = None
    _username: list[str | None] = field(default_factory=list)

    async def bot_username(self) -> str | None:
        if self.name_bot is None:
            return None
        if not self._username:
            self._username.append(await self.name_bot())
        return self._username[0]

    @property
    def secure(self) -> bool:
        return (self.console_url or "").startswith("https://")

    @property
    def origin(self) -> str | None:
        if self.console_url is None:
            return None
        parts = urlsplit(self.console_url)
        return f"{parts.scheme}://{parts.netloc}"


class Pages:
    """Renders the console's templates in the person's language."""

    def __init__(self, config: ConsoleConfig) -> None:
        self.config = config
        self.env = Environment(
            loader=FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(
        self,
        name: str,
        language: str,
        signed: Signed | None = None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        def t(key: str, **params: Any) -> str:
            return text(language, key, **params)

        html = self.env.get_template(name).render(
            t=t, language=language, signed=signed, prefix=PREFIX, **values
        )
        return HTMLResponse(html, status_code=status, headers=_NO_STORE)

    def language(self, request: Request, signed: Signed | None = None) -> str:
        """The signed-in person's language; else the browser's first known one."""
        if signed is not None and signed.language in LANGUAGES:
            return signed.language
        for part in request.headers.get("accept-language", "").split(","):
            code = part.split(";")[0].split("-")[0].strip().lower()
            if code in LANGUAGES:
                return code
        return self.config.default_language


# Pages hold what only staff may read: no cache keeps them after sign-out.
_NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    # A sign-in link's token is in its page's address: it goes to no other site. (No referrer
    # at all would make the browser send its forms with the Origin `null`.)
    "Referrer-Policy": "same-origin",
}


def build_console(app: App, name_bot: Callable[[], Awaitable[str | None]] | None = None) -> ASGIApp:
    """The console's ASGI app for `jbl run`, to mount at `PREFIX`; `name_bot` gives the
    Telegram bot's @name for invite links."""
    settings = app.settings
    return console_app(
        ConsoleConfig(
            sessions=app.sessions,
            clock=app.clock,
            session_hours=settings.web.session_hours,
            console_url=settings.console_url,
            timezone=settings.timezone,
            default_language=settings.i18n.default_language,
            media=app.conversation.media,
            sheet_products=settings.reports.sheet_products,
            at_once=app.engine.dialect.name != "sqlite",
            invite_days=settings.merchants.invite_valid_days,
            name_bot=name_bot,
        )
    )


def console_app(config: ConsoleConfig) -> SignedIn:
    pages = Pages(config)

    async def link_page(request: Request) -> Response:
        token = request.path_params["token"]
        language = pages.language(request)
        return pages.render("sign_in.html", language, token=token)

    async def sign_in(request: Request) -> Response:
        language = pages.language(request)
        form = await _read_form(request)
        if form is None or not _same_origin(request, config):
            return pages.render("refused.html", language, status=403, key="web_form_refused")
        token = str(form.get("token", ""))
        lasting = timedelta(hours=config.session_hours)
        async with UnitOfWork(config.sessions) as uow:
            started = await use_link(uow.session, token, config.clock(), lasting)
            await uow.commit()
        if started is None:
            return pages.render("refused.html", language, status=400, key="web_link_refused")
        session_token, _ = started
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        response.set_cookie(
            COOKIE,
            session_token,
            max_age=int(lasting.total_seconds()),
            path=PREFIX,
            secure=config.secure,
            httponly=True,
            samesite="lax",
        )
        return response

    async def home(request: Request, signed: Signed) -> Response:
        until = local_time(signed.expires_at, config.timezone, signed.language)
        return pages.render("home.html", signed.language, signed, until=until)

    async def sign_out(request: Request, signed: Signed) -> Response:
        async with UnitOfWork(config.sessions) as uow:
            await end_session(uow.session, request.cookies.get(COOKIE, ""), config.clock())
            await uow.commit()
        response = pages.render("refused.html", signed.language, key="web_signed_out")
        response.delete_cookie(COOKIE, path=PREFIX, secure=config.secure, httponly=True)
        return response

    public = [
        Route(f"{SIGN_IN}/{{token}}", link_page, methods=["GET"]),
        Route(SIGN_IN, sign_in, methods=["POST"]),
    ]
    fridays = FridayPlan(config, pages)
    audit = Audit(config, pages)
    curation = Curation(config, pages)
    broadcast = BroadcastPage(config, pages)
    report = ResultsPage(config, pages)
    merchants = Merchants(config, pages)
    imports = Imports(config, pages)

    async def product_photo(request: Request, signed: Signed) -> Response:
        product_id = number(request.path_params["product"])
        if product_id is None:
            return Response(status_code=404)
        return await photo(config, request, product_id)

    page = _page

    def form(posted: Page, files: bool = False) -> Endpoint:
        return _form(posted, config, pages, files)

    staff = [
        Route("/", page(home), methods=["GET"]),
        Route("/keluar", form(sign_out), methods=["POST"]),
        Route("/hasil", page(report.page), methods=["GET"]),
        Route("/hasil/grafik.png", page(report.chart), methods=["GET"]),
        Route("/hasil/hasil.csv", page(report.csv), methods=["GET"]),
        Route("/hasil/hasil.xlsx", page(report.xlsx), methods=["GET"]),
        Route("/toko", page(merchants.search), methods=["GET"]),
        Route("/toko/{merchant}", page(merchants.merchant), methods=["GET"]),
        Route("/toko/{merchant}/undang", form(merchants.invite), methods=["POST"]),
        Route("/impor", page(imports.page), methods=["GET"]),
        Route("/impor", form(imports.upload, files=True), methods=["POST"]),
        Route("/impor/{upload}", form(imports.confirm), methods=["POST"]),
        Route("/impor/{upload}/kesalahan.csv", page(imports.errors), methods=["GET"]),
        Route("/siaran", page(broadcast.page), methods=["GET"]),
        Route("/siaran/kemajuan", page(broadcast.progress), methods=["GET"]),
        Route("/siaran/{action}", form(broadcast.act), methods=["POST"]),
        Route("/jumat", page(fridays.page), methods=["GET"]),
        Route("/jumat/{friday}", form(fridays.save), methods=["POST"]),
        Route("/audit", page(audit.page), methods=["GET"]),
        Route("/kurasi", page(curation.queue), methods=["GET"]),
        Route("/kurasi/pilihan", page(curation.picks), methods=["GET"]),
        Route("/kurasi/tayangkan", form(curation.approve_many), methods=["POST"]),
        Route("/kurasi/{product}", form(curation.decide_one), methods=["POST"]),
        Route("/kurasi/{product}/lepas", form(curation.decide_one), methods=["POST"]),
        Route("/foto/{product}", page(product_photo), methods=["GET"]),
    ]
    router = Router(routes=public + staff)
    router.redirect_slashes = False
    return SignedIn(router, config, pages, public)


def _page(page: Page) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await page(request, request.state.signed)

    return endpoint


def _form(page: Page, config: ConsoleConfig, pages: Pages, files: bool = False) -> Endpoint:
    """A POST of a signed-in person: only with the session's form token, from the console.
    `files`: the form may carry one uploaded file."""

    async def endpoint(request: Request) -> Response:
        signed: Signed = request.state.signed
        form = await _read_form(request, files)
        given = str(form.get("csrf", "")) if form is not None else ""
        if not (
            form is not None
            and _same_origin(request, config)
            and hmac.compare_digest(given.encode(), signed.csrf_token.encode())
        ):
            return pages.render(
                "refused.html", signed.language, signed, status=403, key="web_form_refused"
            )
        request.state.form = form
        try:
            return await page(request, signed)
        finally:
            await form.close()  # an uploaded file's spooled copy

    return endpoint


async def _read_form(request: Request, files: bool = False) -> FormData | None:
    if request.headers.get("content-type", "").split(";")[0].strip() not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return None
    length = request.headers.get("content-length")
    most = MAX_UPLOAD + MAX_FORM if files else MAX_FORM
    if length is not None and (not (length.isascii() and length.isdigit()) or int(length) > most):
        return None
    try:
        return await request.form(max_files=1 if files else 0, max_fields=100)
    except Exception:  # a body that is no form: refused like a missing one
        return None


def _same_origin(request: Request, config: ConsoleConfig) -> bool:
    """The browser says where the form came from (Origin, else Referer); it must be the
    console's own address, or this request's host when no public address is set."""
    said = request.headers.get("origin") or request.headers.get("referer")
    if not said:
        return False
    parts = urlsplit(said)
    came_from = f"{parts.scheme}://{parts.netloc}"
    expected = config.origin or f"{request.url.scheme}://{request.headers.get('host', '')}"
    return hmac.compare_digest(came_from.encode(), expected.encode())


class SignedIn:
    """Lets a request through to the console's pages only with a valid session; else, on
    every path but the sign-in link's, the sign-in page."""

    def __init__(
        self, router: Router, config: ConsoleConfig, pages: Pages, public: list[Route]
    ) -> None:
        self.router = router
        self.config = config
        self.pages = pages
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        # The sign-in link's page and its form, in any method (the router answers a wrong one).
        if any(route.matches(scope)[0] != Match.NONE for route in self.public):
            await self.router(scope, receive, send)
            return
        async with self.config.sessions() as session:
            signed = await signed_in(session, request.cookies.get(COOKIE), self.config.clock())
        if signed is None:
            language = self.pages.language(request)
            response = self.pages.render("sign_in.html", language, status=401, token=None)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["signed"] = signed
        if all(route.matches(scope)[0] == Match.NONE for route in self.router.routes):
            response = self.pages.render(
                "refused.html", signed.language, signed, status=404, key="web_not_found"
            )
            await response(scope, receive, send)
            return
        await self._page(scope, receive, send, signed)

    async def _page(self, scope: Scope, receive: Receive, send: Send, signed: Signed) -> None:
        """The page, or, if it broke before answering, a page that says so politely (the
        log keeps what broke)."""
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.router(scope, receive, sending)
        except Exception:
            log.exception("web console: %s %s failed", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = self.pages.render(
                "refused.html", signed.language, signed, status=500, key="web_broken"
            )
            await response(scope, receive, send)
