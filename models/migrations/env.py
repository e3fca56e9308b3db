"""Alembic environment: migrations run on a connection handed over by `models.migrate`."""

from alembic import context

from models import (  # noqa: F401
    broadcasts,
    carts,
    catalog,
    chats,
    files,
    friday,
    invites,
    ordering,
    outbox,
    people,
    ratings,
    staff,
    subscriptions,
)
from models.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
