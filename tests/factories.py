"""Test factories, one of each: keys, request headers, changes, entries, sources, photos,
and the catalogue as exported. Everything they make is synthetic test data, labelled so,
never catalogue content. (The images themselves are drawn in photo_support.py.)"""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from weaponsdb import db, editing, keys, schemas, transfer
from weaponsdb.vocab import Role

# --- keys and requests ---------------------------------------------------------------------


def issue_key(sessions: sessionmaker[Session], name: str, role: Role = Role.EDITOR) -> str:
    with db.transaction(sessions) as session:
        return keys.create_key(session, name, role)


def headers(
    key: str | None, version: int | str | None = None, note: str | None = "A test change"
) -> dict[str, str]:
    result: dict[str, str] = {}
    if key is not None:
        result["Authorization"] = f"Bearer {key}"
    if version is not None:
        result["If-Match"] = version if version == "*" else f'"{version}"'
    if note is not None:
        result["X-Change-Note"] = note
    return result


def change(slug: str, version: int | None = None, note: str = "A test change") -> editing.Change:
    """A change to *slug* in the core, by the author 'tester'."""
    return editing.Change(slug, version, "tester", note)


# --- entries and sources -------------------------------------------------------------------

SOURCE_KEY = "test-source"


def synthetic_entry(slug: str, **fields: Any) -> dict[str, Any]:
    """An entry as JSON, named as test data; *fields* add to it or replace what it says."""
    return {"slug": slug, "name": f"Synthetic {slug} (test data, not a real weapon)", **fields}


def entry_record(slug: str, name: str | None = None, **fields: Any) -> schemas.EntryRecord:
    values = synthetic_entry(slug, **fields)
    return schemas.EntryRecord.model_validate({**values, "name": name or values["name"]})


def source(key: str = SOURCE_KEY, **fields: Any) -> dict[str, Any]:
    return {"key": key, "kind": "other", "title": f"Synthetic source {key} (test data)", **fields}


def cited(confidence: str = "confirmed", source_key: str = SOURCE_KEY) -> list[dict[str, str]]:
    """The citations of a claim that the test source makes."""
    return [{"source": source_key, "confidence": confidence}]


def import_document(sessions: sessionmaker[Session], document: dict[str, Any]) -> None:
    """Add a catalogue document, as `weaponsdb import` does."""
    with db.transaction(sessions) as session:
        parsed = transfer.parse(json.dumps(document))
        transfer.import_catalogue(session, parsed, transfer.OnConflict.FAIL)


def add_entries(sessions: sessionmaker[Session], *entries: dict[str, Any]) -> None:
    """Add entries, with the test source their citations name."""
    import_document(
        sessions, {"sources": [source(SOURCE_KEY, kind="reference")], "entries": list(entries)}
    )


def exported(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The whole catalogue as exported, history included, minus the moment of export."""
    with sessions() as session:
        document: dict[str, Any] = json.loads(transfer.dump(transfer.export_catalogue(session)))
    document.pop("exported_at")
    return document


# --- photos --------------------------------------------------------------------------------

PROVENANCE = {"credit": "Jane Doe / Example Agency", "licence": "CC BY 4.0"}
SHA = "ab" * 32


def photo_record(**fields: Any) -> dict[str, Any]:
    """A reference photo as the catalogue records it (the image itself is not needed)."""
    sizes = {"media_type": "image/png", "byte_size": 10, "width": 10, "height": 10}
    return {"sha256": SHA, "original_sha256": SHA, **sizes, **fields}


def upload(
    client: TestClient,
    key: str | None,
    data: bytes,
    slug: str = "bang-122",
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    version: int | str | None = None,
    **fields: str,
):
    """Attach a photo through the API, with the provenance every photo needs."""
    form = {**PROVENANCE, **fields}
    return client.post(
        f"/v1/entries/{slug}/photos",
        files={"file": (filename, data, content_type)},
        data={k: v for k, v in form.items() if v is not None},
        headers=headers(key, version, "Reference photo from the agency"),
    )
