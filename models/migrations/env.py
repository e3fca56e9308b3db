"""Alembic environment: migrations run on a connection handed over by `models.migrate`."""

from alembic import context

from models.schema import declared

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=declared(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
