"""Changing the catalogue: entries, what is attached to them, and sources.

Every route here needs an API key (Authorization: Bearer), a change note (X-Change-Note)
and, when it changes something that exists, If-Match with the ETag it was read at.
Each request is one transaction: all of the change, or none of it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from api.auth import AdminKey, ChangeNote, EditorKey, IfMatchTag, IfMatchVersion, entry_etag
from api.dependencies import BaseUrl, get_sessions
from api.problems import WRITE_RESPONSES
from api.responses import EntryDetail, entry_detail, entry_url
from weaponsdb import editing, models, schemas, to_records
from weaponsdb.db import transaction

router = APIRouter(prefix="/v1", tags=["editing"], responses=WRITE_RESPONSES)

SlugPath = Annotated[str, Path(max_length=80, description="The entry's permanent slug.")]
IndexPath = Annotated[int, Path(ge=0, le=100_000, description="Position in the list, from 0.")]


class Retraction(schemas.Record):
    reason: schemas.Text


def editor_change(
    slug: SlugPath, key: EditorKey, note: ChangeNote, version: IfMatchVersion
) -> editing.Change:
    return editing.Change(slug, version, key.name, note)


def admin_change(
    slug: SlugPath, key: AdminKey, note: ChangeNote, version: IfMatchVersion
) -> editing.Change:
    return editing.Change(slug, version, key.name, note)


EditorChange = Annotated[editing.Change, Depends(editor_change)]
AdminChange = Annotated[editing.Change, Depends(admin_change)]


@dataclass(frozen=True)
class EntryWriter:
    """Runs one change to an entry in one transaction and answers with the entry and ETag."""

    sessions: sessionmaker[Session]
    response: Response
    base: str

    def __call__(self, change: Callable[[Session], models.Entry]) -> EntryDetail:
        with transaction(self.sessions) as session:
            entry = change(session)
            self.response.headers["ETag"] = entry_etag(entry.version)
            return entry_detail(session, entry, self.base)


def entry_writer(request: Request, response: Response, base: BaseUrl) -> EntryWriter:
    return EntryWriter(get_sessions(request), response, base)


Writer = Annotated[EntryWriter, Depends(entry_writer)]


@router.post("/entries", status_code=201, summary="Create an entry (revision 1)")
def create_entry(
    record: schemas.EntryRecord, key: EditorKey, note: ChangeNote, write: Writer
) -> EntryDetail:
    detail = write(lambda session: editing.create_entry(session, record, key.name, note))
    write.response.headers["Location"] = entry_url(write.base, record.slug)
    return detail


@router.patch("/entries/{slug}", summary="Change an entry's own attributes")
def update_entry(changes: editing.EntryChanges, change: EditorChange, write: Writer) -> EntryDetail:
    return write(lambda session: editing.update_entry(session, change, changes))


@router.post(
    "/entries/{slug}/retraction",
    summary="Retract an entry (admin): it stays readable, with the reason",
)
def retract_entry(retraction: Retraction, change: AdminChange, write: Writer) -> EntryDetail:
    return write(lambda session: editing.retract_entry(session, change, retraction.reason))


def _register(collection: editing.Collection) -> None:
    """add / replace / remove routes for one list attached to entries."""
    name = collection.name
    Item = collection.record_type  # noqa: N806 - a type, used as one
    singular = name.removesuffix("s")

    @router.post(
        f"/entries/{{slug}}/{name}",
        name=f"add_{singular}",
        summary=f"Add one of an entry's {name}",
    )
    def add(
        record: Item,  # type: ignore[valid-type]
        change: EditorChange,
        write: Writer,
    ) -> EntryDetail:
        return write(lambda session: editing.add_item(session, change, collection, record))

    @router.put(
        f"/entries/{{slug}}/{name}/{{index}}",
        name=f"replace_{singular}",
        summary=f"Change an entry's {singular}",
    )
    def replace(
        index: IndexPath,
        record: Item,  # type: ignore[valid-type]
        change: EditorChange,
        write: Writer,
    ) -> EntryDetail:
        return write(
            lambda session: editing.replace_item(session, change, collection, index, record)
        )

    @router.delete(
        f"/entries/{{slug}}/{name}/{{index}}",
        name=f"remove_{singular}",
        summary=f"Remove an entry's {singular} (its earlier revisions keep it)",
    )
    def remove(index: IndexPath, change: EditorChange, write: Writer) -> EntryDetail:
        return write(lambda session: editing.remove_item(session, change, collection, index))


for _collection in editing.COLLECTIONS.values():
    _register(_collection)


def _source_response(row: models.Source, response: Response) -> schemas.SourceRecord:
    record = to_records.source(row)
    response.headers["ETag"] = f'"{editing.source_etag(record)}"'
    return record


@router.post("/sources", status_code=201, summary="Add a source")
def create_source(
    record: schemas.SourceRecord,
    key: EditorKey,
    note: ChangeNote,
    request: Request,
    response: Response,
    base: BaseUrl,
) -> schemas.SourceRecord:
    with transaction(get_sessions(request)) as session:
        source = editing.create_source(session, record, key.name, note)
        result = _source_response(source, response)
    response.headers["Location"] = f"{base}/v1/sources/{record.key}"
    return result


@router.put("/sources/{key}", summary="Change a source (its key is permanent)")
def update_source(
    key: Annotated[str, Path(max_length=80)],
    record: schemas.SourceRecord,
    holder: EditorKey,
    note: ChangeNote,
    etag: IfMatchTag,
    request: Request,
    response: Response,
) -> schemas.SourceRecord:
    with transaction(get_sessions(request)) as session:
        source = editing.update_source(session, key, etag, record, holder.name, note)
        return _source_response(source, response)
