"""What doesn't sell sinks: the nightly job judges last Friday's category once, and a product
of it without a sale over its last two editions, while others sold, goes after every other
product in the catalog and in search, out of the broadcast's picks; one sale or a pin lifts it.

The demo catalog is listed on Thursday 1 October 2026. Health Products is featured on
2 October, 30 October and 27 November (the rotation): judged the night after 27 November, its
last two editions are 30 October and 27 November."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.bootstrap import App
from bot.cli.curate import curate
from models.catalog import Category, Merchant, Product
from models.curation import Decision
from models.demotion import DemotionRun
from models.friday import set_edition
from models.uow import UnitOfWork
from scheduler.jobs import demote_unsold_products
from scheduler.setup import ranking_job
from tests import db
from tests.conftest import Clock, job_context
from tests.db import add_operator
from tests.dialogs import add_to_cart, new_product_in_chat, order_for_pickup
from tests.people import Chatter
from tests.test_broadcast import preview_of, staff_member
from tests.test_cli_and_console import run_jbl
from tests.test_import_writing import JOKO, SAMBAL, SARI, merchants
from tests.test_import_writing import products as import_products

# Thursday 1 October 2026, 10:00 in Jakarta: the demo catalog is listed.
LISTED = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
# Friday 30 October, 10:00 in Jakarta: the first of the two editions judged.
OCTOBER_30 = datetime(2026, 10, 30, 3, 0, tzinfo=UTC)
# The edges of the second, Friday 27 November, in Jakarta (UTC+7).
FRIDAY_23_59 = datetime(2026, 11, 27, 16, 59, tzinfo=UTC)
SATURDAY_00_01 = datetime(2026, 11, 27, 17, 1, tzinfo=UTC)
# When the nightly job runs the night after: 02:00 on Saturday in Jakarta.
SATURDAY_2AM = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
NOVEMBER_27 = date(2026, 11, 27)

HUTAN = ("Madu Hutan", "Madu Hutan Liar")
KUNYIT = ("Kunyit Asam", "Jamu Kunyit Asam 500")
KENCUR = ("Beras Kencur", "Jamu Beras Kencur")
KENCUR_NAME = "Jamu Beras Kencur 500 ml"
HEALTH = "produk-kesehatan"


@pytest.fixture
def clock() -> Clock:
    return Clock(LISTED)


async def _order(clock: Clock, chatter: Chatter, at: datetime, item: tuple[str, str]) -> None:
    clock.now = at
    await add_to_cart(chatter, *item)
    await order_for_pickup(chatter)


async def _nightly_job(app: App, clock: Clock, at: datetime) -> None:
    """The nightly job as the scheduler runs it, at `at`."""
    clock.now = at
    await ranking_job(job_context(app))


async def _health(app: App) -> list[Product]:
    async with UnitOfWork(app.sessions) as uow:
        found = list(
            await uow.session.scalars(
                select(Product)
                .join(Category, Category.id == Product.category_id)
                .where(Category.slug == HEALTH)
                .order_by(Product.id)
            )
        )
        uow.session.expunge_all()
        return found


async def _demoted(app: App) -> set[str]:
    return {product.name for product in await _health(app) if product.demoted}


@pytest.fixture
async def sold(app: App, clock: Clock) -> App:
    """Budi buys forest honey on 30 October; Sari buys kunyit asam at 23:59 on 27 November
    and Dewi beras kencur at 00:01 the next day, a minute after that edition ended."""
    await _order(clock, Chatter(app, "console:budi"), OCTOBER_30, HUTAN)
    await _order(clock, Chatter(app, "console:sari"), FRIDAY_23_59, KUNYIT)
    await _order(clock, Chatter(app, "console:dewi"), SATURDAY_00_01, KENCUR)
    return app


@pytest.fixture
async def judged(sold: App, clock: Clock) -> App:
    await _nightly_job(sold, clock, SATURDAY_2AM)
    return sold


async def test_the_night_after_friday_what_did_not_sell_over_two_editions_is_demoted(
    judged: App,
) -> None:
    health = await _health(judged)
    expected = {
        p.name
        for p in health
        if not p.curated
        and p.name not in ("Madu Hutan Liar 500 g", "Jamu Kunyit Asam 500 ml")  # sold
    }
    # An order at 23:59 on Friday counts; one at 00:01 on Saturday is too late for it.
    assert KENCUR_NAME in expected and len(expected) == 17
    assert await _demoted(judged) == expected
    assert {p.demoted_on for p in health if p.demoted} == {NOVEMBER_27}
    # Pinned products are never demoted, and nothing of the other categories is.
    async with UnitOfWork(judged.sessions) as uow:
        demoted = await uow.session.scalar(
            select(Product.id).where(Product.demoted, Product.curated).limit(1)
        )
        others = await uow.session.scalar(
            select(Product.id)
            .join(Category, Category.id == Product.category_id)
            .where(Product.demoted, Category.slug != HEALTH)
            .limit(1)
        )
        [run] = list(await uow.session.scalars(select(DemotionRun)))
    assert demoted is None and others is None
    assert (run.friday, run.demoted) == (NOVEMBER_27, 17)


async def test_the_job_demotes_once_per_friday_however_often_or_late_it_fires(
    sold: App, clock: Clock
) -> None:
    # Not on Saturday night: jbl was down. It runs on Monday, and judges 27 November still.
    monday = SATURDAY_2AM + timedelta(days=2)
    await _nightly_job(sold, clock, monday)
    assert len(await _demoted(sold)) == 17
    # The beras kencur sells on Monday: lifted at once.
    await _order(clock, Chatter(sold, "console:budi"), monday + timedelta(hours=3), KENCUR)
    assert KENCUR_NAME not in await _demoted(sold)
    # Fired again that day and every night up to Friday: 27 November is done, nothing changes.
    for night in range(5):
        clock.now = monday + timedelta(hours=4, days=night)
        assert await demote_unsold_products(sold.sessions, clock, 2, sold.settings.timezone) is None
        await _nightly_job(sold, clock, monday + timedelta(days=night))
    assert len(await _demoted(sold)) == 16
    assert KENCUR_NAME not in await _demoted(sold)
    async with UnitOfWork(sold.sessions) as uow:
        runs = list(await uow.session.scalars(select(DemotionRun)))
    assert [(run.friday, run.demoted) for run in runs] == [(NOVEMBER_27, 17)]


async def test_friday_is_judged_once_it_has_ended_in_jakarta(sold: App, clock: Clock) -> None:
    timezone = sold.settings.timezone
    # 23:30 on Friday in Jakarta (16:30 UTC): the Friday before is the last that ended.
    clock.now = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    judged = await demote_unsold_products(sold.sessions, clock, 2, timezone)
    assert judged is not None and judged.friday == date(2026, 11, 20)
    assert await _demoted(sold) == set()
    # 00:30 on Saturday in Jakarta, still Friday in UTC: 27 November is judged.
    clock.now = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)
    judged = await demote_unsold_products(sold.sessions, clock, 2, timezone)
    assert judged is not None and (judged.friday, judged.demoted) == (NOVEMBER_27, 17)


async def test_nothing_is_demoted_when_nothing_of_the_category_sold(app: App, clock: Clock) -> None:
    # A sale in another category does not count for Health Products.
    await _order(clock, Chatter(app, "console:budi"), FRIDAY_23_59, ("Kopi Luwak", "Kopi Luwak"))
    clock.now = SATURDAY_2AM
    judged = await demote_unsold_products(app.sessions, clock, 2, app.settings.timezone)
    assert judged is not None
    assert (judged.friday, judged.editions) == (NOVEMBER_27, [NOVEMBER_27, date(2026, 10, 30)])
    assert judged.demoted == 0
    assert await _demoted(app) == set()


async def test_a_product_newer_than_the_editions_is_not_demoted(sold: App, clock: Clock) -> None:
    # Mbok Darmi lists a new jamu on Tuesday 3 November, after the first edition judged.
    async with UnitOfWork(sold.sessions) as uow:
        darmi_shop = await uow.session.scalar(
            select(Merchant.id).where(Merchant.name == "Jamu Gendong Mbok Darmi")
        )
        await uow.commit()
    assert darmi_shop is not None
    clock.now = OCTOBER_30 + timedelta(days=4)
    await add_operator(sold, darmi_shop, "console:darmi")
    darmi = Chatter(sold, "console:darmi")
    await new_product_in_chat(darmi, "Jamu Kunyit Sirih Botol", "Produk Kesehatan", "22rb")
    await _nightly_job(sold, clock, SATURDAY_2AM)
    demoted = await _demoted(sold)
    assert "Jamu Kunyit Sirih Botol" not in demoted
    assert len(demoted) == 17


async def test_fewer_editions_than_asked_demote_nothing(sold: App, clock: Clock) -> None:
    # The night after 2 October: the demo was listed after the edition before (4 September).
    await _nightly_job(sold, clock, datetime(2026, 10, 2, 19, 0, tzinfo=UTC))
    assert await _demoted(sold) == set()


async def _walk(chatter: Chatter) -> list[list[str]]:
    """Every page of the open list, forward, as the product names of each page."""
    pages = []
    while True:
        pages.append([label.split(" · ")[0] for label in chatter.labels if "· Rp" in label])
        if not any("Berikutnya" in label for label in chatter.labels):
            return pages
        await chatter.choose("Berikutnya")


async def test_demoted_products_come_after_all_others_page_by_page(
    judged: App, clock: Clock
) -> None:
    # The beras kencur sells again: lifted, it ranks among the others, on the second page.
    await _order(clock, Chatter(judged, "console:budi"), SATURDAY_2AM + timedelta(hours=8), KENCUR)
    demoted = await _demoted(judged)
    assert len(demoted) == 16
    budi = Chatter(judged, "console:budi")
    await budi.send("/katalog")
    await budi.choose("Produk Kesehatan")
    forward = await _walk(budi)
    names = [name for page in forward for name in page]
    assert len(names) == len(set(names)) == 25
    assert [name in demoted for name in names] == [False] * 9 + [True] * 16
    # The first demoted product opens the second page, after the last of the others.
    assert [name in demoted for name in forward[1]] == [False] + [True] * 7
    # Back to the first page, one page at a time: the same pages.
    backward = [forward[-1]]
    while any("Sebelumnya" in label for label in budi.labels):
        await budi.choose("Sebelumnya")
        backward.append([label.split(" · ")[0] for label in budi.labels if "· Rp" in label])
    assert backward[::-1] == forward
    # Among the demoted, the catalog order holds: most sold first, then newest.
    ids = {p.name: p.id for p in await _health(judged)}
    tail = [ids[name] for name in names[9:]]
    assert tail == sorted(tail, reverse=True)


async def test_a_cursor_sent_before_demotion_still_reads_as_not_demoted(judged: App) -> None:
    budi = Chatter(judged, "console:budi")
    await budi.send("/katalog")
    await budi.choose("Produk Kesehatan")
    first = await _walk(budi)
    # A button of the old form (no mark), after the last product of the first page.
    [category_id] = {p.category_id for p in await _health(judged)}
    last = await db.product(
        judged, next(p.name for p in await _health(judged) if p.name.startswith(first[0][-1]))
    )
    old = f"c:{category_id}:n:{int(last.curated)}:{last.recent_sold}:{last.id}"
    await budi.send_payload(old)
    assert [label.split(" · ")[0] for label in budi.labels if "· Rp" in label] == first[1]
    # A demoted product's cursor carries the mark, and reads back.
    payload = budi.button("Berikutnya")
    assert payload.endswith(":d")
    await budi.send_payload(payload)
    assert [label.split(" · ")[0] for label in budi.labels if "· Rp" in label] == first[2]


async def test_search_ranks_demoted_products_last(judged: App) -> None:
    budi = Chatter(judged, "console:budi")
    await budi.send("/cari jamu")
    names = [name for page in await _walk(budi) for name in page]
    demoted = await _demoted(judged)
    assert any(name in demoted for name in names) and not all(name in demoted for name in names)
    flags = [name in demoted for name in names]
    assert flags == sorted(flags), names
    assert len(names) == len(set(names))


async def test_a_sale_at_checkout_and_a_pin_lift_the_demotion(judged: App, clock: Clock) -> None:
    assert KENCUR_NAME in await _demoted(judged)
    await _order(clock, Chatter(judged, "console:sari"), SATURDAY_2AM + timedelta(hours=5), KENCUR)
    kencur = await db.product(judged, KENCUR_NAME)
    assert (kencur.demoted, kencur.demoted_on) == (False, None)

    # Staff pin the wedang uwuh: lifted by the next night's job at the latest.
    await db.set_product(judged, "Wedang Uwuh Seduh isi 10", curated=True)
    await _nightly_job(judged, clock, SATURDAY_2AM + timedelta(days=1))
    wedang = await db.product(judged, "Wedang Uwuh Seduh isi 10")
    assert (wedang.demoted, wedang.curated) == (False, True)
    assert len(await _demoted(judged)) == 15


async def test_a_pin_in_staffs_import_file_lifts_the_demotion_at_once(app: App) -> None:
    await merchants(app, SARI, JOKO)
    await import_products(app, replace(SAMBAL, curated=False))
    await db.set_product(app, SAMBAL.name, demoted=True, demoted_on=NOVEMBER_27)
    # A file that changes something else leaves it demoted; one that pins it lifts it.
    await import_products(app, replace(SAMBAL, curated=False, stock=11))
    assert (await db.product(app, SAMBAL.name)).demoted
    await import_products(app, SAMBAL)
    sambal = await db.product(app, SAMBAL.name)
    assert (sambal.curated, sambal.demoted, sambal.demoted_on) == (True, False, None)


async def test_demoted_products_are_left_out_of_the_broadcasts_picks(
    judged: App, clock: Clock
) -> None:
    # Staff feature Health Products again on 4 December; of the rest only two are shown.
    kept = ("Madu Hutan Liar 500 g", "Jamu Kunyit Asam 500 ml")
    async with UnitOfWork(judged.sessions) as uow:
        health = await uow.session.scalar(select(Category).where(Category.slug == HEALTH))
        assert health is not None
        await set_edition(uow.session, date(2026, 12, 4), health, None)
        await uow.session.execute(
            update(Product)
            .where(Product.category_id == health.id, ~Product.demoted, Product.name.not_in(kept))
            .values(active=False)
        )
        await uow.commit()
    clock.now = SATURDAY_2AM + timedelta(days=2)
    ana = await staff_member(judged)
    await ana.send("/siaran")
    preview = preview_of(ana.text)
    assert "Madu Hutan Liar" in preview and "Jamu Kunyit Asam 500" in preview
    for name in await _demoted(judged):
        assert name not in preview, name


async def test_the_merchant_sees_in_stok_that_a_product_is_demoted_and_why(
    judged: App,
) -> None:
    async with UnitOfWork(judged.sessions) as uow:
        darmi_shop = await uow.session.scalar(
            select(Merchant.id).where(Merchant.name == "Jamu Gendong Mbok Darmi")
        )
    assert darmi_shop is not None
    await add_operator(judged, darmi_shop, "console:darmi")
    darmi = Chatter(judged, "console:darmi")
    await darmi.send("/stok")
    lines = darmi.text.splitlines()
    kencur = next(n for n, line in enumerate(lines) if line.startswith("Jamu Beras Kencur"))
    assert lines[kencur + 1] == (
        "   📉 Turun ke bawah katalog sejak Jumat, 27 November 2026: tidak laku selama"
        " 2 Jumat terakhir kategorinya, padahal produk lain laku. Satu penjualan"
        " menaikkannya lagi."
    )
    # What sold, and what is pinned, carries no such line.
    kunyit = next(n for n, line in enumerate(lines) if line.startswith("Jamu Kunyit Asam"))
    sinom = next(n for n, line in enumerate(lines) if line.startswith("Jamu Sinom"))
    assert "📉" not in lines[kunyit + 1] and "📉" not in lines[sinom + 1]

    await darmi.send("/language")
    await darmi.press("English")
    await darmi.send("/stok")
    assert (
        "   📉 Moved to the bottom of the catalog since Friday, 27 November 2026: no sale over"
        " its category's last 2 Fridays while other products sold. One sale lifts it."
    ) in darmi.text.splitlines()


async def test_jbl_report_lists_the_demoted_products(judged: App, tmp_path: Path) -> None:
    url = judged.settings.database.url
    listed = run_jbl(
        "report", "--list", "demoted", "--format", "csv", database_url=url, cwd=tmp_path
    )
    assert (listed.returncode, listed.stderr) == (0, "")
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert {row["product"] for row in rows} == await _demoted(judged)
    assert {(row["category"], row["since"]) for row in rows} == {(HEALTH, "2026-11-27")}
    kencur = next(row for row in rows if row["product"] == KENCUR_NAME)
    assert kencur["merchant"] == "Jamu Gendong Mbok Darmi"

    table = run_jbl(
        "report", "--list", "demoted", "--category", "Health Products", "--format", "table",
        database_url=url, cwd=tmp_path,
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "Demoted products of Health Products (produk-kesehatan)"
    assert lines[-1] == "17 demoted products"
    assert any(KENCUR_NAME in line and "2026-11-27" in line for line in lines)

    # Another category has none; options that make no sense for it are refused.
    food = run_jbl(
        "report", "--list", "demoted", "--category", "makanan-minuman", "--format", "table",
        database_url=url, cwd=tmp_path,
    )  # fmt: skip
    assert food.stdout.splitlines()[-1] == "0 demoted products"
    refused = run_jbl(
        "report", "--list", "demoted", "--friday", "2026-11-27", database_url=url, cwd=tmp_path
    )
    assert refused.returncode == 2
    assert "--list demoted lists what is demoted now: drop --friday" in refused.stderr


async def test_staff_pinning_a_demoted_product_lifts_it_at_once(judged: App) -> None:
    wedang = await db.product(judged, "Wedang Uwuh Seduh isi 10")
    assert wedang.demoted
    await curate(judged, Decision.PIN, wedang.id, None)
    wedang = await db.product(judged, "Wedang Uwuh Seduh isi 10")
    assert (wedang.curated, wedang.demoted, wedang.demoted_on) == (True, False, None)
