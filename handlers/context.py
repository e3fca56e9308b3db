"""What a handler gets: the person, their chat state, the session, the clock and texts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from handlers.texts import text
from models.broadcasts import Rates, SendTime

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from handlers.messages import Incoming
    from models.chats import OpenedChat
    from models.files import FileStore
    from models.media import MediaStore
    from models.people import Person


@dataclass(frozen=True)
class ConversationConfig:
    timezone: ZoneInfo
    default_language: str = "id"
    page_size: int = 8
    # When the Friday broadcast goes out: weekday (0 = Monday) and local time.
    broadcast_weekday: int = 4
    broadcast_time: time = time(7)
    # How many editions of a category the best sellers and products without a sale span.
    report_editions: int = 4
    # A product a merchant adds, or whose name, description or photo they change, waits for
    # staff's review before it is listed.
    review_new_products: bool = True
    # Over how many of its category's editions a product without a sale is demoted.
    demote_after_fridays: int = 2
    # In a category, the products of the resident's kecamatan come first within the same rank.
    local_first: bool = False
    # The channels' send rates, for the broadcast's estimates; with a paid rate, staff may
    # choose Telegram's paid broadcast.
    rates: Rates = field(default_factory=Rates)
    # Where staff open the web console (`[web] public_url`); None: it has no public address.
    console_url: str | None = None

    @property
    def send_time(self) -> SendTime:
        return SendTime(self.broadcast_weekday, self.broadcast_time, self.timezone)


@dataclass
class Chat:
    session: AsyncSession
    person: Person
    state: OpenedChat
    incoming: Incoming
    now: datetime
    config: ConversationConfig
    # Where a file the reply carries is kept (`handlers.attachments.attach`).
    files: FileStore
    # Where photos and proofs sent in chat are kept for good (`handlers.media.keep_upload`).
    media: MediaStore

    @property
    def language(self) -> str:
        return self.person.language

    @property
    def today(self) -> date:
        return self.now.astimezone(self.config.timezone).date()

    def t(self, key: str, **params: Any) -> str:
        return text(self.person.language, key, **params)

    def begin_step(self, step: str, **data: Any) -> None:
        """Waits for typed text for `step`, keeping `data` for it."""
        self.state.step = step
        self.keep(**data)

    def keep(self, **data: Any) -> None:
        # A new dict, so the JSON column is seen as changed.
        self.state.data = {**self.state.data, **data}

    def end_step(self) -> None:
        self.state.step = None
