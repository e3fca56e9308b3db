"""`jbl chat` survives any one message, as `jbl run` does: the person is told something went
wrong, the log has the traceback once, and the chat goes on."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.bootstrap import App
from bot.console import ConsoleChat
from handlers.texts import text as wording
from tests.test_cli_and_console import run_jbl

SORRY = wording("id", "internal_error")


async def _rename(app: App, old: str, new: str) -> None:
    async with app.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_a_message_that_fails_is_answered_and_the_chat_goes_on(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    shown = io.StringIO()
    chat = ConsoleChat(app, "ani", shown)
    await chat.say("/start")
    # The catalog's table gone for one message: the catalog cannot be read.
    await _rename(app, "categories", "categories_away")
    try:
        await chat.say("/katalog")
    finally:
        await _rename(app, "categories_away", "categories")
    assert shown.getvalue().endswith(f"\n\n{SORRY}\n\n")
    failed = [record for record in caplog.records if record.exc_info]
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR
    await chat.say("/katalog")
    assert "Katalog Jumat Beli Lokal" in shown.getvalue().split(SORRY)[-1]


def test_jbl_chat_answers_a_link_to_a_product_no_column_can_hold(
    database_url: str, tmp_path: Path
) -> None:
    result = run_jbl(
        "chat",
        "--demo",
        database_url=database_url,
        cwd=tmp_path,
        stdin="/start p_99999999999\n/start m_99999999999\n/start\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Maaf, produk itu sudah tidak tersedia." in result.stdout
    assert "Toko itu tidak ditemukan." in result.stdout
    assert "Selamat datang" in result.stdout
    assert "Traceback" not in result.stderr and SORRY not in result.stdout
