"""WhatsApp end to end: one `jbl run`'s webhook → reply throughput, and its sender's rate.

    python -m benchmarks.whatsapp                 # SQLite file in a temp dir
    python -m benchmarks.whatsapp --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_whatsapp
    python -m benchmarks.whatsapp --quick         # small counts, smoke run

Goals (the goals table at the end; the exit status is 1 if one fails):
- webhook → reply, with Twilio's status callbacks: at least 200 messages/s offered
  (`THROUGHPUT_GOAL`; `--quick` offers fewer, so it fails this one by design), all of them
  answered at the rate offered (`KEEPING_UP`), and the p99 under 100 ms (`P99_GOAL_S`);
- the sender's rate at its default `rate_per_s` of 80: at least 0.95 of it (`SENDER_GOAL`);
- reported: the webhook's own answer p99, the same phase without status callbacks, jbl's peak
  RSS.

jbl is the real `jbl run`, a child process of its own (one process, one event loop, as in
production), with WhatsApp configured against the fake Twilio of the tests
(`tests/fake_twilio.py`), which runs in this process with the load driver, on 127.0.0.1.
The fake plays Twilio's side in full: it posts each resident's message to jbl's
`/whatsapp/webhook` signed with `X-Twilio-Signature`, takes jbl's Messages create requests
(Basic auth, the checks Twilio makes, the JSON it answers), and posts the `sent` and
`delivered` status callbacks of every message back to jbl's `/whatsapp/status`, signed too.
So each message costs jbl: one webhook (signature check, the conversation's transaction,
which also writes the reply as an outbox row), the outbox sender's claim and record, one
Messages create through twilio's aiohttp client, and two status callbacks, each a
transaction.

- webhook → reply: K residents (distinct numbers, each of whom wrote once before as warm-up)
  send what residents type (/start, /katalog, /cari kopi, /keranjang, /bantuan: one reply
  each), at a steady offered rate overall, each resident's next message only after their
  previous reply. Timed with `time.perf_counter` in this process from just before the
  webhook POST to the moment the fake received the reply's Messages create; also the
  webhook's own answer (POST to 200). The sender of this phase is configured at
  `--reply-rate` (400/s, a WhatsApp sender with raised throughput): at the default 80/s a
  process could not send 200 replies a second, whatever it can take in. The phase runs twice:
  with Twilio's status callbacks (the goal's figure: what a process has to take at that rate),
  then without them (the webhook → reply path alone).
- sender rate: jbl is stopped, 10,000 outbox rows for 10,000 people who wrote within the
  24-hour window are written straight into the database, and jbl is started again with the
  default `rate_per_s` of 80. The rate is the count of creates over the time from the first
  to the last as the fake received them, as a fraction of 80.

Each phase also prints the p99 of the messages sent in each 5 s: the residents type the texts
in turn (each of the 500 one text, then each the next: 2.5 s a text at 200/s), so a text that
costs more than the others shows in the windows it was typed in.

The driver runs on jbl's event loop (uvloop) and collects no garbage while it times: its full
collections hold its loop long enough that replies arriving meanwhile would be timed late,
though Twilio's servers do not pause for jbl.

Included: loopback HTTP, uvicorn on both sides (Starlette for the fake's API), the fake's own
work (in this process, not jbl's), the database. Not included: Twilio's network and servers,
TLS, jbl's start-up, the warm-up. The CPU time each process used during the phase is printed
per message (PostgreSQL's too, all of its processes on the machine), and how idle the
machine's CPUs were: jbl, the fake with the driver, and PostgreSQL share the machine's cores,
so any can be the limit, and a busy machine slows jbl down as much as its own work does.

With JBL_BENCH_PROFILE=PREFIX in the environment, jbl runs under cProfile and each phase's
profile is written to PREFIX-<rate_per_s>.prof (slower; not for the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import resource
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import twilio
from sqlalchemy import func, insert, select

from benchmarks.harness.cli import BenchmarkParser
from benchmarks.harness.databases import (
    FRESH_DATABASE_HELP,
    app_settings,
    database_url,
    fresh_database,
)
from benchmarks.harness.memory import kib_to_mib, peak_rss_kib
from benchmarks.harness.report import (
    Goal,
    LatencyTable,
    finish,
    info_row,
    print_header,
    verdict_row,
)
from benchmarks.harness.stats import percentile, steady_rate
from bot import loop
from bot.bootstrap import build_app, init_database, utc_now
from handlers.messages import Reply
from handlers.notices import REPLY
from models.db import create_engine
from models.outbox import PENDING, OutboxMessage
from models.people import Identity, Person
from tests.fake_twilio import FakeTwilio, Message, WhatsappUser
from tests.telegram_bot import free_port
from tests.whatsapp_bot import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SENDER

THROUGHPUT_GOAL = 200.0  # incoming messages/s one process answers
# Offered exactly the goal's rate, a process that keeps up completes it give or take the
# timing of the first and last completions counted: a hair under the rate is keeping up.
KEEPING_UP = 0.99
P99_GOAL_S = 0.100  # webhook → reply
SENDER_GOAL = 0.95  # of the configured rate
WINDOW_S = 5.0  # of the timeline of p99s
DEFAULT_RATE = 80.0
TEXTS = ("/start", "/katalog", "/cari kopi", "/keranjang", "/bantuan")
JBL = str(Path(sys.executable).parent / "jbl")
RESIDENT_BASE = 6281200000000  # +62812…: the residents of the webhook phase
RECIPIENT_BASE = 6281100000000  # +62811…: the recipients of the sender phase


# --------------------------------------------------------------------------------------------
# jbl, a process of its own
# --------------------------------------------------------------------------------------------


@dataclass
class Jbl:
    process: asyncio.subprocess.Process
    base: str

    def cpu_seconds(self) -> float:
        """User and system time the jbl process has used so far."""
        return cpu_seconds(Path(f"/proc/{self.process.pid}"))


def cpu_seconds(process: Path, *, children: bool = False) -> float:
    """User and system time of the process at /proc/PID so far (with `children`, also that
    of its children that ended and were reaped)."""
    fields = (process / "stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(n) for n in fields[11 : 15 if children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def running_jbl(url: str, fake: FakeTwilio, rate: float, cwd: Path) -> AsyncIterator[Jbl]:
    """`jbl run` with WhatsApp on the fake, until the block ends; then SIGTERM."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")} | {
        "JBL_DATABASE__URL": url,
        "JBL_HTTP__PORT": str(port),
        "JBL_WHATSAPP__ACCOUNT_SID": ACCOUNT_SID,
        "JBL_WHATSAPP__AUTH_TOKEN": AUTH_TOKEN,
        "JBL_WHATSAPP__FROM_NUMBER": SENDER,
        "JBL_WHATSAPP__PUBLIC_URL": PUBLIC_URL,
        "JBL_WHATSAPP__API_BASE_URL": fake.base_url,
        "JBL_WHATSAPP__RATE_PER_S": f"{rate:g}",
    }
    command = [JBL, "run"]
    if os.environ.get("JBL_BENCH_PROFILE"):
        profile = f"{os.environ['JBL_BENCH_PROFILE']}-{rate:g}.prof"
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "bot.cli", "run"]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=cwd, stderr=asyncio.subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    fake.connect(base, PUBLIC_URL)
    try:
        await until_healthy(base, process)
        yield Jbl(process, base)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _, err = await process.communicate()
        text = err.decode()
        if process.returncode != 0 or "Traceback" in text:
            print(f"jbl ended with {process.returncode}:\n{text[-3000:]}", file=sys.stderr)


async def until_healthy(base: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise SystemExit("jbl run ended before it was up")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise SystemExit("jbl run was not up within 60 s")


# --------------------------------------------------------------------------------------------
# Webhook → reply
# --------------------------------------------------------------------------------------------


@dataclass
class Replies:
    """The reply each resident waits for: resolved when the fake receives its create."""

    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)

    def expect(self, address: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[address] = future
        return future

    def arrived(self, message: Message) -> None:
        future = self.waiting.pop(message.to, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())


@dataclass
class Phase:
    offered: float
    messages: int
    seconds: float = 0.0
    to_reply: list[float] = field(default_factory=list)
    to_answer: list[float] = field(default_factory=list)
    completions: list[float] = field(default_factory=list)  # after the first send
    failures: int = 0
    callbacks: bool = True  # Twilio's status callbacks were posted to jbl
    cpu_seconds: float = 0.0  # jbl's
    driver_cpu_seconds: float = 0.0  # this process's: the fake Twilio and the driver
    server_cpu_seconds: float = 0.0  # PostgreSQL's processes (0 on SQLite)
    idle: float = 0.0  # of the machine's CPU time, during the phase

    @property
    def sustained(self) -> float:
        """Replies per second between the 10th and 90th percentile of completions."""
        return steady_rate(self.completions) or float("nan")


async def message_and_reply(
    user: WhatsappUser, text: str, replies: Replies, phase: Phase | None, start: float
) -> None:
    reply = replies.expect(user.address)
    began = time.perf_counter()
    await user.send(text)
    answered = time.perf_counter()
    try:
        arrived = await asyncio.wait_for(reply, 30)
    except TimeoutError:
        replies.waiting.pop(user.address, None)
        if phase is not None:
            phase.failures += 1
        return
    if phase is not None:
        phase.to_answer.append(answered - began)
        phase.to_reply.append(arrived - began)
        phase.completions.append(arrived - start)


async def webhook_phase(
    fake: FakeTwilio, jbl: Jbl, people: Sequence[WhatsappUser], rate: float, count: int
) -> Phase:
    replies = Replies()
    fake.on_message = replies.arrived
    # Warm-up: everyone writes once (their person and chat are made), a few at a time.
    lanes = [people[n::16] for n in range(16)]

    async def warm(lane: Sequence[WhatsappUser]) -> None:
        for user in lane:
            await message_and_reply(user, "halo", replies, None, 0.0)

    await asyncio.gather(*(warm(lane) for lane in lanes))
    # The driver's own full collections hold this loop, and replies arriving meanwhile would be
    # timed late. Twilio's servers do not pause for jbl, so the fake collects no garbage while
    # it times (jbl collects its own as ever).
    gc.collect()
    gc.disable()
    phase = Phase(rate, count)
    busy = {user.number: asyncio.Lock() for user in people}
    cpu_before, driver_before = jbl.cpu_seconds(), time.process_time()
    server_before, idle_before = postgres_cpu_seconds(), machine_times()
    start = time.perf_counter()

    async def one(n: int) -> None:
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        user = people[n % len(people)]
        async with busy[user.number]:
            text = TEXTS[(n // len(people)) % len(TEXTS)]
            await message_and_reply(user, text, replies, phase, start)

    try:
        await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        gc.enable()
    phase.seconds = time.perf_counter() - start
    phase.cpu_seconds = jbl.cpu_seconds() - cpu_before
    phase.driver_cpu_seconds = time.process_time() - driver_before
    phase.server_cpu_seconds = postgres_cpu_seconds() - server_before
    (idle_after, total_after), (idle_at, total_at) = machine_times(), idle_before
    idle, total = idle_after - idle_at, total_after - total_at
    phase.idle = idle / total if total else 0.0
    fake.on_message = None
    return phase


def postgres_cpu_seconds() -> float:
    """User and system time of the machine's PostgreSQL processes so far. The pool's overflow
    connections come and go within a phase: an ended backend's time is its postmaster's
    (children's time, once reaped)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                total += cpu_seconds(entry, children=True)
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return total


def machine_times() -> tuple[int, int]:
    """The machine's idle and total CPU time so far, in ticks (/proc/stat)."""
    counts = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return counts[3] + counts[4], sum(counts)


# --------------------------------------------------------------------------------------------
# The sender's rate
# --------------------------------------------------------------------------------------------


async def seed_recipients(url: str, count: int) -> list[str]:
    """People who wrote a minute ago, each with one reply waiting in the outbox."""
    engine = create_engine(url)
    moment = utc_now()
    numbers = [f"+{RECIPIENT_BASE + n}" for n in range(count)]
    try:
        async with engine.begin() as connection:
            before = await connection.scalar(select(func.coalesce(func.max(Person.id), 0)))
            people = [
                {"display_name": f"Penerima {n}", "language": "id", "blocked": False}
                for n in range(count)
            ]
            await connection.execute(insert(Person), [p | {"created_at": moment} for p in people])
            ids = list(
                await connection.scalars(
                    select(Person.id).where(Person.id > before).order_by(Person.id)
                )
            )
            identities = [f"whatsapp:{number}" for number in numbers]
            await connection.execute(
                insert(Identity),
                [
                    {"identity": i, "person_id": p, "last_seen_at": moment}
                    for i, p in zip(identities, ids, strict=True)
                ],
            )
            text = Reply("Jumat Beli Lokal: kategori unggulan minggu ini sudah tayang.").to_json()
            await connection.execute(
                insert(OutboxMessage),
                [
                    {
                        "kind": REPLY,
                        "payload": text,
                        "person_id": p,
                        "channel": "whatsapp",
                        "identity": i,
                        "status": PENDING,
                        "attempts": 0,
                        "due_at": moment,
                        "created_at": moment,
                    }
                    for i, p in zip(identities, ids, strict=True)
                ],
            )
    finally:
        await engine.dispose()
    return numbers


@dataclass
class Sent:
    count: int
    rate: float  # creates/s between the first and the last
    slowest_second: int  # the fewest creates in one whole second after the first
    cpu_seconds: float


async def sender_phase(url: str, fake: FakeTwilio, count: int, cwd: Path) -> Sent:
    numbers = await seed_recipients(url, count)
    addresses = {f"whatsapp:{number}" for number in numbers}
    for number in numbers:
        fake.inbound(number)
    times: list[float] = []
    done = asyncio.Event()

    def arrived(message: Message) -> None:
        if message.to in addresses:
            times.append(time.perf_counter())
            if len(times) == count:
                done.set()

    fake.on_message = arrived
    async with running_jbl(url, fake, DEFAULT_RATE, cwd) as jbl:
        cpu_before = jbl.cpu_seconds()
        await asyncio.wait_for(done.wait(), count / DEFAULT_RATE * 2 + 60)
        cpu = jbl.cpu_seconds() - cpu_before
    fake.on_message = None
    span = times[-1] - times[0]
    seconds = [0] * max(1, int(span))
    for at in times:
        second = int(at - times[0])
        if second < len(seconds):
            seconds[second] += 1
    return Sent(count, (count - 1) / span, min(seconds), cpu)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


async def drive(args: argparse.Namespace, url: str, cwd: Path) -> tuple[list[Phase], Sent]:
    app = build_app(app_settings(url))
    try:
        await init_database(app, demo=True)
    finally:
        await app.close()
    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, SENDER, clock=utc_now) as fake:
        people = [fake.user(f"+{RESIDENT_BASE + n}", f"Warga {n}") for n in range(args.residents)]
        async with running_jbl(url, fake, args.reply_rate, cwd) as jbl:
            phases = [await webhook_phase(fake, jbl, people, args.rate, args.messages)]
            # The same without Twilio's status callbacks: the webhook → reply path alone.
            fake.callbacks = False
            phases.append(await webhook_phase(fake, jbl, people, args.rate, args.messages))
            phases[-1].callbacks = False
            fake.callbacks = True
        sent = await sender_phase(url, fake, args.sends, cwd)
    return phases, sent


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f}"


def timeline(phase: Phase) -> str:
    """The p99 of the messages sent in each window of the phase: a backlog of the first
    seconds and a steady lag read differently."""
    windows: dict[int, list[float]] = {}
    for done, took in zip(phase.completions, phase.to_reply, strict=True):
        windows.setdefault(int((done - took) // WINDOW_S), []).append(took)
    return " · ".join(
        f"{n * WINDOW_S:g}–{(n + 1) * WINDOW_S:g} s {ms(percentile(windows[n], 99))}"
        for n in sorted(windows)
    )


def print_phase(args: argparse.Namespace, phase: Phase) -> None:
    callbacks = "with" if phase.callbacks else "without"
    print(
        f"\n-- webhook → reply, {callbacks} status callbacks: {phase.messages:,} messages from"
        f" {args.residents} residents, offered at {phase.offered:g}/s, sender at"
        f" {args.reply_rate:g}/s --"
    )
    table = LatencyTable("", 26, digits=1)
    print(table.header())
    print(table.row("webhook → reply", phase.to_reply))
    print(table.row("webhook answered", phase.to_answer))
    print(f"p99 ms by {WINDOW_S:g} s of sending: {timeline(phase)}")
    overall = len(phase.completions) / phase.seconds
    print(
        f"throughput: {overall:,.0f} replies/s overall, {phase.sustained:,.0f}/s sustained"
        f" (10th–90th percentile of completions); {phase.failures} without a reply in 30 s;"
        f" CPU per message: jbl {1000 * phase.cpu_seconds / phase.messages:.2f} ms, the fake"
        f" and driver {1000 * phase.driver_cpu_seconds / phase.messages:.2f} ms, PostgreSQL"
        f" {1000 * phase.server_cpu_seconds / phase.messages:.2f} ms; the machine's CPUs"
        f" {phase.idle:.0%} idle"
    )


def report(args: argparse.Namespace, phases: list[Phase], sent: Sent) -> list[Goal]:
    for phase in phases:
        print_phase(args, phase)
    print(
        f"\n-- sender: {sent.count:,} outbox rows at rate_per_s {DEFAULT_RATE:g} --\n"
        f"{sent.rate:.2f} messages/s from the first create to the last"
        f" ({sent.rate / DEFAULT_RATE:.3f} of {DEFAULT_RATE:g}/s), slowest whole second"
        f" {sent.slowest_second}; jbl used {1000 * sent.cpu_seconds / sent.count:.2f} ms of CPU"
        " per message"
    )
    full, bare = phases
    rows = [
        verdict_row(
            "webhook → reply, sustained",
            f"≥ {THROUGHPUT_GOAL:.0f} msg/s offered",
            f"{full.sustained:,.1f} msg/s",
            full.offered >= THROUGHPUT_GOAL
            and full.sustained >= KEEPING_UP * full.offered
            and not full.failures,
        ),
        verdict_row(
            "webhook → reply p99",
            f"< {ms(P99_GOAL_S)} ms",
            f"{ms(percentile(full.to_reply, 99))} ms",
            percentile(full.to_reply, 99) < P99_GOAL_S,
        ),
        info_row("webhook answered p99", f"{ms(percentile(full.to_answer, 99))} ms"),
        info_row("without callbacks: sustained", f"{bare.sustained:,.1f} msg/s"),
        info_row("without callbacks: p99", f"{ms(percentile(bare.to_reply, 99))} ms"),
        verdict_row(
            f"sender rate / {DEFAULT_RATE:g} per s",
            f"≥ {SENDER_GOAL}",
            f"{sent.rate / DEFAULT_RATE:.3f}",
            sent.rate / DEFAULT_RATE >= SENDER_GOAL,
        ),
    ]
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = BenchmarkParser(
        "whatsapp",
        __doc__,
        database=FRESH_DATABASE_HELP,
    )
    parser.sized("--rate", full=200.0, quick=100.0, help="offered messages/s")
    parser.sized("--messages", full=5_000, quick=500, help="timed messages")
    parser.sized("--residents", full=500, quick=100, help="distinct residents")
    parser.add_argument(
        "--reply-rate", type=float, default=400.0, help="rate_per_s of the webhook phase's sender"
    )
    parser.sized("--sends", full=10_000, quick=800, help="sender phase rows")
    parser.keep()
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if os.environ.get("JBL_BENCH_PROFILE"):
        # Profiles go where they were asked for, not to jbl's temporary working directory.
        os.environ["JBL_BENCH_PROFILE"] = os.path.abspath(os.environ["JBL_BENCH_PROFILE"])
    with database_url(args.database_url, "jbl.db", keep=args.keep) as url:
        fingerprint = print_header(
            "whatsapp",
            url,
            [f"twilio {twilio.__version__}", f"SQLite {sqlite3.sqlite_version}"],
        )
        print(
            "jbl run in a child process; the fake Twilio and the driver in this one, on 127.0.0.1"
        )
        # jbl runs where it finds no config.toml of this checkout.
        with fresh_database(url), tempfile.TemporaryDirectory() as cwd:
            phases, sent = loop.run(drive(args, url, Path(cwd)))
    goals = report(args, phases, sent)
    goals.append(info_row("jbl peak RSS", kib_to_mib(peak_rss_kib(resource.RUSAGE_CHILDREN))))
    return finish(goals, fingerprint)


if __name__ == "__main__":
    sys.exit(main())
