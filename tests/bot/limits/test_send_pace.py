"""Telegram's pace shared through Redis: the slots two processes reserve together keep 30/s
bot-wide and 1/s per chat. Asserted on the reserved slot times (Redis' clock), not on how fast
this machine runs."""

from __future__ import annotations

import asyncio
import bisect
import itertools

from bot.limits.send_pace import GROUP_SECONDS, RedisSendPace, Slot
from bot.limits.shared_redis import SharedRedis
from tests.bot.limits.test_window import shared

RATE = 30.0
# A float slot time can land a hair inside the window's edge.
EPSILON = 1e-6


def pace(redis: SharedRedis) -> RedisSendPace:
    return RedisSendPace(redis, messages_per_second=RATE, per_chat_seconds=1.0)


def most_in_one_second(times: list[float]) -> int:
    """The largest number of slots in any half-open window [t, t + 1 s)."""
    ordered = sorted(times)
    return max(
        bisect.bisect_left(ordered, start + 1.0 - EPSILON) - i for i, start in enumerate(ordered)
    )


async def test_two_processes_never_send_faster_than_the_bot_wide_rate(
    redis_section: dict[str, str],
) -> None:
    first, second = shared(redis_section), shared(redis_section)
    try:
        paces = [pace(first), pace(second)]
        chats = itertools.cycle(range(1, 200))
        slots: list[Slot] = await asyncio.gather(
            *(paces[n % 2].reserve(next(chats)) for n in range(120))
        )
    finally:
        await first.aclose()
        await second.aclose()
    times = [slot.at for slot in slots]
    assert most_in_one_second(times) <= RATE
    # Strictly spaced: no two slots closer than one interval, so none were lost either.
    ordered = sorted(times)
    assert min(b - a for a, b in itertools.pairwise(ordered)) >= 1.0 / RATE - EPSILON
    # 120 messages at 30/s take about four seconds of slots, whoever reserved them.
    assert ordered[-1] - ordered[0] >= (120 - 1) / RATE - EPSILON


async def test_one_chat_gets_at_most_one_message_a_second_across_processes(
    redis_section: dict[str, str],
) -> None:
    first, second = shared(redis_section), shared(redis_section)
    try:
        paces = [pace(first), pace(second)]
        slots = await asyncio.gather(*(paces[n % 2].reserve(42) for n in range(6)))
        group = await asyncio.gather(*(paces[n % 2].reserve(-100123) for n in range(3)))
    finally:
        await first.aclose()
        await second.aclose()
    chat_times = sorted(slot.at for slot in slots)
    assert all(b - a >= 1.0 - EPSILON for a, b in itertools.pairwise(chat_times))
    # Each caller is told to wait until its slot: the sixth goes out five seconds after the first.
    assert all(slot.wait_seconds == slot.at - slot.reserved_at for slot in slots)
    assert chat_times[-1] - min(slot.reserved_at for slot in slots) >= 5.0 - EPSILON
    group_times = sorted(slot.at for slot in group)
    assert all(b - a >= GROUP_SECONDS - EPSILON for a, b in itertools.pairwise(group_times))


async def test_a_429_pauses_every_process(redis_section: dict[str, str]) -> None:
    first, second = shared(redis_section), shared(redis_section)
    try:
        before = await pace(second).reserve(7)
        await pace(first).pause(5.0)
        after = await pace(second).reserve(8)
    finally:
        await first.aclose()
        await second.aclose()
    assert after.at - after.reserved_at >= 5.0 - 0.01
    assert after.at - before.at >= 5.0 - 0.01
