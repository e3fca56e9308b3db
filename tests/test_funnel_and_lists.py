"""Staff see how each Friday's broadcast led to orders, and which products of a category sell
on its Fridays and which do not (the input for demotion): in `/laporan`, in `jbl report`'s
table and lists, and on the spreadsheet's summary.

Health Products is the featured category on 4 September, 2 October, 30 October and 27
November 2026 (the rotation). People order through their chats on those Fridays and on 20
November, which featured another category; only 27 November had a broadcast."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from bot.bootstrap import App
from bot.cli.curate import curate
from bot.cli.staff import add_staff
from handlers.reports.workbook import write_workbook
from handlers.results import kota_names
from models.broadcasts import DONE
from models.catalog import Category, Merchant, Product
from models.curation import Decision
from models.files import StoredFile
from models.results import Figures, Funnel, Period, Report, Row, Scope, Summary
from models.uow import UnitOfWork
from tests import db
from tests.conftest import Clock
from tests.db import add_operator
from tests.dialogs import add_to_cart, new_product_in_chat, order_for_pickup
from tests.people import Chatter
from tests.test_broadcast import fire_friday_job
from tests.test_cli_and_console import run_jbl
from tests.test_cli_errors import assert_one_line
from tests.test_laporan import count as stored

# Tuesday 1 September 2026, 10:00 in Jakarta: the demo catalog is listed then.
SEPTEMBER_1 = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)
# Fridays at 10:00 in Jakarta.
SEPTEMBER_4, OCTOBER_2, OCTOBER_30, NOVEMBER_20, NOVEMBER_27 = (
    datetime(2026, month, day, 3, 0, tzinfo=UTC)
    for month, day in ((9, 4), (10, 2), (10, 30), (11, 20), (11, 27))
)
# The broadcast goes out at 07:00 in Jakarta.
NOVEMBER_27_7AM = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
# The Tuesday after: last Friday is 27 November.
DECEMBER_1 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)

KUNYIT = ("Kunyit Asam", "Jamu Kunyit Asam 500")  # Jamu Gendong Mbok Darmi, Rp18.000
KENCUR = ("Beras Kencur", "Jamu Beras Kencur")  # Jamu Gendong Mbok Darmi, Rp18.000
HUTAN = ("Madu Hutan", "Madu Hutan Liar")  # Madu Hutan Pak Slamet, Rp125.000
KELENGKENG = ("Kelengkeng", "Madu Kelengkeng")  # Madu Hutan Pak Slamet, Rp75.000
HITAM = ("Madu Hitam", "Madu Hitam Pahit")  # Madu Hutan Pak Slamet, Rp110.000
KAYU_PUTIH = ("Kayu Putih", "Minyak Kayu Putih")  # Toko Herbal Sehat Semanan, Rp45.000
# Their Health Products are hidden, to keep the lists short enough to read here.
HIDDEN_SHOPS = (
    "Sabun Rumahan Ancol Bersih",
    "Jamu Racik Bu Warsih",
    "Lilin Aroma Wangi Cibubur",
)


@pytest.fixture
def clock() -> Clock:
    return Clock(SEPTEMBER_1)


async def _order(
    clock: Clock, chatter: Chatter, at: datetime, *lines: tuple[tuple[str, str], int]
) -> None:
    clock.now = at
    for (query, label), quantity in lines:
        await add_to_cart(chatter, query, label, quantity)
    await order_for_pickup(chatter)


@pytest.fixture
async def season(app: App, clock: Clock) -> App:
    """Budi, Sari and Dewi subscribe and buy Health Products through the autumn; Mbok Darmi
    lists a new jamu on 15 September, after the category's first Friday, that nobody buys."""
    async with UnitOfWork(app.sessions) as uow:
        health = select(Category.id).where(Category.slug == "produk-kesehatan")
        hidden = select(Merchant.id).where(Merchant.name.in_(HIDDEN_SHOPS))
        await uow.session.execute(
            update(Product)
            .where(Product.category_id.in_(health), Product.merchant_id.in_(hidden))
            .values(active=False)
        )
        darmi_shop = await uow.session.scalar(
            select(Merchant.id).where(Merchant.name == "Jamu Gendong Mbok Darmi")
        )
        await uow.commit()
    assert darmi_shop is not None
    budi, sari, dewi = (Chatter(app, f"console:{name}") for name in ("budi", "sari", "dewi"))
    for person in (budi, sari, dewi):
        await person.send("/langganan")

    await _order(clock, budi, SEPTEMBER_4, (HUTAN, 2))
    clock.now = SEPTEMBER_1 + timedelta(days=14)
    await add_operator(app, darmi_shop, "console:darmi")
    darmi = Chatter(app, "console:darmi")
    await new_product_in_chat(darmi, "Jamu Kunyit Sirih Botol", "Produk Kesehatan", "22rb")
    assert "Produk baru tersimpan" in darmi.text
    jamu = await db.product(app, "Jamu Kunyit Sirih Botol")
    await curate(app, Decision.APPROVE, jamu.id, None)
    await _order(clock, sari, OCTOBER_2, (KUNYIT, 3), (KELENGKENG, 1))
    await _order(clock, budi, OCTOBER_30, (HUTAN, 1), (KAYU_PUTIH, 4))
    await _order(clock, dewi, NOVEMBER_20, (HITAM, 4))

    clock.now = NOVEMBER_27_7AM
    assert len(await fire_friday_job(app)) == 1
    for person in (budi, sari):  # Dewi's chat never takes hers
        [_broadcast] = await person.read_notices()
    await budi.press("Buka Produk")
    assert "Produk Kesehatan — pilih produk" in budi.text
    await _order(clock, budi, NOVEMBER_27, (KUNYIT, 1), (KELENGKENG, 2))
    await _order(clock, sari, NOVEMBER_27 + timedelta(hours=1), (KENCUR, 5))
    await sari.send("/pesanan")
    await sari.choose(sari.labels[0])  # the newest order first
    assert "Jamu Beras Kencur" in sari.text
    await sari.choose("Batalkan pesanan")
    await sari.choose("Ya, batalkan")
    assert "dibatalkan" in sari.text
    clock.now = DECEMBER_1
    return app


# Units first; of equal units, the larger omzet.
BEST = [
    ("Minyak Kayu Putih Asli Buru 60 ml", "Toko Herbal Sehat Semanan", 4, 180_000, 1),
    ("Jamu Kunyit Asam 500 ml", "Jamu Gendong Mbok Darmi", 4, 72_000, 2),
    ("Madu Hutan Liar 500 g", "Madu Hutan Pak Slamet", 3, 375_000, 2),
    ("Madu Kelengkeng 250 g", "Madu Hutan Pak Slamet", 3, 225_000, 2),
]
# By id: Beras Kencur's only order was cancelled, Madu Hitam Pahit sold only on a Friday of
# another category; the new jamu is not there, listed after the first of the Fridays.
UNSOLD = [
    ("Jamu Beras Kencur 500 ml", "Jamu Gendong Mbok Darmi"),
    ("Jamu Sinom 500 ml", "Jamu Gendong Mbok Darmi"),
    ("Wedang Uwuh Seduh isi 10", "Jamu Gendong Mbok Darmi"),
    ("Madu Hitam Pahit 350 g", "Madu Hutan Pak Slamet"),
    ("Madu Propolis Sachet isi 20", "Madu Hutan Pak Slamet"),
    ("Bee Pollen 100 g", "Madu Hutan Pak Slamet"),
    ("Minyak Telon Lavender 100 ml", "Toko Herbal Sehat Semanan"),
    ("Jahe Merah Instan 250 g", "Toko Herbal Sehat Semanan"),
    ("Temulawak Bubuk 200 g", "Toko Herbal Sehat Semanan"),
    ("Masker Kain 3 Ply isi 5", "Konveksi Karet Jaya"),
    ("Masker Kain Motif Batik Anak isi 3", "Konveksi Karet Jaya"),
    ("Hand Sanitizer Spray 60 ml", "Konveksi Karet Jaya"),
]


def _jbl(app: App, tmp_path: Path, *args: str) -> str:
    result = run_jbl("report", *args, database_url=app.settings.database.url, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return result.stdout


# ---- the broadcast funnel ------------------------------------------------------------------


async def test_last_fridays_report_shows_how_its_broadcast_led_to_orders(season: App) -> None:
    await add_staff(season, "console:ana")
    ana = Chatter(season, "console:ana")
    await ana.send("/laporan")
    summary, _, _ = await ana.press("Jumat lalu")
    # Three subscribers; Dewi's delivery is still waiting. Budi pressed the button; Budi and
    # Sari ordered after it arrived (Sari's order was cancelled, but she ordered).
    assert (
        "Toko dengan penjualan: 2\n\n"
        "📣 Siaran Jumat: 3 penerima (masih dikirim)\n"
        "Terkirim: 2 (67%)\n"
        "Dibaca (dilaporkan WhatsApp): 0\n"
        "Membuka katalog dari tombol siaran: 1 (33%)\n"
        "Memesan dalam 48 jam: 2 (67%)\n\n"
        "Spreadsheet di bawah"
    ) in summary.text

    await ana.press("📊 Laporan lain")
    summary, _, _ = await ana.press("4 Jumat terakhir")
    assert (
        "📣 Siaran Jumat (persentase dari penerima):\n"
        "6 Nov 2026: tidak ada siaran\n"
        "13 Nov 2026: tidak ada siaran\n"
        "20 Nov 2026: tidak ada siaran\n"
        "27 Nov 2026: 3 penerima · 2 terkirim (67%) · 0 dibaca · 1 buka katalog (33%)"
        " · 2 memesan (67%) (masih dikirim)\n\n"
    ) in summary.text

    # A kota's report leaves the broadcast out: it went to subscribers wherever they live.
    summary, _, _ = await ana.press("Jakarta Pusat")
    assert summary.text.startswith("📊 6 November 2026 s.d. 27 November 2026\nJakarta Pusat\n")
    assert "📣" not in summary.text


async def test_jbl_report_prints_each_fridays_funnel_after_the_total(
    season: App, tmp_path: Path
) -> None:
    lines = _jbl(season, tmp_path, "--friday", "2026-11-27", "--format", "table").splitlines()
    total = next(n for n, line in enumerate(lines) if line.startswith("total"))
    assert [line.split() for line in lines[total + 1 :]] == [
        [],
        ["broadcast", "recipients", "delivered", "read", "(WhatsApp)", "pressed", "ordered",
         "in", "48h"],
        ["2026-11-27", "3", "2", "(67%)", "0", "1", "(33%)", "2", "(67%)", "still", "sending"],
    ]  # fmt: skip

    lines = _jbl(
        season, tmp_path, "--from", "2026-11-06", "--to", "2026-11-27", "--format", "table"
    ).splitlines()
    total = next(n for n, line in enumerate(lines) if line.startswith("total"))
    assert [line.split(maxsplit=1) for line in lines[total + 3 :]] == [
        ["2026-11-06", "no broadcast"],
        ["2026-11-13", "no broadcast"],
        ["2026-11-20", "no broadcast"],
        ["2026-11-27", "3    2 (67%)                0  1 (33%)         2 (67%)  still sending"],
    ]
    # A range without a Friday, or one kota, has no broadcast to show.
    lines = _jbl(
        season, tmp_path, "--from", "2026-11-23", "--to", "2026-11-26", "--format", "table"
    )
    assert "broadcast" not in lines
    pusat = _jbl(
        season, tmp_path, "--kota", "Jakarta Pusat", "--friday", "2026-11-27", "--format", "table"
    )
    assert "broadcast" not in pusat


async def test_the_spreadsheets_summary_lists_each_fridays_broadcast_below_the_chart(
    season: App, tmp_path: Path
) -> None:
    args = ("--from", "2026-11-06", "--to", "2026-11-27", "--format", "xlsx")
    assert _jbl(season, tmp_path, *args, "--output", "laporan.xlsx") == ""
    summary = openpyxl.load_workbook(tmp_path / "laporan.xlsx")["Ringkasan"]
    rows = [row for row in summary.iter_rows(values_only=True)]
    title = next(n for n, row in enumerate(rows) if row[0] == "Siaran Jumat")
    assert title == [row[0] for row in rows].index("Produk terjual") + 2
    assert rows[title + 1][0].startswith("Persentase dari penerima.")
    assert rows[title + 2] == (
        "Jumat", "Penerima", "Terkirim", "% penerima", "Dibaca (WhatsApp)", "Membuka katalog",
        "% penerima", "Memesan dalam 48 jam", "% penerima", "Keterangan",
    )  # fmt: skip
    fridays = [row[:10] for row in rows[title + 3 : title + 7]]
    assert fridays[:3] == [
        ("Jumat, 6 November 2026", "tidak ada siaran", *[None] * 8),
        ("Jumat, 13 November 2026", "tidak ada siaran", *[None] * 8),
        ("Jumat, 20 November 2026", "tidak ada siaran", *[None] * 8),
    ]
    day, recipients, delivered, delivered_share, read, pressed, pressed_share, ordered, *rest = (
        fridays[3]
    )
    assert (day, recipients, delivered, read, pressed, ordered) == (
        "Jumat, 27 November 2026", 3, 2, 0, 1, 2,
    )  # fmt: skip
    shares = (delivered_share, pressed_share, rest[0])
    assert shares == (pytest.approx(2 / 3), pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert rest[1] == "masih dikirim"
    # The 27 November row, its share delivered (openpyxl counts from 1).
    assert summary.cell(title + 7, 4).number_format == "0%"


# ---- best sellers and products without a sale, from the command line ------------------------


async def test_jbl_report_lists_a_categorys_best_sellers_over_its_last_editions(
    season: App, tmp_path: Path
) -> None:
    printed = _jbl(
        season, tmp_path, "--list", "best", "--friday", "2026-11-27", "--format", "table"
    )
    lines = printed.splitlines()
    assert lines[0] == (
        "Best sellers of Health Products (produk-kesehatan), last 4 editions:"
        " 2026-09-04, 2026-10-02, 2026-10-30, 2026-11-27"
    )
    assert lines[2].split() == ["#", "product", "merchant", "units", "omzet", "orders"]
    shown = [[cell.strip() for cell in line.split("  ") if cell.strip()] for line in lines[3:]]
    assert shown == [
        [str(rank), name, merchant, str(units), f"Rp{omzet:,}".replace(",", "."), str(orders)]
        for rank, (name, merchant, units, omzet, orders) in enumerate(BEST, start=1)
    ]

    # CSV, with the category by its name; on two editions only November's orders count.
    printed = _jbl(
        season, tmp_path, "--list", "best", "--category", "produk KESEHATAN", "--editions", "2",
        "--friday", "2026-11-27",
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(printed)))
    assert rows[0] == ["rank", "product_id", "product", "merchant", "units", "omzet", "orders"]
    assert [row[2:] for row in rows[1:]] == [
        ["Minyak Kayu Putih Asli Buru 60 ml", "Toko Herbal Sehat Semanan", "4", "180000", "1"],
        ["Madu Kelengkeng 250 g", "Madu Hutan Pak Slamet", "2", "150000", "1"],
        ["Madu Hutan Liar 500 g", "Madu Hutan Pak Slamet", "1", "125000", "1"],
        ["Jamu Kunyit Asam 500 ml", "Jamu Gendong Mbok Darmi", "1", "18000", "1"],
    ]


async def test_the_number_of_editions_comes_from_the_settings_unless_given(
    season: App, tmp_path: Path
) -> None:
    def listed(*args: str, editions: str) -> subprocess.CompletedProcess[str]:
        return run_jbl(
            "report", "--list", "best", "--friday", "2026-11-27", *args,
            database_url=season.settings.database.url, cwd=tmp_path,
            extra_env={"JBL_REPORTS__EDITIONS": editions},
        )  # fmt: skip

    two = listed(editions="2").stdout
    assert two == listed("--editions", "2", editions="4").stdout != listed(editions="4").stdout
    refused = listed(editions="53")
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "jbl: setting reports.editions (JBL_REPORTS__EDITIONS): "
        "Input should be less than or equal to 52"
    ]


async def test_jbl_report_lists_the_products_without_a_sale_to_demote(
    season: App, tmp_path: Path
) -> None:
    printed = _jbl(
        season, tmp_path, "--list", "unsold", "--friday", "2026-11-27", "--format", "table"
    )
    lines = printed.splitlines()
    assert lines[0] == (
        "Products without a sale in Health Products (produk-kesehatan), last 4 editions:"
        " 2026-09-04, 2026-10-02, 2026-10-30, 2026-11-27: 12 products"
    )
    shown = [[cell.strip() for cell in line.split("  ") if cell.strip()][1:] for line in lines[3:]]
    assert shown == [list(row) for row in UNSOLD]

    # A name typed as a formula reaches the CSV as text.
    async with UnitOfWork(season.sessions) as uow:
        await uow.session.execute(
            update(Product).where(Product.name == "Jamu Sinom 500 ml").values(name="=1+1 Sinom")
        )
        await uow.commit()
    output = tmp_path / "turunkan.csv"
    args = ("--list", "unsold", "--friday", "2026-11-27", "--output", str(output))
    assert _jbl(season, tmp_path, *args) == ""
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert [(row["product"], row["merchant"]) for row in rows] == [
        ("'=1+1 Sinom" if name == "Jamu Sinom 500 ml" else name, merchant)
        for name, merchant in UNSOLD
    ]
    assert all(row["product_id"].isdigit() for row in rows)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--list", "top"], ["--list top", "--list unsold or --list demoted"]),
        (
            ["--list", "best", "--category", "kesehatan"],
            ["no category named 'kesehatan'", "did you mean produk-kesehatan?", "makanan-minuman"],
        ),
        (["--list", "best", "--editions", "0"], ["--editions 0", "from 1 to 52"]),
        (["--list", "best", "--editions", "53"], ["--editions 53", "from 1 to 52"]),
        (["--list", "best", "--editions", "empat"], ["--editions empat", "whole number"]),
        (["--list", "best", "--format", "png"], ["table or csv", "--format png"]),
        (["--list", "unsold", "--format", "xlsx"], ["table or csv", "--format xlsx"]),
        (["--list", "unsold", "--kota", "Jakarta Pusat"], ["drop --kota"]),
        (["--list", "best", "--by", "merchant"], ["drop --by"]),
        (
            ["--list", "best", "--from", "2026-11-01", "--to", "2026-11-30"],
            ["give --friday, not a range"],
        ),
        (["--list", "best", "--friday", "2026-11-26"], ["Thursday, not a Friday"]),
        (["--category", "produk-kesehatan"], ["--category go with --list"]),
        (["--editions", "4", "--friday", "2026-11-27"], ["--editions go with --list"]),
    ],
    ids=lambda value: " ".join(value) if isinstance(value[0], str) and "-" in value[0] else "",
)
async def test_a_list_asked_for_badly_gets_one_line_and_writes_nothing(
    season: App, tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    output = tmp_path / "out.csv"
    result = run_jbl(
        "report", *args, "--output", str(output), database_url=season.settings.database.url,
        cwd=tmp_path,
    )  # fmt: skip
    assert_one_line(result, *expected)
    assert result.stdout == ""
    assert not output.exists()


# ---- best sellers and products without a sale, in chat -------------------------------------


async def test_staff_see_last_fridays_best_sellers_and_page_through_what_did_not_sell(
    season: App,
) -> None:
    await add_staff(season, "console:ana")
    ana = Chatter(season, "console:ana")
    await ana.send("/laporan")
    assert "kategori Jumat lalu (Produk Kesehatan)" in ana.text
    await ana.press("🏆 Terlaris")
    assert ana.text == (
        "🏆 Terlaris — Produk Kesehatan\n"
        "4 edisi terakhir: 4 Sep 2026, 2 Okt 2026, 30 Okt 2026, 27 Nov 2026\n\n"
        "1. Minyak Kayu Putih Asli Buru 60 ml — Toko Herbal Sehat Semanan: 4 unit · Rp180.000\n"
        "2. Jamu Kunyit Asam 500 ml — Jamu Gendong Mbok Darmi: 4 unit · Rp72.000\n"
        "3. Madu Hutan Liar 500 g — Madu Hutan Pak Slamet: 3 unit · Rp375.000\n"
        "4. Madu Kelengkeng 250 g — Madu Hutan Pak Slamet: 3 unit · Rp225.000"
    )
    assert ana.labels == ["📉 Belum laku", "📊 Laporan lain", "🏠 Menu"]

    await ana.press("📉 Belum laku")
    head, listed = ana.text.split(":\n\n")
    assert head == (
        "📉 Belum laku — Produk Kesehatan\n"
        "4 edisi terakhir: 4 Sep 2026, 2 Okt 2026, 30 Okt 2026, 27 Nov 2026\n\n"
        "12 produk tanpa penjualan pada edisi-edisi ini, bahan untuk diturunkan."
        " Halaman 1 dari 2"
    )
    expected = [f"{n}. {name} — {shop}" for n, (name, shop) in enumerate(UNSOLD, start=1)]
    assert listed.splitlines() == expected[:10]
    assert ana.labels == ["Berikutnya ▶️", "🏆 Terlaris", "📊 Laporan lain", "🏠 Menu"]
    await ana.press("Berikutnya")
    assert "Halaman 2 dari 2:\n\n" in ana.text
    assert ana.text.split(":\n\n")[1].splitlines() == expected[10:]
    assert ana.labels == ["◀️ Sebelumnya", "🏆 Terlaris", "📊 Laporan lain", "🏠 Menu"]

    # A page beyond the last shows the last; a forged date or a Friday to come, the menu.
    await ana.send_payload("rp:20261127:nosale:9999")
    assert "Halaman 2 dari 2:" in ana.text
    await ana.send_payload("rp:20261127:nosale:0")
    assert "Halaman 1 dari 2:" in ana.text
    for forged in ("rp:20261126:top", "rp:20261399:top", "rp:20261211:nosale:1"):
        await ana.send_payload(forged)
        assert ana.text.startswith("📊 Laporan Jumat Beli Lokal"), forged

    # In English; and a Friday of another category, whose lists are its own.
    await ana.send("/language")
    await ana.press("English")
    await ana.send_payload("rp:20261120:top")
    assert ana.text == (
        "🏆 Best sellers — Meals & Household\n"
        "Last 4 editions: 28 Aug 2026, 25 Sep 2026, 23 Oct 2026, 20 Nov 2026\n\n"
        "Nothing sold in these editions yet."
    )
    # Its products were all listed after 28 August.
    await ana.send_payload("rp:20261120:nosale:1")
    assert ana.text.endswith(
        "every product listed since the first of these editions sold at"
        " least once, and newer products are not counted yet."
    )
    assert ana.labels == ["🏆 Best sellers", "📊 Another report", "🏠 Menu"]


async def test_products_listed_after_the_first_edition_are_not_called_unsold_yet(
    season: App,
) -> None:
    await add_staff(season, "console:ana")
    ana = Chatter(season, "console:ana")
    # Up to 4 September, the category's editions go back to June, before the demo's
    # products were listed on 1 September: none of them can be called unsold yet.
    await ana.send_payload("rp:20260904:nosale:1")
    assert ana.text == (
        "📉 Belum laku — Produk Kesehatan\n"
        "4 edisi terakhir: 12 Jun 2026, 10 Jul 2026, 7 Agu 2026, 4 Sep 2026\n\n"
        "Tidak ada produk tanpa penjualan: setiap produk yang sudah tampil sejak edisi pertama"
        " itu terjual setidaknya sekali, dan produk yang lebih baru belum dihitung."
    )
    await ana.send_payload("rp:20260904:top")
    assert ana.text.endswith(
        "\n\n1. Madu Hutan Liar 500 g — Madu Hutan Pak Slamet: 2 unit · Rp250.000"
    )


async def test_anyone_else_pressing_the_list_buttons_is_told_the_command_is_unknown(
    season: App,
) -> None:
    budi = Chatter(season, "console:budi")
    for forged in ("rp:20261127:top", "rp:20261127:nosale:1", "rp:20261127:nosale:2"):
        await budi.send_payload(forged)
        assert budi.text.startswith("Perintah /laporan tidak dikenal"), forged
        assert "Madu" not in budi.text and "Terlaris" not in budi.text
    assert await stored(season, StoredFile) == 0


def test_the_broadcast_block_starts_below_the_chart_of_all_six_kota() -> None:
    kota = [Row(name, Figures(units=n, omzet=n * 10_000)) for n, name in enumerate(kota_names(), 1)]
    funnels = [Funnel(date(2026, 11, 20)), Funnel(date(2026, 11, 27), 10, 9, 4, 3, 1, DONE, True)]
    period = Period.fridays(date(2026, 11, 27), 2)
    report = Report(period, Scope(), lambda: Summary(period, Scope(), Figures(), kota, [], funnels))
    buffer = io.BytesIO()
    write_workbook(buffer, report, "en")
    summary = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Summary"]
    [chart] = summary._charts
    title = next(row for row in summary.iter_rows() if row[0].value == "Friday broadcast")
    # openpyxl counts rows from 1, the chart's anchor from 0.
    assert title[0].row - 1 > chart.anchor.to.row
    rows = list(summary.iter_rows(min_row=title[0].row + 3, values_only=True))
    assert [row[:10] for row in rows] == [
        ("Friday, 20 November 2026", "no broadcast", *[None] * 8),
        ("Friday, 27 November 2026", 10, 9, 0.9, 4, 3, 0.3, 1, 0.1, None),
    ]
