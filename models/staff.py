"""Staff: persons with the staff role, and the record of what each staff action did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime
from models.people import STAFF, Identity, Person, Role, is_staff, new_person
from models.web_sessions import end_sessions_of


class StaffAction(Base):
    """Who (a person in chat, or the command line) did what, and when."""

    __tablename__ = "staff_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    # `telegram:12345`, `console:ana` or `cli:<user>`: how the action came.
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The broadcast the action was about, if any.
    broadcast_id: Mapped[int | None] = mapped_column(Integer)


class ReportDelivery(Base):
    """A staff member's weekly report of a Friday, queued: the row that makes it go once,
    written in the transaction that queues it."""

    __tablename__ = "report_deliveries"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    friday: Mapped[date] = mapped_column(Date, primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)


async def staff_members(session: AsyncSession) -> list[tuple[int, str]]:
    """Every staff member's person id and language."""
    found = await session.execute(
        select(Person.id, Person.language)
        .join(Role, Role.person_id == Person.id)
        .where(Role.role == STAFF)
        .order_by(Person.id)
    )
    return [(person_id, language) for person_id, language in found]


async def claim_report(session: AsyncSession, person_id: int, friday: date, now: datetime) -> bool:
    """True if the person's report of that Friday was not queued yet: it is theirs to queue
    now, in this transaction. A second claim waits for the first to commit and gets False."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    claimed = await session.execute(
        dialect.insert(ReportDelivery)
        .values(person_id=person_id, friday=friday, queued_at=now)
        .on_conflict_do_nothing(index_elements=["person_id", "friday"])
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


async def grant_staff(session: AsyncSession, identity: str, now: datetime) -> bool:
    """Makes the person behind `identity` staff (someone who has not written yet included);
    False if they were staff already."""
    person_id = await session.scalar(
        select(Identity.person_id).where(Identity.identity == identity)
    )
    if person_id is None:
        person, _ = await new_person(session, identity, identity.split(":", 1)[1], "id", now)
        person_id = person.id
    elif await is_staff(session, person_id):
        return False
    session.add(Role(person_id=person_id, role=STAFF))
    await session.flush()
    return True


async def revoke_staff(session: AsyncSession, identity: str, now: datetime) -> bool:
    person_id = await session.scalar(
        select(Identity.person_id).where(Identity.identity == identity)
    )
    if person_id is None:
        return False
    removed = await session.execute(
        delete(Role).where(Role.person_id == person_id, Role.role == STAFF)
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        return False
    # Their web console sessions end with the role, not when they would have expired.
    await end_sessions_of(session, person_id, now)
    return True


async def record(
    session: AsyncSession,
    actor: str,
    action: str,
    now: datetime,
    *,
    person_id: int | None = None,
    broadcast_id: int | None = None,
    **detail: Any,
) -> None:
    session.add(
        StaffAction(
            person_id=person_id,
            actor=actor,
            action=action,
            detail=detail,
            at=now,
            broadcast_id=broadcast_id,
        )
    )
    await session.flush()


# The actor of what staff do in the web console (the person is `person_id`).
WEB = "web"
# Where an action came from, by the start of its actor: a chat channel, the command line, or
# the web console.
CHANNELS = (WEB, "telegram", "whatsapp", "console", "cli")


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    channel: str | None = None
    # Part of the person's name or of the actor, as typed.
    who: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    person: str | None
    action: str
    detail: dict[str, Any]

    @property
    def channel(self) -> str:
        head = self.actor.split(":", 1)[0]
        return head if head in CHANNELS else "cli"


async def audit(
    session: AsyncSession, found: AuditFilter, before_id: int | None, limit: int
) -> list[AuditRow]:
    """Staff actions, newest first, that match the filter; keyset paged by id."""
    query = (
        select(
            StaffAction.id,
            StaffAction.at,
            StaffAction.actor,
            Person.display_name,
            StaffAction.action,
            StaffAction.detail,
        )
        .outerjoin(Person, Person.id == StaffAction.person_id)
        .order_by(StaffAction.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(StaffAction.id < before_id)
    if found.action:
        query = query.where(StaffAction.action == found.action)
    if found.channel == "web":
        query = query.where(StaffAction.actor == "web")
    elif found.channel:
        query = query.where(StaffAction.actor.startswith(f"{found.channel}:", autoescape=True))
    if found.who:
        typed = found.who.lower()
        query = query.where(
            func.lower(Person.display_name).contains(typed, autoescape=True)
            | func.lower(StaffAction.actor).contains(typed, autoescape=True)
        )
    if found.since is not None:
        query = query.where(StaffAction.at >= found.since)
    if found.until is not None:
        query = query.where(StaffAction.at < found.until)
    rows = await session.execute(query)
    return [AuditRow(*row) for row in rows]


async def audit_actions(session: AsyncSession) -> list[str]:
    """Every kind of action recorded so far, for the filter's choices."""
    return list(
        await session.scalars(select(StaffAction.action).distinct().order_by(StaffAction.action))
    )
