"""Reading what the database holds, for assertions."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select, update

from models.catalog import Category, Merchant, Product, search_text_for
from models.ordering import Order
from models.outbox import CLAIMABLE, OutboxMessage
from models.payments import PaymentDetails
from models.people import Role, new_person
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App


async def _all(app: App, query: Select[Any]) -> list[Any]:
    """Rows read in their own session and detached from it, for plain attribute access."""
    async with UnitOfWork(app.sessions) as uow:
        found = list(await uow.session.scalars(query))
        uow.session.expunge_all()
        return found


async def product(app: App, name: str) -> Product:
    found = await _all(app, select(Product).where(Product.name == name))
    assert len(found) == 1, name
    return found[0]


async def products(app: App) -> list[Product]:
    return await _all(app, select(Product).order_by(Product.id))


async def set_product(app: App, product_name: str, **values: Any) -> None:
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(
            update(Product).where(Product.name == product_name).values(**values)
        )
        await uow.commit()


async def orders(app: App) -> list[Order]:
    return await _all(app, select(Order).order_by(Order.id))


async def outbox(app: App) -> list[OutboxMessage]:
    return await _all(app, select(OutboxMessage).order_by(OutboxMessage.id))


async def sent_to(app: App, identity: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Until nothing to `identity` is waiting or being sent: the platform may have a message
    before jbl has recorded it as sent, and a clock moved on meanwhile would lapse its lease."""
    async with asyncio.timeout(timeout):
        # A condition in the database, looked at again shortly.
        while any(r.identity == identity and r.status in CLAIMABLE for r in await outbox(app)):  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def count(app: App, model: type) -> int:
    async with UnitOfWork(app.sessions) as uow:
        return await uow.session.scalar(select(func.count()).select_from(model)) or 0


async def add_operator(app: App, merchant_id: int, identity: str, language: str = "id") -> None:
    """A merchant operator who chats from `identity` (joining by invite comes later)."""
    async with UnitOfWork(app.sessions) as uow:
        now = app.clock()
        person, _ = await new_person(uow.session, identity, "Operator", language, now)
        uow.session.add(Role(person_id=person.id, role="merchant", merchant_id=merchant_id))
        await uow.commit()


async def give_payment_details(app: App, merchant_id: int) -> None:
    """A bank account for the merchant, as `/pembayaran` would save it."""
    async with UnitOfWork(app.sessions) as uow:
        uow.session.add(
            PaymentDetails(
                merchant_id=merchant_id,
                bank="BCA",
                account_number="1234567890",
                account_holder="Toko Contoh",
                updated_at=app.clock(),
            )
        )
        await uow.commit()


async def set_products(app: App, **values: Any) -> None:
    """Sets the same values on every product."""
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(update(Product).values(**values))
        await uow.commit()


async def add_shop(
    app: App, name: str, kota: str, kecamatan: str, kelurahan: str | None, products: int
) -> None:
    """A merchant of an area with `products` listed products of Makanan & Minuman, and one
    more it hides."""
    async with UnitOfWork(app.sessions) as uow:
        session, now = uow.session, app.clock()
        category = await session.scalar(select(Category).where(Category.slug == "makanan-minuman"))
        assert category is not None
        merchant = Merchant(
            name=name, kota=kota, kecamatan=kecamatan, kelurahan=kelurahan, created_at=now
        )
        session.add(merchant)
        for n in range(products + 1):
            product_name = f"{name} produk {n + 1}"
            session.add(
                Product(
                    merchant=merchant,
                    category=category,
                    name=product_name,
                    price=10_000,
                    stock=5,
                    active=n < products,
                    search_text=search_text_for(product_name, name, category),
                    created_at=now,
                )
            )
        await uow.commit()


async def set_merchant(app: App, merchant_name: str, **values: Any) -> None:
    async with UnitOfWork(app.sessions) as uow:
        await uow.session.execute(
            update(Merchant).where(Merchant.name == merchant_name).values(**values)
        )
        await uow.commit()
