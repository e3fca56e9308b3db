"""The outbox sender: drains one channel's outbox rows at that platform's limits.

Each row is claimed (committed as `sending` with a lease) before it is sent and its outcome
recorded after, so a crash resends at most the rows that were in flight; a stop gives the
unsent claimed rows back at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from handlers.messages import Reply
from handlers.notices import render_notice
from models.outbox import Claimed, Outcomes, claim_due, record_outcomes
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """The platform asks to slow down: wait `seconds`, then try the same row again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class Unreachable(Exception):
    """The chat cannot receive (bot blocked, account deleted): stop sending to it."""


class Rejected(Exception):
    """The platform refused this message for good; trying again would not help."""


class NeedsTemplate(Exception):
    """The platform takes only an approved template for this chat now (WhatsApp outside its
    24-hour window), and none is configured: the row is not attempted (`needs_template`)."""


class Transport(Protocol):
    """How one channel sends rendered replies to one of its chats."""

    channel: str

    async def deliver(self, identity: str, replies: Sequence[Reply]) -> None:
        """Raises RetryLater, Unreachable or Rejected, or any other error for a transient one."""
        ...


class RowTransport(Transport, Protocol):
    """A transport that needs the row itself, not only its chat: WhatsApp names the row in
    each message's status callback, picks a template by the row's kind, and keeps to the
    24-hour window from the recipient's last message. The sender calls `deliver_row` then."""

    async def deliver_row(self, claimed: Claimed, replies: Sequence[Reply]) -> None:
        """As `deliver`; may also raise NeedsTemplate."""
        ...


@dataclass(frozen=True)
class Limits:
    rate_per_s: float
    per_chat_per_s: float
    # Failed attempts before a row is given up as failed.
    max_attempts: int = 5
    # Rows claimed at once: about this many seconds of sending.
    claim_seconds: float = 2.0
    # How long a claim holds before another sender may take the row.
    lease: timedelta = timedelta(seconds=60)
    # How often an idle sender looks for new rows (other processes write them too).
    poll_seconds: float = 0.25
    in_flight: int = 64


@dataclass
class Pacer:
    """Spaces sends evenly at a rate overall, and at another rate per chat (monotonic seconds).

    Every send takes the next overall slot in order; one whose chat is still busy goes out
    later than its slot rather than holding back the chats behind it.
    """

    rate_per_s: float
    per_chat_per_s: float
    clock: Callable[[], float] = time.monotonic
    _next: float = 0.0
    _next_by_chat: dict[str, float] = field(default_factory=dict)

    def slot(self, chat: str) -> float:
        """Reserves the moment this chat may get its next message."""
        overall = max(self.clock(), self._next)
        self._next = overall + 1 / self.rate_per_s
        at = max(overall, self._next_by_chat.get(chat, 0.0))
        self._next_by_chat[chat] = at + 1 / self.per_chat_per_s
        return at

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, self.clock() + seconds)

    def forget_idle(self) -> None:
        now = self.clock()
        self._next_by_chat = {c: t for c, t in self._next_by_chat.items() if t > now}


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** (attempts + 1)))


async def render(session: AsyncSession, claimed: Claimed) -> list[Reply]:
    return [await render_notice(session, claimed.message, claimed.language)]


class OutboxSender:
    """One channel's sender; several may run, in this process or others."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        limits: Limits,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.limits = limits
        self.clock = clock
        self.worker = f"{transport.channel}-{uuid.uuid4().hex[:12]}"
        self.pacer = Pacer(limits.rate_per_s, limits.per_chat_per_s)
        self._outcomes = Outcomes.empty()
        self._woken = asyncio.Event()
        deliver_row = getattr(transport, "deliver_row", None)
        self._deliver: Callable[[Claimed, Sequence[Reply]], Awaitable[None]] = deliver_row or (
            lambda c, replies: transport.deliver(c.message.identity or "", replies)
        )

    def wake(self) -> None:
        """Rows were just written in this process: look for them now, not at the next poll."""
        self._woken.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Sends until `stop` is set, then records what was sent and gives back the rest."""
        while not stop.is_set():
            self._woken.clear()
            try:
                sent_any = await self.send_due(stop)
            except Exception:
                log.exception("outbox sender %s: a round failed; trying again", self.worker)
                sent_any = False
            if not sent_any:
                await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        # Rows are written by other transactions, possibly other processes: look again soon,
        # or at once when this process wrote some.
        waits = [asyncio.ensure_future(self._woken.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(
                waits, timeout=self.limits.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiting in waits:
                waiting.cancel()

    async def send_due(self, stop: asyncio.Event | None = None) -> bool:
        """One round: claim what is due, send it at the limits, record the outcomes."""
        limit = max(1, int(self.limits.rate_per_s * self.limits.claim_seconds))
        async with UnitOfWork(self.sessions) as uow:
            now = self.clock()
            claimed = await claim_due(
                uow.session, self.transport.channel, self.worker, now, self.limits.lease, limit
            )
            rendered = [(c, await self._render(uow.session, c)) for c in claimed]
            await uow.commit()
        if not claimed:
            return False
        gate = asyncio.Semaphore(self.limits.in_flight)
        stop = stop or asyncio.Event()
        try:
            await asyncio.gather(
                *(self._send(c, replies, gate, stop) for c, replies in rendered if replies)
            )
        finally:
            await self._record()
        return True

    async def _render(self, session: AsyncSession, claimed: Claimed) -> list[Reply] | None:
        try:
            return await render(session, claimed)
        except Exception as error:
            log.warning("outbox %s cannot be rendered: %s", claimed.message.id, error)
            self._outcomes.failed.append((claimed.message.id, f"render: {error}"))
            return None

    async def _send(
        self, claimed: Claimed, replies: list[Reply], gate: asyncio.Semaphore, stop: asyncio.Event
    ) -> None:
        message = claimed.message
        identity = message.identity or ""
        delay = self.pacer.slot(identity) - self.pacer.clock()
        if delay > 2 * self.limits.claim_seconds:
            # This chat has more waiting than a round can send: back to the queue until then.
            due = self.clock() + timedelta(seconds=delay)
            self._outcomes.retry.append((message.id, due, "waiting for the chat's limit", False))
            return
        if (delay > 0 and await _stopped_within(stop, delay)) or stop.is_set():
            self._outcomes.released.append(message.id)
            return
        async with gate:
            try:
                await self._deliver(claimed, replies)
            except RetryLater as slow_down:
                self.pacer.pause(slow_down.seconds)
                retry_at = self.clock() + timedelta(seconds=slow_down.seconds)
                self._outcomes.retry.append((message.id, retry_at, str(slow_down), False))
            except Unreachable as error:
                self._outcomes.unreachable.append((message.id, identity, str(error)))
            except Rejected as error:
                self._outcomes.failed.append((message.id, str(error)))
            except NeedsTemplate as error:
                self._outcomes.needs_template.append((message.id, str(error)))
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                if message.attempts + 1 >= self.limits.max_attempts:
                    self._outcomes.failed.append((message.id, reason))
                else:
                    retry_at = self.clock() + _backoff(message.attempts)
                    self._outcomes.retry.append((message.id, retry_at, reason, True))
            else:
                self._outcomes.sent.append(message.id)

    async def _record(self) -> None:
        outcomes, self._outcomes = self._outcomes, Outcomes.empty()
        self.pacer.forget_idle()
        async with UnitOfWork(self.sessions) as uow:
            await record_outcomes(uow.session, outcomes, self.worker, self.clock())
            await uow.commit()


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Waits `seconds` for the send's slot; True if the sender was told to stop meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
