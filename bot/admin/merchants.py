"""The console's merchants: search by name, Jakpreneur id, kota or kecamatan; a merchant's
page with its operators, its products and their states, its last four Fridays, and an invite
for a new operator (the code and link `jbl merchant invite` prints)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.admin.typed import number
from bot.telegram.links import start_url
from handlers.formatting import local_time, long_date
from handlers.money import format_rupiah
from handlers.reports.headings import count
from handlers.routes import join_link
from handlers.texts import text
from models.areas import kecamatan_by_kota
from models.catalog import Merchant, Review
from models.friday import last_friday
from models.invites import create_invite, find_merchants, operators_of_merchant
from models.results import merchant_fridays
from models.shop import shop_products
from models.staff import WEB, record
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.admin.console import ConsoleConfig, Pages
    from models.catalog import Product
    from models.web_sessions import Signed

FOUND = 50
PRODUCTS_SHOWN = 200
FRIDAYS_SHOWN = 4


class Merchants:
    def __init__(self, config: ConsoleConfig, pages: Pages) -> None:
        self.config = config
        self.pages = pages

    async def search(self, request: Request, signed: Signed) -> Response:
        query = request.query_params
        typed = (query.get("cari") or "").strip()[:80] or None
        areas = kecamatan_by_kota()
        kota = query.get("kota") if query.get("kota") in areas else None
        every = {k for names in areas.values() for k in names}
        kecamatan = query.get("kecamatan") if query.get("kecamatan") in every else None
        page = number(query.get("halaman")) or 1
        async with self.config.sessions() as session:
            found = await find_merchants(
                session, typed, kota, kecamatan, FOUND + 1, (min(page, 10_000) - 1) * FOUND
            )
        return self.pages.render(
            "merchants.html",
            signed.language,
            signed,
            merchants=found[:FOUND],
            more=len(found) > FOUND,
            page=page,
            typed=typed or "",
            kota=kota or "",
            kecamatan=kecamatan or "",
            kotas=sorted(areas),
            kecamatans=sorted(every),
        )

    async def merchant(
        self, request: Request, signed: Signed, invite: str | None = None
    ) -> Response:
        merchant_id = number(request.path_params["merchant"])
        language = signed.language
        last = last_friday(self.config.clock().astimezone(self.config.timezone).date())
        fridays = [last - timedelta(weeks=n) for n in range(FRIDAYS_SHOWN)]
        async with self.config.sessions() as session:
            merchant = await session.get(Merchant, merchant_id) if merchant_id else None
            if merchant is None:
                return self.pages.render(
                    "refused.html", language, signed, status=404, key="web_no_merchant"
                )
            operators = await operators_of_merchant(session, merchant.id)
            products = await shop_products(session, [merchant.id], 0, PRODUCTS_SHOWN)
            figures = await merchant_fridays(session, merchant.id, fridays, self.config.timezone)
        return self.pages.render(
            "merchant.html",
            language,
            signed,
            merchant=merchant,
            operators=operators,
            products=[_product(p, language) for p in products[:PRODUCTS_SHOWN]],
            more=len(products) > PRODUCTS_SHOWN,
            fridays=[
                {
                    "day": long_date(f.friday, language),
                    "orders": count(f.orders, language),
                    "units": count(f.units, language),
                    "omzet": format_rupiah(f.omzet),
                }
                for f in figures
            ],
            invite=invite,
        )

    async def invite(self, request: Request, signed: Signed) -> Response:
        merchant_id = number(request.path_params["merchant"])
        now = self.config.clock()
        async with UnitOfWork(self.config.sessions) as uow:
            if merchant_id is None or await uow.session.get(Merchant, merchant_id) is None:
                return await self.merchant(request, signed)
            created = await create_invite(
                uow.session, merchant_id, now, timedelta(days=self.config.invite_days)
            )
            await record(
                uow.session,
                WEB,
                "merchant_invite",
                now,
                person_id=signed.person_id,
                merchant_id=merchant_id,
            )
            await uow.commit()
        language = signed.language
        lines = [
            text(language, "web_invite_code", code=created.code),
            text(
                language,
                "web_invite_until",
                until=local_time(created.expires_at, self.config.timezone, language),
            ),
            text(language, "web_invite_chat", code=created.code),
        ]
        username = await self.config.bot_username()
        if username:
            link = start_url(username, join_link(created.code))
            lines.append(text(language, "web_invite_link", link=link))
        return await self.merchant(request, signed, "\n".join(lines))


def _product(product: Product, language: str) -> dict[str, object]:
    if not product.active:
        state = text(language, "web_product_hidden")
    elif product.review_state != Review.LISTED:
        state = text(language, f"web_review_{product.review_state}")
    elif product.demoted:
        state = text(language, "web_product_demoted")
    else:
        state = text(language, "web_product_listed")
    return {
        "name": product.name,
        "price": format_rupiah(product.price),
        "stock": count(product.stock, language),
        "state": state,
        "pinned": product.curated,
    }
