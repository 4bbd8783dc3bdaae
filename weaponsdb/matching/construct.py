"""Building the match index's arrays (index.py) from catalogue texts.

The readings of each text and the shape keys of each reading are a pure function of the text
and most of a big build's time: they are computed once per distinct text, in worker processes
when there are many. Everything after them is done on flat arrays: keys numbered in the order
first met (a dictionary built in one call, not a loop), the targets read as each key grouped by
a stable sort, the shape and coarse groups the same way; the segment and bigram indexes are
built by numpy (segments.py, grams.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import chain

import numpy as np

from weaponsdb.matching.error_model import coarse_key, shape_key
from weaponsdb.matching.grams import GramIndex
from weaponsdb.matching.index import HOWS, PatternIndex, Target, Targets, catalogue_readings
from weaponsdb.matching.segments import SegmentIndex
from weaponsdb.matching.tables import Array, Postings, TextTable

LOG = logging.getLogger("weaponsdb.matching")

# Past this many distinct texts, readings are computed in worker processes, one per core
# (starting them takes about a second).
PARALLEL_ABOVE = 50_000
READING_CHUNK = 5_000
# key, number of the way of reading (HOWS), detail, the key's shape key, its coarse key
ReadingRow = tuple[str, int, str, str, str]
Progress = Callable[[int, int], None]
HOW_NUMBERS = {how: number for number, how in enumerate(HOWS)}


def built_arrays(targets: Sequence[Target], progress: Progress | None = None) -> dict[str, Array]:
    """The arrays of an index of *targets*: each key a text reads as, numbered in the order
    first met, with the targets read as it (ascending) and how; each key's shape and coarse
    shape; the segment and q-gram indexes over them. *progress* is told (texts read, of how
    many distinct texts) as the readings are computed."""
    read = _readings_of(targets, progress)
    per_target = [read(target.text) for target in targets]
    rows: list[ReadingRow] = list(chain.from_iterable(per_target))
    row_target = np.repeat(
        np.arange(len(targets), dtype=np.int32),
        np.fromiter(map(len, per_target), dtype=np.int64, count=len(per_target)),
    )
    del per_target
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    row_keys, row_hows, row_details, row_shapes, row_coarse = columns
    del rows, columns
    keys, row_key = _numbered(row_keys)
    details, row_detail = _numbered(row_details)
    # A key's shape keys are those of its first row (they depend on the key alone).
    _, first_rows = np.unique(row_key, return_index=True)
    shapes, key_shape = _numbered([row_shapes[row] for row in first_rows.tolist()])
    coarse, key_coarse = _numbered([row_coarse[row] for row in first_rows.tolist()])
    hits, by_key = _grouped(row_key, len(keys), row_target)  # targets ascending
    hows = np.fromiter(row_hows, dtype=np.int8, count=len(row_hows))
    patterned = [(n, t.pattern) for n, t in enumerate(targets) if t.pattern]
    return {
        **Targets.arrays(targets),
        **TextTable.of(keys, findable=True).arrays("keys"),
        "keys.length": np.fromiter(map(len, keys), dtype=np.int32, count=len(keys)),
        **hits.arrays("keys.hits"),
        "keys.hits.how": hows[by_key],
        "keys.hits.detail": row_detail[by_key],
        **TextTable.of(details).arrays("details"),
        **TextTable.of(shapes, findable=True).arrays("shapes"),
        **_grouped(key_shape, len(shapes))[0].arrays("shapes.keys"),
        **TextTable.of(coarse, findable=True).arrays("coarse"),
        **_grouped(key_coarse, len(coarse))[0].arrays("coarse.keys"),
        # One arbitrary edit is searched among shape keys (any number of likely misreadings
        # besides); two among the keys themselves, which narrows better in a big catalogue.
        # (A swap of neighbours is looked up with one edit fewer: see segments.py.)
        **SegmentIndex(shapes, levels=(0, 1)).arrays("shape_segments"),
        **SegmentIndex(keys, levels=(1, 2)).arrays("key_segments"),
        **GramIndex.bigrams(keys).arrays("bigrams"),
        **PatternIndex.arrays(patterned),
    }


def _numbered(texts: Sequence[str]) -> tuple[list[str], Array]:
    """The distinct texts in the order first met, and the number of each of *texts*."""
    distinct = list(dict.fromkeys(texts))
    numbers = dict(zip(distinct, range(len(distinct)), strict=True))
    found = np.fromiter(map(numbers.__getitem__, texts), dtype=np.int32, count=len(texts))
    return distinct, found


def _grouped(groups: Array, count: int, members: Array | None = None) -> tuple[Postings, Array]:
    """Per group number 0..count-1, its *members* (by default the positions in *groups*) in
    the order they come, and that order: a stable sort by group, the bounds counted."""
    order = np.argsort(groups, kind="stable")
    bounds = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=count), out=bounds[1:])
    values = order if members is None else members[order]
    return Postings(bounds, values.astype(np.int32)), order


def _rows(text: str) -> tuple[ReadingRow, ...]:
    return tuple(
        (r.key, HOW_NUMBERS[r.how], r.detail, shape_key(r.key), coarse_key(r.key))
        for r in catalogue_readings(text)
    )


def _rows_of_chunk(texts: list[str]) -> list[tuple[ReadingRow, ...]]:
    return [_rows(text) for text in texts]


def _readings_of(
    targets: Sequence[Target], progress: Progress | None = None
) -> Callable[[str], tuple[ReadingRow, ...]]:
    """The readings of each target's text, as rows: computed once per distinct text, in
    parallel when there are many and more than one core (and this process may have
    children: a daemon may not)."""
    distinct = list(dict.fromkeys(target.text for target in targets))
    cores = os.cpu_count() or 1
    if len(distinct) <= PARALLEL_ABOVE or cores < 2 or multiprocessing.current_process().daemon:
        return _serially(distinct, progress)
    chunks = [distinct[at : at + READING_CHUNK] for at in range(0, len(distinct), READING_CHUNK)]
    # Spawned, not forked: this process may hold threads (the service's) and locks.
    context = multiprocessing.get_context("spawn")
    rows: list[tuple[ReadingRow, ...]] = []
    try:
        with ProcessPoolExecutor(cores, mp_context=context) as pool:
            for chunk in pool.map(_rows_of_chunk, chunks):
                rows.extend(chunk)
                if progress is not None:
                    progress(len(rows), len(distinct))
    except (BrokenProcessPool, OSError, RuntimeError):
        # A program whose main module starts work when imported (no __main__ guard) cannot
        # spawn workers; nor can a process short of them. Then here, as it would anyway.
        LOG.warning("readings computed in this process: no worker processes", exc_info=True)
        return _serially(distinct, progress)
    return dict(zip(distinct, rows, strict=True)).__getitem__


def _serially(
    distinct: list[str], progress: Progress | None
) -> Callable[[str], tuple[ReadingRow, ...]]:
    rows: dict[str, tuple[ReadingRow, ...]] = {}
    for at in range(0, len(distinct), READING_CHUNK):
        chunk = distinct[at : at + READING_CHUNK]
        rows.update(zip(chunk, _rows_of_chunk(chunk), strict=True))
        if progress is not None:
            progress(len(rows), len(distinct))
    if progress is not None and not distinct:
        progress(0, 0)
    return rows.__getitem__
