"""Inverted indexes of q-grams (runs of q characters), the filter that narrows a catalogue of
any size to the few texts worth comparing.

An edit destroys at most q of a text's q-grams (a swap of neighbours q + 1), so a text
within k edits of the query shares all but (q + 1)·k of the query's distinct q-grams; texts
that share fewer cannot match and are never compared. Postings are numpy arrays in one
block, counted with numpy, not in Python loops.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Sequence

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int32]
# A q-gram in more than this share of the texts narrows little; its list is left out and the
# number of q-grams required drops by one instead, which keeps the filter exact.
FREQUENT_SHARE = 0.05


def qgrams(text: str, q: int, padded: bool = True) -> set[str]:
    """The distinct q-grams; padded with ^ and $ so that the ends count too."""
    if padded:
        text = f"^{text}$"
    return {text[i : i + q] for i in range(len(text) - q + 1)}


class GramIndex:
    """Which texts (by their position in *texts*) contain each q-gram."""

    def __init__(self, texts: Iterable[Collection[str]]) -> None:
        """*texts*: the q-grams of each text, in order."""
        gram_numbers: dict[str, int] = {}
        owners, grams = array("i"), array("i")
        size = 0
        for number, text_grams in enumerate(texts):
            size = number + 1
            for gram in text_grams:
                owners.append(number)
                grams.append(gram_numbers.setdefault(gram, len(gram_numbers)))
        gram_array = np.frombuffer(grams, dtype=np.int32)
        order = np.argsort(gram_array, kind="stable")
        self._owners: Ids = np.frombuffer(owners, dtype=np.int32)[order]
        self._bounds = np.searchsorted(gram_array[order], np.arange(len(gram_numbers) + 1))
        self._numbers = gram_numbers
        self.size = size
        self.frequent = max(1000, int(size * FREQUENT_SHARE))

    def postings(self, gram: str) -> Ids:
        number = self._numbers.get(gram)
        if number is None:
            return np.empty(0, dtype=np.int32)
        return self._owners[self._bounds[number] : self._bounds[number + 1]]

    def frequency(self, gram: str) -> int:
        return len(self.postings(gram))

    def containing_all(self, grams: Collection[str]) -> Ids:
        """Texts containing every one of *grams*, ascending; the rarest lists first."""
        lists = sorted((self.postings(gram) for gram in grams), key=len)
        found = lists[0]
        for ids in lists[1:]:
            if not len(found):
                break
            found = np.intersect1d(found, ids, assume_unique=True)
        return found

    def sharing(self, grams: Collection[str], may_miss: int) -> Ids | None:
        """Texts containing all but *may_miss* of *grams*; None when that cannot narrow."""
        lists = [self.postings(gram) for gram in grams]
        useful = [ids for ids in lists if len(ids) <= self.frequent]
        needed = len(grams) - may_miss - (len(lists) - len(useful))
        if needed <= 0:
            return None
        return at_least(useful, needed, self.size)


def at_least(lists: Sequence[Ids], needed: int, size: int) -> Ids:
    """The ids found in at least *needed* of *lists*, ascending."""
    if not lists:
        return np.empty(0, dtype=np.int32)
    joined = np.concatenate(lists)
    if len(joined) * 16 < size:  # few postings: sorting them beats counting over every id
        ids, counts = np.unique(joined, return_counts=True)
        return ids[counts >= needed]
    return np.flatnonzero(np.bincount(joined, minlength=size) >= needed).astype(np.int32)
