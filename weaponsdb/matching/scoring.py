"""Ranking entries: the hits of several observed markings combined, then the other evidence,
then scores that are probabilities.

Each observed marking contributes its best hit on an entry, as a cost from the error model
(about -ln of how likely the marking is a reading of the entry's text); the costs of several
markings add up, and a marking the entry does not explain costs what the marking would cost
as no entry's at all, and a little more. Category, calibre, country and features seen then
raise or lower an entry's likelihood, each saying why. The score of each candidate is its
posterior probability among every entry that was hit and "none of them": the observed text
being something the catalogue does not hold, whose likelihood grows as the text holds less to
go on, or a variant it lacks of an entry that was hit (Type 56 where it holds Type 58: the
characters a reading took as misread read right), priced by the error model. A temperature
and the "none" cost are fitted on held-out benchmark queries (benchmarks/calibrate.py, stored
in learned.json). Nothing here touches the database: the
matcher hands in the hits and the entries' facts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, lru_cache

from rapidfuzz import fuzz

from weaponsdb.matching.error_model import COSTS, learned
from weaponsdb.matching.explanations import Explained, Explanation
from weaponsdb.matching.index import legible
from weaponsdb.matching.normalise import readings

CALIBRE_TOLERANCE_MM = 0.5
FEATURE_AGREEMENT = 75  # rapidfuzz token_set_ratio, 0–100, for a seen feature to count
# Below this score the first candidate is no confident match: still listed, but the answer
# says so. Scores are calibrated probabilities, so this is "right at least 4 times in 5".
CONFIDENT_SCORE = 0.8
# A variant the catalogue lacks at least this likely is named in an answer's explanation.
LACKED_VARIANT_SAID = 0.1
# (raise, lower) costs, hand-tuned, in the error model's units (about -ln of a likelihood
# ratio): a raise takes its cost off an entry's, a lower adds its cost. A calibre that agrees
# weighs about as much as a likely misreading and a half: few entries share one.
EVIDENCE_COSTS = {
    "category": (1.0, 1.0),
    "calibre_mm": (1.5, 1.5),
    "country": (0.7, 0.7),
    "features": (0.5, 0.0),
}


class Effect(StrEnum):
    RAISED = "raised"
    LOWERED = "lowered"
    NEUTRAL = "neutral"


@dataclass(slots=True)  # not frozen, for speed (see index.Hit)
class MarkingMatch(Explained):
    """How one observed marking met one catalogue text of the entry."""

    observed: str
    matched: str
    target_kind: str  # "marking", or the kind of name ("designation", "name", ...)
    explained: Explanation
    edits: int
    cost: float  # error model: about -ln of how likely the marking reads as the text
    # Its cost less that of the marking read right off a variant the catalogue lacks, which
    # differs from the text where the misreadings assumed it was misread (None: no
    # misreading could be such a difference).
    variant_saving: float | None = None

    @property
    def score(self) -> float:
        """How well this marking alone fits the text: 1 as written, less for each assumption."""
        return math.exp(-self.cost)


@dataclass(frozen=True)
class EvidenceNote:
    field: str
    effect: Effect
    reason: str


@dataclass(frozen=True)
class Evidence:
    """What the investigator saw besides the markings; None or empty: not given."""

    category: str | None = None
    calibre_mm: float | None = None
    country: str | None = None
    features: Sequence[str] = ()


@dataclass(frozen=True)
class EntryFacts:
    id: int
    slug: str
    name: str
    category: str | None
    calibre_mm: float | None
    country: str | None
    features: Sequence[str] = ()
    photos: Sequence[str] = ()  # sha256 of the entry's reference photos, first few


@dataclass(frozen=True)
class Candidate:
    entry: EntryFacts
    score: float  # the probability that this is the entry, given what was observed
    matches: list[MarkingMatch]
    unmatched: list[str]
    evidence: list[EvidenceNote] = field(default_factory=list)
    cost: float = 0.0  # of its markings by the error model; breaks ties in score
    # The probability that the item is instead a variant of this entry that the catalogue
    # lacks (part of "none of them"; only the likeliest such variant is weighed).
    lacked_variant: float = 0.0


@dataclass(frozen=True)
class Calibration:
    """Fitted on held-out benchmark queries by benchmarks/calibrate.py."""

    temperature: float
    none_base: float
    none_per_character: float

    def none_cost(self, observed: str) -> float:
        """The cost at which an observed marking is as likely to be no entry's at all: the
        more legible characters, the less likely a chance match (a Hangul syllable counts as
        the letters of its romanisation)."""
        return self.none_base + self.none_per_character * information(observed)


@lru_cache(maxsize=4096)
def information(observed: str) -> int:
    return max((legible(r.key) for r in readings(observed, wildcards=True)), default=0)


@cache
def calibration() -> Calibration:
    fitted = learned().get("calibration") or {}
    return Calibration(
        temperature=fitted.get("temperature", 1.5),
        none_base=fitted.get("none_base", 1.0),
        none_per_character=fitted.get("none_per_character", 0.5),
    )


@dataclass(frozen=True)
class _Scored:
    """An entry as scored, before it is known whether it is among those listed."""

    entry: EntryFacts
    matches: list[MarkingMatch]
    evidence: list[EvidenceNote]
    cost: float
    log_likelihood: float


def rank(
    observed: Sequence[str],
    matches_by_entry: Mapping[int, list[MarkingMatch]],
    facts: Mapping[int, EntryFacts],
    evidence: Evidence,
    limit: int,
) -> list[Candidate]:
    """The best *limit* candidates, best first; equal scores by the error model's cost, then
    in slug order. Every entry hit is scored (each takes its share of the probability);
    only those listed are made candidates."""
    model = calibration()
    scored: list[_Scored] = []
    for entry_id, matches in matches_by_entry.items():
        entry = facts.get(entry_id)
        if entry is None:  # not published, or gone since the index was built
            continue
        cost = entry_cost(matches, observed, model)
        notes = list(evidence_notes(entry, evidence))
        log = -model.temperature * (cost + evidence_cost(notes))
        scored.append(_Scored(entry, matches, notes, round(cost, 6), log))
    none = -model.temperature * sum(model.none_cost(text) for text in observed)
    logs = [each.log_likelihood for each in scored]
    variant = _likeliest_variant(scored, observed, model)
    lacked: tuple[int, float] | None = None
    if variant is not None:
        at, cost = variant
        log = -model.temperature * cost
        lacked = at, round(posterior([*logs, log], none)[-1], 6)
        none = _log_sum(none, log)
    scores = [round(p, 6) for p in posterior(logs, none)]
    order = sorted(
        range(len(scored)), key=lambda n: (-scores[n], scored[n].cost, scored[n].entry.slug)
    )
    return [
        _candidate(scored[n], scores[n], observed, lacked[1] if lacked and lacked[0] == n else 0.0)
        for n in order[:limit]
    ]


def _candidate(
    scored: _Scored, score: float, observed: Sequence[str], lacked_variant: float
) -> Candidate:
    matched = {m.observed for m in scored.matches}
    return Candidate(
        entry=scored.entry,
        score=score,
        matches=sorted(scored.matches, key=lambda m: observed.index(m.observed)),
        unmatched=[o for o in observed if o not in matched],
        evidence=scored.evidence,
        cost=scored.cost,
        lacked_variant=lacked_variant,
    )


def entry_cost(
    matches: Sequence[MarkingMatch], observed: Sequence[str], model: Calibration | None = None
) -> float:
    """The error model's cost of the observed markings as this entry's: each marking's best
    hit, or, for a marking the entry does not explain, its cost as no entry's and a little
    more."""
    model = model or calibration()
    best = {m.observed: m.cost for m in matches}
    return sum(
        best.get(text, model.none_cost(text) + COSTS["unexplained_marking"]) for text in observed
    )


def variant_cost(
    matches: Sequence[MarkingMatch], observed: Sequence[str], model: Calibration
) -> float | None:
    """The cost of the observed markings as those of a variant of this entry that the
    catalogue lacks, read right where the entry's texts were taken as misread (Type 56 where
    the catalogue holds Type 58; None: no marking's misreadings could be a variant's
    difference). Its likelihood joins "none of them": the catalogue holds no such entry."""
    savings = [m.variant_saving for m in matches if m.variant_saving is not None]
    if not savings:
        return None
    return entry_cost(matches, observed, model) - sum(savings)


def _likeliest_variant(
    scored: Sequence[_Scored], observed: Sequence[str], model: Calibration
) -> tuple[int, float] | None:
    """Which entry the observed markings are likeliest a variant of that the catalogue
    lacks, and at what cost, evidence included (None: no entry's could be)."""
    costs = [
        (variant + evidence_cost(each.evidence), number)
        for number, each in enumerate(scored)
        if (variant := variant_cost(each.matches, observed, model)) is not None
    ]
    if not costs:
        return None
    cost, number = min(costs)
    return number, cost


def _log_sum(one: float, other: float) -> float:
    top = max(one, other)
    return top + math.log(math.exp(one - top) + math.exp(other - top))


def posterior(log_likelihoods: Sequence[float], none: float) -> list[float]:
    """Each likelihood's share of all of them and of "none of them"."""
    top = max([none, *log_likelihoods])
    weights = [math.exp(log - top) for log in log_likelihoods]
    total = sum(weights) + math.exp(none - top)
    return [weight / total for weight in weights]


def evidence_cost(notes: Iterable[EvidenceNote]) -> float:
    cost = 0.0
    for note in notes:
        raised, lowered = EVIDENCE_COSTS[note.field]
        if note.effect is Effect.RAISED:
            cost -= raised
        elif note.effect is Effect.LOWERED:
            cost += lowered
    return cost


def evidence_notes(entry: EntryFacts, evidence: Evidence) -> Iterable[EvidenceNote]:
    if evidence.category:
        yield _compared("category", evidence.category, entry.category)
    if evidence.calibre_mm is not None:
        yield _calibre(evidence.calibre_mm, entry.calibre_mm)
    if evidence.country:
        yield _compared("country", evidence.country.upper(), entry.country)
    for seen in evidence.features:
        yield _feature(seen, entry.features)


def _compared(name: str, seen: str, catalogued: str | None) -> EvidenceNote:
    if catalogued is None:
        return EvidenceNote(name, Effect.NEUTRAL, f"the catalogue gives no {name} for this entry")
    if seen == catalogued:
        return EvidenceNote(name, Effect.RAISED, f"{name} {seen} agrees with the catalogue")
    return EvidenceNote(name, Effect.LOWERED, f"{name} {seen} seen; the catalogue has {catalogued}")


def _calibre(seen: float, catalogued: float | None) -> EvidenceNote:
    if catalogued is None:
        return EvidenceNote(
            "calibre_mm", Effect.NEUTRAL, "the catalogue gives no calibre for this entry"
        )
    if abs(seen - catalogued) <= CALIBRE_TOLERANCE_MM:
        return EvidenceNote(
            "calibre_mm",
            Effect.RAISED,
            f"{seen:g} mm agrees with the catalogue's {catalogued:g} mm",
        )
    return EvidenceNote(
        "calibre_mm", Effect.LOWERED, f"{seen:g} mm seen; the catalogue has {catalogued:g} mm"
    )


def _feature(seen: str, catalogued: Sequence[str]) -> EvidenceNote:
    scored = [(fuzz.token_set_ratio(seen.casefold(), f.casefold()), f) for f in catalogued]
    best, described = max(scored, default=(0.0, ""))
    if best >= FEATURE_AGREEMENT:
        return EvidenceNote("features", Effect.RAISED, f"'{seen}' agrees with '{described}'")
    return EvidenceNote("features", Effect.NEUTRAL, f"no catalogued feature like '{seen}'")
