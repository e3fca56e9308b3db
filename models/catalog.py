"""Categories, merchants and products, and the ranked, keyset-paginated catalog query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    false,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from models.base import Base, UTCDateTime, id_from_text


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name_id: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    # Place in the weekly rotation of featured categories, 0-based.
    rotation: Mapped[int] = mapped_column(Integer, unique=True)

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_id


class Merchant(Base):
    __tablename__ = "merchants"
    __table_args__ = (
        # Staff's files name a merchant by the program's id (`jbl import merchants`).
        Index("ix_merchants_jakpreneur_id", "jakpreneur_id", unique=True),
        # A merchant who writes from the phone in the import is found by it.
        Index("ix_merchants_contact_phone", "contact_phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kota: Mapped[str] = mapped_column(String(40))
    kecamatan: Mapped[str] = mapped_column(String(60))
    kelurahan: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Jakpreneur's own id of the merchant; shops made in chat have none.
    jakpreneur_id: Mapped[str | None] = mapped_column(String(40))
    owner_name: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(Text, default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    pickup: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    delivery: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Buyers' ratings of completed orders, summed here as they come (models.ratings).
    rating_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    @property
    def area(self) -> str:
        parts = [self.kelurahan, self.kecamatan, self.kota]
        return ", ".join(p for p in parts if p)


class Review(StrEnum):
    """Where a product stands with staff's curation: only a listed one is in the catalog."""

    LISTED = "listed"
    WAITING = "waiting"
    CHANGES_ASKED = "changes_asked"
    REJECTED = "rejected"


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        # Serves the catalog page: equality on category and what is listed, then the ranking
        # key in order.
        Index(
            "ix_products_catalog",
            "category_id",
            "active",
            "review_state",
            "demoted",
            "curated",
            "recent_sold",
            "id",
        ),
        # Staff's curation queue, oldest first.
        Index("ix_products_review", "review_state", "review_requested_at", "id"),
        Index("ix_products_merchant", "merchant_id"),
        # Staff's files name a product by its merchant and its SKU (`jbl import products`).
        Index("ix_products_merchant_sku", "merchant_id", "sku", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    photo_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    curated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Units sold in the last four weeks; kept current at checkout/cancel and recomputed by the
    # ranking job so that old sales age out.
    recent_sold: Mapped[int] = mapped_column(BigInteger, default=0)
    # Product name, merchant name and category names: what text search matches.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The merchant's own code of the product; products made in chat have none.
    sku: Mapped[str | None] = mapped_column(String(60))
    # Staff's review (`Review`), the note the merchant is shown with it, and since when the
    # product waits for it.
    review_state: Mapped[str] = mapped_column(
        String(16), default=Review.LISTED, server_default=Review.LISTED.value
    )
    review_note: Mapped[str | None] = mapped_column(Text)
    review_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Demoted by the weekly job of the Friday `demoted_on` (models.demotion): no sale over the
    # last editions of its category up to it, while others of the category sold. Demoted
    # products come after all others of the catalog order; a sale or a pin lifts it.
    demoted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    demoted_on: Mapped[date | None] = mapped_column(Date)

    merchant: Mapped[Merchant] = relationship(lazy="joined", innerjoin=True)
    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)


# What staff review before a product is listed again when it changes (by its merchant, or by
# an import with `--review`); its other columns change without review.
REVIEWED_COLUMNS = frozenset({"name", "description", "photo_url"})


def listed(columns: Any) -> ColumnElement[bool]:
    """What the catalog shows, over `Product` or a subquery of its columns: products their
    merchant shows and staff approved."""
    return and_(columns.active, columns.review_state == Review.LISTED)


def search_text_for(product_name: str, merchant_name: str, category: Category) -> str:
    text = f"{product_name} {merchant_name} {category.name_id} {category.name_en}"
    # PostgreSQL's text parser reads `<Lapis>` as a markup tag and drops the word.
    return text.replace("<", " ").replace(">", " ")


def best_first(columns: Any) -> tuple[ColumnElement[Any], ...]:
    """The catalog order (not demoted, then curated, then recent sales, then newest) over
    `Product` or any subquery or CTE with `demoted`, `curated`, `recent_sold` and `id`
    columns."""
    return (
        columns.demoted.asc(),
        columns.curated.desc(),
        columns.recent_sold.desc(),
        columns.id.desc(),
    )


@dataclass(frozen=True)
class Listing:
    """A product as a list shows it (a button with its name and price) and where it ranks.

    Lists read these columns only: loading whole products, with their merchant and category
    joined, cost more than the rest of a catalog page.
    """

    id: int
    name: str
    price: int
    curated: bool
    recent_sold: int
    # Last, with a default: broadcasts keep their picks as the first five fields.
    demoted: bool = False
    # From the kecamatan a page put first (`catalog_page(near=…)`); False when none was.
    local: bool = False


LISTING_COLUMNS = (
    Product.id,
    Product.name,
    Product.price,
    Product.curated,
    Product.recent_sold,
    Product.demoted,
)


def listings(rows: Any) -> list[Listing]:
    return [Listing(*row) for row in rows]


@dataclass(frozen=True)
class RankKey:
    """Where a product stands in the catalog order; a page cursor is the key of an edge item."""

    curated: bool
    recent_sold: int
    product_id: int
    demoted: bool = False
    # Within the same rank, products of the resident's kecamatan first (`[catalog]
    # local_first`): part of the key only on pages that put them first.
    local: bool = False

    @classmethod
    def of(cls, product: Listing) -> RankKey:
        return cls(product.curated, product.recent_sold, product.id, product.demoted, product.local)


@dataclass(frozen=True)
class CatalogPage:
    products: list[Listing]
    has_previous: bool
    has_next: bool

    @property
    def first(self) -> RankKey:
        return RankKey.of(self.products[0])

    @property
    def last(self) -> RankKey:
        return RankKey.of(self.products[-1])


async def categories_in_rotation(session: AsyncSession) -> list[Category]:
    return list(await session.scalars(select(Category).order_by(Category.rotation)))


@dataclass(frozen=True)
class Shelf:
    """What a catalog page lists: a category (`c`) or one merchant's products (`m`)."""

    kind: str
    id: int

    def holds(self) -> ColumnElement[bool]:
        column = Product.category_id if self.kind == "c" else Product.merchant_id
        return column == self.id


async def catalog_page(
    session: AsyncSession,
    shelf: Shelf,
    *,
    after: RankKey | None = None,
    before: RankKey | None = None,
    size: int = 8,
    near: str | None = None,
) -> CatalogPage:
    """One page of a shelf, best first: not demoted, then curated, then most sold recently,
    then (with `near`, a kecamatan) the products of that kecamatan's merchants, then newest.

    Keyset pagination: a page is defined by the key of its neighbour, so products added,
    hidden or sold out meanwhile never shift other products between pages. The products not
    demoted and the demoted are walked one after the other, each on equality of `demoted`,
    so that the catalog index serves both: a page that ends one continues into the next.
    """
    if before is not None:
        # Backwards from `before`: its own part, then the parts ranked above it.
        rows: list[Listing] = []
        for demoted in _PARTS[: _PARTS.index(before.demoted) + 1][::-1]:
            start = before if demoted == before.demoted else None
            limit = size + 1 - len(rows)
            rows += await _part(session, shelf, demoted, start, limit, False, near)
            if len(rows) > size:
                return CatalogPage(list(reversed(rows[:size])), has_previous=True, has_next=True)
        # Fewer products than a page lie before: the start of the catalog is that page.
        return await catalog_page(session, shelf, size=size, near=near)
    rows = []
    first = after.demoted if after is not None else _PARTS[0]
    for demoted in _PARTS[_PARTS.index(first) :]:
        start = after if after is not None and demoted == after.demoted else None
        rows += await _part(session, shelf, demoted, start, size + 1 - len(rows), True, near)
        if len(rows) > size:
            break
    return CatalogPage(rows[:size], has_previous=after is not None, has_next=len(rows) > size)


# The parts of the catalog order, best first: what is not demoted, then what is.
_PARTS = (False, True)


async def _part(
    session: AsyncSession,
    shelf: Shelf,
    demoted: bool,
    start: RankKey | None,
    limit: int,
    forward: bool,
    near: str | None = None,
) -> list[Listing]:
    """Up to `limit` products of one part (demoted or not) past `start`, or from its edge:
    best first going forward, worst first going back."""
    if near is not None:
        return await _part_near(session, shelf, demoted, start, limit, forward, near)
    key = tuple_(Product.curated, Product.recent_sold, Product.id)
    query = select(*LISTING_COLUMNS).where(
        shelf.holds(), listed(Product), Product.demoted == demoted
    )
    if start is not None:
        edge = (start.curated, start.recent_sold, start.product_id)
        query = query.where(key < edge if forward else key > edge)
    # Within one part, without `demoted`: PostgreSQL reads `demoted = true` as a plain boolean
    # filter, not as a constant, so ordering by it too would sort rather than walk the
    # catalog index, and tempt it into the search index, filtering every other category.
    return listings(await session.execute(query.order_by(*_rank_order(forward)).limit(limit)))


def _rank_order(forward: bool) -> tuple[ColumnElement[Any], ...]:
    """The catalog index's order within one part: best first going forward."""
    columns = (Product.curated, Product.recent_sold, Product.id)
    return tuple(column.desc() if forward else column.asc() for column in columns)


async def _part_near(
    session: AsyncSession,
    shelf: Shelf,
    demoted: bool,
    start: RankKey | None,
    limit: int,
    forward: bool,
    near: str,
) -> list[Listing]:
    """`_part` with the products of `near`'s merchants first within the same rank.

    Whether a product is local is part of the order and of the keyset, so a page that ends
    between the local and the other products of one rank continues exactly after it. Sorting
    a whole category by that computed key would read all of it for every page, so the page
    merges two keyset walks in the catalog index's order instead: the others, then the local
    products only as far as the rank where the others' `limit` ends (any past it rank below
    them all). See docs/decisions/0037-local-first-pages.md.
    """
    others = await _walk_near(session, shelf, demoted, start, limit, forward, near)
    bound: tuple[bool, int] | None = None
    if len(others) == limit:
        bound = (others[-1].curated, others[-1].recent_sold)
    local: list[Listing] = []
    # Past a cursor from elsewhere, or going back, the local products of the cursor's own rank
    # lie on the other side of it: with the others ending in that rank, none can come first.
    at_cursor = start is not None and bound == (start.curated, start.recent_sold)
    if at_cursor and not (forward and start is not None and start.local):
        return others
    # One walk per value of `curated`, on its equality: PostgreSQL stops a walk at a bound on
    # `recent_sold` alone, but reads a bound on (curated, recent_sold) as one on `curated`.
    for curated in (True, False) if forward else (False, True):
        local += await _walk_local(
            session, shelf, demoted, curated, start, limit - len(local), forward, near, bound
        )
        if len(local) == limit:
            break
    merged = sorted(
        others + local, key=lambda p: (p.curated, p.recent_sold, p.local, p.id), reverse=forward
    )
    return merged[:limit]


def _near_listed(shelf: Shelf, demoted: bool, in_area: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*LISTING_COLUMNS)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .where(shelf.holds(), listed(Product), Product.demoted == demoted, in_area)
    )


async def _walk_near(
    session: AsyncSession,
    shelf: Shelf,
    demoted: bool,
    start: RankKey | None,
    limit: int,
    forward: bool,
    near: str,
) -> list[Listing]:
    """Up to `limit` of one part's products from merchants elsewhere than `near`, past `start`
    in the local-first order, in the catalog index's order."""
    query = _near_listed(shelf, demoted, Merchant.kecamatan != near)
    if start is not None:
        rank = tuple_(Product.curated, Product.recent_sold)
        edge = (start.curated, start.recent_sold)
        if not start.local:
            key = tuple_(Product.curated, Product.recent_sold, Product.id)
            query = query.where(
                key < (*edge, start.product_id) if forward else key > (*edge, start.product_id)
            )
        else:
            # A local cursor is followed by all others of its rank.
            query = query.where(rank <= edge if forward else rank > edge)
    # Without `demoted` and without the merchant: the order of the catalog index (see `_part`).
    return await _listings_near(session, query, limit, forward, local=False)


async def _walk_local(
    session: AsyncSession,
    shelf: Shelf,
    demoted: bool,
    curated: bool,
    start: RankKey | None,
    limit: int,
    forward: bool,
    near: str,
    bound: tuple[bool, int] | None,
) -> list[Listing]:
    """Up to `limit` of the products of `near` of one part and one value of `curated`, past
    `start` in the local-first order; going forward only down to the rank `bound`, going back
    only up to just before it."""
    later = (lambda a, b: a < b) if forward else (lambda a, b: a > b)
    query = _near_listed(shelf, demoted, Merchant.kecamatan == near).where(
        Product.curated == curated
    )
    if start is not None:
        if later(start.curated, curated):
            return []
        if start.curated == curated:
            sold, product_id = Product.recent_sold, Product.id
            edge = start.recent_sold
            if start.local:
                key = tuple_(sold, product_id)
                query = query.where(later(key, (edge, start.product_id)))
            elif forward:
                # The local products of a cursor's rank precede it when it is from elsewhere.
                query = query.where(sold < edge)
            else:
                query = query.where(sold >= edge)
    if bound is not None:
        if later(curated, bound[0]):
            return []
        if curated == bound[0]:
            # Past the others' last rank, local products rank below all of them.
            query = query.where(
                Product.recent_sold >= bound[1] if forward else Product.recent_sold < bound[1]
            )
    return await _listings_near(session, query, limit, forward, local=True)


async def _listings_near(
    session: AsyncSession, query: Select[Any], limit: int, forward: bool, *, local: bool
) -> list[Listing]:
    rows = await session.execute(query.order_by(*_rank_order(forward)).limit(limit))
    return [Listing(*row, local=local) for row in rows]


async def category_by_slug_or_id(session: AsyncSession, typed: str) -> Category | None:
    """The category whose slug, or id written in digits, is `typed`."""
    return await session.scalar(
        select(Category).where(or_(Category.slug == typed, Category.id == id_from_text(typed)))
    )


async def category_slugs(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(Category.slug).order_by(Category.slug)))


async def names_by_id(
    session: AsyncSession, kind: type[Product] | type[Merchant], ids: list[int]
) -> list[tuple[int, str]]:
    """`(id, name)` of the products or merchants with these ids (all when none), by id."""
    query = select(kind.id, kind.name).order_by(kind.id)
    if ids:
        query = query.where(kind.id.in_(ids))
    return [(id, name) for id, name in await session.execute(query)]


async def listed_product(session: AsyncSession, product_id: int) -> Product | None:
    product = await session.get(Product, product_id)
    if product is None or not product.active or product.review_state != Review.LISTED:
        return None
    return product


async def merchants_named(session: AsyncSession, merchant_ids: list[int]) -> list[Merchant]:
    rows = await session.scalars(
        select(Merchant).where(Merchant.id.in_(merchant_ids)).order_by(Merchant.id)
    )
    return list(rows)
