"""Hostile text typed on every channel: control characters, bidi overrides, invisible format
characters, emoji, combining marks and huge texts. Whatever comes, the person gets a polite
answer in their language, the log has no traceback, only clean text is stored, and their
next order is still placed (a NUL, which PostgreSQL cannot store, broke every later one)."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
from collections.abc import AsyncIterator
from typing import Protocol

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.bootstrap import App
from bot.console import ConsoleChat, read_lines
from handlers.cleaning import clean_text
from handlers.texts import text
from models.catalog import Product
from models.chats import ChatState
from models.ordering import Order
from models.people import Person
from models.uow import UnitOfWork
from tests import db
from tests.conftest import PG_URL, Clock
from tests.dialogs import add_to_cart
from tests.fake_telegram import FakeMessage, FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.people import Chatter
from tests.telegram_bot import Running, running_jbl
from tests.whatsapp_bot import running_whatsapp

# What people type that has no place in a name or an address, and what real text needs.
HOSTILE = [
    "\x00",
    "\x01",
    "\x08",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
    "\t",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u2060",
    "\u2028",
    "\ufeff",
    "\u00ad",
    "\U000e0041",
    "\u0301",
    "\u0308",
    "\U0001f642",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
]
# A terminal ends a line at these; Telegram and WhatsApp carry them.
LINE_BREAKS = ["\n", "\r"]
# Bytes that are not UTF-8, as a terminal in the C locale reads them (surrogateescape); the
# platforms send UTF-8 only.
NOT_UTF8 = ["\udc80", "\udcff"]
JAMU = "Jamu Pegal Linu Serbuk isi 10"
INTERNAL_ERRORS = [text("id", "internal_error"), text("en", "internal_error")]

_people = itertools.count(1)


def noise(channel: str) -> st.SearchStrategy[str]:
    chars = HOSTILE + (NOT_UTF8 if channel == "console" else LINE_BREAKS)
    return st.lists(st.sampled_from(chars), max_size=12).map("".join)


def hostile(channel: str) -> st.SearchStrategy[str]:
    """Anything at all, hostile characters mixed in, now and then far over the length limit."""
    pieces = st.one_of(noise(channel), st.text(max_size=20))
    huge = st.sampled_from(["\x00", "\u202e", "e\u0301", "\U0001f642"]).map(lambda c: c * 1200)
    return st.one_of(st.lists(pieces, max_size=8).map("".join), huge)


class Typist(Protocol):
    """A person on one channel: they type, and read what comes back."""

    language: str

    async def say(self, typed: str) -> str: ...

    async def choose(self, label: str) -> str: ...


class OnConsole:
    """`jbl chat`: lines from a terminal, through the console channel."""

    language = "id"

    def __init__(self, app: App, name: str) -> None:
        self.output = io.StringIO()
        self.chat = ConsoleChat(app, name, self.output)
        self.shown = ""

    async def say(self, typed: str) -> str:
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        read_lines(io.StringIO(typed + "\n", newline=None), lines)
        start = len(self.output.getvalue())
        await self.chat.run(lines)
        self.shown = self.output.getvalue()[start:]
        return self.shown

    async def choose(self, label: str) -> str:
        menu = re.findall(r"^(\d+)\. (.*)$", self.shown, re.MULTILINE)
        [number] = [n for n, shown in menu if label in shown]
        return await self.say(number)


class OnTelegram:
    def __init__(self, tg: FakeTelegram, user_id: int, language: str, first_name: str) -> None:
        self.user = tg.user(user_id, first_name, language_code=language)
        self.language = language
        self.last: FakeMessage | None = None

    async def say(self, typed: str) -> str:
        self.last = await self.user.wait_for_reply(self.user.send(typed))
        return self.last.text or ""

    async def choose(self, label: str) -> str:
        assert self.last is not None
        [pressed] = [b for b in self.last.buttons if label in b]
        self.last = await self.user.wait_for_reply(self.user.press(pressed))
        return self.last.text or ""


class OnWhatsapp:
    language = "id"

    def __init__(self, twilio: FakeTwilio, number: str, profile_name: str) -> None:
        self.user = twilio.user(number, profile_name)

    async def say(self, typed: str) -> str:
        return (await self.user.say(typed)).text

    async def choose(self, label: str) -> str:
        return (await self.user.choose(label)).text


def assert_polite(shown: str, caplog: pytest.LogCaptureFixture) -> None:
    assert shown.strip(), "no answer"
    assert not any(error in shown for error in INTERNAL_ERRORS), shown
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info], caplog.text


async def assert_only_clean_text_stored(app: App) -> None:
    """Every text people typed that the database keeps is as `clean_text` leaves it."""
    columns = [Person.display_name, Person.contact_name, Person.address]
    columns += [Order.contact_name, Order.address, Product.name, ChatState.data]
    async with UnitOfWork(app.sessions) as uow:
        stored = [await uow.session.scalars(select(column)) for column in columns]
    texts = [
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for values in stored
        for value in values
        if value
    ]
    assert [value for value in texts if clean_text(value) != value] == []


async def order_by_delivery(person: Typist, name: str, address: str) -> tuple[str, str]:
    """Checks out one jar of jamu for delivery, typing `name` and `address` (and a plain one
    instead where that is refused); returns the answers to the two."""
    t = lambda key, **params: text(person.language, key, **params)  # noqa: E731
    await person.say("/cari jamu")
    await person.choose("Jamu Pegal Linu")
    await person.choose(t("btn_add_one"))
    assert t("ask_name") in await person.say("/checkout")
    to_name = await person.say(name)
    if t("ask_phone") not in to_name:
        assert t("name_invalid", low=2, high=80) in to_name, to_name
        assert t("ask_phone") in await person.say("Budi Santoso")
    await person.say("0812 3456 7890")
    assert t("ask_address") in await person.choose(t("btn_delivery"))
    to_address = await person.say(address)
    # The jamu's shop has no payment details: cash only, and the question says why.
    cash_only = t("ask_payment_cash_only", merchants="\0").split("\0")[0]
    if cash_only not in to_address:
        assert t("address_invalid", low=10, high=300) in to_address, to_address
        assert cash_only in await person.say("Jl. Melati No. 5, Menteng")
    await person.choose(t("btn_pay_cash"))
    placed = await person.choose(t("btn_confirm_order"))
    assert t("orders_placed") in placed, placed
    return to_name, to_address


def name_among(channel: str) -> st.SearchStrategy[str]:
    return st.builds("{}Budi{} Santoso{}".format, noise(channel), noise(channel), noise(channel))


def address_among(channel: str) -> st.SearchStrategy[str]:
    return st.builds(
        "{}Jl. Melati{} No. 5{}, Menteng".format, noise(channel), noise(channel), noise(channel)
    )


async def check_hostile_order(
    app: App, person: Typist, name: str, address: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    await db.set_product(app, JAMU, stock=100)
    to_name, to_address = await order_by_delivery(person, name, address)
    assert_polite(to_name, caplog)
    assert_polite(to_address, caplog)
    [*_, order] = await db.orders(app)
    assert order.contact_name in (" ".join(clean_text(name).split()), "Budi Santoso")
    assert order.address in (" ".join(clean_text(address).split()), "Jl. Melati No. 5, Menteng")
    await assert_only_clean_text_stored(app)


async def check_hostile_messages(
    app: App, person: Typist, typed: str, caplog: pytest.LogCaptureFixture
) -> None:
    """`typed` as a message, in a search and as a checkout name; then an order as usual."""
    caplog.clear()
    await db.set_product(app, JAMU, stock=100)
    t = lambda key: text(person.language, key)  # noqa: E731
    # A terminal sends no blank line.
    answered = not isinstance(person, OnConsole) or any(
        line.strip() for line in io.StringIO(typed, newline=None)
    )
    for message in (typed, f"/cari {typed}"):
        shown = await person.say(message)
        if answered or message != typed:
            assert_polite(shown, caplog)
    await person.say("/cari jamu")
    await person.choose("Jamu Pegal Linu")
    await person.choose(t("btn_add_one"))
    await person.say("/checkout")
    shown = await person.say(typed)
    if answered:
        assert_polite(shown, caplog)
    await person.say("/checkout")
    await person.say("Budi Santoso")
    await person.say("0812 3456 7890")
    await person.choose(t("btn_delivery"))
    await person.say("Jl. Melati No. 5, Menteng")
    await person.choose(t("btn_pay_cash"))
    placed = await person.choose(t("btn_confirm_order"))
    assert t("orders_placed") in placed, placed
    assert_polite(placed, caplog)
    await assert_only_clean_text_stored(app)


# ---- the bugs found, one by one -----------------------------------------------------------

# A control character a database kept from before texts were cleaned: PostgreSQL cannot store
# NUL in a text column, so there it is another.
KEPT_CONTROL = "\x1b" if PG_URL else "\x00"
ADDRESS = "Jl. Melati No. 5, Menteng"


async def to_delivery_summary(budi: Chatter, address: str = ADDRESS) -> None:
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await budi.send("/checkout")
    await budi.send("Budi Santoso")
    await budi.send("0812 3456 7890")
    await budi.choose("Diantar")
    await budi.send(address)
    assert "Checkout 4/4" in budi.text, budi.text
    await budi.choose("Bayar tunai")
    assert "Ringkasan pesanan" in budi.text


async def test_a_nul_in_the_address_is_dropped_and_every_later_order_is_placed(
    app: App, budi: Chatter
) -> None:
    await to_delivery_summary(budi, "Jl. Melati\x00 No. 5,\x00 Menteng")
    await budi.choose("Pesan sekarang")
    assert "Terima kasih" in budi.text
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await budi.send("/checkout")
    await budi.choose("Pesan sekarang")
    assert "Terima kasih" in budi.text
    orders = await db.orders(app)
    assert [o.address for o in orders] == [ADDRESS, ADDRESS]
    assert (await budi.person()).address == ADDRESS


async def test_names_and_addresses_with_nothing_visible_or_no_letter_are_refused(
    budi: Chatter,
) -> None:
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await budi.send("/checkout")
    for name in ["\x00" * 50, "\u202e\u200b\u2066\u2069\ufeff", "\x07\x1b\x9b", "...", "12"]:
        await budi.send(name)
        assert "Nama harus 2 sampai 80 karakter dan berisi huruf" in budi.text, repr(name)
    await budi.send("\u202eBudi\u202c \x00Santoso")
    assert "Checkout 2/4" in budi.text
    await budi.send("0812 3456 7890")
    await budi.choose("Diantar")
    for address in ["\x00" * 50, "\u200b" * 20 + "Jl.", "12345678901", "\t\t\t\t\t\t\t\t\t\t\t"]:
        await budi.send(address)
        assert "Alamat harus 10 sampai 300 karakter dan berisi huruf" in budi.text, repr(address)
    await budi.send(ADDRESS)
    await budi.choose("Bayar tunai")
    await budi.choose("Pesan sekarang")
    assert "Terima kasih" in budi.text
    person = await budi.person()
    assert (person.contact_name, person.address) == ("Budi Santoso", ADDRESS)


async def test_emoji_accents_and_joined_letters_stay_as_typed_in_composed_form(
    app: App, budi: Chatter
) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await budi.send("/checkout")
    await budi.send(f"Rene\u0301 {family} \u0928\u092e\u0938\u094d\u200d\u0924\u0947\u200d")
    await budi.send("0812 3456 7890")
    await budi.choose("Ambil sendiri")
    await budi.choose("Bayar tunai")
    await budi.choose("Pesan sekarang")
    [order] = await db.orders(app)
    assert order.contact_name == f"Ren\u00e9 {family} \u0928\u092e\u0938\u094d\u200d\u0924\u0947"


async def set_person(budi: Chatter, **values: str) -> None:
    """Writes the person's remembered details as a database from before the fix kept them."""
    person_id = (await budi.person()).id
    async with UnitOfWork(budi.app.sessions) as uow:
        await uow.session.execute(update(Person).where(Person.id == person_id).values(**values))
        await uow.commit()


async def set_chat_data(budi: Chatter, **values: str) -> None:
    """Writes details into the chat's kept checkout, as before the fix they were kept."""
    async with UnitOfWork(budi.app.sessions) as uow:
        state = await uow.session.get(ChatState, budi.identity)
        assert state is not None
        state.data = {**state.data, **values}
        await uow.commit()


async def test_a_remembered_address_with_a_control_character_is_offered_cleaned(
    app: App, budi: Chatter
) -> None:
    await to_delivery_summary(budi)
    await budi.choose("Pesan sekarang")
    await set_person(
        budi,
        contact_name=f"Budi{KEPT_CONTROL} Santoso",
        address=f"Jl. Melati{KEPT_CONTROL} No. 5, Menteng",
    )
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await budi.send("/checkout")
    assert "Ringkasan pesanan" in budi.text and ADDRESS in budi.text
    await budi.choose("Pesan sekarang")
    assert "Terima kasih" in budi.text
    assert [o.address for o in await db.orders(app)] == [ADDRESS, ADDRESS]
    person = await budi.person()
    assert (person.contact_name, person.address) == ("Budi Santoso", ADDRESS)


async def test_a_remembered_address_of_control_characters_only_is_not_offered(
    app: App, budi: Chatter
) -> None:
    await to_delivery_summary(budi)
    await budi.choose("Pesan sekarang")
    await set_person(budi, address=KEPT_CONTROL * 20)
    await add_to_cart(budi, "jamu", "Jamu Pegal Linu")
    await budi.send("/checkout")
    assert "Checkout 1/4" in budi.text
    await budi.choose("Pakai")
    await budi.choose("Pakai")
    await budi.choose("Diantar")
    assert "alamat" in budi.text and budi.labels == ["\u2716\ufe0f Batal checkout"]
    await budi.send(ADDRESS)
    await budi.choose("Bayar tunai")
    await budi.choose("Pesan sekarang")
    assert "Terima kasih" in budi.text
    assert (await budi.person()).address == ADDRESS


async def test_a_summary_kept_with_a_nul_is_shown_again_cleaned_before_it_is_placed(
    app: App, budi: Chatter
) -> None:
    await to_delivery_summary(budi)
    await set_chat_data(
        budi, co_name="Budi\x00 Santoso", co_address="Jl. Melati\x00 No. 5, Menteng"
    )
    await budi.choose("Pesan sekarang")
    assert "Ringkasan itu sudah berubah" in budi.text and "Ringkasan pesanan" in budi.text
    assert await db.orders(app) == []
    await budi.choose("Pesan sekarang")
    assert "Terima kasih" in budi.text
    [order] = await db.orders(app)
    assert (order.contact_name, order.address) == ("Budi Santoso", ADDRESS)


async def test_a_summary_kept_with_an_address_of_nuls_asks_for_the_address_again(
    app: App, budi: Chatter
) -> None:
    await to_delivery_summary(budi)
    await set_chat_data(budi, co_address="\x00" * 20)
    await budi.choose("Pesan sekarang")
    assert "Ringkasan itu sudah berubah" in budi.text and "alamat" in budi.text
    await budi.send(ADDRESS)
    assert "Ringkasan pesanan" in budi.text and ADDRESS in budi.text
    await budi.choose("Pesan sekarang")
    [order] = await db.orders(app)
    assert order.address == ADDRESS


@settings(max_examples=300)
@given(typed=st.lists(st.sampled_from([*HOSTILE, *LINE_BREAKS, *NOT_UTF8, "a", " "])).map("".join))
def test_cleaning_keeps_nothing_invisible_and_twice_is_once(typed: str) -> None:
    cleaned = clean_text(typed)
    assert clean_text(cleaned) == cleaned
    assert not set(cleaned) & {
        "\x00",
        "\x01",
        "\x1b",
        "\x7f",
        "\x9b",
        "\u202e",
        "\u2066",
        "\ufeff",
        "\r",
    }
    cleaned.encode("utf-8")  # no lone surrogate left


HOSTILE_SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# ---- the console -------------------------------------------------------------------------


@HOSTILE_SETTINGS
@given(name=name_among("console"), address=address_among("console"))
async def test_a_hostile_name_and_address_on_the_console_are_cleaned_and_the_order_placed(
    app: App, caplog: pytest.LogCaptureFixture, name: str, address: str
) -> None:
    person = OnConsole(app, f"tamu{next(_people)}")
    await check_hostile_order(app, person, name, address, caplog)


@HOSTILE_SETTINGS
@given(typed=hostile("console"))
async def test_any_hostile_text_on_the_console_gets_an_answer_and_the_next_order_is_placed(
    app: App, caplog: pytest.LogCaptureFixture, typed: str
) -> None:
    await check_hostile_messages(app, OnConsole(app, f"tamu{next(_people)}"), typed, caplog)


# ---- Telegram ----------------------------------------------------------------------------


@pytest.fixture
async def telegram(database_url: str, clock: Clock, tg: FakeTelegram) -> AsyncIterator[Running]:
    async with running_jbl(database_url, clock, tg) as running:
        yield running


@HOSTILE_SETTINGS
@given(
    name=name_among("telegram"),
    address=address_among("telegram"),
    first_name=noise("telegram"),
    language=st.sampled_from(["id", "en"]),
)
async def test_a_hostile_name_and_address_on_telegram_are_cleaned_and_the_order_placed(
    telegram: Running,
    tg: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
    name: str,
    address: str,
    first_name: str,
    language: str,
) -> None:
    person = OnTelegram(tg, 7000 + next(_people), language, f"Budi{first_name}")
    await check_hostile_order(telegram.app, person, name, address, caplog)


@HOSTILE_SETTINGS
@given(typed=hostile("telegram"), language=st.sampled_from(["id", "en"]))
async def test_any_hostile_text_on_telegram_gets_an_answer_and_the_next_order_is_placed(
    telegram: Running, tg: FakeTelegram, caplog: pytest.LogCaptureFixture, typed: str, language: str
) -> None:
    person = OnTelegram(tg, 7000 + next(_people), language, "Budi")
    await check_hostile_messages(telegram.app, person, typed, caplog)


# ---- WhatsApp ----------------------------------------------------------------------------


@pytest.fixture
async def whatsapp(database_url: str, clock: Clock, twilio: FakeTwilio) -> AsyncIterator[Running]:
    async with running_whatsapp(database_url, clock, twilio) as running:
        yield running


@HOSTILE_SETTINGS
@given(name=name_among("whatsapp"), address=address_among("whatsapp"), profile=noise("whatsapp"))
async def test_a_hostile_name_and_address_on_whatsapp_are_cleaned_and_the_order_placed(
    whatsapp: Running,
    twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
    name: str,
    address: str,
    profile: str,
) -> None:
    person = OnWhatsapp(twilio, f"+62812{next(_people):07d}", f"Budi{profile}")
    await check_hostile_order(whatsapp.app, person, name, address, caplog)


@HOSTILE_SETTINGS
@given(typed=hostile("whatsapp"))
async def test_any_hostile_text_on_whatsapp_gets_an_answer_and_the_next_order_is_placed(
    whatsapp: Running, twilio: FakeTwilio, caplog: pytest.LogCaptureFixture, typed: str
) -> None:
    person = OnWhatsapp(twilio, f"+62812{next(_people):07d}", "Budi")
    await check_hostile_messages(whatsapp.app, person, typed, caplog)


@HOSTILE_SETTINGS
@given(
    name=st.builds("{}Kue{} Lapis{}".format, noise("console"), noise("console"), noise("console"))
)
async def test_a_hostile_product_name_is_stored_cleaned_or_refused_politely(
    app: App, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    caplog.clear()
    penjual = OnConsole(app, "penjual")  # runs merchant 1 in the demo
    await penjual.say("/produk")
    shown = await penjual.say(name)
    assert_polite(shown, caplog)
    if text("id", "np_ask_category") not in shown:
        assert text("id", "np_name_length", low=3, high=120) in shown
        await penjual.say("Kue Lapis")
    await penjual.choose("Makanan & Minuman")
    await penjual.say("85rb")
    await penjual.say("12")
    await penjual.choose(text("id", "btn_skip"))
    assert "Produk baru tersimpan" in await penjual.choose(text("id", "btn_skip"))
    await assert_only_clean_text_stored(app)
