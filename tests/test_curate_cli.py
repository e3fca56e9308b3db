"""`jbl curate` reviews products from the terminal as /kurasi does in chat, recorded as staff
actions of the terminal's user; misuse gets one clear line and changes nothing. And `jbl import
products --review` puts what it imports in the queue instead of the catalog."""

from __future__ import annotations

import getpass
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import App
from models.catalog import Review
from models.staff import StaffAction
from tests import db
from tests.people import Chatter
from tests.test_cli_and_console import run_jbl
from tests.test_cli_errors import assert_one_line
from tests.test_curation import OPERATOR, add_product, staff_actions
from tests.test_import_cli import MERCHANTS, PRODUCTS, jbl_import, write_csv
from tests.test_search import found


def jbl_curate(database_url: str, cwd: Path, *args: str) -> str:
    result = run_jbl("curate", *args, database_url=database_url, cwd=cwd)
    assert (result.returncode, "Traceback" in result.stderr) == (0, False), result.stderr
    return result.stdout


async def test_list_approve_reject_pin_and_unpin_from_the_terminal(
    app: App, database_url: str, tmp_path: Path, budi: Chatter
) -> None:
    penjual = Chatter(app, OPERATOR)
    await add_product(penjual, "Kue Bugis Ketan Hitam")
    await add_product(penjual, "Kue Nagasari Pisang")
    bugis = await db.product(app, "Kue Bugis Ketan Hitam")
    nagasari = await db.product(app, "Kue Nagasari Pisang")

    listed = jbl_curate(database_url, tmp_path, "list").splitlines()
    assert [line.split("\t")[:3] for line in listed] == [
        [str(bugis.id), "Kue Bugis Ketan Hitam", "Rp25.000"],
        [str(nagasari.id), "Kue Nagasari Pisang", "Rp25.000"],
    ]
    said = jbl_curate(database_url, tmp_path, "approve", str(bugis.id))
    assert said == f"product {bugis.id} (Kue Bugis Ketan Hitam): listed\n"
    jbl_curate(database_url, tmp_path, "reject", str(nagasari.id), "--note", "Foto bukan produk.")
    assert jbl_curate(database_url, tmp_path, "list") == "no product is waiting for review\n"

    await budi.send("/cari bugis")
    assert found(budi) == ["Kue Bugis Ketan Hitam"]
    await penjual.read_notices()
    assert "Kue Bugis Ketan Hitam sudah diperiksa staf" in penjual.text
    assert "Foto bukan produk." in penjual.text
    rejected = await db.product(app, "Kue Nagasari Pisang")
    assert (rejected.review_state, rejected.review_note) == (Review.REJECTED, "Foto bukan produk.")

    jbl_curate(database_url, tmp_path, "pin", str(bugis.id))
    assert (await db.product(app, "Kue Bugis Ketan Hitam")).curated
    jbl_curate(database_url, tmp_path, "unpin", str(bugis.id))
    unpinned = await db.product(app, "Kue Bugis Ketan Hitam")
    assert (unpinned.curated, unpinned.review_state) == (False, Review.LISTED)

    actions = await staff_actions(app)
    assert [a.action for a in actions] == [
        "curate_approve",
        "curate_reject",
        "curate_pin",
        "curate_unpin",
    ]
    assert {a.actor for a in actions} == {f"cli:{getpass.getuser()}"}


async def test_misuse_gets_one_line_and_changes_nothing(
    app: App, database_url: str, tmp_path: Path
) -> None:
    penjual = Chatter(app, OPERATOR)
    await add_product(penjual, "Kue Mangkok Gula Merah")
    waiting = await db.product(app, "Kue Mangkok Gula Merah")
    listed = (await db.products(app))[0]

    def curate(*args: str) -> str:
        return assert_one_line(run_jbl("curate", *args, database_url=database_url, cwd=tmp_path))

    assert "no product with id 99999" in curate("approve", "99999")
    assert "curate reject needs --note" in curate("reject", str(waiting.id))
    assert "curate changes needs --note" in curate("changes", str(waiting.id), "--note", "  ")
    assert "--note takes 1 to 500 characters" in curate(
        "approve", str(waiting.id), "--note", "x" * 501
    )
    assert f"product {listed.id} is listed already" in curate("approve", str(listed.id))
    assert f"product {waiting.id} is not pinned" in curate("unpin", str(waiting.id))
    assert "--limit takes a number of 1 or more" in curate("list", "--limit", "0")

    for args in (["promote", "1"], ["approve", "satu"], ["approve"], []):
        result = run_jbl("curate", *args, database_url=database_url, cwd=tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr, args
        assert result.stderr.splitlines()[-1].startswith("jbl curate"), result.stderr

    assert (await db.product(app, "Kue Mangkok Gula Merah")).review_state == Review.WAITING
    async with app.sessions() as session:
        assert not list(await session.scalars(select(StaffAction)))


async def test_an_import_with_review_puts_its_products_in_the_queue(
    app: App, database_url: str, tmp_path: Path, budi: Chatter
) -> None:
    jbl_import(database_url, tmp_path, "merchants", str(write_csv(tmp_path / "t.csv", MERCHANTS)))
    goods = write_csv(tmp_path / "produk.csv", PRODUCTS[:3])
    last = jbl_import(database_url, tmp_path, "products", str(goods), "--review")
    assert last == "products: 2 created, 0 updated, 0 unchanged, 0 in error"
    await budi.send("/cari sambal cakalang")
    assert "Sambal Cakalang Sari" not in found(budi)
    listed = jbl_curate(database_url, tmp_path, "list")
    assert "Sambal Cakalang Sari" in listed and "Abon Tongkol Sari" in listed

    # A price change needs no review; a new name does.
    sambal = await db.product(app, "Sambal Cakalang Sari")
    jbl_curate(database_url, tmp_path, "approve", str(sambal.id))
    changed = [PRODUCTS[0], [*PRODUCTS[1][:4], "36.000", "12"], PRODUCTS[2]]
    jbl_import(database_url, tmp_path, "products", str(write_csv(goods, changed)), "--review")
    assert (await db.product(app, "Sambal Cakalang Sari")).review_state == Review.LISTED
    renamed = [PRODUCTS[0], [*PRODUCTS[1][:2], "Sambal Cakalang Asli", *PRODUCTS[1][3:]]]
    jbl_import(database_url, tmp_path, "products", str(write_csv(goods, renamed)), "--review")
    assert (await db.product(app, "Sambal Cakalang Asli")).review_state == Review.WAITING


async def test_an_import_without_review_lists_at_once(
    app: App, database_url: str, tmp_path: Path, budi: Chatter
) -> None:
    jbl_import(database_url, tmp_path, "merchants", str(write_csv(tmp_path / "t.csv", MERCHANTS)))
    goods = write_csv(tmp_path / "produk.csv", PRODUCTS[:3])
    jbl_import(database_url, tmp_path, "products", str(goods))
    await budi.send("/cari sambal cakalang")
    assert "Sambal Cakalang Sari" in found(budi)
    assert jbl_curate(database_url, tmp_path, "list") == "no product is waiting for review\n"
