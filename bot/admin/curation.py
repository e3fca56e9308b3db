"""The console's curation: the `/kurasi` queue as a grid of product cards with their photos,
each listed, sent back for changes with a note, rejected with a reason or pinned, several
listed at once; and the curator's picks, to unpin. Every decision goes through
`models.curation.decide`, as in chat: the same rules, merchant's notice and `staff_actions`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.admin.typed import number
from handlers import payloads
from handlers.formatting import local_time
from handlers.money import format_rupiah
from handlers.texts import text
from models.catalog import Product, Review
from models.curation import (
    MAX_NOTE,
    NEEDS_NOTE,
    Decision,
    Shown,
    decide,
    pinned_products,
    waiting_count,
    waiting_products,
)
from models.media import key_of, media_type_of
from models.staff import WEB
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.admin.console import ConsoleConfig, Pages
    from models.web_sessions import Signed

CARDS = 48
# What a card's buttons may decide; unpinning is on the picks' page.
_ON_CARD = (Decision.APPROVE, Decision.CHANGES, Decision.REJECT, Decision.PIN)


class Curation:
    def __init__(self, config: ConsoleConfig, pages: Pages) -> None:
        self.config = config
        self.pages = pages

    async def queue(self, request: Request, signed: Signed) -> Response:
        page = _page_number(request.query_params.get("halaman"))
        async with self.config.sessions() as session:
            waiting = await waiting_count(session)
            products = await waiting_products(session, CARDS, (page - 1) * CARDS)
        language = signed.language
        cards = [self._card(product, language) for product in products]
        done = request.query_params.get("done", "")
        return self.pages.render(
            "curation.html",
            language,
            signed,
            cards=cards,
            waiting=waiting,
            page=page,
            pages=max(1, -(-waiting // CARDS)),
            decisions=[d.value for d in _ON_CARD],
            needs_note=[d.value for d in NEEDS_NOTE],
            max_note=MAX_NOTE,
            done=[line for line in done.split("\n") if line][:CARDS],
        )

    async def picks(self, request: Request, signed: Signed) -> Response:
        page = _page_number(request.query_params.get("halaman"))
        async with self.config.sessions() as session:
            products = await pinned_products(session, CARDS + 1, (page - 1) * CARDS)
        language = signed.language
        return self.pages.render(
            "picks.html",
            language,
            signed,
            cards=[self._card(p, language) for p in products[:CARDS]],
            page=page,
            more=len(products) > CARDS,
            done=[line for line in request.query_params.get("done", "").split("\n") if line][:1],
        )

    async def decide_one(self, request: Request, signed: Signed) -> Response:
        form = request.state.form
        product_id = number(request.path_params["product"])
        try:
            decision = Decision(str(form.get("decision", "")))
        except ValueError:
            decision = None
        note = str(form.get("note", "")).strip() or None
        language = signed.language
        if product_id is None or decision is None:
            return self._back(request, [text(language, "web_bad_form")])
        if decision in NEEDS_NOTE and not (note and len(note) <= MAX_NOTE):
            return self._back(request, [text(language, "cu_note_length", high=MAX_NOTE)])
        shown = None
        if decision != Decision.UNPIN:
            stamp = _stamp(form.get("stamp"))
            if stamp is False:
                return self._back(request, [text(language, "web_bad_form")])
            shown = Shown(Review.WAITING, stamp)
        kept = note if decision in NEEDS_NOTE else None
        said = await self._decide(signed, product_id, decision, kept, shown)
        return self._back(request, [said])

    async def approve_many(self, request: Request, signed: Signed) -> Response:
        """The checked cards, each listed as far as it is still waiting as it was shown."""
        form = request.state.form
        lines = []
        for chosen in form.getlist("chosen")[:CARDS]:
            product_id, _, typed_stamp = str(chosen).partition(":")
            found, stamp = number(product_id), _stamp(typed_stamp)
            if found is None or stamp is False:
                continue
            shown = Shown(Review.WAITING, stamp)
            lines.append(await self._decide(signed, found, Decision.APPROVE, None, shown))
        if not lines:
            lines.append(text(signed.language, "web_none_chosen"))
        return self._back(request, lines)

    async def _decide(
        self,
        signed: Signed,
        product_id: int,
        decision: Decision,
        note: str | None,
        shown: Shown | None,
    ) -> str:
        async with UnitOfWork(self.config.sessions) as uow:
            product = await decide(
                uow.session,
                product_id,
                decision,
                self.config.clock(),
                actor=WEB,
                person_id=signed.person_id,
                note=note,
                shown=shown,
            )
            await uow.commit()
        if product is None:
            return text(signed.language, "web_cu_taken")
        key = "web_cu_unpinned" if decision == Decision.UNPIN else f"cu_done_{decision.value}"
        return text(signed.language, key, product=product.name)

    def _back(self, request: Request, lines: list[str]) -> Response:
        """To the page the form was on, saying what happened."""
        target = "/pilihan" if request.url.path.endswith("/lepas") else ""
        page = _page_number(request.query_params.get("halaman"))
        query = urlencode({"done": "\n".join(lines)} | ({"halaman": page} if page > 1 else {}))
        base = request.url.path.split("/kurasi", 1)[0]
        return RedirectResponse(f"{base}/kurasi{target}?{query}", status_code=303)

    def _card(self, product: Product, language: str) -> dict[str, object]:
        requested = product.review_requested_at
        return {
            "id": product.id,
            "stamp": payloads.STAMP.write(requested),
            "name": product.name,
            "merchant": product.merchant.name,
            "area": f"{product.merchant.kecamatan}, {product.merchant.kota}",
            "price": format_rupiah(product.price),
            "unit": product.unit,
            "category": product.category.name(language),
            "description": product.description,
            "photo": _photo(product),
            "requested": local_time(requested, self.config.timezone, language)
            if isinstance(requested, datetime)
            else "",
            "note": product.review_note or "",
            "pinned": product.curated,
        }


def _photo(product: Product) -> str | None:
    """Where the page shows the photo from: jbl's own store through the console, or the
    https address the catalog gave; none for a platform's reference it cannot show."""
    reference = product.photo_url
    if key_of(reference) is not None:
        return f"foto/{product.id}"
    if reference and reference.startswith("https://"):
        return reference
    return None


def _stamp(typed: object) -> datetime | bool | None:
    """The review time a card was shown with; False for a forged one."""
    if not isinstance(typed, str) or not re.fullmatch(payloads.STAMP.regex, typed):
        return False
    stamp: datetime | None = payloads.STAMP.read(typed)
    return stamp


def _page_number(typed: str | None) -> int:
    found = number(typed)
    return found if found is not None and 1 <= found <= 100_000 else 1


async def photo(config: ConsoleConfig, request: Request, product_id: int) -> Response:
    """A product's photo from jbl's store, for the cards; 404 for anything else."""
    async with config.sessions() as session:
        product = await session.get(Product, product_id)
    key = key_of(product.photo_url) if product is not None else None
    content = await config.media.load(key) if key is not None else None
    if content is None or key is None:
        return Response(status_code=404)
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(content, media_type=media_type_of(key), headers=headers)
