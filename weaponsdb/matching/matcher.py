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

import atexit
import gc
import logging
import re
import shutil
import tempfile
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from sqlalchemy import ColumnElement, Connection, Engine, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from weaponsdb import models
from weaponsdb.catalogue.read import EntryFilter
from weaponsdb.matching import saved
from weaponsdb.matching.construct import collector_paused
from weaponsdb.matching.error_model import COSTS, budget
from weaponsdb.matching.index import Hit, MatchIndex, Target, written
from weaponsdb.matching.normalise import Reading, fold, key
from weaponsdb.matching.observed import partial_readings, query_readings, span_readings, spans
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
    at_most,
    declared,
    printable,
)
from weaponsdb.vocab import Category, Status

LOG = logging.getLogger("weaponsdb.matching")
MAX_MARKINGS = 20
MAX_RESULTS = 50
# Entries re-ranked with their facts: the best this many by their markings alone.
RERANKED = 200
PHOTOS_SHOWN = 3
# Changed entries an overlay may hold before the whole index is rebuilt, in the background.
OVERLAY_LIMIT = 2000
# Texts (markings and names) past which a first index is built in the background, when it
# is saved to a file, matches meanwhile answered from the database; fewer are indexed at
# once (a few seconds at most).
BACKGROUND_ABOVE = 50_000
# Texts of each kind read from the database for a match while the index is built.
FALLBACK_TEXTS = 2000
# Entries a match lists at least, when the catalogue holds that many: an observed marking
# whose search within the budget hit fewer also gets the nearest others, as suggestions
# (MatchIndex.suggest), priced by the error model so that they rank, and score, below.
SUGGESTED = 5


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def _legible(text: str) -> str:
    # The declared pattern's own test, so the schema says exactly what is refused.
    if not _LETTER_OR_DIGIT.search(text):
        raise ValueError("has no legible letter or digit ('?' and '*' stand for illegible ones)")
    return text


ObservedMarking = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    at_most(200),
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
    # 'ready', or 'building' when the index was not there yet and the answer came from the
    # database's texts sharing a fragment with the query (misreadings are not searched).
    index_state: str = "ready"

    @property
    def confident(self) -> bool:
        """Whether the first candidate is likely enough to be the one (see CONFIDENT_SCORE);
        the candidates are listed either way."""
        return bool(self.candidates) and self.candidates[0].score >= CONFIDENT_SCORE


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
        found = {
            entry_id: match
            for entry_id, match in best_per_entry(self.base, observed, suggest).items()
            if entry_id not in self.changed
        }
        found.update(best_per_entry(self.overlay, observed, suggest))
        return found


class Matcher:
    """*index_file*: where the index is saved and loaded from (saved.py); without one, each
    process builds its own at the first match (into a private temporary file past
    *background_above* texts). A catalogue of more than *background_above* texts is indexed
    in the background when there is no usable file, by a process of its own (builder.py), and
    matches are answered from the database meanwhile."""

    def __init__(
        self,
        overlay_limit: int = OVERLAY_LIMIT,
        index_file: Path | None = None,
        background_above: int = BACKGROUND_ABOVE,
    ) -> None:
        self._lock = threading.Lock()
        self._current: CatalogueIndex | None = None
        self._building = False
        self._overlay_limit = overlay_limit
        self._index_file = index_file
        self._background_above = background_above
        self._rebuilding = threading.Lock()  # held while a whole index is built in the background
        self._rebuild: threading.Thread | None = None
        self._warming: threading.Thread | None = None
        self._private: Path | None = None  # without index_file, see _private_file()

    def index(self, session: Session) -> CatalogueIndex:
        """The index of the catalogue as it now stands, refreshed if the catalogue moved;
        waits for it to be built if it has to be."""
        found = self.ready_index(session, wait=True)
        assert found is not None, "waited for the index"
        return found

    def ready_index(self, session: Session, wait: bool = False) -> CatalogueIndex | None:
        """As index(), but None (without waiting) while a first index is built in the
        background."""
        generation = current_generation(session)
        current = self._current
        if current is None:
            current = self._first(session, generation, wait)
            if current is None:
                return None
        if current.generation != generation:
            with self._lock:  # one refresh at a time; the others wait and reuse it
                current = self._current
                assert current is not None, "an index, once made, stays"
                if current.generation != generation:
                    current = self._current = refreshed(session, current, generation)
        if len(current.changed) > self._overlay_limit:
            self._rebuild_in_background(session.get_bind())
        return current

    def _first(self, session: Session, generation: int, wait: bool) -> CatalogueIndex | None:
        """The first index of this process: from the file if there is a usable one; else
        built now, or in the background (answering from the database meanwhile) when the
        catalogue is big or another process is building the file."""
        with self._lock:
            if self._current is not None:
                return self._current
            path = self._index_file
            if path is None:
                if count_targets(session) <= self._background_above:
                    return self._built_now(session, generation, None)
                path = self._private_file(session.get_bind())
                if path is None:  # a database in memory: no other process could build it
                    return self._built_now(session, generation, None)
            # A file is written whole or not at all: loading it needs no lock, so every
            # worker loads at once; only building takes turns.
            found = saved.load(session, path)
            caught = caught_up(session, found, generation) if found is not None else None
            if caught is not None:
                self._current = caught
                return caught
            with saved.building(path, wait=False) as mine:
                if mine and count_targets(session) <= self._background_above:
                    return self._built_now(session, generation, path)
        thread = self._rebuild_in_background(session.get_bind())
        if not wait:
            return None
        if thread is not None:
            thread.join()
        with self._lock:
            if self._current is None:  # the build failed: then here, and say why
                return self._built_now(session, generation, path)
            return self._current

    def _built_now(self, session: Session, generation: int, path: Path | None) -> CatalogueIndex:
        self._building = True
        try:
            whole = refreshed(session, None, generation)
            if path is not None:
                whole = replace(
                    whole, base=saved.save_and_map(session, path, whole.base, generation)
                )
            self._current = whole
            return whole
        finally:
            self._building = False

    def _rebuild_in_background(self, bind: Engine | Connection) -> threading.Thread | None:
        """A whole new index, built beside the one in use (which keeps answering, its overlay
        growing meanwhile) and swapped in when done; once at a time. With an index file, a
        file another process has just built is loaded instead, and a new one is saved."""
        if not self._rebuilding.acquire(blocking=False):
            return self._rebuild

        def rebuild() -> None:
            try:
                with Session(bind) as session:
                    fresh = self._fresh(session)
                # Possibly older than the current one: the next match brings it up to date
                # with a small overlay.
                with self._lock:
                    self._current = fresh
            except Exception:  # the overlay goes on answering; the next match tries again
                LOG.warning("the match index could not be rebuilt", exc_info=True)
            finally:
                self._rebuilding.release()

        self._rebuild = threading.Thread(target=rebuild, name="match-index-rebuild", daemon=True)
        self._rebuild.start()
        return self._rebuild

    def _fresh(self, session: Session) -> CatalogueIndex:
        path = self._index_file or self._private_file(session.get_bind())
        if path is None:
            return refreshed(session, None, current_generation(session))
        with saved.building(path, wait=True):
            generation = current_generation(session)
            found = saved.load(session, path)
            if found is not None:
                caught = caught_up(session, found, generation, self._overlay_limit)
                if caught is not None:
                    return caught
            url = saved.reachable_url(session.get_bind())
            if url is not None:
                return self._built_elsewhere(session, url, path)
            whole = refreshed(session, None, generation)
            return replace(whole, base=saved.save_and_map(session, path, whole.base, generation))

    def _built_elsewhere(self, session: Session, url: str, path: Path) -> CatalogueIndex:
        """The file built by a process of its own, which keeps the build from holding
        Python's global lock against the threads answering requests; then mapped, and
        brought up to the changes committed meanwhile."""
        session.rollback()  # this read's snapshot would predate the file's generation
        saved.build_elsewhere(url, path)
        found = saved.load(session, path)
        if found is None:
            raise RuntimeError(f"the match index file {path} built was not usable")
        caught = caught_up(session, found, current_generation(session))
        if caught is None:
            raise RuntimeError(f"the match index file {path} could not be caught up")
        return caught

    def _private_file(self, bind: Engine | Connection) -> Path | None:
        """Without an index file: one of this process's own, in a temporary folder removed
        at exit, for a build in another process to hand its index over (the pages mapped
        stay after the file is removed); None for a database in memory."""
        if saved.reachable_url(bind) is None:
            return None
        if self._private is None:
            folder = tempfile.mkdtemp(prefix="weaponsdb-index-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            self._private = Path(folder) / "match.index"
        return self._private

    def warm(self, sessions: sessionmaker[Session]) -> threading.Thread:
        """Loads or builds the index in a background thread, so that the first match need
        not (with an index file and a big catalogue, the build goes on in a thread of its
        own, matches answered from the database meanwhile)."""

        def build() -> None:
            try:
                with sessions() as session:
                    self.ready_index(session)
            except Exception:  # the first match will try again, and say what fails
                LOG.warning("the match index could not be built at start", exc_info=True)

        thread = threading.Thread(target=build, name="match-index", daemon=True)
        thread.start()
        self._warming = thread
        return thread

    def settle(self, timeout: float) -> None:
        """Waits (up to *timeout* seconds each) for the threads that load or rebuild the
        index: a service shutting down must not leave them reading a database it is about to
        close (or that a caller is about to empty)."""
        for thread in (self._warming, self._rebuild):
            if thread is not None:
                thread.join(timeout)

    def index_now(self) -> CatalogueIndex | None:
        """The index in use, as it stands, without asking the database whether it moved."""
        return self._current

    def state(self) -> str:
        """For /healthz: whether matches can be answered without building the index first."""
        current = self._current
        if current is not None:
            return f"ready (generation {current.generation})"
        building = self._building or self._rebuilding.locked()
        return "building" if building else "not built"

    def match(self, session: Session, query: MatchQuery) -> MatchResult:
        index = self.ready_index(session)
        if index is None:
            return self.match_in_database(session, query)
        return self.match_in(index, query)

    def match_in_database(self, session: Session, query: MatchQuery) -> MatchResult:
        """While the index is built: the published texts sharing a fragment of three
        letters or digits with an observed marking, read from the database (at most
        FALLBACK_TEXTS of them), indexed on the spot and matched as usual."""
        generation = current_generation(session)
        fragments = sorted({f for text in query.markings for f in _fragments(text)})
        targets = load_targets(session, fragments=fragments) if fragments else []
        entry_ids = {target.entry_id for target in targets}
        small = CatalogueIndex(
            generation,
            MatchIndex(targets),
            generation,
            MatchIndex([]),
            frozenset(),
            load_facts(session, entry_ids) if entry_ids else {},
            {},
        )
        return replace(self.match_in(small, query), index_state="building")

    def match_in(self, index: CatalogueIndex, query: MatchQuery) -> MatchResult:
        """*query* matched against *index* (one generation of the catalogue)."""
        observed = list(dict.fromkeys(query.markings))
        matches: dict[int, list[MarkingMatch]] = defaultdict(list)
        for text in observed:
            for entry_id, match in index.best_per_entry(text, SUGGESTED).items():
                matches[entry_id].append(match)
        shortlist = sorted(matches, key=lambda e: entry_cost(matches[e], observed))[:RERANKED]
        evidence = Evidence(query.category, query.calibre_mm, query.country, query.features)
        facts = index.facts(shortlist)
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


def _fragments(text: str) -> list[str]:
    """The longest runs of letters or digits of a marking as written (at most three)."""
    runs = re.findall(r"[^\W_]{3,}", fold(text))
    return sorted(runs, key=len, reverse=True)[:3]


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


def best_per_entry(index: MatchIndex, observed: str, suggest: int = 0) -> dict[int, MarkingMatch]:
    """The best hit on each entry over every reading of one observed marking; a line of
    several tokens is also tried as its spans, while leaving tokens out could still beat the
    best hit of the whole; and the marking as the start or the end of a longer one, when
    nothing is as near as one arbitrary misreading (what it finds would rank below that).
    With *suggest*, when fewer entries than that were hit and none as near as one arbitrary
    misreading, the nearest others too, however far (suggestions, beyond the budget)."""
    best: dict[int, MarkingMatch] = {}
    readings = query_readings(observed)
    _search(index, observed, readings, best)
    for span in spans(observed):
        if span.cost >= _cheapest(best):
            break
        _search(index, observed, span_readings(span), best, read_from=span.text)
    if _cheapest(best) > COSTS["substitution"]:
        # Within the budget of what was read: the more is taken as illegible, the dearer.
        for reading in partial_readings(observed):
            _search(index, observed, [reading], best, budget(written(reading.key)))
    if len(best) < suggest and _cheapest(best) > COSTS["substitution"]:
        # Only when nothing is as near as one arbitrary misreading, as for a partial reading:
        # what a suggestion adds then ranks below it. Of the plainest reading, as written.
        # Priced as the search prices: where a suggestion is a cheaper reading of an entry
        # already hit (a key the search did not reach), it is that entry's best.
        hits = index.suggest(observed, readings[0]).values() if readings else ()
        _keep_best(index, observed, hits, best)
    return best


def _cheapest(best: dict[int, MarkingMatch]) -> float:
    return min((m.cost for m in best.values()), default=float("inf"))


def _search(
    index: MatchIndex,
    observed: str,
    found: list[Reading],
    best: dict[int, MarkingMatch],
    most: float = float("inf"),
    read_from: str | None = None,
) -> None:
    for reading in found:
        hits = index.search(observed, reading, read_from).values()
        _keep_best(index, observed, (hit for hit in hits if hit.cost <= most), best)


def _keep_best(
    index: MatchIndex, observed: str, hits: Iterable[Hit], best: dict[int, MarkingMatch]
) -> None:
    for hit in hits:
        target = index.targets[hit.target]
        current = best.get(target.entry_id)
        if current is None or hit.cost < current.cost:
            best[target.entry_id] = MarkingMatch(
                observed, target.text, target.kind, hit.how, hit.detail, hit.edits, hit.cost
            )


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
