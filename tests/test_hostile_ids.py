"""Ids from outside, in button payloads and deep links: whatever number, sign, leading zeros or
script's digits they carry, the person gets an answer, the log has no traceback and nothing
changes; an id no row can have is simply not found, as on every database."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.bootstrap import App
from bot.web import build_web
from bot.whatsapp.channel import WhatsappChannel
from handlers.payloads import ID, Payload
from handlers.routes import PAYLOADS
from models.base import LARGEST_ID, Base
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram, LocalServer, TelegramUser
from tests.fake_twilio import FakeTwilio
from tests.people import Chatter
from tests.telegram_bot import Running, running_jbl
from tests.test_cli_and_console import run_jbl
from tests.whatsapp_bot import PUBLIC_URL, whatsapp_settings

# What any message may change: the sender's chat (last menu, step) and the ids handled; and
# what changes whatever comes: the outbox senders' beats (PostgreSQL).
CHAT_TABLES = {"chat_states", "processed_messages", "sender_shares"}
# Ids a button or link may carry that no demo row has: inside a 32-bit column, and beyond it.
MISSING = st.integers(10**6, LARGEST_ID)
BEYOND = st.integers(LARGEST_ID + 1, 10**40)
HOSTILE_IDS = st.one_of(
    st.builds(
        lambda zeros, n: zeros + str(n), st.text("0", max_size=4), st.one_of(MISSING, BEYOND)
    ),
    st.integers(1, 10**20).map(lambda n: f"-{n}"),
    # Digits of any script: `int()` reads them, a button never carries them.
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=12).filter(
        lambda text: not text.isascii()
    ),
)
KINDS_WITH_IDS = [route.payload for route in PAYLOADS if ID in route.payload.fields]


def forged(kind: Payload, id_text: str, data: st.DataObject) -> str:
    """A payload of `kind` with `id_text` in its ids and well-formed values elsewhere."""
    values: list[Any] = []
    for field in kind.fields:
        if field is ID:
            values.append(id_text)
            continue
        value = field.read(data.draw(st.from_regex(field.regex, fullmatch=True)))
        values.append(_plain(field) if value is None else value)
    return kind(*values)


async def snapshot(app: App) -> dict[str, list[str]]:
    """Every row outside the chat tables, to compare before and after."""
    async with app.sessions() as session:
        return {
            table.name: sorted(map(repr, await session.execute(select(table))))
            for table in Base.metadata.sorted_tables
            if table.name not in CHAT_TABLES
        }


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(id_text=HOSTILE_IDS, data=st.data())
async def test_any_id_in_a_payload_or_deep_link_gets_an_answer_and_changes_nothing(
    app: App, caplog: pytest.LogCaptureFixture, id_text: str, data: st.DataObject
) -> None:
    stranger = Chatter(app, "console:stranger")
    await stranger.send("/start")
    before = await snapshot(app)
    kind = data.draw(st.sampled_from([*KINDS_WITH_IDS, "p_", "m_"]))
    if isinstance(kind, Payload):
        await stranger.send_payload(forged(kind, id_text, data))
    else:
        await stranger.send(f"/start {kind}{id_text}")
    assert stranger.replies and all(reply.text for reply in stranger.replies)
    assert await snapshot(app) == before
    assert not tracebacks(caplog)


async def test_an_id_beyond_any_column_is_not_found_like_a_missing_one(app: App) -> None:
    budi = Chatter(app, "console:budi")
    await budi.send("/start")
    for kind in KINDS_WITH_IDS:
        answers = []
        for id in (999_999, 99_999_999_999, LARGEST_ID + 1):
            await budi.send("/start")
            payload = kind(*(id if field is ID else _plain(field) for field in kind.fields))
            answers.append(await budi.send_payload(payload))
        assert answers[0] == answers[1] == answers[2], kind
    for link, not_found in (("p", "produk itu sudah tidak tersedia"), ("m", "Toko itu tidak")):
        found = [await budi.send(f"/start {link}_{id}") for id in (999_999, 99_999_999_999)]
        assert found[0] == found[1] and not_found in found[1][0].text, link


def _plain(field: Any) -> Any:
    """A well-formed value of a field that is not an id: a number, a rank key, a Friday, or
    the first of its words."""
    for text in ("1", "0:0:1", "20261127", field.regex.split("|")[0].replace("\\", "")):
        if re.fullmatch(field.regex, text):
            return field.read(text)
    raise AssertionError(f"no plain value for {field}")


@pytest.fixture
async def jbl(database_url: str, clock: Clock, tg: FakeTelegram) -> AsyncIterator[Running]:
    async with running_jbl(database_url, clock, tg) as running:
        yield running


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(id_text=HOSTILE_IDS, kind=st.sampled_from(["p_", "m_", "p:", "m:", "a:", "o:", "mo:"]))
async def test_telegram_deep_links_and_presses_with_any_id_get_an_answer(
    jbl: Running, tg: FakeTelegram, caplog: pytest.LogCaptureFixture, id_text: str, kind: str
) -> None:
    budi: TelegramUser = tg.user(1001, "Budi", language_code="id")
    welcome = await budi.wait_for_reply(budi.send("/start"))
    before = await snapshot(jbl.app)
    if kind.endswith("_"):
        # What Telegram sends when someone opens t.me/<bot>?start=<kind><id>.
        answer = await budi.wait_for_reply(budi.send(f"/start {kind}{id_text}"))
    else:
        suffix = ":1" if kind == "a:" else ""
        answer = await budi.wait_for_reply(
            budi.press_data(f"{kind}{id_text}{suffix}", welcome.message_id)
        )
    assert answer.text and "gangguan" not in answer.text
    assert await snapshot(jbl.app) == before
    assert not tracebacks(caplog)


async def test_twilio_status_callbacks_with_any_row_or_error_code_change_nothing(
    app: App, twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    """Signed by Twilio, but naming a row or an error code no column can hold."""
    channel = WhatsappChannel(whatsapp_settings(twilio), app.conversation, app.whatsapp_replies)
    before = await snapshot(app)
    async with (
        LocalServer(build_web(app.engine, [channel], None, channel)) as server,
        httpx.AsyncClient(base_url=server.url) as client,
        _started(channel),
    ):
        for row, code in (
            ("99999999999", "63016"),
            ("\u00b2", "63016"),
            ("-1", "63016"),
            ("1", "\u00b2"),
            ("1", "99999999999"),
        ):
            form = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed", "ErrorCode": code}
            path = f"/whatsapp/status?row={quote(row)}"
            signature = twilio.signature(f"{PUBLIC_URL}{path}", form)
            answer = await client.post(path, data=form, headers={"X-Twilio-Signature": signature})
            assert answer.status_code == 204, (row, code)
    assert await snapshot(app) == before
    assert not tracebacks(caplog)


@contextlib.asynccontextmanager
async def _started(channel: WhatsappChannel) -> AsyncIterator[None]:
    await channel.start()
    try:
        yield
    finally:
        await channel.stop()
        await channel.close()


@pytest.mark.parametrize(
    "args",
    [
        ("merchant", "invite", "99999999999"),
        ("merchant", "list", "99999999999"),
        ("merchant", "remove-operator", "99999999999", "console:ani"),
        ("links", "product", "99999999999", "--bot", "jbl_bot"),
        ("links", "merchant", "-99999999999", "--bot", "jbl_bot"),
    ],
)
def test_a_command_given_an_id_no_column_can_hold_says_so_in_one_line(
    args: tuple[str, ...], database_url: str, tmp_path: Path
) -> None:
    result = run_jbl(*args, database_url=database_url, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith("is out of range"), result.stderr
    assert "Traceback" not in result.stderr
