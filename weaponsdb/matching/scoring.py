"""Ranking entries: the hits of several observed markings combined, then the other evidence.

Each observed marking contributes its best hit on an entry; independent hits combine as a
noisy OR (two markings that each fit an entry make it likelier than either alone), and an
entry that explains only some of the observed markings is held back a little. Category,
calibre, country and features seen then raise or lower the score, each saying why. Nothing
here touches the database: the matcher hands in the hits and the entries' facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rapidfuzz import fuzz

from weaponsdb.matching.normalise import How

CALIBRE_TOLERANCE_MM = 0.5
FEATURE_AGREEMENT = 75  # rapidfuzz token_set_ratio, 0–100, for a seen feature to count
UNEXPLAINED_PENALTY = 0.15  # the share of the score lost if no observed marking is explained
# (raise, lower) weights: a raise closes that share of the gap to 1, a lower removes that share.
EVIDENCE_WEIGHTS = {
    "category": (0.3, 0.4),
    "calibre_mm": (0.3, 0.5),
    "country": (0.2, 0.3),
    "features": (0.15, 0.0),
}


class Effect(StrEnum):
    RAISED = "raised"
    LOWERED = "lowered"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class MarkingMatch:
    """How one observed marking met one catalogue text of the entry."""

    observed: str
    matched: str
    target_kind: str  # "marking", or the kind of name ("designation", "name", ...)
    how: How
    detail: str
    edits: int
    score: float


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
    score: float
    matches: list[MarkingMatch]
    unmatched: list[str]
    evidence: list[EvidenceNote] = field(default_factory=list)


def rank(
    observed: Sequence[str],
    matches_by_entry: Mapping[int, list[MarkingMatch]],
    facts: Mapping[int, EntryFacts],
    evidence: Evidence,
    limit: int,
) -> list[Candidate]:
    """The best *limit* candidates, best first; equal scores in slug order."""
    candidates = []
    for entry_id, matches in matches_by_entry.items():
        entry = facts.get(entry_id)
        if entry is None:  # not published, or gone since the index was built
            continue
        score = marking_score(matches, len(observed))
        notes = list(evidence_notes(entry, evidence))
        candidates.append(
            Candidate(
                entry=entry,
                score=round(adjusted(score, notes), 4),
                matches=sorted(matches, key=lambda m: observed.index(m.observed)),
                unmatched=[o for o in observed if o not in {m.observed for m in matches}],
                evidence=notes,
            )
        )
    candidates.sort(key=lambda c: (-c.score, c.entry.slug))
    return candidates[:limit]


def marking_score(matches: Sequence[MarkingMatch], observed_count: int) -> float:
    """Noisy OR of the hits, scaled down by the share of observed markings left unexplained."""
    missing = 1.0
    for match in matches:
        missing *= 1.0 - match.score
    explained = len({m.observed for m in matches}) / observed_count
    return (1.0 - missing) * (1.0 - UNEXPLAINED_PENALTY * (1.0 - explained))


def adjusted(score: float, notes: Iterable[EvidenceNote]) -> float:
    for note in notes:
        raise_by, lower_by = EVIDENCE_WEIGHTS[note.field]
        if note.effect is Effect.RAISED:
            score += (1.0 - score) * raise_by
        elif note.effect is Effect.LOWERED:
            score *= 1.0 - lower_by
    return min(max(score, 0.0), 1.0)


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
