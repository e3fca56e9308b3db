"""The fake Telegram server, proven with the real python-telegram-bot client: if PTB accepts its
answers and raises the right errors, the app's Telegram adapter can be tested against it."""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import telegram
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.fake_telegram import (
    NOT_MODIFIED,
    CountingTelegram,
    FakeTelegram,
    LocalServer,
    TelegramUser,
    parse_html,
)

TOKEN = "123:ABC"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(TOKEN, base_url=tg.base_url) as client:
        yield client


@pytest.fixture
def budi(tg: FakeTelegram) -> TelegramUser:
    return tg.user(42, "Budi")


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"cb:{label}")] for label in labels]
    )


async def test_get_me_answers_the_bot_user(tg: FakeTelegram, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123, "jbl_test_bot", True)
    assert tg.bot_user == {
        "id": 123,
        "is_bot": True,
        "first_name": "JBL",
        "username": "jbl_test_bot",
    }
    assert tg.base_url.startswith("http://127.0.0.1:") and tg.base_url.endswith("/bot")


async def test_sent_message_keeps_its_keyboard_and_edits_change_it_in_place(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    budi.send("halo")
    sent = await bot.send_message(42, "Pilih:", reply_markup=keyboard("Makanan", "Fesyen"))

    # Message ids are per chat and shared with the user's messages.
    assert sent.message_id == 2
    assert sent.chat.type == "private" and sent.chat.first_name == "Budi"
    assert sent.from_user is not None and sent.from_user.id == 123
    assert sent.reply_markup == keyboard("Makanan", "Fesyen")
    assert budi.buttons() == ["Makanan", "Fesyen"]

    edited = await bot.edit_message_text(
        "Pilih lagi:", chat_id=42, message_id=sent.message_id, reply_markup=keyboard("Makanan")
    )
    assert isinstance(edited, telegram.Message) and edited.edit_date is not None
    assert [(m.from_bot, m.text, m.edited) for m in budi.messages] == [
        (False, "halo", 0),
        (True, "Pilih lagi:", 1),
    ]
    assert budi.last.buttons == ["Makanan"]

    # Editing the text without reply_markup takes the inline keyboard away, as on Telegram.
    await bot.edit_message_text("Selesai", chat_id=42, message_id=sent.message_id)
    assert budi.last.reply_markup is None and budi.last.edited == 2
    assert [call.method for call in tg.calls] == [
        "getMe",
        "sendMessage",
        "editMessageText",
        "editMessageText",
    ]
    assert tg.calls[1].params["reply_markup"] == keyboard("Makanan", "Fesyen").to_dict()


async def test_edit_errors_are_the_real_ones(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    sent = await bot.send_message(42, "Keranjang", reply_markup=keyboard("Bayar"))
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_text(
            "Keranjang", chat_id=42, message_id=sent.message_id, reply_markup=keyboard("Bayar")
        )
    assert tg.calls[-1].status == 400 and tg.calls[-1].error == NOT_MODIFIED

    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=99)
    photo = await bot.send_photo(42, "https://example.com/batik.jpg", caption="Batik")
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=42, message_id=photo.message_id)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "siapa?")


async def test_flood_control_surfaces_as_retry_after(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, PTB 22 warns (PTBDeprecationWarning) while *constructing* RetryAfter,
    # which this suite's filterwarnings=error turns into a different exception.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    tg.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
    )
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(42, "halo")
    assert raised.value.retry_after == timedelta(seconds=7)
    await bot.send_message(42, "halo")  # only the next call failed
    assert [c.status for c in tg.calls if c.method == "sendMessage"] == [429, 200]
    assert [m.text for m in budi.messages] == ["halo"]


async def test_a_blocked_chat_is_forbidden(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    sent = await bot.send_message(42, "halo")
    tg.block(42)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "masih di sana?")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("x", chat_id=42, message_id=sent.message_id)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(42, "typing")
    assert tg.calls[-1].error == "Forbidden: bot was blocked by the user"


async def test_callback_data_longer_than_64_bytes_is_refused(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    def markup(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("Beli", callback_data=data)]])

    await bot.send_message(42, "ok", reply_markup=markup("x" * 64))
    for too_long in ("x" * 65, "é" * 33):  # bytes count, not characters: "é" is two
        # PTB's capitalize() mangles the code: "BUTTON_DATA_INVALID" reads "Button_data_invalid".
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(42, "no", reply_markup=markup(too_long))
        assert tg.calls[-1].error == "Bad Request: BUTTON_DATA_INVALID"
    assert [m.text for m in budi.messages] == ["ok"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("<b>tebal", "Can't find end tag corresponding to start tag b"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("harga < 10.000", 'Unsupported start tag "" at byte offset 6'),
        ("Rp 10.000 & ongkir", 'Character "&" must be escaped as "&amp;" at byte offset 10'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("a</b>", "Unexpected end tag at byte offset 1"),
    ],
)
async def test_malformed_html_is_refused(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser, text: str, reason: str
) -> None:
    with pytest.raises(BadRequest, match=r"^Can't parse entities: "):
        await bot.send_message(42, text, parse_mode="HTML")
    assert tg.calls[-1].error == f"Bad Request: can't parse entities: {reason}"
    assert budi.messages == []


async def test_escaped_html_is_accepted_and_its_visible_text_stored(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    name = 'Kopi "Tuku" <250ml> & Roti'
    raw = f"<b>{html.escape(name)}</b>\n<i>Rp&#160;25.000</i> 😀 <a href='https://x.id/?a=1&amp;b=2'>toko</a>"
    sent = await bot.send_message(42, raw, parse_mode="HTML")

    visible = f"{name}\nRp\xa025.000 😀 toko"
    assert sent.text == visible
    assert (budi.last.text, budi.last.html) == (visible, raw)
    # Offsets count UTF-16 code units: the emoji before the link counts two.
    assert [(e.type, e.offset, e.length, e.url) for e in sent.entities] == [
        ("bold", 0, len(name), None),
        ("italic", len(name) + 1, 9, None),
        ("text_link", len(name) + 14, 4, "https://x.id/?a=1&b=2"),
    ]


def test_html_parser_entities() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">print(1)</code></pre>'
        "<tg-spoiler>s</tg-spoiler><blockquote expandable>q</blockquote><code>c</code>"
    )
    assert text == "print(1)sqc"
    assert entities == [
        {"offset": 0, "length": 8, "type": "pre", "language": "python"},
        {"offset": 8, "length": 1, "type": "spoiler"},
        {"offset": 9, "length": 1, "type": "expandable_blockquote"},
        {"offset": 10, "length": 1, "type": "code"},
    ]


async def test_text_and_caption_limits(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    await bot.send_message(42, "x" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(42, "😀" * 2049)  # 2049 characters, 4098 UTF-16 code units
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(42, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(42, "https://example.com/a.jpg", caption="x" * 1025)
    assert len(budi.messages) == 1


async def test_photos_answer_photo_sizes_whose_file_ids_can_be_sent_again(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    first = await bot.send_photo(
        42, "https://example.com/batik.jpg", caption="<b>Batik</b> 🧵", parse_mode="HTML"
    )
    assert [size.width for size in first.photo] == [90, 320, 800]
    assert first.caption == "Batik 🧵" and first.caption_entities[0].type == "bold"
    again = await bot.send_photo(42, first.photo[-1].file_id, caption="lagi")
    assert again.photo == first.photo
    upload = await bot.send_photo(42, b"\x89PNG fake bytes", caption="unggahan 🎉")
    assert upload.caption == "unggahan 🎉"  # a multipart body, decoded as UTF-8
    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_photo(42, "made-up-file-id")
    assert [(m.photo, m.text) for m in budi.messages] == [
        ("https://example.com/batik.jpg", "Batik 🧵"),
        (first.photo[-1].file_id, "lagi"),
        ("upload:application.octet-stream", "unggahan 🎉"),
    ]


async def test_long_poll_returns_a_pushed_update_at_once(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    polling = asyncio.create_task(bot.get_updates(timeout=30))
    await tg.wait_for(lambda: any(c.method == "getUpdates" for c in tg.calls))
    started = time.monotonic()
    update_id = budi.send("/start promo")

    (update,) = await polling
    assert time.monotonic() - started < 1.0
    assert update.update_id == update_id
    assert update.message is not None and update.message.text == "/start promo"
    assert update.message.from_user is not None and update.message.from_user.language_code == "id"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 0, 6)
    ]


async def test_offset_confirms_updates_and_duplicates_are_delivered_again(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    first, second = budi.send("satu"), budi.send("dua")
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert [u.update_id for u in await bot.get_updates()] == [first, second]  # not confirmed
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    assert await bot.get_updates(offset=second + 1) == ()
    assert await bot.get_updates() == ()  # confirmed for good

    duplicate = {"update_id": second, "message": tg.message_json(budi.messages[1])}
    assert tg.push_update(duplicate) == second
    (again,) = await bot.get_updates(offset=second + 1)
    assert again.update_id == second and again.message.text == "dua"


async def test_allowed_updates_filters_what_get_updates_delivers(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    await bot.send_message(42, "Pilih:", reply_markup=keyboard("Ya"))
    budi.send("teks")
    pressed = budi.press("Ya")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.update_id for u in updates] == [pressed]


async def test_a_second_poller_ends_the_first_with_conflict(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await tg.wait_for(lambda: any(c.method == "getUpdates" for c in tg.calls))
    # A second instance of the bot: PTB gives get_updates a pool of one connection, so the same
    # Bot cannot poll twice at once (the second call would end in PoolTimeout).
    async with telegram.Bot(TOKEN, base_url=tg.base_url) as other:
        assert await other.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_button_press_answered_and_edited_is_a_reply(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    menu = await bot.send_message(42, "Menu", reply_markup=keyboard("Keranjang", "Cari"))
    await bot.send_message(42, "Info tanpa tombol")
    with pytest.raises(
        AssertionError, match=r"buttons by message id: \{1: \['Keranjang', 'Cari'\]\}"
    ):
        budi.press("Bayar")

    pressed = budi.press("Keranjang")
    waiting = asyncio.create_task(budi.wait_for_reply(pressed))
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "cb:Keranjang" and query.from_user.id == 42
    assert query.message is not None and query.message.message_id == menu.message_id
    assert query.message.reply_markup == keyboard("Keranjang", "Cari")

    await query.answer("Dibuka")
    assert not waiting.done()  # answered, but nothing shown yet
    await query.edit_message_text("Keranjang kosong")
    reply = await waiting
    assert (reply.message_id, reply.text, reply.edited) == (menu.message_id, "Keranjang kosong", 1)
    assert budi.callback_answers == [{"callback_query_id": query.id, "text": "Dibuka"}]

    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()
    stale = budi.press_data("cb:lama", message_id=menu.message_id)
    assert (await bot.get_updates(offset=update.update_id + 1))[0].update_id == stale


async def test_wait_for_reply_times_out_with_the_transcript(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    update_id = budi.send("halo?")
    with pytest.raises(AssertionError, match=r"(?s)answer to message update.*#1 user: 'halo\?'"):
        await budi.wait_for_reply(update_id, timeout=0.05)
    await bot.send_message(42, "Halo!")
    assert (await budi.wait_for_reply(update_id)).text == "Halo!"


async def test_wait_for_refuses_a_predicate_the_fake_cannot_notice(tg: FakeTelegram) -> None:
    outside: list[int] = []
    asyncio.get_running_loop().call_soon(outside.append, 1)  # state the fake knows nothing of
    with pytest.raises(AssertionError, match="without the fake noticing"):
        await tg.wait_for(lambda: bool(outside), timeout=0.05)


async def test_reply_keyboard_can_share_the_contact(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton("Bagikan nomor", request_contact=True)], ["Batal"]],
        one_time_keyboard=True,
    )
    sent = await bot.send_message(42, "Nomor HP?", reply_markup=markup)
    assert sent.reply_markup is None  # only inline keyboards come back in the Message
    assert budi.last.reply_markup == markup.to_dict()
    shared, cancelled = budi.tap_keyboard("Bagikan nomor"), budi.tap_keyboard("Batal")
    first, second = await bot.get_updates()
    assert (first.update_id, second.update_id) == (shared, cancelled)
    assert first.message.contact.phone_number == "+6281234567890"
    assert first.message.contact.user_id == 42
    assert second.message.text == "Batal"
    with pytest.raises(AssertionError, match="the keyboard shows"):
        budi.tap_keyboard("Lanjut")


async def test_groups_stickers_and_unknown_chats(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    umkm = tg.group(-100, "UMKM Jakarta")
    umkm.send(budi, "/start@jbl_test_bot")
    budi.send_sticker()
    in_group, sticker = await bot.get_updates()
    assert in_group.message.chat.type == "group" and in_group.message.chat.title == "UMKM Jakarta"
    assert in_group.message.entities[0].length == len("/start@jbl_test_bot")
    assert sticker.message.text is None and sticker.message.sticker is not None
    await bot.send_message(-100, "Halo grup")
    assert [m.text for m in umkm.messages] == ["/start@jbl_test_bot", "Halo grup"]


async def test_commands_are_kept_per_language(tg: FakeTelegram, bot: telegram.Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Mulai")], language_code="id")
    await bot.set_my_commands([BotCommand("start", "Start")])
    assert tg.commands == {
        "id": [{"command": "start", "description": "Mulai"}],
        None: [{"command": "start", "description": "Start"}],
    }
    assert await bot.get_my_commands(language_code="id") == (BotCommand("start", "Mulai"),)
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "huruf besar")])
    await bot.delete_my_commands(language_code="id")
    assert list(tg.commands) == [None]


async def test_webhook_posts_updates_with_the_secret_and_retries_failures(
    tg: FakeTelegram, bot: telegram.Bot, budi: TelegramUser
) -> None:
    received: list[tuple[int, str | None]] = []
    answers = [500]  # the receiver fails once, then accepts

    async def receive(request: Request) -> Response:
        secret = request.headers.get("x-telegram-bot-api-secret-token")
        received.append(((await request.json())["update_id"], secret))
        if secret != "s3cret":
            return Response(status_code=403)
        return Response(status_code=answers.pop(0) if answers else 200)

    app = Starlette(routes=[Route("/hook", receive, methods=["POST"])])
    async with LocalServer(app) as receiver:
        url = f"{receiver.url}/hook"
        before = budi.send("sebelum")  # pending updates go to the webhook once it is set
        assert await bot.set_webhook(url, secret_token="s3cret", allowed_updates=["message"])
        assert tg.webhook is not None and tg.webhook.secret_token == "s3cret"
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates()

        later = budi.send("sesudah")
        await tg.wait_for(lambda: len(tg.webhook_responses) == 3)
        assert tg.webhook_responses == [500, 200, 200]
        assert received == [(before, "s3cret"), (before, "s3cret"), (later, "s3cret")]
        assert (await bot.get_webhook_info()).pending_update_count == 0

        assert await tg.post_to_webhook({"message": {}}, secret="wrong") == 403
        assert await tg.post_to_webhook({"message": {}}, secret=None) == 403

        assert await bot.delete_webhook()
        assert tg.webhook is None
        assert await bot.get_updates() == ()


async def test_wrong_token_unknown_method_and_raw_http(
    tg: FakeTelegram, budi: TelegramUser
) -> None:
    with pytest.raises(InvalidToken):
        async with telegram.Bot("123:WRONG", base_url=tg.base_url):
            pass
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{tg.base_url}{TOKEN}/sendTelepathy")
        assert (unknown.status_code, unknown.json()) == (
            404,
            {"ok": False, "error_code": 404, "description": "Not Found"},
        )
        # GET with query parameters and JSON bodies work as on the real server.
        sent = await client.get(f"{tg.base_url}{TOKEN}/sendMessage?chat_id=42&text=123")
        assert sent.json()["result"]["text"] == "123"  # a text stays a string
        body = {"chat_id": 42, "text": "x", "reply_markup": '{"inline_keyboard": [[]]}'}
        assert (await client.post(f"{tg.base_url}{TOKEN}/sendmessage", json=body)).is_success
    assert [m.text for m in budi.messages] == ["123", "x"]


async def test_shutdown_ends_a_long_poll_at_once() -> None:
    fake = FakeTelegram(token=TOKEN)
    await fake.__aenter__()
    async with telegram.Bot(TOKEN, base_url=fake.base_url) as client:
        polling = asyncio.create_task(client.get_updates(timeout=30))
        await fake.wait_for(lambda: any(c.method == "getUpdates" for c in fake.calls))
        started = time.monotonic()
        await fake.__aexit__(None, None, None)
        assert await polling == ()
        assert time.monotonic() - started < 1.0


async def test_the_counting_fake_answers_any_private_chat_and_keeps_only_counts() -> None:
    async with (
        CountingTelegram(token=TOKEN) as tg,
        telegram.Bot(TOKEN, base_url=tg.base_url) as bot,
    ):
        first = await bot.send_message(
            900_000_001, "<b>Pesanan</b> #1 siap", parse_mode="HTML", reply_markup=keyboard("A")
        )
        await bot.send_message(900_000_001, "lagi")
        await bot.send_message(900_000_002, "halo")
        with pytest.raises(BadRequest, match="an't parse entities"):
            await bot.send_message(900_000_003, "<b>open", parse_mode="HTML")
        tg.block(900_000_004)
        with pytest.raises(Forbidden):
            await bot.send_message(900_000_004, "halo")
    assert (first.chat.id, first.text, first.entities[0].type) == (
        900_000_001,
        "Pesanan #1 siap",
        "bold",
    )
    assert first.reply_markup == keyboard("A")
    assert tg.sends == {900_000_001: 2, 900_000_002: 1}
    assert len(tg.arrivals) == 3 and list(tg.arrivals) == sorted(tg.arrivals)
    assert tg.answers["sendMessage 200"] == 3 and tg.answers["sendMessage 400"] == 1
    assert tg.answers["sendMessage 403"] == 1
    assert tg.calls == []
