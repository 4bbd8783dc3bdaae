"""Work on many items spread over forked copies of this process, answered in order.

For CPU-bound work on state that is costly to rebuild and must stay the same for every item
(a batch of match queries against one generation of the match index): each copy inherits the
state as it is at the fork, shared page by page until written, so nothing is loaded again
and nothing can change under the work. Only the items' results cross back, pickled."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# What a copy works on, set in the parent just before the fork (so inherited, never pickled),
# by one thread at a time.
_work: tuple[Callable[[Any], Any], Sequence[Any]] | None = None
_forking = threading.Lock()


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def in_order(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    processes: int,
    chunk: int,
    niceness: int = 0,
) -> Generator[Result, None, None]:
    """work(item) for each item, in order, computed by *processes* forked copies, *chunk*
    items at a time each (results come back a chunk at a time, as soon as each is done, in
    order), each copy *niceness* steps less favoured by the scheduler than this process.
    The copies end when the results are all read or the iterator is closed."""
    global _work
    with _forking:
        _work = (work, items)
        try:
            context = multiprocessing.get_context("fork")
            pool = context.Pool(processes, initializer=_in_the_copy, initargs=(niceness,))
        finally:
            _work = None  # the parent keeps no reference to the items past the fork
    with pool:  # the copies killed on leaving early (the caller stopped reading)
        bounds = [(start, min(start + chunk, len(items))) for start in range(0, len(items), chunk)]
        for results in pool.imap(_chunk, bounds):
            yield from results
        pool.close()  # every result read: the copies end of themselves
        pool.join()


def _in_the_copy(niceness: int) -> None:
    # The parent's signal handlers (a server's) would run here, or write to the parent's
    # wake-up descriptor, which is shared: a copy stopped by the pool must not stop the
    # server. Inherited objects are left out of the copy's collections, which would
    # otherwise touch, so copy, every page that holds them.
    signal.set_wakeup_fd(-1)
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_DFL)
    gc.freeze()
    os.nice(niceness)


def _chunk(bounds: tuple[int, int]) -> list[Any]:
    assert _work is not None, "set before the fork"
    work, items = _work
    start, end = bounds
    return [work(items[number]) for number in range(start, end)]
