"""Staff read what the program sold: a Friday's orders placed through real chats on two
channels, in every state and on both sides of Jakarta's midnights, counted by hand here and
printed by `jbl report`."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.bootstrap import App
from bot.cli.report import last_friday
from handlers import payloads
from models.broadcasts import RUNNING, BroadcastPress
from models.catalog import Merchant
from models.ordering import Order, cancel_order, expire_waiting, move_order
from models.outbox import OutboxMessage
from models.people import person_of
from models.results import Dimension, Figures, Funnel, Period, Scope, funnel, results
from models.uow import UnitOfWork
from scheduler.jobs import refresh_ranking
from tests.conftest import Clock
from tests.db import add_operator, orders
from tests.dialogs import add_to_cart, order_for_pickup
from tests.people import Chatter
from tests.test_broadcast import FRIDAY_7AM, fire_friday_job
from tests.test_cli_and_console import run_jbl
from tests.test_cli_errors import assert_one_line

FRIDAY = date(2026, 11, 27)
# Jakarta is UTC+7: its Friday runs from Thursday 17:00 to Friday 17:00 UTC.
THURSDAY_2359 = datetime(2026, 11, 26, 16, 59, tzinfo=UTC)
FRIDAY_0001 = datetime(2026, 11, 26, 17, 1, tzinfo=UTC)
FRIDAY_2359 = datetime(2026, 11, 27, 16, 59, tzinfo=UTC)
SATURDAY_0001 = datetime(2026, 11, 27, 17, 1, tzinfo=UTC)
WIB = timedelta(hours=7)

KLEPON = ("Klepon", "Klepon Gula Merah")  # Kue Basah Ibu Ratna, Senen, Jakarta Pusat: Rp15.000
SAMBAL = ("Sambal Bawang", "Sambal Bawang Pedas")  # Mak Ijah, Menteng, Jakarta Pusat: Rp35.000
KOPI = ("Kopi Robusta", "Kopi Robusta Bubuk 250")  # Mbak Rini, Tebet, Jakarta Selatan: Rp45.000
KERIPIK = ("Keripik Singkong", "Keripik Singkong Pedas")  # Neng Lala, Cilandak: Rp18.000


async def _order(
    clock: Clock, chatter: Chatter, at: datetime, *lines: tuple[tuple[str, str], int]
) -> None:
    clock.now = at
    for (query, label), quantity in lines:
        await add_to_cart(chatter, query, label, quantity)
    await order_for_pickup(chatter)


async def _move(app: App, clock: Clock, order: Order, *moves: str) -> None:
    operator = f"console:op{order.merchant_id}"
    async with UnitOfWork(app.sessions) as uow:
        known = await person_of(uow.session, operator)
    if known is None:
        await add_operator(app, order.merchant_id, operator)
    async with UnitOfWork(app.sessions) as uow:
        person = await person_of(uow.session, operator)
        assert person is not None
        for move in moves:
            await move_order(uow.session, person, order.id, move, clock())
        await uow.commit()


@pytest.fixture
async def friday(app: App, clock: Clock) -> App:
    """Ani on the console, Budi and Cici on Telegram, ordering around Friday 27 November.

    On Jakarta's Friday: Ani 2 klepon (completed, 00:01) and 3 sambal (pending, 23:59); Budi
    1 sambal (confirmed) and 2 kopi (ready to collect) in one checkout, 1 klepon (expired); Cici 1
    keripik (rejected) and 1 kopi (cancelled). Outside it: Ani's klepon at Thursday 23:59
    (completed: she returns on Friday) and Budi's kopi at Saturday 00:01."""
    ani = Chatter(app, "console:ani")
    budi = Chatter(app, "telegram:1001")
    cici = Chatter(app, "telegram:1002")
    await _order(clock, ani, THURSDAY_2359, (KLEPON, 1))
    await _order(clock, ani, FRIDAY_0001, (KLEPON, 2))
    await _order(clock, budi, FRIDAY_0001 + timedelta(hours=10), (SAMBAL, 1), (KOPI, 2))
    await _order(clock, cici, FRIDAY_0001 + timedelta(hours=11), (KERIPIK, 1))
    await _order(clock, cici, FRIDAY_0001 + timedelta(hours=12), (KOPI, 1))
    await _order(clock, budi, FRIDAY_0001 + timedelta(hours=13), (KLEPON, 1))
    before, klepon, sambal, kopi, keripik, cancelled, expiring = await orders(app)
    clock.now = FRIDAY_0001 + timedelta(hours=14)
    await _move(app, clock, before, "confirm", "ready", "complete")
    await _move(app, clock, klepon, "confirm", "ready", "complete")
    await _move(app, clock, sambal, "confirm")
    await _move(app, clock, kopi, "confirm", "ready")
    await _move(app, clock, keripik, "reject")
    async with UnitOfWork(app.sessions) as uow:
        cici_person = await person_of(uow.session, "telegram:1002")
        assert cici_person is not None
        await cancel_order(uow.session, cici_person, cancelled.id, clock())
        clock.now = FRIDAY_0001 + timedelta(hours=20)
        assert await expire_waiting(uow.session, clock(), timedelta(hours=5)) == [expiring.id]
        await uow.commit()
    await _order(clock, ani, FRIDAY_2359, (SAMBAL, 3))
    await _order(clock, budi, SATURDAY_0001, (KOPI, 1))
    clock.now = SATURDAY_0001 + timedelta(hours=7)
    return app


async def test_the_orders_remember_the_channel_and_jakarta_day_they_were_placed_on(
    friday: App,
) -> None:
    placed = await orders(friday)
    assert [(o.channel, o.status, (o.created_at + WIB).strftime("%a %H:%M")) for o in placed] == [
        ("console", "completed", "Thu 23:59"),
        ("console", "completed", "Fri 00:01"),
        ("telegram", "confirmed", "Fri 10:01"),
        ("telegram", "ready", "Fri 10:01"),
        ("telegram", "rejected", "Fri 11:01"),
        ("telegram", "cancelled", "Fri 12:01"),
        ("telegram", "expired", "Fri 13:01"),
        ("console", "pending", "Fri 23:59"),
        ("telegram", "pending", "Sat 00:01"),
    ]


FRIDAY_TOTAL = Figures(
    placed=7,
    sold=4,
    completed=1,
    rejected=1,
    cancelled=1,
    expired=1,
    units=2 + 1 + 2 + 3,
    omzet=30_000 + 35_000 + 90_000 + 105_000,
    buyers=2,
    new_buyers=1,
    merchants_with_sale=3,
    products_sold=3,
)


async def test_a_friday_counts_what_was_sold_on_jakartas_friday_beside_what_was_lost(
    friday: App,
) -> None:
    async with friday.sessions() as session:
        found = await results(
            session, Period.friday(FRIDAY), Scope(), Dimension.KOTA, friday.settings.timezone
        )
    assert found.total == FRIDAY_TOTAL
    assert (found.total.lost, found.total.returning_buyers) == (3, 1)
    assert found.total.average_order_value == 65_000
    assert [(row.key, row.figures) for row in found.rows] == [
        (
            "Jakarta Pusat",
            Figures(4, 3, 1, 0, 0, 1, 6, 170_000, 2, 1, 2, 2),
        ),
        ("Jakarta Selatan", Figures(3, 1, 0, 1, 1, 0, 2, 90_000, 1, 1, 1, 1)),
    ]


async def test_a_day_range_takes_both_midnights_that_the_friday_leaves_out(friday: App) -> None:
    async with friday.sessions() as session:
        found = await results(
            session,
            Period(FRIDAY - timedelta(days=1), FRIDAY + timedelta(days=1)),
            Scope(),
            Dimension.CHANNEL,
            friday.settings.timezone,
        )
    assert (found.total.placed, found.total.sold, found.total.omzet) == (9, 6, 320_000)
    # Ani's Thursday order makes her new again: nothing sold to her before the range.
    assert (found.total.buyers, found.total.new_buyers) == (2, 2)
    assert [(row.key, row.figures.placed, row.figures.omzet) for row in found.rows] == [
        ("telegram", 6, 170_000),
        ("console", 3, 150_000),
    ]


def _report(app: App, tmp_path: Path, *args: str) -> str:
    result = run_jbl("report", *args, database_url=app.settings.database.url, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    return result.stdout


async def test_jbl_report_prints_a_friday_by_kota_as_a_table_in_rupiah(
    friday: App, tmp_path: Path
) -> None:
    printed = _report(friday, tmp_path, "--friday", "2026-11-27", "--format", "table")
    lines = printed.splitlines()
    assert lines[0] == "Friday 2026-11-27 (Health Products), Jakarta, by kota"
    assert lines[2].split() == [
        "kota",
        "placed",
        "sold",
        "completed",
        "lost",
        "units",
        "omzet",
        "buyers",
        "new",
        "returning",
        "avg",
        "order",
        "merchants",
        "products",
    ]
    assert lines[3].split() == [
        "Jakarta", "Pusat", "4", "3", "1", "1", "6", "Rp170.000", "2", "1", "1", "Rp56.666", "2",
        "2",
    ]  # fmt: skip
    assert lines[4].split() == [
        "Jakarta", "Selatan", "3", "1", "0", "2", "2", "Rp90.000", "1", "1", "0", "Rp90.000", "1",
        "1",
    ]  # fmt: skip
    assert lines[6].split() == [
        "total", "7", "4", "1", "3", "8", "Rp260.000", "2", "1", "1", "Rp65.000", "3", "3",
    ]  # fmt: skip
    # Nobody subscribed: the Friday had no broadcast, and says so rather than show zeros.
    assert [line.split(maxsplit=1) for line in lines[7:]] == [
        [],
        ["broadcast", "recipients  delivered  read (WhatsApp)  pressed  ordered in 48h"],
        ["2026-11-27", "no broadcast"],
    ]


async def test_jbl_report_writes_a_kotas_kecamatan_as_csv_to_a_file(
    friday: App, tmp_path: Path
) -> None:
    output = tmp_path / "selatan.csv"
    args = ("--friday", "2026-11-27", "--by", "kecamatan", "--kota", "jakarta SELATAN")
    assert _report(friday, tmp_path, *args, "--output", str(output)) == ""
    rows = list(csv.DictReader(io.StringIO(output.read_bytes().decode("utf-8"))))
    picked = ("level", "key", "parent", "placed", "sold", "lost", "units", "omzet", "new_buyers")
    assert [[row[name] for name in picked] for row in rows] == [
        ["total", "Jakarta Selatan", "", "3", "1", "2", "2", "90000", "1"],
        ["kecamatan", "Tebet", "Jakarta Selatan", "2", "1", "1", "2", "90000", "1"],
        ["kecamatan", "Cilandak", "Jakarta Selatan", "1", "0", "1", "0", "0", "0"],
    ]
    again = run_jbl(
        "report", *args, "--output", str(output), database_url=friday.settings.database.url,
        cwd=tmp_path,
    )  # fmt: skip
    assert_one_line(again, str(output), "exists", "--force")
    by_channel = (*args, "--by", "channel", "--output", str(output), "--force")
    assert _report(friday, tmp_path, *by_channel) == ""
    assert [line.split(",")[:2] for line in output.read_text().splitlines()[1:]] == [
        ["total", "Jakarta Selatan"],
        ["channel", "telegram"],
    ]


async def test_names_typed_as_formulas_reach_the_csv_as_text_and_a_shop_without_sale_is_listed(
    friday: App, tmp_path: Path
) -> None:
    async with UnitOfWork(friday.sessions) as uow:
        await uow.session.execute(
            update(Merchant)
            .where(Merchant.name == "Keripik Pedas Neng Lala")
            .values(name='=HYPERLINK("http://x")')
        )
        await uow.session.execute(
            update(Merchant).where(Merchant.name == "Sambal Dapur Mak Ijah").values(name="@Sambal")
        )
        await uow.commit()
    printed = _report(friday, tmp_path, "--friday", "2026-11-27", "--by", "merchant")
    rows = list(csv.reader(io.StringIO(printed)))
    assert [(row[1], row[2], row[5], row[12]) for row in rows[1:]] == [
        ("Jakarta", "", "4", "260000"),
        ("@Sambal".replace("@", "'@"), "Menteng", "2", "140000"),
        ("Kopi Tubruk Mbak Rini", "Tebet", "1", "90000"),
        ("Kue Basah Ibu Ratna", "Senen", "1", "30000"),
        ('\'=HYPERLINK("http://x")', "Cilandak", "0", "0"),
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--kota", "Jakarta Selatn"], ["no kota named", "did you mean Jakarta Selatan?"]),
        (["--kecamatan", "Tebett"], ["no kecamatan named", "did you mean Tebet?", "Cilandak"]),
        (
            ["--kota", "Jakarta Pusat", "--kecamatan", "Tebet"],
            ["no kecamatan in Jakarta Pusat", "Menteng"],
        ),
        (["--friday", "2026-11-25"], ["Wednesday, not a Friday", "Friday 2026-11-27"]),
        (["--friday", "27-11-2026"], ["YYYY-MM-DD"]),
        (["--from", "2026-11-27", "--to", "2026-11-20"], ["ends (2026-11-20) before it starts"]),
        (["--from", "2026-11-27"], ["both --from and --to"]),
    ],
    ids=lambda value: " ".join(value) if isinstance(value[0], str) and "-" in value[0] else "",
)
async def test_bad_input_gets_one_line_and_writes_nothing(
    friday: App, tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    output = tmp_path / "out.csv"
    result = run_jbl(
        "report", *args, "--output", str(output), database_url=friday.settings.database.url,
        cwd=tmp_path,
    )  # fmt: skip
    assert_one_line(result, *expected)
    assert result.stdout == ""
    assert not output.exists()


async def test_without_a_date_it_reports_the_last_friday_that_has_ended(
    friday: App, tmp_path: Path
) -> None:
    # The clock of the subprocess is the machine's: ask for the Friday the machine calls last.
    today = datetime.now(friday.settings.timezone).date()
    last = today - timedelta(days=(today.weekday() - 4) % 7 or 7)
    printed = _report(friday, tmp_path, "--format", "table")
    assert printed.startswith(f"Friday {last} (")
    assert last_friday(date(2026, 11, 28)) == FRIDAY
    assert last_friday(FRIDAY) == FRIDAY - timedelta(weeks=1)
    assert last_friday(date(2026, 12, 3)) == FRIDAY


async def test_the_funnel_counts_who_got_pressed_and_ordered_and_outlives_the_pruned_rows(
    app: App, clock: Clock
) -> None:
    budi, sari, dewi = (Chatter(app, f"console:{name}") for name in ("budi", "sari", "dewi"))
    for person in (budi, sari, dewi):
        await person.send("/langganan")
    clock.now = FRIDAY_7AM
    await fire_friday_job(app)
    for person in (budi, sari):
        [broadcast] = await person.read_notices()
    button = broadcast.buttons[0].payload
    assert payloads.BROADCAST_CATALOG.read(button) == (4, 1)
    # A button sent before presses were counted still opens the category, and counts nothing.
    await dewi.send_payload(payloads.CATEGORY(4))
    assert "Produk Kesehatan — pilih produk" in dewi.text
    for _ in range(2):
        await budi.send_payload(button)
        assert "Produk Kesehatan — pilih produk" in budi.text
    await sari.press("Buka Produk")
    clock.advance(timedelta(hours=47))
    await _order(clock, budi, clock(), (KLEPON, 1))
    clock.advance(timedelta(hours=2))
    await _order(clock, sari, clock(), (KLEPON, 1))  # too late to count for the broadcast
    async with app.sessions() as session:
        live = await funnel(session, FRIDAY, app.settings.timezone)
        presses = (await session.execute(select(BroadcastPress.person_id))).scalars().all()
    assert len(presses) == 2
    assert live == Funnel(
        FRIDAY,
        recipients=3,
        delivered=2,
        read=0,
        pressed=2,
        ordered=1,
        status=RUNNING,
        started=True,
    )
    clock.advance(timedelta(days=40))
    await refresh_ranking(app.sessions, app.clock)
    async with app.sessions() as session:
        kept = select(OutboxMessage.identity).where(OutboxMessage.broadcast_id.is_not(None))
        # Dewi's delivery was never taken, so it is kept; the delivered ones are pruned.
        assert (await session.execute(kept)).scalars().all() == ["console:dewi"]
        assert await funnel(session, FRIDAY, app.settings.timezone) == live
        assert await funnel(session, FRIDAY + timedelta(weeks=1), app.settings.timezone) == Funnel(
            FRIDAY + timedelta(weeks=1)
        )
