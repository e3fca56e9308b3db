"""The console's Friday plan: the next Fridays' featured category and headline, editable until
their broadcast starts (`models.broadcasts.plan_friday`, as `jbl friday set`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.admin.typed import day, number
from handlers.broadcast import CALENDAR_WEEKS
from handlers.formatting import long_date
from handlers.texts import text
from models import broadcasts
from models.catalog import categories_in_rotation
from models.errors import Refusal
from models.friday import edition_date
from models.staff import WEB, record
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.admin.console import ConsoleConfig, Pages
    from models.web_sessions import Signed


class FridayPlan:
    def __init__(self, config: ConsoleConfig, pages: Pages) -> None:
        self.config = config
        self.pages = pages

    def _this_friday(self) -> date:
        return edition_date(self.config.clock().astimezone(self.config.timezone).date())

    async def page(
        self, request: Request, signed: Signed, error: str | None = None, status: int = 200
    ) -> Response:
        language = signed.language
        async with self.config.sessions() as session:
            planned = await broadcasts.calendar(session, self._this_friday(), CALENDAR_WEEKS)
            categories = await categories_in_rotation(session)
        rows = [
            {
                "friday": friday.isoformat(),
                "day": long_date(friday, language),
                "category_id": category.id,
                "headline": headline or "",
                "state": text(language, f"bc_status_{state}") if state else "",
                "open": state in (None, broadcasts.SCHEDULED),
            }
            for friday, category, headline, state in planned
        ]
        choices = [(c.id, c.name(language)) for c in categories]
        saved = day(request.query_params.get("saved"))
        return self.pages.render(
            "fridays.html",
            language,
            signed,
            status=status,
            rows=rows,
            choices=choices,
            saved=long_date(saved, language) if saved else None,
            error=error,
        )

    async def save(self, request: Request, signed: Signed) -> Response:
        form = request.state.form
        friday = day(request.path_params["friday"])
        if friday is None:
            return await self.page(request, signed, text(signed.language, "web_bad_form"), 400)
        headline = str(form.get("headline", "")).strip() or None
        error = await self._plan(signed, friday, number(form.get("category")), headline)
        if error is not None:
            return await self.page(request, signed, error, 400)
        return RedirectResponse(f"{request.url.path.rsplit('/', 1)[0]}?saved={friday}", 303)

    async def _plan(
        self, signed: Signed, friday: date, category_id: int | None, headline: str | None
    ) -> str | None:
        """Plans the Friday and records it; else why not, in the person's language."""
        async with UnitOfWork(self.config.sessions) as uow:
            categories = {c.id: c for c in await categories_in_rotation(uow.session)}
            category = categories.get(category_id) if category_id is not None else None
            if category is None:
                return text(signed.language, "web_bad_form")
            try:
                await broadcasts.plan_friday(
                    uow.session, friday, category, headline, self._this_friday()
                )
            except Refusal as refusal:
                return text(signed.language, refusal.key, **refusal.params)
            await record(
                uow.session,
                WEB,
                "friday_set",
                self.config.clock(),
                person_id=signed.person_id,
                friday=friday.isoformat(),
                category=category.slug,
                headline=headline,
            )
            await uow.commit()
        return None
