"""The match index saved to a file beside the database, so that a process starts in moments.

The file holds the index's arrays (tables.py) and what it was built from: the catalogue
generation, and a digest of the change log up to it (so that a file from another database, or
from before a restore, is not taken for this one's); the format's version and a digest of the
matching code and its tables (a file written by other rules would read texts differently).
A process maps it, then applies the changes logged since as an overlay (catalogue_index.py).
Worker processes take a lock beside it to build, so that one builds and the others load its
file.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from weaponsdb import models
from weaponsdb.matching import tables
from weaponsdb.matching.index import MatchIndex, Target

LOG = logging.getLogger("weaponsdb.matching")
FORMAT = 1
SAMPLED = 64
HERE = Path(__file__).parent


@cache
def code_digest() -> str:
    """Of every module and table of the matching package: any change may change readings."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for path in sorted([*HERE.glob("*.py"), *HERE.glob("*.json")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def log_digest(session: Session, generation: int) -> list[int]:
    """The change log up to *generation*, summed up: rows, last row, entries touched."""
    change = models.CatalogueChange
    row = session.execute(
        select(func.count(change.id), func.max(change.id), func.sum(change.entry_id)).where(
            change.generation <= generation
        )
    ).one()
    return [int(value or 0) for value in row]


@dataclass(frozen=True)
class SavedIndex:
    index: MatchIndex
    generation: int
    path: Path
    # A few entries' texts, digested: the loader compares those still unchanged with the
    # database's (a file of another database with a like change log is refused).
    sample: dict[int, str]


def texts_digest(targets: Iterable[Target]) -> str:
    """Of one entry's texts, in the order they are loaded (markings, names, name)."""
    digest = hashlib.sha256()
    for target in targets:
        digest.update(f"{target.kind}\0{target.text}\0{target.pattern or ''}\n".encode())
    return digest.hexdigest()[:16]


def sample(index: MatchIndex) -> dict[int, str]:
    """SAMPLED entries spread over the index, with the digest of their texts."""
    entries = index.targets.entries
    distinct = np.unique(entries)
    if not len(distinct):
        return {}
    picked = np.unique(distinct[np.linspace(0, len(distinct) - 1, SAMPLED).astype(np.int64)])
    return {
        int(entry): texts_digest(index.targets[int(n)] for n in np.flatnonzero(entries == entry))
        for entry in picked
    }


def save(session: Session, path: Path, index: MatchIndex, generation: int) -> int:
    """Writes *index*, built at *generation*, to *path*; returns the file's size in bytes."""
    meta = {
        "format": FORMAT,
        "code": code_digest(),
        "generation": generation,
        "log": log_digest(session, generation),
        "targets": len(index.targets),
        "sample": {str(entry): digest for entry, digest in sample(index).items()},
    }
    return tables.save(path, index.arrays(), meta)


def save_and_map(session: Session, path: Path, index: MatchIndex, generation: int) -> MatchIndex:
    """*index* saved, and mapped back: answering from the file's pages, which the other
    processes share, rather than from this one's private copy."""
    save(session, path, index, generation)
    return MatchIndex.from_arrays(tables.load(path)[0])


def load(session: Session, path: Path) -> SavedIndex | None:
    """The index saved in *path*, if it is one of this database's catalogue at a generation
    it has reached, by this code; else None (and why is logged)."""
    try:
        meta = tables.header(path)["meta"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as error:
        LOG.warning("the match index file %s is unreadable: %s", path, error)
        return None
    why = _unusable(session, meta)
    if why:
        LOG.info("the match index file %s is not used: %s", path, why)
        return None
    arrays, _ = tables.load(path)
    sampled = {int(entry): str(digest) for entry, digest in meta.get("sample", {}).items()}
    return SavedIndex(MatchIndex.from_arrays(arrays), int(meta["generation"]), path, sampled)


def _unusable(session: Session, meta: dict[str, object]) -> str | None:
    if meta.get("format") != FORMAT or meta.get("code") != code_digest():
        return "written by another version of the matcher"
    generation = meta.get("generation")
    if not isinstance(generation, int):
        return "no generation recorded"
    current = session.scalar(select(models.CatalogueGeneration.value)) or 0
    if generation > current:
        return f"built at generation {generation}, after this database's {current}"
    if meta.get("log") != log_digest(session, generation):
        return "built from another database (its change log differs)"
    return None


def build(
    session: Session,
    path: Path,
    load_targets: Callable[[Session], list[Target]],
    generation: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[SavedIndex, int]:
    """A whole index of the catalogue at *generation* (read after it), saved to *path*; and
    the file's size."""
    index = MatchIndex(load_targets(session), progress)
    size = save(session, path, index, generation)
    arrays, meta = tables.load(path)  # answer from the shared pages, not a private copy
    sampled = {int(entry): str(digest) for entry, digest in meta["sample"].items()}
    return SavedIndex(MatchIndex.from_arrays(arrays), generation, path, sampled), size


def reachable_url(bind: Engine | Connection) -> str | None:
    """The address another process reaches this database at; None for a SQLite database
    in memory, which no other process sees."""
    url = bind.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def build_elsewhere(url: str, path: Path) -> None:
    """The file at *path* built by a process of its own (builder.py), at the catalogue's
    generation when it starts; this one only waits (the caller holds the lock)."""
    done = subprocess.run(
        [sys.executable, "-m", "weaponsdb.matching.builder", str(path)],
        input=url,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"the match index build failed: {done.stderr.strip()[-2000:]}")


@contextmanager
def building(path: Path, wait: bool = True) -> Iterator[bool]:
    """Held while a process (or thread) builds or loads the file: the others wait, then load
    its work. Without *wait*, yields False at once if another holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(f"{path.name}.lock").open("a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
