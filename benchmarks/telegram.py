"""Telegram end to end: jbl's time from an update to its reply, next to a bare PTB echo bot.

    python -m benchmarks.telegram                                 # SQLite file in a temp dir
    python -m benchmarks.telegram --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench
    python -m benchmarks.telegram --quick                         # small counts, smoke run
    python -m benchmarks.telegram --profile                       # + where the time goes

Goals (the goals table at the end):
- jbl's text update → reply p50 at most 1.5 times the bare echo bot's (`RATIO_GOAL`);
- every message answered right: one reply per update, a press answered by an edit, no apology
  for an internal error, no reply refused by the fake;
- reported: the mean and press → edit ratios, both bots' throughput, jbl next to the echo bot
  on jbl's own HTTP layer, the peak RSS.

Three bots run side by side in one process and one event loop, each against its own instance
of the fake Telegram Bot API (`tests/fake_telegram.py`, uvicorn on 127.0.0.1 in that same loop):

- echo: a minimal python-telegram-bot `Application` (the same PTB version, long polling with
  `updater.start_polling` defaults, `concurrent_updates(64)` as jbl's channel has) whose
  `MessageHandler(filters.TEXT)` answers `reply_text(message.text)`, and whose
  `CallbackQueryHandler` answers the query and edits the pressed message to the button's data;
  it talks to the API through PTB's default HTTP layer (httpx). The goal is set against it.
- jbl: the real `jbl run` (`tests/telegram_bot.running_jbl`: migrations, demo catalog, the
  Telegram channel, the outbox sender and the HTTP server) on the database given. Its channel
  talks to the API through its own HTTP layer (`bot/telegram/request.py`, aiohttp, JSON).
- echo-j: the same echo bot on jbl's HTTP layer. jbl / echo-j is what the conversation itself
  (database, handlers, rendering) adds to a message; reported, not a goal.

Each bot is warmed up first (a few rounds of every message kind, and one /start from each
burst user), then measured the same way by the same driver code. Latencies are taken in
alternation: message n goes to every bot (which one first turns each round) before message
n + 1 goes to any, so that other load on the machine (a shared 2-core VM) falls on all
alike instead of on whichever bot happened to run while it lasted. Only one message is in
flight at a time; the idle bot only waits in its long poll.

- text latency: N messages from one person, each sent once the previous one was answered;
  timed with `time.perf_counter` from `user.send(...)` (the update is queued in the fake and the
  pending getUpdates long poll is woken) to `await user.wait_for_reply(update_id)` returning
  (the fake has stored the bot's sendMessage). jbl gets the commands a resident types (/start,
  /katalog, /cari kopi, /keranjang, /bantuan: one reply each); the echo bot the same texts.
- button latency: presses on an inline keyboard, timed the same way up to the edited message
  (the query answered and the message edited in place). jbl: a category of /katalog, then
  "📚 Kategori" back, and so on; echo: two buttons pressed in turn.
- throughput: M messages from K people, all queued in the fake at once (round robin over the
  people), messages/s from the first push to the fake storing the last reply; one bot after
  the other.

Included in every figure: the loopback HTTP round trips (getUpdates, sendMessage or
answerCallbackQuery + editMessageText), PTB's JSON (de)serialisation and dispatch, the bot's
handler (for jbl: the chat lock, `conversation.handle` with its SQL, rendering), and the fake
server's own work (uvicorn, Starlette, its HTML parser and chat state), which runs in the same
loop and is the same code for both bots: it adds the same absolute time to both, so it pulls the
ratio towards 1. jbl's background tasks (the outbox sender's 0.25 s poll, its HTTP server) run
during its phases and count as jbl's. Not included: bot start-up (migrations, demo data),
warm-up, Telegram's real network and servers, TLS.

With `--profile`, a further short text phase per bot runs under cProfile (slower; not part of
the figures) and the main thread's time per message is split by area. Time spent in other
threads (aiosqlite runs SQLite in its own thread) shows up as waiting in the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import logging
import os
import pstats
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
import httpx
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from benchmarks.harness.cli import BenchmarkParser
from benchmarks.harness.databases import (
    EMPTY_SCHEMA_HELP,
    database_url,
    prepare_database,
)
from benchmarks.harness.memory import kib_to_mib, peak_rss_kib, proc_status_kib
from benchmarks.harness.report import (
    APP_PACKAGES,
    ROOT,
    Goal,
    LatencyTable,
    finish,
    info_row,
    print_header,
    verdict_row,
)
from benchmarks.harness.stats import mean, percentile, steady_rate
from bot.telegram.channel import CONNECTIONS, use_timedelta_periods
from bot.telegram.request import JsonRequest
from handlers.texts import LANGUAGES
from tests.fake_telegram import Call, FakeMessage, FakeTelegram, TelegramUser
from tests.telegram_bot import TOKEN, running_jbl

RATIO_GOAL = 1.5  # jbl's update→reply p50 at most this many times the bare echo bot's

# What a resident types; each gets exactly one reply from jbl (checked as the run goes).
JBL_TEXTS = ("/start", "/katalog", "/cari kopi", "/keranjang", "/bantuan")
JBL_MENU = "/katalog"
JBL_BACK = "📚 Kategori"  # on every category page: back to the /katalog message
ECHO_MENU = "menu"
ECHO_KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("A", callback_data="A"), InlineKeyboardButton("B", callback_data="B")]]
)
# A jbl reply that is an apology for an exception is an answer, but not a handled message.
INTERNAL_ERRORS = tuple(texts["internal_error"] for texts in LANGUAGES.values())

LATENCY_USER = 1001
BURST_USER_BASE = 2001


# --------------------------------------------------------------------------------------------
# The bots
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bot:
    """How to run one bot against a fake, and what its people type."""

    name: str
    running: Callable[[FakeTelegram], AbstractAsyncContextManager[None]]
    texts: tuple[str, ...]
    menu: str  # a text whose reply carries the inline keyboard of the press phase
    # (label, kind) of the buttons to press in turn, from the menu's reply
    presses: Callable[[FakeMessage], list[tuple[str, str]]]


async def echo_text(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None or message.text is None:
        return
    # One comparison, so that the same handler also serves the press phase its keyboard.
    markup = ECHO_KEYBOARD if message.text == ECHO_MENU else None
    await message.reply_text(message.text, reply_markup=markup)


async def echo_press(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    await query.answer()
    await query.edit_message_text(query.data, reply_markup=ECHO_KEYBOARD)


@asynccontextmanager
async def running_echo(tg: FakeTelegram, *, jbl_http: bool = False) -> AsyncIterator[None]:
    builder = (
        Application.builder()
        .token(tg.token)
        .base_url(tg.base_url)
        # jbl's channel handles updates concurrently too; the same setting keeps the
        # comparison about what the bots do with an update, not how PTB schedules them.
        .concurrent_updates(64)
    )
    if jbl_http:
        builder = builder.request(JsonRequest(CONNECTIONS)).get_updates_request(JsonRequest(1))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo_text))
    application.add_handler(CallbackQueryHandler(echo_press))
    await application.initialize()
    updater = application.updater
    assert updater is not None
    await updater.start_polling()
    await application.start()
    try:
        yield
    finally:
        await updater.stop()
        await application.stop()
        await application.shutdown()


def echo_bot(*, jbl_http: bool = False) -> Bot:
    """The bare PTB echo bot; with `jbl_http`, on jbl's HTTP layer instead of PTB's own."""
    return Bot(
        "echo-j" if jbl_http else "echo",
        functools.partial(running_echo, jbl_http=jbl_http),
        JBL_TEXTS,
        ECHO_MENU,
        lambda menu: [(b, "edit") for b in menu.buttons],
    )


def jbl_bot(database_url: str) -> Bot:
    @asynccontextmanager
    async def running(tg: FakeTelegram) -> AsyncIterator[None]:
        async with running_jbl(database_url, lambda: datetime.now(UTC), tg):
            yield

    def presses(catalog: FakeMessage) -> list[tuple[str, str]]:
        # Every category of the catalog, each followed by the way back; the last button of
        # the catalog is "🏠 Menu".
        return [
            step
            for category in catalog.buttons[:-1]
            for step in ((category, "open a category"), (JBL_BACK, "back to the catalog"))
        ]

    return Bot("jbl", running, JBL_TEXTS, JBL_MENU, presses)


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass
class Latencies:
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    problems: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, seconds: float) -> None:
        self.by_kind.setdefault(kind, []).append(seconds)

    @property
    def all(self) -> list[float]:
        return [v for values in self.by_kind.values() for v in values]


@dataclass
class Burst:
    messages: int  # pushed
    users: int
    seconds: float
    completions: list[float]  # seconds after the first push, one per reply stored
    problems: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return len(self.completions) / self.seconds

    @property
    def sustained_rate(self) -> float:
        """Replies per second between the 10th and the 90th percentile of completions: the
        steady state, without the first getUpdates round trip and the tail."""
        return steady_rate(self.completions) or float("nan")


@dataclass
class Measured:
    name: str
    texts: Latencies
    presses: Latencies
    burst: Burst
    rss_kib: int | None  # VmRSS after the bot's burst
    maxrss_kib: int  # ru_maxrss after the bot's burst
    profile: dict[str, float] | None = None  # area -> seconds per message


def is_apology(message: FakeMessage) -> bool:
    return any(apology in (message.text or "") for apology in INTERNAL_ERRORS)


class TextsPhase:
    """One person's texts to one bot, each sent once the previous one was answered."""

    def __init__(self, user: TelegramUser, texts: Sequence[str]) -> None:
        self.user, self.texts = user, texts
        self.result = Latencies()
        self.sent_before = len(user.bot_messages)
        self.sent = 0

    async def step(self, n: int) -> None:
        text = self.texts[n % len(self.texts)]
        started = time.perf_counter()
        reply = await self.user.wait_for_reply(self.user.send(text))
        self.result.add(text, time.perf_counter() - started)
        self.sent += 1
        if is_apology(reply):
            self.result.problems["apology for an internal error"] += 1

    def finish(self) -> Latencies:
        # A bot that answered with more than one message would still be sending the extra
        # ones while the next update is timed: that would not be one reply per update.
        extra = len(self.user.bot_messages) - self.sent_before - self.sent
        if extra:
            self.result.problems["messages beyond one reply per update"] += extra
        return self.result


class PressesPhase:
    """One person's presses on the inline keyboard of the bot's menu, answered by an edit."""

    def __init__(self, user: TelegramUser, bot: Bot) -> None:
        self.user, self.bot = user, bot
        self.result = Latencies()
        self.menu: FakeMessage | None = None
        self.labels: list[tuple[str, str]] = []

    async def open(self) -> None:
        self.menu = await self.user.wait_for_reply(self.user.send(self.bot.menu))
        self.labels = self.bot.presses(self.menu)

    async def step(self, n: int) -> None:
        assert self.menu is not None
        label, kind = self.labels[n % len(self.labels)]
        started = time.perf_counter()
        reply = await self.user.wait_for_reply(self.user.press(label, self.menu.message_id))
        self.result.add(kind, time.perf_counter() - started)
        if reply.message_id != self.menu.message_id:
            self.result.problems["answered with a new message, not an edit"] += 1
        if is_apology(reply):
            self.result.problems["apology for an internal error"] += 1

    def finish(self) -> Latencies:
        return self.result


class Phase(Protocol):
    async def step(self, n: int) -> None: ...

    def finish(self) -> Latencies: ...


async def alternating(phases: Sequence[Phase], count: int) -> list[Latencies]:
    """Message n to every bot before message n + 1 to any, the bot that goes first turning
    each round: whatever else loads the machine meanwhile falls on every bot alike."""
    for n in range(count):
        for phase in phases if n % 2 == 0 else phases[::-1]:
            await phase.step(n)
    return [phase.finish() for phase in phases]


async def texts_phase(user: TelegramUser, texts: Sequence[str], count: int) -> Latencies:
    return (await alternating([TextsPhase(user, texts)], count))[0]


async def presses_phase(user: TelegramUser, bot: Bot, count: int) -> Latencies:
    phase = PressesPhase(user, bot)
    await phase.open()
    return (await alternating([phase], count))[0]


class ReplyCounter:
    """Counts the sendMessage calls the fake has answered since it was made, cheaply enough
    to be the predicate of `tg.wait_for` (which re-checks it after every API call): only the
    calls added since the last check are looked at, and the few still in flight."""

    def __init__(self, tg: FakeTelegram, started: float) -> None:
        self.tg = tg
        self.started = started
        self.seen = len(tg.calls)
        self.in_flight: list[Call] = []
        self.ok = 0
        self.failed = 0  # answered with an error: that reply will never come
        self.completions: list[float] = []
        self.problems: Counter[str] = Counter()

    def count(self) -> int:
        calls = self.tg.calls
        if self.seen < len(calls):
            self.in_flight.extend(c for c in calls[self.seen :] if c.method == "sendMessage")
            self.seen = len(calls)
        if self.in_flight:
            now = time.perf_counter() - self.started
            still: list[Call] = []
            for call in self.in_flight:
                if call.status is None:
                    still.append(call)
                elif call.status == 200:
                    self.ok += 1
                    self.completions.append(now)
                    if any(apology in str(call.params.get("text")) for apology in INTERNAL_ERRORS):
                        self.problems["apology for an internal error"] += 1
                else:
                    self.failed += 1
                    self.problems[f"sendMessage answered {call.status}: {call.error}"] += 1
            self.in_flight = still
        return self.ok


async def burst_phase(
    tg: FakeTelegram, users: list[TelegramUser], texts: Sequence[str], count: int
) -> Burst:
    expected: Counter[int] = Counter()
    before = {user.id: len(user.bot_messages) for user in users}
    started = time.perf_counter()
    counter = ReplyCounter(tg, started)
    for n in range(count):
        user = users[n % len(users)]
        # Each person goes through the texts from a different point, so that at any moment
        # the bot has a mix of commands in hand.
        user.send(texts[(n // len(users) + user.id) % len(texts)])
        expected[user.id] += 1
    await tg.wait_for(
        lambda: counter.count() + counter.failed >= count,
        timeout=60.0 + count / 10,
        what=f"{count} replies to the burst",
    )
    seconds = time.perf_counter() - started
    problems = counter.problems
    for user in users:
        got = len(user.bot_messages) - before[user.id]
        if got != expected[user.id]:
            problems["people with more or fewer replies than messages"] += 1
    return Burst(count, len(users), seconds, counter.completions, problems)


class LogCounter(logging.Handler):
    """Counts warnings and errors logged anywhere (jbl, PTB, the fake) while a bot runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        first_line = record.getMessage().splitlines()[0][:150]
        self.records[f"{record.levelname} {record.name}: {first_line}"] += 1


@dataclass
class Side:
    """One bot running against its own fake, with its people."""

    bot: Bot
    tg: FakeTelegram
    person: TelegramUser
    crowd: list[TelegramUser]


async def start_side(stack: AsyncExitStack, bot: Bot, args: argparse.Namespace) -> Side:
    tg = await stack.enter_async_context(FakeTelegram(token=TOKEN))
    await stack.enter_async_context(bot.running(tg))
    person = tg.user(LATENCY_USER, "Budi", language_code="id")
    crowd = [
        tg.user(BURST_USER_BASE + n, f"Warga {n}", language_code="id") for n in range(args.users)
    ]
    # Warm-up: every code path of the phases below once or more, first contact of everyone
    # (jbl creates their identity then), connections in PTB's pool opened.
    await texts_phase(person, bot.texts, args.warmup)
    await presses_phase(person, bot, max(args.warmup // 2, 4))
    await asyncio.gather(*(u.wait_for_reply(u.send(bot.texts[0])) for u in crowd))
    return Side(bot, tg, person, crowd)


async def measure(
    bots: Sequence[Bot], args: argparse.Namespace
) -> tuple[list[Measured], Counter[str]]:
    """Both bots run at once, each against its own fake; their latencies are taken in
    alternation (see `alternating`), their throughput one bot after the other."""
    log_counter = LogCounter()
    logging.getLogger().addHandler(log_counter)
    try:
        async with AsyncExitStack() as stack:
            sides = [await start_side(stack, bot, args) for bot in bots]
            gc.collect()
            texts = await alternating(
                [TextsPhase(side.person, side.bot.texts) for side in sides], args.messages
            )
            gc.collect()
            pressing = [PressesPhase(side.person, side.bot) for side in sides]
            for phase in pressing:
                await phase.open()
            presses = await alternating(pressing, args.presses)
            results = []
            for side, text_latencies, press_latencies in zip(sides, texts, presses, strict=True):
                profile = None
                if args.profile:
                    # Before the burst, which leaves many more connections in PTB's pool.
                    gc.collect()
                    profile = await profile_phase(side.person, side.bot, args.profile_messages)
                gc.collect()
                burst = await burst_phase(side.tg, side.crowd, side.bot.texts, args.burst)
                rss = proc_status_kib("VmRSS")
                # The kernel updates its high-water mark lazily: it can trail the RSS just read.
                maxrss = max(peak_rss_kib(), rss or 0)
                results.append(
                    Measured(
                        side.bot.name, text_latencies, press_latencies, burst, rss, maxrss, profile
                    )
                )
    finally:
        logging.getLogger().removeHandler(log_counter)
    return results, log_counter.records


# --------------------------------------------------------------------------------------------
# Profile (--profile)
# --------------------------------------------------------------------------------------------

# (area, path fragments), first match wins; C functions are charged to their callers' area.
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        f"jbl ({', '.join(APP_PACKAGES)})",
        tuple(f"{ROOT / p}{os.sep}" for p in APP_PACKAGES),
    ),
    ("fake Telegram and its waiters (tests/)", (str(ROOT / "tests"),)),
    ("fake's web server (uvicorn, starlette)", ("uvicorn", "starlette")),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("DB driver (aiosqlite, asyncpg)", ("aiosqlite", "asyncpg", "sqlite3")),
    ("python-telegram-bot", (f"{os.sep}telegram{os.sep}",)),
    # h11 parses HTTP on both sides (httpcore in the bot, uvicorn in the fake).
    ("HTTP clients and h11", ("httpx", "httpcore", "h11", "anyio", "aiohttp")),
    ("json", (f"{os.sep}json{os.sep}",)),
    ("asyncio event loop", ("asyncio", "selectors")),
    # Failed imports are not cached: a module that tries one per call pays a path search.
    ("import machinery", ("<frozen importlib",)),
)
IDLE = "waiting in epoll (idle, or other threads)"
OTHER = "other (stdlib: urllib.parse, copy, …)"


def area_of(filename: str) -> str:
    for area, fragments in AREAS:
        if any(fragment in filename for fragment in fragments):
            return area
    return OTHER


def areas_of(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time by area. A C function (no source file) has no area of its own: its
    time goes to the areas of its callers, in proportion, except the epoll wait."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    seconds: Counter[str] = Counter()
    for (filename, _line, name), (_cc, _nc, own, _cum, callers) in table.items():
        if filename != "~":
            seconds[area_of(filename)] += own
        elif "poll" in name and "epoll" in name:
            seconds[IDLE] += own
        elif callers:
            for (caller_file, _cl, _cn), edge in callers.items():
                seconds[area_of(caller_file) if caller_file != "~" else OTHER] += edge[2]
        else:
            seconds[OTHER] += own
    return dict(seconds)


async def profile_phase(user: TelegramUser, bot: Bot, count: int) -> dict[str, float]:
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        await texts_phase(user, bot.texts, count)
    finally:
        profiler.disable()
    seconds = areas_of(pstats.Stats(profiler))
    return {area: s / count for area, s in seconds.items()}


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return 1000 * seconds


def print_latency_table(title: str, results: Sequence[tuple[str, Latencies]]) -> None:
    print(f"\n-- {title} --")
    table = LatencyTable(f"{'bot':<7}kind", 27, mean=True)
    print(table.header())
    for name, latencies in results:
        rows = list(latencies.by_kind.items())
        if len(rows) > 1:
            rows.append(("all", latencies.all))
        for kind, values in rows:
            print(table.row(f"{name:<7}{kind}", values))
        if latencies.problems:
            print(f"{'':<6}PROBLEMS: {dict(latencies.problems)}")


def print_bursts(results: Sequence[Measured]) -> None:
    burst = results[0].burst
    print(
        f"\n-- throughput: {burst.messages:,} messages from {burst.users} people, all queued at"
        " once --"
    )
    print(
        f"{'bot':<6}{'seconds':>9}{'msg/s':>9}{'sustained msg/s':>17}"
        f"{'first reply ms':>16}{'last reply ms':>15}"
    )
    for result in results:
        b = result.burst
        print(
            f"{result.name:<6}{b.seconds:>9.2f}{b.rate:>9,.0f}{b.sustained_rate:>17,.0f}"
            f"{ms(min(b.completions, default=0)):>16.1f}"
            f"{ms(max(b.completions, default=0)):>15.1f}"
        )
        if b.problems:
            print(f"{'':<6}PROBLEMS: {dict(b.problems)}")
    print("(sustained: replies between the 10th and 90th percentile of completion times)")


def print_ratios(echo: Measured, jbl: Measured) -> list[Goal]:
    def row(figure: str, echo_value: float, jbl_value: float, unit: str) -> float:
        ratio = jbl_value / echo_value
        print(f"{figure:<28}{echo_value:>10.2f}{jbl_value:>10.2f}  {unit:<6}{ratio:>8.2f}×")
        return ratio

    print("\n-- jbl / echo --")
    print(f"{'figure':<28}{'echo':>10}{'jbl':>10}  {'unit':<6}{'jbl/echo':>9}")
    text_p50 = row(
        "text update→reply p50",
        ms(percentile(echo.texts.all, 50)),
        ms(percentile(jbl.texts.all, 50)),
        "ms",
    )
    text_mean = row(
        "text update→reply mean", ms(mean(echo.texts.all)), ms(mean(jbl.texts.all)), "ms"
    )
    row(
        "text update→reply p99",
        ms(percentile(echo.texts.all, 99)),
        ms(percentile(jbl.texts.all, 99)),
        "ms",
    )
    press_p50 = row(
        "button press→edit p50",
        ms(percentile(echo.presses.all, 50)),
        ms(percentile(jbl.presses.all, 50)),
        "ms",
    )
    press_mean = row(
        "button press→edit mean", ms(mean(echo.presses.all)), ms(mean(jbl.presses.all)), "ms"
    )
    throughput = row("throughput", echo.burst.rate, jbl.burst.rate, "msg/s")
    row("throughput, sustained", echo.burst.sustained_rate, jbl.burst.sustained_rate, "msg/s")

    problems = sum(
        sum(c.values()) for m in (echo, jbl) for c in (m.texts.problems, m.presses.problems)
    ) + sum(sum(m.burst.problems.values()) for m in (echo, jbl))
    return [
        verdict_row(
            "update→reply ratio (p50)",
            f"≤ {RATIO_GOAL}×",
            f"{text_p50:.2f}×",
            text_p50 <= RATIO_GOAL,
        ),
        info_row("update→reply ratio (mean)", f"{text_mean:.2f}×"),
        info_row("button press→edit ratio (p50)", f"{press_p50:.2f}×"),
        info_row("button press→edit ratio (mean)", f"{press_mean:.2f}×"),
        info_row("throughput ratio jbl/echo", f"{throughput:.2f}×"),
        info_row("echo throughput", f"{echo.burst.rate:,.0f} msg/s"),
        info_row("jbl throughput", f"{jbl.burst.rate:,.0f} msg/s"),
        verdict_row("messages not answered right", "0", str(problems), not problems),
    ]


def print_same_http_ratios(echo: Measured, jbl: Measured) -> list[Goal]:
    """jbl next to the echo bot on jbl's own HTTP layer: what the conversation itself costs."""
    text_p50 = ms(percentile(jbl.texts.all, 50)) / ms(percentile(echo.texts.all, 50))
    press_p50 = ms(percentile(jbl.presses.all, 50)) / ms(percentile(echo.presses.all, 50))
    return [
        info_row("update→reply ratio, same HTTP (p50)", f"{text_p50:.2f}×"),
        info_row("press→edit ratio, same HTTP (p50)", f"{press_p50:.2f}×"),
    ]


def print_memory_and_logs(results: Sequence[Measured], log_records: Counter[str]) -> None:
    print("\n-- memory (one process: all bots and their fakes) --")
    for result in results:
        rss = kib_to_mib(result.rss_kib) if result.rss_kib is not None else "?"
        print(
            f"after {result.name}'s burst: RSS {rss}, peak RSS so far"
            f" {kib_to_mib(result.maxrss_kib)}"
        )
    if log_records:
        print("\nlogged while the bots ran (warnings and errors):")
        for line, count in log_records.most_common(8):
            print(f"  {count:5d}× {line}")


def print_profile(results: Sequence[Measured], count: int) -> None:
    profiled = [r for r in results if r.profile is not None]
    if not profiled:
        return
    print(
        f"\n-- where the time goes: {count} text messages per bot under cProfile, main thread,"
        " ms per message (cProfile slows Python code, so only the split is meaningful) --"
    )
    areas = sorted(
        {a for r in profiled for a in r.profile or {}},
        key=lambda a: -max((r.profile or {}).get(a, 0.0) for r in profiled),
    )
    print(f"{'area':<44}" + "".join(f"{r.name:>10}" for r in profiled))
    for area in areas:
        cells = "".join(f"{ms((r.profile or {}).get(area, 0.0)):>10.2f}" for r in profiled)
        print(f"{area:<44}{cells}")
    totals = "".join(f"{ms(sum((r.profile or {}).values())):>10.2f}" for r in profiled)
    print(f"{'total':<44}{totals}")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


async def drive(args: argparse.Namespace) -> tuple[list[Measured], Counter[str]]:
    return await measure([echo_bot(), jbl_bot(args.database_url), echo_bot(jbl_http=True)], args)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = BenchmarkParser(
        "telegram",
        __doc__,
        database=EMPTY_SCHEMA_HELP,
    )
    parser.sized("--messages", full=500, quick=50, help="sequential text messages per bot")
    parser.add_argument("--presses", type=int, help="button presses per bot (default: --messages)")
    parser.sized("--burst", full=2_000, quick=200, help="throughput messages per bot")
    parser.sized("--users", full=50, quick=10, help="people in the burst")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up text messages per bot")
    parser.keep()
    parser.reset_database()
    parser.add_argument("--profile", action="store_true", help="split the time by area")
    parser.add_argument("--profile-messages", type=int, default=200, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.presses = args.presses or args.messages
    if min(args.messages, args.presses, args.burst, args.users, args.warmup) < 1:
        parser.error("counts must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # jbl's channel opts PTB in to this when it is built; the echo bot gets the same PTB.
    use_timedelta_periods(os.environ)
    with database_url(args.database_url, "jbl.db", keep=args.keep) as args.database_url:
        database = prepare_database(args.database_url, reset=args.reset_database)
        software = [
            f"python-telegram-bot {telegram.__version__}",
            f"httpx {httpx.__version__}",
            f"aiohttp {aiohttp.__version__}",
            database,
        ]
        fingerprint = print_header("telegram", args.database_url, software)
        print(
            f"per bot: {args.warmup} warm-up texts, {args.messages} timed texts,"
            f" {args.presses} timed presses, a burst of {args.burst:,} messages from"
            f" {args.users} people; fake Telegram on 127.0.0.1, one event loop"
        )
        results, log_records = asyncio.run(drive(args))
        echo, jbl, echo_jbl_http = results
        print_latency_table(
            f"text messages: {args.messages} from one person, each sent after the previous reply",
            [(r.name, r.texts) for r in results],
        )
        print_latency_table(
            f"button presses: {args.presses} from one person, answered by an edit in place",
            [(r.name, r.presses) for r in results],
        )
        print_bursts(results)
        goals = print_ratios(echo, jbl)
        goals += print_same_http_ratios(echo_jbl_http, jbl)
        print_memory_and_logs(results, log_records)
        print_profile(results, args.profile_messages)
        goals.append(info_row("peak RSS (all bots, one process)", kib_to_mib(jbl.maxrss_kib)))
        # The goals decide no exit status here: the telegram runs report them.
        finish(goals, fingerprint)


if __name__ == "__main__":
    main()
