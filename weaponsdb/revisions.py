"""Immutable, numbered revisions of entries and of sources: each as it stood after a change.

Revision *n* is written in the same transaction as the change that made it, so the latest
revision always shows the thing as it is. Revisions are only ever inserted; nothing in
weaponsdb updates or deletes one. Entries and sources keep their history the same way; a
History says where each kind keeps it (ENTRIES, SOURCES).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import jsonpatch
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import LoaderOption

from weaponsdb import models, schemas
from weaponsdb.catalogue import bulk, convert, read
from weaponsdb.catalogue.read import Snapshot
from weaponsdb.errors import FieldError, InvalidInputError, NotFoundError

SEED_AUTHOR = "seed"
IMPORT_AUTHOR = "import"
MIGRATION_AUTHOR = "migration"

T = TypeVar("T")
RowT = TypeVar("RowT", models.Entry, models.Source)
RecordT = TypeVar("RecordT", schemas.EntryRecord, schemas.SourceRecord)
HistoryT = TypeVar("HistoryT", schemas.RevisionRecord, schemas.SourceRevisionRecord)


@dataclass(frozen=True)
class History(Generic[RowT, RecordT, HistoryT]):
    """Where one kind of thing keeps its revisions, and how it is snapshotted."""

    kind: str  # "entry" or "source": in messages, and the field of its revision records
    model: type[RowT]
    key: str  # the permanent key it is named by: slug or key
    revision: type[models.Snapshotted]
    owner: str  # the revision's column naming what it is a revision of
    record: type[RecordT]
    history_record: type[HistoryT]  # a revision in the interchange format
    document_field: str  # where a catalogue document holds these revisions
    to_record: Callable[[RowT], RecordT]
    load: Callable[[], list[LoaderOption]]  # what to_record needs loaded
    version: str | None = None  # the column numbering its revisions; else they count on


ENTRIES = History(
    "entry",
    models.Entry,
    "slug",
    models.Revision,
    "entry_id",
    schemas.EntryRecord,
    schemas.RevisionRecord,
    "revisions",
    convert.entry_record,
    read.entry_load_options,
    version="version",
)
SOURCES = History(
    "source",
    models.Source,
    "key",
    models.SourceRevision,
    "source_id",
    schemas.SourceRecord,
    schemas.SourceRevisionRecord,
    "source_revisions",
    convert.source_record,
    list,
)


def record_revision(
    session: Session,
    history: History[RowT, RecordT, HistoryT],
    row: RowT,
    author: str,
    note: str,
) -> Snapshot[RecordT]:
    """Snapshot *row*, as the caller's change left it, as its next revision; returns the
    record it snapshots, so that the write answers from it without reading again.

    Call it after any change to the thing or anything attached to it, in the same
    transaction: for an entry once its version is taken (editing.begin_change; 1 for a new
    one), for a source holding its row lock.
    """
    session.flush()
    number = (
        getattr(row, history.version)
        if history.version
        else (_latest_number(session, history, row.id) or 0) + 1
    )
    record = history.to_record(row)
    session.add(_revision(history, row.id, number, record, author, note, _now()))
    session.flush()
    return Snapshot(record, number)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _revision(
    history: History[RowT, RecordT, HistoryT],
    owner_id: int,
    number: int,
    record: schemas.Record,
    author: str,
    note: str,
    when: dt.datetime,
) -> models.Snapshotted:
    return history.revision(
        **_revision_values(history, owner_id, number, record, author, note, when)
    )


def _revision_values(
    history: History[RowT, RecordT, HistoryT],
    owner_id: int,
    number: int,
    record: schemas.Record,
    author: str,
    note: str,
    when: dt.datetime,
) -> dict[str, Any]:
    return {
        history.owner: owner_id,
        "number": number,
        "snapshot": record.model_dump(mode="json"),
        "author": author,
        "note": note,
        "created_at": when,
    }


def record_first_revisions(
    session: Session,
    history: History[RowT, RecordT, HistoryT],
    stored: Iterable[tuple[int, RecordT]],
    author: str,
    note: str,
) -> None:
    """Revision 1 of things just inserted in bulk, from their records as stored (their ids
    and records as bulk.insert_entries returns them), without loading them again."""
    now = _now()
    rows = [_revision_values(history, i, 1, record, author, note, now) for i, record in stored]
    for chunk in _chunks(rows):
        bulk.insert_plain(session, history.revision, chunk)


def record_initial_revisions(
    session: Session,
    history: History[RowT, RecordT, HistoryT],
    keys: Iterable[str],
    author: str,
    note: str,
) -> int:
    """Revision 1 of each of these that has none (new by seed or import, or older than
    revisions)."""
    session.flush()
    key = getattr(history.model, history.key)
    ids: list[int] = []
    for chunk in _chunks(sorted(keys)):
        ids += session.scalars(
            select(history.model.id).where(key.in_(chunk)).where(_no_revision(history))
        )
    return _record_first(session, history, ids, author, note)


def record_missing_initial_revisions(session: Session) -> int:
    """Revision 1 for every entry and source without one, e.g. those older than revisions."""
    note = "As it stood when revisions began."
    return sum(
        _record_first(
            session,
            history,
            list(session.scalars(select(history.model.id).where(_no_revision(history)))),
            MIGRATION_AUTHOR,
            note,
        )
        for history in (ENTRIES, SOURCES)
    )


# Rows loaded and snapshotted at a time: bounded IN lists (SQLite caps bound parameters) and
# memory, whatever the size of the catalogue.
CHUNK = 1000


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _no_revision(history: History[Any, Any, Any]) -> ColumnElement[bool]:
    """Rows without a revision: an anti-join (NOT EXISTS), which the planners run as one,
    where NOT IN compared every row with every revision on PostgreSQL without statistics."""
    owner = getattr(history.revision, history.owner)
    return ~exists().where(owner == history.model.id)


def _record_first(
    session: Session, history: History[Any, Any, Any], ids: list[int], author: str, note: str
) -> int:
    now = _now()
    for chunk in _chunks(ids):
        rows = session.scalars(
            select(history.model).where(history.model.id.in_(chunk)).options(*history.load())
        )
        for row in rows:
            session.add(_revision(history, row.id, 1, history.to_record(row), author, note, now))
        session.flush()
    return len(ids)


def _owner_id(session: Session, history: History[Any, Any, Any], key: str) -> int:
    owner_id: int | None = session.scalar(
        select(history.model.id).where(getattr(history.model, history.key) == key)
    )
    if owner_id is None:
        raise NotFoundError(f"No {history.kind} has the {history.key} '{key}'.")
    return owner_id


def _latest_number(session: Session, history: History[Any, Any, Any], owner_id: int) -> int | None:
    return session.scalar(
        select(func.max(history.revision.number)).where(
            getattr(history.revision, history.owner) == owner_id
        )
    )


def list_revisions(
    session: Session,
    history: History[Any, Any, Any],
    key: str,
    limit: int = read.DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> read.Page[models.Snapshotted]:
    """The revisions of one entry or source, oldest first, a page at a time."""
    read.check_limit(limit)
    owner_id = _owner_id(session, history, key)
    mine = getattr(history.revision, history.owner) == owner_id
    total = session.scalar(select(func.count()).where(mine)) or 0
    query = select(history.revision).where(mine).order_by(history.revision.number)
    if cursor:
        query = query.where(history.revision.number > read.after_number(cursor))
    rows: list[models.Snapshotted] = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return read.Page(rows, total, str(rows[-1].number) if more else None)


def get_revision(
    session: Session, history: History[Any, Any, Any], key: str, number: int
) -> models.Snapshotted:
    owner_id = _owner_id(session, history, key)
    revision: models.Snapshotted | None = session.scalar(
        select(history.revision).where(
            getattr(history.revision, history.owner) == owner_id,
            history.revision.number == number,
        )
    )
    if revision is None:
        latest = _latest_number(session, history, owner_id)
        raise NotFoundError(f"'{key}' has no revision {number}; its latest is {latest}.")
    return revision


def latest_revision(
    session: Session, history: History[Any, Any, Any], key: str
) -> models.Snapshotted:
    latest = _latest_number(session, history, _owner_id(session, history, key))
    if latest is None:
        raise NotFoundError(f"'{key}' has no revisions yet; run `weaponsdb migrate`.")
    return get_revision(session, history, key, latest)


def snapshot(history: History[RowT, RecordT, HistoryT], revision: models.Snapshotted) -> RecordT:
    return history.record.model_validate(revision.snapshot)


def diff(older: models.Snapshotted | None, newer: models.Snapshotted) -> list[dict[str, Any]]:
    """What changed from *older* to *newer*, as RFC 6902 JSON Patch operations; from None
    (before the first revision) the patch adds everything."""
    before = older.snapshot if older is not None else {}
    patch: list[dict[str, Any]] = jsonpatch.make_patch(before, newer.snapshot).patch
    return patch


def history_record(
    history: History[RowT, RecordT, HistoryT], revision: models.Snapshotted, key: str
) -> HistoryT:
    """A revision in the interchange format."""
    return history.history_record.model_validate(
        {
            history.kind: key,
            "number": revision.number,
            "created_at": convert.utc(revision.created_at),
            "author": revision.author,
            "note": revision.note,
            "snapshot": revision.snapshot,
        }
    )


def export_revisions(session: Session, history: History[RowT, RecordT, HistoryT]) -> list[HistoryT]:
    key = getattr(history.model, history.key)
    rows = session.execute(
        select(history.revision, key)
        .join(history.model, getattr(history.revision, history.owner) == history.model.id)
        .order_by(key, history.revision.number)
    ).all()
    return [history_record(history, revision, owner) for revision, owner in rows]


def histories(
    history: History[RowT, RecordT, HistoryT], records: list[HistoryT], keys: Set[str]
) -> dict[str, list[HistoryT]]:
    """The revisions a document brings for each of these *keys* that has any, checked:
    numbered 1, 2, 3, ... without gaps. Nothing is written."""
    by_owner: dict[str, list[tuple[int, HistoryT]]] = {}
    for index, revision in enumerate(records):
        owner = getattr(revision, history.kind)
        if owner in keys:
            by_owner.setdefault(owner, []).append((index, revision))
    for key in sorted(by_owner):
        numbered = by_owner[key]
        _check_numbering(key, [(i, r.number) for i, r in numbered], history.document_field)
    return {key: [revision for _, revision in numbered] for key, numbered in by_owner.items()}


def import_revisions(
    session: Session,
    history: History[RowT, RecordT, HistoryT],
    ids: Mapping[str, int],
    restored: Mapping[str, list[HistoryT]],
) -> None:
    """Restore the checked *histories* of newly imported things, by key (an entry's version
    already set to its number of revisions); *ids* names each one's row."""
    rows = [
        _revision_values(
            history,
            ids[key],
            revision.number,
            revision.snapshot,
            revision.author,
            revision.note,
            revision.created_at,
        )
        for key in sorted(restored)
        for revision in restored[key]
    ]
    for chunk in _chunks(rows):
        bulk.insert_plain(session, history.revision, chunk)


def _check_numbering(key: str, numbered: list[tuple[int, int]], field: str) -> None:
    """Imported revisions of one entry or source must run 1, 2, 3, ... without gaps."""
    if sorted(number for _, number in numbered) != list(range(1, len(numbered) + 1)):
        raise InvalidInputError(
            f"The revisions of '{key}' are not numbered 1, 2, 3, ... without gaps.",
            [FieldError(f"{field}[{numbered[0][0]}].number", "must run 1..n for each one")],
        )
