"""Finding reference photos by perceptual hash: Hamming distance between 64-bit pHashes.

`HashIndex` answers exactly what a scan of every hash would, faster. It is a multi-index
hash (Norouzi et al.): each hash is cut into four 16-bit blocks, and for each block the
hashes are sorted by it. Two hashes at most *r* bits apart agree, in at least one block, to
within r // 4 bits (pigeonhole), so a search within radius *r* looks up, in each block, only
the block values that near the query's, and measures only the hashes found there. Nearest
neighbours are searched within growing radii; when a small radius does not hold enough of
them, one vectorised scan over every hash (XOR, then bit count) answers instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

BITS = 64
BLOCKS = 4
BLOCK_BITS = BITS // BLOCKS
NEAR_DUPLICATE = 8  # at most this many bits apart: the same photo, resized, recompressed
# or slightly cropped (unrelated photos are about 32 apart, rarely under 18)
# Radii searched through the blocks before a full scan; r // 4 = 1 and 2 bits a block.
INDEX_RADII = (7, 11)

Hashes = npt.NDArray[np.uint64]


def to_int(phash: str) -> int:
    return int(phash, 16)


def similarity(distance: int) -> float:
    """1 for the same hash, 0 for every bit different."""
    return round(1 - distance / BITS, 4)


def _masks(max_bits: int) -> npt.NDArray[np.uint16]:
    """Every 16-bit value with at most *max_bits* bits set."""
    values = [0]
    for bits in range(1, max_bits + 1):
        values += [sum(1 << b for b in chosen) for chosen in combinations(range(BLOCK_BITS), bits)]
    return np.array(values, dtype=np.uint16)


_MASKS = {bits: _masks(bits) for bits in range(max(INDEX_RADII) // BLOCKS + 1)}


@dataclass(frozen=True)
class Neighbour:
    ref: int  # the caller's id of the reference hash
    distance: int


def distances(hashes: Hashes, query: int) -> npt.NDArray[np.uint8]:
    return np.bitwise_count(np.bitwise_xor(hashes, np.uint64(query))).astype(np.uint8)


def brute_force(
    refs: Sequence[int], hashes: Sequence[int], query: int, k: int, max_distance: int
) -> list[Neighbour]:
    """The baseline: every hash measured one by one, in plain Python."""
    found = [
        Neighbour(ref, d)
        for ref, h in zip(refs, hashes, strict=True)
        if (d := (h ^ query).bit_count()) <= max_distance
    ]
    return sorted(found, key=lambda n: (n.distance, n.ref))[:k]


class HashIndex:
    """An immutable index of reference hashes, each with the caller's id (e.g. a photo id)."""

    def __init__(self, refs: Sequence[int], hashes: Sequence[int]) -> None:
        self.refs = np.array(refs, dtype=np.int64)
        self.hashes = np.array(hashes, dtype=np.uint64)
        self._orders: list[npt.NDArray[np.int64]] = []
        self._starts: list[npt.NDArray[np.int64]] = []
        for block in range(BLOCKS):
            values = self._block(self.hashes, block)
            order = np.argsort(values, kind="stable")
            self._orders.append(order)
            # Where each of the 65,536 block values starts in the sorted order.
            self._starts.append(
                np.searchsorted(values[order], np.arange((1 << BLOCK_BITS) + 1), side="left")
            )

    def __len__(self) -> int:
        return len(self.hashes)

    @staticmethod
    def _block(hashes: Hashes, block: int) -> npt.NDArray[np.int64]:
        shifted = np.right_shift(hashes, np.uint64(block * BLOCK_BITS))
        return np.bitwise_and(shifted, np.uint64(0xFFFF)).astype(np.int64)

    def _within(self, query: int, radius: int) -> npt.NDArray[np.int64]:
        """Positions of every hash at most *radius* bits from *query*."""
        candidates = []
        for block in range(BLOCKS):
            value = (query >> (block * BLOCK_BITS)) & 0xFFFF
            keys = np.bitwise_xor(_MASKS[radius // BLOCKS], np.uint16(value)).astype(np.int64)
            starts, ends = self._starts[block][keys], self._starts[block][keys + 1]
            lengths = ends - starts
            total = int(lengths.sum())
            if total:
                offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
                candidates.append(self._orders[block][offsets + np.arange(total)])
        if not candidates:
            return np.empty(0, dtype=np.int64)
        positions = np.unique(np.concatenate(candidates))
        return positions[distances(self.hashes[positions], query) <= radius]

    def nearest(self, query: int, k: int = 10, max_distance: int = BITS) -> list[Neighbour]:
        """The *k* hashes nearest *query*, at most *max_distance* bits away, nearest first
        (ties by id): exactly what brute_force answers."""
        if len(self.hashes) == 0 or k <= 0:
            return []
        for radius in INDEX_RADII:
            found = self._within(query, min(radius, max_distance))
            if len(found) >= k or max_distance <= radius:
                return self._best(found, distances(self.hashes[found], query), k)
        measured = distances(self.hashes, query)
        positions = np.flatnonzero(measured <= max_distance)
        return self._best(positions, measured[positions], k)

    def _best(
        self, positions: npt.NDArray[np.int64], found: npt.NDArray[np.uint8], k: int
    ) -> list[Neighbour]:
        if len(found) > k:
            # Only hashes as near as the k-th nearest can be among the k (ties by id).
            kth = np.partition(found, k - 1)[k - 1]
            keep = found <= kth
            positions, found = positions[keep], found[keep]
        refs = self.refs[positions]
        order = np.lexsort((refs, found))[:k]
        return [Neighbour(int(refs[i]), int(found[i])) for i in order]
