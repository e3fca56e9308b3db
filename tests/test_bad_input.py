"""Whatever a person sends, they get a clear answer in their language and nothing changes."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.messages import Incoming
from models.carts import CartItem
from models.chats import ProcessedMessage
from models.people import Person
from models.uow import UnitOfWork
from tests import db
from tests.people import Chatter


async def test_unknown_command_and_text_get_a_helpful_reply(budi: Chatter) -> None:
    await budi.send("/belanja")
    assert "Perintah /belanja tidak dikenal. Ketik /bantuan" in budi.text
    await budi.send("halo bot, apa kabar?")
    assert "Maaf, saya belum mengerti pesan itu" in budi.text
    assert budi.labels[0] == "🛍️ Katalog Jumat"


async def test_a_first_message_that_is_no_command_is_greeted(budi: Chatter) -> None:
    """On WhatsApp nobody sends /start: whatever comes first gets the welcome."""
    await budi.send("halo")
    assert "Selamat datang" in budi.text
    await budi.send("halo")
    assert "Maaf, saya belum mengerti pesan itu" in budi.text


async def test_a_number_not_on_the_menu_shows_the_menu_again(budi: Chatter) -> None:
    await budi.send("/start")
    await budi.send("9")
    assert "Nomor 9 tidak ada di menu. Ketik nomor 1 sampai 7:" in budi.text
    assert len(budi.labels) == 7
    await budi.send("0")
    assert "Nomor 0 tidak ada di menu" in budi.text
    await budi.send("1")
    assert "Katalog Jumat Beli Lokal" in budi.text


async def test_typing_a_label_chooses_it(budi: Chatter) -> None:
    await budi.send("/start")
    await budi.send("keranjang")
    assert "Keranjang Anda masih kosong" in budi.text


async def test_forged_and_stale_payloads_are_refused(app, budi: Chatter) -> None:
    product = await db.product(app, "Jamu Pegal Linu Serbuk isi 10")
    for payload in [
        "x" * 64,
        "p:abc",
        "p:99999999",
        "c:99",
        "c:1:n:2:0:1",
        "ci:1:5",
        "co:ok:0000000000000000",
        "lang:fr",
        "a:99999999:1",
        f"q:{product.id}:9",
        "",
    ]:
        await budi.send_payload(payload)
        assert budi.text, payload
        assert "Traceback" not in budi.text
    assert await db.count(app, CartItem) == 0
    await budi.send_payload("p:99999999")
    assert "Maaf, produk itu sudah tidak tersedia." in budi.text
    await budi.send_payload("c:1:n:2:0:1")
    assert "Tombol itu sudah tidak berlaku" in budi.text


async def test_over_long_text_is_refused_politely(budi: Chatter) -> None:
    await budi.send("/cari " + "kopi " * 300)
    assert "Pesan terlalu panjang (maksimal 1000 karakter)" in budi.text
    await budi.send("/cari " + "k" * 200)
    assert "Kata pencarian terlalu panjang" in budi.text


async def test_refusals_speak_the_persons_language(budi: Chatter) -> None:
    await budi.send("/language")
    await budi.choose("English")
    await budi.send("/blah")
    assert "I don't know the command /blah" in budi.text
    await budi.send_payload("o:424242")
    assert "That order was not found in your account." in budi.text


async def test_a_blocked_person_is_told_and_nothing_changes(app, budi: Chatter) -> None:
    await budi.send("/start")
    person_id = (await budi.person()).id
    async with UnitOfWork(app.sessions) as uow:
        person = await uow.session.get(Person, person_id)
        assert person is not None
        person.blocked = True
        await uow.commit()
    product = await db.product(app, "Jamu Pegal Linu Serbuk isi 10")
    await budi.send_payload(f"a:{product.id}:1")
    assert "akun Anda sedang diblokir" in budi.text
    assert await db.count(app, CartItem) == 0


async def test_a_redelivered_message_is_handled_once(app, budi: Chatter) -> None:
    product = await db.product(app, "Jamu Pegal Linu Serbuk isi 10")
    incoming = Incoming(identity="console:budi", message_id="same-1", payload=f"a:{product.id}:1")
    first = await app.conversation.handle(incoming)
    again = await app.conversation.handle(incoming)
    assert "masuk keranjang" in first[0].text
    assert again == []
    await budi.send("/keranjang")
    assert "1 × Rp20.000" in budi.text
    assert await db.count(app, ProcessedMessage) == 2


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=1200))
async def test_any_text_gets_an_answer_and_never_fills_the_cart(app, text: str) -> None:
    stranger = Chatter(app, "console:stranger")
    await stranger.send(text)
    assert stranger.replies and all(reply.text for reply in stranger.replies)
    assert await db.count(app, CartItem) == 0


async def test_the_same_message_delivered_twice_at_once_is_handled_once(app, budi: Chatter) -> None:
    product = await db.product(app, "Jamu Pegal Linu Serbuk isi 10")
    incoming = Incoming(identity="console:budi", message_id="dup-1", payload=f"a:{product.id}:1")
    answers = await asyncio.gather(*(app.conversation.handle(incoming) for _ in range(4)))
    assert sorted(len(replies) for replies in answers) == [0, 0, 0, 1]
    await budi.send("/keranjang")
    assert "1 × Rp20.000" in budi.text


async def test_a_first_message_delivered_twice_at_once_makes_one_person(app) -> None:
    people = await db.count(app, Person)
    first = Incoming(
        identity="console:sari", message_id="dup-first", text="halo", display_name="Sari"
    )
    answers = await asyncio.gather(*(app.conversation.handle(first) for _ in range(4)))
    assert sorted(len(replies) for replies in answers) == [0, 0, 0, 1]
    [welcome] = next(replies for replies in answers if replies)
    assert "Selamat datang" in welcome.text
    assert await db.count(app, Person) == people + 1
