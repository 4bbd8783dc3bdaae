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

import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA, Editop, Levenshtein

from weaponsdb.matching.error_model import (
    COSTS,
    PATH_COST,
    Alignment,
    align,
    budget,
    coarse_key,
    costs_within,
    shape_key,
)
from weaponsdb.matching.explanations import Explained, Explanation, Misreading, Said, combined
from weaponsdb.matching.grams import Fingerprints, GramIndex, qgrams
from weaponsdb.matching.normalise import RULES, How, Reading, readings, separated_key
from weaponsdb.matching.patterns import compile_pattern
from weaponsdb.matching.segments import SegmentIndex
from weaponsdb.matching.tables import Array, Postings, TextTable, distinct_counts, numbers_of

LOG = logging.getLogger("weaponsdb.matching")

# An illegible run fits very many keys; past this many, the rest say nothing more.
MAX_WILDCARD_KEYS = 1000
# Shape keys within the allowed edits priced by the error model, the nearest first.
MAX_PRICED = 200
# Candidates measured as they are; more are first narrowed by what can be told of each at one
# look (Fingerprints.alike).
FEW_CANDIDATES = 64
# Suggestions beyond the budget (MatchIndex.suggest): keys sharing the most bigrams with the
# query, this many priced by the error model, found through at most this many postings
# (the rarest bigrams first: a bigram of a third of the keys tells little and costs most).
SUGGESTIONS_PRICED = 32
SUGGESTION_POSTINGS = 20_000
# A suggestion may cost up to this many times the budget: past that, a text is as far from
# the query as unrelated ones are (a five-character reading with four of them misread).
SUGGESTED_BEYOND = 2.0


@dataclass(slots=True)
class Target:
    """One catalogue text to match against: a marking or a name of an entry."""

    entry_id: int
    kind: str  # "marking" or a name kind such as "designation"
    text: str
    pattern: str | None = None


# Targets, hits, readings, explanations and marking matches are not frozen: a frozen dataclass sets
# each field through object.__setattr__, four times slower than a plain one, and a match
# makes hundreds of them (a twentieth of its time). Nothing changes one once made.
@dataclass(slots=True)
class Hit(Explained):
    target: int
    cost: float  # error model: about -ln of how likely the observed text is a reading of it
    explained: Explanation
    edits: int = 0
    # Its cost less the cost of a variant the catalogue lacks (Alignment.variant_saving).
    variant_saving: float | None = None

    @property
    def score(self) -> float:
        return math.exp(-self.cost)


@lru_cache(maxsize=100_000)
def catalogue_readings(text: str) -> tuple[Reading, ...]:
    """Readings of a catalogue text, remembered: the overlay of changed entries is rebuilt
    after every edit, mostly from the same texts."""
    return tuple(readings(text))


def legible(query_key: str) -> int:
    """Characters of the key that were read (not '?' or '*')."""
    return len(query_key.replace("?", "").replace("*", ""))


# The designator word as keys spell it, before a number: 'type' of 'type58', whatever was
# written ('58式', '58식', 'Тип 58', 'Type 58').
_DESIGNATOR_WORD = re.compile(rf"{re.escape(RULES['designators']['canonical'])}(?=[\d?*])")


def written(query_key: str) -> int:
    """Legible characters as written, what the budget and the edits follow: the designator
    word counts as one, whichever word and script it was written in, not as the four
    letters of the key's 'type' ('5528式М' is six characters, not the nine of 'type5528m',
    and gets the budget of six)."""
    return legible(_DESIGNATOR_WORD.sub("t", query_key))


def allowed_edits(query_key: str) -> int:
    """Arbitrary edits searched for (likely misreadings are found through shape keys
    whatever their number): two in a marking of seven characters or more, one in a shorter
    one, none in a two-character one: two changes to a five-character designation make
    another one."""
    return _edits_for(written(query_key))


def _edits_for(legible_count: int) -> int:
    return 0 if legible_count <= 2 else 1 if legible_count <= 6 else 2


def edits_for_lost_character(query_key: str) -> int:
    """Arbitrary edits searched for among keys longer than the query: the count follows the
    characters as written, so a reading that lost one (six legible characters of a seven-
    character designation) keeps the edits of the text it was read off, the lost character
    being one of them."""
    return _edits_for(written(query_key) + 1)


HOWS = list(How)


class Targets:
    """The catalogue texts of an index, by number, as Target."""

    def __init__(self, arrays: Mapping[str, Array]) -> None:
        self.entries = arrays["targets.entry"]
        self._entry_of = numbers_of(self.entries)
        self._kinds = TextTable.from_arrays(arrays, "kinds")
        self._kind_of = numbers_of(arrays["targets.kind"])
        self._texts = TextTable.from_arrays(arrays, "targets.text")
        self.patterns = TextTable.from_arrays(arrays, "targets.pattern")

    @staticmethod
    def arrays(targets: Sequence[Target]) -> dict[str, Array]:
        kinds = sorted({target.kind for target in targets})
        kind_numbers = {kind: number for number, kind in enumerate(kinds)}
        return {
            "targets.entry": np.fromiter(
                (t.entry_id for t in targets), dtype=np.int64, count=len(targets)
            ),
            "targets.kind": np.fromiter(
                (kind_numbers[t.kind] for t in targets), dtype=np.int16, count=len(targets)
            ),
            **TextTable.of(kinds).arrays("kinds"),
            **TextTable.of([t.text for t in targets]).arrays("targets.text"),
            **TextTable.of([t.pattern or "" for t in targets]).arrays("targets.pattern"),
        }

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, number: int) -> Target:
        return Target(
            self._entry_of[number],
            self._kinds[self._kind_of[number]],
            self._texts[number],
            self.patterns[number] or None,
        )

    def text(self, number: int) -> str:
        return self._texts[number]

    def kind(self, number: int) -> str:
        return self._kinds[self._kind_of[number]]

    def entry(self, number: int) -> int:
        return int(self._entry_of[number])

    def __iter__(self) -> Iterator[Target]:
        return (self[number] for number in range(len(self)))


class MatchIndex:
    """Held in flat arrays (tables.py): built from targets, or from arrays a saved index
    file maps back (arrays(), from_arrays()); either answers the same."""

    def __init__(
        self, targets: Sequence[Target], progress: Callable[[int, int], None] | None = None
    ) -> None:
        """*progress*: told (texts read, of how many) as the build goes."""
        from weaponsdb.matching.construct import built_arrays  # it builds on this module

        self._install(built_arrays(targets, progress))

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array]) -> MatchIndex:
        index = cls.__new__(cls)
        index._install(arrays)
        return index

    def arrays(self) -> dict[str, Array]:
        return dict(self._arrays)

    def _install(self, arrays: Mapping[str, Array]) -> None:
        self._arrays = arrays
        self.targets = Targets(arrays)
        self.keys = TextTable.from_arrays(arrays, "keys")
        self._lengths = arrays["keys.length"]
        self._key_hits = Postings.from_arrays(arrays, "keys.hits")
        self._hit_how = arrays["keys.hits.how"]
        self._hit_detail = arrays["keys.hits.detail"]
        self._details = TextTable.from_arrays(arrays, "details")
        self.shapes = TextTable.from_arrays(arrays, "shapes")
        self._shape_keys = Postings.from_arrays(arrays, "shapes.keys")
        self._coarse = TextTable.from_arrays(arrays, "coarse")
        self._coarse_keys = Postings.from_arrays(arrays, "coarse.keys")
        self._shape_segments = SegmentIndex.from_arrays(arrays, "shape_segments")
        self._key_segments = SegmentIndex.from_arrays(arrays, "key_segments")
        self._bigrams = GramIndex.from_arrays(arrays, "bigrams")
        self._key_fingerprints = self._bigrams.fingerprints
        self._shape_fingerprints = Fingerprints.from_arrays(arrays, "shape_fingerprints")
        self._patterns = PatternIndex(arrays, self.targets.patterns)

    def search(self, observed: str, query: Reading, read_from: str | None = None) -> dict[int, Hit]:
        """Best hit per target for one reading of an observed marking (*read_from*: the
        part of it the reading is of, a span of a line; the whole by default)."""
        hits: dict[int, Hit] = {}
        if "?" in query.key or "*" in query.key:
            self._wildcard(query, hits)
            return hits
        key_id = self.keys.find(query.key)
        if key_id is not None:
            for target, reading in self._expand(key_id):
                how, detail = combined(query, reading)
                cost = PATH_COST[how] + query.cost
                if observed == self.targets.text(target):
                    # Whatever the reading assumed ('0-型' read as a lost character or a stray
                    # dash), the marking as written assumes nothing.
                    how, detail, cost = How.EXACT, "as written", PATH_COST[How.EXACT]
                _keep(hits, Hit(target, cost, Said(how, detail)))
        self._misreadings(query, hits, separated_key(read_from or observed, query.key))
        self._pattern_matches(query, hits)
        return hits

    def suggest(self, observed: str, query: Reading) -> dict[int, Hit]:
        """The catalogue keys nearest the query that share the most of its bigrams, each
        priced by the error model however far it is: suggestions when the search within the
        budget found few, marked as beyond it where they are. Found through the bigram
        index's rarest lists, not by a scan."""
        hits: dict[int, Hit] = {}
        if "?" in query.key or "*" in query.key:
            return hits
        allowed = budget(written(query.key)) - query.cost
        separated = separated_key(observed, query.key)
        for key_id in self._sharing_bigrams(query.key):
            catalogue_key = self.keys[key_id]
            if catalogue_key == query.key:
                continue
            if not costs_within(query.key, catalogue_key, SUGGESTED_BEYOND * allowed):
                continue  # as far from the query as an unrelated text
            alignment = align(query.key, catalogue_key)
            beyond = (alignment.cost, allowed) if alignment.cost > allowed else None
            for hit in self._misread_hits(
                key_id, catalogue_key, query, alignment, separated, beyond
            ):
                _keep(hits, hit)
        return hits

    def _sharing_bigrams(self, query_key: str) -> list[int]:
        """Keys sharing the most padded bigrams with *query_key*, at least a third of those
        looked up (one sharing fewer is no nearer the query than most keys are; at most
        SUGGESTIONS_PRICED, the most shared first)."""
        # Lists of one length in the bigrams' order, not a set's, whose order each process's
        # string hashing decides: the lists kept, so the suggestions, were not the same in
        # every worker.
        grams = sorted(qgrams(query_key, 2))
        lists = sorted((self._bigrams.postings(g) for g in grams), key=len)
        kept: list[Array] = []
        total = 0
        for ids in lists:
            if kept and total + len(ids) > SUGGESTION_POSTINGS:
                break
            kept.append(ids)
            total += len(ids)
        if not total:
            return []
        ids, shared = distinct_counts(np.concatenate(kept))
        enough = 3 * shared >= len(kept)
        ids, shared = ids[enough], shared[enough]
        most = np.argsort(-shared, kind="stable")[:SUGGESTIONS_PRICED]
        found: list[int] = ids[most].tolist()
        return found

    def _expand(self, key_id: int, key_text: str | None = None) -> Iterator[tuple[int, Reading]]:
        """The targets read as this key (*key_text*, if the caller has decoded it), and how
        each was (what a match explains)."""
        start, end = self._key_hits.span(key_id)
        key_text = self.keys[key_id] if key_text is None else key_text
        hows = self._hit_how[start:end].tolist()
        details = self._hit_detail[start:end].tolist()
        # Most targets of a key were read as it the same way: one Reading for each way.
        made: dict[tuple[int, int], Reading] = {}
        for target, how, detail in zip(
            self._key_hits.values[start:end].tolist(), hows, details, strict=True
        ):
            if (reading := made.get((how, detail))) is None:
                reading = made[how, detail] = Reading(key_text, HOWS[how], self._details[detail])
            yield target, reading

    def _misreadings(self, query: Reading, hits: dict[int, Hit], separated: str | None) -> None:
        """Catalogue keys the query may be a misreading of, within the budget (*separated*:
        the query's key with its separators, when it reads the text letter for letter)."""
        allowed = budget(written(query.key)) - query.cost
        self._priced(query, self._near_keys(query), allowed, hits, separated)
        # Only when nothing is as near as one arbitrary misreading: a search of two edits is
        # the slowest there is in a big catalogue, and what it finds would rank below that.
        if min((hit.cost for hit in hits.values()), default=math.inf) > COSTS["substitution"]:
            self._priced(query, self._lost_character_keys(query), allowed, hits, separated)

    def _priced(
        self,
        query: Reading,
        key_ids: Iterable[int],
        allowed: float,
        hits: dict[int, Hit],
        separated: str | None = None,
    ) -> None:
        # A key is found by several routes (its shape, its coarse shape); decoded all at once.
        distinct = list(dict.fromkeys(key_ids))
        texts = self.keys.many(np.array(distinct, dtype=np.int64))
        for key_id, catalogue_key in zip(distinct, texts, strict=True):
            if catalogue_key == query.key or not costs_within(query.key, catalogue_key, allowed):
                continue
            alignment = align(query.key, catalogue_key)
            for hit in self._misread_hits(key_id, catalogue_key, query, alignment, separated):
                _keep(hits, hit)

    def _misread_hits(
        self,
        key_id: int,
        catalogue_key: str,
        query: Reading,
        alignment: Alignment,
        separated: str | None,
        beyond: tuple[float, float] | None = None,
    ) -> Iterator[Hit]:
        """A hit on each target read as this key (*catalogue_key*, already decoded by the
        caller), the query a misreading of it (*beyond*: a suggestion's cost and budget)."""
        saving = alignment.variant_saving()
        # Targets of one key often share their text (entries marked alike: a third of a
        # short marking's time at 1M markings was this worked out again for each).
        moved_for: dict[str, int] = {}
        for target, reading in self._expand(key_id, catalogue_key):
            moved = 0
            if separated is not None:
                text = self.targets.text(target)
                if (known := moved_for.get(text)) is None:
                    known = moved_for[text] = _separators_moved(separated, text, catalogue_key)
                moved = known
            how, _ = combined(query, reading)
            cost = PATH_COST[how] + query.cost + alignment.cost + COSTS["separator_moved"] * moved
            explained = Misreading(query, reading, catalogue_key, alignment, moved, beyond)
            yield Hit(target, cost, explained, alignment.edits, saving)

    def _lost_character_keys(self, query: Reading) -> Iterable[int]:
        """Keys longer than the query within the edits of the text it was read off, when a
        lost character gives that text more edits than the reading has (see
        edits_for_lost_character)."""
        lost = edits_for_lost_character(query.key)
        if not query.fuzzy or lost <= allowed_edits(query.key):
            return []
        longer = len(query.key) + 1
        return _within(
            query.key,
            self._key_segments,
            self.keys,
            lost,
            self._key_fingerprints,
            self._lengths,
            longer,
        )

    def _near_keys(self, query: Reading) -> Iterator[int]:
        """Keys of the query's shape and of its coarse shape, then keys within the allowed
        edits: one edit from the query's shape, or two from the query's key (the nearest
        first, at most MAX_PRICED)."""
        shape = shape_key(query.key)
        own = self.shapes.find(shape)
        if own is not None:
            yield from self._shape_keys.row(own).tolist()
        coarse = self._coarse.find(coarse_key(query.key))
        if coarse is not None:
            yield from self._coarse_keys.row(coarse).tolist()
        if not query.fuzzy:
            return
        edits = allowed_edits(query.key)
        if edits == 1:
            near = _within(
                shape, self._shape_segments, self.shapes, edits, self._shape_fingerprints
            )
            for shape_id in near:
                yield from self._shape_keys.row(shape_id).tolist()
        elif edits == 2:
            yield from _within(
                query.key, self._key_segments, self.keys, edits, self._key_fingerprints
            )

    def _pattern_matches(self, query: Reading, hits: dict[int, Hit]) -> None:
        for target in self._patterns.matching(query.key):
            detail = f"'{query.key}' fits the pattern '{self.targets.patterns[target]}'"
            cost = PATH_COST[How.PATTERN] + _own_path(query) + query.cost
            _keep(hits, Hit(target, cost, Said(How.PATTERN, detail)))

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
                + _own_path(query)
                + query.cost
                + COSTS["illegible_character"] * (query.key.count("?") + runs)
                + COSTS["illegible_run_character"] * max(0, illegible - query.key.count("?"))
            )
            detail = f"'{query.key}' fits '{catalogue_key}' ({legible_count} legible characters)"
            if query.how is not How.NORMALISED or query.cost:  # the reading assumed something
                detail += f"; {query.detail}"
            for target, _ in self._expand(key_id):
                _keep(hits, Hit(target, cost, Said(How.WILDCARD, detail)))

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


def _within(
    text: str,
    segments: SegmentIndex,
    texts: TextTable,
    edits: int,
    fingerprints: Fingerprints | None = None,
    lengths: Array | None = None,
    shortest: int = 0,
) -> list[int]:
    """Positions in *texts* of those 1 to *edits* edits from *text*, the nearest first (of
    *shortest* characters or more, by *lengths*, if given)."""
    candidates = segments.candidates(text, edits)
    if lengths is not None and len(candidates):
        candidates = candidates[lengths[candidates] >= shortest]
    if fingerprints is not None and len(candidates) > FEW_CANDIDATES:
        candidates = fingerprints.alike(text, candidates, edits)
    if not len(candidates):
        return []
    found = process.extract(
        text,
        texts.many(candidates),
        scorer=OSA.distance,
        score_cutoff=edits,
        limit=MAX_PRICED,
    )
    return [int(candidates[position]) for _, distance, position in found if distance]


class PatternIndex:
    """Catalogue patterns by a few of the rarest trigrams of their longest fixed part: a key
    can only fit a pattern whose fixed part it contains, so only those are tried (built by
    construct.py)."""

    INDEXED_GRAMS = 2

    def __init__(self, arrays: Mapping[str, Array], patterns: TextTable) -> None:
        self._targets = arrays["patterns.targets"]
        self._required = arrays["patterns.required"]
        self._unindexed: list[int] = arrays["patterns.unindexed"].tolist()
        self._grams = GramIndex.from_arrays(arrays, "patterns.grams")
        self._texts = patterns  # by target; compiled when first tried

    def matching(self, text_key: str) -> Iterator[int]:
        """The targets whose pattern the key fits."""
        lists = [self._grams.postings(gram) for gram in qgrams(text_key, 3, padded=False)]
        found: list[int] = []
        if any(len(ids) for ids in lists):
            ids, counts = distinct_counts(np.concatenate(lists))
            found = [int(n) for n in ids[counts == self._required[ids]]]
        for number in sorted(found + self._unindexed):
            target = int(self._targets[number])
            if compile_pattern(self._texts[target]).fullmatch(text_key):
                yield target


def _separators_moved(separated: str, text: str, catalogue_key: str) -> int:
    """Separators a misreading has elsewhere than the catalogue text: keys drop
    them, so '8-5式' is one lost character from 38-5式 and from 815式 alike, but only 815式
    needs a dash read where nothing stood. Each separator the alignment of the two texts as
    written adds, drops or puts for a character costs a little; texts whose keys are one (a
    dash only dropped) are no misreading and pay nothing."""
    theirs = separated_key(text, catalogue_key)
    if theirs is None:
        return 0
    ops = Levenshtein.editops(separated, theirs)
    return sum(_touches_separator(op, separated, theirs) for op in ops)


def _touches_separator(op: Editop, read: str, meant: str) -> bool:
    """Whether an edit adds, drops or replaces a separator ('-' of separated_key)."""
    read_side = read[op.src_pos] if op.tag in ("replace", "delete") else ""
    meant_side = meant[op.dest_pos] if op.tag in ("replace", "insert") else ""
    return "-" in read_side + meant_side


def _own_path(query: Reading) -> float:
    """What a query's own way of reading costs beside another way of matching: 'ازا-*'
    transliterated as 'z*' fits every key that starts with z, and is less likely than the
    text as written fitting its own."""
    return 0.0 if query.how is How.NORMALISED else PATH_COST[query.how]


def _keep(hits: dict[int, Hit], hit: Hit) -> None:
    best = hits.get(hit.target)
    if best is None or hit.cost < best.cost:
        hits[hit.target] = hit
