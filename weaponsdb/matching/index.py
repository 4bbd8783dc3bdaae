"""The candidate index: catalogue marking and designation texts, by every key they read as.

Exact readings are found by dictionary look-up, OCR confusions by a key with confusable
characters made one. For misread text, a partition index (segments.py) narrows a catalogue of
any size to the few keys that can be within the allowed edits, and only those are measured
with rapidfuzz (optimal string alignment: a swap of two neighbouring characters is one edit).
Wildcards and patterns are narrowed by q-gram indexes (grams.py).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from weaponsdb.matching.grams import GramIndex, Ids, qgrams
from weaponsdb.matching.normalise import How, Reading, ocr_key, readings
from weaponsdb.matching.patterns import compile_pattern, literal_fragments
from weaponsdb.matching.segments import SegmentIndex

# An illegible run fits very many keys; past this many, the rest say nothing more.
MAX_WILDCARD_KEYS = 1000
BASE_SCORE = {
    How.EXACT: 1.0,
    How.NORMALISED: 0.97,
    How.TRANSLITERATED: 0.93,
    How.LOOK_ALIKE: 0.93,
    How.PATTERN: 0.92,
    How.OCR: 0.85,
    How.WILDCARD: 0.85,
    How.FUZZY: 0.85,
}


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
    score: float
    how: How
    detail: str
    edits: int = 0


@lru_cache(maxsize=100_000)
def catalogue_readings(text: str) -> tuple[Reading, ...]:
    """Readings of a catalogue text, remembered: the overlay of changed entries is rebuilt
    after every edit, mostly from the same texts."""
    return tuple(readings(text))


def allowed_edits(query_key: str) -> int:
    """Two edits in a marking of seven characters or more, one in a shorter one, none in a
    two-character one: two changes to a five-character designation make another one."""
    legible = len(query_key.replace("?", "").replace("*", ""))
    return 0 if legible <= 2 else 1 if legible <= 6 else 2


class MatchIndex:
    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = list(targets)
        self.keys: list[str] = []
        self._key_ids: dict[str, int] = {}
        self._key_hits: list[list[tuple[int, Reading]]] = []
        self._ocr: dict[str, list[int]] = defaultdict(list)
        patterned: list[tuple[int, str]] = []
        for number, target in enumerate(self.targets):
            for reading in catalogue_readings(target.text):
                self._add_key(reading.key).append((number, reading))
            if target.pattern:
                patterned.append((number, target.pattern))
        self._key_array = np.array(self.keys, dtype=object)
        self._lengths = np.array([len(k) for k in self.keys], dtype=np.int32)
        self._segments = SegmentIndex(self.keys)
        self._bigrams = GramIndex(qgrams(k, 2) for k in self.keys)
        self._patterns = PatternIndex(patterned)

    def _add_key(self, text_key: str) -> list[tuple[int, Reading]]:
        key_id = self._key_ids.get(text_key)
        if key_id is None:
            key_id = self._key_ids[text_key] = len(self.keys)
            self.keys.append(text_key)
            self._key_hits.append([])
            self._ocr[ocr_key(text_key)].append(key_id)
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
                _keep(hits, Hit(target, BASE_SCORE[how], how, detail))
        self._ocr_confusions(query, hits)
        if query.fuzzy:
            self._fuzzy(query, hits)
        self._pattern_matches(query, hits)
        return hits

    def _expand(self, key_id: int) -> Iterable[int]:
        return (target for target, _ in self._key_hits[key_id])

    def _ocr_confusions(self, query: Reading, hits: dict[int, Hit]) -> None:
        for key_id in self._ocr.get(ocr_key(query.key), []):
            catalogue_key = self.keys[key_id]
            if catalogue_key == query.key:
                continue
            changed = sum(a != b for a, b in zip(catalogue_key, query.key, strict=False))
            score = BASE_SCORE[How.OCR] - 0.03 * max(0, changed - 1)
            plural = "s" * (changed > 1)
            detail = (
                f"'{query.key}' read as '{catalogue_key}' ({changed} confusable character{plural})"
            )
            for target in self._expand(key_id):
                _keep(hits, Hit(target, score, How.OCR, detail))

    def _fuzzy(self, query: Reading, hits: dict[int, Hit]) -> None:
        edits = allowed_edits(query.key)
        if edits == 0:
            return
        candidates = self._candidates(query.key, edits)
        if not len(candidates):
            return
        found = process.extract(
            query.key,
            self._key_array[candidates].tolist(),
            scorer=OSA.distance,
            score_cutoff=edits,
            limit=None,
        )
        for catalogue_key, distance, position in found:
            if distance == 0:
                continue
            longest = max(len(query.key), len(catalogue_key))
            score = BASE_SCORE[How.FUZZY] * (1 - distance / longest)
            plural = "s" * (distance > 1)
            detail = f"'{query.key}' is {distance} edit{plural} from '{catalogue_key}'"
            for target in self._expand(int(candidates[position])):
                _keep(hits, Hit(target, score, How.FUZZY, detail, int(distance)))

    def _candidates(self, query_key: str, edits: int) -> Ids:
        """Keys that can be within *edits* of the query (see segments.py)."""
        return self._segments.candidates(query_key, edits)

    def _pattern_matches(self, query: Reading, hits: dict[int, Hit]) -> None:
        for target in self._patterns.matching(query.key):
            detail = f"'{query.key}' fits the pattern '{self.targets[target].pattern}'"
            _keep(hits, Hit(target, BASE_SCORE[How.PATTERN], How.PATTERN, detail))

    def _wildcard(self, query: Reading, hits: dict[int, Hit]) -> None:
        regex = re.compile(
            "".join("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in query.key)
        )
        legible = len(query.key) - query.key.count("?") - query.key.count("*")
        fitting = (k for k in self._wildcard_candidates(query.key) if regex.fullmatch(self.keys[k]))
        for key_id in islice(fitting, MAX_WILDCARD_KEYS):
            catalogue_key = self.keys[key_id]
            share = legible / max(len(catalogue_key), 1)
            score = BASE_SCORE[How.WILDCARD] * (0.5 + 0.5 * share)
            detail = f"'{query.key}' fits '{catalogue_key}' ({legible} legible characters)"
            for target in self._expand(key_id):
                _keep(hits, Hit(target, score, How.WILDCARD, detail))

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


def _combined(query: Reading, catalogue: Reading) -> tuple[How, str]:
    """How two readings met: say what the less plain of them did."""
    if query.how is not How.NORMALISED:
        return query.how, query.detail
    if catalogue.how is not How.NORMALISED:
        return catalogue.how, f"the catalogue text: {catalogue.detail}"
    return How.NORMALISED, query.detail


def _keep(hits: dict[int, Hit], hit: Hit) -> None:
    best = hits.get(hit.target)
    if best is None or hit.score > best.score:
        hits[hit.target] = hit
