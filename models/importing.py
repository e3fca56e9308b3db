"""Staff's files written into the catalog: merchants matched by their Jakpreneur id, products by
their merchant and SKU, a batch at a time in the caller's unit of work. A row that is the same as
what is stored changes nothing, so importing a file again writes nothing; a dry run finds the
same outcomes and writes nothing at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Category, Merchant, Product, search_text_for


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # The row is refused; `Written.errors` says why, as a text key.
    REFUSED = "refused"


@dataclass(frozen=True)
class MerchantFields:
    """A merchant as staff's file gives it, checked already (areas known, phone in +62)."""

    jakpreneur_id: str
    name: str
    owner_name: str | None
    contact_phone: str | None
    kota: str
    kecamatan: str
    kelurahan: str | None
    address: str
    pickup: bool
    delivery: bool
    description: str


@dataclass(frozen=True)
class ProductFields:
    """A product as staff's file gives it, checked already (price above 0, stock 0 or more)."""

    jakpreneur_id: str
    sku: str
    name: str
    # The category's slug, or its Indonesian or English name, in any case.
    category: str
    price: int
    unit: str
    stock: int
    description: str
    photo_url: str | None
    curated: bool


@dataclass
class Written:
    """What a batch did, row by row: its outcome, and for a refused row the text key of why."""

    outcomes: list[Outcome]
    errors: dict[int, str]


# The columns a merchant's row sets, all of them compared to tell an update from no change.
_MERCHANT_COLUMNS = tuple(field.name for field in fields(MerchantFields))
_PRODUCT_COLUMNS = ("name", "price", "unit", "stock", "description", "photo_url", "curated")


async def write_merchants(
    session: AsyncSession, rows: Sequence[MerchantFields], now: datetime, *, dry_run: bool
) -> Written:
    """Creates or updates each merchant by its Jakpreneur id. A phone that another merchant
    has (or an earlier row of the batch) is refused: a phone names one shop."""
    ids = [row.jakpreneur_id for row in rows]
    stored = {
        merchant.jakpreneur_id: merchant
        for merchant in await session.scalars(
            select(Merchant).where(Merchant.jakpreneur_id.in_(ids))
        )
    }
    phones = {row.contact_phone for row in rows if row.contact_phone}
    phone_owner = {
        phone: jakpreneur_id
        for phone, jakpreneur_id in await session.execute(
            select(Merchant.contact_phone, Merchant.jakpreneur_id).where(
                Merchant.contact_phone.in_(phones)
            )
        )
    }
    written = Written([], {})
    for number, row in enumerate(rows):
        owner = phone_owner.get(row.contact_phone) if row.contact_phone else None
        if row.contact_phone and row.contact_phone in phone_owner and owner != row.jakpreneur_id:
            written.outcomes.append(Outcome.REFUSED)
            written.errors[number] = "import_phone_taken"
            continue
        if row.contact_phone:
            phone_owner[row.contact_phone] = row.jakpreneur_id
        merchant = stored.get(row.jakpreneur_id)
        if merchant is None:
            written.outcomes.append(Outcome.CREATED)
            if not dry_run:
                merchant = Merchant(**_values(row, _MERCHANT_COLUMNS), created_at=now)
                session.add(merchant)
                stored[row.jakpreneur_id] = merchant
            continue
        changed = _changed(merchant, row, _MERCHANT_COLUMNS)
        written.outcomes.append(Outcome.UPDATED if changed else Outcome.UNCHANGED)
        if changed and not dry_run:
            renamed = "name" in changed
            for name in changed:
                setattr(merchant, name, getattr(row, name))
            if renamed:
                await _search_texts_of(session, merchant)
    await session.flush()
    return written


async def write_products(
    session: AsyncSession, rows: Sequence[ProductFields], now: datetime, *, dry_run: bool
) -> Written:
    """Creates or updates each product by its merchant's Jakpreneur id and its SKU. A row of a
    merchant not imported yet, or of a category jbl does not have, is refused."""
    merchants = {
        merchant.jakpreneur_id: merchant
        for merchant in await session.scalars(
            select(Merchant).where(Merchant.jakpreneur_id.in_({row.jakpreneur_id for row in rows}))
        )
    }
    categories = _categories(list(await session.scalars(select(Category))))
    keys = [
        (merchants[row.jakpreneur_id].id, row.sku) for row in rows if row.jakpreneur_id in merchants
    ]
    stored = {
        (product.merchant_id, product.sku): product
        for product in await session.scalars(
            select(Product).where(tuple_(Product.merchant_id, Product.sku).in_(keys))
        )
    } if keys else {}  # fmt: skip
    written = Written([], {})
    for number, row in enumerate(rows):
        merchant = merchants.get(row.jakpreneur_id)
        category = categories.get(row.category.casefold())
        if merchant is None or category is None:
            written.outcomes.append(Outcome.REFUSED)
            unknown = "import_unknown_merchant" if merchant is None else "import_unknown_category"
            written.errors[number] = unknown
            continue
        product = stored.get((merchant.id, row.sku))
        search_text = search_text_for(row.name, merchant.name, category)
        if product is None:
            written.outcomes.append(Outcome.CREATED)
            if not dry_run:
                product = Product(
                    merchant_id=merchant.id,
                    category_id=category.id,
                    sku=row.sku,
                    **_values(row, _PRODUCT_COLUMNS),
                    active=True,
                    recent_sold=0,
                    search_text=search_text,
                    created_at=now,
                )
                session.add(product)
                stored[(merchant.id, row.sku)] = product
            continue
        changed = _changed(product, row, _PRODUCT_COLUMNS)
        moved = product.category_id != category.id
        written.outcomes.append(Outcome.UPDATED if changed or moved else Outcome.UNCHANGED)
        if (changed or moved) and not dry_run:
            for name in changed:
                setattr(product, name, getattr(row, name))
            product.category_id = category.id
            product.search_text = search_text
    await session.flush()
    return written


def _values(row: MerchantFields | ProductFields, columns: Sequence[str]) -> dict[str, object]:
    return {name: getattr(row, name) for name in columns}


def _changed(
    stored: Merchant | Product, row: MerchantFields | ProductFields, columns: Sequence[str]
) -> list[str]:
    return [name for name in columns if getattr(stored, name) != getattr(row, name)]


def _categories(categories: list[Category]) -> dict[str, Category]:
    """Each category by its slug and its names, folded: files name them either way."""
    named: dict[str, Category] = {}
    for category in categories:
        for name in (category.slug, category.name_id, category.name_en):
            named[name.casefold()] = category
    return named


async def _search_texts_of(session: AsyncSession, merchant: Merchant) -> None:
    """A renamed merchant's products are found by its new name."""
    for product in await session.scalars(select(Product).where(Product.merchant_id == merchant.id)):
        product.search_text = search_text_for(product.name, merchant.name, product.category)
