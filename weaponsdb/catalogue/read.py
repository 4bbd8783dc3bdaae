"""Reading the catalogue: filtered, paginated listings, whole entries, sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from weaponsdb import models, schemas
from weaponsdb.catalogue import convert
from weaponsdb.catalogue.parts import CITED_BY, PARTS
from weaponsdb.db import INTEGER_MAX
from weaponsdb.errors import FieldError, InvalidInputError, NotFoundError
from weaponsdb.vocab import Category, IdentifierScheme, PhotoView, Status

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Catalogue calibres are given to 0.01 mm; an observer's "7.62" must find "7.62".
CALIBRE_TOLERANCE_MM = Decimal("0.05")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    next_cursor: str | None


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """A record and the number of the revision that holds it: what a change left
    (revisions.record_revision), or an entry as a read finds it (its version)."""

    record: T
    number: int


@dataclass(frozen=True)
class EntryFilter:
    category: Category | None = None
    country: str | None = None
    calibre_mm: Decimal | None = None
    text: str | None = None  # over the entry's name and all its names and aliases
    marking: str | None = None  # over the text of its markings
    # Entries the matcher finds for *marking* (transliterated, misread, wildcards, patterns).
    marking_matches: frozenset[int] = frozenset()
    status: Status | None = Status.PUBLISHED
    wikidata: str | None = None  # the entry's Wikidata item, Q…


def after_number(cursor: str) -> int:
    """The revision number a page of revisions continues after: its cursor, in digits."""
    if not cursor.isascii() or not cursor.isdigit():
        raise InvalidInputError(
            "The cursor is not one this service issued.",
            [FieldError("cursor", "not a revision number from a previous page's next_cursor")],
        )
    # Past the largest number a revision can have the page is simply empty.
    return min(int(cursor), INTEGER_MAX)


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInputError(
            f"limit must be between 1 and {MAX_PAGE_SIZE}.",
            [FieldError("limit", f"must be between 1 and {MAX_PAGE_SIZE}")],
        )


def entry_load_options() -> list[LoaderOption]:
    """Everything an entry record shows, loaded in a fixed number of queries: each part with
    its citations and the objects it refers to (parts.py)."""
    options: list[LoaderOption] = [selectinload(getattr(models.Entry, CITED_BY))]
    for part in PARTS:
        items = selectinload(getattr(models.Entry, part.name))
        if part.cited:
            options.append(items.selectinload(getattr(part.model, CITED_BY)))
        options += [items.selectinload(getattr(part.model, r.field)) for r in part.references]
    return options


def _filtered(query: Select[models.Entry], where: EntryFilter) -> Select[models.Entry]:
    if where.status is not None:
        query = query.where(models.Entry.status == where.status.value)
    if where.category is not None:
        query = query.where(models.Entry.category == where.category.value)
    if where.country is not None:
        query = query.where(models.Entry.country == where.country.upper())
    if where.calibre_mm is not None:
        query = query.where(
            models.Entry.calibre_mm.between(
                where.calibre_mm - CALIBRE_TOLERANCE_MM, where.calibre_mm + CALIBRE_TOLERANCE_MM
            )
        )
    if where.text:
        needle = where.text.strip().lower()
        named = select(models.EntryName.entry_id).where(
            func.lower(models.EntryName.text).contains(needle, autoescape=True)
        )
        query = query.where(
            or_(
                func.lower(models.Entry.name).contains(needle, autoescape=True),
                models.Entry.slug.contains(needle, autoescape=True),
                models.Entry.id.in_(named),
            )
        )
    if where.wikidata:
        identified = select(models.EntryIdentifier.entry_id).where(
            models.EntryIdentifier.scheme == IdentifierScheme.WIKIDATA.value,
            models.EntryIdentifier.value == where.wikidata,
        )
        query = query.where(models.Entry.id.in_(identified))
    if where.marking:
        marked = select(models.Marking.entry_id).where(
            func.lower(models.Marking.text).contains(where.marking.strip().lower(), autoescape=True)
        )
        query = query.where(
            or_(models.Entry.id.in_(marked), models.Entry.id.in_(sorted(where.marking_matches)))
        )
    return query


def entries_query(where: EntryFilter) -> Select[models.Entry]:
    """The entries *where* chooses, unordered: for readers that take them all (exports)."""
    return _filtered(select(models.Entry), where)


def list_entries(
    session: Session, where: EntryFilter, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
) -> Page[models.Entry]:
    """Entries in slug order; *cursor* continues after the last slug of the previous page."""
    check_limit(limit)
    base = _filtered(select(models.Entry), where)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    query = base.order_by(models.Entry.slug).limit(limit + 1)
    if cursor:
        query = query.where(models.Entry.slug > cursor)
    rows = session.scalars(
        query.options(selectinload(models.Entry.names), selectinload(models.Entry.markings))
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, total, rows[-1].slug if more else None)


def get_entry(session: Session, slug: str, fresh: bool = False) -> models.Entry:
    """The entry with everything its record shows. *fresh* replaces whatever the session
    remembers of it (after an UPDATE the session did not see, e.g. editing.begin_change)."""
    entry = session.scalar(
        select(models.Entry)
        .where(models.Entry.slug == slug)
        .options(*entry_load_options())
        .execution_options(populate_existing=fresh)
    )
    if entry is None:
        raise NotFoundError(f"No entry has the slug '{slug}'.")
    return entry


def entry_snapshot(session: Session, slug: str) -> Snapshot[schemas.EntryRecord]:
    """The entry's record as it now stands, and its version."""
    entry = get_entry(session, slug)
    return Snapshot(convert.entry_record(entry), entry.version)


def list_sources(
    session: Session, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
) -> Page[models.Source]:
    check_limit(limit)
    total = session.scalar(select(func.count(models.Source.id))) or 0
    query = (
        select(models.Source)
        .options(selectinload(models.Source.identifiers))
        .order_by(models.Source.key)
        .limit(limit + 1)
    )
    if cursor:
        query = query.where(models.Source.key > cursor)
    rows = session.scalars(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, total, rows[-1].key if more else None)


def get_source(session: Session, key: str) -> models.Source:
    source = session.scalar(select(models.Source).where(models.Source.key == key))
    if source is None:
        raise NotFoundError(f"No source has the key '{key}'.")
    return source


def sources_by_key(session: Session, keys: set[str]) -> list[models.Source]:
    return list(
        session.scalars(
            select(models.Source)
            .where(models.Source.key.in_(keys))
            .options(selectinload(models.Source.identifiers))
            .order_by(models.Source.key)
        )
    )


def producers_by_key(session: Session, keys: set[str]) -> list[models.Producer]:
    return list(
        session.scalars(
            select(models.Producer)
            .where(models.Producer.key.in_(keys))
            .options(selectinload(models.Producer.identifiers))
        )
    )


def entry_names(session: Session, slugs: set[str]) -> dict[str, str]:
    """The current name of each entry named by slug."""
    rows = session.execute(
        select(models.Entry.slug, models.Entry.name).where(models.Entry.slug.in_(slugs))
    )
    return dict(rows.tuples().all())


def countries(session: Session, status: Status | None = Status.PUBLISHED) -> list[str]:
    """The country codes that entries (of *status*) carry, sorted."""
    query = select(models.Entry.country).where(models.Entry.country.is_not(None)).distinct()
    if status is not None:
        query = query.where(models.Entry.status == status.value)
    return sorted(code for code in session.scalars(query) if code)


def related_to(session: Session, entry: models.Entry) -> list[models.Relation]:
    """The relations other entries have to *entry* (its variants, copies, ...)."""
    return list(
        session.scalars(
            select(models.Relation)
            .where(models.Relation.target_id == entry.id)
            .options(selectinload(models.Relation.entry))
            .order_by(models.Relation.kind, models.Relation.id)
        )
    )


def first_photos(session: Session, slugs: Sequence[str]) -> dict[str, models.Photo]:
    """One photo of each entry named that has any: a markings close-up when there is one."""
    rows = session.execute(
        select(models.Entry.slug, models.Photo)
        .join(models.Photo, models.Photo.entry_id == models.Entry.id)
        .where(models.Entry.slug.in_(slugs))
        .order_by(models.Photo.id)
    ).all()
    close_up = PhotoView.MARKINGS.value
    chosen: dict[str, models.Photo] = {}
    for slug, photo in rows:
        current = chosen.get(slug)
        if current is None or (photo.view == close_up and current.view != close_up):
            chosen[slug] = photo
    return chosen
