"""The Friday broadcast: one per Friday, to every subscriber, through the outbox.

A broadcast is planned (`scheduled`, with the moment it goes out), then started: its content
(headline, featured category, top products) is fixed and one outbox row per reachable
subscriber is written by a single INSERT … SELECT in the same transaction, so the rows exist
all together or not at all. The outbox sender drains them at the channel's limits; pausing,
resuming and cancelling move the rows not yet claimed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import receipts
from models.base import Base, UTCDateTime
from models.catalog import Category, Listing, Shelf, catalog_page
from models.errors import Refusal
from models.friday import FRIDAY, FridayEdition, set_edition, this_weeks_categories
from models.outbox import (
    BROADCAST_PRIORITY,
    CANCELLED,
    PAID_BROADCAST_PRIORITY,
    PAUSED,
    PENDING,
    SENDING,
    OutboxMessage,
    notify_person,
)
from models.people import TELEGRAM, WHATSAPP
from models.subscriptions import Subscription, audience, audience_by_channel, hears, reachable

SCHEDULED = "scheduled"
RUNNING = "sending"
HALTED = "paused"
DONE = "done"
STOPPED = "cancelled"
TOP_PRODUCTS = 5
KIND = "broadcast"
TEST_KIND = "broadcast_test"
# The notice to the staff member who chose the paid broadcast when Telegram refused it.
PAID_REFUSED_KIND = "broadcast_paid_refused"
# What Telegram takes from the bot's balance for a paid send, in Stars.
STARS_PER_PAID_SEND = Decimal("0.1")


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One broadcast per Friday, however often the job fires.
    friday: Mapped[date] = mapped_column(Date, unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    status: Mapped[str] = mapped_column(String(20), default=SCHEDULED)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Fixed when it starts: headline and top products as every subscriber sees them.
    headline: Mapped[str | None] = mapped_column(String(300))
    products: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # Subscribers left out at the start because their chat cannot receive.
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The funnel's counts read from its outbox rows, kept here before the rows are pruned
    # (models.results.keep_funnels); none until then.
    funnel_kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    funnel_delivered: Mapped[int | None] = mapped_column(Integer)
    funnel_read: Mapped[int | None] = mapped_column(Integer)
    funnel_ordered: Mapped[int | None] = mapped_column(Integer)
    # Telegram's paid broadcast (decision 0043): chosen for this Friday, and by whom; when
    # Telegram refused a paid send (the rest went at the free rate); the paid sends made.
    paid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    paid_chosen_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    paid_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_sends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)


class BroadcastPress(Base):
    """Someone pressed a broadcast's button into the catalog; once per person and broadcast,
    however often they press it."""

    __tablename__ = "broadcast_presses"

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    pressed_at: Mapped[datetime] = mapped_column(UTCDateTime)


async def record_press(
    session: AsyncSession, broadcast_id: int, person_id: int, now: datetime
) -> None:
    """Remembers the first press of the broadcast's button by the person; a forged or stale
    broadcast id is ignored."""
    if await session.get(Broadcast, broadcast_id) is None:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(BroadcastPress)
        .values(broadcast_id=broadcast_id, person_id=person_id, pressed_at=now)
        .on_conflict_do_nothing(index_elements=["broadcast_id", "person_id"])
    )


@dataclass(frozen=True)
class SendTime:
    """When in the week the broadcast of a Friday goes out (`[broadcast]` settings)."""

    weekday: int
    at: time
    timezone: ZoneInfo

    def of(self, friday: date) -> datetime:
        day = friday - timedelta(days=(FRIDAY - self.weekday) % 7)
        return datetime.combine(day, self.at, tzinfo=self.timezone)


@dataclass(frozen=True)
class Content:
    """What subscribers read: rendered by the conversation in each one's language."""

    friday: date
    category: Category
    headline: str | None
    products: tuple[Listing, ...]
    # The broadcast it is the content of; none for a preview or a staff member's test.
    broadcast_id: int | None = None


async def live_content(session: AsyncSession, friday: date) -> Content:
    """The content as it would go out now: the Friday's plan and its best products."""
    category, _ = await this_weeks_categories(session, friday)
    edition = await session.get(FridayEdition, friday)
    page = await catalog_page(session, Shelf("c", category.id), size=TOP_PRODUCTS)
    headline = edition.headline if edition is not None else None
    # Demoted products are never picks: they come last, so the page holds one only when the
    # category has fewer others than picks.
    picks = tuple(product for product in page.products if not product.demoted)
    return Content(friday, category, headline, picks)


def content_of(broadcast: Broadcast) -> Content:
    """The content fixed when the broadcast started."""
    products = tuple(Listing(*row) for row in broadcast.products)
    return Content(broadcast.friday, broadcast.category, broadcast.headline, products, broadcast.id)


async def contents_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Content]:
    if not ids:
        return {}
    found = await session.scalars(select(Broadcast).where(Broadcast.id.in_(ids)))
    return {b.id: content_of(b) for b in found}


async def content_for(session: AsyncSession, broadcast: Broadcast | None, friday: date) -> Content:
    if broadcast is not None and broadcast.status != SCHEDULED:
        return content_of(broadcast)
    return await live_content(session, friday)


async def broadcast_for(session: AsyncSession, friday: date) -> Broadcast | None:
    return await session.scalar(select(Broadcast).where(Broadcast.friday == friday))


MAX_HEADLINE = 300


async def plan_friday(
    session: AsyncSession,
    friday: date,
    category: Category,
    headline: str | None,
    this_friday: date,
) -> FridayEdition:
    """Plans a coming Friday: its featured category and headline (None: the default one).
    Refused for a day that is no Friday, has passed, or whose broadcast has started."""
    if friday.weekday() != FRIDAY:
        raise Refusal("plan_not_friday", day=friday.isoformat())
    if friday < this_friday:
        raise Refusal("plan_passed", day=friday.isoformat())
    headline = headline.strip() if headline is not None else None
    if headline is not None and not 1 <= len(headline) <= MAX_HEADLINE:
        raise Refusal("plan_headline_length", most=MAX_HEADLINE)
    started = await broadcast_for(session, friday)
    if started is not None and started.status != SCHEDULED:
        raise Refusal("plan_started", day=friday.isoformat())
    return await set_edition(session, friday, category, headline)


async def plan(session: AsyncSession, friday: date, send_at: datetime, now: datetime) -> Broadcast:
    """The Friday's broadcast, planned for `send_at` if it did not exist yet. Two processes
    planning the same Friday at once make one row."""
    category, _ = await this_weeks_categories(session, friday)
    values = {
        "friday": friday,
        "category_id": category.id,
        "status": SCHEDULED,
        "send_at": send_at,
        "products": [],
        "recipients": 0,
        "skipped": 0,
        "created_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(Broadcast).values(values).on_conflict_do_nothing(index_elements=["friday"])
    )
    found = await broadcast_for(session, friday)
    assert found is not None
    return found


async def reschedule(session: AsyncSession, broadcast: Broadcast, send_at: datetime) -> None:
    changed = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.status == SCHEDULED)
        .values(send_at=send_at)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        raise Refusal("broadcast_not_scheduled")
    await session.refresh(broadcast)


async def start(
    session: AsyncSession, broadcast: Broadcast, now: datetime, paid_allowed: bool = False
) -> int:
    """Fixes the content and writes one delivery per reachable subscriber; returns how many.
    Only a scheduled broadcast starts, once: a racing start finds it started. Its Telegram
    rows go as the paid broadcast if staff chose it and the deployment allows it
    (`paid_allowed`); otherwise it goes free, and says so."""
    content = await live_content(session, broadcast.friday)
    paid = Broadcast.paid if paid_allowed else false()
    started = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.status == SCHEDULED)
        .values(
            status=RUNNING,
            started_at=now,
            paid=paid,
            category_id=content.category.id,
            headline=content.headline,
            products=[[p.id, p.name, p.price, p.curated, p.recent_sold] for p in content.products],
        )
        .execution_options(synchronize_session=False)
    )
    if not started.rowcount:  # type: ignore[attr-defined]
        raise Refusal("broadcast_not_scheduled")
    _, unreachable = await audience(session, content.category)
    await session.refresh(broadcast)
    dialect = session.get_bind().dialect.name
    queued = await session.execute(
        _deliveries(broadcast.id, content.category, now, dialect, broadcast.paid)
    )
    count = int(queued.rowcount)  # type: ignore[attr-defined]
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id)
        .values(recipients=count, skipped=unreachable)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(broadcast)
    return count


def _deliveries(
    broadcast_id: int, category: Category, now: datetime, dialect: str, paid: bool
) -> Any:
    columns = (
        "kind",
        "payload",
        "person_id",
        "channel",
        "identity",
        "status",
        "attempts",
        "due_at",
        "created_at",
        "broadcast_id",
        "priority",
    )
    rows = (
        select(
            literal(KIND, String()),
            literal({"broadcast_id": broadcast_id}, JSON()),
            Subscription.person_id,
            Subscription.channel,
            Subscription.identity,
            literal(PENDING, String()),
            literal(0, Integer()),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
            literal(broadcast_id, Integer()),
            case(
                (Subscription.channel == TELEGRAM, PAID_BROADCAST_PRIORITY),
                else_=BROADCAST_PRIORITY,
            )
            if paid
            else literal(BROADCAST_PRIORITY, Integer()),
        )
        .select_from(Subscription)
        .where(hears(category), reachable(dialect))
    )
    return insert(OutboxMessage).from_select(columns, rows)


async def start_due(session: AsyncSession, now: datetime, paid_allowed: bool = False) -> list[int]:
    """Starts every scheduled broadcast whose time has come; returns their ids. One that
    another transaction is starting (the Friday job, the sweep or staff, in any process) is
    left to it, not started again and refused."""
    due = list(
        await session.scalars(
            select(Broadcast)
            .where(Broadcast.status == SCHEDULED, Broadcast.send_at <= now)
            .with_for_update(skip_locked=True)
        )
    )
    for broadcast in due:
        await start(session, broadcast, now, paid_allowed)
    return [b.id for b in due]


async def finish_sent(session: AsyncSession, now: datetime) -> None:
    """A running broadcast with nothing left to send is done."""
    left = exists().where(
        OutboxMessage.broadcast_id == Broadcast.id,
        OutboxMessage.status.in_((PENDING, SENDING, PAUSED)),
    )
    await session.execute(
        update(Broadcast)
        .where(Broadcast.status == RUNNING, ~left)
        .values(status=DONE, finished_at=now)
        .execution_options(synchronize_session=False)
    )


async def _move(
    session: AsyncSession, broadcast: Broadcast, before: tuple[str, ...], after: str
) -> None:
    moved = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.status.in_(before))
        .values(status=after)
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise Refusal("broadcast_state", status=broadcast.status)


async def _rows(
    session: AsyncSession, broadcast_id: int, before: tuple[str, ...], **values: Any
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status.in_(before))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def pause(session: AsyncSession, broadcast: Broadcast) -> None:
    """Rows not yet claimed wait; the ones being sent finish."""
    await _move(session, broadcast, (RUNNING,), HALTED)
    await _rows(session, broadcast.id, (PENDING,), status=PAUSED)
    await session.refresh(broadcast)


async def resume(session: AsyncSession, broadcast: Broadcast, now: datetime) -> None:
    await _move(session, broadcast, (HALTED,), RUNNING)
    await _rows(session, broadcast.id, (PAUSED,), status=PENDING, due_at=now)
    await session.refresh(broadcast)


async def cancel(session: AsyncSession, broadcast: Broadcast, now: datetime) -> None:
    """Everything not yet sent stays unsent, counted as cancelled."""
    await _move(session, broadcast, (SCHEDULED, RUNNING, HALTED), STOPPED)
    await _rows(session, broadcast.id, (PENDING, PAUSED), status=CANCELLED, last_error="cancelled")
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id)
        .values(finished_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(broadcast)


@dataclass(frozen=True)
class Rates:
    """The deployment's send rates, in messages a second: Telegram's free bulk rate, its paid
    broadcast's (None: staff cannot choose it), and the WhatsApp sender's."""

    telegram: float = 30.0
    whatsapp: float = 80.0
    paid: float | None = None


@dataclass(frozen=True)
class Estimate:
    """How long a broadcast takes to reach its recipients on each channel, and what the paid
    one costs (at most: Telegram charges only the sends beyond its free rate)."""

    telegram: int
    whatsapp: int
    free_seconds: float
    paid_seconds: float | None
    stars: Decimal | None
    whatsapp_seconds: float


async def estimate(session: AsyncSession, category: Category, rates: Rates) -> Estimate:
    """The estimate for a broadcast featuring `category`, sent now."""
    counts = await audience_by_channel(session, category)
    telegram, whatsapp = counts.get(TELEGRAM, 0), counts.get(WHATSAPP, 0)
    return Estimate(
        telegram=telegram,
        whatsapp=whatsapp,
        free_seconds=telegram / rates.telegram,
        paid_seconds=telegram / rates.paid if rates.paid else None,
        stars=telegram * STARS_PER_PAID_SEND if rates.paid else None,
        whatsapp_seconds=whatsapp / rates.whatsapp,
    )


async def choose_paid(
    session: AsyncSession, broadcast: Broadcast, paid: bool, person_id: int | None
) -> None:
    """Staff's choice of Telegram's paid broadcast for the Friday, before it starts."""
    chosen = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.status == SCHEDULED)
        .values(paid=paid, paid_chosen_by=person_id if paid else None)
        .execution_options(synchronize_session=False)
    )
    if not chosen.rowcount:  # type: ignore[attr-defined]
        raise Refusal("broadcast_not_scheduled")
    await session.refresh(broadcast)


async def record_paid(
    session: AsyncSession, sent: Mapping[int, int], refused: Iterable[int], now: datetime
) -> None:
    """Counts the paid sends made, by broadcast. A broadcast of which Telegram refused a paid
    send goes on free: its rows not sent yet leave the paid sender's queue for the free one,
    and the staff member who chose paid is told, once."""
    for broadcast_id, count in sent.items():
        await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(paid_sends=Broadcast.paid_sends + count)
            .execution_options(synchronize_session=False)
        )
    for broadcast_id in refused:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.broadcast_id == broadcast_id,
                OutboxMessage.priority == PAID_BROADCAST_PRIORITY,
                OutboxMessage.status.in_((PENDING, SENDING, PAUSED)),
            )
            .values(priority=BROADCAST_PRIORITY)
            .execution_options(synchronize_session=False)
        )
        turned = await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.paid_refused_at.is_(None))
            .values(paid_refused_at=now)
            .returning(Broadcast.paid_chosen_by, Broadcast.friday, Broadcast.paid_sends)
            .execution_options(synchronize_session=False)
        )
        first = turned.first()
        if first is not None and first.paid_chosen_by is not None:
            payload = {"friday": first.friday.isoformat(), "paid_sends": first.paid_sends}
            await notify_person(session, first.paid_chosen_by, PAID_REFUSED_KIND, payload, now)


@dataclass(frozen=True)
class Progress:
    counts: receipts.Progress
    # Deliveries per second since the start, and when the rest would be out at that rate.
    rate: float | None
    eta: datetime | None


async def progress(session: AsyncSession, broadcast: Broadcast, now: datetime) -> Progress:
    counts = await receipts.delivery_progress(session, OutboxMessage.broadcast_id == broadcast.id)
    rate = eta = None
    if broadcast.started_at is not None and counts.sent:
        seconds = ((broadcast.finished_at or now) - broadcast.started_at).total_seconds()
        rate = counts.sent / seconds if seconds > 0 else None
        if rate and counts.waiting and broadcast.status == RUNNING:
            eta = now + timedelta(seconds=counts.waiting / rate)
    return Progress(counts, rate, eta)


@dataclass(frozen=True)
class LiveProgress:
    """A broadcast being sent or on hold: its rows by status, and its paused rows by channel."""

    friday: date
    status: str
    recipients: int
    by_status: dict[str, int]
    paused: dict[str | None, int]


async def progress_of_live(session: AsyncSession) -> list[LiveProgress]:
    """The broadcasts being sent or on hold, with their rows counted: by status from the
    broadcast index alone (an index-only scan), and a held broadcast's paused rows by channel."""
    live = list(
        await session.scalars(select(Broadcast).where(Broadcast.status.in_((RUNNING, HALTED))))
    )
    progress = []
    for broadcast in live:
        of_it = OutboxMessage.broadcast_id == broadcast.id
        counted = await session.execute(
            select(OutboxMessage.status, func.count()).where(of_it).group_by(OutboxMessage.status)
        )
        paused: dict[str | None, int] = {}
        if broadcast.status == HALTED:
            by_channel = await session.execute(
                select(OutboxMessage.channel, func.count())
                .where(of_it, OutboxMessage.status == PAUSED)
                .group_by(OutboxMessage.channel)
            )
            paused = {channel: count for channel, count in by_channel.all()}
        progress.append(
            LiveProgress(
                broadcast.friday,
                broadcast.status,
                broadcast.recipients,
                {status: count for status, count in counted.all()},
                paused,
            )
        )
    return progress


async def calendar(
    session: AsyncSession, first: date, weeks: int
) -> list[tuple[date, Category, str | None, str | None]]:
    """The Fridays from `first` on: featured category, headline, broadcast state (if any)."""
    fridays = [first + timedelta(weeks=n) for n in range(weeks)]
    editions = {
        e.date: e
        for e in await session.scalars(select(FridayEdition).where(FridayEdition.date.in_(fridays)))
    }
    states = dict(
        (
            await session.execute(
                select(Broadcast.friday, Broadcast.status).where(Broadcast.friday.in_(fridays))
            )
        ).all()
    )
    planned = []
    for friday in fridays:
        category, _ = await this_weeks_categories(session, friday)
        edition = editions.get(friday)
        planned.append(
            (friday, category, edition.headline if edition else None, states.get(friday))
        )
    return planned
