"""Twenty buyers confirm at the same moment for the last five units."""

from __future__ import annotations

import asyncio

from tests import db
from tests.dialogs import add_to_cart, summary_for_pickup
from tests.people import Chatter

BUYERS = 20
UNITS = 5


async def test_exactly_the_stock_is_sold_when_buyers_race(app) -> None:
    await db.set_product(app, "Madu Hitam Pahit 350 g", stock=UNITS)
    buyers = [Chatter(app, f"console:buyer{n}") for n in range(BUYERS)]
    for buyer in buyers:
        await add_to_cart(buyer, "madu hitam", "Madu Hitam")
        await summary_for_pickup(buyer, name=f"Pembeli {buyer.identity}")
    confirms = [buyer.button("Pesan sekarang") for buyer in buyers]

    await asyncio.gather(*(b.send_payload(c) for b, c in zip(buyers, confirms, strict=True)))

    placed = [b for b in buyers if "Terima kasih" in b.text]
    refused = [b for b in buyers if "Stok Madu Hitam Pahit 350 g tidak cukup: tinggal 0." in b.text]
    assert len(placed) == UNITS
    assert len(refused) == BUYERS - UNITS
    orders = await db.orders(app)
    assert len(orders) == UNITS
    assert (await db.product(app, "Madu Hitam Pahit 350 g")).stock == 0
