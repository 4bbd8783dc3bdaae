"""Immutable, numbered revisions of entries: the entry as it stood after each change.

Revision *n* of an entry is written in the same transaction as the change that made the
entry's version *n*, so the latest revision always shows the entry as it is. Revisions are
only ever inserted; nothing in weaponsdb updates or deletes one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import jsonpatch
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from weaponsdb import catalogue, models, schemas, to_records
from weaponsdb.errors import FieldError, InvalidInputError, NotFoundError

SEED_AUTHOR = "seed"
IMPORT_AUTHOR = "import"
MIGRATION_AUTHOR = "migration"


def load_entry(session: Session, slug: str) -> models.Entry:
    """The entry as the database now holds it, replacing whatever the session remembers."""
    entry = session.scalar(
        select(models.Entry)
        .where(models.Entry.slug == slug)
        .options(*catalogue.entry_load_options())
        .execution_options(populate_existing=True)
    )
    if entry is None:
        raise NotFoundError(f"No entry has the slug '{slug}'.")
    return entry


def record_revision(
    session: Session,
    entry: models.Entry,
    author: str,
    note: str,
    when: dt.datetime | None = None,
) -> models.Revision:
    """Snapshot *entry* as revision number entry.version, after the caller's change to it.

    Call it after any change to an entry or anything attached to it, in the same
    transaction, once the version has been taken with editing.begin_change (or is 1 for a
    new entry).
    """
    session.flush()
    # Database-side effects (cascades, SET NULL, server defaults) must show in the snapshot.
    session.expire_all()
    current = load_entry(session, entry.slug)
    revision = models.Revision(
        entry_id=current.id,
        number=current.version,
        snapshot=to_records.entry(current).model_dump(mode="json"),
        author=author,
        note=note,
        created_at=when or dt.datetime.now(dt.UTC),
    )
    session.add(revision)
    session.flush()
    return revision


def record_initial_revisions(session: Session, slugs: Iterable[str], author: str, note: str) -> int:
    """Revision 1 for entries that have none (new by seed, import or before migration 0004)."""
    now = dt.datetime.now(dt.UTC)
    session.flush()
    session.expire_all()
    entries = session.scalars(
        select(models.Entry)
        .where(models.Entry.slug.in_(list(slugs)))
        .where(~models.Entry.id.in_(select(models.Revision.entry_id)))
        .options(*catalogue.entry_load_options())
    ).all()
    for entry in entries:
        session.add(
            models.Revision(
                entry_id=entry.id,
                number=1,
                snapshot=to_records.entry(entry).model_dump(mode="json"),
                author=author,
                note=note,
                created_at=now,
            )
        )
    session.flush()
    return len(entries)


def record_missing_initial_revisions(session: Session) -> int:
    """Revision 1 for every entry and source without one, e.g. those older than revisions."""
    slugs = session.scalars(
        select(models.Entry.slug).where(~models.Entry.id.in_(select(models.Revision.entry_id)))
    ).all()
    keys = session.scalars(
        select(models.Source.key).where(
            ~models.Source.id.in_(select(models.SourceRevision.source_id))
        )
    ).all()
    note = "As it stood when revisions began."
    return record_initial_revisions(
        session, slugs, MIGRATION_AUTHOR, note
    ) + record_initial_source_revisions(session, keys, MIGRATION_AUTHOR, note)


def _entry_id(session: Session, slug: str) -> int:
    entry_id = session.scalar(select(models.Entry.id).where(models.Entry.slug == slug))
    if entry_id is None:
        raise NotFoundError(f"No entry has the slug '{slug}'.")
    return entry_id


def list_revisions(session: Session, slug: str) -> Sequence[models.Revision]:
    return session.scalars(
        select(models.Revision)
        .where(models.Revision.entry_id == _entry_id(session, slug))
        .order_by(models.Revision.number)
    ).all()


def get_revision(session: Session, slug: str, number: int) -> models.Revision:
    revision = session.scalar(
        select(models.Revision).where(
            models.Revision.entry_id == _entry_id(session, slug), models.Revision.number == number
        )
    )
    if revision is None:
        latest = session.scalar(
            select(func.max(models.Revision.number)).where(
                models.Revision.entry_id == _entry_id(session, slug)
            )
        )
        raise NotFoundError(f"'{slug}' has no revision {number}; its latest is {latest}.")
    return revision


def latest_revision(session: Session, slug: str) -> models.Revision:
    revision = session.scalar(
        select(models.Revision)
        .where(models.Revision.entry_id == _entry_id(session, slug))
        .order_by(models.Revision.number.desc())
        .limit(1)
    )
    if revision is None:
        raise NotFoundError(f"'{slug}' has no revisions yet; run `weaponsdb migrate`.")
    return revision


def snapshot(revision: models.Revision) -> schemas.EntryRecord:
    return schemas.EntryRecord.model_validate(revision.snapshot)


def diff(older: models.Revision, newer: models.Revision) -> list[dict[str, Any]]:
    """What changed from *older* to *newer*, as RFC 6902 JSON Patch operations."""
    patch: list[dict[str, Any]] = jsonpatch.make_patch(older.snapshot, newer.snapshot).patch
    return patch


def record(revision: models.Revision, slug: str) -> schemas.RevisionRecord:
    return schemas.RevisionRecord(
        entry=slug,
        number=revision.number,
        created_at=to_records.utc(revision.created_at),
        author=revision.author,
        note=revision.note,
        snapshot=snapshot(revision),
    )


def export_revisions(session: Session) -> list[schemas.RevisionRecord]:
    rows = session.execute(
        select(models.Revision, models.Entry.slug)
        .join(models.Entry, models.Revision.entry_id == models.Entry.id)
        .order_by(models.Entry.slug, models.Revision.number)
    ).all()
    return [record(revision, slug) for revision, slug in rows]


def import_revisions(
    session: Session, entries: dict[str, models.Entry], history: list[schemas.RevisionRecord]
) -> set[str]:
    """Restore the history of newly imported *entries*, whose version the caller has set to
    their number of revisions; returns the slugs that had a history."""
    by_entry: dict[str, list[tuple[int, schemas.RevisionRecord]]] = {}
    for index, revision in enumerate(history):
        by_entry.setdefault(revision.entry, []).append((index, revision))
    for slug, revisions in by_entry.items():
        if slug not in entries:
            continue
        _check_numbering(slug, [(i, r.number) for i, r in revisions], "revisions")
        entry = entries[slug]
        for _, revision in revisions:
            session.add(
                models.Revision(
                    entry=entry,
                    number=revision.number,
                    snapshot=revision.snapshot.model_dump(mode="json"),
                    author=revision.author,
                    note=revision.note,
                    created_at=revision.created_at,
                )
            )
    return {slug for slug in by_entry if slug in entries}


def _check_numbering(key: str, numbered: list[tuple[int, int]], field: str) -> None:
    """Imported revisions of one entry or source must run 1, 2, 3, ... without gaps."""
    if sorted(number for _, number in numbered) != list(range(1, len(numbered) + 1)):
        raise InvalidInputError(
            f"The revisions of '{key}' are not numbered 1, 2, 3, ... without gaps.",
            [FieldError(f"{field}[{numbered[0][0]}].number", "must run 1..n for each one")],
        )


# --- sources: the same history, for the publications behind the claims --------------------


def record_source_revision(
    session: Session, source: models.Source, author: str, note: str
) -> models.SourceRevision:
    """Snapshot *source* as its next revision; the caller holds the source's row lock."""
    session.flush()
    latest = session.scalar(
        select(func.max(models.SourceRevision.number)).where(
            models.SourceRevision.source_id == source.id
        )
    )
    revision = models.SourceRevision(
        source_id=source.id,
        number=(latest or 0) + 1,
        snapshot=to_records.source(source).model_dump(mode="json"),
        author=author,
        note=note,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(revision)
    session.flush()
    return revision


def record_initial_source_revisions(
    session: Session, keys: Iterable[str], author: str, note: str
) -> int:
    now = dt.datetime.now(dt.UTC)
    session.flush()
    sources = session.scalars(
        select(models.Source)
        .where(models.Source.key.in_(list(keys)))
        .where(~models.Source.id.in_(select(models.SourceRevision.source_id)))
    ).all()
    for source in sources:
        session.add(
            models.SourceRevision(
                source_id=source.id,
                number=1,
                snapshot=to_records.source(source).model_dump(mode="json"),
                author=author,
                note=note,
                created_at=now,
            )
        )
    session.flush()
    return len(sources)


def source_record(revision: models.SourceRevision, key: str) -> schemas.SourceRevisionRecord:
    return schemas.SourceRevisionRecord(
        source=key,
        number=revision.number,
        created_at=to_records.utc(revision.created_at),
        author=revision.author,
        note=revision.note,
        snapshot=schemas.SourceRecord.model_validate(revision.snapshot),
    )


def list_source_revisions(session: Session, key: str) -> list[schemas.SourceRevisionRecord]:
    source_id = session.scalar(select(models.Source.id).where(models.Source.key == key))
    if source_id is None:
        raise NotFoundError(f"No source has the key '{key}'.")
    rows = session.scalars(
        select(models.SourceRevision)
        .where(models.SourceRevision.source_id == source_id)
        .order_by(models.SourceRevision.number)
    )
    return [source_record(row, key) for row in rows]


def export_source_revisions(session: Session) -> list[schemas.SourceRevisionRecord]:
    rows = session.execute(
        select(models.SourceRevision, models.Source.key)
        .join(models.Source, models.SourceRevision.source_id == models.Source.id)
        .order_by(models.Source.key, models.SourceRevision.number)
    ).all()
    return [source_record(revision, key) for revision, key in rows]


def import_source_revisions(
    session: Session,
    sources: dict[str, models.Source],
    history: list[schemas.SourceRevisionRecord],
) -> set[str]:
    """Restore the history of newly imported *sources*; returns the keys that had one."""
    by_source: dict[str, list[tuple[int, schemas.SourceRevisionRecord]]] = {}
    for index, revision in enumerate(history):
        by_source.setdefault(revision.source, []).append((index, revision))
    restored = {key for key in by_source if key in sources}
    for key in restored:
        revisions = by_source[key]
        _check_numbering(key, [(i, r.number) for i, r in revisions], "source_revisions")
        for _, revision in revisions:
            session.add(
                models.SourceRevision(
                    source=sources[key],
                    number=revision.number,
                    snapshot=revision.snapshot.model_dump(mode="json"),
                    author=revision.author,
                    note=revision.note,
                    created_at=revision.created_at,
                )
            )
    return restored
