"""Keeps `products.recent_sold` equal to the units sold in the last four weeks."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Product
from models.ordering import UNFULFILLED, Order, OrderItem

WINDOW = timedelta(weeks=4)


async def refresh_recent_sales(session: AsyncSession, now: datetime) -> None:
    """Recomputes every product's recent sales, so sales older than the window age out."""
    sold = (
        select(func.coalesce(func.sum(OrderItem.quantity), 0))
        .join(Order, Order.id == OrderItem.order_id)
        .where(
            OrderItem.product_id == Product.id,
            Order.created_at >= now - WINDOW,
            Order.status.not_in(UNFULFILLED),
        )
        .scalar_subquery()
    )
    # Only rows whose figure changes are written: each write also moves the product in the
    # search index.
    await session.execute(
        update(Product)
        .where(Product.recent_sold != sold)
        .values(recent_sold=sold)
        .execution_options(synchronize_session=False)
    )
