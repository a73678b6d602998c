"""A started process settles its heap (resume.heap): what start-up left is collected, and
what is alive then is kept out of the collector's later passes (the step's p99, issue #14)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from resume import heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process goes on collecting as before


def test_settle_collects_start_up_garbage_and_freezes_the_rest(unfrozen: None) -> None:
    a, b = _Node(), _Node()
    a.other, b.other = b, a  # a cycle: only the collector frees it
    gone = weakref.ref(a)
    kept = _Node()
    del a, b
    assert gc.get_freeze_count() == 0
    heap.settle()
    assert gone() is None
    assert gc.get_freeze_count() > 0
    # What was alive at the settle is in the permanent generation, which no pass scans;
    # what is made after it is collected as usual.
    later = _Node()
    tracked = gc.get_objects()
    assert not any(obj is kept for obj in tracked)
    assert any(obj is later for obj in tracked)
