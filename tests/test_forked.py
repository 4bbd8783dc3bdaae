"""Work spread over forked copies of the process (weaponsdb/forked.py), as a long batch of
match queries is answered."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time

import pytest

from weaponsdb import forked

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="no fork on this system")


def doubled_where(number: int) -> tuple[int, int]:
    time.sleep(0.002)  # long enough that no one copy does it all
    return number * 2, os.getpid()


def test_the_results_come_back_in_order_computed_by_other_processes():
    results = list(forked.in_order(doubled_where, range(100), processes=2, chunk=7))
    assert [value for value, _ in results] == [n * 2 for n in range(100)]
    workers = {pid for _, pid in results}
    assert os.getpid() not in workers
    assert len(workers) == 2
    assert multiprocessing.active_children() == []  # the copies ended


def test_the_copies_yield_the_cores_to_the_parent_as_asked():
    own = os.nice(0)
    niceness = list(forked.in_order(lambda _: os.nice(0), range(8), 2, 1, niceness=5))
    assert niceness == [min(own + 5, 19)] * 8
    assert os.nice(0) == own


def test_the_copies_see_the_state_of_the_moment_they_were_forked():
    state = {"generation": 7}
    answers = forked.in_order(lambda n: (n, state["generation"]), range(40), 2, 4)
    first = next(answers)  # the copies are forked here
    state["generation"] = 8  # a later change in the parent does not reach them
    assert [first, *answers] == [(n, 7) for n in range(40)]


def test_stopping_early_ends_the_copies():
    answers = forked.in_order(doubled_where, range(1000), processes=2, chunk=1)
    assert next(answers)[0] == 0
    answers.close()  # the caller stops reading (a client went away)
    assert multiprocessing.active_children() == []


def test_a_copy_told_to_stop_stops_without_signalling_the_parent():
    """A service being stopped signals its processes; a copy must end rather than run the
    server's handlers it inherited (which would keep it working), and must not write to the
    wake-up descriptor it shares with the server, as if the server itself were signalled."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno())
    handler = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        answers = forked.in_order(doubled_where, range(1000), processes=2, chunk=1)
        assert next(answers)[0] == 0
        for copy in multiprocessing.active_children():
            os.kill(copy.pid or 0, signal.SIGTERM)
        with pytest.raises(RuntimeError, match="ended early"):
            list(answers)
        assert multiprocessing.active_children() == []
        with pytest.raises(BlockingIOError):
            reader.recv(16)  # no signal reached the parent's wake-up descriptor
    finally:
        for copy in multiprocessing.active_children():
            copy.kill()
        signal.set_wakeup_fd(previous)
        signal.signal(signal.SIGTERM, handler)
        reader.close()
        writer.close()
