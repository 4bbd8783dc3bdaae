"""Work on many items spread over forked copies of this process, answered in order.

For CPU-bound work on state that is costly to rebuild and must stay the same for every item
(a batch of match queries against one generation of the match index): each copy inherits the
state as it is at the fork, shared page by page until written, so nothing is loaded again
and nothing can change under the work. Only the items' results cross back, pickled.

Each copy is dealt every n-th chunk of the items and sends its results down a pipe of its
own; the results are read in order, chunk by chunk, as each is done. No pool: stopping early
kills the copies, which hold nothing (a process pool's workers hold its queues' locks, and
terminating it could hang on them)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, TypeVar

STOPS = {signal.SIGINT, signal.SIGTERM}  # what stops a service, and must stop a copy
Item = TypeVar("Item")
Result = TypeVar("Result")


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
    items at a time, each copy *niceness* steps less favoured by the scheduler than this
    process. The copies end when they have sent their results, or are killed when the
    caller stops reading (or this process ends)."""
    context = multiprocessing.get_context("fork")
    bounds = [(start, min(start + chunk, len(items))) for start in range(0, len(items), chunk)]
    copies: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        for first in range(min(processes, len(bounds))):
            receiving, sending = context.Pipe(duplex=False)
            share = bounds[first::processes]
            # Forked, not spawned: the work and the items are inherited, never pickled.
            arguments = (work, items, share, sending, niceness)
            started = context.Process(target=_answer_share, args=arguments, daemon=True)
            with _stops_held():  # until the copy has dropped the handlers it inherits
                started.start()
            sending.close()
            copies.append((started, receiving))
        for number in range(len(bounds)):
            copy, receiving = copies[number % len(copies)]
            yield from _received(copy, receiving)
        for copy, _ in copies:
            copy.join()  # each has sent its last results and is ending
    finally:
        for copy, receiving in copies:
            if copy.is_alive():  # the caller stopped reading, or a copy failed
                copy.kill()
                copy.join()
            receiving.close()


@contextmanager
def _stops_held() -> Iterator[None]:
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _received(copy: multiprocessing.process.BaseProcess, receiving: Connection) -> list[Any]:
    try:
        failure, results = receiving.recv()
    except EOFError:
        raise RuntimeError(f"a forked copy ended early (exit code {copy.exitcode})") from None
    if failure is not None:
        raise RuntimeError(f"a forked copy failed: {failure}")
    return list(results)


def _answer_share(
    work: Callable[[Any], Any],
    items: Sequence[Any],
    share: list[tuple[int, int]],
    sending: Connection,
    niceness: int,
) -> None:
    """In the copy: each chunk of its share worked and sent, in order."""
    # The parent's signal handlers (a server's) would run here, or write to the parent's
    # wake-up descriptor, which is shared: a copy stopped must not stop the server. The
    # stops are held from before the fork until they are dropped. Inherited objects are
    # left out of the copy's collections, which would otherwise touch, so copy, every page
    # that holds them.
    signal.set_wakeup_fd(-1)
    for stop in STOPS:
        signal.signal(stop, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
    gc.freeze()
    os.nice(niceness)
    for start, end in share:
        try:
            results = [work(items[number]) for number in range(start, end)]
        except Exception as error:  # told to the parent, which raises it
            sending.send((f"{type(error).__name__}: {error}", None))
            return
        sending.send((None, results))
