"""One incoming message → one transaction → replies, rendered only after the commit."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from handlers import menu
from handlers.context import Chat, ConversationConfig
from handlers.messages import MAX_TEXT_LENGTH, Button, Incoming, Reply
from handlers.reply_writers import ReturnedReplies
from handlers.routes import (
    BLANK_ANSWERS,
    COMMANDS,
    GREETING,
    LINK_CODE,
    NUMERIC_STEPS,
    PHOTO_STEPS,
    SHARED_CONTACT,
    STEPS,
    TYPED_LINK_CODE,
    route_payload,
)
from handlers.texts import language_of, text
from models.chats import open_chat
from models.errors import Refusal
from models.files import DatabaseFiles
from models.media import MemoryMedia
from models.uow import UnitOfWork, lost_connection

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from handlers.reply_writers import ReplyWriter
    from models.files import FileStore
    from models.media import MediaStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


_COMMAND = re.compile(r"^/(\w{1,32})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
_MENU_NUMBER = re.compile(r"^\s*(\d{1,4})\s*[.)]?\s*$")


class Conversation:
    """The core every channel hands its messages to.

    `writers` are the channels' own ways of keeping replies (by channel); a channel without
    one gets its replies back from `handle`, to send after the commit (`ReturnedReplies`).
    `files` keeps the files that replies carry, for the handlers that make them and the
    channels that send them; `media` the photos and proofs people send, for good.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: ConversationConfig,
        clock: Clock,
        writers: Mapping[str, ReplyWriter] | None = None,
        files: FileStore | None = None,
        media: MediaStore | None = None,
    ) -> None:
        self.sessions = sessions
        self.files: FileStore = files or DatabaseFiles()
        # In memory unless given: a conversation built without the composition root (a
        # benchmark) keeps nothing on disk.
        self.media: MediaStore = media or MemoryMedia()
        self.config = config
        self.clock = clock
        self._writers = dict(writers or {})
        self._returned = ReturnedReplies()

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handles a message once; a redelivered message id gets no second answer. The
        replies are also given to the channel's writer, in the transaction. Every channel's
        text is cleaned here, once, before any route or field looks at it."""
        incoming = incoming.cleaned()
        for attempt in (1, 2):
            try:
                return await self._handle_once(incoming)
            except IntegrityError:
                # A concurrent first message of the same person, or a concurrent confirm of
                # the same checkout, committed first: the retry sees its result.
                if attempt == 2:
                    raise
                log.info("retrying %s after a concurrent write", incoming.message_id)
            except DBAPIError as error:
                # The server dropped the connection: the retry gets a new one. Had the commit
                # gone through before it broke, the claimed message id makes the retry a no-op.
                if attempt == 2 or not lost_connection(error):
                    raise
                log.warning("retrying %s: the database connection was lost", incoming.message_id)
        raise AssertionError("unreachable")

    async def _handle_once(self, incoming: Incoming) -> list[Reply]:
        try:
            return await self._in_transaction(incoming, None)
        except Refusal as refusal:
            # Everything the refused action wrote was rolled back with its transaction; this
            # one only records the message as handled and tells the person why.
            return await self._in_transaction(incoming, refusal)

    async def _in_transaction(self, incoming: Incoming, refusal: Refusal | None) -> list[Reply]:
        async with UnitOfWork(self.sessions) as uow:
            session, now = uow.session, self.clock()
            language = language_of(incoming.language_hint, self.config.default_language)
            opened = await open_chat(
                session,
                incoming.channel,
                incoming.bot,
                incoming.message_id,
                incoming.identity,
                incoming.display_name,
                language,
                now,
            )
            if opened is None:
                return []
            person, state = opened
            chat = Chat(session, person, state, incoming, now, self.config, self.files, self.media)
            if person.blocked:
                replies = [Reply(chat.t("blocked"))]
            elif refusal is not None:
                replies = [refusal_reply(chat, refusal)]
            else:
                replies = await self._action(chat)(chat)
            menu_reply = next((r for r in reversed(replies) if r.buttons), None)
            state.menu = [b.payload for b in menu_reply.buttons] if menu_reply else []
            state.labels = [b.label for b in menu_reply.buttons] if menu_reply else []
            writer = self._writers.get(incoming.channel, self._returned)
            after_commit = await writer.write(session, person, state, replies, now)
            await uow.commit()
        if after_commit is not None:
            after_commit()
        return replies

    def _action(self, chat: Chat) -> Callable[[Chat], Awaitable[list[Reply]]]:
        incoming, state = chat.incoming, chat.state
        if incoming.payload is not None:
            return route_payload(incoming.payload) or menu.stale_button
        if incoming.shared_phone is not None and state.step == "co_phone":
            return lambda c: STEPS["co_phone"](c, incoming.shared_phone or "")
        if incoming.shared_phone is not None:
            return SHARED_CONTACT
        sent_file = incoming.photo is not None or incoming.upload is not None
        if sent_file and state.step in PHOTO_STEPS:
            return lambda c: STEPS[state.step or ""](c, "")
        typed = (incoming.text or "").strip()
        if not typed:
            # E.g. an address of control characters only, which cleaning left blank.
            if incoming.text is not None and state.step in STEPS.keys() - BLANK_ANSWERS:
                return lambda c: STEPS[state.step or ""](c, "")
            return menu.not_understood
        if len(typed) > MAX_TEXT_LENGTH:
            return lambda c: _too_long(c)
        command = _COMMAND.match(typed)
        if command:
            handler = COMMANDS.get(command[1].lower())
            if handler is None:
                return lambda c: menu.unknown_command(c, command[1])
            args = (command[2] or "").strip()
            return lambda c: handler(c, args)
        pressed = _pressed(state.menu, state.labels, typed, numbers=state.step not in NUMERIC_STEPS)
        if pressed is not None:
            return route_payload(pressed) or menu.stale_button
        if state.step in STEPS:
            return lambda c: STEPS[state.step or ""](c, typed)
        code = LINK_CODE.fullmatch(typed)
        if code:
            return lambda c: TYPED_LINK_CODE(c, code[1] + code[2])
        number = _MENU_NUMBER.match(typed)
        if number:
            return lambda c: _not_on_menu(c, int(number[1]))
        # A chat's first message ("halo", where a platform sends no /start first) is greeted.
        return menu.not_understood if state.stored else GREETING


def _pressed(payloads: list[str], labels: list[str], typed: str, *, numbers: bool) -> str | None:
    """The payload of the menu button the person chose by typing its number or its label."""
    number = _MENU_NUMBER.match(typed)
    if number and numbers:
        index = int(number[1])
        return payloads[index - 1] if 1 <= index <= len(payloads) else None
    wanted = _plain(typed)
    matches = [p for p, label in zip(payloads, labels, strict=True) if _plain(label) == wanted]
    return matches[0] if wanted and matches else None


def _plain(label: str) -> str:
    """A label as a person would type it: no emoji or punctuation, any case."""
    return " ".join(re.sub(r"[^\w\s]", " ", label).lower().split())


def refusal_reply(chat: Chat, refusal: Refusal) -> Reply:
    params: dict[str, Any] = {
        key: text(chat.language, f"status_{value}") if key == "status" else value
        for key, value in refusal.params.items()
    }
    return Reply(chat.t(refusal.key, **params), menu.main_menu_buttons(chat))


async def _too_long(chat: Chat) -> list[Reply]:
    return [Reply(chat.t("too_long", limit=MAX_TEXT_LENGTH), _current_menu(chat))]


async def _not_on_menu(chat: Chat, number: int) -> list[Reply]:
    buttons = _current_menu(chat)
    if not buttons:
        return await menu.not_understood(chat)
    return [Reply(chat.t("not_on_menu", number=number, last=len(buttons)), buttons)]


def _current_menu(chat: Chat) -> tuple[Button, ...]:
    """The menu the person last saw, shown again so their choice still works."""
    state = chat.state
    return tuple(
        Button(label, payload) for label, payload in zip(state.labels, state.menu, strict=True)
    )
