"""The `jbl` command as an operator and a terminal user run it: real processes, real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.settings import SettingsError, load_settings
from models.catalog import Product
from models.people import Role
from models.uow import UnitOfWork
from tests.dialogs import order_for_pickup
from tests.people import Chatter

JBL = str(Path(sys.executable).parent / "jbl")


def run_jbl(
    *args: str,
    database_url: str,
    cwd: Path,
    stdin: str = "",
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    env |= {"JBL_DATABASE__URL": database_url, **(extra_env or {})}
    return subprocess.run(
        [JBL, *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_db_init_is_idempotent_and_loads_the_demo_once(database_url: str, tmp_path: Path) -> None:
    first = run_jbl("db", "init", "--demo", database_url=database_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "database ready" in first.stdout and "demo catalog loaded" in first.stdout
    again = run_jbl("db", "init", "--demo", database_url=database_url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "demo skipped" in again.stdout


def test_piped_console_chat_prints_replies_and_numbered_buttons(
    database_url: str, tmp_path: Path
) -> None:
    result = run_jbl(
        "chat",
        "--demo",
        "--as",
        "ani",
        database_url=database_url,
        cwd=tmp_path,
        stdin="/start\n1\n/cari madu hitam\n1\n1\n1\n",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Selamat datang di Jumat Beli Lokal!" in out
    assert "1. 🛍️ Katalog Jumat\n2. 🔎 Cari\n3. 📍 Dekat saya\n4. 🛒 Keranjang" in out
    assert "1. ⭐ " in out  # the featured category comes first
    assert "Madu Hitam Pahit 350 g\n🏪 " in out
    assert "✅ 1 × Madu Hitam Pahit 350 g masuk keranjang" in out
    assert "Total: Rp110.000" in out


async def test_a_merchant_operator_sees_new_orders_in_their_console(
    app, budi: Chatter, database_url: str, tmp_path: Path
) -> None:
    # The demo operator `penjual` runs the first demo merchant; Budi buys from that shop.
    operator_product = await _a_product_of_the_operators_shop(app)
    await budi.send_payload(f"a:{operator_product.id}:2")
    await order_for_pickup(budi)

    first = run_jbl("chat", "--as", "penjual", database_url=database_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "🔔 Pesanan baru #1 dari Budi Santoso (0812-3456-7890):" in first.stdout
    assert f"• {operator_product.name} — 2 ×" in first.stdout
    again = run_jbl("chat", "--as", "penjual", database_url=database_url, cwd=tmp_path)
    assert "Pesanan baru" not in again.stdout  # delivered once


async def _a_product_of_the_operators_shop(app: App) -> Product:
    async with UnitOfWork(app.sessions) as uow:
        merchant_id = await uow.session.scalar(
            select(Role.merchant_id).where(Role.role == "merchant")
        )
        product = await uow.session.scalar(
            select(Product).where(Product.merchant_id == merchant_id, Product.stock > 2)
        )
        assert product is not None
        uow.session.expunge_all()
        return product


def test_a_wrong_setting_stops_with_one_line_naming_it(database_url: str, tmp_path: Path) -> None:
    result = run_jbl(
        "db",
        "init",
        database_url=database_url,
        cwd=tmp_path,
        extra_env={"JBL_CATALOG__PAGE_SIZE": "50"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "jbl: setting catalog.page_size (JBL_CATALOG__PAGE_SIZE): "
        "Input should be less than or equal to 8"
    ]
    bad_url = run_jbl("db", "init", database_url="mysql://x", cwd=tmp_path)
    assert bad_url.returncode == 2
    assert "setting database.url (JBL_DATABASE__URL)" in bad_url.stderr


def test_a_bad_chat_name_is_refused(database_url: str, tmp_path: Path) -> None:
    result = run_jbl("chat", "--as", "no spaces!", database_url=database_url, cwd=tmp_path)
    assert result.returncode == 2
    assert "--as takes letters" in result.stderr


def test_environment_overrides_the_file_key_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_without_jbl: None
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[http]\nhost = "0.0.0.0"\nport = 9000\n[i18n]\ndefault_language = "en"\n')
    monkeypatch.setenv("JBL_HTTP__PORT", "9100")
    settings = load_settings(config)
    assert (settings.http.host, settings.http.port) == ("0.0.0.0", 9100)
    assert settings.i18n.default_language == "en"
    assert settings.database.url == "sqlite+aiosqlite:///jbl.db"


def test_broken_files_and_unknown_keys_are_named(tmp_path: Path, env_without_jbl: None) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[http\nport = 1")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(config)
    config.write_text("[http]\nprot = 1\n")
    with pytest.raises(SettingsError, match=r"setting http\.prot \(JBL_HTTP__PROT\)"):
        load_settings(config)
    config.write_text('[broadcast]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(SettingsError, match=r"broadcast\.timezone"):
        load_settings(config)
    config.write_text("[database]\npool_size = 0\n")
    with pytest.raises(SettingsError, match=r"database\.pool_size \(JBL_DATABASE__POOL_SIZE\)"):
        load_settings(config)


def test_the_shipped_config_file_is_valid(env_without_jbl: None) -> None:
    settings = load_settings(Path(__file__).parent.parent / "config.toml")
    assert settings.broadcast.timezone == "Asia/Jakarta"
    assert settings.telegram.token is None
