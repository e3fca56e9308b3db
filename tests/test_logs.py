"""`jbl run`'s log as an operator collects it: with `[log] format = "json"` every line on
standard error is one JSON object, each message handled is a line naming its channel, a hash of
who sent it, its id and how long it took, and no token or phone number is written in clear."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from tests.fake_telegram import FakeTelegram
from tests.fake_twilio import FakeTwilio
from tests.processes import jbl, jbl_env
from tests.telegram_bot import TOKEN, free_port
from tests.whatsapp_bot import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SENDER

BUDI = "+6281234567890"
# A Telegram user id of the length real ones have.
TELEGRAM_USER = 734562881


async def chat_on_both(
    database_url: str, tmp_path: Path, tg: FakeTelegram, twilio: FakeTwilio, log_format: str
) -> tuple[str, int]:
    """Runs `jbl run` with both channels, a person writes on each, and it is stopped: its
    standard error, and the Telegram message's update id."""
    port = free_port()
    env = jbl_env(
        database_url,
        JBL_TELEGRAM__TOKEN=TOKEN,
        JBL_TELEGRAM__API_BASE_URL=tg.base_url,
        JBL_WHATSAPP__ACCOUNT_SID=ACCOUNT_SID,
        JBL_WHATSAPP__AUTH_TOKEN=AUTH_TOKEN,
        JBL_WHATSAPP__FROM_NUMBER=SENDER,
        JBL_WHATSAPP__PUBLIC_URL=PUBLIC_URL,
        JBL_WHATSAPP__API_BASE_URL=twilio.base_url,
        JBL_HTTP__PORT=str(port),
        JBL_LOG__FORMAT=log_format,
    )
    init = await jbl("db", "init", "--demo", env=env, cwd=tmp_path)
    assert await asyncio.wait_for(init.wait(), 60) == 0
    twilio.connect(f"http://127.0.0.1:{port}", PUBLIC_URL)
    process = await jbl("run", env=env, cwd=tmp_path)
    try:
        budi_tg = tg.user(TELEGRAM_USER, "Budi")
        update_id = budi_tg.send("/start")
        welcome = await budi_tg.wait_for_reply(update_id, timeout=60)
        assert "Selamat datang" in (welcome.text or "")
        budi_wa = twilio.user(BUDI, "Budi")
        stamp = await budi_wa.send("/bantuan")
        assert "Cara memakai" in (await budi_wa.wait_for_reply(stamp, timeout=60)).text
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return err.decode(), update_id


def assert_nothing_in_clear(output: str) -> None:
    secrets = (TOKEN, TOKEN.split(":")[1], AUTH_TOKEN)
    people = (str(TELEGRAM_USER), BUDI, BUDI.removeprefix("+"), SENDER.split(":")[1])
    for clear in (*secrets, *people):
        assert clear not in output, clear


async def test_json_logs_have_a_line_per_message_and_no_secret_or_person_in_clear(
    database_url: str, tmp_path: Path, tg: FakeTelegram, twilio: FakeTwilio
) -> None:
    output, update_id = await chat_on_both(database_url, tmp_path, tg, twilio, "json")

    lines = [json.loads(line) for line in output.splitlines()]
    assert all(isinstance(line, dict) and line["message"] for line in lines), output
    assert any(line["message"] == "telegram: @jbl_test_bot up (polling)" for line in lines)
    handled = {line["channel"]: line for line in lines if line.get("message_id")}
    assert set(handled) == {"telegram", "whatsapp"}, output
    on_telegram, on_whatsapp = handled["telegram"], handled["whatsapp"]
    assert on_telegram["message_id"] == str(update_id)
    assert on_whatsapp["message_id"].startswith("SM")
    for line in (on_telegram, on_whatsapp):
        assert line["logger"] == "bot.messages" and line["outcome"] == "answered"
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
        assert len(line["identity_hash"]) == 12
    assert on_telegram["identity_hash"] != on_whatsapp["identity_hash"]
    assert_nothing_in_clear(output)


async def test_text_logs_name_no_secret_or_person_in_clear_either(
    database_url: str, tmp_path: Path, tg: FakeTelegram, twilio: FakeTwilio
) -> None:
    output, _ = await chat_on_both(database_url, tmp_path, tg, twilio, "text")

    assert "INFO bot.telegram.channel: telegram: @jbl_test_bot up (polling)" in output
    # The WhatsApp sender's own number is named by its hash too.
    assert "INFO bot.whatsapp.channel: whatsapp: whatsapp:#" in output
    # A terminal gets no line per message.
    assert "bot.messages" not in output
    assert_nothing_in_clear(output)
