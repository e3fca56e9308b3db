"""Staff's files written into the catalog: merchants matched by their Jakpreneur id, products by
their merchant and SKU, a batch at a time in the caller's unit of work. A row that is the same as
what is stored changes nothing, so importing a file again writes nothing; a dry run finds the
same outcomes and writes nothing at all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    any_,
    bindparam,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from models.catalog import (
    REVIEWED_COLUMNS,
    Category,
    Merchant,
    Product,
    Review,
    search_text_for,
)


class Kind(StrEnum):
    """What a file of staff's holds."""

    MERCHANTS = "merchants"
    PRODUCTS = "products"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    # The row is refused; `Written.errors` says why, as a text key.
    REFUSED = "refused"


@dataclass(frozen=True)
class MerchantRecord:
    """A merchant as staff's file gives it, checked (`handlers.import_rows`): areas known, phone
    in +62. None: the file does not say, so a stored merchant keeps what it has and a new one
    gets the default."""

    jakpreneur_id: str
    name: str
    phone: str | None
    kota: str
    kecamatan: str
    kelurahan: str | None
    owner_name: str | None
    address: str | None
    pickup: bool | None
    delivery: bool | None
    description: str | None


@dataclass(frozen=True)
class ProductRecord:
    """A product as staff's file gives it, checked: price above 0, stock 0 or more. None: as
    for a merchant."""

    jakpreneur_id: str
    sku: str
    name: str
    # As typed, spaces tidied; matched by `category_key` to the categories' slugs and names.
    category: str
    price: int
    stock: int
    unit: str | None
    description: str | None
    photo_url: str | None
    curated: bool | None


def category_key(typed: str) -> str:
    """`Makanan & Minuman`, `makanan  & minuman` → one key; compare slugs and names by it."""
    return " ".join(typed.split()).casefold()


@dataclass
class Written:
    """What a batch did, row by row: its outcome, and for a refused row the text key of why;
    and the ids of the stored rows the batch named (none of the rows a dry run would create)."""

    outcomes: list[Outcome]
    errors: dict[int, str]
    ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Fields:
    """What a record sets: the table's columns, the record's field of each, the value a new row
    takes where the file does not say (None: always given, or may be stored empty), and which
    a stored row keeps when the file does not say."""

    columns: tuple[str, ...]
    read: Any  # the record's fields as a tuple, in the columns' order
    defaults: tuple[Any, ...]
    kept: tuple[bool, ...]

    @classmethod
    def of(cls, spec: dict[str, tuple[str, Any]]) -> _Fields:
        names = [name for name, _ in spec.values()]
        return cls(
            tuple(spec),
            attrgetter(*names),
            tuple(default for _, default in spec.values()),
            tuple(name not in _MAY_BE_EMPTY for name in names),
        )

    def new(self, record: MerchantRecord | ProductRecord) -> dict[str, Any]:
        """A new row's columns: the record's values, or the defaults where it does not say."""
        return {
            column: default if value is None and default is not None else value
            for column, value, default in zip(
                self.columns, self.read(record), self.defaults, strict=True
            )
        }

    def changed(
        self, held: Sequence[Any], record: MerchantRecord | ProductRecord
    ) -> dict[str, Any]:
        """The columns the record changes in the stored values `held` (in the columns' order)."""
        said = self.read(record)
        if said == held:
            return {}
        return {
            column: value
            for column, value, stored, kept in zip(self.columns, said, held, self.kept, strict=True)
            if value != stored and not (value is None and kept)
        }


# Fields that may be empty in the file and are then stored empty, not kept.
_MAY_BE_EMPTY = frozenset({"phone", "kelurahan", "owner_name", "photo_url"})
_MERCHANT = _Fields.of(
    {
        "name": ("name", None),
        "contact_phone": ("phone", None),
        "kota": ("kota", None),
        "kecamatan": ("kecamatan", None),
        "kelurahan": ("kelurahan", None),
        "owner_name": ("owner_name", None),
        "address": ("address", ""),
        "pickup": ("pickup", True),
        "delivery": ("delivery", False),
        "description": ("description", ""),
    }
)
_PRODUCT = _Fields.of(
    {
        "name": ("name", None),
        "price": ("price", None),
        "stock": ("stock", None),
        "unit": ("unit", "pcs"),
        "description": ("description", ""),
        "photo_url": ("photo_url", None),
        "curated": ("curated", False),
    }
)


async def write_merchants(
    session: AsyncSession, rows: Sequence[MerchantRecord], now: datetime, *, dry_run: bool
) -> Written:
    """Creates or updates each merchant by its Jakpreneur id, named once in `rows` (the check
    refuses a repeat). A phone that another merchant has (or an earlier row of the batch) is
    refused: a phone names one shop."""
    # Core rows on the session's connection: the ORM's row handling cost more than the query.
    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    columns = [getattr(Merchant, column) for column in _MERCHANT.columns]
    ids = [row.jakpreneur_id for row in rows]
    stored = {
        found.jakpreneur_id: found
        for found in await connection.execute(
            select(Merchant.id, Merchant.jakpreneur_id, *columns).where(
                _one_of(Merchant.jakpreneur_id, ids, postgres)
            )
        )
    }
    phones = sorted({row.phone for row in rows if row.phone})
    phone_owner = {
        phone: jakpreneur_id
        for phone, jakpreneur_id in await connection.execute(
            select(Merchant.contact_phone, Merchant.jakpreneur_id).where(
                _one_of(Merchant.contact_phone, phones, postgres)
            )
        )
    }
    written = Written([], {})
    new: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    renamed: list[int] = []
    for number, row in enumerate(rows):
        if row.phone and phone_owner.get(row.phone, row.jakpreneur_id) != row.jakpreneur_id:
            written.outcomes.append(Outcome.REFUSED)
            written.errors[number] = "import_phone_taken"
            continue
        if row.phone:
            phone_owner[row.phone] = row.jakpreneur_id
        found = stored.get(row.jakpreneur_id)
        if found is None:
            written.outcomes.append(Outcome.CREATED)
            new.append(
                {**_MERCHANT.new(row), "jakpreneur_id": row.jakpreneur_id, "created_at": now}
            )
            continue
        written.ids.append(found.id)
        changed = _MERCHANT.changed(found[2:], row)
        written.outcomes.append(Outcome.UPDATED if changed else Outcome.UNCHANGED)
        if changed:
            changes.append({"id": found.id, **changed})
            if "name" in changed:
                renamed.append(found.id)
    if not dry_run:
        written.ids += await _insert(session, Merchant, new)
        if changes:
            await session.execute(update(Merchant), changes)
        for merchant_id in renamed:
            await _search_texts_of(session, merchant_id)
    return written


async def write_products(
    session: AsyncSession,
    rows: Sequence[ProductRecord],
    now: datetime,
    *,
    dry_run: bool,
    review: bool = False,
) -> Written:
    """Creates or updates each product by its merchant's Jakpreneur id and its SKU, named once
    in `rows`. A row of a merchant not imported yet, or of a category jbl does not have, is
    refused. With `review`, a new product, or one whose name, description or photo changes,
    waits for staff's review (`models.curation`) instead of being listed."""
    waits = {"review_state": Review.WAITING, "review_requested_at": now} if review else {}
    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    merchants = {
        found.jakpreneur_id: found
        for found in await connection.execute(
            select(Merchant.id, Merchant.jakpreneur_id, Merchant.name).where(
                _one_of(
                    Merchant.jakpreneur_id, sorted({row.jakpreneur_id for row in rows}), postgres
                )
            )
        )
    }
    categories = _categories(list(await session.scalars(select(Category))))
    keys = [
        (merchants[row.jakpreneur_id].id, row.sku) for row in rows if row.jakpreneur_id in merchants
    ]
    stored = {
        (found.merchant_id, found.sku): found
        for found in await _stored_products(connection, keys, postgres)
    }
    written = Written([], {})
    new: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for number, row in enumerate(rows):
        merchant = merchants.get(row.jakpreneur_id)
        category = categories.get(category_key(row.category))
        if merchant is None or category is None:
            written.outcomes.append(Outcome.REFUSED)
            unknown = "import_unknown_merchant" if merchant is None else "import_unknown_category"
            written.errors[number] = unknown
            continue
        found = stored.get((merchant.id, row.sku))
        if found is None:
            written.outcomes.append(Outcome.CREATED)
            new.append(
                {
                    **_PRODUCT.new(row),
                    "merchant_id": merchant.id,
                    "category_id": category.id,
                    "sku": row.sku,
                    "active": True,
                    "recent_sold": 0,
                    "search_text": search_text_for(row.name, merchant.name, category),
                    "created_at": now,
                    "review_state": Review.LISTED,
                    "review_requested_at": None,
                    **waits,
                }
            )
            continue
        written.ids.append(found.id)
        changed = _PRODUCT.changed(found[4:], row)
        if found.category_id != category.id:
            changed["category_id"] = category.id
        written.outcomes.append(Outcome.UPDATED if changed else Outcome.UNCHANGED)
        if changed.get("curated"):
            # Staff's pin lifts a demotion (models.demotion).
            changed |= {"demoted": False, "demoted_on": None}
        if changed:
            name = changed.get("name", found.name)
            search_text = search_text_for(name, merchant.name, category)
            reviewed = waits if REVIEWED_COLUMNS & changed.keys() else {}
            changes.append({"id": found.id, **changed, "search_text": search_text, **reviewed})
    if not dry_run:
        written.ids += await _insert(session, Product, new)
        if changes:
            await session.execute(update(Product), changes)
    return written


def _one_of(column: Any, values: list[str], postgres: bool) -> ColumnElement[bool]:
    """`column` is one of `values`: on PostgreSQL one array parameter, which is planned and
    sent as one value however many a batch holds, where IN sends and plans each."""
    if postgres:
        return column == any_(bindparam(None, values, type_=ARRAY(String)))
    return column.in_(values)


async def _stored_products(
    connection: AsyncConnection, keys: list[tuple[int, str]], postgres: bool
) -> Any:
    """The stored products of these (merchant id, SKU) keys: id, merchant id, SKU, category id,
    then the columns a file sets."""
    columns = [getattr(Product, column) for column in _PRODUCT.columns]
    query = select(Product.id, Product.merchant_id, Product.sku, Product.category_id, *columns)
    if not keys:
        return []
    if not postgres:
        return await connection.execute(
            query.where(tuple_(Product.merchant_id, Product.sku).in_(keys))
        )
    # The keys as two arrays unnested into rows and joined: the unique index finds each.
    wanted = (
        func.unnest(
            bindparam("merchant_ids", type_=ARRAY(BigInteger)),
            bindparam("skus", type_=ARRAY(String)),
        )
        .table_valued("merchant_id", "sku")
        .render_derived(name="wanted")
    )
    query = query.join(
        wanted, and_(Product.merchant_id == wanted.c.merchant_id, Product.sku == wanted.c.sku)
    )
    merchant_ids, skus = zip(*keys, strict=True)
    return await connection.execute(query, {"merchant_ids": list(merchant_ids), "skus": list(skus)})


async def _insert(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Inserts the rows in as few statements as the driver allows; their new ids. Core, not the
    ORM's bulk insert: that splits the rows by which of their values are None, and a file's
    optional columns left empty here and there made batches of a few rows each."""
    if not rows:
        return []
    connection = await session.connection()
    return list((await connection.execute(insert(table).returning(table.id), rows)).scalars())


def _categories(categories: list[Category]) -> dict[str, Category]:
    """Each category by its slug and its names, folded: files name them either way."""
    named: dict[str, Category] = {}
    for category in categories:
        for name in (category.slug, category.name_id, category.name_en):
            named[category_key(name)] = category
    return named


async def _search_texts_of(session: AsyncSession, merchant_id: int) -> None:
    """A renamed merchant's products are found by its new name."""
    merchant = await session.get_one(Merchant, merchant_id)
    products = await session.scalars(select(Product).where(Product.merchant_id == merchant_id))
    for product in products:
        product.search_text = search_text_for(product.name, merchant.name, product.category)
    await session.flush()


async def listed_imports(session: AsyncSession, kind: Kind, size: int) -> AsyncIterator[list[int]]:
    """The ids of the imported rows still shown, `size` at a time: merchants (by Jakpreneur id)
    with a product shown, or products (by SKU) shown."""
    if kind == Kind.MERCHANTS:
        statement = (
            select(Merchant.id)
            .where(
                Merchant.jakpreneur_id.is_not(None),
                select(Product.id)
                .where(Product.merchant_id == Merchant.id, Product.active)
                .exists(),
            )
            .order_by(Merchant.id)
        )
    else:
        statement = (
            select(Product.id).where(Product.sku.is_not(None), Product.active).order_by(Product.id)
        )
    result = await session.stream_scalars(statement.execution_options(yield_per=size))
    async for batch in result.partitions(size):
        yield list(batch)


async def hide_imports(session: AsyncSession, kind: Kind, ids: Sequence[int]) -> None:
    """Hides the products, or every product of the merchants, that staff's file left out."""
    column = Product.merchant_id if kind == Kind.MERCHANTS else Product.id
    await session.execute(update(Product).where(column.in_(ids)).values(active=False))
