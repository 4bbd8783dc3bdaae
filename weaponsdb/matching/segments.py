"""The candidate filter for misread keys: a partition ("pass-join") index.

Cut a key into k + 1 segments; k edits can spoil at most k of them, so a query within k edits
of the key contains at least one segment unchanged. Each segment is indexed under (k, the
key's length, its number, its text); a query looks up its substrings at the few lengths and
places that could hold one, which finds every key within k edits and very little else,
however short the keys. The places are those of Pass-Join's multi-match-aware selection (Li
et al., VLDB 2011): some unchanged segment i (from 0) has at most i edits before it and k - i
after it, so it is shifted by at most i places, and by at most k - i from where the
difference in length would put it. A swap of neighbours is one edit but can spoil two
segments, so each swap of the query's neighbours is also looked up with one edit fewer; two
swaps (k = 2) are found that way too, since at most one of them can spoil both halves of a
key. rapidfuzz then measures only the candidates.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from weaponsdb.matching.grams import Ids
from weaponsdb.matching.tables import Array, code_rows, crc32_utf8_rows, distinct

MAX_EDITS = 2
MAX_LENGTH = 1023  # the longest length a segment's hash tells apart (see _hash_prefix)


def segments(length: int, edits: int) -> Iterator[tuple[int, int, int]]:
    """(number, start, size) of each of the edits + 1 segments of a key this long, the
    longer segments last."""
    parts = edits + 1
    short, longer = divmod(length, parts)
    start = 0
    for number in range(parts):
        size = short + (number >= parts - longer)
        yield number, start, size
        start += size


class SegmentIndex:
    def __init__(self, keys: Sequence[str], levels: Sequence[int] = range(MAX_EDITS + 1)) -> None:
        """*levels*: the numbers of edits the index will be asked for, and one fewer (a
        swap of neighbours is looked up with one edit fewer). The keys of one length are
        cut and hashed by numpy at once."""
        lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
        hashes: list[Array] = [np.empty(0, dtype=np.int64)]
        owners: list[Array] = [np.empty(0, dtype=np.int32)]
        for length in np.unique(lengths).tolist():
            numbers = np.flatnonzero(lengths == length).astype(np.int32)
            codes = code_rows(keys, numbers, length)
            for edits in levels:
                if edits and length <= edits:
                    continue  # nothing is left of a key that short after that many edits
                for number, start, size in segments(length, edits):
                    crc = crc32_utf8_rows(codes[:, start : start + size]).astype(np.int64)
                    hashes.append(_hash_prefix(edits, length, number) | crc)
                    owners.append(numbers)
        hash_array, owner_array = np.concatenate(hashes), np.concatenate(owners)
        # By hash, and by key within a hash (the order the keys were numbered in). Segments
        # of one hash are of one length, level and number (below the longest length a hash
        # tells apart), so of one group above, whose keys come in order: sorting by hash
        # alone, stably, keeps them so, for half the time of sorting by both.
        if len(lengths) and int(lengths.max()) >= MAX_LENGTH:
            order = np.lexsort((owner_array, hash_array))
        else:
            order = np.argsort(hash_array, kind="stable")
        self._hashes = hash_array[order]
        self._owners: Ids = owner_array[order]

    def arrays(self, prefix: str) -> dict[str, Array]:
        return {f"{prefix}.hashes": self._hashes, f"{prefix}.owners": self._owners}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array], prefix: str) -> SegmentIndex:
        index = cls.__new__(cls)
        index._hashes = arrays[f"{prefix}.hashes"]
        index._owners = arrays[f"{prefix}.owners"]
        return index

    def candidates(self, query: str, edits: int) -> Ids:
        """Every key within *edits* of *query* (edits <= MAX_EDITS), and a few others."""
        crcs: dict[str, int] = {}  # the query's swaps share most of their substrings
        probes = list(self._probes(query, edits, crcs))
        for swapped in _swaps(query):
            probes.extend(self._probes(swapped, edits - 1, crcs))
        wanted = distinct(np.array(probes, dtype=np.int64))
        starts = self._hashes.searchsorted(wanted, side="left")
        sizes = self._hashes.searchsorted(wanted, side="right") - starts
        total = int(sizes.sum())
        if not total:
            return np.empty(0, dtype=np.int32)
        # Every owner of every probe found, gathered at once: each run's places, in a row.
        places = np.arange(total) + (starts - (sizes.cumsum() - sizes)).repeat(sizes)
        found: Ids = distinct(self._owners[places])
        return found

    @staticmethod
    def _probes(query: str, edits: int, crcs: dict[str, int]) -> Iterator[int]:
        for length in range(max(edits + 1, len(query) - edits), len(query) + edits + 1):
            shift = len(query) - length  # where the difference in length puts the end
            for number, start, size in segments(length, edits):
                prefix = _hash_prefix(edits, length, number)
                after = edits - number
                first = max(0, start - number, start + shift - after)
                last = min(len(query) - size, start + number, start + shift + after)
                for place in range(first, last + 1):
                    segment = query[place : place + size]
                    crc = crcs.get(segment)
                    if crc is None:
                        crc = crcs[segment] = zlib.crc32(segment.encode())
                    yield prefix | crc


def _hash_prefix(edits: int, length: int, number: int) -> int:
    """The part of a segment's hash above its CRC-32 (of its UTF-8 bytes): the edits, the
    key's length and the segment's number. The same in every process (the index is saved to
    a file). Two segments of one hash only add a candidate that rapidfuzz then measures."""
    return ((edits * (MAX_LENGTH + 1) + min(length, MAX_LENGTH)) * 4 + number) << 32


def _swaps(text: str) -> Iterator[str]:
    """The text with each pair of different neighbours swapped."""
    for i in range(len(text) - 1):
        if text[i] != text[i + 1]:
            yield text[:i] + text[i + 1] + text[i] + text[i + 2 :]
