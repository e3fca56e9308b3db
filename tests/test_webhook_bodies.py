"""Webhook bodies of every size and shape, with the right secret or signature, posted to the
real `jbl run` on 127.0.0.1: each gets its answer, no traceback, and the database is unchanged.
A body past the cap is refused before (Content-Length) or while (chunked) it is read."""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import urlencode

import httpx
import pytest

from bot.web import MAX_UPDATE
from bot.whatsapp.webhook import MAX_FORM
from models.chats import ProcessedMessage
from models.outbox import OutboxMessage
from models.people import Identity
from tests import db
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.telegram_bot import SECRET, Running, running_jbl
from tests.whatsapp_bot import running_whatsapp

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
NESTED = b'{"update_id": 5, "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"


async def raw_post(
    running: Running, path: str, headers: dict[str, str], body: bytes, *, finished: bool
) -> int:
    """Posts `body` as HTTP/1.1 chunks over a plain socket, with the closing chunk only if
    `finished`, and returns the status of the answer, which must come without the rest."""
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if "Content-Length" not in headers:
            head += "Transfer-Encoding: chunked\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        writer.write(head.encode() + b"\r\n")
        if "Content-Length" in headers:
            writer.write(body)
        else:
            for start in range(0, len(body), 16_384):
                chunk = body[start : start + 16_384]
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if finished:
                writer.write(b"0\r\n\r\n")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 30)
        return int(status_line.split()[1])
    finally:
        writer.close()


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


async def stored(running: Running) -> list[int]:
    """How many identities, handled messages and outbox rows the database holds."""
    return [await db.count(running.app, t) for t in (Identity, ProcessedMessage, OutboxMessage)]


async def test_telegram_webhook_bodies_of_every_size_and_shape_get_their_answer(
    database_url: str, clock: Clock, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    secret = {SECRET_HEADER: SECRET}
    as_json = secret | {"Content-Type": "application/json"}
    padded = json.dumps({"update_id": 9, "pad": "x" * MAX_UPDATE}).encode()
    shapes = {
        "empty": (b"", as_json, 400),
        "not JSON": (b"{", as_json, 400),
        "not UTF-8": b'{"update_id": 7, "x": "\xff\xfe"}',
        "a list": (b"[1, 2]", as_json, 400),
        "no update_id": (b'{"message": {}}', as_json, 400),
        "an update_id that is text": (b'{"update_id": "7"}', as_json, 400),
        "nested past the recursion limit": (NESTED[: MAX_UPDATE - 2] + b"]}", as_json, 400),
        "a message that is no message": (b'{"update_id": 8, "message": "hi"}', as_json, 400),
        "a wrong content type": (
            b'{"update_id": 10}',
            secret | {"Content-Type": "text/plain"},
            200,
        ),
        "nested, unknown field": (
            b'{"update_id": 11, "y": ' + b"[" * 500 + b"]" * 500 + b"}",
            as_json,
            200,
        ),
        "too long": (padded, as_json, 413),
    }
    async with running_jbl(database_url, clock, tg, webhook=True) as jbl:
        url = f"{jbl.base}/telegram/webhook"
        before = await stored(jbl)
        async with httpx.AsyncClient() as client:
            for name, shape in shapes.items():
                body, headers, status = shape if isinstance(shape, tuple) else (shape, as_json, 400)
                answer = await client.post(url, content=body, headers=headers)
                assert answer.status_code == status, name
        # Refused from the header, before the body is read: the client never sends it.
        declared = as_json | {"Content-Length": str(100_000_000)}
        assert await raw_post(jbl, "/telegram/webhook", declared, b"{", finished=False) == 413
        # Chunked, never finished: refused once the chunks read pass the cap.
        endless = b'{"update_id": 12, "pad": "' + b"x" * (MAX_UPDATE + 65_536)
        assert await raw_post(jbl, "/telegram/webhook", as_json, endless, finished=False) == 413
        # A chunked update within the cap is taken.
        small = json.dumps({"update_id": 13}).encode()
        assert await raw_post(jbl, "/telegram/webhook", as_json, small, finished=True) == 200
        assert await stored(jbl) == before
        assert_no_traceback(caplog)

        budi = tg.user(1001, "Budi")
        budi.send("/start")
        await tg.wait_for(lambda: tg.webhook_responses == [200], what="the webhook's 200")
        assert "Selamat datang" in (budi.bot_messages[-1].text or "")


async def test_twilio_bodies_of_every_size_and_shape_get_their_answer(
    database_url: str, clock: Clock, twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    async with running_whatsapp(database_url, clock, twilio) as jbl:
        before = await stored(jbl)
        budi = twilio.user("+6281234567890", "Budi")

        def signed(path: str, form: dict[str, str]) -> dict[str, str]:
            return form_type | {"X-Twilio-Signature": twilio.sign(path, form)}

        async with httpx.AsyncClient() as client:
            for path in ("/whatsapp/webhook", "/whatsapp/status?row=1"):
                url = f"{jbl.base}{path}"
                # An empty form, signed: nobody and no message, so nothing to do.
                empty = await client.post(url, content=b"", headers=signed(path, {}))
                assert empty.status_code == (200 if path == "/whatsapp/webhook" else 204), path
                broken = b"Body=%FF%FE&From=whatsapp%3A%2B6281234567890"
                not_utf8 = await client.post(url, content=broken, headers=signed(path, {}))
                assert not_utf8.status_code == 400, path
                huge = budi.form("x" * MAX_FORM)
                body = urlencode(huge).encode()
                too_long = await client.post(url, content=body, headers=signed(path, huge))
                assert too_long.status_code == 413, path
                # Unsigned: refused before anything is read.
                unsigned = await client.post(url, content=body, headers=form_type)
                assert unsigned.status_code == 403, path
        sign = signed("/whatsapp/webhook", {})
        declared = sign | {"Content-Length": str(100_000_000)}
        assert await raw_post(jbl, "/whatsapp/webhook", declared, b"", finished=False) == 413
        endless = b"Body=" + b"x" * (MAX_FORM + 65_536)
        assert await raw_post(jbl, "/whatsapp/webhook", sign, endless, finished=False) == 413
        assert await stored(jbl) == before
        assert_no_traceback(caplog)

        start = budi.form("/start")
        assert await twilio.post_webhook(start, twilio.sign("/whatsapp/webhook", start)) == 200
        assert "Selamat datang" in (await budi.wait_for_reply(0)).text
