"""A person in a chat, as tests drive them: they type, press buttons and read what they see."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.console import take_notices
from handlers.messages import Incoming, Reply
from handlers.routes import route_payload
from models.people import Identity, Person
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App

_ids = itertools.count(1)


def assert_buttons_route(replies: list[Reply]) -> None:
    """Every button a person is shown leads somewhere: a payload no route reads would only
    ever answer "stale button"."""
    unrouted = [b.payload for r in replies for b in r.buttons if route_payload(b.payload) is None]
    assert not unrouted, f"buttons that route nowhere: {unrouted}"


class Chatter:
    def __init__(
        self,
        app: App,
        identity: str,
        language_hint: str | None = None,
        sender_phone: str | None = None,
    ) -> None:
        self.app = app
        self.identity = identity
        self.language_hint = language_hint
        # The number a platform vouches for on every message (WhatsApp's sender).
        self.sender_phone = sender_phone
        self.replies: list[Reply] = []

    async def _deliver(self, incoming: Incoming) -> list[Reply]:
        self.replies = await self.app.conversation.handle(incoming)
        assert_buttons_route(self.replies)
        return self.replies

    def _incoming(self, **kwargs: str | None) -> Incoming:
        return Incoming(
            identity=self.identity,
            message_id=f"m{next(_ids)}",
            display_name=self.identity.split(":")[1],
            language_hint=self.language_hint,
            sender_phone=self.sender_phone,
            **kwargs,  # type: ignore[arg-type]
        )

    async def send(self, text: str) -> list[Reply]:
        """Types a message, as on the console or WhatsApp."""
        return await self._deliver(self._incoming(text=text))

    async def press(self, label: str) -> list[Reply]:
        """Presses the last menu's button whose label contains `label`, as on Telegram."""
        return await self.send_payload(self.button(label))

    async def choose(self, label: str) -> list[Reply]:
        """Types the number of the button whose label contains `label`, as on the console."""
        return await self.send(str(self.labels.index(self._label(label)) + 1))

    async def send_payload(self, payload: str) -> list[Reply]:
        """Sends a raw button payload: what a forged or stale button press looks like."""
        return await self._deliver(self._incoming(payload=payload))

    async def read_notices(self) -> list[Reply]:
        """Reads what the outbox brought to this console chat; its buttons become the menu."""
        notices = await take_notices(self.app, self.identity)
        assert_buttons_route(notices)
        self.replies = notices
        return notices

    async def send_photo(self, photo: str) -> list[Reply]:
        """Sends a photo, as the channel gives it (`telegram:<file id>`, `whatsapp:<url>`)."""
        return await self._deliver(self._incoming(photo=photo))

    async def share_phone(self, phone: str) -> list[Reply]:
        return await self._deliver(self._incoming(shared_phone=phone))

    @property
    def text(self) -> str:
        return "\n\n".join(reply.text for reply in self.replies)

    @property
    def labels(self) -> list[str]:
        menu = next((r for r in reversed(self.replies) if r.buttons), None)
        return [b.label for b in menu.buttons] if menu else []

    def _label(self, part: str) -> str:
        matches = [label for label in self.labels if part in label]
        assert len(matches) == 1, f"{part!r} matches {matches} among {self.labels}"
        return matches[0]

    def button(self, label: str) -> str:
        menu = next(r for r in reversed(self.replies) if r.buttons)
        wanted = self._label(label)
        return next(b.payload for b in menu.buttons if b.label == wanted)

    async def person(self) -> Person:
        async with UnitOfWork(self.app.sessions) as uow:
            person = await uow.session.scalar(
                select(Person).join(Identity).where(Identity.identity == self.identity)
            )
            assert person is not None
            uow.session.expunge_all()
            return person
