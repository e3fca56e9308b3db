"""The Friday storm: the broadcast goes out while residents answer it, on 1 and 2 `jbl run`s.

    python -m benchmarks.storm --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_storm
    python -m benchmarks.storm --database-url … --quick      # 2,000 subscribers, 1 minute
    python -m benchmarks.storm --database-url … --processes 2

Goals (the goals table at the end; the exit status is 1 if one fails), for each number of
processes:
- reply p99 ≤ 500 ms during the storm (`REPLY_P99_GOAL_MS`): from the moment a resident's
  message leaves the driver to the first message of the answer reaching the fake platform;
- the broadcast's rate held ≥ 0.95 of the limit on each channel (`HELD_GOAL`);
- the busiest second at each fake ≤ 1.03 × the limit (`BUSIEST_GOAL`);
- nothing lost or doubled: every subscriber got the broadcast once, every dialog's order was
  placed once;
- reported: replies by channel, the peak RSS of each `jbl run` process.

What runs, all on this machine: PostgreSQL; N real `jbl run` processes, with Telegram in webhook
mode and WhatsApp through Twilio; the fake Bot API (`tests/fake_telegram.py`, posting updates to
the webhook on up to 40 connections, as Telegram does) and the fake Twilio
(`tests/fake_twilio.py`, with status callbacks) in the driver's process, which is given the
CPU ahead of the others while it measures (`first_on_the_cpu`; as root); in front of the
processes a round-robin proxy (`benchmarks.harness.proxy`, a process of its own), as nginx
would be, which every webhook and status callback passes. The database is seeded with the demo
catalog and `--subscribers` people, half on each channel, each with their checkout details
remembered and WhatsApp's 24-hour window open; the featured category's products get stock
enough for every order.

The broadcast starts as the Friday job starts it (`scheduler.jobs.friday_broadcast`, on the
clock of the last Friday's send time, so that its rows are due now), and every process's
outbox sender sends it at `[telegram] rate_per_s` and `[whatsapp] rate_per_s`, the limits the
deployment shares. A share of the subscribers (`--answering`) answer once their broadcast has
reached them, starting at a moment spread evenly over `--spread-minutes`, with six messages
a few seconds apart: the broadcast's button (the featured category), its first product, "add
one", /checkout (the summary, from the remembered details), "order now", /pesanan.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import signal
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.harness.cli import BenchmarkParser
from benchmarks.harness.databases import (
    app_settings,
    is_sqlite,
    prepare_database,
    prepare_postgres,
    scratch_dir,
)
from benchmarks.harness.memory import kib_to_mib
from benchmarks.harness.priority import first_on_the_cpu
from benchmarks.harness.proxy import proxy_process
from benchmarks.harness.report import (
    Goal,
    LatencyTable,
    finish,
    info_row,
    print_header,
    verdict_row,
)
from benchmarks.harness.stalls import Stalls
from benchmarks.harness.stats import percentile
from benchmarks.whatsapp import until_healthy
from bot.bootstrap import App, build_app, init_database
from models.friday import edition_date
from scheduler.jobs import friday_broadcast
from tests.arrivals import busiest_window
from tests.fake_telegram import Call, FakeTelegram, TelegramUser, inline_buttons
from tests.fake_twilio import FakeTwilio, Message
from tests.processes import JBL
from tests.telegram_bot import SECRET, TOKEN, free_port
from tests.whatsapp_bot import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SENDER

REPLY_P99_GOAL_MS = 500.0
HELD_GOAL = 0.95
BUSIEST_GOAL = 1.03

TELEGRAM = "telegram"
WHATSAPP = "whatsapp"
FIRST_USER_ID = 700_000_000
FIRST_PHONE = 6281300000000
# The Bot API methods by which a message reaches a chat, and the parameter naming the chat.
TELEGRAM_SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText"})
BROADCAST_MARK = ":bc:"  # in the broadcast button's payload (`payloads.BROADCAST_CATALOG`)
THINK_SECONDS = (2.0, 5.0)  # between a reply and the resident's next message
REPLY_TIMEOUT = 60.0


# --------------------------------------------------------------------------------------------
# The platforms, as the driver sees them
# --------------------------------------------------------------------------------------------


class Arrivals:
    """When each message reached a chat at a fake, and waiting for the next one of a chat."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.broadcast: dict[str, list[float]] = defaultdict(list)  # by channel
        self.sends: dict[str, list[float]] = defaultdict(list)  # paced sends, by channel
        self.broadcast_by_chat: Counter[str] = Counter()  # Telegram's, told by their button
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def arrived(self, chat: str, channel: str, *, broadcast: bool, paced: bool) -> None:
        now = time.monotonic()
        self.times[chat].append(now)
        if broadcast:
            self.broadcast[channel].append(now)
            if channel == TELEGRAM:
                self.broadcast_by_chat[chat] += 1
        if paced:
            self.sends[channel].append(now)
        waiting = self._waiting.pop(chat, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(now)

    async def next_in(self, chat: str, after: int, timeout: float = REPLY_TIMEOUT) -> float:  # noqa: ASYNC109
        """When the chat's message number `after` (counting from 0) arrived."""
        while len(self.times[chat]) <= after:
            waiting = asyncio.get_running_loop().create_future()
            self._waiting[chat] = waiting
            async with asyncio.timeout(timeout):
                await waiting
        return self.times[chat][after]


class StormTelegram(FakeTelegram):
    """The fake Bot API, telling `Arrivals` of each message to a chat as its call arrives."""

    def __init__(self, arrivals: Arrivals, **options: Any) -> None:
        super().__init__(TOKEN, webhook_connections=40, **options)
        self.arrivals = arrivals

    def _record(self, call: Call) -> None:
        super()._record(call)
        if call.method in TELEGRAM_SENDS and "chat_id" in call.params:
            markup = json.dumps(call.params.get("reply_markup") or "")
            broadcast = BROADCAST_MARK in markup and call.method != "editMessageText"
            self.arrivals.arrived(
                f"tg:{call.params['chat_id']}", TELEGRAM, broadcast=broadcast, paced=broadcast
            )


def on_twilio_message(arrivals: Arrivals, broadcasts: set[str]) -> Any:
    def arrived(message: Message) -> None:
        # Every WhatsApp message leaves through the outbox sender, replies too.
        first = message.to not in broadcasts
        if first:
            broadcasts.add(message.to)
        arrivals.arrived(f"wa:{message.to}", WHATSAPP, broadcast=first, paced=True)

    return arrived


# --------------------------------------------------------------------------------------------
# The database
# --------------------------------------------------------------------------------------------


def telegram_id(n: int) -> int:
    return FIRST_USER_ID + n


def phone(n: int) -> str:
    return f"+{FIRST_PHONE + n}"


def identity_of(n: int) -> str:
    return f"telegram:{telegram_id(n)}" if n % 2 == 0 else f"whatsapp:{phone(n)}"


async def seed(app: App, subscribers: int) -> dict[str, int]:
    """The demo catalog, the subscribers with their details remembered, stock for everyone."""
    await init_database(app, demo=True)
    now = datetime.now(UTC)
    async with app.engine.begin() as connection:
        first = int(
            (
                await connection.execute(text("SELECT coalesce(max(id), 0) + 1 FROM persons"))
            ).scalar_one()
        )
        persons = [
            {
                "id": first + n,
                "name": f"Warga {n}",
                "phone": phone(n),
                "now": now,
            }
            for n in range(subscribers)
        ]
        await connection.execute(
            text(
                "INSERT INTO persons (id, display_name, language, blocked, contact_name, phone,"
                " delivery, payment, created_at) VALUES (:id, :name, 'id', false, :name, :phone,"
                " 'pickup', 'cash', :now)"
            ),
            persons,
        )
        await connection.execute(
            text(
                "INSERT INTO identities (identity, person_id, last_seen_at)"
                " VALUES (:identity, :person, :now)"
            ),
            [
                {"identity": identity_of(n), "person": first + n, "now": now}
                for n in range(subscribers)
            ],
        )
        await connection.execute(
            text(
                "INSERT INTO subscriptions (person_id, identity, channel, categories, since)"
                " VALUES (:person, :identity, :channel, 0, :now)"
            ),
            [
                {
                    "person": first + n,
                    "identity": identity_of(n),
                    "channel": identity_of(n).split(":")[0],
                    "now": now,
                }
                for n in range(subscribers)
            ],
        )
        if not is_sqlite(str(app.engine.url)):
            await connection.execute(
                text("SELECT setval('persons_id_seq', (SELECT max(id) FROM persons))")
            )
        await connection.execute(text("UPDATE products SET stock = 1000000"))
    return {"first_person": first}


async def start_broadcast(app: App) -> int:
    """Starts the broadcast as the Friday job does, on the clock of the last Friday's send
    time: its rows are due now."""
    send_time = app.conversation.config.send_time
    today = datetime.now(send_time.timezone).date()
    friday = edition_date(today)
    if send_time.of(friday) > datetime.now(UTC):
        friday -= timedelta(days=7)
    moment = send_time.of(friday).astimezone(UTC)
    started = await friday_broadcast(app.sessions, lambda: moment, send_time)
    if len(started) != 1:
        raise SystemExit(f"the Friday job started {started}, not one broadcast")
    return started[0]


async def scalar(app: App, sql: str, **params: Any) -> Any:
    async with app.engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar()


# --------------------------------------------------------------------------------------------
# The processes
# --------------------------------------------------------------------------------------------


@dataclass
class Jbl:
    process: asyncio.subprocess.Process
    base: str
    peak_rss_kib: int = 0

    def sample_rss(self) -> None:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))


def jbl_env(
    url: str, port: int, proxy: str, tg: FakeTelegram, twilio: FakeTwilio, args: argparse.Namespace
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    return env | {
        "JBL_DATABASE__URL": url,
        "JBL_HTTP__PORT": str(port),
        "JBL_TELEGRAM__TOKEN": TOKEN,
        "JBL_TELEGRAM__API_BASE_URL": tg.base_url,
        "JBL_TELEGRAM__WEBHOOK_URL": f"{proxy}/telegram/webhook",
        "JBL_TELEGRAM__SECRET_TOKEN": SECRET,
        "JBL_TELEGRAM__RATE_PER_S": f"{args.telegram_rate:g}",
        "JBL_WHATSAPP__ACCOUNT_SID": ACCOUNT_SID,
        "JBL_WHATSAPP__AUTH_TOKEN": AUTH_TOKEN,
        "JBL_WHATSAPP__FROM_NUMBER": SENDER,
        "JBL_WHATSAPP__PUBLIC_URL": PUBLIC_URL,
        "JBL_WHATSAPP__API_BASE_URL": twilio.base_url,
        "JBL_WHATSAPP__RATE_PER_S": f"{args.whatsapp_rate:g}",
    }


@contextlib.asynccontextmanager
async def running_jbls(
    count: int,
    url: str,
    tg: FakeTelegram,
    twilio: FakeTwilio,
    args: argparse.Namespace,
    cwd: Path,
) -> AsyncIterator[list[Jbl]]:
    """`count` `jbl run` processes behind the proxy until the block ends; then SIGTERM."""
    ports = [free_port() for _ in range(count)]
    jbls: list[Jbl] = []
    async with contextlib.AsyncExitStack() as stack:
        proxy = await stack.enter_async_context(
            proxy_process([f"http://127.0.0.1:{port}" for port in ports])
        )
        twilio.connect(proxy, PUBLIC_URL)
        stack.push_async_callback(_stop_jbls, jbls)
        for port in ports:
            process = await asyncio.create_subprocess_exec(
                JBL,
                "run",
                env=jbl_env(url, port, proxy, tg, twilio, args),
                cwd=cwd,
                stderr=asyncio.subprocess.PIPE,
            )
            jbls.append(Jbl(process, f"http://127.0.0.1:{port}"))
        for jbl in jbls:
            await until_healthy(jbl.base, jbl.process)
        yield jbls


async def _stop_jbls(jbls: list[Jbl]) -> None:
    """SIGTERM to each, then what any said in dying."""
    for jbl in jbls:
        jbl.sample_rss()
        if jbl.process.returncode is None:
            jbl.process.send_signal(signal.SIGTERM)
    for jbl in jbls:
        _, err = await jbl.process.communicate()
        said = err.decode()
        if jbl.process.returncode != 0 or "Traceback" in said:
            print(f"jbl ended with {jbl.process.returncode}:\n{said[-3000:]}", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# Residents
# --------------------------------------------------------------------------------------------


@dataclass
class Dialogs:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    finished: int = 0
    failed: list[str] = field(default_factory=list)


def newest_button(user: TelegramUser, prefix: str) -> tuple[str, int]:
    """The callback data starting with `prefix` on the newest bot message that has one."""
    for message in reversed(user.tg.chat(user.chat_id)):
        if not message.from_bot:
            continue
        for button in inline_buttons(message.reply_markup):
            data = str(button.get("callback_data", ""))
            if data.startswith(prefix):
                return data, message.message_id
    raise AssertionError(f"no button {prefix}… in chat {user.chat_id}")


async def telegram_dialog(
    n: int, tg: FakeTelegram, arrivals: Arrivals, start_at: float, dialogs: Dialogs
) -> None:
    user = tg.user(telegram_id(n), f"Warga {n}")
    chat = f"tg:{telegram_id(n)}"
    await arrivals.next_in(chat, 0, timeout=3600)  # the broadcast
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))

    async def step(act: Any) -> None:
        seen = len(arrivals.times[chat])
        sent = time.monotonic()
        act()
        got = await arrivals.next_in(chat, seen)
        dialogs.latencies[TELEGRAM].append(got - sent)
        await asyncio.sleep(random.uniform(*THINK_SECONDS))

    await step(lambda: user.press_data(*newest_button(user, "c:")))
    await step(lambda: user.press_data(*newest_button(user, "p:")))
    await step(lambda: user.press_data(*newest_button(user, "a:")))
    await step(lambda: user.send("/checkout"))
    await step(lambda: user.press_data(*newest_button(user, "co:ok:")))
    await step(lambda: user.send("/pesanan"))


async def whatsapp_dialog(
    n: int, twilio: FakeTwilio, arrivals: Arrivals, start_at: float, dialogs: Dialogs
) -> None:
    user = twilio.user(phone(n), f"Warga {n}")
    chat = f"wa:whatsapp:{phone(n)}"
    await arrivals.next_in(chat, 0, timeout=3600)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))

    async def step(body: str) -> None:
        seen = len(arrivals.times[chat])
        sent = time.monotonic()
        await user.send(body)
        got = await arrivals.next_in(chat, seen)
        dialogs.latencies[WHATSAPP].append(got - sent)
        await asyncio.sleep(random.uniform(*THINK_SECONDS))

    def number_of(label: str) -> str:
        menu = next((m.menu for m in reversed(user.messages) if m.menu), [])
        for number, line in enumerate(menu, start=1):
            if label in line:
                return str(number)
        raise AssertionError(f"{label!r} not in {menu}")

    await step("1")  # the broadcast's one choice: the featured category
    await step("1")  # its first product
    await step(number_of("Tambah 1"))
    await step("/checkout")
    await step(number_of("Pesan sekarang"))
    await step("/pesanan")


async def dialog(kind: Any, n: int, *rest: Any) -> None:
    dialogs: Dialogs = rest[-1]
    try:
        await kind(n, *rest)
        dialogs.finished += 1
    except Exception as error:  # reported with the figures: a dialog that broke is a finding
        dialogs.failed.append(f"{identity_of(n)}: {error!r}")


# --------------------------------------------------------------------------------------------
# One storm
# --------------------------------------------------------------------------------------------


@dataclass
class Storm:
    processes: int
    dialogs: Dialogs
    arrivals: Arrivals
    peak_rss_kib: list[int]
    orders: int
    expected_orders: int
    subscribers: int
    broadcast_rows: int
    rows_by_status: dict[str, int]
    lost: int  # subscribers whose broadcast never reached them
    doubled: int  # broadcast rows that reached their chat more than once
    seconds: float
    # The driver's longest moment away from its event loop: the fakes stamp each arrival when
    # the loop gets to it, so a stall bunches the sends of its length into the next second.
    longest_stall: float


def rate_held(times: Sequence[float], limit: float) -> float:
    """Sends per second from the first to the last, as a fraction of the limit."""
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (max(times) - min(times)) / limit


async def storm(processes: int, args: argparse.Namespace, url: str, cwd: Path) -> Storm:
    app = build_app(app_settings(url))
    arrivals = Arrivals()
    dialogs = Dialogs()
    try:
        await seed(app, args.subscribers)
        rng = random.Random(args.seed)
        answering = sorted(
            rng.sample(range(args.subscribers), int(args.subscribers * args.answering))
        )
        firsts: set[str] = set()
        async with (
            StormTelegram(arrivals) as tg,
            FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, SENDER) as twilio,
        ):
            twilio.on_message = on_twilio_message(arrivals, firsts)
            # People who wrote to the bot before: Telegram knows their chats, and WhatsApp's
            # 24-hour window is open for them.
            for n in range(args.subscribers):
                if n % 2 == 0:
                    tg.user(telegram_id(n), f"Warga {n}")
                else:
                    twilio.inbound(phone(n))
            async with (
                running_jbls(processes, url, tg, twilio, args, cwd) as jbls,
                quiet_gc(),
                first_on_the_cpu("driver"),
            ):
                sampling = asyncio.create_task(sample_rss(jbls))
                stalls = Stalls()
                watching = asyncio.create_task(stalls.watch())
                began = time.monotonic()
                broadcast_id = await start_broadcast(app)
                spread = args.spread_minutes * 60
                tasks = []
                for n in answering:
                    start_at = began + rng.uniform(0, spread)
                    if n % 2 == 0:
                        tasks.append(dialog(telegram_dialog, n, tg, arrivals, start_at, dialogs))
                    else:
                        tasks.append(
                            dialog(whatsapp_dialog, n, twilio, arrivals, start_at, dialogs)
                        )
                await asyncio.gather(*tasks)
                await until_sent(app, broadcast_id)
                seconds = time.monotonic() - began
                sampling.cancel()
                watching.cancel()
            rows = {int(row_id): status for row_id, status in await rows_of(app, broadcast_id)}
            whatsapp_sent = Counter(
                int(m.status_callback.rsplit("row=", 1)[1])
                for m in twilio.messages
                if m.status_callback and "row=" in m.status_callback
            )
        telegram_sent = arrivals.broadcast_by_chat
        reached = sum(1 for row_id in rows if whatsapp_sent.get(row_id)) + len(telegram_sent)
        doubled = sum(1 for row_id in rows if whatsapp_sent.get(row_id, 0) > 1) + sum(
            1 for count in telegram_sent.values() if count > 1
        )
        return Storm(
            processes=processes,
            dialogs=dialogs,
            arrivals=arrivals,
            peak_rss_kib=[jbl.peak_rss_kib for jbl in jbls],
            orders=int(await scalar(app, "SELECT count(*) FROM orders")),
            expected_orders=len(answering),
            subscribers=args.subscribers,
            broadcast_rows=len(rows),
            rows_by_status=dict(Counter(rows.values())),
            lost=args.subscribers - reached,
            doubled=doubled,
            seconds=seconds,
            longest_stall=stalls.longest,
        )
    finally:
        await app.close()


async def rows_of(app: App, broadcast_id: int) -> list[tuple[int, str]]:
    async with app.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT id, status FROM outbox WHERE broadcast_id = :b"), {"b": broadcast_id}
        )
        return [(int(row_id), str(status)) for row_id, status in result]


async def until_sent(app: App, broadcast_id: int, timeout: float = 3600) -> None:  # noqa: ASYNC109
    """Until none of the broadcast's rows is waiting or being sent."""
    async with asyncio.timeout(timeout):
        while True:
            left = await scalar(
                app,
                "SELECT count(*) FROM outbox WHERE broadcast_id = :b"
                " AND status IN ('pending', 'sending')",
                b=broadcast_id,
            )
            if not left:
                return
            await asyncio.sleep(1.0)


@contextlib.asynccontextmanager
async def quiet_gc() -> AsyncIterator[None]:
    """No collection of the driver's garbage while the storm is measured: a full collection
    over the seeded fakes' objects held the loop (and the stamps at the fakes) for a tenth of a
    second. What was built before is frozen out of later collections too."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def sample_rss(jbls: Sequence[Jbl]) -> None:
    while True:
        for jbl in jbls:
            jbl.sample_rss()
        await asyncio.sleep(1.0)


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


def report(storms: Sequence[Storm], args: argparse.Namespace) -> list[Goal]:
    goals: list[Goal] = []
    table = LatencyTable("replies", 26)
    limits = {TELEGRAM: args.telegram_rate, WHATSAPP: args.whatsapp_rate}
    for run in storms:
        label = f"{run.processes} process{'es' if run.processes > 1 else ''}"
        print(
            f"\n-- {label}: {run.subscribers:,} subscribers, {run.expected_orders:,} answering,"
            f" {run.seconds:,.0f} s from the broadcast's start to its last row --"
        )
        print(table.header())
        every: list[float] = []
        for channel in (TELEGRAM, WHATSAPP):
            seconds = run.dialogs.latencies[channel]
            every += seconds
            if seconds:
                print(table.row(channel, seconds))
        if every:
            print(table.row("both", every))
        p99 = percentile(every, 99) * 1000 if every else float("inf")
        goals.append(
            verdict_row(
                f"{label}: reply p99",
                f"≤ {REPLY_P99_GOAL_MS:.0f} ms",
                f"{p99:.0f} ms",
                p99 <= REPLY_P99_GOAL_MS,
            )
        )
        for channel in (TELEGRAM, WHATSAPP):
            sends = run.arrivals.sends[channel]
            broadcast = run.arrivals.broadcast[channel]
            limit = limits[channel]
            # WhatsApp's replies share the sender's limit with the broadcast: every send
            # while the broadcast went counts.
            during = [t for t in sends if broadcast and min(broadcast) <= t <= max(broadcast)]
            held = rate_held(during if channel == WHATSAPP else broadcast, limit)
            most, began = busiest_window(sorted(sends))
            busiest = most / limit
            start = min(broadcast, default=began)
            print(
                f"{channel}: {len(broadcast):,} broadcast messages, {len(sends):,} paced sends;"
                f" held {held:.3f} of {limit:g}/s, busiest second {busiest:.3f}×"
                f" ({most} sends from {began - start:+.1f} s after the broadcast's first)"
            )
            goals.append(
                verdict_row(
                    f"{label}: {channel} rate held",
                    f"≥ {HELD_GOAL}",
                    f"{held:.3f}",
                    held >= HELD_GOAL,
                )
            )
            goals.append(
                verdict_row(
                    f"{label}: {channel} busiest second",
                    f"≤ {BUSIEST_GOAL}×",
                    f"{busiest:.3f}×",
                    busiest <= BUSIEST_GOAL,
                )
            )
        print(
            f"orders {run.orders:,} of {run.expected_orders:,} expected; dialogs finished"
            f" {run.dialogs.finished:,}, broken {len(run.dialogs.failed):,}"
        )
        for failure in run.dialogs.failed[:5]:
            print(f"  broken: {failure}")
        print(
            f"broadcast rows {run.broadcast_rows:,} ({run.rows_by_status}); subscribers not"
            f" reached {run.lost:,}; rows that reached a chat twice {run.doubled:,}"
        )
        whole = (
            run.orders == run.expected_orders
            and not run.dialogs.failed
            and run.lost == 0
            and run.doubled == 0
            and run.broadcast_rows == run.subscribers
        )
        goals.append(
            verdict_row(
                f"{label}: nothing lost or doubled",
                "orders = dialogs, 1 broadcast each",
                f"orders {run.orders}/{run.expected_orders}, lost {run.lost}, doubled"
                f" {run.doubled}",
                whole,
            )
        )
        rss = ", ".join(kib_to_mib(kib) for kib in run.peak_rss_kib)
        goals.append(info_row(f"{label}: peak RSS per process", rss))
        stall = f"{run.longest_stall * 1000:.0f} ms"
        goals.append(info_row(f"{label}: driver's longest stall", stall))
    return goals


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = BenchmarkParser(
        "storm", __doc__, database="a PostgreSQL URL; the database is emptied for each run"
    )
    parser.sized("--subscribers", full=20_000, quick=2_000, help="people subscribed")
    parser.sized("--spread-minutes", full=10.0, quick=1.0, help="answers start over this long")
    parser.add_argument(
        "--processes", type=int, nargs="+", default=[1, 2], help="`jbl run`s, one storm each"
    )
    parser.add_argument("--answering", type=float, default=0.05, help="share who answer")
    parser.add_argument("--telegram-rate", type=float, default=30.0, help="[telegram] rate_per_s")
    parser.add_argument("--whatsapp-rate", type=float, default=80.0, help="[whatsapp] rate_per_s")
    parser.add_argument("--seed", type=int, default=21, help="of the random choices")
    args = parser.parse_args(argv)
    if not args.database_url or is_sqlite(args.database_url):
        parser.error("--database-url must name a PostgreSQL database: SQLite serves one process")
    return args


async def drive(args: argparse.Namespace) -> list[Storm]:
    storms = []
    with scratch_dir(False, "storm") as cwd:
        for processes in args.processes:
            await prepare_postgres(args.database_url, reset=True)
            storms.append(await storm(processes, args, args.database_url, cwd))
    return storms


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    where = prepare_database(args.database_url, reset=True)
    fingerprint = print_header("storm", where, ["N × jbl run", "fake Bot API", "fake Twilio"])
    storms = asyncio.run(drive(args))
    return finish(report(storms, args), fingerprint)


if __name__ == "__main__":
    sys.exit(main())
