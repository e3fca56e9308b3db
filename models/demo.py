"""Reference data every database needs, and the deterministic demo catalog."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.areas import is_known_area
from models.catalog import Category, Merchant, Product, search_text_for
from models.friday import edition_date, plan_rotation
from models.people import Identity, Person, Role

DEMO_CATALOG = Path(__file__).parent / "data" / "demo_catalog.json"

# The program's four weekly categories, in the order the Fridays rotate through them.
CATEGORIES = (
    ("makanan-minuman", "Makanan & Minuman", "Food & Drinks"),
    ("fesyen-kerajinan", "Fesyen & Kerajinan", "Fashion & Crafts"),
    ("makanan-berat-rumah-tangga", "Makanan Berat & Produk Rumah Tangga", "Meals & Household"),
    ("produk-kesehatan", "Produk Kesehatan", "Health Products"),
)
DEMO_WEEKS = 12
# The demo's merchant operator, so `jbl chat --as penjual` shows the merchant's side.
DEMO_OPERATOR = "console:penjual"


async def ensure_categories(session: AsyncSession) -> None:
    existing = set(await session.scalars(select(Category.slug)))
    for rotation, (slug, name_id, name_en) in enumerate(CATEGORIES):
        if slug not in existing:
            session.add(Category(slug=slug, name_id=name_id, name_en=name_en, rotation=rotation))
    await session.flush()


async def load_demo(session: AsyncSession, today: date, now: datetime) -> bool:
    """Loads the demo catalog once; returns False when the database already has merchants."""
    if await session.scalar(select(func.count()).select_from(Merchant)):
        return False
    await ensure_categories(session)
    categories = {c.slug: c for c in await session.scalars(select(Category))}
    catalog = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    merchants = []
    for entry in catalog["merchants"]:
        if not is_known_area(entry["kota"], entry["kecamatan"]):
            raise ValueError(f"demo merchant {entry['key']}: unknown kecamatan")
        merchant = Merchant(
            name=entry["name"],
            kota=entry["kota"],
            kecamatan=entry["kecamatan"],
            kelurahan=entry["kelurahan"],
            contact_phone=entry["contact_phone"],
            created_at=now,
        )
        session.add(merchant)
        merchants.append(merchant)
        for item in entry["products"]:
            category = categories[item["category"]]
            session.add(
                Product(
                    merchant=merchant,
                    category=category,
                    name=item["name"],
                    description=item["description"],
                    price=item["price"],
                    stock=item["stock"],
                    unit=item["unit"],
                    photo_url=item["photo_url"],
                    active=True,
                    curated=item["curated"],
                    recent_sold=0,
                    search_text=search_text_for(item["name"], entry["name"], category),
                    created_at=now,
                )
            )
    await session.flush()
    operator = Person(display_name="Penjual Demo", language="id", created_at=now)
    session.add(operator)
    await session.flush()
    session.add(Identity(identity=DEMO_OPERATOR, person_id=operator.id, last_seen_at=now))
    session.add(Role(person_id=operator.id, role="merchant", merchant_id=merchants[0].id))
    await plan_rotation(session, edition_date(today), DEMO_WEEKS)
    return True
