"""Telegram's paid broadcast: staff see what each way costs before sending, choose paid and
confirm it; its sends carry allow_paid_broadcast and nothing else does; when Telegram refuses
a paid send the broadcast goes on free, and the one who chose is told. `jbl run` against the
fake Bot API, which refuses paid sends once the bot's Stars are spent."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select

from bot.bootstrap import App
from bot.cli.broadcast import broadcast_status
from bot.cli.staff import add_staff
from handlers.broadcast import estimate_lines
from models.broadcasts import Broadcast, Estimate
from models.outbox import SENT, OutboxMessage
from models.staff import StaffAction
from tests.conftest import Clock
from tests.fake_telegram import (
    BALANCE_TOO_LOW,
    Call,
    FakeTelegram,
    TelegramUser,
    inline_buttons,
)
from tests.several_processes import until
from tests.telegram_bot import running_jbl

# Slow enough that a resident writes while the broadcast is still going out.
PAID = {"paid_broadcast": True, "paid_rate_per_s": 4}
BROADCAST_MARK = ":bc:"  # in the broadcast button's payload


def broadcast_sends(tg: FakeTelegram) -> list[Call]:
    """The broadcast's sendMessage calls, refused ones too."""
    return [
        call
        for call in tg.calls
        if call.method == "sendMessage"
        and BROADCAST_MARK in json.dumps(call.params.get("reply_markup") or "")
    ]


def paid(call: Call) -> bool:
    return call.params.get("allow_paid_broadcast") in (True, "true")


async def subscribed(tg: FakeTelegram, count: int) -> list[TelegramUser]:
    people = [tg.user(9100 + n, f"Warga {n}") for n in range(count)]
    for person in people:
        await person.wait_for_reply(person.send("/langganan"))
    return people


async def staff_member(app: App, tg: FakeTelegram) -> TelegramUser:
    ana = tg.user(7001, "Ana")
    await add_staff(app, f"telegram:{ana.id}")
    return ana


async def press(person: TelegramUser, label: str) -> str:
    """Presses the button on the newest message that has it; the text of the answer."""
    await person.wait_for_reply(person.press(label))
    return person.last.text or ""


async def the_broadcast(app: App) -> Broadcast:
    async with app.sessions() as session:
        return (await session.scalars(select(Broadcast))).one()


async def until_everyone_has_it(app: App, tg: FakeTelegram, people: list[TelegramUser]) -> None:
    """Until every subscriber has the broadcast, and the sender has recorded it so."""
    await tg.wait_for(
        lambda: all(
            any(BROADCAST_MARK in json.dumps(m.reply_markup or "") for m in p.bot_messages)
            for p in people
        ),
        60,
        what="the broadcast to every subscriber",
    )

    async def recorded() -> bool:
        async with app.sessions() as session:
            statuses = await session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.kind == "broadcast")
            )
            return set(statuses) == {SENT}

    await until(recorded, 30, "the broadcast's rows recorded as sent")


async def test_staff_choose_paid_and_only_the_broadcasts_sends_carry_it(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with running_jbl(database_url, clock, tg, **PAID) as jbl:
        people = await subscribed(tg, 10)
        ana = await staff_member(jbl.app, tg)
        await ana.wait_for_reply(ana.send("/siaran"))
        shown = ana.last.text or ""
        assert "Telegram, 10 penerima: gratis ±1 d; berbayar ±3 d, ±1 ⭐" in shown
        assert "WhatsApp, 0 penerima: ±0 d" in shown
        assert "Cara kirim Telegram: gratis" in shown

        status = await broadcast_status(jbl.app)
        assert "Telegram, 10 recipients: free ±1 s; paid ±3 s, ±1 ⭐" in status
        assert "telegram sends: free" in status

        asked = await press(ana, "⭐ Pakai siaran berbayar")
        assert "dalam ±3 d, bukan ±1 d" in asked and "Biayanya ±1 ⭐" in asked
        chosen = await press(ana, "Ya, pakai berbayar")
        assert "⭐ Siaran Jumat ini dikirim berbayar di Telegram." in chosen
        assert "Cara kirim Telegram: ⭐ berbayar (±1 ⭐ dari saldo bot)" in chosen
        assert "telegram sends: paid" in await broadcast_status(jbl.app)
        assert "Telegram: ⭐ berbayar, ±1 ⭐." in await press(ana, "🚀 Kirim sekarang")
        await press(ana, "Ya, kirim sekarang")

        # While it goes out, a resident who already has it asks for help.
        first = people[0]
        await tg.wait_for(lambda: len(broadcast_sends(tg)) >= 1, 30, what="the first send")
        helped = await first.wait_for_reply(first.send("/bantuan"))
        sent_before_help = len(broadcast_sends(tg))
        await until_everyone_has_it(jbl.app, tg, people)
        await ana.wait_for_reply(ana.send("/siaran"))
        progress = ana.last.text or ""
        broadcast = await the_broadcast(jbl.app)
        async with jbl.app.sessions() as session:
            actions = [a.action for a in await session.scalars(select(StaffAction))]

    assert sent_before_help < len(people), "the reply came after the whole broadcast"
    sends = broadcast_sends(tg)
    assert len(sends) == len(people) and all(paid(call) for call in sends)
    not_broadcast = [
        c for c in tg.calls if c.method.startswith("send") and c not in sends and c.status == 200
    ]
    assert not_broadcast and not any(paid(call) for call in not_broadcast)
    assert helped.text and "/bantuan" not in helped.text
    assert tg.paid_sends == len(people)
    assert "⭐ Berbayar: 10 pesan, ±1 ⭐ terpakai" in progress
    assert broadcast.paid and broadcast.paid_sends == len(people)
    assert broadcast.paid_refused_at is None
    assert "broadcast_paid" in actions


async def test_when_the_stars_run_out_the_broadcast_goes_on_free_and_the_chooser_is_told(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    tg.paid_allowance = 4
    async with running_jbl(database_url, clock, tg, **PAID) as jbl:
        people = await subscribed(tg, 10)
        ana = await staff_member(jbl.app, tg)
        await ana.wait_for_reply(ana.send("/siaran"))
        await press(ana, "⭐ Pakai siaran berbayar")
        await press(ana, "Ya, pakai berbayar")
        await press(ana, "🚀 Kirim sekarang")
        await press(ana, "Ya, kirim sekarang")
        await until_everyone_has_it(jbl.app, tg, people)
        await tg.wait_for(
            lambda: any("menolak kiriman berbayar" in (m.text or "") for m in ana.bot_messages),
            30,
            what="the notice to the staff member who chose paid",
        )
        await ana.wait_for_reply(ana.send("/siaran"))
        progress = ana.last.text or ""
        broadcast = await the_broadcast(jbl.app)

    sends = broadcast_sends(tg)
    refused = [call for call in sends if call.status == 400]
    assert refused and all(BALANCE_TOO_LOW in (call.error or "") for call in refused)
    delivered = [call for call in sends if call.status == 200]
    # Each subscriber got it once: four paid, the rest free.
    assert sorted(int(call.params["chat_id"]) for call in delivered) == [p.id for p in people]
    assert sum(paid(call) for call in delivered) == 4 == tg.paid_sends
    notice = next(m for m in ana.bot_messages if "menolak kiriman berbayar" in (m.text or ""))
    assert "setelah 4 pesan berbayar" in (notice.text or "")
    assert "⭐ Berbayar: 4 pesan, ±0,4 ⭐ terpakai" in progress
    assert "⚠️ Telegram menolak kiriman berbayar" in progress
    assert broadcast.paid_sends == 4 and broadcast.paid_refused_at is not None


async def test_a_fresh_install_offers_no_paid_broadcast_and_never_pays(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with running_jbl(database_url, clock, tg) as jbl:
        people = await subscribed(tg, 3)
        ana = await staff_member(jbl.app, tg)
        await ana.wait_for_reply(ana.send("/siaran"))
        shown = ana.last.text or ""
        buttons = ana.buttons()
        status = await broadcast_status(jbl.app)
        # A forged press of "yes, use paid" (the test button's payload, changed) changes nothing.
        menu = ana.last
        test = next(
            str(b["callback_data"])
            for b in inline_buttons(menu.reply_markup)
            if b["text"] == "🧪 Kirim tes ke saya"
        )
        await ana.wait_for_reply(ana.press_data(test.replace(":test", ":paid!"), menu.message_id))
        forged = ana.last.text or ""
        await press(ana, "🚀 Kirim sekarang")
        await press(ana, "Ya, kirim sekarang")
        await until_everyone_has_it(jbl.app, tg, people)
        broadcast = await the_broadcast(jbl.app)

    assert "Telegram, 3 penerima: ±1 d" in shown and "berbayar" not in shown
    assert "Siaran berbayar Telegram tidak diaktifkan di jbl ini" in forged
    assert "Cara kirim" not in forged
    assert "⭐ Pakai siaran berbayar" not in buttons
    assert "telegram, 3 recipients: ±1 s".lower() in status.lower() and "paid" not in status
    assert not any(paid(call) for call in tg.calls)
    assert tg.paid_sends == 0
    assert not broadcast.paid


def test_the_estimate_of_the_whole_program_reads_as_staff_expect() -> None:
    program = Estimate(
        telegram=280_000,
        whatsapp=0,
        free_seconds=280_000 / 30,
        paid_seconds=280_000 / 1000,
        stars=280_000 * Decimal("0.1"),
        whatsapp_seconds=0,
    )
    [telegram, _] = estimate_lines("id", program)
    assert (
        telegram == "Telegram, 280.000 penerima: gratis ±2 j 36 m; berbayar ±4 m 40 d, ±28.000 ⭐"
    )
    [telegram, _] = estimate_lines("en", program)
    assert telegram == (
        "Telegram, 280,000 recipients: free ±2 h 36 min; paid ±4 min 40 s, ±28,000 ⭐"
    )
