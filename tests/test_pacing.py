"""The sender's pacing arithmetic, on a clock the test moves: the overall rate and the
per-chat rate hold, a busy chat does not hold back the chats behind it, sends whose slots came
late still keep to the rate in every second, and as many sends run at once as the rate needs at
the platform's round trip."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from bot.delivery import Lanes, Limits, Pacer, Window


@dataclass
class Seconds:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def test_sends_are_spaced_at_the_overall_rate() -> None:
    pacer = Pacer(rate_per_s=30, per_chat_per_s=1, clock=Seconds())
    slots = [pacer.slot(f"chat-{n}") for n in range(90)]
    assert slots[0] == 100.0
    assert abs(slots[-1] - (100.0 + 89 / 30)) < 1e-9


def test_one_chat_gets_one_message_per_second_without_delaying_others() -> None:
    pacer = Pacer(rate_per_s=30, per_chat_per_s=1, clock=Seconds())
    merchant = [pacer.slot("merchant") for _ in range(3)]
    other = pacer.slot("resident")
    assert merchant == [100.0, 101.0, 102.0]
    assert other < 100.2


def test_slots_missed_for_a_moment_are_made_up_but_not_after_a_pause() -> None:
    clock = Seconds()
    pacer = Pacer(rate_per_s=100, per_chat_per_s=1, clock=clock, catch_up_seconds=0.1)
    for n in range(10):
        pacer.slot(f"chat-{n}")
    clock.now = 100.15  # the loop was busy: the slot of 100.10 is 50 ms behind
    assert abs(pacer.slot("late") - 100.10) < 1e-9
    clock.now = 105.0  # nothing to send for a while
    assert pacer.slot("next") == 105.0
    assert abs(pacer.slot("after") - 105.01) < 1e-9


def test_after_a_stall_of_the_process_the_last_moment_of_slots_is_still_made_up() -> None:
    clock = Seconds()
    pacer = Pacer(rate_per_s=100, per_chat_per_s=1, clock=clock, catch_up_seconds=0.1)
    for n in range(10):
        pacer.slot(f"chat-{n}")
    clock.now = 100.4  # the process waited for a core: 300 ms of slots went by unused
    assert abs(pacer.slot("late") - 100.3) < 1e-9
    assert abs(pacer.slot("later") - 100.31) < 1e-9


def test_a_far_platform_gets_enough_sends_in_flight_for_its_rate() -> None:
    # The paid broadcast at 1,000/s to servers a quarter of a second away needs 250 sends
    # under way at once; the free rate keeps the floor.
    assert Limits(1000, 1).in_flight >= 1000 * 0.25
    assert Limits(30, 1).in_flight == 64


def test_a_pause_for_retry_after_moves_every_later_slot() -> None:
    clock = Seconds()
    pacer = Pacer(rate_per_s=30, per_chat_per_s=1, clock=clock)
    pacer.slot("a")
    pacer.pause(5)
    assert pacer.slot("b") >= 105.0


@given(st.lists(st.integers(0, 20), min_size=1, max_size=300))
def test_no_window_holds_more_than_the_rates_allow(chats: list[int]) -> None:
    pacer = Pacer(rate_per_s=10, per_chat_per_s=1, clock=Seconds())
    slots = [(pacer.slot(str(chat)), chat) for chat in chats]
    by_chat: dict[int, list[float]] = {}
    for at, chat in slots:
        by_chat.setdefault(chat, []).append(at)
    for times in by_chat.values():
        assert all(b - a >= 1 - 1e-9 for a, b in itertools.pairwise(times))
    # Overall: each send takes its own slot in order, so the n-th slot starts no sooner
    # than n/rate after the first.
    overall = [at for at, _ in slots]
    assert all(overall[n] >= 100.0 + n / 10 - 1e-9 for n in range(len(overall)))


def test_lanes_follow_the_rate_times_the_time_a_send_takes() -> None:
    lanes = Lanes(rate_per_s=1000, most=64)
    assert lanes.open == 4  # nothing measured yet
    lanes.took(0.004)  # loopback: a few lanes are enough
    assert lanes.open == int(1000 * 0.004 * 1.5) + 2
    # One slow send moves the average by a tenth of the difference.
    lanes.took(0.044)
    assert lanes.open == int(1000 * 0.008 * 1.5) + 2
    # Sends that stay slow (a busy process, a far platform) open lanes, up to the limit.
    for _ in range(30):
        lanes.took(0.200)
    assert lanes.open == 64


def test_lanes_close_again_when_sends_are_fast_again() -> None:
    lanes = Lanes(rate_per_s=30, most=64)
    lanes.took(1.0)
    assert lanes.open == int(30 * 1.0 * 1.5) + 2
    for _ in range(60):
        lanes.took(0.01)
    assert lanes.open == 2


def test_sends_whose_slots_came_late_wait_for_the_window() -> None:
    clock = Seconds()
    window = Window(rate_per_s=3, clock=clock)
    # Three slots came together after a busy moment: all start at once, a fourth must wait.
    for _ in range(3):
        assert window.wait() == 0
        window.started()
    clock.now += 0.25
    assert abs(window.wait() - 0.75) < 1e-9
    clock.now += 0.75
    assert window.wait() == 0


@given(st.lists(st.floats(0, 0.5), min_size=1, max_size=300))
def test_no_second_starts_more_sends_than_the_rate(gaps: list[float]) -> None:
    clock = Seconds()
    window = Window(rate_per_s=10, clock=clock)
    starts = []
    for gap in gaps:
        clock.now += gap
        while (wait := window.wait()) > 0:
            clock.now += wait  # as the sender's timer does
        window.started()
        starts.append(clock.now)
    for n, first in enumerate(starts):
        assert sum(1 for at in starts[n:] if at < first + 1.0) <= 10
