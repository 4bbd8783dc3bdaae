"""One generation of the published catalogue, indexed: every marking and name read from the
database into a MatchIndex, beside the facts ranking needs of each entry, and brought up to a
later generation by an overlay of the entries changed since (the change log of migration
0005), so that a match reads nothing but the generation counter from the database."""

from __future__ import annotations

import gc
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from weaponsdb import models
from weaponsdb.matching import saved
from weaponsdb.matching.construct import collector_paused
from weaponsdb.matching.index import MatchIndex, Target
from weaponsdb.matching.scoring import EntryFacts, MarkingMatch
from weaponsdb.matching.searching import Layer, best_in_layers
from weaponsdb.vocab import Status

LOG = logging.getLogger("weaponsdb.matching")
PHOTOS_SHOWN = 3
# Texts of each kind read from the database for a match while the index is built.
FALLBACK_TEXTS = 2000


@dataclass(frozen=True)
class CatalogueIndex:
    """The index as of *generation*: a base built at *base_generation*, and an overlay with
    the current targets of the entries changed since, which supersede the base's. Beside
    each, the facts ranking needs of its published entries, so that a match reads nothing
    but the generation from the database."""

    generation: int
    base: MatchIndex
    base_generation: int
    overlay: MatchIndex
    changed: frozenset[int]
    base_facts: dict[int, EntryFacts]
    overlay_facts: dict[int, EntryFacts]

    def facts(self, entry_ids: Iterable[int]) -> dict[int, EntryFacts]:
        """The facts of those of *entry_ids* that are published."""
        found: dict[int, EntryFacts] = {}
        for entry_id in entry_ids:
            facts = (
                self.overlay_facts.get(entry_id)
                if entry_id in self.changed
                else self.base_facts.get(entry_id)
            )
            if facts is not None:
                found[entry_id] = facts
        return found

    @property
    def texts(self) -> int:
        return len(self.base.targets) + len(self.overlay.targets)

    def best_per_entry(self, observed: str, suggest: int = 0) -> dict[int, MarkingMatch]:
        layers = [Layer(self.base, self.changed), Layer(self.overlay)]
        return best_in_layers(layers, observed, suggest)


def count_targets(session: Session) -> int:
    """Markings and names of the catalogue, published or not (enough to judge its size)."""
    return sum(
        session.scalar(select(func.count()).select_from(table)) or 0
        for table in (models.Marking, models.EntryName, models.Entry)
    )


def caught_up(
    session: Session, found: saved.SavedIndex, generation: int, most_changed: int | None = None
) -> CatalogueIndex | None:
    """A saved index brought to *generation* with an overlay of the entries changed since;
    None if everything may have changed, or more than *most_changed* entries did."""
    changed = changed_entries(session, found.generation)
    if changed is None or (most_changed is not None and len(changed) > most_changed):
        return None
    unchanged = [entry for entry in found.sample if entry not in changed]
    now = defaultdict(list)
    for target in load_targets(session, unchanged):
        now[target.entry_id].append(target)
    if any(saved.texts_digest(now[entry]) != found.sample[entry] for entry in unchanged):
        LOG.info("the match index file %s is of another catalogue: rebuilt", found.path)
        return None
    with collector_paused():
        caught = CatalogueIndex(
            generation,
            found.index,
            found.generation,
            MatchIndex(load_targets(session, changed)),
            changed,
            load_facts(session),
            load_facts(session, changed),
        )
        gc.freeze()  # the facts: many small objects that live as long as the index
    return caught


# Read before every match: compiled once, and run on the session's connection without the
# ORM's execution: 91-95 microseconds with the session opened and closed, 118-141 through the
# ORM (measured on SQLite).
_GENERATION = select(models.CatalogueGeneration.value)


def current_generation(session: Session) -> int:
    return session.connection().scalar(_GENERATION) or 0


def refreshed(session: Session, previous: CatalogueIndex | None, generation: int) -> CatalogueIndex:
    """*previous* brought to *generation*: a new overlay (however many entries changed: past
    the matcher's limit it rebuilds the whole index in the background), or, with no previous
    index or after a change to everything, a whole new index."""
    if previous is not None:
        changed = changed_entries(session, previous.base_generation)
        if changed is not None:
            overlay = MatchIndex(load_targets(session, changed))
            return replace(
                previous,
                generation=generation,
                overlay=overlay,
                changed=changed,
                overlay_facts=load_facts(session, changed),
            )
    # Read after the generation: the index holds at least every change up to it.
    with collector_paused():
        base = MatchIndex(load_targets(session))
        whole = CatalogueIndex(
            generation, base, generation, MatchIndex([]), frozenset(), load_facts(session), {}
        )
        # The index is millions of small objects that live as long as it does: moved out of
        # the collector's sight, a full collection no longer walks them all (0.3-0.8 s at
        # 100k markings, seconds at 1M, every few seconds under load). An index replaced
        # later is freed by reference counting (it holds no cycles). No collection first:
        # with collection paused the whole new index is in the youngest generation, so even
        # a young collection would walk all of it.
        gc.freeze()
    return whole


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


def load_targets(
    session: Session, entry_ids: Iterable[int] | None = None, fragments: Sequence[str] = ()
) -> list[Target]:
    """Every marking and name of the published entries (of those in *entry_ids* if given;
    with *fragments*, only texts containing one, at most FALLBACK_TEXTS of each kind), in a
    stable order."""
    published = _published(entry_ids)
    # SQLite's own LIKE ignores the case of ASCII letters, in its own code; ILIKE there calls
    # our lower() (db.py) in Python on every row, holding the global lock against the threads
    # answering requests: an ASCII fragment is looked for with LIKE.
    native = session.get_bind().dialect.name == "sqlite"

    def containing(column: InstrumentedAttribute[str], fragment: str) -> ColumnElement[bool]:
        # Fragments are letters and digits only: nothing in them is special to LIKE.
        if native and fragment.isascii():
            return column.like(f"%{fragment}%")
        return column.ilike(f"%{fragment}%")

    def having(column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
        if not fragments:
            return published
        return and_(published, or_(*(containing(column, f) for f in fragments)))

    limit = FALLBACK_TEXTS if fragments else None
    markings = session.execute(
        select(models.Marking.entry_id, models.Marking.text, models.Marking.pattern)
        .join(models.Entry)
        .where(having(models.Marking.text))
        .order_by(models.Marking.id)
        .limit(limit)
    )
    names = session.execute(
        select(models.EntryName.entry_id, models.EntryName.kind, models.EntryName.text)
        .join(models.Entry)
        .where(having(models.EntryName.text))
        .order_by(models.EntryName.id)
        .limit(limit)
    )
    entries = session.execute(
        select(models.Entry.id, models.Entry.name)
        .where(having(models.Entry.name))
        .order_by(models.Entry.id)
        .limit(limit)
    )
    return [
        *(Target(entry_id, "marking", text, pattern) for entry_id, text, pattern in markings),
        *(Target(entry_id, kind or "name", text) for entry_id, kind, text in names),
        *(Target(entry_id, "name", name) for entry_id, name in entries),
    ]


def _published(entry_ids: Iterable[int] | None) -> ColumnElement[bool]:
    """Published entries, of those in *entry_ids* if given."""
    published = models.Entry.status == Status.PUBLISHED.value
    if entry_ids is None:
        return published
    return and_(published, models.Entry.id.in_(sorted(entry_ids)))


def _by_entry(
    session: Session,
    part: type[models.Feature | models.Photo],
    column: InstrumentedAttribute[str],
    published: ColumnElement[bool],
) -> dict[int, list[str]]:
    """*column* of an entry part, listed per published entry in the order of their ids."""
    values: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(part.entry_id, column).join(models.Entry).where(published).order_by(part.id)
    )
    for entry_id, value in rows:
        values[entry_id].append(value)
    return values


def load_facts(session: Session, entry_ids: Iterable[int] | None = None) -> dict[int, EntryFacts]:
    """What scoring needs of each published entry (of those in *entry_ids* if given): three
    queries, however many entries."""
    published = _published(entry_ids)
    features = _by_entry(session, models.Feature, models.Feature.description, published)
    photos = _by_entry(session, models.Photo, models.Photo.sha256, published)
    entries = session.execute(
        select(
            models.Entry.id,
            models.Entry.slug,
            models.Entry.name,
            models.Entry.category,
            models.Entry.calibre_mm,
            models.Entry.country,
        ).where(published)
    )
    return {
        entry_id: EntryFacts(
            id=entry_id,
            slug=slug,
            name=name,
            category=category,
            calibre_mm=float(calibre) if calibre is not None else None,
            country=country,
            features=features.get(entry_id, []),
            photos=photos.get(entry_id, [])[:PHOTOS_SHOWN],
        )
        for entry_id, slug, name, category, calibre, country in entries
    }
