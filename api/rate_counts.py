"""Request counts shared by every worker process of the service, for its rate limits.

The counts live in a small memory-mapped file that all workers open (api/server.py names one
for them), so a client is limited by what it sent to the service, not to the worker that
happened to accept its connection. Each key (path and client) has a slot in a fixed table:
the count of the current window and of the one before, weighted by how much of that one
still overlaps the moving window (the "sliding window counter" estimate, exact while the
previous window is empty). Updates take an exclusive lock on the file: a few microseconds,
far below the cost of the request they count."""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SLOTS = 1 << 14
PROBES = 16  # slots tried past a key's own before it shares one (only under flooding)
SLOT = struct.Struct("<QqII")  # key hash, window number, count in it, count in the one before
SIZE = SLOTS * SLOT.size


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the cost would be allowed; 0 when allowed


class SharedCounts:
    """Sliding-window counts in *path*, shared with every process that opens the same file;
    with no path, in an unnamed file of this process alone."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            descriptor = tempfile.TemporaryFile()  # noqa: SIM115 (kept open as long as self)
            self._file = descriptor
            fd = descriptor.fileno()
        else:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            self._file = os.fdopen(fd, "r+b")
        with _locked(fd):
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)  # zero-filled: every slot empty
        self._fd = fd
        self._map = mmap.mmap(fd, SIZE)
        # flock excludes other processes; threads of this one share the lock, so they also
        # take this one.
        self._thread_lock = threading.Lock()

    def hit(self, key: str, amount: int, period: float, cost: int = 1) -> Verdict:
        """Counts *cost* against at most *amount* per moving *period* seconds for *key*, or
        refuses it (counting nothing) with the seconds to wait."""
        now = time.time()
        window, into = divmod(now, period)
        overlap = 1 - into / period  # how much of the previous window the moving one covers
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest()) or 1
        with self._thread_lock, _locked(self._fd):
            offset = self._slot_of(digest, int(window))
            _, stored_window, current, previous = SLOT.unpack_from(self._map, offset)
            current, previous = _rolled(int(window), stored_window, current, previous)
            if previous * overlap + current + cost > amount:
                return Verdict(False, _wait(amount, period, into, current, previous, cost))
            SLOT.pack_into(self._map, offset, digest, int(window), current + cost, previous)
        return Verdict(True, 0)

    def _slot_of(self, digest: int, window: int) -> int:
        """The key's slot: the one holding it, else the first free or stale one from its own
        position on; past PROBES slots of live keys, its own position (shared)."""
        home = digest % SLOTS
        for probe in range(PROBES):
            offset = ((home + probe) % SLOTS) * SLOT.size
            held, stored_window, _, _ = SLOT.unpack_from(self._map, offset)
            if held == digest:
                return offset
            if held == 0 or stored_window < window - 1:
                SLOT.pack_into(self._map, offset, digest, window, 0, 0)
                return offset
        return home * SLOT.size

    def close(self) -> None:
        self._map.close()
        self._file.close()


def _rolled(window: int, stored: int, current: int, previous: int) -> tuple[int, int]:
    if stored == window:
        return current, previous
    if stored == window - 1:
        return 0, current
    return 0, 0


def _wait(amount: int, period: float, into: float, current: int, previous: int, cost: int) -> int:
    """Seconds until the previous window's weight has shrunk enough for *cost*; if the
    current window alone is too full, until the next window begins (then what is now
    current is the previous one, so wait for that too)."""
    room = amount - current - cost
    if room >= 0 and previous > 0:
        needed = 1 - room / previous  # fraction of this window that must have passed
        return max(1, math.ceil(needed * period - into))
    room_next = amount - cost
    needed_next = 1 - room_next / current if current > 0 and room_next >= 0 else 1.0
    return max(1, math.ceil(period - into + needed_next * period))


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
