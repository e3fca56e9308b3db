"""The console channel: a chat in the terminal, one line in, replies and notices out."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.attachments import media_link, open_attachment, size_text
from handlers.messages import Attachment, Incoming, Reply
from handlers.notices import render_notice
from handlers.texts import text
from models.chats import remember_menu
from models.media import key_of
from models.outbox import take_pending_for
from models.people import person_language
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)

# While the person is idle, new notices (e.g. an order for a merchant) show this often.
POLL_SECONDS = 2.0
# Numbered names tried for a file before it is not saved.
SAVE_ATTEMPTS = 100


def render(reply: Reply, saved: str | None = None) -> str:
    """The reply's text, its photo as a link, its file with where it was saved (`saved`),
    then each button as `N. label`."""
    lines = [reply.text]
    if reply.photo_url:
        lines.append(f"[foto] {reply.photo_url}")
    if reply.attachment:
        file = reply.attachment
        lines.append(f"[file] {file.name} ({size_text(file.size)}): {saved or 'not saved'}")
    lines += [f"{n}. {button.label}" for n, button in enumerate(reply.buttons, start=1)]
    return "\n".join(lines)


async def take_notices(app: App, identity: str) -> list[Reply]:
    """The messages the outbox holds for a console chat, rendered, and marked delivered."""
    async with UnitOfWork(app.sessions) as uow:
        rows = await take_pending_for(uow.session, identity, app.clock())
        replies = []
        for row in rows:
            language = await person_language(uow.session, row.person_id) or "id"
            replies.append(await render_notice(uow.session, row, language))
        menu = next((r for r in reversed(replies) if r.buttons), None)
        if menu is not None:
            payloads, labels = [b.payload for b in menu.buttons], [b.label for b in menu.buttons]
            await remember_menu(uow.session, identity, payloads, labels, app.clock())
        await uow.commit()
    return replies


class ConsoleChat:
    def __init__(self, app: App, name: str, output: TextIO, directory: Path | None = None) -> None:
        self.app = app
        # Where files that replies carry are saved: the working directory unless given.
        self.directory = directory
        self.identity = f"console:{name}"
        self.name = name
        self.output = output
        # Ids unique across runs, so a restarted chat is never taken for a redelivery.
        self._run = uuid.uuid4().hex[:12]
        self._sequence = 0

    async def _show(self, replies: list[Reply]) -> None:
        for reply in replies:
            saved = await self._save(reply.attachment) if reply.attachment else None
            self.output.write(render(await self._linked(reply), saved) + "\n\n")
        self.output.flush()

    async def _linked(self, reply: Reply) -> Reply:
        """The reply with a photo jbl keeps as its link: the expiring one that WhatsApp gets
        where `[whatsapp] public_url` is set, else where the store keeps it."""
        key = key_of(reply.photo_url)
        if key is None:
            return reply
        conversation, public_url = self.app.conversation, self.app.settings.whatsapp.public_url
        if public_url:
            return replace(reply, photo_url=await media_link(conversation, public_url, key))
        return replace(reply, photo_url=conversation.media.where(key))

    async def _save(self, attachment: Attachment) -> str:
        """Writes the file into the working directory, under its own name or, when a file of
        that name is there already, the first free `name (2).ext`; says where."""
        file = await open_attachment(self.app.conversation, attachment)
        if file is None:
            return "no longer available"
        directory = self.directory or Path.cwd()
        # Only the last part of the name, so that it cannot point outside the directory.
        name = Path(file.name).name.lstrip(".") or "file"
        stem, suffix = Path(name).stem, Path(name).suffix
        for number in range(1, SAVE_ATTEMPTS + 1):
            path = directory / (name if number == 1 else f"{stem} ({number}){suffix}")
            try:
                # "x": never overwrites a file that is there.
                with path.open("xb") as out:
                    out.write(file.content)
            except FileExistsError:
                continue
            except OSError as error:
                return f"not saved ({error.strerror})"
            return f"saved as {path}"
        return f"not saved: {name} and {SAVE_ATTEMPTS - 1} numbered names exist"

    async def say(self, line: str) -> None:
        self._sequence += 1
        incoming = Incoming(
            identity=self.identity,
            message_id=f"{self._run}-{self._sequence}",
            text=line,
            display_name=self.name,
        )
        try:
            replies = await self.app.conversation.handle(incoming)
        except Exception:
            # As `jbl run` does: the person is told, the log says why, and the chat goes on.
            log.exception("console message %s could not be handled", incoming.message_id)
            language = self.app.conversation.config.default_language
            replies = [Reply(text(language, "internal_error"))]
        await self._show(replies)
        await self.show_notices()

    async def show_notices(self) -> None:
        """Shows messages the outbox holds for this chat, marking them delivered."""
        await self._show(await take_notices(self.app, self.identity))

    async def run(self, lines: asyncio.Queue[str | None]) -> None:
        await self.show_notices()
        while True:
            try:
                line = await asyncio.wait_for(lines.get(), POLL_SECONDS)
            except TimeoutError:
                await self.show_notices()
                continue
            if line is None:
                return
            if line.strip():
                await self.say(line.rstrip("\n"))


def read_lines(source: TextIO, lines: asyncio.Queue[str | None]) -> None:
    """Feeds lines from a blocking stream into the queue from a daemon thread.

    A daemon thread, because a read blocked on a terminal must not keep Ctrl-C from ending
    the program. None marks the end of input.
    """
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in iter(source.readline, ""):
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=pump, name="console-input", daemon=True).start()


async def chat_in_terminal(app: App, name: str) -> None:
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    read_lines(sys.stdin, lines)
    await ConsoleChat(app, name, sys.stdout).run(lines)
