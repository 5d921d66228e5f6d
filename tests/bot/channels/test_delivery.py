"""The one retry policy every sender uses: backoff figures, and `retrying` within them."""

from __future__ import annotations

import pytest

from bot.channels.delivery import RetryLater, RetryPolicy, Undeliverable, retrying

QUICK = RetryPolicy(first_backoff=0.001, max_backoff=0.004, max_attempts=4)


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(first_backoff=0.5, max_backoff=3.0, max_attempts=6)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_a_send_that_recovers_is_retried_until_it_succeeds() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RetryLater("502")
        return "sent"

    assert await retrying(flaky, QUICK) == "sent" and len(calls) == 3


async def test_retrying_gives_up_after_the_last_attempt() -> None:
    calls: list[int] = []

    async def down() -> None:
        calls.append(1)
        raise RetryLater("429", after=0.001)

    with pytest.raises(RetryLater):
        await retrying(down, QUICK)
    assert len(calls) == QUICK.max_attempts


async def test_an_undeliverable_send_is_not_retried() -> None:
    calls: list[int] = []

    async def blocked() -> None:
        calls.append(1)
        raise Undeliverable("403", blocked=True)

    with pytest.raises(Undeliverable):
        await retrying(blocked, QUICK)
    assert calls == [1]
