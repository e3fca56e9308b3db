"""`jbl merchant …`: staff manage who runs which shop."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot.telegram.links import start_url
from handlers.routes import join_link
from models.catalog import Merchant
from models.invites import create_invite, remove_operator
from models.people import Identity, Role
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.bootstrap import App


async def print_merchants(app: App, ids: list[int]) -> list[int]:
    """`id<TAB>name<TAB>area<TAB>operators`; returns the ids that do not exist."""
    operators = (
        select(Role.merchant_id, func.count(Identity.identity).label("n"))
        .join(Identity, Identity.person_id == Role.person_id)
        .where(Role.role == "merchant")
        .group_by(Role.merchant_id)
        .subquery()
    )
    query = (
        select(Merchant, func.coalesce(operators.c.n, 0))
        .outerjoin(operators, operators.c.merchant_id == Merchant.id)
        .order_by(Merchant.id)
    )
    if ids:
        query = query.where(Merchant.id.in_(ids))
    found: set[int] = set()
    async with app.sessions() as session:
        async for merchant, count in await session.stream(query):
            found.add(merchant.id)
            names = await _operator_identities(session, merchant.id) if count else []
            print(f"{merchant.id}\t{merchant.name}\t{merchant.area}\t{', '.join(names) or '-'}")
    return [id for id in ids if id not in found]


async def _operator_identities(session: AsyncSession, merchant_id: int) -> list[str]:
    rows = await session.scalars(
        select(Identity.identity)
        .join(Role, Role.person_id == Identity.person_id)
        .where(Role.role == "merchant", Role.merchant_id == merchant_id)
        .order_by(Identity.identity)
    )
    return list(rows)


async def invite(app: App, merchant_id: int, username: str | None) -> str:
    """Creates a single-use invite and returns the lines to give the operator."""
    valid = timedelta(days=app.settings.merchants.invite_valid_days)
    async with UnitOfWork(app.sessions) as uow:
        created = await create_invite(uow.session, merchant_id, app.clock(), valid)
        await uow.commit()
    expires = created.expires_at.astimezone(app.settings.timezone).strftime("%Y-%m-%d %H:%M")
    lines = [f"code: {created.code}", f"expires: {expires} ({app.settings.broadcast.timezone})"]
    lines.append(f"in chat: /gabung {created.code}")
    if username:
        lines.append(f"telegram: {start_url(username, join_link(created.code))}")
    return "\n".join(lines)


async def unlink(app: App, merchant_id: int, identity: str) -> bool:
    async with UnitOfWork(app.sessions) as uow:
        removed = await remove_operator(uow.session, merchant_id, identity)
        await uow.commit()
    return removed
