"""Per-person locks: one person's messages run one at a time, other people's alongside."""

from __future__ import annotations

import asyncio

from bot.channels.key_locks import KeyLocks


async def test_one_key_runs_one_at_a_time_and_the_second_knows_it_waited() -> None:
    locks = KeyLocks()
    order: list[str] = []
    first_inside = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> bool:
        async with locks.holding("a") as waited:
            order.append("first in")
            first_inside.set()
            await release_first.wait()
            order.append("first out")
            return waited

    async def second() -> bool:
        await first_inside.wait()
        async with locks.holding("a") as waited:
            order.append("second in")
            return waited

    async def other_person() -> bool:
        await first_inside.wait()
        async with locks.holding("b") as waited:
            order.append("other in")
            release_first.set()
            return waited

    results = await asyncio.gather(first(), second(), other_person())
    assert results == [False, True, False]
    assert order.index("other in") < order.index("first out") < order.index("second in")


async def test_locks_are_forgotten_when_nobody_holds_them() -> None:
    locks = KeyLocks()
    async with locks.holding("a"):
        pass
    async with locks.holding("a") as waited:
        assert not waited
    assert not locks._locks and not locks._users
