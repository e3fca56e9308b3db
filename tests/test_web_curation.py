"""Staff review products in the web console: the /kurasi queue as cards with their photos,
listed, sent back with a note, rejected with a reason, pinned and unpinned, several listed at
once; the merchant hears each decision as from the chat, residents find what was listed, and
`staff_actions` says it was done on the web."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.admin.console import PREFIX
from bot.bootstrap import App
from models.catalog import Review
from models.staff import StaffAction
from tests import db
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.test_curation import OPERATOR, add_product
from tests.test_search import found
from tests.web_console import Browser, console_jbl, signed_in_staff, staff_form_token

QUEUE = f"{PREFIX}/kurasi"


def card_form(page: str, name: str, stamped: bool = True) -> tuple[str, str]:
    """The decision form's address and review stamp on the card of the product `name`."""
    card = next(c for c in page.split("<article")[1:] if f"<h2>{name}</h2>" in c)
    action = re.search(r'<form method="post" action="([^"]+)"', card)
    stamp = re.search(r'name="stamp" value="(\d+)"', card)
    assert action is not None and (stamp is not None or not stamped)
    return action.group(1), stamp.group(1) if stamp else ""


def chosen_value(page: str, name: str) -> str:
    card = next(c for c in page.split("<article")[1:] if f"<h2>{name}</h2>" in c)
    value = re.search(r'name="chosen" value="([^"]+)"', card)
    assert value is not None
    return value.group(1)


async def web_actions(app: App) -> list[tuple[str, str]]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(StaffAction)
            .where(StaffAction.action.startswith("curate_"))
            .order_by(StaffAction.id)
        )
        return [(a.actor, a.action) for a in rows]


async def test_staff_list_and_reject_from_the_cards_and_merchant_and_residents_see_it(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        penjual = Chatter(jbl.app, OPERATOR)
        budi = Chatter(jbl.app, "console:budi")
        await add_product(penjual, "Kue Ape Jadul")
        clock.advance(timedelta(minutes=1))
        await add_product(penjual, "Bika Ambon Medan")
        csrf = await staff_form_token(jbl, tg, browser)

        queue = await browser.get(QUEUE)
        assert "2 produk menunggu" in queue.text
        assert queue.text.index("Kue Ape Jadul") < queue.text.index("Bika Ambon Medan")
        assert 'src="https://contoh.co.id/foto/produk.jpg"' in queue.text
        assert "Rp25.000" in queue.text

        action, stamp = card_form(queue.text, "Kue Ape Jadul")
        listed = await browser.post(action, {"csrf": csrf, "stamp": stamp, "decision": "approve"})
        assert "✅ Kue Ape Jadul tayang di katalog." in listed.text
        assert "1 produk menunggu" in listed.text

        action, stamp = card_form(listed.text, "Bika Ambon Medan")
        bare = await browser.post(action, {"csrf": csrf, "stamp": stamp, "decision": "reject"})
        assert "Catatan harus 1 sampai 500 karakter" in bare.text
        assert (await db.product(jbl.app, "Bika Ambon Medan")).review_state == Review.WAITING
        rejected = await browser.post(
            action,
            {
                "csrf": csrf,
                "stamp": stamp,
                "decision": "reject",
                "note": "Bukan produk buatan sendiri.",
            },
        )
        assert "❌ Bika Ambon Medan ditolak." in rejected.text
        assert "tidak ada produk yang menunggu" in rejected.text

        await budi.send("/cari kue ape")
        assert found(budi) == ["Kue Ape Jadul"]
        await penjual.read_notices()
        assert "Produk Anda Bika Ambon Medan tidak bisa ditayangkan" in penjual.text
        assert "Bukan produk buatan sendiri." in penjual.text
        assert await web_actions(jbl.app) == [("web", "curate_approve"), ("web", "curate_reject")]


async def test_several_chosen_cards_are_listed_at_once_but_not_one_changed_meanwhile(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        penjual = Chatter(jbl.app, OPERATOR)
        for name in ("Kue Ape Jadul", "Bika Ambon Medan", "Lapis Legit"):
            await add_product(penjual, name)
            clock.advance(timedelta(minutes=1))
        home = await signed_in_staff(jbl, tg, browser)
        queue = await browser.get(QUEUE)
        chosen = [chosen_value(queue.text, n) for n in ("Kue Ape Jadul", "Lapis Legit")]
        chosen.append(chosen_value(queue.text, "Bika Ambon Medan"))
        # The merchant renames one while staff look: that card no longer applies.
        await db.set_product(
            jbl.app, "Bika Ambon Medan", review_requested_at=clock() + timedelta(seconds=5)
        )

        answer = await browser.client.post(
            f"{jbl.base}{QUEUE}/tayangkan",
            data={"csrf": browser.csrf(home), "chosen": [*chosen, "x:y", "99999:0"]},
            headers={"Origin": jbl.base},
        )
        assert "✅ Kue Ape Jadul tayang di katalog." in answer.text
        assert "✅ Lapis Legit tayang di katalog." in answer.text
        assert "baru saja diputuskan oleh staf lain" in answer.text
        states = {p.name: p.review_state for p in await db.products(jbl.app)}
        assert states["Kue Ape Jadul"] == states["Lapis Legit"] == Review.LISTED
        assert states["Bika Ambon Medan"] == Review.WAITING

        nothing = await browser.post(f"{QUEUE}/tayangkan", {"csrf": browser.csrf(home)})
        assert "Belum ada produk yang dipilih." in nothing.text


async def test_a_pin_and_an_unpin_and_forged_decisions(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        penjual = Chatter(jbl.app, OPERATOR)
        await add_product(penjual, "Kue Ape Jadul")
        csrf = await staff_form_token(jbl, tg, browser)
        queue = await browser.get(QUEUE)
        action, stamp = card_form(queue.text, "Kue Ape Jadul")

        for forged in (
            {"csrf": csrf, "stamp": stamp, "decision": "delete"},
            {"csrf": csrf, "stamp": "kemarin", "decision": "approve"},
        ):
            refused = await browser.post(action, forged)
            assert "Isian formulir tidak sah" in refused.text
        elsewhere = await browser.post(f"{QUEUE}/abc", {"csrf": csrf, "decision": "approve"})
        assert "Isian formulir tidak sah" in elsewhere.text

        pinned = await browser.post(action, {"csrf": csrf, "stamp": stamp, "decision": "pin"})
        assert "⭐ Kue Ape Jadul tayang sebagai pilihan kurator." in pinned.text
        picks = await browser.get(f"{QUEUE}/pilihan")
        unpin, _ = card_form(picks.text, "Kue Ape Jadul", stamped=False)
        unpinned = await browser.post(unpin, {"csrf": csrf, "decision": "unpin"})
        assert "Kue Ape Jadul tidak lagi pilihan kurator." in unpinned.text
        assert "<h2>Kue Ape Jadul</h2>" not in unpinned.text
        product = await db.product(jbl.app, "Kue Ape Jadul")
        assert product.review_state == Review.LISTED and not product.curated
        assert await web_actions(jbl.app) == [("web", "curate_pin"), ("web", "curate_unpin")]
