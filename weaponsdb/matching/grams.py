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

from weaponsdb.matching.tables import Array, TextTable, ascii_rows

Ids = npt.NDArray[np.int32]
ASCII_BIGRAMS = 256 * 256  # bigrams of two ASCII characters are numbered below this


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
        """The index of the padded bigrams of *keys* (as qgrams(key, 2)), built by numpy: an
        ASCII bigram is numbered by its two bytes, any other past them, and each distinct
        (bigram, key) pair is one posting; the bigrams in the order of their numbers."""
        lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
        plain = np.fromiter(map(str.isascii, keys), dtype=bool, count=len(keys))
        pairs: list[Array] = []
        padded = [f"^{key}$" for key in keys]
        for length in np.unique(lengths[plain]).tolist():
            numbers = np.flatnonzero(plain & (lengths == length))
            rows = ascii_rows(padded, numbers, length + 2)
            codes = rows[:, :-1].astype(np.int64) * 256 + rows[:, 1:]
            pairs.append((codes << 32 | numbers[:, None]).ravel())
        other_numbers: dict[str, int] = {}
        other_pairs: list[int] = []
        for number in np.flatnonzero(~plain).tolist():
            for gram in qgrams(keys[number], 2):
                code = (
                    ord(gram[0]) * 256 + ord(gram[1])
                    if gram.isascii()
                    else other_numbers.setdefault(gram, ASCII_BIGRAMS + len(other_numbers))
                )
                other_pairs.append(code << 32 | number)
        pairs.append(np.array(other_pairs, dtype=np.int64))
        found = np.unique(np.concatenate(pairs))
        codes, owners = found >> 32, (found & 0xFFFFFFFF).astype(np.int32)
        distinct = np.unique(codes)
        names = {code: gram for gram, code in other_numbers.items()}
        index = cls.__new__(cls)
        index._owners = owners
        index._bounds = np.searchsorted(codes, np.append(distinct, ASCII_BIGRAMS << 40))
        index._grams = TextTable.of(
            [
                chr(c >> 8) + chr(c & 0xFF) if c < ASCII_BIGRAMS else names[c]
                for c in distinct.tolist()
            ],
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
