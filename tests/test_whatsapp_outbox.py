"""WhatsApp's outbox, round by round: the 24-hour window and templates, status callbacks,
Twilio's errors and retries, long messages. The real channel and twilio client against the
fake Twilio; webhooks and callbacks reach the real ASGI app; the sender runs when told."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.bootstrap import App
from bot.cli.staff import add_staff
from bot.delivery import Limits, OutboxSender
from bot.web import build_web
from bot.whatsapp.channel import WhatsappChannel
from handlers.broadcast import progress_lines
from models.outbox import FAILED, NEEDS_TEMPLATE, PENDING, SENT, UNREACHABLE, OutboxMessage
from models.people import Identity
from models.receipts import delivery_progress
from models.uow import UnitOfWork
from tests import db
from tests.arrivals import busiest_second
from tests.conftest import PG_URL, Clock
from tests.dialogs import order_for_pickup
from tests.fake_telegram import LocalServer
from tests.fake_twilio import FakeTwilio, Message, WhatsappUser
from tests.people import Chatter
from tests.whatsapp_bot import BROADCAST_TEMPLATE, NOTICE_TEMPLATE, PUBLIC_URL, whatsapp_settings

MERCHANT = "+6285712345678"
OPERATOR = f"whatsapp:{MERCHANT}"


@dataclass
class Rig:
    app: App
    twilio: FakeTwilio
    channel: WhatsappChannel
    sender: OutboxSender

    async def say(self, user: WhatsappUser, text: str) -> Message:
        """The person writes; the sender sends what is due; their first reply."""
        stamp = await user.send(text)
        await self.sender.send_due()
        return await user.wait_for_reply(stamp)

    async def callbacks_done(self) -> None:
        """Until every message the app created has had its status callbacks answered."""
        await self.twilio.wait_for(
            lambda: all(m.settled for m in self.twilio.messages), what="the status callbacks"
        )

    async def rows_for(self, identity: str) -> list[OutboxMessage]:
        return [r for r in await db.outbox(self.app) if r.identity == identity]


@pytest.fixture
async def rig(app: App, twilio: FakeTwilio) -> AsyncIterator[Rig]:
    settings = whatsapp_settings(twilio, notice_content_sid=NOTICE_TEMPLATE)
    channel = WhatsappChannel(settings, app.conversation, app.whatsapp_replies)
    await channel.start()
    sender = OutboxSender(app.sessions, channel, Limits(1000, 1000), app.clock)
    channel.sender = sender
    async with LocalServer(build_web(app.engine, [channel], None, channel)) as server:
        twilio.connect(server.url, PUBLIC_URL)
        try:
            yield Rig(app, twilio, channel, sender)
        finally:
            await channel.stop()
            await channel.close()


async def broadcast_to(rig: Rig, count: int) -> list[WhatsappUser]:
    """`count` people subscribe on WhatsApp, and staff send the broadcast now (its rows
    written, in the order they subscribed, for a sender to send)."""
    subscribers = [rig.twilio.user(f"+6281322{n:06d}", "Warga") for n in range(count)]
    for subscriber in subscribers:
        assert "Anda berlangganan siaran" in (await rig.say(subscriber, "START")).text
    ana = Chatter(rig.app, "console:ana")
    await add_staff(rig.app, ana.identity)
    await ana.send("/siaran")
    await ana.press("Kirim sekarang")
    await ana.press("Ya, kirim")
    return subscribers


async def new_order_for_the_merchant(rig: Rig) -> None:
    """Budi (on the console) orders from merchant 1, whose operator is on WhatsApp."""
    product = next(p for p in await db.products(rig.app) if p.merchant_id == 1)
    budi = Chatter(rig.app, "console:budi")
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    await order_for_pickup(budi)


async def merchant_who_wrote(rig: Rig) -> WhatsappUser:
    await db.add_operator(rig.app, 1, OPERATOR)
    merchant = rig.twilio.user(MERCHANT, "Ibu Sari")
    await rig.say(merchant, "halo")
    return merchant


async def test_outside_the_24_hour_window_a_notice_goes_as_the_template(
    rig: Rig, clock: Clock
) -> None:
    merchant = await merchant_who_wrote(rig)
    clock.advance(timedelta(hours=25))
    await new_order_for_the_merchant(rig)
    await rig.sender.send_due()
    notice = merchant.last
    assert notice.content_sid == NOTICE_TEMPLATE and notice.body is None
    variables = notice.content_variables or {}
    assert variables["1"].startswith("🔔 Pesanan baru #1 dari Budi Santoso")
    assert variables["1"].endswith("— 1. ✅ Terima · 2. ❌ Tolak · 3. 📋 Pesanan toko")
    assert notice.text.startswith("Kabar dari Jumat Beli Lokal: 🔔 Pesanan baru #1")
    # Answering the template opens the window again, and the number chooses from its menu.
    accepted = await rig.say(merchant, "1")
    assert "Pesanan #1 diterima" in accepted.text and accepted.content_sid is None


async def test_outside_the_window_without_a_template_nothing_is_sent_and_it_is_counted(
    rig: Rig, clock: Clock
) -> None:
    rig.channel.settings = rig.channel.settings.model_copy(update={"notice_content_sid": None})
    merchant = await merchant_who_wrote(rig)
    clock.advance(timedelta(hours=25))
    await new_order_for_the_merchant(rig)
    sent_before = len(rig.twilio.messages)
    await rig.sender.send_due()
    assert len(rig.twilio.messages) == sent_before  # not attempted
    [_, notice] = await rig.rows_for(OPERATOR)
    assert notice.status == NEEDS_TEMPLATE and "notice_content_sid" in (notice.last_error or "")
    assert not await rig.sender.send_due()
    async with UnitOfWork(rig.app.sessions) as uow:
        progress = await delivery_progress(uow.session, OutboxMessage.kind == "order_new")
    assert progress.needs_template == 1
    assert "perlu template WhatsApp (di luar 24 jam): 1" in "\n".join(
        progress_lines("id", progress)
    )
    assert "Pesanan baru" not in merchant.last.text
    # The notice that was not sent did not become the chat's menu: "1" is still the catalog.
    assert "Katalog Jumat Beli Lokal" in (await rig.say(merchant, "1")).text


async def test_twilio_saying_63016_moves_the_delivery_to_the_template(rig: Rig) -> None:
    # Registered by staff, never wrote: jbl thinks the window open, Twilio knows better.
    await db.add_operator(rig.app, 1, OPERATOR)
    merchant = rig.twilio.user(MERCHANT, "Ibu Sari")
    await new_order_for_the_merchant(rig)
    await rig.sender.send_due()
    await rig.callbacks_done()
    refused = merchant.messages[0]
    assert (refused.status, refused.error_code, refused.content_sid) == ("failed", 63016, None)
    [row] = await rig.rows_for(OPERATOR)
    assert (row.status, row.error_code) == (PENDING, 63016)
    await rig.sender.send_due()
    assert merchant.last.content_sid == NOTICE_TEMPLATE
    await rig.callbacks_done()
    [row] = await rig.rows_for(OPERATOR)
    assert row.status == SENT and row.delivered_at is not None

    # The same answer on the create request itself: the template at once, in the same round.
    rig.twilio.fail_next(400, 63016, "Outside the allowed window", to=MERCHANT)
    await new_order_for_the_merchant(rig)
    await rig.sender.send_due()
    assert merchant.last.content_sid == NOTICE_TEMPLATE
    assert "Pesanan baru #2" in merchant.last.text


async def test_status_callbacks_record_delivered_and_read_per_row(rig: Rig) -> None:
    merchant = await merchant_who_wrote(rig)
    await new_order_for_the_merchant(rig)
    await rig.sender.send_due()
    await rig.callbacks_done()
    await merchant.read_all()
    await rig.twilio.wait_for(lambda: merchant.last.callbacks[-1][0] == "read")
    reply, notice = await rig.rows_for(OPERATOR)
    assert notice.provider_id == merchant.last.sid
    assert notice.delivered_at is not None and notice.read_at is not None
    async with UnitOfWork(rig.app.sessions) as uow:
        progress = await delivery_progress(uow.session, OutboxMessage.identity == OPERATOR)
    assert (progress.sent, progress.delivered, progress.read) == (2, 2, 2)
    assert progress_lines("en", progress) == ["Sent 2 of 2 · delivered 2 · read 2"]
    # Repeated and late callbacks change nothing: a delivered row never fails afterwards.
    assert all(answer == 204 for m in merchant.messages for _, answer in m.callbacks)
    assert reply.status == SENT


async def test_a_number_that_cannot_receive_is_marked_unreachable(rig: Rig) -> None:
    await db.add_operator(rig.app, 1, OPERATOR)
    merchant = rig.twilio.user(MERCHANT, "Ibu Sari")
    await rig.say(merchant, "halo")
    rig.twilio.fail_delivery(MERCHANT, 63024)
    await new_order_for_the_merchant(rig)
    await rig.sender.send_due()
    await rig.callbacks_done()
    [_, notice] = await rig.rows_for(OPERATOR)
    assert (notice.status, notice.error_code) == (UNREACHABLE, 63024)
    assert await unreachable_since(rig, OPERATOR)

    # Writing again makes them reachable; a 63024 answered on the create request marks them too.
    await rig.say(merchant, "halo lagi")
    assert not await unreachable_since(rig, OPERATOR)
    rig.twilio.fail_next(400, 63024, "Invalid message recipient", to=MERCHANT)
    await new_order_for_the_merchant(rig)
    await rig.sender.send_due()
    assert (await rig.rows_for(OPERATOR))[-1].status == UNREACHABLE
    assert await unreachable_since(rig, OPERATOR)


async def unreachable_since(rig: Rig, identity: str) -> bool:
    async with UnitOfWork(rig.app.sessions) as uow:
        found = await uow.session.scalar(
            select(Identity.unreachable_at).where(Identity.identity == identity)
        )
    return found is not None


async def test_429_and_5xx_are_retried_with_backoff(rig: Rig, clock: Clock) -> None:
    merchant = await merchant_who_wrote(rig)
    rig.twilio.fail_next(429, 20429, "Too Many Requests", to=MERCHANT)
    await new_order_for_the_merchant(rig)
    await rig.sender.send_due()
    [_, row] = await rig.rows_for(OPERATOR)
    assert (row.status, row.attempts) == (PENDING, 0)  # slowing down is not a failure
    assert not await rig.sender.send_due()  # not before the pause
    clock.advance(row.due_at - clock())

    rig.twilio.fail_next(503, 20503, "Service Unavailable", to=MERCHANT, times=4)
    waits = []
    for _ in range(4):
        assert await rig.sender.send_due()
        [_, row] = await rig.rows_for(OPERATOR)
        assert row.status == PENDING and "503" in (row.last_error or "")
        waits.append(row.due_at - clock())
        clock.advance(row.due_at - clock())
    assert waits == sorted(waits) and waits[0] < waits[-1]
    assert await rig.sender.send_due()
    [_, row] = await rig.rows_for(OPERATOR)
    assert (row.status, row.attempts) == (SENT, 4)
    assert "Pesanan baru #1" in merchant.last.text


async def test_an_opted_out_number_is_unreachable_and_a_policy_violation_fails_with_its_code(
    rig: Rig,
) -> None:
    await merchant_who_wrote(rig)
    rig.twilio.fail_next(400, 21610, "Attempt to send to unsubscribed recipient", to=MERCHANT)
    await new_order_for_the_merchant(rig)
    await rig.sender.send_due()
    [_, row] = await rig.rows_for(OPERATOR)
    assert row.status == UNREACHABLE
    await rig.say(rig.twilio.user(MERCHANT), "halo")  # reachable again
    rig.twilio.fail_delivery(MERCHANT, 63013)  # a policy violation, reported later
    await new_order_for_the_merchant(rig)
    await rig.sender.send_due()
    await rig.callbacks_done()
    row = (await rig.rows_for(OPERATOR))[-1]
    assert (row.status, row.error_code) == (FAILED, 63013)


async def test_a_long_card_is_split_and_what_a_merchant_typed_shows_as_typed(rig: Rig) -> None:
    product = (await db.products(rig.app))[0]
    name = "*Kopi* _Gula_ ~Aren~"
    await db.set_product(rig.app, product.name, name=name, description="Enak & gurih. " * 200)
    budi = rig.twilio.user("+6281234567890", "Budi")
    stamp = await budi.send(f"/start p_{product.id}")
    await rig.sender.send_due()
    await rig.twilio.wait_for(lambda: len(budi.replies_after(stamp)) >= 3)
    card = budi.replies_after(stamp)
    assert card[0].media_urls == [product.photo_url]
    assert len(card[0].body or "") <= 1024
    assert all(len(m.body or "") <= 1600 and not m.media_urls for m in card[1:])
    assert card[0].text.startswith(name + "\n")
    assert not any(card[0].bold + card[0].italic)
    shown = " ".join(" ".join(m.text for m in card).split())
    assert shown.count("Enak & gurih.") == 200
    assert card[-1].menu[0] == "➕ Tambah 1"
    # One after the other, each message in its own slot.
    assert [m.stamp for m in card] == sorted(m.stamp for m in card)


async def test_a_slow_handling_answers_twilio_in_time_and_replies_when_done(
    rig: Rig, app: App
) -> None:
    budi = rig.twilio.user("+6281234567890", "Budi")
    await rig.say(budi, "halo")
    rig.channel.answer_within_s = 0.2
    async with UnitOfWork(app.sessions) as uow:
        # The chat is busy (a long transaction holds it): the webhook cannot be handled now.
        await uow.session.execute(
            select(Identity).where(Identity.identity == f"whatsapp:{budi.number}").with_for_update()
        )
        stamp = await budi.send("/bantuan")
        assert rig.twilio.webhook_responses[-1] == 200
        assert not budi.replies_after(stamp)
    await rig.channel.stop()  # waits for the handling that went on after the answer
    await rig.sender.send_due()
    reply = await budi.wait_for_reply(stamp)
    assert "Cara memakai" in reply.text


async def test_callbacks_for_unknown_rows_or_other_channels_change_nothing(
    rig: Rig, app: App
) -> None:
    await db.add_operator(app, 1, "telegram:5005")
    await new_order_for_the_merchant(rig)
    [telegram_row] = [r for r in await db.outbox(app) if r.channel == "telegram"]
    for row in (str(telegram_row.id), "999999", "x"):
        form = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed", "ErrorCode": "63024"}
        path = f"/whatsapp/status?row={row}"
        signature = rig.twilio.signature(f"{PUBLIC_URL}{path}", form)
        assert await rig.twilio._post(path, form, {"X-Twilio-Signature": signature}) == 204
    [after] = [r for r in await db.outbox(app) if r.channel == "telegram"]
    assert after.status == PENDING and after.error_code is None


async def test_stop_and_start_on_whatsapp_and_the_broadcast_outside_the_window(
    rig: Rig, clock: Clock
) -> None:
    """STOP unsubscribes and LANGGANAN subscribes again; a day later the broadcast goes as the
    approved template, or, with none, is not sent and staff see it counted in /siaran, with
    what reached the phone and was read."""
    budi = rig.twilio.user("+6281234567890", "Budi")
    siti = rig.twilio.user("+6281398765432", "Siti")
    for person in (budi, siti):
        assert "Anda berlangganan siaran" in (await rig.say(person, "START")).text
    assert "tidak lagi menerima siaran" in (await rig.say(budi, "STOP")).text
    assert "Anda berlangganan siaran" in (await rig.say(budi, "LANGGANAN")).text
    ana = Chatter(rig.app, "console:ana")
    await add_staff(rig.app, ana.identity)
    clock.advance(timedelta(hours=25))

    # Budi writes now: inside his window. Siti last wrote 25 hours ago.
    await rig.say(budi, "/bantuan")
    await ana.send("/siaran")
    await ana.press("Kirim sekarang")
    await ana.press("Ya, kirim")
    await rig.sender.send_due()
    await rig.callbacks_done()
    assert budi.last.content_sid is None and budi.last.menu
    assert siti.messages[-1].content_sid is None  # nothing new for her: no broadcast template
    await budi.read_all()
    await rig.twilio.wait_for(lambda: budi.last.callbacks[-1][0] == "read")
    await ana.press("Perbarui")
    assert "Terkirim 1 dari 2 · sampai 1 · dibaca 1" in ana.text
    assert "perlu template WhatsApp (di luar 24 jam): 1" in ana.text
    [row] = [r for r in await rig.rows_for(f"whatsapp:{siti.number}") if r.kind == "broadcast"]
    assert row.status == NEEDS_TEMPLATE and "broadcast_content_sid" in (row.last_error or "")

    # With the broadcast template configured, the next one reaches her as that template.
    rig.channel.settings = rig.channel.settings.model_copy(
        update={"broadcast_content_sid": BROADCAST_TEMPLATE}
    )
    async with UnitOfWork(rig.app.sessions) as uow:
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(status=PENDING, due_at=clock())
        )
        await uow.commit()
    await rig.sender.send_due()
    assert siti.last.content_sid == BROADCAST_TEMPLATE
    assert siti.last.text.startswith("Jumat Beli Lokal minggu ini: ")


async def test_a_reply_handed_to_a_sender_that_died_is_sent_once_when_its_claim_lapses(
    rig: Rig, clock: Clock
) -> None:
    # The sender takes the reply as it commits, without a claim of its own: here it dies
    # before sending it (it never runs).
    rig.channel.attach(rig.sender)
    resident = rig.twilio.user("+6281311112222", "Wati")
    await resident.send("halo")
    [reply] = await rig.rows_for("whatsapp:+6281311112222")
    assert reply.status == "sending" and reply.claimed_by == rig.sender.worker
    assert resident.messages == []

    # Another sender may not take it while the claim holds; once it lapses, it sends it.
    successor = OutboxSender(rig.app.sessions, rig.channel, Limits(1000, 1000), rig.app.clock)
    assert not await successor.send_due()
    clock.advance(successor.limits.lease + timedelta(seconds=1))
    assert await successor.send_due()
    [welcome] = resident.messages
    assert "Jumat Beli Lokal" in welcome.text
    assert not await successor.send_due()
    [reply] = await rig.rows_for("whatsapp:+6281311112222")
    assert reply.status == SENT
    assert len(resident.messages) == 1


async def test_replies_handed_to_a_busy_sender_go_out_in_the_order_people_wrote(
    rig: Rig,
) -> None:
    sender = OutboxSender(rig.app.sessions, rig.channel, Limits(20, 10), rig.app.clock)
    rig.channel.attach(sender)
    numbers = [f"+628131111{n:04d}" for n in range(6)]
    for number in numbers:  # all written before the sender gets to any of them
        await rig.twilio.user(number, "Warga").send("halo")
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        await rig.twilio.wait_for(
            lambda: len(rig.twilio.messages) >= len(numbers), what="the six replies"
        )
    finally:
        stop.set()
        await running
    assert [m.to for m in rig.twilio.messages] == [f"whatsapp:{n}" for n in numbers]


async def test_a_reply_during_the_broadcast_goes_before_the_broadcasts_slotted_sends(
    rig: Rig,
) -> None:
    """A resident who writes while the broadcast goes out is answered at the next send, not
    after the broadcast messages that had their moments set before she wrote."""
    subscribers = await broadcast_to(rig, 30)
    # Slow, with the moments of the next two seconds of sends set ahead.
    sender = OutboxSender(
        rig.app.sessions, rig.channel, Limits(8, 10, ahead_seconds=2.0), rig.app.clock
    )
    rig.channel.attach(sender)
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        await rig.twilio.wait_for(
            lambda: len(rig.twilio.messages) >= len(subscribers) + 3,
            what="the broadcast under way",
        )
        wati = rig.twilio.user("+6281311119999", "Wati")
        before = len(rig.twilio.messages)
        reply = await wati.wait_for_reply(await wati.send("/bantuan"))
        broadcast_before_reply = rig.twilio.messages.index(reply) - before
        await rig.twilio.wait_for(
            lambda: len(rig.twilio.messages) >= 2 * len(subscribers) + 1,
            what="the whole broadcast",
        )
    finally:
        stop.set()
        await running
    # At most the send under way when she wrote, and the one whose moment had come.
    assert broadcast_before_reply <= 2
    assert "/katalog" in reply.text
    got = Counter(m.to for m in rig.twilio.messages)
    assert all(got[f"whatsapp:{s.number}"] == 2 for s in subscribers)


async def test_a_reply_in_parts_counts_each_part_against_the_rate(rig: Rig) -> None:
    """Twilio counts messages, not rows: two long cards of several parts each, written at
    once, reach it at no more than the rate in any second (each part waits for a slot and a
    place in the sender's window)."""
    product = (await db.products(rig.app))[0]
    await db.set_product(rig.app, product.name, description="Enak & gurih. " * 200)
    sender = OutboxSender(rig.app.sessions, rig.channel, Limits(2, 10), rig.app.clock)
    rig.channel.attach(sender)
    arrived: list[float] = []
    rig.twilio.on_message = lambda _: arrived.append(time.monotonic())
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    try:
        people = [rig.twilio.user(f"+62813444{n:05d}", "Warga") for n in range(2)]
        for person in people:
            await person.send(f"/start p_{product.id}")
        await rig.twilio.wait_for(lambda: len(arrived) >= 6, what="both cards, in parts")
    finally:
        stop.set()
        await running
    assert all(len(person.messages) >= 3 for person in people)
    assert busiest_second(arrived) <= 2


@pytest.mark.skipif(not PG_URL, reason="holds one chat's row; SQLite locks the whole file")
async def test_a_message_held_up_by_the_database_still_reaches_twilio_within_the_rate(
    rig: Rig,
) -> None:
    """A broadcast message's button becomes the chat's menu in the database before Twilio is
    asked. When that write waits (another transaction holds the chat), the messages behind it
    go on, and the held one goes once the database lets it, in a place of its own within the
    rate rather than on top of the second's others."""
    subscribers = await broadcast_to(rig, 16)
    held = subscribers[6]
    later = [f"whatsapp:{s.number}" for s in subscribers[7:12]]
    sender = OutboxSender(rig.app.sessions, rig.channel, Limits(4, 10), rig.app.clock)
    rig.channel.attach(sender)
    arrived: list[float] = []
    rig.twilio.on_message = lambda _: arrived.append(time.monotonic())
    welcomed = len(rig.twilio.messages)  # the answers to START
    stop = asyncio.Event()
    async with rig.app.engine.connect() as holder:
        holding = await holder.begin()
        await holder.execute(
            select(Identity.identity)
            .where(Identity.identity == f"whatsapp:{held.number}")
            .with_for_update()
        )
        running = asyncio.create_task(sender.run(stop))
        try:
            await rig.twilio.wait_for(
                lambda: {m.to for m in rig.twilio.messages[welcomed:]} >= set(later),
                what="the messages behind the held one",
            )
        finally:
            await holding.rollback()
    try:
        await rig.twilio.wait_for(
            lambda: len(rig.twilio.messages) >= welcomed + len(subscribers),
            what="the whole broadcast, the held message once its chat was free",
        )
    finally:
        stop.set()
        await running
    assert "Jumat Beli Lokal" in held.last.text
    assert busiest_second(arrived) <= 4
