"""Reading what the database holds, for assertions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from models.catalog import Product
from models.ordering import Order
from models.outbox import OutboxMessage
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App


async def product(app: App, name: str) -> Product:
    async with UnitOfWork(app.sessions) as uow:
        found = await uow.session.scalar(select(Product).where(Product.name == name))
        assert found is not None, name
        uow.session.expunge_all()
        return found


async def products(app: App) -> list[Product]:
    async with UnitOfWork(app.sessions) as uow:
        found = list(await uow.session.scalars(select(Product).order_by(Product.id)))
        uow.session.expunge_all()
        return found


async def set_product(app: App, product_name: str, **values: Any) -> None:
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(
            update(Product).where(Product.name == product_name).values(**values)
        )
        await uow.commit()


async def orders(app: App) -> list[Order]:
    async with UnitOfWork(app.sessions) as uow:
        found = list(await uow.session.scalars(select(Order).order_by(Order.id)))
        uow.session.expunge_all()
        return found


async def outbox(app: App) -> list[OutboxMessage]:
    async with UnitOfWork(app.sessions) as uow:
        found = list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        uow.session.expunge_all()
        return found


async def count(app: App, model: type) -> int:
    async with UnitOfWork(app.sessions) as uow:
        return await uow.session.scalar(select(func.count()).select_from(model)) or 0
