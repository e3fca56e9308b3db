"""The outbox sender: drains one channel's outbox rows at that platform's limits.

Each row is claimed (committed as `sending` with a lease) before it is sent and its outcome
recorded after, so a crash resends at most the rows sent since the last record (half a second
of them); a stop gives the unsent claimed rows back at once.

The rows flow as a steady pipeline rather than in rounds: the next batch is claimed and
rendered while the last one's rows are still going out, each row gets its slot (the rate
overall and per chat) a moment before it is due and is handed to the transport when its slot
comes, and the outcomes are written every half second. So the sender keeps to the rate
without gaps between batches, however many rows are waiting, and holds about two batches of
rows in memory whatever the size of the queue.

On PostgreSQL, where several processes may send for one platform account, the limits are the
deployment's: each sender beats on its row of `sender_shares` (`models.senders`) and sends at
its share of the rate, and a chat is sent to by one sender at a time (`claim_due`'s `alone`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.workers import here, process_gone, worker_id
from handlers.messages import Reply
from handlers.notices import NO_SUBJECTS, Subjects, notice, subjects_of
from models.broadcasts import record_paid
from models.outbox import (
    BROADCAST_PRIORITY,
    FREE_PRIORITIES,
    PAID_BROADCAST_PRIORITY,
    PRIORITIES,
    Claimed,
    Lease,
    Outcomes,
    claim_due,
    claim_holders,
    give_back_claims,
    record_outcomes,
)
from models.senders import View, beat, leave, shares_limits
from models.uow import UnitOfWork, once_more_if_disconnected

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


class PaidRefused(Exception):
    """The platform refused a paid send (Telegram: the bot's Stars do not cover it): the
    broadcast goes on at the free rate."""


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
    # Rows claimed at once: about this many seconds of sending, and at most `claim_rows`.
    # The next batch is claimed when fewer than two batches are left unsent, so a slow claim
    # on PostgreSQL overlaps the sending of the batch before.
    claim_seconds: float = 2.0
    # A claim and its rendering keep the event loop busy in proportion to its rows, and every
    # send due meanwhile waits (`python -m benchmarks.outbox`; docs/decisions/0014).
    claim_rows: int = 250
    # How long a claim holds before another sender may take the row. A row not sent within
    # half of it is given back instead.
    lease: timedelta = timedelta(seconds=60)
    # How often an idle sender looks for new rows (other processes write them too).
    poll_seconds: float = 0.25
    # Sends in progress at most: enough to keep the rate over a round trip of this long (the
    # Bot API's servers are in Europe, a quarter of a second from Jakarta), and never fewer
    # than `least_in_flight`. Fewer run while the platform answers fast (see `Lanes`).
    farthest_seconds: float = 0.3
    least_in_flight: int = 64
    # How far ahead rows get their slots: while the event loop is busy for a moment (a claim,
    # a record), only the sends due in that moment wait, and they go out right after it.
    ahead_seconds: float = 0.25
    # How often the outcomes are written.
    record_seconds: float = 0.5
    # The rate holds for every second as the platform counts it, not only as this process
    # starts the sends: a send's way there varies by a few milliseconds, so the `Window`
    # spans a second and this much more, and the pacer spaces the sends to match.
    jitter_seconds: float = 0.04
    # Sharing the limits with the deployment's other senders (PostgreSQL): how often a sender
    # beats; after how long without a beat the others take its share; and how long after its
    # last beat began a sender still starts sends. Its sends stop a second and more before
    # the others may count it gone, so its last second never overlaps their faster one.
    beat_seconds: float = 1.0
    lapse_seconds: float = 4.0
    fence_seconds: float = 2.5

    @property
    def in_flight(self) -> int:
        return max(self.least_in_flight, Lanes.needed(self.rate_per_s, self.farthest_seconds))


@dataclass
class Pacer:
    """Spaces sends evenly at a rate overall, and at another rate per chat (monotonic seconds).

    Every send takes the next overall slot in order; one whose chat is still busy goes out
    later than its slot rather than holding back the chats behind it. Slots missed by up to
    `catch_up_seconds` (the event loop was busy with a claim) are still given, in the past, so
    the sends make up for the moment (the `Window` keeps them to the rate in every second).
    After a longer stall, up to `stall_seconds` (the process waited for a core), the slots of
    its last `catch_up_seconds` are still given; after a longer gap, idle or not, the slots
    start afresh from now.
    """

    rate_per_s: float
    per_chat_per_s: float
    clock: Callable[[], float] = time.monotonic
    catch_up_seconds: float = 0.1
    stall_seconds: float = 1.0
    _next: float = 0.0
    _next_by_chat: dict[str, float] = field(default_factory=dict)

    def set_rate(self, rate_per_s: float) -> None:
        """Spaces the slots taken from now on at `rate_per_s` (above zero)."""
        self.rate_per_s = rate_per_s

    def slot(self, chat: str) -> float:
        """Reserves the moment this chat may get its next message."""
        now = self.clock()
        if self._next >= now - self.catch_up_seconds:
            overall = self._next
        elif self._next >= now - self.stall_seconds:
            overall = now - self.catch_up_seconds
        else:
            overall = now
        self._next = overall + 1 / self.rate_per_s
        at = max(overall, self._next_by_chat.get(chat, 0.0))
        self._next_by_chat[chat] = at + 1 / self.per_chat_per_s
        return at

    def chat_free_at(self, chat: str) -> float:
        """The soonest moment this chat's next message may go by the per-chat rate alone."""
        return self._next_by_chat.get(chat, 0.0)

    def take_chat(self, chat: str, at: float) -> None:
        """Reserves this chat's send at `at`, an overall slot taken over from another row."""
        self._next_by_chat[chat] = max(
            self._next_by_chat.get(chat, 0.0), at + 1 / self.per_chat_per_s
        )

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, self.clock() + seconds)

    def lead(self) -> float:
        """How far ahead of now the overall slots are taken (negative: idle since)."""
        return self._next - self.clock()

    def free_at(self, chat: str) -> float:
        """The soonest moment this chat's next message could go, without reserving it."""
        return max(self.clock(), self._next, self._next_by_chat.get(chat, 0.0))

    def forget_idle(self) -> None:
        now = self.clock()
        self._next_by_chat = {c: t for c, t in self._next_by_chat.items() if t > now}


@dataclass
class Window:
    """At most `rate_per_s` sends start in any one second (monotonic seconds).

    The pacer spaces the slots; this holds the sends themselves to the limit when slots come
    late — after a moment the event loop was busy, the sends due in it would otherwise go out
    together, on top of those due next.
    """

    rate_per_s: float
    clock: Callable[[], float] = time.monotonic
    # Seconds the count is over: more than one keeps the platform's seconds to the rate
    # though each send takes a little more or less time to reach it.
    span: float = 1.0
    _starts: deque[float] = field(default_factory=deque)

    def wait(self) -> float:
        """Seconds until another send may start (0: now)."""
        now = self.clock()
        while self._starts and self._starts[0] <= now - self.span:
            self._starts.popleft()
        if len(self._starts) < max(1, int(self.rate_per_s)):
            return 0.0
        return self._starts[0] + self.span - now

    def started(self) -> None:
        self._starts.append(self.clock())

    def set_rate(self, rate_per_s: float) -> None:
        """Holds the starts to `rate_per_s` from now on, counting those of the last second: a
        lower rate waits until the last second's starts are fewer than it."""
        self.rate_per_s = rate_per_s

    def quiet_in(self) -> float:
        """Seconds until the last start is out of the window (0: already)."""
        return max(0.0, self._starts[-1] + self.span - self.clock()) if self._starts else 0.0


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** (attempts + 1)))


@dataclass(frozen=True)
class Lane:
    """The rows a sender claims, by their priority (the first first), and whether its sends
    are paid ones (Telegram's paid broadcast), counted for what they cost."""

    priorities: tuple[int, ...] = FREE_PRIORITIES
    paid: bool = False


# A channel's one sender when no paid broadcast is set up: it claims every row, paid ones too
# (a broadcast chosen paid before the deployment turned paid broadcast off goes free).
EVERY_ROW = Lane(PRIORITIES)
# With paid broadcast on: the paid broadcast's rows, and the free sender's.
PAID_BROADCAST = Lane((PAID_BROADCAST_PRIORITY,), paid=True)
FREE = Lane()


@dataclass
class SenderStats:
    """What a sender has done so far (for benchmarks and logs): totals and the longest."""

    claims: int = 0  # claims that took rows
    claimed: int = 0
    claim_seconds: float = 0.0  # in claiming transactions, rendering included
    render_seconds: float = 0.0
    longest_claim: float = 0.0
    records: int = 0
    recorded: int = 0  # outcomes written
    record_seconds: float = 0.0
    longest_record: float = 0.0
    most_in_flight: int = 0
    adopted: int = 0  # rows handed over as they were written (`OutboxSender.adopt`)
    # What became of each send (the operator's metrics read these, bot.metrics).
    sent: int = 0
    retry_later: int = 0  # the platform asked to slow down (429)
    unreachable: int = 0
    rejected: int = 0
    needs_template: int = 0
    paid_refused: int = 0  # paid sends the platform refused (then the broadcast went free)
    errors: int = 0  # failed for now: retried later, or failed after `max_attempts`


@dataclass(frozen=True, slots=True)
class _Ready:
    """A claimed row, rendered, and when its claim lapses (on the app's clock)."""

    claimed: Claimed
    replies: list[Reply]
    lease_ends: datetime

    @property
    def broadcast(self) -> bool:
        return self.claimed.message.priority in (BROADCAST_PRIORITY, PAID_BROADCAST_PRIORITY)


class Lanes:
    """How many sends may be in progress at once: enough for the rate at the time a send
    takes now, and no more.

    Little's law: sends in progress = rate × time per send. The time is an average of the
    latest sends, so the lanes follow what a send costs while this process is busy as well as
    the platform's distance: counting only the shortest round trip (loopback, when the
    process was idle) left a busy process with three lanes whose sends each waited on the
    event loop, and so at a third of the rate. The rate itself is the pacer's and the
    window's to keep; lanes only bound the connections.
    """

    WEIGHT = 0.1  # of the latest send in the average

    def __init__(self, rate_per_s: float, most: int) -> None:
        self.rate_per_s = rate_per_s
        self.most = most
        self._seconds: float | None = None

    def set_rate(self, rate_per_s: float) -> None:
        self.rate_per_s = rate_per_s

    def took(self, seconds: float) -> None:
        last = self._seconds
        self._seconds = seconds if last is None else last + self.WEIGHT * (seconds - last)

    @staticmethod
    def needed(rate_per_s: float, seconds: float) -> int:
        """Lanes for `rate_per_s` when a send takes `seconds`: half as many again, and two,
        for the sends that take longer than the average."""
        return int(rate_per_s * seconds * 1.5) + 2

    @property
    def open(self) -> int:
        if self._seconds is None:
            return min(self.most, 4)  # nothing measured yet
        return max(2, min(self.most, self.needed(self.rate_per_s, self._seconds)))


def share_of(limit: float, rank: int, count: int) -> float:
    """The rate of the sender of `rank` among `count` live senders of one limit: whole sends a
    second, which add up to the limit's whole part, so that no second of theirs together can
    hold more (fractions of each would add up to a send more in some seconds)."""
    if count <= 1:
        return limit
    whole = math.floor(limit)
    part = whole * (rank + 1) // count - whole * rank // count
    return float(part) if part >= 1 else limit / count


class OutboxSender:
    """One channel's sender; several may run, in this process or others."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        limits: Limits,
        clock: Callable[[], datetime],
        lane: Lane = EVERY_ROW,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.limits = limits
        self.clock = clock
        self.lane = lane
        self.worker = worker_id(transport.channel)
        span = 1.0 + limits.jitter_seconds
        self.pacer = Pacer(limits.rate_per_s / span, limits.per_chat_per_s)
        self.stats = SenderStats()
        self._outcomes = Outcomes.empty()
        # A row's way: claimed and rendered (`_ready`, oldest claim first; rows handed over
        # with `adopt` in `_replies`, which go first, oldest first); given its slot
        # (`_slotted`: the timer that hands it over); its slot come, waiting for a free lane
        # (`_waiting`); handed to the transport (`_sending`).
        self._replies: deque[_Ready] = deque()
        self._ready: deque[_Ready] = deque()
        self._slotted: dict[int, tuple[asyncio.TimerHandle, _Ready]] = {}
        self._waiting: deque[_Ready] = deque()
        self._sending: set[asyncio.Task[None]] = set()
        self._lanes = Lanes(limits.rate_per_s, limits.in_flight)
        self._window = Window(limits.rate_per_s, span=span)
        # Every message as it goes on the wire (`on_the_wire`): a transport that does work
        # between a row's start and its request (WhatsApp sets the chat's menu in the
        # database) must not let that work's varying time bunch the requests.
        self._wire = Window(limits.rate_per_s, span=span)
        # Requests waiting for their place on the wire, first come first served (replies to
        # different people keep the order they were written in), and the timer that lets the
        # next one go when the window has room.
        self._wire_turns: deque[asyncio.Future[None]] = deque()
        self._wire_opens: asyncio.TimerHandle | None = None
        self._window_opens: asyncio.TimerHandle | None = None
        self._wake = asyncio.Event()
        self._claiming: asyncio.Task[None] | None = None
        self._recording: asyncio.Task[None] | None = None
        self._no_claim_before = 0.0  # monotonic: the last claim found nothing
        self._recorded_at = 0.0  # monotonic
        self._held_back = False  # sends are behind their slots: no new slots until they catch up
        self._stopping = False
        # Sharing the limits (`run` on PostgreSQL): the rate now (0: not yet acknowledged by
        # the other senders), until when sends may start (monotonic: the last beat's start and
        # `fence_seconds`), and the sent rows kept claimed until their chat's next send is due
        # (monotonic, row id), so no other sender takes the chat sooner.
        self.sender_key: str = getattr(transport, "sender_key", "")
        self._sharing = False
        self._rate = limits.rate_per_s
        self._live_until = math.inf
        self._sent_held: deque[tuple[float, int]] = deque()
        self.view: View | None = None
        # Monotonic: a newcomer starts sends a chat's slot after the others counted it, so the
        # chats they sent to just before (recorded at once while they were alone) are free.
        self._counted_at = 0.0
        deliver_row = getattr(transport, "deliver_row", None)
        self._deliver: Callable[[Claimed, Sequence[Reply]], Awaitable[None]] = deliver_row or (
            lambda c, replies: transport.deliver(c.message.identity or "", replies)
        )

    def wake(self) -> None:
        """Rows were just written in this process: claim them now, not at the next poll."""
        self._no_claim_before = 0.0
        self._wake.set()

    def lease(self, now: datetime) -> Lease:
        """A claim for rows that this process writes and hands over with `adopt`."""
        return Lease(self.worker, now + self.limits.lease)

    def adopt(self, rows: list[Claimed]) -> None:
        """Sends committed rows written with `lease` next, ahead of the claimed ones: they are
        replies to people who just wrote. (Stopping, they are given back instead.)"""
        ready = self._rendered(rows, NO_SUBJECTS, None)
        if self._stopping:
            self._outcomes.released += [r.claimed.message.id for r in ready]
        else:
            self._replies.extend(ready)
        self.stats.adopted += len(ready)
        self._wake.set()

    async def next_part(self, chat: str) -> None:
        """Waits for the slot of a row's message beyond its first (a long reply sent in
        parts): the platform counts every message against its limit, so each part takes a
        slot as a row does (and its place on the wire, `on_the_wire`)."""
        delay = self.pacer.slot(chat) - self.pacer.clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def on_the_wire(self) -> None:
        """Waits until one more message may go to the platform within the rate, counted as
        the requests go out rather than as the rows start; in the order the requests came."""
        if not self._wire_turns and self._wire.wait() <= 0:
            self._wire.started()
            return
        turn = asyncio.get_running_loop().create_future()
        self._wire_turns.append(turn)
        self._let_on_the_wire()
        await turn

    def _let_on_the_wire(self) -> None:
        """Gives the waiting requests their places on the wire, oldest first, while the window
        has room; else sets the timer for when it will."""
        if self._wire_opens is not None:
            self._wire_opens.cancel()
            self._wire_opens = None
        while self._wire_turns:
            wait = self._wire.wait()
            if wait > 0:
                loop = asyncio.get_running_loop()
                self._wire_opens = loop.call_later(wait, self._let_on_the_wire)
                return
            turn = self._wire_turns.popleft()
            if not turn.done():  # its send was cancelled meanwhile: no place taken
                self._wire.started()
                turn.set_result(None)

    @property
    def rate_per_s(self) -> float:
        """The rate this sender keeps to now: the limit, or its share of it."""
        return self._rate

    def set_rate(self, rate_per_s: float) -> None:
        """Paces the sends from now on at `rate_per_s` (0: none start)."""
        self._rate = rate_per_s
        if rate_per_s > 0:
            self.pacer.set_rate(rate_per_s / self._window.span)
            self._window.set_rate(rate_per_s)
            self._wire.set_rate(rate_per_s)
            self._lanes.set_rate(rate_per_s)

    def _may_send(self) -> bool:
        now = time.monotonic()
        return self._rate > 0 and self._counted_at <= now < self._live_until

    @property
    def _others(self) -> bool:
        """Other senders share the limits now: chats are held one sender at a time."""
        return self.view is not None and self.view.count > 1

    @property
    def _batch(self) -> int:
        seconds = self.limits.claim_seconds
        if self.view is not None and self.view.count > 1:
            # Shorter batches among several senders: when the queue runs dry, the rows are
            # left with the others for less time (and sent at a part of the rate).
            seconds /= 2
        wanted = int(self._rate * seconds)
        return max(1, min(self.limits.claim_rows, wanted))

    @property
    def _unsent(self) -> int:
        return len(self._replies) + len(self._ready) + len(self._slotted) + len(self._waiting)

    async def run(self, stop: asyncio.Event) -> None:
        """Sends until `stop` is set, then records what was sent and gives back the rest."""
        await self._take_back_from_the_gone()
        beating = None
        if shares_limits(self.sessions):
            # Nothing is sent until the other senders have counted this one.
            self._sharing = True
            self._live_until = 0.0
            self.set_rate(0.0)
            await self._beat()
            beating = asyncio.create_task(self._beat_on(stop), name=f"{self.worker}-beat")
        async with self._until_finished(stop, beating):
            while not stop.is_set():
                self._wake.clear()
                self._claim_if_wanted()
                self._record_if_due()
                slots = self._give_slots()
                await self._nap(min(slots, self._until_claim(), self._until_record()))

    async def send_due(self, stop: asyncio.Event | None = None) -> bool:
        """One round: claim what is due, send it at the limits, record the outcomes. (`run`
        does the same without rounds.) False if nothing was due."""
        claimed, ready = await self._claim(self._batch)
        if not claimed:
            return False
        self._ready.extend(ready)
        stop = stop or asyncio.Event()
        async with self._until_finished(stop):
            while (self._unsent or self._sending) and not stop.is_set():
                self._wake.clear()
                await self._nap(self._give_slots())
        return True

    @contextlib.asynccontextmanager
    async def _until_finished(
        self, stop: asyncio.Event, beating: asyncio.Task[None] | None = None
    ) -> AsyncIterator[None]:
        """Naps end when `stop` is set; leaving, the sender finishes (`_finish`)."""
        stopping = asyncio.ensure_future(stop.wait())
        stopping.add_done_callback(lambda _: self._wake.set())
        try:
            yield
        finally:
            stopping.cancel()
            await self._finish(beating)

    # ---- sharing the limits --------------------------------------------------------------

    async def _beat_on(self, stop: asyncio.Event) -> None:
        """Beats every `beat_seconds` (four times as often while the others have not counted
        this sender yet) until `stop`."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                pause = self.limits.beat_seconds
                if self.view is None or not self.view.acknowledged:
                    pause /= 4
                await asyncio.wait([stopping], timeout=pause)
                if not stop.is_set():
                    await self._beat()
        finally:
            stopping.cancel()

    async def _beat(self) -> None:
        """One beat: this sender's share of the limit as its group stands now. A lower rate
        applies before the beat commits, a higher one after: the others count on this
        sender's new rate once they see the beat."""
        started = time.monotonic()
        channel = self.transport.channel
        lapse = timedelta(seconds=self.limits.lapse_seconds)
        try:
            async with UnitOfWork(self.sessions) as uow:
                view = await beat(uow.session, self.worker, channel, self.sender_key, lapse)
                rate = self._share(view)
                if rate < self._rate:
                    self.set_rate(rate)
                await uow.commit()
        except Exception:
            log.exception("outbox sender %s: a beat failed; trying again", self.worker)
            return
        if view is not None and view.joined and self.view is not None:
            log.warning(
                "outbox sender %s: its beats had lapsed; it waits to be counted again",
                self.worker,
            )
        if view is not None and view != self.view:
            log.info(
                "outbox sender %s: %d live senders of %s %s; its share %g/s",
                self.worker,
                view.count,
                channel,
                self.sender_key,
                rate,
            )
        newly_counted = self.view is None or not self.view.acknowledged
        if view is not None and view.acknowledged and view.count > 1 and newly_counted:
            wait = 1 / self.limits.per_chat_per_s
            self._counted_at = time.monotonic() + wait
            asyncio.get_running_loop().call_later(wait, self._start_sends)
        self.view = view
        self._live_until = started + self.limits.fence_seconds
        self.set_rate(rate)
        self._start_sends()
        self._wake.set()

    def _share(self, view: View | None) -> float:
        if view is None:
            return self.limits.rate_per_s
        if not view.acknowledged:
            return 0.0
        return share_of(self.limits.rate_per_s, view.rank, view.count)

    async def _nap(self, seconds: float) -> None:
        """Waits up to `seconds` for news: rows claimed, sends done, a stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    # ---- claiming ------------------------------------------------------------------------

    async def _take_back_from_the_gone(self) -> None:
        """Makes the rows that senders of this machine whose process ended (a crash, a kill)
        still hold due at once: a restart need not wait for their leases to lapse."""
        channel = self.transport.channel
        try:
            async with UnitOfWork(self.sessions) as uow:
                holders = await claim_holders(uow.session, channel, here(channel))
                gone = [worker for worker in holders if process_gone(worker)]
                if not gone:
                    return
                given = await give_back_claims(uow.session, channel, gone, self.clock())
                await uow.commit()
        except Exception:
            log.exception(
                "outbox sender %s: could not take back claims of ended senders", self.worker
            )
            return
        log.info(
            "outbox sender %s: %d rows of ended senders %s due again", self.worker, given, gone
        )

    def _claim_if_wanted(self) -> None:
        """Claims the next batch once fewer than two batches of rows are left unsent."""
        if self._wants_claim() and self._until_claim() == 0:
            self._claiming = asyncio.create_task(self._claim_more(), name=f"{self.worker}-claim")

    def _wants_claim(self) -> bool:
        return self._claiming is None and self._rate > 0 and self._unsent < 2 * self._batch

    def _until_claim(self) -> float:
        """How long until the next claim is due (at most `poll_seconds`: news may come)."""
        if not self._wants_claim():
            return self.limits.poll_seconds
        return max(0.0, self._no_claim_before - self.pacer.clock())

    async def _claim_more(self) -> None:
        try:
            claimed, ready = await once_more_if_disconnected(
                lambda: self._claim(self._batch), f"outbox sender {self.worker}: a claim"
            )
        except Exception:
            log.exception("outbox sender %s: a claim failed; trying again", self.worker)
            claimed, ready = 0, []
        if not claimed:
            # Rows are written by other transactions, possibly other processes: look again soon.
            self._no_claim_before = self.pacer.clock() + self.limits.poll_seconds
        self._ready.extend(ready)
        self._claiming = None
        self._wake.set()

    async def _claim(self, limit: int) -> tuple[int, list[_Ready]]:
        """Claims and renders up to `limit` due rows in one transaction; returns how many were
        claimed and the rendered ones (a row that cannot be rendered is failed)."""
        started = time.perf_counter()
        async with UnitOfWork(self.sessions) as uow:
            now = self.clock()
            lease = self.limits.lease
            claimed = await claim_due(
                uow.session,
                self.transport.channel,
                self.worker,
                now,
                lease,
                limit,
                take_turns=self._sharing,
                alone=self._others,
                priorities=self.lane.priorities,
            )
            rendering = time.perf_counter()
            ready = await self._render(uow.session, claimed, now + lease)
            rendered = time.perf_counter()
            await uow.commit()
        if claimed:
            stats = self.stats
            seconds = time.perf_counter() - started
            stats.claims += 1
            stats.claimed += len(claimed)
            stats.claim_seconds += seconds
            stats.render_seconds += rendered - rendering
            stats.longest_claim = max(stats.longest_claim, seconds)
        return len(claimed), ready

    async def _render(
        self, session: AsyncSession, claimed: list[Claimed], lease_ends: datetime
    ) -> list[_Ready]:
        subjects = await subjects_of(session, [c.message for c in claimed])
        return self._rendered(claimed, subjects, lease_ends)

    def _rendered(
        self, rows: list[Claimed], subjects: Subjects, lease_ends: datetime | None
    ) -> list[_Ready]:
        """The rows rendered, their claims ending at `lease_ends` (None: at each row's own
        `due_at`, as it was written claimed); a row that cannot be rendered is failed."""
        ready = []
        for row in rows:
            try:
                replies = [notice(row.message, row.language, subjects)]
            except Exception as error:
                log.warning("outbox %s cannot be rendered: %s", row.message.id, error)
                self._outcomes.failed.append((row.message.id, f"render: {error}"))
            else:
                ends = lease_ends or row.message.due_at
                assert ends is not None
                ready.append(_Ready(row, replies, ends))
        return ready

    # ---- pacing --------------------------------------------------------------------------

    def _give_slots(self) -> float:
        """Gives ready rows their slots up to `ahead_seconds` ahead; returns how long to wait
        before looking again."""
        limits = self.limits
        today = self.clock()
        for queue in (self._replies, self._ready):
            while queue and queue[0].lease_ends - today < limits.lease / 2:
                # Claimed long ago (sends are slower than the rate): back before the claim
                # lapses.
                self._outcomes.released.append(queue.popleft().claimed.message.id)
        if self._rate <= 0:
            return limits.poll_seconds  # woken by the beat that gives a share
        # Sends behind their slots already: more slots would only lengthen the queue.
        self._held_back = len(self._waiting) >= limits.in_flight
        if self._held_back:
            return limits.record_seconds  # woken when a send ends
        self._take_broadcast_slots()
        loop = asyncio.get_running_loop()
        pacer = self.pacer
        hold = 2 * limits.claim_seconds
        while self._replies or self._ready:
            lead = pacer.lead()
            if lead > limits.ahead_seconds:
                return min(limits.record_seconds, lead - limits.ahead_seconds / 2)
            row = (self._replies or self._ready).popleft()
            message = row.claimed.message
            identity = message.identity or ""
            wait = pacer.free_at(identity) - pacer.clock()
            if wait > hold:
                # Its chat (or, after a 429, the whole channel) is held longer than a claim
                # lasts: back to the queue until then rather than keep the claim.
                why = "waiting for retry_after" if lead > hold else "waiting for the chat's limit"
                due = today + timedelta(seconds=wait)
                self._outcomes.retry.append((message.id, due, why, False))
                continue
            delay = pacer.slot(identity) - pacer.clock()
            timer = loop.call_later(max(0.0, delay), self._slot_came, message.id)
            self._slotted[message.id] = (timer, row)
        return limits.record_seconds

    def _take_broadcast_slots(self) -> None:
        """Replies take the earliest slots that broadcast rows hold, and those rows go back
        to the head of the queue for the next free ones: a person who just wrote does not wait
        behind the broadcast's sends given their slots before they wrote (up to
        `ahead_seconds` of them)."""
        loop = asyncio.get_running_loop()
        pacer = self.pacer
        while self._replies:
            row = self._replies[0]
            identity = row.claimed.message.identity or ""
            free = max(loop.time(), pacer.chat_free_at(identity))
            held = [
                (timer.when(), row_id)
                for row_id, (timer, slotted) in self._slotted.items()
                if slotted.broadcast and timer.when() >= free
            ]
            if not held:
                return
            at, row_id = min(held)
            timer, displaced = self._slotted.pop(row_id)
            timer.cancel()
            self._ready.appendleft(displaced)
            self._replies.popleft()
            pacer.take_chat(identity, at)
            message_id = row.claimed.message.id
            self._slotted[message_id] = (loop.call_at(at, self._slot_came, message_id), row)

    def _slot_came(self, row_id: int) -> None:
        _, row = self._slotted.pop(row_id)
        waiting = self._waiting
        if row.broadcast:
            waiting.append(row)
        else:
            # Ahead of the broadcast rows still waiting for a lane or the window, behind the
            # other rows (a chat's replies keep their order).
            ahead = 0
            while ahead < len(waiting) and not waiting[ahead].broadcast:
                ahead += 1
            waiting.insert(ahead, row)
        self._start_sends()

    def _start_sends(self) -> None:
        """Hands waiting rows to the transport while lanes are free and the last second's
        sends are fewer than the rate."""
        while self._waiting and len(self._sending) < self._lanes.open and not self._stopping:
            if not self._may_send():
                break  # no share (yet), or no beat for a while: the next beat starts them
            wait = self._window.wait()
            if wait > 0:
                if self._window_opens is None:
                    self._window_opens = asyncio.get_running_loop().call_later(
                        wait, self._window_opened
                    )
                break
            self._window.started()
            sending = asyncio.create_task(
                self._send(self._waiting.popleft()), name=f"{self.worker}-send"
            )
            self._sending.add(sending)
            sending.add_done_callback(self._sent)
        self.stats.most_in_flight = max(self.stats.most_in_flight, len(self._sending))

    def _window_opened(self) -> None:
        self._window_opens = None
        self._start_sends()

    def _sent(self, sending: asyncio.Task[None]) -> None:
        self._sending.discard(sending)
        if not sending.cancelled() and sending.exception() is not None:
            log.error("outbox sender %s: a send broke", self.worker, exc_info=sending.exception())
        self._start_sends()
        if self._held_back or not (self._slotted or self._waiting):
            self._wake.set()

    def _unsent_rows(self) -> list[_Ready]:
        """Every row claimed and not handed to the transport, taken out of the queues."""
        unsent = self._take_back_slots() + list(self._replies) + list(self._ready)
        self._replies.clear()
        self._ready.clear()
        return unsent

    def _take_back_slots(self) -> list[_Ready]:
        """The rows given slots and not sent yet, in slot order; their timers cancelled."""
        rows = list(self._waiting)
        self._waiting.clear()
        for timer, row in self._slotted.values():
            timer.cancel()
            rows.append(row)
        self._slotted.clear()
        return rows

    # ---- sending -------------------------------------------------------------------------

    async def _send(self, row: _Ready) -> None:
        message = row.claimed.message
        identity = message.identity or ""
        started = time.monotonic()
        try:
            await self._deliver(row.claimed, row.replies)
        except RetryLater as slow_down:
            self.stats.retry_later += 1
            self.pacer.pause(slow_down.seconds)
            # The rows given slots before the platform asked to slow down get new ones.
            self._ready.extendleft(reversed(self._take_back_slots()))
            self._wake.set()
            retry_at = self.clock() + timedelta(seconds=slow_down.seconds)
            self._outcomes.retry.append((message.id, retry_at, str(slow_down), False))
        except Unreachable as error:
            self.stats.unreachable += 1
            self._outcomes.unreachable.append((message.id, identity, str(error)))
        except Rejected as error:
            self.stats.rejected += 1
            self._outcomes.failed.append((message.id, str(error)))
        except NeedsTemplate as error:
            self.stats.needs_template += 1
            self._outcomes.needs_template.append((message.id, str(error)))
        except PaidRefused as error:
            self.stats.paid_refused += 1
            log.warning("outbox sender %s: a paid send was refused (%s)", self.worker, error)
            self._outcomes.released.append(message.id)
            if message.broadcast_id is not None:
                self._outcomes.paid_refused.add(message.broadcast_id)
            # The rest of the queue would be refused too; recorded, its rows go free.
            self._outcomes.released += [row.claimed.message.id for row in self._unsent_rows()]
            self._no_claim_before = self.pacer.clock() + 2 * self.limits.record_seconds
        except Exception as error:
            self.stats.errors += 1
            reason = f"{type(error).__name__}: {error}"
            if message.attempts + 1 >= self.limits.max_attempts:
                self._outcomes.failed.append((message.id, reason))
            else:
                retry_at = self.clock() + _backoff(message.attempts)
                self._outcomes.retry.append((message.id, retry_at, reason, True))
        else:
            self._lanes.took(time.monotonic() - started)
            self.stats.sent += 1
            if self.lane.paid and message.broadcast_id is not None:
                self._outcomes.paid[message.broadcast_id] += 1
            if self._others:
                per_chat = self.limits.per_chat_per_s
                self._sent_held.append((started + 1 / per_chat, message.id))
            else:
                self._outcomes.sent.append(message.id)

    # ---- recording -----------------------------------------------------------------------

    def _release_held(self, until: float) -> None:
        """The sent rows held until `until` (monotonic) become outcomes to record."""
        held = self._sent_held
        while held and held[0][0] <= until:
            self._outcomes.sent.append(held.popleft()[1])

    def _record_if_due(self) -> None:
        self._release_held(time.monotonic())
        if self._recording is None and self._outcomes and self._until_record() == 0:
            self._recording = asyncio.create_task(self._record(), name=f"{self.worker}-record")

    def _until_record(self) -> float:
        if self._recording is None and not self._outcomes and self._sent_held:
            free = self._sent_held[0][0] - time.monotonic()
            return min(self.limits.record_seconds, max(0.0, free))
        if self._recording is not None or not self._outcomes:
            return self.limits.record_seconds
        return max(0.0, self._recorded_at + self.limits.record_seconds - self.pacer.clock())

    async def _record(self) -> None:
        outcomes, self._outcomes = self._outcomes, Outcomes.empty()
        self._recorded_at = self.pacer.clock()
        self.pacer.forget_idle()
        started = time.perf_counter()
        try:
            await once_more_if_disconnected(
                lambda: self._write_outcomes(outcomes), f"outbox sender {self.worker}: recording"
            )
        except Exception:
            log.exception("outbox sender %s: recording failed; trying again", self.worker)
            self._outcomes.extend(outcomes)
        else:
            seconds = time.perf_counter() - started
            self.stats.records += 1
            self.stats.recorded += len(outcomes)
            self.stats.record_seconds += seconds
            self.stats.longest_record = max(self.stats.longest_record, seconds)
        finally:
            self._recording = None

    async def _write_outcomes(self, outcomes: Outcomes) -> None:
        async with UnitOfWork(self.sessions) as uow:
            now = self.clock()
            await record_outcomes(uow.session, outcomes, self.worker, now)
            if outcomes.paid or outcomes.paid_refused:
                await record_paid(uow.session, outcomes.paid, outcomes.paid_refused, now)
            await uow.commit()

    async def _finish(self, beating: asyncio.Task[None] | None = None) -> None:
        """Stops in order: the claim under way ends, the unsent rows are given back, the sends
        in flight end, and everything is recorded. Sharing the limits, the sender then waits
        for the second of its last sends (and its chats' next slots) to pass before it records
        them and leaves, so that the others' faster seconds never overlap its last one."""
        if self._claiming is not None:
            await asyncio.gather(self._claiming, return_exceptions=True)
        self._stopping = True
        if self._window_opens is not None:
            self._window_opens.cancel()
            self._window_opens = None
        try:
            self._outcomes.released += [row.claimed.message.id for row in self._unsent_rows()]
            if self._sending:
                await asyncio.gather(*self._sending, return_exceptions=True)
            if beating is not None:
                beating.cancel()  # ended by the stop already, unless the sender was cancelled
                await asyncio.gather(beating, return_exceptions=True)
                held = self._sent_held[-1][0] - time.monotonic() if self._sent_held else 0.0
                quiet = max(self._window.quiet_in(), self._wire.quiet_in())
                await asyncio.sleep(max(quiet, held))
                self._release_held(math.inf)
            if self._recording is not None:
                await asyncio.gather(self._recording, return_exceptions=True)
            if self._outcomes:
                await self._record()
            if beating is not None:
                await self._leave()
        finally:
            self._stopping = False

    async def _leave(self) -> None:
        try:
            async with UnitOfWork(self.sessions) as uow:
                await leave(uow.session, self.worker)
                await uow.commit()
        except Exception:
            log.exception("outbox sender %s: could not leave; its share lapses", self.worker)
