"""Changing the catalogue: entries, what is attached to them, and sources.

Every change here runs in the caller's transaction, takes the entry's next version
atomically (begin_change), and records the revision it makes (revisions.record_revision).
Nothing is deleted for good: entries are retracted, and a removed name, marking, feature or
citation stays in the revisions that showed it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, cast

from pydantic import AfterValidator, StringConstraints, TypeAdapter, ValidationError
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from weaponsdb import models, revisions, schemas, to_records, to_rows
from weaponsdb.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from weaponsdb.schemas import (
    CountryCode,
    Millimetres,
    ShortText,
    Text,
)
from weaponsdb.vocab import Category, Status

IF_MATCH = "If-Match"

ChangeNote = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=500),
    AfterValidator(schemas.printable),
]
_NOTE = TypeAdapter(ChangeNote)


def check_note(note: str | None, field: str = "note") -> str:
    """A change note: what was changed and why, 3 to 500 characters."""
    try:
        return _NOTE.validate_python(note if note is not None else "")
    except ValidationError as error:
        reason = error.errors(include_url=False)[0]["msg"]
        raise InvalidInputError(
            "Every change needs a short note saying what changed and why.",
            [FieldError(field, reason if note else "required: 3 to 500 characters")],
        ) from None


def validation_problem(error: ValidationError, message: str) -> InvalidInputError:
    """A Pydantic error as our own, naming fields the way the API does (markings[0].text)."""
    problems = []
    for item in error.errors(include_url=False):
        path = ""
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        problems.append(FieldError(path or "(body)", item["msg"]))
    return InvalidInputError(message, problems)


class EntryChanges(schemas.Record):
    """The entry's own attributes to change; attributes left out stay as they are, null
    clears one. The slug is permanent; retraction has its own endpoint."""

    name: ShortText | None = None
    category: Category | None = None
    calibre_mm: Millimetres | None = None
    calibre_designation: ShortText | None = None
    country: CountryCode | None = None
    family: ShortText | None = None
    description: Text | None = None
    status: Status | None = None


# --- versions ----------------------------------------------------------------------------


def begin_change(session: Session, slug: str, expected_version: int | None) -> models.Entry:
    """Take the entry's next version, or fail if *expected_version* is not the current one.

    One conditional UPDATE does both, so two writers that read the same version cannot both
    succeed: the database serialises them (a row lock on PostgreSQL, the write lock on
    SQLite) and the second finds the version changed. Call it before anything else in the
    transaction, then change the entry and call revisions.record_revision.
    """
    conditions = [models.Entry.slug == slug]
    if expected_version is not None:
        conditions.append(models.Entry.version == expected_version)
    result = cast(
        CursorResult[Any],
        session.execute(
            update(models.Entry)
            .where(*conditions)
            .values(version=models.Entry.version + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        current = session.scalar(select(models.Entry.version).where(models.Entry.slug == slug))
        if current is None:
            raise NotFoundError(f"No entry has the slug '{slug}'.")
        raise PreconditionFailedError(
            f"'{slug}' has changed: it is at version {current}, not {expected_version}. "
            "Fetch it again, reapply your change and send it with the new ETag.",
            [FieldError(IF_MATCH, f"stale: the current version is {current}")],
        )
    return revisions.load_entry(session, slug)


@contextmanager
def entry_change(
    session: Session, slug: str, expected_version: int | None, author: str, note: str
) -> Iterator[models.Entry]:
    """`with entry_change(...) as entry:` change *entry*; its new revision is recorded on
    exit. For changes made outside this module, e.g. attaching a photo."""
    entry = begin_change(session, slug, expected_version)
    yield entry
    revisions.record_revision(session, entry, author, note)


@dataclass(frozen=True)
class Change:
    """Who changes which entry, from which version (None: whatever is current), and why."""

    slug: str
    expected_version: int | None
    author: str
    note: str


@contextmanager
def _editing(session: Session, change: Change) -> Iterator[models.Entry]:
    with entry_change(
        session, change.slug, change.expected_version, change.author, change.note
    ) as entry:
        require_editable(entry)
        yield entry
        _flush(session)


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as error:
        raise ConflictError(
            "The change conflicts with what is stored (a duplicate, or a relation to itself): "
            f"{error.orig}".splitlines()[0]
        ) from None


def require_editable(entry: models.Entry) -> None:
    if entry.status == Status.RETRACTED.value:
        raise ConflictError(
            f"'{entry.slug}' is retracted; a retracted entry stays as it was retracted."
        )


# --- references --------------------------------------------------------------------------


def _references(
    session: Session,
    citations: Sequence[schemas.CitationRecord] = (),
    producers: Sequence[str] = (),
    targets: Sequence[str] = (),
) -> to_rows.References:
    """Only the sources, producers and entries these records name."""
    source_keys = {c.source for c in citations} | {c.via for c in citations if c.via}
    return to_rows.References(
        {
            s.key: s
            for s in session.scalars(
                select(models.Source).where(models.Source.key.in_(source_keys))
            )
        },
        {
            p.key: p
            for p in session.scalars(
                select(models.Producer).where(models.Producer.key.in_(producers))
            )
        },
        {
            e.slug: e
            for e in session.scalars(select(models.Entry).where(models.Entry.slug.in_(targets)))
        },
    )


@contextmanager
def _fields_relative(prefix: str) -> Iterator[None]:
    """to_rows names fields from a root we do not have here; name them from the body."""
    try:
        yield
    except InvalidInputError as error:
        error.errors = [
            FieldError(e.field.removeprefix(prefix) or "(body)", e.reason) for e in error.errors
        ]
        error.message = error.message.removeprefix(prefix)
        raise


# --- entries -----------------------------------------------------------------------------


SERVICE_SET = ("created_at", "updated_at", "retracted_at", "retraction_reason", "photos")


def create_entry(
    session: Session, record: schemas.EntryRecord, author: str, note: str
) -> models.Entry:
    given = record.model_dump(include=set(SERVICE_SET), exclude_defaults=True)
    if given:
        raise InvalidInputError(
            "Some fields of a new entry are set by the service, not by the request.",
            [FieldError(field, "set by the service; leave it out") for field in sorted(given)],
        )
    if session.scalar(select(models.Entry.id).where(models.Entry.slug == record.slug)):
        raise ConflictError(f"An entry with the slug '{record.slug}' exists; slugs are permanent.")
    if record.slug in {r.target for r in record.relations}:
        raise InvalidInputError(
            "An entry cannot be related to itself.",
            [FieldError("relations", "an entry cannot be related to itself")],
        )
    refs = _references(
        session,
        record.all_citations(),
        [p.producer for p in record.producers],
        [r.target for r in record.relations],
    )
    with _fields_relative("."):
        row = to_rows.entry(record, refs, "")
        row.relations = to_rows.relations_of(record, refs, "")
    session.add(row)
    _flush(session)
    revisions.record_revision(session, row, author, note)
    return revisions.load_entry(session, record.slug)


def update_entry(session: Session, change: Change, changes: EntryChanges) -> models.Entry:
    if changes.status is Status.RETRACTED:
        raise InvalidInputError(
            "Retract an entry with POST /v1/entries/{slug}/retraction, giving the reason.",
            [FieldError("status", "use the retraction endpoint to retract")],
        )
    with _editing(session, change) as entry:
        current = to_records.entry(entry).model_dump()
        try:
            merged = schemas.EntryRecord.model_validate(
                {**current, **changes.model_dump(exclude_unset=True)}
            )
        except ValidationError as error:
            raise validation_problem(error, "The changed entry would not be valid.") from None
        for column in changes.model_fields_set:
            value = getattr(merged, column)
            setattr(entry, column, value.value if isinstance(value, Status | Category) else value)
    return revisions.load_entry(session, change.slug)


def retract_entry(session: Session, change: Change, reason: str) -> models.Entry:
    with _editing(session, change) as entry:
        entry.status = Status.RETRACTED.value
        entry.retraction_reason = reason
        entry.retracted_at = dt.datetime.now(dt.UTC)
    return revisions.load_entry(session, change.slug)


# --- what is attached to entries ---------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    """A list attached to an entry that editors change item by item, by position."""

    name: str  # the Entry relationship, and the field of EntryRecord
    record_type: type[schemas.Record]
    build: Callable[[Any, to_rows.References], Any]
    prefix: str  # how to_rows names this record's own fields


def _citation(record: schemas.CitationRecord, refs: to_rows.References) -> models.Citation:
    return to_rows.citations([record], refs, "")[0]


COLLECTIONS = {
    c.name: c
    for c in (
        Collection("names", schemas.NameRecord, lambda r, refs: to_rows.name(r, refs, ""), "."),
        Collection(
            "features", schemas.FeatureRecord, lambda r, refs: to_rows.feature(r, refs, ""), "."
        ),
        Collection(
            "markings", schemas.MarkingRecord, lambda r, refs: to_rows.marking(r, refs, ""), "."
        ),
        Collection(
            "measurements",
            schemas.MeasurementRecord,
            lambda r, refs: to_rows.measurement(r, refs, ""),
            ".",
        ),
        Collection(
            "producers",
            schemas.ProducerLinkRecord,
            lambda r, refs: to_rows.producer_link(r, refs, ""),
            ".",
        ),
        Collection(
            "relations", schemas.RelationRecord, lambda r, refs: to_rows.relation(r, refs, ""), "."
        ),
        Collection(
            "instances", schemas.InstanceRecord, lambda r, refs: to_rows.instance(r, refs, ""), "."
        ),
        Collection("citations", schemas.CitationRecord, _citation, ".citations[0]."),
    )
}


def _build(session: Session, slug: str, collection: Collection, record: schemas.Record) -> Any:
    citations: list[schemas.CitationRecord] = (
        [record]
        if isinstance(record, schemas.CitationRecord)
        else list(cast(schemas.Cited, record).citations)
    )
    producers = [record.producer] if isinstance(record, schemas.ProducerLinkRecord) else []
    targets = [record.target] if isinstance(record, schemas.RelationRecord) else []
    if slug in targets:
        raise InvalidInputError(
            "An entry cannot be related to itself.",
            [FieldError("target", "an entry cannot be related to itself")],
        )
    refs = _references(session, citations, producers, targets)
    with _fields_relative(collection.prefix):
        return collection.build(record, refs)


def _item(entry: models.Entry, collection: Collection, index: int) -> tuple[list[Any], Any]:
    items: list[Any] = getattr(entry, collection.name)
    if not 0 <= index < len(items):
        raise NotFoundError(
            f"'{entry.slug}' has {len(items)} {collection.name}; there is no {collection.name}"
            f"[{index}] (positions count from 0)."
        )
    return items, items[index]


def add_item(
    session: Session, change: Change, collection: Collection, record: schemas.Record
) -> models.Entry:
    with _editing(session, change) as entry:
        getattr(entry, collection.name).append(_build(session, change.slug, collection, record))
    return revisions.load_entry(session, change.slug)


def replace_item(
    session: Session, change: Change, collection: Collection, index: int, record: schemas.Record
) -> models.Entry:
    """Change an item in place, so it keeps its position (and photos keep their marking)."""
    with _editing(session, change) as entry:
        _, old = _item(entry, collection, index)
        if isinstance(record, schemas.CitationRecord):
            new = _build(session, change.slug, collection, record)
        else:
            # The new item's columns only: citations built onto a row that never joins the
            # session would drag it in on flush.
            cited = cast(schemas.Cited, record)
            new = _build(
                session, change.slug, collection, cited.model_copy(update={"citations": []})
            )
            with _fields_relative("."):
                old.citations = to_rows.citations(
                    cited.citations, _references(session, cited.citations), ""
                )
        for field in type(record).model_fields:
            if field != "citations":
                setattr(old, field, getattr(new, field))
    return revisions.load_entry(session, change.slug)


def remove_item(
    session: Session, change: Change, collection: Collection, index: int
) -> models.Entry:
    """Remove an item from the entry; the revisions before this one still show it."""
    with _editing(session, change) as entry:
        items, item = _item(entry, collection, index)
        items.remove(item)
    return revisions.load_entry(session, change.slug)


# --- sources -----------------------------------------------------------------------------


def source_etag(record: schemas.SourceRecord) -> str:
    """Sources carry no version number; their ETag is a digest of what they say."""
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()[:32]


def create_source(
    session: Session, record: schemas.SourceRecord, author: str, note: str
) -> models.Source:
    if session.scalar(select(models.Source.id).where(models.Source.key == record.key)):
        raise ConflictError(f"A source with the key '{record.key}' exists; keys are permanent.")
    row = to_rows.source(record)
    session.add(row)
    _flush(session)
    revisions.record_source_revision(session, row, author, note)
    return row


def update_source(
    session: Session,
    key: str,
    expected_etag: str | None,
    record: schemas.SourceRecord,
    author: str,
    note: str,
) -> models.Source:
    """Replace what a source says; its earlier revisions keep what it said before."""
    if record.key != key:
        raise InvalidInputError(
            "A source's key is permanent.", [FieldError("key", f"must stay '{key}'")]
        )
    # A no-op write first takes the row's lock, so the ETag check below cannot race.
    session.execute(
        update(models.Source)
        .where(models.Source.key == key)
        .values(key=models.Source.key)
        .execution_options(synchronize_session=False)
    )
    row = session.scalar(
        select(models.Source)
        .where(models.Source.key == key)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFoundError(f"No source has the key '{key}'.")
    current = source_etag(to_records.source(row))
    if expected_etag is not None and expected_etag != current:
        raise PreconditionFailedError(
            f"The source '{key}' has changed since you read it. Fetch it again, reapply your "
            "change and send it with the new ETag.",
            [FieldError(IF_MATCH, "stale: the source has changed")],
        )
    for column, value in record.model_dump(mode="json").items():
        setattr(row, column, value)
    _flush(session)
    revisions.record_source_revision(session, row, author, note)
    return row
