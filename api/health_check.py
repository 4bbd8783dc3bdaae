"""What /healthz reports, checked at most once a second: load balancers and monitors may ask
many times a second, and each answer would otherwise take a database connection."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from weaponsdb.db import current_revision, head_revision
from weaponsdb.reading.reader import Reader

CACHED_SECONDS = 1.0


@dataclass(frozen=True)
class Checked:
    reachable: bool
    revision: str | None
    expected: str | None
    reading: str  # "ok", or what the reader is missing

    @property
    def healthy(self) -> bool:
        return self.reachable and self.revision == self.expected


class HealthCheck:
    def __init__(self, engine: Engine, reader: Reader) -> None:
        self.engine = engine
        self.reader = reader
        self._lock = threading.Lock()
        self._checked: Checked | None = None
        self._at = 0.0

    def fresh(self) -> Checked | None:
        """The last result, if it is recent enough to give again."""
        if self._checked is not None and time.monotonic() - self._at < CACHED_SECONDS:
            return self._checked
        return None

    def check(self) -> Checked:
        """The last result if recent, else a new one (one thread checks; the others wait
        and share it). Blocking: run it in a worker thread."""
        with self._lock:
            checked = self.fresh()
            if checked is None:
                checked = self._checked = self._check()
                self._at = time.monotonic()
            return checked

    def _check(self) -> Checked:
        missing = self.reader.engine.missing()
        reading = "ok" if not missing else "unavailable: missing " + "; ".join(missing)
        try:
            revision = current_revision(self.engine)
        except SQLAlchemyError:
            return Checked(False, None, head_revision(), reading)
        return Checked(True, revision, head_revision(), reading)
