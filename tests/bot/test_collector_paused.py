"""The index is built with the cycle collector paused, and the collector is left as it was found."""

from __future__ import annotations

import gc

from bot.knowledge_base import collector_paused


def test_the_collector_is_off_during_a_build_and_back_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_someone_else_switched_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_the_build_made_is_old_afterwards() -> None:
    with collector_paused():
        made = [[number] for number in range(1000)]
    # Nothing young is left for the next question's collection to walk.
    assert gc.get_count()[0] < 100
    assert len(made) == 1000
