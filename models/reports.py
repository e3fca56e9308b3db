"""Figures of the program: orders by state, units sold and turnover (omzet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.ordering import UNFULFILLED, Order, OrderItem


@dataclass
class Figures:
    orders_by_status: dict[str, int] = field(default_factory=dict)
    # Only orders that did not end unfulfilled count as sold.
    units: int = 0
    omzet: int = 0

    @property
    def orders(self) -> int:
        return sum(self.orders_by_status.values())


async def shop_figures(
    session: AsyncSession, merchant_ids: list[int], start: datetime, end: datetime
) -> Figures:
    """Orders placed in [start, end) at the given merchants."""
    placed = (
        Order.merchant_id.in_(merchant_ids),
        Order.created_at >= start,
        Order.created_at < end,
    )
    figures = Figures()
    for status, count, omzet in await session.execute(
        # PostgreSQL sums a BIGINT as NUMERIC, which would come back as a Decimal.
        select(
            Order.status, func.count(), func.coalesce(cast(func.sum(Order.total), BigInteger), 0)
        )
        .where(*placed)
        .group_by(Order.status)
    ):
        figures.orders_by_status[status] = count
        if status not in UNFULFILLED:
            figures.omzet += omzet
    figures.units = (
        await session.scalar(
            select(func.coalesce(func.sum(OrderItem.quantity), 0))
            .join(Order, Order.id == OrderItem.order_id)
            .where(*placed, Order.status.not_in(UNFULFILLED))
        )
        or 0
    )
    return figures
