"""Building the match index's arrays (index.py) from catalogue texts.

The readings of each text and the shape keys of each reading are a pure function of the text
and most of a big build's time: they are computed once per distinct text, in worker processes
when there are many. Everything after them is done on flat arrays: keys numbered in the order
first met (a dictionary built in one call, not a loop), the targets read as each key grouped by
a stable sort, the shape and coarse groups the same way; the segment and bigram indexes are
built by numpy (segments.py, grams.py), side by side in threads for a big build.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from weaponsdb.config import usable_cores
from weaponsdb.matching.error_model import coarse_key, shape_key
from weaponsdb.matching.grams import CODE_BITS, Fingerprints, GramIndex
from weaponsdb.matching.index import HOWS, PatternIndex, Target, Targets, catalogue_readings
from weaponsdb.matching.patterns import literal_fragments
from weaponsdb.matching.segments import SegmentIndex
from weaponsdb.matching.tables import Array, Postings, TextTable, code_rows

LOG = logging.getLogger("weaponsdb.matching")

# Past this many distinct texts, readings are computed in worker processes, one per core
# (starting them takes about a second), and the index's parts built by threads.
PARALLEL_ABOVE = 50_000
READING_CHUNK = 5_000
Progress = Callable[[int, int], None]
HOW_NUMBERS = {how: number for number, how in enumerate(HOWS)}


_paused_lock = threading.Lock()
_paused = 0  # builds under way that asked the collector to wait


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection while an index is built: each would walk the growing index,
    pausing every request (and the build) for longer and longer. A build makes millions of
    objects that hold no cycles (at 1M markings collections were a sixth of its time)."""
    global _paused
    with _paused_lock:
        _paused += 1
        gc.disable()
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0:
                gc.enable()


def built_arrays(targets: Sequence[Target], progress: Progress | None = None) -> dict[str, Array]:
    """The arrays of an index of *targets*: each key a text reads as, numbered in the order
    first met, with the targets read as it (ascending) and how; each key's shape and coarse
    shape; the segment and q-gram indexes over them. *progress* is told (texts read, of how
    many distinct texts) as the readings are computed."""
    with collector_paused():
        return _built_arrays(targets, progress)


def _built_arrays(targets: Sequence[Target], progress: Progress | None) -> dict[str, Array]:
    patterned = [(n, t.pattern) for n, t in enumerate(targets) if t.pattern]
    texts, text_of = _numbered([target.text for target in targets])
    read, fixed = _readings_of(texts, [pattern for _, pattern in patterned], progress)
    row_target, (row_keys, row_hows, row_details, row_shapes, row_coarse) = read.per_target(text_of)
    del read
    keys, row_key = _numbered(row_keys)
    details, row_detail = _numbered(row_details)
    # A key's shape keys are those of its first row (they depend on the key alone).
    _, first_rows = np.unique(row_key, return_index=True)
    shapes, key_shape = _numbered([row_shapes[row] for row in first_rows.tolist()])
    coarse, key_coarse = _numbered([row_coarse[row] for row in first_rows.tolist()])
    hits, by_key = _grouped(row_key, len(keys), row_target)  # targets ascending
    hows = np.array(row_hows, dtype=np.int8)
    parts: list[Callable[[], dict[str, Array]]] = [
        lambda: Targets.arrays(targets),
        lambda: {
            **TextTable.of(keys, findable=True).arrays("keys"),
            "keys.length": np.fromiter(map(len, keys), dtype=np.int32, count=len(keys)),
            **hits.arrays("keys.hits"),
            "keys.hits.how": hows[by_key],
            "keys.hits.detail": row_detail[by_key],
            **TextTable.of(details).arrays("details"),
        },
        lambda: {
            **TextTable.of(shapes, findable=True).arrays("shapes"),
            **_grouped(key_shape, len(shapes))[0].arrays("shapes.keys"),
            **TextTable.of(coarse, findable=True).arrays("coarse"),
            **_grouped(key_coarse, len(coarse))[0].arrays("coarse.keys"),
        },
        # One arbitrary edit is searched among shape keys (any number of likely misreadings
        # besides); two among the keys themselves, which narrows better in a big catalogue.
        # (A swap of neighbours is looked up with one edit fewer: see segments.py.)
        lambda: SegmentIndex(shapes, levels=(0, 1)).arrays("shape_segments"),
        lambda: Fingerprints.of(shapes).arrays("shape_fingerprints"),
        lambda: SegmentIndex(keys, levels=(1, 2)).arrays("key_segments"),
        lambda: GramIndex.bigrams(keys).arrays("bigrams"),
        lambda: _pattern_arrays([number for number, _ in patterned], fixed),
    ]
    return _merged(parts, threaded=len(texts) > PARALLEL_ABOVE)


def _merged(parts: Sequence[Callable[[], dict[str, Array]]], threaded: bool) -> dict[str, Array]:
    """The arrays of every part, merged in order; *threaded*, the parts built by threads, one
    per core: most of their time is numpy's sorting and arithmetic on whole arrays, which
    lets go of Python's global lock (a 1M build 5 s shorter on two cores). A small index (an
    overlay, rebuilt at every edit) is built without them."""
    if not threaded:
        built = [part() for part in parts]
    else:
        with ThreadPoolExecutor(usable_cores()) as pool:
            built = list(pool.map(lambda part: part(), parts))
    return {name: array for arrays in built for name, array in arrays.items()}


def _numbered(texts: Sequence[str]) -> tuple[list[str], Array]:
    """The distinct texts in the order first met, and the number of each of *texts* (one
    pass over them: a million keys, details, shape keys each)."""
    numbers: dict[str, int] = {}
    number = numbers.setdefault
    found = np.fromiter(
        (number(text, len(numbers)) for text in texts), dtype=np.int32, count=len(texts)
    )
    return list(numbers), found


def _grouped(groups: Array, count: int, members: Array | None = None) -> tuple[Postings, Array]:
    """Per group number 0..count-1, its *members* (by default the positions in *groups*) in
    the order they come, and that order: a stable sort by group, the bounds counted."""
    order = np.argsort(groups, kind="stable")
    bounds = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=count), out=bounds[1:])
    values = order if members is None else members[order]
    return Postings(bounds, values.astype(np.int32)), order


def _pattern_arrays(targets: list[int], fixed: list[str]) -> dict[str, Array]:
    """PatternIndex's arrays: the patterns of *targets* by the INDEXED_GRAMS rarest trigrams
    of their *fixed* parts (the fewest fixed parts holding it, then the trigram, first)."""
    chosen = _rarest_trigrams(fixed, PatternIndex.INDEXED_GRAMS)
    return {
        "patterns.targets": np.array(targets, dtype=np.int32),
        "patterns.required": np.fromiter(map(len, chosen), dtype=np.int32, count=len(chosen)),
        "patterns.unindexed": np.array(
            [n for n, grams in enumerate(chosen) if not grams], dtype=np.int32
        ),
        **GramIndex(chosen).arrays("patterns.grams"),
    }


def _rarest_trigrams(texts: list[str], most: int) -> list[list[str]]:
    """Of each text, its *most* distinct trigrams held by the fewest texts (then the trigram
    first): each numbered by its three code points, counted and ranked by numpy."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    grams: list[Array] = [np.empty(0, dtype=np.int64)]
    owners: list[Array] = [np.empty(0, dtype=np.int64)]
    for length in np.unique(lengths[lengths >= 3]).tolist():
        numbers = np.flatnonzero(lengths == length)
        codes = code_rows(texts, numbers, length).astype(np.int64)
        trigrams = codes[:, :-2] << 2 * CODE_BITS | codes[:, 1:-1] << CODE_BITS | codes[:, 2:]
        grams.append(trigrams.ravel())
        owners.append(np.repeat(numbers, length - 2))
    gram, owner = np.concatenate(grams), np.concatenate(owners)
    order = np.lexsort((gram, owner))
    gram, owner = gram[order], owner[order]
    new = np.ones(len(gram), dtype=bool)  # each trigram once per text
    new[1:] = (gram[1:] != gram[:-1]) | (owner[1:] != owner[:-1])
    gram, owner = gram[new], owner[new]
    _, inverse, held_by = np.unique(gram, return_inverse=True, return_counts=True)
    order = np.lexsort((gram, held_by[inverse], owner))
    gram, owner = gram[order], owner[order]
    first = np.searchsorted(owner, owner)  # where each text's trigrams begin
    kept = np.arange(len(owner)) - first < most
    chosen: list[list[str]] = [[] for _ in texts]
    mask = (1 << CODE_BITS) - 1
    for number, code in zip(owner[kept].tolist(), gram[kept].tolist(), strict=True):
        chosen[number].append(
            chr(code >> 2 * CODE_BITS) + chr(code >> CODE_BITS & mask) + chr(code & mask)
        )
    return chosen


def _longest_fixed_part(pattern: str) -> str:
    fragments = literal_fragments(pattern)
    return fragments[0] if fragments else ""


def _fixed_parts_of_chunk(patterns: list[str]) -> list[str]:
    return [_longest_fixed_part(pattern) for pattern in patterns]


@dataclass
class Readings:
    """The readings of texts as columns, one row per reading, the rows of each text after
    those of the one before: lists of strings move between processes far faster than a
    tuple per reading does."""

    counts: list[int] = field(default_factory=list)  # readings of each text
    keys: list[str] = field(default_factory=list)
    hows: list[int] = field(default_factory=list)  # the number of each way of reading (HOWS)
    details: list[str] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)  # each key's shape key
    coarse: list[str] = field(default_factory=list)  # and its coarse one

    def extend(self, other: Readings) -> None:
        for name, column in vars(other).items():
            getattr(self, name).extend(column)

    def per_target(self, text_of: Array) -> tuple[Array, list[list[Any]]]:
        """The target of each row and the columns, for targets whose texts are these by
        number (*text_of*): the rows as they are when each text is one target's, in order."""
        counts = np.array(self.counts, dtype=np.int64)
        columns: list[list[Any]] = [self.keys, self.hows, self.details, self.shapes, self.coarse]
        if len(text_of) == len(counts):  # numbered in order of first use: text n, target n
            return np.repeat(np.arange(len(counts), dtype=np.int32), counts), columns
        sizes = counts[text_of]
        firsts = (np.cumsum(counts) - counts)[text_of]
        rows = np.arange(int(sizes.sum())) + np.repeat(firsts - (np.cumsum(sizes) - sizes), sizes)
        gathered = [np.array(column, dtype=object)[rows].tolist() for column in columns]
        return np.repeat(np.arange(len(sizes), dtype=np.int32), sizes), gathered


def _readings_of_chunk(texts: list[str]) -> Readings:
    found = Readings()
    with collector_paused():
        for text in texts:
            read = catalogue_readings(text)
            found.counts.append(len(read))
            for reading in read:
                found.keys.append(reading.key)
                found.hows.append(HOW_NUMBERS[reading.how])
                found.details.append(reading.detail)
                found.shapes.append(shape_key(reading.key))
                found.coarse.append(coarse_key(reading.key))
    return found


def _readings_of(
    texts: list[str], patterns: list[str], progress: Progress | None = None
) -> tuple[Readings, list[str]]:
    """The readings of each of *texts* (distinct), and the longest fixed part of each of
    *patterns*: in parallel when there are many texts and more than one core (and this
    process may have children: a daemon may not)."""
    cores = usable_cores()
    if len(texts) <= PARALLEL_ABOVE or cores < 2 or multiprocessing.current_process().daemon:
        return _serially(texts, progress), _fixed_parts_of_chunk(patterns)
    # Spawned, not forked: this process may hold threads (the service's) and locks.
    context = multiprocessing.get_context("spawn")
    found = Readings()
    try:
        with ProcessPoolExecutor(cores, mp_context=context) as pool:
            fixed = pool.map(_fixed_parts_of_chunk, _chunks(patterns))
            for chunk in pool.map(_readings_of_chunk, _chunks(texts)):
                found.extend(chunk)
                if progress is not None:
                    progress(len(found.counts), len(texts))
            fixed_parts = list(chain.from_iterable(fixed))
    except (BrokenProcessPool, OSError, RuntimeError):
        # A program whose main module starts work when imported (no __main__ guard) cannot
        # spawn workers; nor can a process short of them. Then here, as it would anyway.
        LOG.warning("readings computed in this process: no worker processes", exc_info=True)
        return _serially(texts, progress), _fixed_parts_of_chunk(patterns)
    return found, fixed_parts


def _chunks(texts: list[str]) -> list[list[str]]:
    return [texts[at : at + READING_CHUNK] for at in range(0, len(texts), READING_CHUNK)]


def _serially(texts: list[str], progress: Progress | None) -> Readings:
    found = Readings()
    for chunk in _chunks(texts):
        found.extend(_readings_of_chunk(chunk))
        if progress is not None:
            progress(len(found.counts), len(texts))
    if progress is not None and not texts:
        progress(0, 0)
    return found
