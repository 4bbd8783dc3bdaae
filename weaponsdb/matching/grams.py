"""Inverted indexes of q-grams (runs of q characters): which texts contain a given q-gram.

A text that fits a wildcard query holds every q-gram of its legible parts, and a key that fits
a pattern holds every q-gram of the pattern's fixed part, so intersecting a few lists narrows
a catalogue of any size to the texts worth trying. Postings are numpy arrays in one block.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int32]


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

    def postings(self, gram: str) -> Ids:
        number = self._numbers.get(gram)
        if number is None:
            return np.empty(0, dtype=np.int32)
        return self._owners[self._bounds[number] : self._bounds[number + 1]]

    def containing_all(self, grams: Collection[str]) -> Ids:
        """Texts containing every one of *grams*, ascending; the rarest lists first."""
        lists = sorted((self.postings(gram) for gram in grams), key=len)
        found = lists[0]
        for ids in lists[1:]:
            if not len(found):
                break
            found = np.intersect1d(found, ids, assume_unique=True)
        return found
