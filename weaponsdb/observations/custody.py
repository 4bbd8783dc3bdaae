"""The chain of custody of evidence files: an append-only log (the database refuses to
change or delete a line), written in the transaction of the action it records; its export;
and verification of the store against it."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from weaponsdb import models, schemas
from weaponsdb.catalogue.convert import utc
from weaponsdb.photos.storage import PhotoStore
from weaponsdb.vocab import CustodyAction


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def append(
    session: Session,
    observation: models.Observation,
    action: CustodyAction,
    sha256: str,
    actor: str,
    *,
    file_key: str | None = None,
    derived_from: str | None = None,
    note: str | None = None,
) -> None:
    session.add(
        models.CustodyEntry(
            observation_id=observation.id,
            action=action.value,
            sha256=sha256,
            file_key=file_key,
            derived_from=derived_from,
            actor=actor,
            source_url=observation.source_url,
            note=note,
            created_at=now(),
        )
    )


def append_for_originals(
    session: Session, observation: models.Observation, action: CustodyAction, actor: str, note: str
) -> None:
    """One line per original file of the observation."""
    for photo in observation.photos:
        append(session, observation, action, photo.original_sha256, actor, note=note)


class CustodyLine(schemas.Record):
    at: dt.datetime
    action: CustodyAction
    sha256: str = Field(description="SHA-256 of the file the line is about.")
    derived_from: str | None = Field(description="For a derived copy: the original's hash.")
    file_key: str | None = Field(description="Where the file is in the store.")
    actor: str = Field(description="The API key that acted.")
    source_url: str | None = Field(description="Where the evidence was captured from.")
    note: str | None


class CustodyRecord(schemas.Record):
    observation: int
    submitter: str
    exported_at: dt.datetime
    exported_by: str
    log: list[CustodyLine] = Field(description="Every line, oldest first, this export's too.")


def lines(session: Session, observation_id: int) -> list[models.CustodyEntry]:
    return list(
        session.scalars(
            select(models.CustodyEntry)
            .where(models.CustodyEntry.observation_id == observation_id)
            .order_by(models.CustodyEntry.id)
        )
    )


def export(session: Session, observation: models.Observation, actor: str) -> CustodyRecord:
    """The whole record, after logging this export of it in the same transaction."""
    append_for_originals(
        session, observation, CustodyAction.EXPORTED, actor, "custody record exported"
    )
    session.flush()
    return CustodyRecord(
        observation=observation.id,
        submitter=observation.submitter,
        exported_at=now(),
        exported_by=actor,
        log=[
            CustodyLine(
                at=utc(line.created_at),
                action=CustodyAction(line.action),
                sha256=line.sha256,
                derived_from=line.derived_from,
                file_key=line.file_key,
                actor=line.actor,
                source_url=line.source_url,
                note=line.note,
            )
            for line in lines(session, observation.id)
        ],
    )


@dataclass(frozen=True)
class Mismatch:
    observation: int
    file_key: str
    expected: str
    found: str | None  # None: the file is missing


@dataclass(frozen=True)
class Verification:
    files: int
    mismatches: list[Mismatch]


def verify(session: Session, store: PhotoStore) -> Verification:
    """Re-hash every file the log recorded (as received, or derived) against the log."""
    recorded = session.execute(
        select(
            models.CustodyEntry.observation_id,
            models.CustodyEntry.file_key,
            models.CustodyEntry.sha256,
        )
        .where(models.CustodyEntry.file_key.is_not(None))
        .order_by(models.CustodyEntry.id)
    ).all()
    mismatches = []
    for observation_id, key, expected in recorded:
        assert key is not None  # selected so
        data = store.read(key)
        found = hashlib.sha256(data).hexdigest() if data is not None else None
        if found != expected:
            mismatches.append(Mismatch(observation_id, key, expected, found))
    return Verification(len(recorded), mismatches)
