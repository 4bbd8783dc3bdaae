"""The candidate index: catalogue marking and designation texts, by every key they read as.

Exact readings are found by dictionary look-up. For misread text, a trigram index narrows a
catalogue of any size to the few keys that share enough trigrams with the observed key to be
within the allowed edits (each edit destroys at most three trigrams), and only those are
measured with rapidfuzz.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from weaponsdb.matching.normalise import How, Reading, ocr_key, readings
from weaponsdb.matching.patterns import compile_pattern, literal_fragments

# A trigram this common narrows nothing; leaving it out only lowers the bar the others set.
FREQUENT_TRIGRAM = 20_000
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


def allowed_edits(query_key: str) -> int:
    """Two edits in a long marking, fewer in a short one, none in a two-character one."""
    legible = len(query_key.replace("?", "").replace("*", ""))
    return 0 if legible <= 2 else 1 if legible <= 4 else 2


def trigrams(text_key: str) -> set[str]:
    padded = f"^{text_key}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class MatchIndex:
    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = list(targets)
        self.keys: list[str] = []
        self._key_ids: dict[str, int] = {}
        self._key_hits: list[list[tuple[int, Reading]]] = []
        self._ocr: dict[str, list[int]] = defaultdict(list)
        self._patterns = PatternIndex()
        for number, target in enumerate(self.targets):
            for reading in readings(target.text):
                self._add_key(reading.key).append((number, reading))
            if target.pattern:
                self._patterns.add(number, target.pattern)
        self._lengths = np.fromiter(
            (len(k) for k in self.keys), dtype=np.int32, count=len(self.keys)
        )
        self._postings = self._build_postings()

    def _add_key(self, text_key: str) -> list[tuple[int, Reading]]:
        key_id = self._key_ids.get(text_key)
        if key_id is None:
            key_id = self._key_ids[text_key] = len(self.keys)
            self.keys.append(text_key)
            self._key_hits.append([])
            self._ocr[ocr_key(text_key)].append(key_id)
        return self._key_hits[key_id]

    def _build_postings(self) -> dict[str, npt.NDArray[np.int32]]:
        postings: dict[str, list[int]] = defaultdict(list)
        for key_id, text_key in enumerate(self.keys):
            for gram in trigrams(text_key):
                postings[gram].append(key_id)
        return {gram: np.array(ids, dtype=np.int32) for gram, ids in postings.items()}

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
        choices = {int(key_id): self.keys[key_id] for key_id in candidates}
        for _, distance, key_id in process.extract(
            query.key, choices, scorer=Levenshtein.distance, score_cutoff=edits, limit=None
        ):
            if distance == 0:
                continue
            longest = max(len(query.key), len(self.keys[key_id]))
            score = BASE_SCORE[How.FUZZY] * (1 - distance / longest)
            detail = (
                f"'{query.key}' is {distance} edit{'s' * (distance > 1)} from '{self.keys[key_id]}'"
            )
            for target in self._expand(key_id):
                _keep(hits, Hit(target, score, How.FUZZY, detail, int(distance)))

    def _candidates(self, query_key: str, edits: int) -> npt.NDArray[np.int32]:
        """Keys that can be within *edits* of the query: enough shared trigrams, near length."""
        grams = trigrams(query_key)
        lists = [self._postings[g] for g in grams if g in self._postings]
        useful = [ids for ids in lists if len(ids) <= FREQUENT_TRIGRAM]
        needed = len(grams) - 3 * edits - (len(lists) - len(useful))
        if needed > 0 and useful:
            ids, counts = np.unique(np.concatenate(useful), return_counts=True)
            ids = ids[counts >= needed]
        else:
            ids = np.arange(len(self.keys), dtype=np.int32)  # too short to narrow: all keys
        return ids[np.abs(self._lengths[ids] - len(query_key)) <= edits]

    def _pattern_matches(self, query: Reading, hits: dict[int, Hit]) -> None:
        for target in self._patterns.matching(query.key):
            detail = f"'{query.key}' fits the pattern '{self.targets[target].pattern}'"
            _keep(hits, Hit(target, BASE_SCORE[How.PATTERN], How.PATTERN, detail))

    def _wildcard(self, query: Reading, hits: dict[int, Hit]) -> None:
        regex = re.compile(
            "".join("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in query.key)
        )
        fragments = [f for f in re.split(r"[?*]+", query.key) if f]
        longest = max(fragments, key=len, default="")
        if len(longest) >= 3:
            grams = {longest[i : i + 3] for i in range(len(longest) - 2)}
            lists = [self._postings.get(g, np.empty(0, dtype=np.int32)) for g in grams]
            ids, counts = np.unique(np.concatenate(lists), return_counts=True)
            key_ids: Iterable[int] = (int(i) for i in ids[counts >= len(grams)])
        else:
            key_ids = range(len(self.keys))
        legible = sum(len(f) for f in fragments)
        for key_id in key_ids:
            catalogue_key = self.keys[key_id]
            if regex.fullmatch(catalogue_key):
                share = legible / max(len(catalogue_key), 1)
                score = BASE_SCORE[How.WILDCARD] * (0.5 + 0.5 * share)
                detail = f"'{query.key}' fits '{catalogue_key}' ({legible} legible characters)"
                for target in self._expand(key_id):
                    _keep(hits, Hit(target, score, How.WILDCARD, detail))


class PatternIndex:
    """Catalogue patterns by the trigrams of their longest fixed part: a key can only fit the
    patterns whose fixed part it contains, so only those regular expressions are tried."""

    def __init__(self) -> None:
        self._compiled: list[tuple[int, re.Pattern[str], int]] = []
        self._by_gram: dict[str, list[int]] = defaultdict(list)
        self._unindexed: list[int] = []  # no fixed part of three characters: always tried

    def add(self, target: int, pattern: str) -> None:
        number = len(self._compiled)
        fragments = literal_fragments(pattern)
        grams = _inner_trigrams(fragments[0]) if fragments else set()
        self._compiled.append((target, compile_pattern(pattern), len(grams)))
        for gram in grams:
            self._by_gram[gram].append(number)
        if not grams:
            self._unindexed.append(number)

    def matching(self, text_key: str) -> Iterator[int]:
        """The targets whose pattern the key fits."""
        shared: Counter[int] = Counter()
        for gram in _inner_trigrams(text_key):
            shared.update(self._by_gram.get(gram, ()))
        candidates = [n for n, count in shared.items() if count == self._compiled[n][2]]
        for number in sorted(candidates + self._unindexed):
            target, regex, _ = self._compiled[number]
            if regex.fullmatch(text_key):
                yield target


def _inner_trigrams(text_key: str) -> set[str]:
    return {text_key[i : i + 3] for i in range(len(text_key) - 2)}


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
