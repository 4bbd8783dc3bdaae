"""The catalogue-backed matcher: a validated query in, ranked and explained entries out.

One Matcher per process keeps an index of the published catalogue's markings and names. The
database bumps a generation counter and logs the entries touched in the same transaction as
any change to them (migration 0005). Each match reads that one counter; when it has moved,
the entries changed since the big index was built are reloaded into a small overlay index
that supersedes them, so an edit is matchable from the first query after it commits, in
every process, without rebuilding the whole index. When the overlay grows past a share of
the catalogue, the whole index is rebuilt instead.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from weaponsdb import models
from weaponsdb.catalogue.read import EntryFilter
from weaponsdb.matching.index import MatchIndex, Target
from weaponsdb.matching.normalise import Reading, fold, key
from weaponsdb.matching.observed import query_readings, span_readings, spans
from weaponsdb.matching.scoring import (
    CONFIDENT_SCORE,
    Candidate,
    EntryFacts,
    Evidence,
    MarkingMatch,
    entry_cost,
    rank,
)
from weaponsdb.schemas import (
    LEGIBLE_PATTERN,
    CountryCode,
    Record,
    ShortText,
    declared,
    printable,
)
from weaponsdb.vocab import Category, Status

MAX_MARKINGS = 20
MAX_RESULTS = 50
# Entries re-ranked with their facts: the best this many by their markings alone.
RERANKED = 200
PHOTOS_SHOWN = 3
# Changed entries an overlay may hold before the whole index is rebuilt instead.
OVERLAY_LIMIT = 2000


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def _legible(text: str) -> str:
    # The declared pattern's own test, so the schema says exactly what is refused.
    if not _LETTER_OR_DIGIT.search(text):
        raise ValueError("has no legible letter or digit ('?' and '*' stand for illegible ones)")
    return text


ObservedMarking = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(printable),
    AfterValidator(_legible),
    declared(pattern=LEGIBLE_PATTERN),
]


class MatchQuery(Record):
    """Markings read off one item, and whatever else was seen on it."""

    markings: list[ObservedMarking] = Field(
        min_length=1,
        max_length=MAX_MARKINGS,
        description="The markings as read, in any script; '?' for one illegible character, "
        "'*' for an illegible run.",
        examples=[["방-122"], ["B?ng-1*"], ["F-7"], ["58式"]],
    )
    category: Category | None = None
    calibre_mm: float | None = Field(default=None, gt=0, le=1000, examples=[122])
    country: CountryCode | None = Field(default=None, examples=["KP"])
    features: list[ShortText] = Field(
        default=[], max_length=MAX_MARKINGS, description="Features seen, in plain words."
    )
    limit: int = Field(default=10, ge=1, le=MAX_RESULTS)


@dataclass(frozen=True)
class MatchResult:
    candidates: list[Candidate]
    generation: int  # of the catalogue the answer comes from
    indexed_texts: int

    @property
    def confident(self) -> bool:
        """Whether the first candidate is likely enough to be the one (see CONFIDENT_SCORE);
        the candidates are listed either way."""
        return bool(self.candidates) and self.candidates[0].score >= CONFIDENT_SCORE


@dataclass(frozen=True)
class CatalogueIndex:
    """The index as of *generation*: a base built at *base_generation*, and an overlay with
    the current targets of the entries changed since, which supersede the base's."""

    generation: int
    base: MatchIndex
    base_generation: int
    overlay: MatchIndex
    changed: frozenset[int]

    @property
    def texts(self) -> int:
        return len(self.base.targets) + len(self.overlay.targets)

    def best_per_entry(self, observed: str) -> dict[int, MarkingMatch]:
        found = {
            entry_id: match
            for entry_id, match in best_per_entry(self.base, observed).items()
            if entry_id not in self.changed
        }
        found.update(best_per_entry(self.overlay, observed))
        return found


class Matcher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: CatalogueIndex | None = None

    def index(self, session: Session) -> CatalogueIndex:
        """The index of the catalogue as it now stands, refreshed if the catalogue moved."""
        generation = current_generation(session)
        current = self._current
        if current is None or current.generation != generation:
            with self._lock:  # one refresh at a time; the others wait and reuse it
                current = self._current
                if current is None or current.generation != generation:
                    current = self._current = refreshed(session, current, generation)
        return current

    def match(self, session: Session, query: MatchQuery) -> MatchResult:
        index = self.index(session)
        observed = list(dict.fromkeys(query.markings))
        matches: dict[int, list[MarkingMatch]] = defaultdict(list)
        for text in observed:
            for entry_id, match in index.best_per_entry(text).items():
                matches[entry_id].append(match)
        shortlist = sorted(matches, key=lambda e: entry_cost(matches[e], observed))[:RERANKED]
        evidence = Evidence(query.category, query.calibre_mm, query.country, query.features)
        facts = load_facts(session, shortlist)
        chosen = {entry_id: matches[entry_id] for entry_id in shortlist}
        candidates = rank(observed, chosen, facts, evidence, query.limit)
        return MatchResult(candidates, index.generation, index.texts)

    def widened(self, session: Session, where: EntryFilter) -> EntryFilter:
        """*where* with the entries its marking text matches the way a match query would."""
        if not where.marking:
            return where
        return replace(where, marking_matches=frozenset(self.entry_ids(session, where.marking)))

    def entry_ids(self, session: Session, text: str) -> set[int]:
        """Every published entry one observed marking matches, however weakly."""
        if not key(fold(text)):
            return set()  # all illegible: it would fit everything
        return set(self.index(session).best_per_entry(text))


def current_generation(session: Session) -> int:
    return session.scalar(select(models.CatalogueGeneration.value)) or 0


def refreshed(session: Session, previous: CatalogueIndex | None, generation: int) -> CatalogueIndex:
    """*previous* brought to *generation*: a new overlay, or a whole new index."""
    if previous is not None:
        changed = changed_entries(session, previous.base_generation)
        if changed is not None and len(changed) <= OVERLAY_LIMIT:
            overlay = MatchIndex(load_targets(session, changed))
            return CatalogueIndex(
                generation, previous.base, previous.base_generation, overlay, changed
            )
    # Read after the generation: the index holds at least every change up to it.
    base = MatchIndex(load_targets(session))
    return CatalogueIndex(generation, base, generation, MatchIndex([]), frozenset())


def changed_entries(session: Session, since: int) -> frozenset[int] | None:
    """Entries changed after generation *since*; None if every entry may have."""
    touched = session.scalars(
        select(models.CatalogueChange.entry_id)
        .where(models.CatalogueChange.generation > since)
        .distinct()
    ).all()
    if None in touched:
        return None
    return frozenset(entry_id for entry_id in touched if entry_id is not None)


def best_per_entry(index: MatchIndex, observed: str) -> dict[int, MarkingMatch]:
    """The best hit on each entry over every reading of one observed marking; a line of
    several tokens is also tried as its spans, while leaving tokens out could still beat the
    best hit of the whole."""
    best: dict[int, MarkingMatch] = {}
    _search(index, observed, query_readings(observed), best)
    for span in spans(observed):
        cheapest = min((m.cost for m in best.values()), default=float("inf"))
        if span.cost >= cheapest:
            break
        _search(index, observed, span_readings(span), best)
    return best


def _search(
    index: MatchIndex, observed: str, found: list[Reading], best: dict[int, MarkingMatch]
) -> None:
    for reading in found:
        for hit in index.search(observed, reading).values():
            target = index.targets[hit.target]
            current = best.get(target.entry_id)
            if current is None or hit.cost < current.cost:
                best[target.entry_id] = MarkingMatch(
                    observed, target.text, target.kind, hit.how, hit.detail, hit.edits, hit.cost
                )


def load_targets(session: Session, entry_ids: Iterable[int] | None = None) -> list[Target]:
    """Every marking and name of the published entries (of those in *entry_ids* if given),
    in a stable order."""
    published = models.Entry.status == Status.PUBLISHED.value
    if entry_ids is not None:
        published = and_(published, models.Entry.id.in_(sorted(entry_ids)))
    markings = session.execute(
        select(models.Marking.entry_id, models.Marking.text, models.Marking.pattern)
        .join(models.Entry)
        .where(published)
        .order_by(models.Marking.id)
    )
    names = session.execute(
        select(models.EntryName.entry_id, models.EntryName.kind, models.EntryName.text)
        .join(models.Entry)
        .where(published)
        .order_by(models.EntryName.id)
    )
    entries = session.execute(
        select(models.Entry.id, models.Entry.name).where(published).order_by(models.Entry.id)
    )
    return [
        *(Target(entry_id, "marking", text, pattern) for entry_id, text, pattern in markings),
        *(Target(entry_id, kind or "name", text) for entry_id, kind, text in names),
        *(Target(entry_id, "name", name) for entry_id, name in entries),
    ]


def load_facts(session: Session, entry_ids: Iterable[int]) -> dict[int, EntryFacts]:
    """What scoring needs of each published entry among *entry_ids*."""
    rows = session.scalars(
        select(models.Entry)
        .where(models.Entry.id.in_(list(entry_ids)))
        .where(models.Entry.status == Status.PUBLISHED.value)
        .options(selectinload(models.Entry.features), selectinload(models.Entry.photos))
    )
    return {entry.id: _facts(entry) for entry in rows}


def _facts(entry: models.Entry) -> EntryFacts:
    return EntryFacts(
        id=entry.id,
        slug=entry.slug,
        name=entry.name,
        category=entry.category,
        calibre_mm=float(entry.calibre_mm) if entry.calibre_mm is not None else None,
        country=entry.country,
        features=[f.description for f in entry.features],
        photos=[p.sha256 for p in entry.photos][:PHOTOS_SHOWN],
    )
