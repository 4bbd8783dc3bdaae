"""Inverted indexes of q-grams (runs of q characters): which texts contain a given q-gram.

A text that fits a wildcard query holds every q-gram of its legible parts, and a key that fits
a pattern holds every q-gram of the pattern's fixed part, so intersecting a few lists narrows
a catalogue of any size to the texts worth trying. Postings are numpy arrays in one block.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from weaponsdb.matching.tables import Array, TextTable, code_rows, distinct

Ids = npt.NDArray[np.int32]
CODE_BITS = 21  # a code point's: a bigram is numbered by two
# A bigram's bit in a signature: the top six bits of its number times the golden ratio's
# 64-bit fraction (Fibonacci hashing), which spreads neighbouring numbers apart.
_SPREAD = 0x9E3779B97F4A7C15
_WORD = (1 << 64) - 1
# A key's characters counted in this many groups: each digit its own (markings are mostly
# digits), every other character in one of the rest by its code point.
COUNTED_GROUPS = 16


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
        self.fingerprints: Fingerprints | None = None

    @classmethod
    def bigrams(cls, keys: Sequence[str]) -> GramIndex:
        """The index of the padded bigrams of *keys* (as qgrams(key, 2)), built by numpy: a
        bigram is numbered by its two code points, the keys of one length at once, and each
        distinct (bigram, key) pair is one posting; the bigrams in the order of their
        numbers. With each key's fingerprint (Fingerprints)."""
        grams: list[Array] = [np.empty(0, dtype=np.int64)]
        owners: list[Array] = [np.empty(0, dtype=np.int32)]
        fingerprints = Fingerprints.empty(len(keys))
        for numbers, codes, numbered in _padded_bigrams(keys):
            grams.append(numbered.ravel())
            owners.append(np.repeat(numbers, numbered.shape[1]))
            fingerprints.fill(numbers, codes, numbered)
        gram_array, owner_array = _distinct_postings(np.concatenate(grams), np.concatenate(owners))
        starts = np.flatnonzero(np.diff(gram_array, prepend=-1))  # sorted: where each begins
        distinct = gram_array[starts]
        index = cls.__new__(cls)
        index._owners = owner_array
        index._bounds = np.append(starts, len(gram_array))
        mask = (1 << CODE_BITS) - 1
        index._grams = TextTable.of(
            [chr(code >> CODE_BITS) + chr(code & mask) for code in distinct.tolist()],
            findable=True,
        )
        index.size = len(keys)
        index.fingerprints = fingerprints
        return index

    def arrays(self, prefix: str) -> dict[str, Array]:
        found = {
            **self._grams.arrays(f"{prefix}.grams"),
            f"{prefix}.owners": self._owners,
            f"{prefix}.bounds": self._bounds,
            f"{prefix}.size": np.array([self.size], dtype=np.int64),
        }
        if self.fingerprints is not None:
            found.update(self.fingerprints.arrays(prefix))
        return found

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array], prefix: str) -> GramIndex:
        index = cls.__new__(cls)
        index._grams = TextTable.from_arrays(arrays, f"{prefix}.grams")
        index._owners = arrays[f"{prefix}.owners"]
        index._bounds = arrays[f"{prefix}.bounds"]
        index.size = int(arrays[f"{prefix}.size"][0])
        index.fingerprints = Fingerprints.from_arrays(arrays, prefix)
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


class Fingerprints:
    """Per text, what can be told of it at one look: a signature of its padded bigrams
    (signature()) and counts of its characters in COUNTED_GROUPS; enough to drop most of the
    candidates a segment index finds before any is decoded and measured."""

    def __init__(self, signatures: Array, counts: Array) -> None:
        self.signatures = signatures
        self.counts = counts

    @classmethod
    def empty(cls, size: int) -> Fingerprints:
        return cls(
            np.zeros(size, dtype=np.uint64), np.zeros((size, COUNTED_GROUPS), dtype=np.uint8)
        )

    @classmethod
    def of(cls, texts: Sequence[str]) -> Fingerprints:
        """The fingerprints of *texts*, the texts of one length at once."""
        found = cls.empty(len(texts))
        for numbers, codes, numbered in _padded_bigrams(texts):
            found.fill(numbers, codes, numbered)
        return found

    def fill(self, numbers: Array, codes: Array, numbered: Array) -> None:
        """Those of the texts *numbers*, from the code points of the padded texts (one row
        each) and their bigrams numbered (as GramIndex.bigrams numbers them)."""
        self.signatures[numbers] = np.bitwise_or.reduce(_bits(numbered), axis=1)
        self.counts[numbers] = _counted(codes[:, 1:-1])

    def arrays(self, prefix: str) -> dict[str, Array]:
        return {f"{prefix}.signatures": self.signatures, f"{prefix}.counts": self.counts}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array], prefix: str) -> Fingerprints | None:
        if f"{prefix}.signatures" not in arrays:
            return None
        return cls(arrays[f"{prefix}.signatures"], arrays[f"{prefix}.counts"])

    def alike(self, text: str, candidates: Ids, edits: int) -> Ids:
        """The *candidates* (in order) that may be within *edits* of *text*, by what can be
        told of each at one look. An edit spoils at most three of a text's padded bigrams
        (a swap of neighbours) and makes at most three new ones, so a key that close lacks
        at most 3 x edits of the text's bigrams and holds at most that many the text lacks;
        and it changes the counts of characters by at most two in all (a substitution), so
        those of the key and the text differ by at most 2 x edits. A signature's bit that
        the key lacks is a bigram it lacks, and counts in groups (at most 255 each) differ
        by no more than counts do, so none is dropped that is that close. Structured
        markings ('... LOT 0042', 'type 5528 m') share segments with thousands of keys,
        which these drop for less than measuring each would cost."""
        own = np.uint64(signature(text))
        theirs = self.signatures[candidates]
        most = 3 * edits
        kept = (np.bitwise_count(own & ~theirs) <= most) & (np.bitwise_count(theirs & ~own) <= most)
        candidates = candidates[kept]
        own_counts = _counted(np.fromiter(map(ord, text), dtype=np.int64, count=len(text))[None])
        counts = self.counts[candidates]
        apart = np.maximum(counts, own_counts) - np.minimum(counts, own_counts)
        found: Ids = candidates[apart.sum(axis=1, dtype=np.int64) <= 2 * edits]
        return found


def _distinct_postings(grams: Array, owners: Array) -> tuple[Array, Array]:
    """The (bigram, key) pairs by bigram, then key, each once (a key holding a bigram twice
    is posted once). Both in one 64-bit number sorted, where they fit (a bigram's number
    has 2 x CODE_BITS bits): four times quicker than sorting by the two arrays
    (np.lexsort), 5.7 s of a 1M build."""
    owner_bits = max(1, int(owners.max(initial=0)).bit_length())
    if 2 * CODE_BITS + owner_bits > 63:
        order = np.lexsort((owners, grams))
        grams, owners = grams[order], owners[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (grams[1:] != grams[:-1]) | (owners[1:] != owners[:-1])
        return grams[new], owners[new]
    pairs = distinct(grams << owner_bits | owners.astype(np.int64))
    return pairs >> owner_bits, (pairs & ((1 << owner_bits) - 1)).astype(np.int32)


def _padded_bigrams(texts: Sequence[str]) -> Iterator[tuple[Array, Array, Array]]:
    """Per length of the padded texts ('^text$'): the numbers of the texts of that length,
    their code points (one row each) and their bigrams numbered by two code points."""
    padded = [f"^{text}$" for text in texts]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    for length in np.unique(lengths).tolist():
        numbers = np.flatnonzero(lengths == length).astype(np.int32)
        codes = code_rows(padded, numbers, length).astype(np.int64)
        yield numbers, codes, codes[:, :-1] << CODE_BITS | codes[:, 1:]


def signature(text: str) -> int:
    """The bits of the padded bigrams of *text* in 64: one number that says, without a look
    at the postings, which bigrams a key may hold."""
    found = 0
    for gram in qgrams(text, 2):
        number = ord(gram[0]) << CODE_BITS | ord(gram[1])
        found |= 1 << ((number * _SPREAD & _WORD) >> 58)
    return found


def _bits(numbered: Array) -> Array:
    """Each bigram number's bit in a signature, as signature() has it."""
    spread = numbered.astype(np.uint64) * np.uint64(_SPREAD)  # modulo 2**64, as numpy wraps
    found: Array = np.left_shift(np.uint64(1), spread >> np.uint64(58))
    return found


def _counted(codes: Array) -> Array:
    """Per row of code points, how many fall in each of COUNTED_GROUPS (at most 255)."""
    digits = (codes >= ord("0")) & (codes <= ord("9"))
    others = COUNTED_GROUPS - 10
    groups = np.where(digits, codes - ord("0"), 10 + codes % others)
    rows = np.arange(len(codes))[:, None] * COUNTED_GROUPS
    counted = np.bincount((rows + groups).ravel(), minlength=len(codes) * COUNTED_GROUPS)
    found: Array = np.minimum(counted, 255).astype(np.uint8).reshape(len(codes), COUNTED_GROUPS)
    return found
