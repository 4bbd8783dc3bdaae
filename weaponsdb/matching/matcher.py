"""The catalogue-backed matcher: a validated query in, ranked and explained entries out.

One Matcher per process keeps the index of the published catalogue (catalogue_index.py) and
its lifecycle: loaded from the index file or built, at once or in the background (answering
from the database meanwhile), brought up to each new catalogue generation by an overlay, and
rebuilt in the background when the overlay grows past a share of the catalogue. An edit is
matchable from the first query after it commits, in every process.
"""

from __future__ import annotations

import atexit
import logging
import re
import shutil
import tempfile
import threading
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from weaponsdb.catalogue.read import EntryFilter
from weaponsdb.matching import saved
from weaponsdb.matching.catalogue_index import (
    CatalogueIndex,
    caught_up,
    count_targets,
    current_generation,
    load_facts,
    load_targets,
    refreshed,
)
from weaponsdb.matching.index import MatchIndex
from weaponsdb.matching.normalise import fold, key
from weaponsdb.matching.scoring import (
    CONFIDENT_SCORE,
    Candidate,
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
from weaponsdb.vocab import Category

LOG = logging.getLogger("weaponsdb.matching")
MAX_MARKINGS = 20
MAX_RESULTS = 50
# Entries re-ranked with their facts: the best this many by their markings alone.
RERANKED = 200
# Changed entries an overlay may hold before the whole index is rebuilt, in the background.
OVERLAY_LIMIT = 2000
# Texts (markings and names) past which a first index is built in the background, when it
# is saved to a file, matches meanwhile answered from the database; fewer are indexed at
# once (a few seconds at most).
BACKGROUND_ABOVE = 50_000
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
        FALLBACK_TEXTS of each kind, catalogue_index.py), indexed on the spot and matched as
        usual."""
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
