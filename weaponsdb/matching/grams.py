"""Inverted indexes of q-grams (runs of q characters): which texts contain a given q-gram.

A text that fits a wildcard query holds every q-gram of its legible parts, and a key that fits
a pattern holds every q-gram of the pattern's fixed part, so intersecting a few lists narrows
a catalogue of any size to the texts worth trying. Postings are numpy arrays in one block.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from weaponsdb.matching.tables import Array, TextTable, code_rows

Ids = npt.NDArray[np.int32]
CODE_BITS = 21  # a code point's: a bigram is numbered by two


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
        self._grams = TextTable.of(list(gram_numbers), findable=True)
        self.size = size

    @classmethod
    def bigrams(cls, keys: Sequence[str]) -> GramIndex:
        """The index of the padded bigrams of *keys* (as qgrams(key, 2)), built by numpy: a
        bigram is numbered by its two code points, the keys of one length at once, and each
        distinct (bigram, key) pair is one posting; the bigrams in the order of their
        numbers."""
        padded = [f"^{key}$" for key in keys]
        lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
        grams: list[Array] = [np.empty(0, dtype=np.int64)]
        owners: list[Array] = [np.empty(0, dtype=np.int32)]
        for length in np.unique(lengths).tolist():
            numbers = np.flatnonzero(lengths == length).astype(np.int32)
            codes = code_rows(padded, numbers, length).astype(np.int64)
            grams.append((codes[:, :-1] << CODE_BITS | codes[:, 1:]).ravel())
            owners.append(np.repeat(numbers, length - 1))
        gram_array, owner_array = np.concatenate(grams), np.concatenate(owners)
        order = np.lexsort((owner_array, gram_array))
        gram_array, owner_array = gram_array[order], owner_array[order]
        new = np.ones(len(order), dtype=bool)  # a key holding a bigram twice is posted once
        new[1:] = (gram_array[1:] != gram_array[:-1]) | (owner_array[1:] != owner_array[:-1])
        gram_array, owner_array = gram_array[new], owner_array[new]
        distinct = np.unique(gram_array)
        index = cls.__new__(cls)
        index._owners = owner_array
        index._bounds = np.append(np.searchsorted(gram_array, distinct), len(gram_array))
        mask = (1 << CODE_BITS) - 1
        index._grams = TextTable.of(
            [chr(code >> CODE_BITS) + chr(code & mask) for code in distinct.tolist()],
            findable=True,
        )
        index.size = len(keys)
        return index

    def arrays(self, prefix: str) -> dict[str, Array]:
        return {
            **self._grams.arrays(f"{prefix}.grams"),
            f"{prefix}.owners": self._owners,
            f"{prefix}.bounds": self._bounds,
            f"{prefix}.size": np.array([self.size], dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array], prefix: str) -> GramIndex:
        index = cls.__new__(cls)
        index._grams = TextTable.from_arrays(arrays, f"{prefix}.grams")
        index._owners = arrays[f"{prefix}.owners"]
        index._bounds = arrays[f"{prefix}.bounds"]
        index.size = int(arrays[f"{prefix}.size"][0])
        return index

    def grams(self) -> list[str]:
        return list(self._grams)

    def postings(self, gram: str) -> Ids:
        number = self._grams.find(gram)
        if number is None:
            return np.empty(0, dtype=np.int32)
        start, end = self._bounds[number : number + 2].tolist()
        return self._owners[start:end]

    def containing_all(self, grams: Collection[str]) -> Ids:
        """Texts containing every one of *grams*, ascending; the rarest lists first."""
        lists = sorted((self.postings(gram) for gram in grams), key=len)
        found = lists[0]
        for ids in lists[1:]:
            if not len(found):
                break
            # Each list is ascending: the few found so far are looked up in the next by
            # bisection, rather than both sorted together (a common bigram such as one of
            # 'LOT' is in a third of the keys).
            places = np.minimum(np.searchsorted(ids, found), len(ids) - 1)
            found = found[ids[places] == found]
        return found
