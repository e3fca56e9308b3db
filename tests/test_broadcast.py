"""The Friday broadcast as residents and staff live it: subscribing, the job that creates it
once, the preview that is what subscribers get, staff sending, pausing and cancelling it."""

from __future__ import annotations

import asyncio
import random
import re
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.bootstrap import App
from bot.cli.staff import add_staff
from bot.delivery import Limits, OutboxSender
from bot.telegram.channel import TelegramChannel
from models import broadcasts
from models.broadcasts import Broadcast
from models.catalog import Category
from models.outbox import CANCELLED, PAUSED, PENDING, SENT, UNREACHABLE, OutboxMessage
from models.people import Identity
from models.staff import StaffAction
from models.subscriptions import Subscription
from models.uow import UnitOfWork
from scheduler.jobs import friday_broadcast, sweep_broadcasts
from scheduler.setup import FRIDAY_JOB, JobContext, build_scheduler
from tests import db
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.people import Chatter
from tests.processes import jbl_env, jbl_output, sender_process

ROOT = Path(__file__).resolve().parent.parent
# Friday 27 November 2026, 07:00 in Jakarta: the broadcast's default time that week.
FRIDAY_7AM = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


async def staff_member(app: App, identity: str = "console:ana") -> Chatter:
    await add_staff(app, identity)
    return Chatter(app, identity)


async def rows(app: App, model: type, *where: object) -> list:
    async with UnitOfWork(app.sessions) as uow:
        found = list(await uow.session.scalars(select(model).where(*where)))
        uow.session.expunge_all()
        return found


async def fire_friday_job(app: App) -> list[int]:
    return await friday_broadcast(app.sessions, app.clock, app.conversation.config.send_time)


def preview_of(staff_text: str) -> str:
    """What /siaran shows under its preview line."""
    return staff_text.split("persis seperti yang diterima pelanggan:\n\n", 1)[1]


async def test_a_resident_subscribes_chooses_categories_and_unsubscribes(
    app: App, budi: Chatter
) -> None:
    await budi.send("/start")
    await budi.press("Siaran Jumat")
    assert "Anda berlangganan siaran Jumat Beli Lokal" in budi.text
    assert "Jumat 07.00" in budi.text and "semua kategori" in budi.text
    [subscription] = await rows(app, Subscription)
    assert (subscription.identity, subscription.categories) == ("console:budi", 0)

    await budi.press("Pilih kategori")
    assert "⬜ Fesyen & Kerajinan" in budi.labels
    await budi.press("Fesyen")
    assert "✅ Fesyen & Kerajinan" in budi.labels
    assert "Sekarang: Fesyen & Kerajinan" in budi.text
    fashion = (await rows(app, Category, Category.slug == "fesyen-kerajinan"))[0]
    [subscription] = await rows(app, Subscription)
    assert subscription.categories == 1 << fashion.rotation

    await budi.send("/langganan")
    assert "sudah berlangganan" in budi.text and "Fesyen & Kerajinan" in budi.text
    await budi.send("/berhenti")
    assert "tidak lagi menerima siaran Jumat" in budi.text
    assert await rows(app, Subscription) == []
    await budi.send("/berhenti")
    assert "belum berlangganan" in budi.text


async def test_subscribing_speaks_english_to_an_english_speaker(app: App) -> None:
    john = Chatter(app, "console:john", language_hint="en")
    await john.send("/subscribe")
    assert "You are subscribed to the Jumat Beli Lokal Friday broadcast" in john.text
    assert "Friday 07:00" in john.text
    await john.send("/unsubscribe")
    assert "You will no longer get the Friday broadcast" in john.text


async def test_only_staff_see_or_use_the_broadcast(app: App, budi: Chatter) -> None:
    await budi.send("/langganan")
    await budi.send("/siaran")
    assert "Perintah /siaran tidak dikenal" in budi.text
    await budi.send("/jadwal")
    assert "Perintah /jadwal tidak dikenal" in budi.text
    # A forged button press changes nothing either.
    await budi.send_payload("bc:20261127:now!")
    assert "tidak dikenal" in budi.text
    assert await rows(app, Broadcast) == []
    assert await rows(app, OutboxMessage, OutboxMessage.kind == broadcasts.KIND) == []

    ana = await staff_member(app)
    await ana.send("/siaran")
    assert "📣 Siaran Jumat Jumat, 27 November 2026 — Produk Kesehatan" in ana.text
    assert "Penerima: 1 pelanggan" in ana.text


async def test_a_staff_button_of_another_friday_shows_this_weeks_broadcast(app: App) -> None:
    ana = await staff_member(app)
    # Last week's button, and a forged one whose Friday is no date.
    for pressed in ("bc:20261120:now!", "bc:20261399:x!"):
        await ana.send_payload(pressed)
        assert "Tombol itu untuk siaran lain" in ana.text
        assert "27 November 2026" in ana.text
    assert await rows(app, Broadcast) == []


async def test_the_friday_job_creates_one_broadcast_however_often_it_fires(
    app: App, budi: Chatter, sari: Chatter, clock: Clock
) -> None:
    for person in (budi, sari, Chatter(app, "console:tono")):
        await person.send("/langganan")
    # Tono blocked the bot: he is skipped.
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(
            update(Identity)
            .where(Identity.identity == "console:tono")
            .values(unreachable_at=clock())
        )
        await uow.commit()
    send_time = app.conversation.config.send_time
    context = JobContext(
        app.sessions, app.clock, timedelta(hours=2), timedelta(hours=24), send_time
    )
    scheduler = build_scheduler(context, app.settings.database.url, app.settings.timezone)
    trigger = scheduler.get_job(FRIDAY_JOB).trigger
    assert trigger.get_next_fire_time(None, clock()) == FRIDAY_7AM

    clock.now = FRIDAY_7AM
    [started] = await fire_friday_job(app)
    assert await fire_friday_job(app) == []
    clock.advance(timedelta(hours=3))
    assert await fire_friday_job(app) == []
    [broadcast] = await rows(app, Broadcast)
    assert (broadcast.id, broadcast.status, broadcast.recipients, broadcast.skipped) == (
        started,
        broadcasts.RUNNING,
        2,
        1,
    )
    deliveries = await rows(app, OutboxMessage, OutboxMessage.broadcast_id == started)
    assert sorted(d.identity for d in deliveries) == ["console:budi", "console:sari"]


async def test_a_job_that_fires_late_still_sends_that_day(
    app: App, budi: Chatter, clock: Clock
) -> None:
    await budi.send("/langganan")
    clock.now = FRIDAY_7AM + timedelta(hours=5)  # jbl was down at 07:00
    assert len(await fire_friday_job(app)) == 1
    [notice] = await budi.read_notices()
    assert "📣 Jumat Beli Lokal — Jumat, 27 November 2026" in notice.text


async def test_the_preview_is_exactly_what_subscribers_and_the_test_get(
    app: App, budi: Chatter, clock: Clock
) -> None:
    await budi.send("/langganan")
    ana = await staff_member(app)
    await ana.send("/siaran")
    preview = preview_of(ana.text)
    assert "Produk pilihan:" in preview and "Rp" in preview

    await ana.press("Kirim tes")
    assert ana.replies[0].toast == "🧪 Tes siaran dikirim ke chat ini."
    [test] = await ana.read_notices()
    assert test.text == preview

    clock.now = FRIDAY_7AM
    await fire_friday_job(app)
    [delivered] = await budi.read_notices()
    assert delivered.text == preview
    assert [b.label for b in delivered.buttons] == ["🛍️ Buka Produk Kesehatan"]
    await budi.press("Buka Produk")
    assert "Produk Kesehatan — pilih produk" in budi.text


async def test_staff_send_now_pause_resume_and_cancel_with_progress(
    app: App, budi: Chatter, sari: Chatter, clock: Clock
) -> None:
    tono = Chatter(app, "console:tono")
    for person in (budi, sari, tono):
        await person.send("/langganan")
    ana = await staff_member(app)
    await ana.send("/siaran")
    await ana.press("Kirim sekarang")
    assert "sekarang ke 3 pelanggan?" in ana.text
    await ana.press("Ya, kirim")
    assert "Status: sedang dikirim" in ana.text
    assert "Terkirim 0 dari 3" in ana.text and "Masih menunggu dikirim: 3" in ana.text

    await budi.read_notices()
    await ana.press("Perbarui")
    assert "Terkirim 1 dari 3" in ana.text and "Masih menunggu dikirim: 2" in ana.text

    await ana.press("Jeda")
    assert "Status: dijeda" in ana.text
    assert await sari.read_notices() == []
    statuses = Counter(r.status for r in await db.outbox(app) if r.kind == broadcasts.KIND)
    assert statuses == {SENT: 1, PAUSED: 2}

    await ana.press("Lanjutkan")
    assert "Status: sedang dikirim" in ana.text
    assert len(await sari.read_notices()) == 1

    await ana.press("Batalkan")
    await ana.press("Ya, batalkan")
    assert "Status: dibatalkan" in ana.text and "Dibatalkan, tidak dikirim: 1" in ana.text
    assert await tono.read_notices() == []
    statuses = Counter(r.status for r in await db.outbox(app) if r.kind == broadcasts.KIND)
    assert statuses == {SENT: 2, CANCELLED: 1}
    actions = [a.action for a in await rows(app, StaffAction, StaffAction.actor == "console:ana")]
    assert actions == [
        "broadcast_start",
        "broadcast_pause",
        "broadcast_resume",
        "broadcast_cancel",
    ]
    # A stale press on the cancelled broadcast is explained, and changes nothing.
    await ana.send_payload("bc:20261127:resume")
    assert "status siaran sudah berubah" in ana.text


async def test_staff_reschedule_and_the_sweep_starts_it_then(
    app: App, budi: Chatter, clock: Clock
) -> None:
    await budi.send("/langganan")
    ana = await staff_member(app)
    await ana.send("/siaran")
    await ana.press("Ubah jadwal")
    await ana.send("25:99")
    assert "Waktu itu tidak bisa dipakai" in ana.text
    assert await rows(app, Broadcast) == []
    await ana.send("09:30")
    assert "dijadwalkan Jumat, 27 November 2026 09.30" in ana.text

    clock.now = FRIDAY_7AM
    assert await fire_friday_job(app) == []
    clock.now = FRIDAY_7AM + timedelta(hours=2, minutes=31)
    assert len(await sweep_broadcasts(app.sessions, app.clock)) == 1
    assert len(await budi.read_notices()) == 1
    await sweep_broadcasts(app.sessions, app.clock)
    [broadcast] = await rows(app, Broadcast)
    assert broadcast.status == broadcasts.DONE


async def test_telegram_subscribers_get_it_through_the_sender_and_the_blocked_are_skipped(
    app: App, tg: FakeTelegram, channel: TelegramChannel, clock: Clock
) -> None:
    people = [tg.user(9000 + n, f"Warga {n}") for n in range(4)]
    for person in people:
        await Chatter(app, f"telegram:{person.id}").send("/langganan")
    tg.block(people[3].id)
    clock.now = FRIDAY_7AM
    await fire_friday_job(app)
    sender = OutboxSender(app.sessions, channel, Limits(1000, 1000), app.clock)
    while await sender.send_due():
        pass
    for person in people[:3]:
        [message] = person.bot_messages
        assert "📣 Jumat Beli Lokal" in (message.text or "")
        assert message.buttons == ["🛍️ Buka Produk Kesehatan"]
    statuses = Counter(r.status for r in await db.outbox(app) if r.kind == broadcasts.KIND)
    assert statuses == {SENT: 3, UNREACHABLE: 1}

    # The next Friday's broadcast leaves the blocked chat out.
    clock.now = FRIDAY_7AM + timedelta(weeks=1)
    [second] = await fire_friday_job(app)
    [next_week] = await rows(app, Broadcast, Broadcast.id == second)
    assert (next_week.recipients, next_week.skipped) == (3, 1)
    assert PENDING in {r.status for r in await db.outbox(app) if r.broadcast_id == second}


async def test_staff_plan_fridays_and_follow_the_broadcast_from_the_command_line(
    app: App, database_url: str, tmp_path: Path
) -> None:
    env = jbl_env(database_url)
    code, out, _ = await jbl_output(
        "staff", "add", "whatsapp:0812-3456-7890", env=env, cwd=tmp_path
    )
    assert (code, out) == (0, "whatsapp:+6281234567890 is staff now\n")
    code, _, err = await jbl_output("staff", "add", "telegram:abc", env=env, cwd=tmp_path)
    assert code == 2 and err.startswith("jbl: telegram:abc: write telegram:<user id>")

    # The command line lives in real time: its next Fridays are those of today.
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    next_friday = today + timedelta(days=(4 - today.weekday()) % 7)
    later = next_friday + timedelta(weeks=2)
    code, out, _ = await jbl_output(
        "friday",
        "set",
        later.isoformat(),
        "fesyen-kerajinan",
        "--headline",
        "Batik Jumat",
        env=env,
        cwd=tmp_path,
    )
    assert (code, out) == (0, f"{later.isoformat()}: fesyen-kerajinan — Batik Jumat\n")
    code, _, err = await jbl_output(
        "friday",
        "set",
        (later - timedelta(days=1)).isoformat(),
        "fesyen-kerajinan",
        env=env,
        cwd=tmp_path,
    )
    assert code == 2 and "is not a Friday" in err

    code, out, _ = await jbl_output("friday", "plan", env=env, cwd=tmp_path)
    header, *lines = [re.split(r"  +", line) for line in out.splitlines()]
    assert code == 0 and header[0] == "friday" and len(lines) == 8
    assert lines[0][0] == next_friday.isoformat()
    assert lines[2] == [
        later.isoformat(),
        "Fesyen & Kerajinan",
        "fesyen-kerajinan",
        "-",
        "Batik Jumat",
    ]

    code, out, _ = await jbl_output("broadcast", "status", env=env, cwd=tmp_path)
    assert code == 0
    assert "status: scheduled" in out and "recipients: 0 (0 unreachable, skipped)" in out
    actions = await rows(app, StaffAction)
    assert [(a.action, a.actor.startswith("cli:")) for a in actions] == [
        ("staff_add", True),
        ("friday_set", True),
    ]


def sends_per_chat(tg: FakeTelegram) -> Counter[str]:
    return Counter(
        str(c.params.get("chat_id")) for c in tg.calls if c.method == "sendMessage" and c.status
    )


async def test_killing_the_sender_at_random_moments_skips_nobody_and_resends_nothing_sent(
    app: App, database_url: str, tg: FakeTelegram, clock: Clock
) -> None:
    people = [tg.user(9100 + n, f"Warga {n}") for n in range(60)]
    for person in people:
        await Chatter(app, f"telegram:{person.id}").send("/langganan")
    clock.now = FRIDAY_7AM
    [broadcast_id] = await fire_friday_job(app)
    chance = random.Random(6)
    # At each kill: how many messages each chat the database holds as sent had received.
    sent_at_kills: list[dict[str, int]] = []
    for trial in range(4):
        process = await sender_process(database_url, tg.base_url, 1)
        # At 20 messages/s with outcomes written every half second: some kills come before a
        # write, some after; the last one surely after.
        more = chance.randint(1, 12) if trial < 3 else 25
        goal = min(len(people) - 1, sum(sends_per_chat(tg).values()) + more)
        try:
            await tg.wait_for(lambda goal=goal: sum(sends_per_chat(tg).values()) >= goal, 60)
        finally:
            process.kill()
            await asyncio.wait_for(process.wait(), 30)
        counts = sends_per_chat(tg)
        sent = [r.identity or "" for r in await db.outbox(app) if r.status == SENT]
        sent_at_kills.append({i.split(":")[1]: counts[i.split(":")[1]] for i in sent})
    process = await sender_process(database_url, tg.base_url, 1)
    try:
        await tg.wait_for(lambda: len(sends_per_chat(tg)) == len(people), 60)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)

    assert sent_at_kills[-1], "the last kill came after outcomes were written"
    final = sends_per_chat(tg)
    assert set(final) == {str(p.id) for p in people}
    for at_kill in sent_at_kills:
        assert {chat: final[chat] for chat in at_kill} == at_kill
    statuses = Counter(r.status for r in await db.outbox(app) if r.broadcast_id == broadcast_id)
    assert statuses == {SENT: len(people)}
