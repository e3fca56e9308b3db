"""On PostgreSQL a resident's browsing commits without waiting for the disk, and every
decision (an order placed or moved, a subscription, a staff action) still waits for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.bootstrap import App
from tests import db
from tests.conftest import PG_URL
from tests.dialogs import add_to_cart, order_for_pickup
from tests.people import Chatter

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="SQLite's WAL commits without a flush already: nothing to relax"
)


class Commits:
    """The `synchronous_commit` in force as each transaction of the app commits."""

    def __init__(self) -> None:
        self.settings: list[str] = []

    def __call__(self, connection: Any) -> None:
        shown = connection.exec_driver_sql("SELECT current_setting('synchronous_commit')")
        self.settings.append(shown.scalar())

    def taken(self) -> list[str]:
        taken, self.settings = self.settings, []
        return taken


@pytest.fixture
def commits(app: App) -> Iterator[Commits]:
    seen = Commits()
    event.listen(app.engine.sync_engine, "commit", seen)
    yield seen
    event.remove(app.engine.sync_engine, "commit", seen)


async def test_browsing_commits_without_the_flush(app: App, budi: Chatter, commits) -> None:
    await budi.send("/start")
    await budi.send("/katalog")
    await add_to_cart(budi, "kopi susu pandan", "Kopi Susu Pandan", 2)
    await budi.send("/keranjang")
    assert "Kopi Susu Pandan" in budi.text
    taken = commits.taken()
    assert taken and set(taken) == {"off"}


async def test_an_order_and_its_moves_wait_for_the_flush(app: App, budi: Chatter, commits) -> None:
    # A product of merchant 1, which the demo's "penjual" runs.
    product = next(p for p in await db.products(app) if p.merchant_id == 1)
    await budi.send(f"/start p_{product.id}")
    await budi.choose("Tambah 1")
    commits.taken()
    await order_for_pickup(budi)
    # The summary is browsing; "order now" places the order.
    assert commits.taken()[-1] == "on"

    penjual = Chatter(app, "console:penjual")
    await penjual.read_notices()
    commits.taken()
    await penjual.choose("Terima")
    assert "diterima" in penjual.text
    assert commits.taken() == ["on"]


async def test_a_subscription_waits_for_the_flush(app: App, budi: Chatter, commits) -> None:
    await budi.send("/langganan")
    assert "berlangganan" in budi.text
    assert commits.taken() == ["on"]
    await budi.send("/berhenti")
    assert commits.taken() == ["on"]
