"""Merchants take over their imported shop by phone, in the conversation: what is asked, what a
"no" keeps, a shop someone else runs going to staff and their decision in chat, two people
claiming one shop at once. The platforms' own parts are in test_claim_whatsapp.py and
test_claim_telegram.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import select, update

from bot.bootstrap import App
from bot.cli.staff import add_staff
from models.catalog import Merchant
from models.claims import APPROVED, CLAIMED, DECLINED, PENDING, REFUSED, ShopClaim
from models.people import Role
from models.staff import StaffAction
from models.uow import UnitOfWork
from tests import db
from tests.dialogs import order_for_pickup
from tests.people import Chatter
from tests.test_cli_and_console import run_jbl

# The demo's merchant 2 (Batik Tulis Griya Sekar, Kebon Kacang) runs without an operator;
# merchant 1 (Kue Basah Ibu Ratna) is run by the demo's operator, console:penjual.
SHOP_2_PHONE = "+6281234500002"
SHOP_1_PHONE = "+6281234500001"


def whatsapp(app: App, phone: str, language: str | None = None) -> Chatter:
    """Someone writing on WhatsApp from `phone`, which the platform vouches for."""
    return Chatter(app, f"whatsapp:{phone}", language, sender_phone=phone)


async def last_notice(chatter: Chatter) -> str:
    """The newest message the outbox holds for a WhatsApp chat (the replies to what they
    typed are outbox rows too, before it)."""
    return (await chatter.read_notices())[-1].text


async def claims(app: App) -> list[ShopClaim]:
    async with UnitOfWork(app.sessions) as uow:
        found = list(await uow.session.scalars(select(ShopClaim).order_by(ShopClaim.id)))
        uow.session.expunge_all()
        return found


async def operators(app: App, merchant_id: int) -> list[int]:
    async with UnitOfWork(app.sessions) as uow:
        rows = await uow.session.scalars(
            select(Role.person_id).where(Role.role == "merchant", Role.merchant_id == merchant_id)
        )
        return sorted(rows)


async def staff_actions(app: App) -> list[StaffAction]:
    """What staff decided about claims."""
    async with UnitOfWork(app.sessions) as uow:
        found = list(
            await uow.session.scalars(
                select(StaffAction)
                .where(StaffAction.action.startswith("claim_"))
                .order_by(StaffAction.id)
            )
        )
        uow.session.expunge_all()
        return found


async def test_the_owner_is_asked_on_their_first_message_and_runs_the_shop_after_yes(
    app: App,
) -> None:
    owner = whatsapp(app, SHOP_2_PHONE)
    await owner.send("halo")
    assert "Selamat datang" in owner.text
    assert "Anda pemilik Batik Tulis Griya Sekar (Kebon Kacang, Tanah Abang" in owner.text
    assert owner.labels == ["✅ Ya", "❌ Bukan"]
    await owner.choose("Ya")
    assert "Anda sekarang pengelola Batik Tulis Griya Sekar" in owner.text
    person = await owner.person()
    assert await operators(app, 2) == [person.id]
    [claim] = await claims(app)
    assert (claim.status, claim.phone, claim.merchant_id) == (CLAIMED, SHOP_2_PHONE, 2)
    await owner.send("/toko")
    assert "🏪 Batik Tulis Griya Sekar" in owner.text
    # Asked once: /start now greets.
    await owner.send("/start")
    assert "Anda pemilik" not in owner.text


async def test_no_changes_nothing_and_is_not_asked_again_until_they_ask(app: App) -> None:
    owner = whatsapp(app, SHOP_2_PHONE)
    await owner.send("halo")
    await owner.choose("Bukan")
    assert "tidak ada yang diubah" in owner.text
    assert owner.labels[0] == "🛍️ Katalog Jumat"
    assert await operators(app, 2) == []
    [claim] = await claims(app)
    assert claim.status == DECLINED
    for typed in ("/start", "/menu", "halo"):
        await owner.send(typed)
        assert "Anda pemilik" not in owner.text, typed
    # The old question's button is answered already.
    await owner.send_payload(f"cl:{claim.id}:y")
    assert "sudah Anda jawab" in owner.text
    assert await operators(app, 2) == []
    # Asking for it is asking again.
    await owner.send("/klaim")
    assert "Anda pemilik Batik Tulis Griya Sekar" in owner.text
    await owner.choose("Ya")
    assert "Anda sekarang pengelola" in owner.text


async def test_a_number_not_in_the_import_gets_nothing_special(app: App) -> None:
    budi = whatsapp(app, "+6281299990000")
    await budi.send("halo")
    assert "Selamat datang" in budi.text and "pemilik" not in budi.text
    await budi.send("/toko")
    assert "untuk penjual" in budi.text
    await budi.send("/klaim")
    assert "0812-9999-0000 tidak terdaftar" in budi.text
    assert await claims(app) == []


async def test_shops_sharing_a_number_are_asked_about_in_turn(app: App) -> None:
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(
            update(Merchant).where(Merchant.id == 3).values(contact_phone=SHOP_2_PHONE)
        )
        await uow.commit()
    owner = whatsapp(app, SHOP_2_PHONE)
    await owner.send("/toko")
    assert "Anda pemilik Batik Tulis Griya Sekar" in owner.text
    assert "terdaftar untuk 1 toko lain" in owner.text
    await owner.choose("Bukan")
    assert "Anda pemilik Sambal Dapur Mak Ijah" in owner.text
    await owner.choose("Ya")
    assert "Anda sekarang pengelola Sambal Dapur Mak Ijah" in owner.text
    person = await owner.person()
    assert (await operators(app, 2), await operators(app, 3)) == ([], [person.id])


async def test_a_shop_run_by_someone_else_goes_to_staff_who_approve_in_chat(app: App) -> None:
    await add_staff(app, "console:ana")
    await add_staff(app, "console:rudi")
    ana, rudi = Chatter(app, "console:ana"), Chatter(app, "console:rudi")
    owner = whatsapp(app, SHOP_1_PHONE)
    await owner.send("halo")
    assert "Anda pemilik Kue Basah Ibu Ratna" in owner.text
    await owner.choose("Ya")
    assert "sudah dikelola orang lain" in owner.text
    assert "petugas" in owner.text
    demo_operator = await Chatter(app, "console:penjual").person()
    assert await operators(app, 1) == [demo_operator.id]
    [claim] = await claims(app)
    assert claim.status == PENDING

    [notice] = await ana.read_notices()
    assert f"Permintaan #{claim.id}" in notice.text
    assert "0812-3450-0001" in notice.text and "Kue Basah Ibu Ratna" in notice.text
    assert "Penjual Demo" in notice.text
    assert [b.label for b in notice.buttons] == ["✅ Setujui", "❌ Tolak"]
    await rudi.read_notices()
    # Asking again while it waits says so.
    await owner.send("/klaim")
    assert "masih menunggu persetujuan" in owner.text

    await ana.choose("Setujui")
    assert "disetujui" in ana.text
    await rudi.choose("Tolak")
    assert "sudah disetujui oleh petugas lain" in rudi.text
    person = await owner.person()
    assert await operators(app, 1) == sorted([demo_operator.id, person.id])
    [action] = await staff_actions(app)
    assert (action.action, action.actor) == ("claim_approve", "console:ana")
    assert action.detail["claim_id"] == claim.id
    [claim] = await claims(app)
    assert claim.status == APPROVED
    told = await last_notice(owner)
    assert "Petugas menyetujui" in told and "Kue Basah Ibu Ratna" in told


async def test_staff_refuse_and_the_claimant_is_told_in_english(app: App) -> None:
    await add_staff(app, "console:ana")
    ana = Chatter(app, "console:ana")
    owner = whatsapp(app, SHOP_1_PHONE, "en")
    await owner.send("hello")
    assert "Are you the owner of Kue Basah Ibu Ratna" in owner.text
    await owner.choose("Yes")
    assert "already run by someone else" in owner.text
    await ana.read_notices()
    await ana.choose("Tolak")
    assert "ditolak" in ana.text
    [claim] = await claims(app)
    assert claim.status == REFUSED
    told = await last_notice(owner)
    assert told.startswith("Staff did not approve your request to run Kue Basah Ibu Ratna")
    demo_operator = await Chatter(app, "console:penjual").person()
    assert await operators(app, 1) == [demo_operator.id]
    [action] = await staff_actions(app)
    assert action.action == "claim_refuse"
    # Decided is final: asking again points to an invite.
    await owner.send("/claim")
    assert "ask Jakpreneur staff for an invite code" in owner.text


async def test_only_staff_decide_and_forged_claims_change_nothing(app: App) -> None:
    await add_staff(app, "console:ana")
    owner = whatsapp(app, SHOP_1_PHONE)
    await owner.send("halo")
    await owner.choose("Ya")
    [claim] = await claims(app)
    # The claimant presses staff's button; another person presses the claimant's.
    await owner.send_payload(f"cl:{claim.id}:ok")
    assert "Tombol itu sudah tidak berlaku" in owner.text
    budi = whatsapp(app, "+6281299990000")
    await budi.send_payload(f"cl:{claim.id}:y")
    assert "Tombol itu sudah tidak berlaku" in budi.text
    ana = Chatter(app, "console:ana")
    await ana.send_payload("cl:99999999999:ok")
    assert "tidak ada atau tidak menunggu" in ana.text
    assert [c.status for c in await claims(app)] == [PENDING]
    assert await staff_actions(app) == []


async def test_two_people_claiming_one_shop_at_once_one_runs_it(app: App) -> None:
    await add_staff(app, "console:ana")
    # The same number on two accounts: WhatsApp, and a second phone's chat vouched for it.
    first = whatsapp(app, SHOP_2_PHONE)
    second = Chatter(app, "telegram:4242", sender_phone=SHOP_2_PHONE)
    await first.send("/klaim")
    await second.send("/klaim")
    yes_first, yes_second = first.button("Ya"), second.button("Ya")
    await asyncio.gather(first.send_payload(yes_first), second.send_payload(yes_second))
    runs = await operators(app, 2)
    assert len(runs) == 1
    statuses = sorted(c.status for c in await claims(app))
    assert statuses == [CLAIMED, PENDING]
    told = [first.text, second.text]
    assert sum("Anda sekarang pengelola" in t for t in told) == 1
    assert sum("sudah dikelola orang lain" in t for t in told) == 1
    assert len(await Chatter(app, "console:ana").read_notices()) == 1


async def test_orders_held_for_the_operatorless_shop_reach_its_claimant(
    app: App, budi: Chatter
) -> None:
    product = next(p for p in await db.products(app) if p.merchant_id == 2)
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await order_for_pickup(budi)
    owner = whatsapp(app, SHOP_2_PHONE)
    await owner.send("halo")
    await owner.choose("Ya")
    seen = [n.text for n in await owner.read_notices()]
    assert any("Pesanan baru #1 dari Budi Santoso" in t for t in seen), seen


async def test_staff_list_approve_and_refuse_claims_from_the_command_line(
    app: App, database_url: str, tmp_path: Path
) -> None:
    await db.add_operator(app, 3, "console:ijahs_nephew")
    ratna, ijah = whatsapp(app, SHOP_1_PHONE), whatsapp(app, "+6281234500003")
    for claimant in (ratna, ijah):
        await claimant.send("/klaim")
        await claimant.choose("Ya")
        assert "kami teruskan ke petugas" in claimant.text
    first, second = (c.id for c in await claims(app))

    listed = run_jbl("merchant", "claims", database_url=database_url, cwd=tmp_path)
    lines = listed.stdout.splitlines()
    assert [line.split("\t")[:5] for line in lines] == [
        [str(first), "1", "Kue Basah Ibu Ratna", SHOP_1_PHONE, f"whatsapp:{SHOP_1_PHONE}"],
        [str(second), "3", "Sambal Dapur Mak Ijah", "+6281234500003", "whatsapp:+6281234500003"],
    ]
    assert lines[0].endswith("\trun by Penjual Demo")
    approved = run_jbl(
        "merchant", "approve-claim", str(first), database_url=database_url, cwd=tmp_path
    )
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith(f"claim {first} approved: {SHOP_1_PHONE} now runs")
    refused = run_jbl(
        "merchant", "refuse-claim", str(second), database_url=database_url, cwd=tmp_path
    )
    assert refused.returncode == 0, refused.stderr
    again = run_jbl("merchant", "refuse-claim", str(first), database_url=database_url, cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr == f"jbl: Request #{first} was already approved by another staff member.\n"
    unknown = run_jbl("merchant", "approve-claim", "77", database_url=database_url, cwd=tmp_path)
    assert unknown.stderr == "jbl: Request #77 does not exist or is not waiting for a decision.\n"

    assert (await ratna.person()).id in await operators(app, 1)
    assert (await ijah.person()).id not in await operators(app, 3)
    assert "Petugas menyetujui permintaan Anda" in await last_notice(ratna)
    assert "Petugas tidak menyetujui" in await last_notice(ijah)
    decisions = [
        (a.action, a.actor.split(":")[0], a.detail["claim_id"]) for a in await staff_actions(app)
    ]
    assert decisions == [("claim_approve", "cli", first), ("claim_refuse", "cli", second)]
    nothing = run_jbl("merchant", "claims", database_url=database_url, cwd=tmp_path)
    assert nothing.stdout == "no claims waiting\n"


async def test_the_claim_links_for_announcements_start_the_claim_on_each_platform(
    app: App, database_url: str, tmp_path: Path
) -> None:
    printed = run_jbl(
        "links",
        "merchant",
        "2",
        "--claim",
        "--bot",
        "jbl_bot",
        "--whatsapp",
        "+62 21 5000 1000",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert printed.returncode == 0, printed.stderr
    telegram, whatsapp_link, name = printed.stdout.rstrip("\n").split("\t")
    assert (telegram, name) == ("https://t.me/jbl_bot?start=klaim_2", "Batik Tulis Griya Sekar")
    assert whatsapp_link == "https://wa.me/622150001000?text=%2Fklaim%202"

    # WhatsApp sends the prefilled text as the owner's message.
    owner = whatsapp(app, SHOP_2_PHONE)
    await owner.send(unquote(whatsapp_link.split("?text=", 1)[1]))
    assert "Anda pemilik Batik Tulis Griya Sekar" in owner.text
    # Telegram opens the chat with /start and the link's parameter: the number is asked for.
    tg_owner = Chatter(app, "telegram:5151")
    await tg_owner.send(f"/start {telegram.split('?start=', 1)[1]}")
    assert "Kirim nomor saya" in tg_owner.text and tg_owner.replies[-1].ask_phone

    without = run_jbl("links", "merchant", "2", "--claim", database_url=database_url, cwd=tmp_path)
    assert without.returncode == 2
    assert "--claim needs the bot's Telegram username (--bot" in without.stderr
    products = run_jbl(
        "links", "product", "1", "--claim", "--bot", "b", database_url=database_url, cwd=tmp_path
    )
    assert products.stderr == "jbl: --claim is for merchants: jbl links merchant ID --claim\n"
    missing = run_jbl(
        "links", "merchant", "99", "--claim", "--bot", "b", database_url=database_url, cwd=tmp_path
    )
    assert missing.stderr == "jbl: no merchant with id 99\n"


async def test_two_staff_deciding_one_claim_at_once_make_one_decision(app: App) -> None:
    await add_staff(app, "console:ana")
    await add_staff(app, "console:rudi")
    ana, rudi = Chatter(app, "console:ana"), Chatter(app, "console:rudi")
    owner = whatsapp(app, SHOP_1_PHONE)
    await owner.send("/klaim")
    await owner.choose("Ya")
    await ana.read_notices()
    await rudi.read_notices()
    await asyncio.gather(ana.press("Setujui"), rudi.press("Tolak"))
    said = [ana.text, rudi.text]
    assert sum("oleh petugas lain" in t for t in said) == 1
    [action] = await staff_actions(app)
    [claim] = await claims(app)
    assert claim.status == {"claim_approve": APPROVED, "claim_refuse": REFUSED}[action.action]
    runs = (await owner.person()).id in await operators(app, 1)
    assert runs == (claim.status == APPROVED)
    told = [n.text for n in await owner.read_notices() if "Petugas" in n.text]
    assert len(told) == 1


async def test_a_question_about_a_shop_whose_number_changed_since_is_void(app: App) -> None:
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(
            update(Merchant).where(Merchant.id == 3).values(contact_phone=SHOP_2_PHONE)
        )
        await uow.commit()
    owner = whatsapp(app, SHOP_2_PHONE)
    await owner.send("halo")
    first = owner.button("Ya")
    assert "Anda pemilik Batik Tulis Griya Sekar" in owner.text
    # Staff import shop 3 again, with another number, before the owner answers about it.
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(
            update(Merchant).where(Merchant.id == 3).values(contact_phone="+6281234500003")
        )
        await uow.commit()
    await owner.send_payload(first)
    assert "Anda sekarang pengelola Batik Tulis Griya Sekar" in owner.text
    assert "Sambal Dapur Mak Ijah" not in owner.text
    stale = next(c for c in await claims(app) if c.merchant_id == 3)
    await owner.send_payload(f"cl:{stale.id}:y")
    assert "Nomor Sambal Dapur Mak Ijah di data Jakpreneur sudah berubah" in owner.text
    assert await operators(app, 3) == []
