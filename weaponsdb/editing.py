"""Changing the catalogue: entries, their parts (as catalogue/parts.py declares them), and
sources.

Every change here runs in the caller's transaction. A change to an entry takes the entry's
next version atomically and loads it (begin_change), changes the rows, then records the
revision it makes (end_change), which is also the answer: one full load per write. Nothing
is deleted for good: entries are retracted, and a removed name, marking, feature or
citation stays in the revisions that showed it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Annotated, TypeVar

from pydantic import AfterValidator, StringConstraints, TypeAdapter, ValidationError, WithJsonSchema
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from weaponsdb import models, revisions, schemas
from weaponsdb.catalogue import convert, read
from weaponsdb.catalogue.parts import CITED_BY, Part
from weaponsdb.catalogue.read import Snapshot
from weaponsdb.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
    invalid,
)
from weaponsdb.revisions import ENTRIES, SOURCES
from weaponsdb.vocab import Status

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


# A change may draft or publish an entry; retraction has its own endpoint, with a reason.
_CHANGEABLE = [status.value for status in Status if status is not Status.RETRACTED]


class EntryChanges(schemas.EntryAttributes):
    """The entry's own attributes to change; attributes left out stay as they are, null
    clears one. The slug is permanent; retraction has its own endpoint."""

    status: Annotated[
        Status | None, WithJsonSchema({"anyOf": [{"enum": _CHANGEABLE}, {"type": "null"}]})
    ] = None


@dataclass(frozen=True)
class Change:
    """Who changes which entry, from which version (None: whatever is current), and why."""

    slug: str
    expected_version: int | None
    author: str
    note: str


EntrySnapshot = Snapshot[schemas.EntryRecord]


# --- one change to an entry ----------------------------------------------------------------


def begin_change(session: Session, change: Change) -> models.Entry:
    """Take the entry's next version, or fail if the expected version is not the current
    one; then load the entry, the one full load of the write. A retracted entry is refused.

    One conditional UPDATE does both checks, so two writers that read the same version
    cannot both succeed: the database serialises them (a row lock on PostgreSQL, the write
    lock on SQLite) and the second finds the version changed. Call it before anything else
    in the transaction, change the entry, then call end_change.
    """
    conditions = [models.Entry.slug == change.slug]
    if change.expected_version is not None:
        conditions.append(models.Entry.version == change.expected_version)
    taken = session.execute(
        update(models.Entry)
        .where(*conditions)
        .values(version=models.Entry.version + 1)
        .returning(models.Entry.id)
        .execution_options(synchronize_session=False)
    ).all()
    if len(taken) != 1:
        current = session.scalar(
            select(models.Entry.version).where(models.Entry.slug == change.slug)
        )
        if current is None:
            raise NotFoundError(f"No entry has the slug '{change.slug}'.")
        raise PreconditionFailedError(
            f"'{change.slug}' has changed: it is at version {current}, not "
            f"{change.expected_version}. Fetch it again, reapply your change and send it "
            "with the new ETag.",
            [FieldError(IF_MATCH, f"stale: the current version is {current}")],
        )
    entry = read.get_entry(session, change.slug, fresh=True)
    if entry.status == Status.RETRACTED.value:
        raise ConflictError(
            f"'{entry.slug}' is retracted; a retracted entry stays as it was retracted."
        )
    return entry


def end_change(session: Session, change: Change, entry: models.Entry) -> EntrySnapshot:
    """Write the change and record its revision; returns the entry as that revision holds
    it, which is what the write answers with."""
    _flush(session)
    return revisions.record_revision(session, ENTRIES, entry, change.author, change.note)


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as error:
        raise ConflictError(
            "The change conflicts with what is stored (a duplicate, or a relation to itself): "
            f"{error.orig}".splitlines()[0]
        ) from None


# --- references ----------------------------------------------------------------------------

KeyedT = TypeVar("KeyedT", models.Source, models.Producer, models.Entry)


def _references(session: Session, named: convert.Named) -> convert.References:
    """Only the sources, producers and entries these records name, one query a kind."""

    def rows(model: type[KeyedT], key: InstrumentedAttribute[str]) -> list[KeyedT]:
        keys = named.get(model)
        return list(session.scalars(select(model).where(key.in_(keys)))) if keys else []

    return convert.References(
        rows(models.Source, models.Source.key),
        rows(models.Producer, models.Producer.key),
        rows(models.Entry, models.Entry.slug),
    )


# --- entries -------------------------------------------------------------------------------


SERVICE_SET = ("created_at", "updated_at", "retracted_at", "retraction_reason", "photos")


def create_entry(
    session: Session, record: schemas.EntryRecord, author: str, note: str
) -> EntrySnapshot:
    given = record.model_dump(include=set(SERVICE_SET), exclude_defaults=True)
    if given:
        raise InvalidInputError(
            "Some fields of a new entry are set by the service, not by the request.",
            [FieldError(field, "set by the service; leave it out") for field in sorted(given)],
        )
    if session.scalar(select(models.Entry.id).where(models.Entry.slug == record.slug)):
        raise ConflictError(f"An entry with the slug '{record.slug}' exists; slugs are permanent.")
    refs = _references(session, convert.entry_named(record))
    entry = convert.entry_row(record, refs, ())
    convert.link_entries(entry, record, refs, ())
    session.add(entry)
    _flush(session)
    return revisions.record_revision(session, ENTRIES, entry, author, note)


def update_entry(session: Session, change: Change, changes: EntryChanges) -> EntrySnapshot:
    if changes.status is Status.RETRACTED:
        raise InvalidInputError(
            "Retract an entry with POST /v1/entries/{slug}/retraction, giving the reason.",
            [FieldError("status", "use the retraction endpoint to retract")],
        )
    entry = begin_change(session, change)
    try:
        merged = schemas.EntryRecord.model_validate(
            {**convert.entry_columns(entry), **changes.model_dump(exclude_unset=True)}
        )
    except ValidationError as error:
        raise invalid(error, "The changed entry would not be valid.") from None
    for column in changes.model_fields_set:
        setattr(entry, column, convert.stored(getattr(merged, column)))
    return end_change(session, change, entry)


def retract_entry(session: Session, change: Change, reason: str) -> EntrySnapshot:
    entry = begin_change(session, change)
    entry.status = Status.RETRACTED.value
    entry.retraction_reason = reason
    entry.retracted_at = dt.datetime.now(dt.UTC)
    return end_change(session, change, entry)


# --- an entry's parts, item by item (parts.COLLECTIONS) ------------------------------------


def _items(entry: models.Entry, part: Part, index: int | None = None) -> list[models.Base]:
    items: list[models.Base] = getattr(entry, part.name)
    if index is not None and not 0 <= index < len(items):
        raise NotFoundError(
            f"'{entry.slug}' has {len(items)} {part.name}; there is no {part.name}"
            f"[{index}] (positions count from 0)."
        )
    return items


def add_item(session: Session, change: Change, part: Part, record: schemas.Record) -> EntrySnapshot:
    entry = begin_change(session, change)
    refs = _references(session, convert.named_in(part, [record]))
    _items(entry, part).append(convert.row(part, record, refs, (), entry))
    return end_change(session, change, entry)


def replace_item(
    session: Session, change: Change, part: Part, index: int, record: schemas.Record
) -> EntrySnapshot:
    """Change an item in place, so it keeps its position (and photos keep their marking)."""
    entry = begin_change(session, change)
    item = _items(entry, part, index)[index]
    refs = _references(session, convert.named_in(part, [record]))
    for column, value in convert.values(part, record, refs, (), entry).items():
        setattr(item, column, value)
    if isinstance(record, schemas.Cited):
        setattr(item, CITED_BY, convert.citation_rows(record, refs, ()))
    return end_change(session, change, entry)


def remove_item(session: Session, change: Change, part: Part, index: int) -> EntrySnapshot:
    """Remove an item from the entry; the revisions before this one still show it."""
    entry = begin_change(session, change)
    items = _items(entry, part, index)
    items.remove(items[index])
    return end_change(session, change, entry)


# --- sources -------------------------------------------------------------------------------


def source_etag(record: schemas.SourceRecord) -> str:
    """Sources carry no version number; their ETag is a digest of what they say."""
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()[:32]


def create_source(
    session: Session, record: schemas.SourceRecord, author: str, note: str
) -> Snapshot[schemas.SourceRecord]:
    if session.scalar(select(models.Source.id).where(models.Source.key == record.key)):
        raise ConflictError(f"A source with the key '{record.key}' exists; keys are permanent.")
    row = convert.source_row(record)
    session.add(row)
    _flush(session)
    return revisions.record_revision(session, SOURCES, row, author, note)


def update_source(
    session: Session,
    key: str,
    expected_etag: str | None,
    record: schemas.SourceRecord,
    author: str,
    note: str,
) -> Snapshot[schemas.SourceRecord]:
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
    current = source_etag(convert.source_record(row))
    if expected_etag is not None and expected_etag != current:
        raise PreconditionFailedError(
            f"The source '{key}' has changed since you read it. Fetch it again, reapply your "
            "change and send it with the new ETag.",
            [FieldError(IF_MATCH, "stale: the source has changed")],
        )
    for column, value in record.model_dump(mode="json", exclude={"identifiers"}).items():
        setattr(row, column, value)
    convert.set_identifiers(row, record.identifiers)
    _flush(session)
    return revisions.record_revision(session, SOURCES, row, author, note)
