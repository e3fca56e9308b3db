"""The console's broadcast: this Friday's, as subscribers get it, its state and live progress
(sent, failed, unreachable, rate, estimated finish), and pause, resume and cancel, each after a
confirmation. The same operations as `/siaran` (`models.broadcasts`), recorded as done on the
web."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from handlers.broadcast import broadcast_reply, progress_text
from handlers.formatting import long_date
from handlers.texts import text
from models import broadcasts
from models.friday import edition_date
from models.staff import WEB, record
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.admin.console import ConsoleConfig, Pages
    from models.broadcasts import Broadcast
    from models.web_sessions import Signed


@dataclass(frozen=True)
class Action:
    """What staff may do to this Friday's broadcast: from which states, the operation's name
    (`broadcast_<name>` in `staff_actions`), its button and what is said once done."""

    states: tuple[str, ...]
    name: str
    button: str
    done: str


ACTIONS = {
    "jeda": Action((broadcasts.RUNNING,), "pause", "btn_bc_pause", "web_bc_paused"),
    "lanjutkan": Action((broadcasts.HALTED,), "resume", "btn_bc_resume", "web_bc_resumed"),
    "batalkan": Action(
        (broadcasts.SCHEDULED, broadcasts.RUNNING, broadcasts.HALTED),
        "cancel",
        "btn_bc_cancel",
        "web_bc_cancelled",
    ),
}


class BroadcastPage:
    def __init__(self, config: ConsoleConfig, pages: Pages) -> None:
        self.config = config
        self.pages = pages

    def _friday(self) -> date:
        return edition_date(self.config.clock().astimezone(self.config.timezone).date())

    async def page(self, request: Request, signed: Signed) -> Response:
        language = signed.language
        friday = self._friday()
        async with self.config.sessions() as session:
            broadcast = await broadcasts.broadcast_for(session, friday)
            content = await broadcasts.content_for(session, broadcast, friday)
            lines = await self._progress(session, broadcast, language)
        preview = broadcast_reply(language, content)
        status = broadcast.status if broadcast else broadcasts.SCHEDULED
        allowed = [(word, a.button) for word, a in ACTIONS.items() if status in a.states]
        if broadcast is None:
            allowed = []  # nothing to pause or cancel yet: it is planned when it starts
        return self.pages.render(
            "broadcast.html",
            language,
            signed,
            title=text(
                language,
                "bc_title",
                date=long_date(friday, language),
                category=content.category.name(language),
            ),
            state=text(language, f"bc_status_{status}"),
            live=status in (broadcasts.RUNNING, broadcasts.HALTED),
            lines=lines,
            preview=preview.text,
            preview_buttons=[button.label for button in preview.buttons],
            allowed=allowed,
            asked=_asked(request, [word for word, _ in allowed]),
            done=request.query_params.get("done"),
        )

    async def progress(self, request: Request, signed: Signed) -> Response:
        """What the page shows of the progress, for its script to refresh."""
        async with self.config.sessions() as session:
            broadcast = await broadcasts.broadcast_for(session, self._friday())
            lines = await self._progress(session, broadcast, signed.language)
        status = broadcast.status if broadcast else broadcasts.SCHEDULED
        return JSONResponse(
            {"status": status, "lines": lines}, headers={"Cache-Control": "no-store"}
        )

    async def _progress(
        self, session: AsyncSession, broadcast: Broadcast | None, language: str
    ) -> list[str]:
        if broadcast is None or broadcast.status == broadcasts.SCHEDULED:
            return []
        done = await broadcasts.progress(session, broadcast, self.config.clock())
        return progress_text(language, self.config.timezone, broadcast, done)

    async def act(self, request: Request, signed: Signed) -> Response:
        """Pause, resume or cancel, once confirmed; a press on a broadcast that has moved on
        meanwhile changes nothing and says so."""
        word = request.path_params["action"]
        language = signed.language
        form = request.state.form
        if word not in ACTIONS:
            return self._back(request, text(language, "web_bad_form"))
        if form.get("yakin") != "ya":
            return RedirectResponse(f"{self._base(request)}?yakin={word}", status_code=303)
        action = ACTIONS[word]
        now = self.config.clock()
        async with UnitOfWork(self.config.sessions) as uow:
            broadcast = await broadcasts.broadcast_for(uow.session, self._friday())
            if broadcast is None or broadcast.status not in action.states:
                return self._back(request, text(language, "web_bc_moved_on"))
            if action.name == "pause":
                await broadcasts.pause(uow.session, broadcast)
            elif action.name == "resume":
                await broadcasts.resume(uow.session, broadcast, now)
            else:
                await broadcasts.cancel(uow.session, broadcast, now)
            await record(
                uow.session,
                WEB,
                f"broadcast_{action.name}",
                now,
                person_id=signed.person_id,
                broadcast_id=broadcast.id,
            )
            await uow.commit()
        return self._back(request, text(language, action.done))

    def _base(self, request: Request) -> str:
        return request.url.path.rsplit("/", 1)[0]

    def _back(self, request: Request, said: str) -> Response:
        return RedirectResponse(
            f"{self._base(request)}?{urlencode({'done': said})}", status_code=303
        )


def _asked(request: Request, allowed: list[str]) -> str | None:
    """The action whose confirmation the page shows (`?yakin=`), if it may be done now."""
    asked = request.query_params.get("yakin")
    return asked if asked in allowed and not request.query_params.get("done") else None
