"""The candidate index: catalogue marking and designation texts, by every key they read as.

Exact readings are found by dictionary look-up. Misread text is found through shape keys
(error_model.py): every character replaced by the class of characters it is cheaply misread
as, so that keys differing only by likely misreadings share one shape key, however many
there are (and a coarse shape key, with less likely misreadings too, looked up as it is).
For arbitrary misreadings, a partition index over shape keys (segments.py) narrows a
catalogue of any size to the few within the allowed edits, measured with rapidfuzz (optimal
string alignment: a swap of two neighbouring characters is one edit). Every candidate is
then priced by the error model's weighted edit distance and kept if within the budget its
length allows. Wildcards and patterns are narrowed by q-gram indexes (grams.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from weaponsdb.matching.error_model import (
    COSTS,
    PATH_COST,
    Alignment,
    align,
    budget,
    coarse_key,
    shape_key,
)
from weaponsdb.matching.grams import GramIndex, qgrams
from weaponsdb.matching.normalise import How, Reading, readings
from weaponsdb.matching.patterns import compile_pattern, literal_fragments
from weaponsdb.matching.segments import SegmentIndex

# An illegible run fits very many keys; past this many, the rest say nothing more.
MAX_WILDCARD_KEYS = 1000
# Shape keys within the allowed edits priced by the error model, the nearest first.
MAX_PRICED = 200


@dataclass(frozen=True)
class Target:
    """One catalogue text to match against: a marking or a name of an entry."""

    entry_id: int
    kind: str  # "marking" or a name kind such as "designation"
    text: str
    pattern: str | None = None


@dataclass(frozen=True)
class Hit:
    target: int
    cost: float  # error model: about -ln of how likely the observed text is a reading of it
    how: How
    detail: str
    edits: int = 0

    @property
    def score(self) -> float:
        return math.exp(-self.cost)


@lru_cache(maxsize=100_000)
def catalogue_readings(text: str) -> tuple[Reading, ...]:
    """Readings of a catalogue text, remembered: the overlay of changed entries is rebuilt
    after every edit, mostly from the same texts."""
    return tuple(readings(text))


def legible(query_key: str) -> int:
    return len(query_key.replace("?", "").replace("*", ""))


def allowed_edits(query_key: str) -> int:
    """Arbitrary edits searched for (likely misreadings are found through shape keys
    whatever their number): two in a marking of seven characters or more, one in a shorter
    one, none in a two-character one: two changes to a five-character designation make
    another one."""
    count = legible(query_key)
    return 0 if count <= 2 else 1 if count <= 6 else 2


class MatchIndex:
    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = list(targets)
        self.keys: list[str] = []
        self._key_ids: dict[str, int] = {}
        self._key_hits: list[list[tuple[int, Reading]]] = []
        self.shapes: list[str] = []
        self._shape_ids: dict[str, int] = {}
        self._shape_keys: list[list[int]] = []
        self._coarse: dict[str, list[int]] = defaultdict(list)
        patterned: list[tuple[int, str]] = []
        for number, target in enumerate(self.targets):
            for reading in catalogue_readings(target.text):
                self._add_key(reading.key).append((number, reading))
            if target.pattern:
                patterned.append((number, target.pattern))
        self._key_array = np.array(self.keys, dtype=object)
        self._shape_array = np.array(self.shapes, dtype=object)
        self._lengths = np.array([len(k) for k in self.keys], dtype=np.int32)
        # One arbitrary edit is searched among shape keys (any number of likely misreadings
        # besides); two among the keys themselves, which narrows better in a big catalogue.
        # (A swap of neighbours is looked up with one edit fewer: see segments.py.)
        self._shape_segments = SegmentIndex(self.shapes, levels=(0, 1))
        self._key_segments = SegmentIndex(self.keys, levels=(1, 2))
        self._bigrams = GramIndex(qgrams(k, 2) for k in self.keys)
        self._patterns = PatternIndex(patterned)

    def _add_key(self, text_key: str) -> list[tuple[int, Reading]]:
        key_id = self._key_ids.get(text_key)
        if key_id is None:
            key_id = self._key_ids[text_key] = len(self.keys)
            self.keys.append(text_key)
            self._key_hits.append([])
            shape = shape_key(text_key)
            shape_id = self._shape_ids.get(shape)
            if shape_id is None:
                shape_id = self._shape_ids[shape] = len(self.shapes)
                self.shapes.append(shape)
                self._shape_keys.append([])
            self._shape_keys[shape_id].append(key_id)
            self._coarse[coarse_key(text_key)].append(key_id)
        return self._key_hits[key_id]

    def search(self, observed: str, query: Reading) -> dict[int, Hit]:
        """Best hit per target for one reading of an observed marking."""
        hits: dict[int, Hit] = {}
        if "?" in query.key or "*" in query.key:
            self._wildcard(query, hits)
            return hits
        key_id = self._key_ids.get(query.key)
        if key_id is not None:
            for target, reading in self._key_hits[key_id]:
                how, detail = _combined(query, reading)
                if observed == self.targets[target].text:
                    how, detail = How.EXACT, "as written"
                _keep(hits, Hit(target, PATH_COST[how] + query.cost, how, detail))
        self._misreadings(query, hits)
        self._pattern_matches(query, hits)
        return hits

    def _expand(self, key_id: int) -> Iterable[tuple[int, Reading]]:
        return self._key_hits[key_id]

    def _misreadings(self, query: Reading, hits: dict[int, Hit]) -> None:
        """Catalogue keys the query may be a misreading of, within the budget."""
        allowed = budget(legible(query.key)) - query.cost
        for key_id in self._near_keys(query):
            catalogue_key = self.keys[key_id]
            if catalogue_key == query.key:
                continue
            alignment = align(query.key, catalogue_key)
            if alignment.cost > allowed:
                continue
            for target, reading in self._expand(key_id):
                _keep(hits, _misread_hit(target, query, reading, catalogue_key, alignment))

    def _near_keys(self, query: Reading) -> Iterator[int]:
        """Keys of the query's shape and of its coarse shape, then keys within the allowed
        edits: one edit from the query's shape, or two from the query's key (the nearest
        first, at most MAX_PRICED)."""
        shape = shape_key(query.key)
        own = self._shape_ids.get(shape)
        if own is not None:
            yield from self._shape_keys[own]
        yield from self._coarse.get(coarse_key(query.key), ())
        edits = allowed_edits(query.key) if query.fuzzy else 0
        if edits == 1:
            for shape_id in _within(shape, self._shape_segments, self._shape_array, edits):
                yield from self._shape_keys[shape_id]
        elif edits == 2:
            yield from _within(query.key, self._key_segments, self._key_array, edits)

    def _pattern_matches(self, query: Reading, hits: dict[int, Hit]) -> None:
        for target in self._patterns.matching(query.key):
            detail = f"'{query.key}' fits the pattern '{self.targets[target].pattern}'"
            cost = PATH_COST[How.PATTERN] + query.cost
            _keep(hits, Hit(target, cost, How.PATTERN, detail))

    def _wildcard(self, query: Reading, hits: dict[int, Hit]) -> None:
        regex = re.compile(
            "".join("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in query.key)
        )
        legible_count = legible(query.key)
        fitting = (k for k in self._wildcard_candidates(query.key) if regex.fullmatch(self.keys[k]))
        for key_id in islice(fitting, MAX_WILDCARD_KEYS):
            catalogue_key = self.keys[key_id]
            illegible = len(catalogue_key) - legible_count
            runs = query.key.count("*")
            # Each '?' stands for a character nothing was read of; a '*' for a run.
            cost = (
                PATH_COST[How.WILDCARD]
                + query.cost
                + COSTS["illegible_character"] * (query.key.count("?") + runs)
                + COSTS["illegible_run_character"] * max(0, illegible - query.key.count("?"))
            )
            detail = f"'{query.key}' fits '{catalogue_key}' ({legible_count} legible characters)"
            for target, _ in self._expand(key_id):
                _keep(hits, Hit(target, cost, How.WILDCARD, detail))

    def _wildcard_candidates(self, query_key: str) -> Iterable[int]:
        """Keys holding every bigram of the legible parts (the first and last character too,
        when legible), of the very length when only '?' stands for what is missing."""
        anchored = f"^{query_key}$"
        fragments = [f for f in re.split(r"[?*]+", anchored) if len(f) >= 2]
        grams = set().union(*(qgrams(f, 2, padded=False) for f in fragments))
        ids = self._bigrams.containing_all(grams) if grams else np.arange(len(self.keys))
        if "*" not in query_key:
            ids = ids[self._lengths[ids] == len(query_key)]
        return ids.tolist()


def _within(text: str, segments: SegmentIndex, texts: np.ndarray, edits: int) -> list[int]:
    """Positions in *texts* of those 1 to *edits* edits from *text*, the nearest first."""
    candidates = segments.candidates(text, edits)
    if not len(candidates):
        return []
    found = process.extract(
        text, texts[candidates].tolist(), scorer=OSA.distance, score_cutoff=edits, limit=MAX_PRICED
    )
    return [int(candidates[position]) for _, distance, position in found if distance]


class PatternIndex:
    """Catalogue patterns by a few of the rarest trigrams of their longest fixed part: a key
    can only fit a pattern whose fixed part it contains, so only those are tried."""

    INDEXED_GRAMS = 2

    def __init__(self, patterned: Sequence[tuple[int, str]]) -> None:
        self._targets = [target for target, _ in patterned]
        self._patterns = [pattern for _, pattern in patterned]  # compiled when first tried
        fixed = [_longest_fixed_part(pattern) for _, pattern in patterned]
        everywhere = Counter(gram for part in fixed for gram in qgrams(part, 3, padded=False))
        chosen = [
            sorted(qgrams(part, 3, padded=False), key=lambda g: (everywhere[g], g))
            for part in fixed
        ]
        chosen = [grams[: self.INDEXED_GRAMS] for grams in chosen]
        self._required = np.array([len(grams) for grams in chosen], dtype=np.int32)
        self._grams = GramIndex(chosen)
        self._unindexed = [n for n, grams in enumerate(chosen) if not grams]

    def matching(self, text_key: str) -> Iterator[int]:
        """The targets whose pattern the key fits."""
        lists = [self._grams.postings(gram) for gram in qgrams(text_key, 3, padded=False)]
        found: list[int] = []
        if lists:
            ids, counts = np.unique(np.concatenate(lists), return_counts=True)
            found = [int(n) for n in ids[counts == self._required[ids]]]
        for number in sorted(found + self._unindexed):
            if compile_pattern(self._patterns[number]).fullmatch(text_key):
                yield self._targets[number]


def _longest_fixed_part(pattern: str) -> str:
    fragments = literal_fragments(pattern)
    return fragments[0] if fragments else ""


def _misread_hit(
    target: int, query: Reading, catalogue: Reading, catalogue_key: str, alignment: Alignment
) -> Hit:
    how, path = _combined(query, catalogue)
    plural = "s" * (alignment.edits > 1)
    detail = (
        f"'{query.key}' is {alignment.edits} edit{plural} from '{catalogue_key}': "
        f"{alignment.describe()}"
    )
    if how is not How.NORMALISED:
        detail += f"; {path}"
    cost = PATH_COST[how] + query.cost + alignment.cost
    return Hit(target, cost, alignment.how(), detail, alignment.edits)


def _combined(query: Reading, catalogue: Reading) -> tuple[How, str]:
    """How two readings met: say what the less plain of them did."""
    if query.how is not How.NORMALISED:
        return query.how, query.detail
    if catalogue.how is not How.NORMALISED:
        return catalogue.how, f"the catalogue text: {catalogue.detail}"
    return How.NORMALISED, query.detail


def _keep(hits: dict[int, Hit], hit: Hit) -> None:
    best = hits.get(hit.target)
    if best is None or hit.cost < best.cost:
        hits[hit.target] = hit
