"""What the program sold: units and omzet (turnover) per Friday or date range, by area,
category, merchant, product or channel, and how each Friday's broadcast led to orders.

The values here are what every report shows: the `jbl report` command, staff's `/laporan` in
chat, the spreadsheet and the chart. Days are Jakarta's calendar days; instants are stored in
UTC, so a period's bounds are Jakarta midnights turned into UTC instants."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from models.areas import kecamatan_named, kota_named
from models.broadcasts import Broadcast, BroadcastPress, broadcast_for
from models.catalog import Category, Merchant, Product, categories_in_rotation, listed
from models.friday import FridayEdition, day_bounds, rotation_index
from models.ordering import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    REJECTED,
    Order,
    OrderItem,
    sold,
)
from models.outbox import KEEP_OUTBOX, SENT, OutboxMessage

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession

FRIDAY = 4


class Dimension(StrEnum):
    """What the figures are broken down by."""

    KOTA = "kota"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    CATEGORY = "category"
    MERCHANT = "merchant"
    PRODUCT = "product"
    CHANNEL = "channel"


@dataclass(frozen=True)
class Period:
    """Jakarta calendar days from `first` to `last`, both included."""

    first: date
    last: date

    @classmethod
    def friday(cls, day: date) -> Period:
        """One Friday edition: the orders placed on that day, Jakarta time."""
        return cls(day, day)

    @classmethod
    def fridays(cls, last: date, count: int) -> Period:
        """The `count` Fridays up to `last`, and the days between them."""
        return cls(last - timedelta(weeks=count - 1), last)

    @property
    def is_friday(self) -> bool:
        return self.first == self.last and self.first.weekday() == FRIDAY

    @property
    def edition_days(self) -> list[date]:
        """The Fridays within the period, oldest first: the editions it covers."""
        friday = self.first + timedelta(days=(FRIDAY - self.first.weekday()) % 7)
        found = []
        while friday <= self.last:
            found.append(friday)
            friday += timedelta(weeks=1)
        return found

    def instants(self, timezone: ZoneInfo) -> tuple[datetime, datetime]:
        """From the first day's Jakarta midnight to the midnight after the last day."""
        return day_bounds(self.first, timezone)[0], day_bounds(self.last, timezone)[1]


@dataclass(frozen=True)
class Scope:
    """Which merchants count, by where they are: all of Jakarta, a kota or a kecamatan."""

    kota: str | None = None
    kecamatan: str | None = None

    @classmethod
    def named(cls, kota: str | None = None, kecamatan: str | None = None) -> Scope:
        """The scope of names as people type them, spelt as Jakarta spells them; an unknown
        name raises `models.areas.UnknownArea`, which lists the valid ones."""
        if kota is not None:
            kota = kota_named(kota)
        if kecamatan is not None:
            kecamatan, kota = kecamatan_named(kecamatan, kota)
        return cls(kota, kecamatan)

    @property
    def name(self) -> str:
        return self.kecamatan or self.kota or "Jakarta"


@dataclass(slots=True)
class Figures:
    """The counts of one cell of a report. Units and omzet count only sold orders (those that
    did not end rejected, cancelled or expired); placed, completed and lost stand beside them
    so the two are never confused."""

    # Orders placed in the period, whatever became of them.
    placed: int = 0
    # Orders that did not end rejected, cancelled or expired.
    sold: int = 0
    completed: int = 0
    rejected: int = 0
    cancelled: int = 0
    expired: int = 0
    # Items and whole rupiah of the sold orders.
    units: int = 0
    omzet: int = 0
    # Distinct buyers of sold orders; new ones had no sold order before the period.
    buyers: int = 0
    new_buyers: int = 0
    merchants_with_sale: int = 0
    products_sold: int = 0

    @property
    def lost(self) -> int:
        return self.rejected + self.cancelled + self.expired

    @property
    def returning_buyers(self) -> int:
        return self.buyers - self.new_buyers

    @property
    def average_order_value(self) -> int:
        """Whole rupiah per sold order (rounded down)."""
        return self.omzet // self.sold if self.sold else 0


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a breakdown: the dimension's value as people read it ("Jakarta Selatan", a
    merchant's name, "telegram"), its figures, and where it belongs (a kecamatan's kota, a
    kelurahan's kecamatan, a product's merchant)."""

    key: str
    figures: Figures
    parent: str | None = None
    # The merchant's, product's or category's id, where the dimension has one.
    id: int | None = None


@dataclass
class Results:
    """A period's figures in a scope, in total and broken down by one dimension (rows by omzet,
    largest first)."""

    period: Period
    scope: Scope
    by: Dimension
    total: Figures
    rows: list[Row] = field(default_factory=list)


@dataclass
class Summary:
    """What the chat's summary and the chart show for a period and scope: short whatever the
    period, since Jakarta has five kota and 44 kecamatan."""

    period: Period
    scope: Scope
    total: Figures
    kota: list[Row]
    kecamatan: list[Row]
    # The broadcast of each Friday of the period, where the report shows them (`funnels`).
    funnels: Sequence[Funnel] = ()


@dataclass
class Report:
    """Everything the spreadsheet and the chart show for a period and scope. The merchants and
    products may be long (a year of the whole program): they are read as they are written, and
    the summary is asked for after them, so that it may be read meanwhile."""

    period: Period
    scope: Scope
    # Called once the merchants and products are written; it may wait for the summary.
    summary: Callable[[], Summary]
    merchants: Iterable[Row] = ()
    products: Iterable[Row] = ()
    # How many products the spreadsheet leaves out beyond its cap (`top_rows`): asked once,
    # before the first product is written.
    products_left_out: Callable[[], int] | None = None


@dataclass
class Listing:
    """A breakdown's first rows, largest omzet first, read in batches as they are used, and
    how many rows the whole breakdown has."""

    in_all: int
    batches: AsyncIterator[list[Row]]


@dataclass(frozen=True)
class Funnel:
    """How one Friday's broadcast led to orders."""

    friday: date
    recipients: int = 0
    delivered: int = 0
    # Where the platform reports it (WhatsApp).
    read: int = 0
    # People who pressed the broadcast's button into the catalog.
    pressed: int = 0
    # Recipients who placed an order within 48 hours of their delivery.
    ordered: int = 0
    # The broadcast's state (`models.broadcasts`: scheduled, sending, paused, done,
    # cancelled), None when the Friday had none; and whether it went out at all, which one
    # cancelled before its time never did: its zeros are no result.
    status: str | None = None
    started: bool = False


# ---- the queries -------------------------------------------------------------------------

# What a key reads when its column is empty (a merchant without kelurahan, an order placed
# before its channel was recorded).
NONE = "-"
# Rows read per round trip when a breakdown is streamed.
BATCH = 5_000


@dataclass(frozen=True)
class _Grouping:
    """How a dimension groups: the key people read, where it belongs, the id where it has one,
    and whether it is a column of an order's items (an order then counts in each group that
    one of its items falls in). Order and merchant columns are read from `rows`: the period's
    orders (`_period`) or their items (`_items`), which carry the same columns. A merchant or
    a product is grouped by its id alone (no key): its names are joined to its counts
    (`_labels`), since sorting a year of rows by their names' text cost most of the time."""

    key: ColumnElement[Any] | None
    parent: ColumnElement[Any] | None = None
    id: ColumnElement[Any] | None = None
    per_item: bool = False


def _grouping(by: Dimension, rows: Any) -> _Grouping:
    if by == Dimension.KOTA:
        return _Grouping(rows.c.kota)
    if by == Dimension.KECAMATAN:
        return _Grouping(rows.c.kecamatan, rows.c.kota)
    if by == Dimension.KELURAHAN:
        return _Grouping(func.coalesce(rows.c.kelurahan, NONE), rows.c.kecamatan)
    if by == Dimension.CATEGORY:
        return _Grouping(Category.name_id, None, Category.id, per_item=True)
    if by == Dimension.MERCHANT:
        return _Grouping(None, None, rows.c.merchant_id)
    if by == Dimension.PRODUCT:
        return _Grouping(None, None, rows.c.product_id, per_item=True)
    return _Grouping(func.coalesce(rows.c.channel, NONE))


def _labels(
    by: Dimension | None, id: ColumnElement[Any]
) -> tuple[ColumnElement[Any], ColumnElement[Any], list[tuple[Any, ColumnElement[bool]]]]:
    """The key and parent of a dimension grouped by id alone, and the joins that read them:
    a merchant's name and kecamatan, a product's name and its merchant's name."""
    if by == Dimension.MERCHANT:
        return Merchant.name, Merchant.kecamatan, [(Merchant, Merchant.id == id)]
    return (
        Product.name,
        Merchant.name,
        [(Product, Product.id == id), (Merchant, Merchant.id == Product.merchant_id)],
    )


# The dimensions of an order's items (`_Grouping.per_item`).
_PER_ITEM = frozenset({Dimension.CATEGORY, Dimension.PRODUCT})
# Which dimensions read the order's merchant's area.
_BY_AREA = frozenset({Dimension.KOTA, Dimension.KECAMATAN, Dimension.KELURAHAN})


def _sold() -> ColumnElement[bool]:
    return sold(Order.status)


def _new_buyer(start: datetime) -> ColumnElement[Any]:
    """The order's buyer when the order is sold and the buyer had no sold order before
    `start`, else NULL. Found through `ix_orders_person_sold`, which holds sold orders only."""
    prior = aliased(Order)
    earlier = exists(
        select(literal(1)).where(
            prior.person_id == Order.person_id,
            prior.created_at < start,
            sold(prior.status),
        )
    )
    return case((and_(_sold(), ~earlier), Order.person_id))


def _period(
    period: Period, scope: Scope, timezone: ZoneInfo, parts: Sequence[Dimension | None]
) -> Any:
    """The period's orders in the scope, read once by time (`ix_orders_created`), each with
    its merchant's area and name where a part or the scope reads them, and its buyer where
    the buyer is new."""
    start, end = period.instants(timezone)
    columns: list[ColumnElement[Any]] = [
        Order.id,
        Order.person_id,
        Order.merchant_id,
        Order.status,
        Order.total,
        _new_buyer(start).label("new_buyer"),
    ]
    if Dimension.CHANNEL in parts:
        columns.append(Order.channel)
    where = [Order.created_at >= start, Order.created_at < end]
    by_merchant = (
        any(by in _BY_AREA for by in parts) or scope.kota is not None or scope.kecamatan is not None
    )
    if by_merchant:
        columns += [Merchant.kota, Merchant.kecamatan, Merchant.kelurahan]
    if scope.kota is not None:
        where.append(Merchant.kota == scope.kota)
    if scope.kecamatan is not None:
        where.append(Merchant.kecamatan == scope.kecamatan)
    orders = select(*columns).where(*where)
    if by_merchant:
        orders = orders.join(Merchant, Merchant.id == Order.merchant_id)
    return orders.cte("period")


def _total(value: Any) -> ColumnElement[Any]:
    # PostgreSQL sums a BIGINT as NUMERIC, which would come back as a Decimal.
    return cast(func.coalesce(func.sum(value), 0), BigInteger)


# The order's columns an item carries for the parts that read items one by one: a year's items
# are millions of rows, kept for the statement's parts to read, and every column carried is
# written that often.
_ITEM_COLUMNS_PER_ITEM = ("id", "person_id", "merchant_id", "status", "new_buyer")
# The parts whose groups own their products (a product is its merchant's, in its merchant's
# area): their units and products sold are summed from the sold products (`_sold_products`).
_BY_OWNER = frozenset(
    {None, Dimension.KOTA, Dimension.KECAMATAN, Dimension.KELURAHAN, Dimension.MERCHANT}
)


def _in_range(orders: Any) -> ColumnElement[bool]:
    """The items of the period's orders lie between its first and last order's ids, which
    grow with time: a range of `ix_order_items_order_id` rather than one look-up per order."""
    return OrderItem.order_id.between(
        select(func.min(orders.c.id)).scalar_subquery(),
        select(func.max(orders.c.id)).scalar_subquery(),
    )


def _items(orders: Any, parts: Sequence[Dimension | None]) -> Any:
    """The items of the period's orders, each with the columns of its order that `parts`
    read."""
    names = {"status"}
    for by in parts:
        names.update(_ITEM_COLUMNS_PER_ITEM if by in _PER_ITEM else ())
        if by == Dimension.CHANNEL:
            names.add("channel")
    return (
        select(
            *(column for column in orders.c if column.name in names),
            OrderItem.product_id,
            OrderItem.unit_price,
            OrderItem.quantity,
        )
        .join(OrderItem, OrderItem.order_id == orders.c.id)
        .where(_in_range(orders))
        .cte("period_items")
    )


def _sold_products(orders: Any) -> Any:
    """Each product sold in the period, with its merchant, the merchant's area where the
    period's orders carry it, and the units sold: a row per product rather than per item, so
    that the parts by owner sum and count them without sorting the items."""
    owner = [orders.c.merchant_id]
    owner += [orders.c[name] for name in ("kota", "kecamatan", "kelurahan") if name in orders.c]
    return (
        select(OrderItem.product_id, *owner, _total(OrderItem.quantity).label("units"))
        .join(OrderItem, OrderItem.order_id == orders.c.id)
        .where(_in_range(orders), sold(orders.c.status))
        # The merchant's area depends on the merchant: grouped by, it splits no product.
        .group_by(OrderItem.product_id, *owner)
        .cte("sold_products")
    )


def _part(
    number: int, orders: Any, items: Any, sold_products: Any, by: Dimension | None
) -> Select[Any]:
    """One part of a statement: a row per group of `by` (one in all without it) holding the
    part's number, the key, parent and id (NULL where the grouping has none), then the counts
    in the order of `Figures`' fields. The period's orders are counted in one subquery and
    their sold units and products in another, joined on the group (from the products sold,
    where the group owns its products); by a column of the items (an order then counts in each
    group that one of its items falls in), one subquery counts both."""
    per_item = by in _PER_ITEM
    # The rows whose orders are counted: the orders, or the items where an order counts in
    # each group that one of its items falls in.
    counted_from = items if per_item else orders

    def groups_of(source: Any) -> list[ColumnElement[Any]]:
        if by is None:
            return []
        grouping = _grouping(by, source)
        groups = [] if grouping.key is None else [grouping.key.label("key")]
        if grouping.parent is not None:
            groups.append(grouping.parent.label("parent"))
        if grouping.id is not None:
            groups.append(grouping.id.label("id"))
        return groups

    rows = counted_from.c
    is_sold = sold(rows.status)

    def orders_where(condition: ColumnElement[bool] | None) -> ColumnElement[Any]:
        counted = rows.id if condition is None else case((condition, rows.id))
        return func.count(distinct(counted)) if per_item else func.count(counted)

    omzet = rows.unit_price * rows.quantity if per_item else rows.total
    groups = groups_of(counted_from)
    # The sold units and products, from the products sold where the group owns them, else
    # from the items.
    sold_from = sold_products if by in _BY_OWNER else items
    # Built once: a group's expression binds its own parameters, which PostgreSQL must see as
    # the same in the select list and in GROUP BY.
    item_groups = groups_of(sold_from)
    counted_query = select(
        *groups,
        orders_where(None).label("placed"),
        orders_where(is_sold).label("sold"),
        orders_where(rows.status == COMPLETED).label("completed"),
        orders_where(rows.status == REJECTED).label("rejected"),
        orders_where(rows.status == CANCELLED).label("cancelled"),
        orders_where(rows.status == EXPIRED).label("expired"),
        _total(case((is_sold, omzet), else_=0)).label("omzet"),
        func.count(distinct(case((is_sold, rows.person_id)))).label("buyers"),
        func.count(distinct(rows.new_buyer)).label("new_buyers"),
        func.count(distinct(case((is_sold, rows.merchant_id)))).label("merchants_with_sale"),
    ).select_from(counted_from)
    if per_item:
        # The items counted are the sold items' too: one pass over them counts both.
        counted_query = counted_query.add_columns(
            _total(case((is_sold, rows.quantity), else_=0)).label("units"),
            func.count(distinct(case((is_sold, rows.product_id)))).label("products_sold"),
        )
    if by in _BY_OWNER:
        items_query = select(
            *item_groups,
            _total(sold_from.c.units).label("units"),
            func.count().label("products_sold"),
        ).select_from(sold_from)
    else:
        items_query = (
            select(
                *item_groups,
                _total(items.c.quantity).label("units"),
                func.count(distinct(items.c.product_id)).label("products_sold"),
            )
            .select_from(items)
            .where(sold(items.c.status))
        )
    if by == Dimension.CATEGORY:
        counted_query = counted_query.join(Product, Product.id == items.c.product_id).join(
            Category, Category.id == Product.category_id
        )
    if groups:
        counted_query = counted_query.group_by(*groups)
        items_query = items_query.group_by(*item_groups)
    counted = counted_query.subquery(f"counted_{number}")
    names = [column.name for column in groups]
    # Per order, the sold items are counted apart and joined on the group.
    units = counted if per_item else items_query.subquery(f"units_{number}")

    def key(name: str, type_: Any) -> ColumnElement[Any]:
        return (counted.c[name] if name in names else cast(null(), type_)).label(name)

    labels: list[ColumnElement[Any]] = [key("key", String), key("parent", String)]
    joins: list[tuple[Any, ColumnElement[bool]]] = []
    if "id" in names and "key" not in names:
        label, parent, joins = _labels(by, counted.c.id)
        labels = [label.label("key"), parent.label("parent")]
    statement = select(
        literal_column(str(number), Integer).label("part"),
        *labels,
        key("id", Integer),
        counted.c.placed,
        counted.c.sold,
        counted.c.completed,
        counted.c.rejected,
        counted.c.cancelled,
        counted.c.expired,
        func.coalesce(units.c.units, 0).label("units"),
        counted.c.omzet,
        counted.c.buyers,
        counted.c.new_buyers,
        counted.c.merchants_with_sale,
        func.coalesce(units.c.products_sold, 0).label("products_sold"),
    ).select_from(counted)
    if not per_item:
        joined = and_(*(counted.c[name] == units.c[name] for name in names)) if names else true()
        statement = statement.outerjoin(units, joined)
    for table, on in joins:
        statement = statement.join(table, on)
    return statement


def _statement(
    period: Period,
    scope: Scope,
    timezone: ZoneInfo,
    parts: Sequence[Dimension | None],
    *,
    counted: bool = False,
) -> Select[Any] | CompoundSelect:
    """The figures of the period in the scope by each of `parts` (None: the total), in one
    statement that reads the period's orders once: rows as `_part` makes them, by part, then
    largest omzet first. `counted` (one part only) adds how many rows the part has in all."""
    orders = _period(period, scope, timezone, parts)
    items = _items(orders, parts) if any(by not in _BY_OWNER for by in parts) else None
    sold_products = _sold_products(orders) if any(by in _BY_OWNER for by in parts) else None
    selects = [_part(number, orders, items, sold_products, by) for number, by in enumerate(parts)]
    if counted:
        (select_,) = selects
        selects = [select_.add_columns(func.count().over().label("in_all"))]
    statement = selects[0] if len(selects) == 1 else union_all(*selects)
    order = ("part", "omzet", "key", "parent", "id")
    return statement.order_by(
        *(
            literal_column(name).desc() if name == "omzet" else literal_column(name)
            for name in order
        )
    )


async def _planned_for_its_dates(session: AsyncSession) -> None:
    """A period's statement is planned for its own dates on PostgreSQL, for the transaction: a
    plan made once for any dates, which a prepared statement may switch to after five runs,
    reads a Friday's orders and items as if they were a year's."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _figures(values: Any) -> Figures:
    # Every count is an integer column (sums are cast to BIGINT): taken as read.
    return Figures(*values)


def _row(values: Any) -> Row:
    _, key, parent, id, *counts = values
    return Row(str(key), _figures(counts), parent, id)


async def _parts(
    session: AsyncSession,
    period: Period,
    scope: Scope,
    timezone: ZoneInfo,
    parts: Sequence[Dimension | None],
) -> list[list[Row]]:
    """The rows of each of `parts`, read in one statement."""
    found: list[list[Row]] = [[] for _ in parts]
    await _planned_for_its_dates(session)
    for values in await session.execute(_statement(period, scope, timezone, parts)):
        found[values[0]].append(_row(values))
    return found


async def total(session: AsyncSession, period: Period, scope: Scope, timezone: ZoneInfo) -> Figures:
    """The period's figures in the scope, all in one."""
    (row,) = (await _parts(session, period, scope, timezone, [None]))[0]
    return row.figures


async def rows_in_batches(
    session: AsyncSession,
    period: Period,
    scope: Scope,
    by: Dimension,
    timezone: ZoneInfo,
    size: int = BATCH,
) -> AsyncIterator[list[Row]]:
    """The breakdown by `by`, largest omzet first, `size` rows at a time, read from a cursor
    as they are used: a year by merchant is hundreds of thousands of rows."""
    statement = _statement(period, scope, timezone, [by])
    await _planned_for_its_dates(session)
    result = await session.stream(statement.execution_options(yield_per=size))
    async for batch in result.partitions(size):
        yield [_row(values) for values in batch]


async def top_rows(
    session: AsyncSession,
    period: Period,
    scope: Scope,
    by: Dimension,
    timezone: ZoneInfo,
    limit: int,
    size: int = BATCH,
) -> Listing:
    """The breakdown by `by`'s first `limit` rows, largest omzet first, `size` at a time, and
    how many it has in all (known with the first rows, which are read here)."""
    statement = _statement(period, scope, timezone, [by], counted=True).limit(limit)
    await _planned_for_its_dates(session)
    result = await session.stream(statement.execution_options(yield_per=size))
    partitions = result.partitions(size)
    first = await anext(partitions, [])

    async def batches() -> AsyncIterator[list[Row]]:
        batch = first
        while batch:
            yield [_row(values[:-1]) for values in batch]
            batch = await anext(partitions, [])

    return Listing(int(first[0][-1]) if first else 0, batches())


async def rows(
    session: AsyncSession, period: Period, scope: Scope, by: Dimension, timezone: ZoneInfo
) -> list[Row]:
    return (await _parts(session, period, scope, timezone, [by]))[0]


async def results(
    session: AsyncSession, period: Period, scope: Scope, by: Dimension, timezone: ZoneInfo
) -> Results:
    """The period's figures in the scope, in total and by `by`, largest omzet first."""
    (total_,), by_rows = await _parts(session, period, scope, timezone, [None, by])
    return Results(period, scope, by, total_.figures, by_rows)


async def summary(
    session: AsyncSession, period: Period, scope: Scope, timezone: ZoneInfo
) -> Summary:
    """What the chat's summary and the chart show: the total, per kota and per kecamatan, in
    one statement."""
    parts = [None, Dimension.KOTA, Dimension.KECAMATAN]
    (total_,), kota, kecamatan = await _parts(session, period, scope, timezone, parts)
    return Summary(period, scope, total_.figures, kota, kecamatan)


# ---- the broadcast funnel ------------------------------------------------------------------

# An order counts for the broadcast when it is placed this long after the delivery.
ORDERED_WITHIN = timedelta(hours=48)
# Kept once this long after the broadcast started: orders, deliveries and reads are in by
# then, and its rows are far from being pruned (`models.outbox.KEEP_OUTBOX`).
KEEP_FUNNEL_AFTER = timedelta(days=7)
assert KEEP_FUNNEL_AFTER + timedelta(days=7) < KEEP_OUTBOX


def _later(instant: Any, delta: timedelta, dialect: str) -> ColumnElement[Any]:
    seconds = int(delta.total_seconds())
    if dialect == "postgresql":
        return instant + literal_column(f"interval '{seconds} seconds'")  # type: ignore[no-any-return]
    # SQLite stores instants as 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC.
    return func.strftime("%Y-%m-%d %H:%M:%f", instant, f"+{seconds} seconds")


def _delivered() -> ColumnElement[bool]:
    # WhatsApp reports delivery; Telegram and the console have delivered what they took.
    return or_(
        OutboxMessage.delivered_at.is_not(None),
        and_(OutboxMessage.status == SENT, OutboxMessage.channel != "whatsapp"),
    )


async def _live_counts(session: AsyncSession, broadcast_id: int) -> tuple[int, int, int]:
    """Delivered, read and ordered, from the broadcast's outbox rows."""
    dialect = session.get_bind().dialect.name
    row = OutboxMessage
    ordered = exists(
        select(literal(1)).where(
            Order.person_id == row.person_id,
            Order.created_at >= row.sent_at,
            Order.created_at < _later(row.sent_at, ORDERED_WITHIN, dialect),
        )
    )
    counts = (
        await session.execute(
            select(
                func.count(case((_delivered(), row.id))),
                func.count(row.read_at),
                func.count(
                    distinct(case((and_(row.sent_at.is_not(None), ordered), row.person_id)))
                ),
            ).where(row.broadcast_id == broadcast_id)
        )
    ).one()
    return int(counts[0]), int(counts[1]), int(counts[2])


async def funnel(session: AsyncSession, friday: date, timezone: ZoneInfo) -> Funnel:
    """How the Friday's broadcast led to orders: from its kept counts once its rows may be
    pruned, else from the rows. A Friday without a broadcast has an empty funnel."""
    broadcast = await broadcast_for(session, friday)
    if broadcast is None:
        return Funnel(friday)
    started = broadcast.started_at is not None
    if not started:
        return Funnel(friday, status=broadcast.status)
    pressed = await session.scalar(
        select(func.count()).where(BroadcastPress.broadcast_id == broadcast.id)
    )
    if broadcast.funnel_kept_at is not None:
        delivered = broadcast.funnel_delivered or 0
        read = broadcast.funnel_read or 0
        ordered = broadcast.funnel_ordered or 0
    else:
        delivered, read, ordered = await _live_counts(session, broadcast.id)
    return Funnel(
        friday,
        broadcast.recipients,
        delivered,
        read,
        int(pressed or 0),
        ordered,
        broadcast.status,
        started,
    )


async def funnels(
    session: AsyncSession, period: Period, scope: Scope, timezone: ZoneInfo
) -> list[Funnel]:
    """The funnel of each Friday within the period, oldest first, for a report of all
    Jakarta; none for a kota or kecamatan: the broadcast goes to subscribers wherever they
    live, so beside an area's figures it would count other areas' people."""
    if scope.kota is not None or scope.kecamatan is not None:
        return []
    return [await funnel(session, friday, timezone) for friday in period.edition_days]


async def keep_funnels(session: AsyncSession, now: datetime) -> int:
    """Keeps the funnel counts of broadcasts started long enough ago on the broadcast, before
    the nightly prune deletes their outbox rows; returns how many were kept."""
    due = list(
        await session.scalars(
            select(Broadcast.id).where(
                Broadcast.started_at < now - KEEP_FUNNEL_AFTER, Broadcast.funnel_kept_at.is_(None)
            )
        )
    )
    for broadcast_id in due:
        delivered, read, ordered = await _live_counts(session, broadcast_id)
        await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(
                funnel_kept_at=now,
                funnel_delivered=delivered,
                funnel_read=read,
                funnel_ordered=ordered,
            )
            .execution_options(synchronize_session=False)
        )
    return len(due)


# ---- what sells in its category, and what does not -------------------------------------------

# How far back the editions of a category are looked for.
EDITIONS_LOOKBACK_WEEKS = 260
# The most editions a list may span: a year of weekly editions, beyond what any rotation gives
# one category in that time; more is a typo.
MOST_EDITIONS = 52


async def editions_featuring(
    session: AsyncSession, category_id: int, count: int, last: date
) -> list[date]:
    """The last `count` Fridays up to `last` that featured the category, newest first."""
    categories = await categories_in_rotation(session)
    if not categories:
        return []
    first = last - timedelta(weeks=EDITIONS_LOOKBACK_WEEKS)
    planned = dict(
        (
            await session.execute(
                select(FridayEdition.date, FridayEdition.category_id).where(
                    FridayEdition.date >= first, FridayEdition.date <= last
                )
            )
        ).all()
    )
    friday = last - timedelta(days=(last.weekday() - FRIDAY) % 7)
    found: list[date] = []
    while friday >= first and len(found) < count:
        featured = planned.get(friday)
        if featured is None:
            featured = categories[rotation_index(friday, len(categories))].id
        if featured == category_id:
            found.append(friday)
        friday -= timedelta(weeks=1)
    return found


def _on_days(days: list[date], timezone: ZoneInfo) -> ColumnElement[bool]:
    bounds = [day_bounds(day, timezone) for day in days]
    return or_(*(and_(Order.created_at >= s, Order.created_at < e) for s, e in bounds))


async def best_sellers(
    session: AsyncSession,
    category_id: int,
    editions: int,
    last: date,
    timezone: ZoneInfo,
    limit: int = 10,
) -> list[Row]:
    """The category's products that sold most units on its last `editions` Fridays up to
    `last`, with their units, omzet and orders (of equal units, the larger omzet first); a
    product's parent is its merchant."""
    days = await editions_featuring(session, category_id, editions, last)
    if not days:
        return []
    found = await session.execute(
        select(
            Product.name,
            Merchant.name,
            Product.id,
            _total(OrderItem.quantity).label("units"),
            _total(OrderItem.unit_price * OrderItem.quantity).label("omzet"),
            func.count(distinct(Order.id)),
        )
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .join(Product, Product.id == OrderItem.product_id)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .where(Product.category_id == category_id, _sold(), _on_days(days, timezone))
        .group_by(Product.id, Product.name, Merchant.name)
        .order_by(literal_column("units").desc(), literal_column("omzet").desc(), Product.id)
        .limit(limit)
    )
    return [
        Row(name, Figures(placed=orders, sold=orders, units=units, omzet=omzet), merchant, id)
        for name, merchant, id, units, omzet, orders in found
    ]


def _unsold(days: list[date], category_id: int, timezone: ZoneInfo) -> Select[Any]:
    """The category's shown products listed before the first of `days` that sold nothing on
    any of them, by id."""
    listed_by = day_bounds(min(days), timezone)[0]
    sold_then = exists(
        select(literal(1))
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .where(OrderItem.product_id == Product.id, _sold(), _on_days(days, timezone))
    )
    return (
        select(Product.name, Merchant.name, Product.id)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .where(
            Product.category_id == category_id,
            listed(Product),
            Product.created_at < listed_by,
            ~sold_then,
        )
        .order_by(Product.id)
    )


async def unsold_products(
    session: AsyncSession,
    category_id: int,
    editions: int,
    last: date,
    timezone: ZoneInfo,
    limit: int | None = None,
    offset: int = 0,
) -> list[Row]:
    """The category's shown products that sold nothing on any of its last `editions` Fridays
    up to `last`, though listed before the first of them: what may be demoted. Empty until
    the category has had that many editions. `limit` and `offset` read one page of them."""
    days = await editions_featuring(session, category_id, editions, last)
    if len(days) < editions or not days:
        return []
    statement = _unsold(days, category_id, timezone).limit(limit)
    if offset:
        statement = statement.offset(offset)
    found = await session.execute(statement)
    return [Row(name, Figures(), merchant, id) for name, merchant, id in found]


async def count_unsold(
    session: AsyncSession, category_id: int, editions: int, last: date, timezone: ZoneInfo
) -> int:
    """How many products `unsold_products` lists in all."""
    days = await editions_featuring(session, category_id, editions, last)
    if len(days) < editions or not days:
        return 0
    listed = _unsold(days, category_id, timezone).order_by(None).subquery()
    return int(await session.scalar(select(func.count()).select_from(listed)) or 0)


@dataclass(frozen=True)
class MerchantFriday:
    friday: date
    orders: int
    units: int
    omzet: int


async def merchant_fridays(
    session: AsyncSession, merchant_id: int, fridays: list[date], timezone: ZoneInfo
) -> list[MerchantFriday]:
    """One merchant's sold orders, units and omzet on each of these Fridays (Jakarta days)."""
    found = []
    for friday in fridays:
        first, last = Period.friday(friday).instants(timezone)
        sold = (
            select(Order.id, Order.total)
            .where(
                Order.merchant_id == merchant_id,
                Order.created_at >= first,
                Order.created_at < last,
                Order.status.not_in((REJECTED, CANCELLED, EXPIRED)),
            )
            .subquery()
        )
        orders, omzet = (
            await session.execute(select(func.count(sold.c.id), func.sum(sold.c.total)))
        ).one()
        units = await session.scalar(
            select(func.sum(OrderItem.quantity)).where(OrderItem.order_id.in_(select(sold.c.id)))
        )
        found.append(MerchantFriday(friday, int(orders or 0), int(units or 0), int(omzet or 0)))
    return found
