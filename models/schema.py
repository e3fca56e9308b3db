"""The schema the models declare, whole: every module that declares tables, imported."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from models.base import Base

# The modules that declare tables: a table is in the migrations' target only if its module is
# imported.
TABLE_MODULES = (
    "bot_setup",
    "broadcasts",
    "carts",
    "catalog",
    "chats",
    "claims",
    "demotion",
    "files",
    "friday",
    "invites",
    "links",
    "media",
    "ordering",
    "outbox",
    "payments",
    "people",
    "ratings",
    "senders",
    "staff",
    "subscriptions",
    "web_sessions",
)


def declared() -> MetaData:
    """The metadata of every table the models declare."""
    for name in TABLE_MODULES:
        importlib.import_module(f"models.{name}")
    return Base.metadata
