"""Once `tiendo run` is assembled, what start-up built is left out of the cycle collector's
full passes, and nothing already dead is frozen with it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.startup_freeze import freeze_startup_objects


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_what_start_up_built_is_frozen_and_dead_cycles_are_freed_first(
    unfrozen_afterwards: None,
) -> None:
    kept = Node()
    dead = weakref.ref(Node())  # unreachable already, but alive until a collection
    assert dead() is not None

    frozen = freeze_startup_objects()

    assert dead() is None  # collected, not frozen for good
    assert frozen == gc.get_freeze_count() > 0
    assert all(kept is not obj for obj in gc.get_objects())  # out of the passes' sight
