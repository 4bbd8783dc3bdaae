"""The chain of custody of evidence files: an append-only log (the database refuses to
change or delete a line), written in the transaction of the action it records; its export;
and verification of the store, and of the log itself, against it.

The lines of each observation form a hash chain: each line's hash covers what it says and
the hash of the line before it. Appending first takes the observation's row lock, so that
two transactions cannot both append after the same line."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from pydantic import Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from weaponsdb import models, schemas
from weaponsdb.catalogue.convert import utc
from weaponsdb.photos.storage import PhotoStore
from weaponsdb.vocab import CustodyAction


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def line_hash(line: models.CustodyEntry) -> str:
    """SHA-256 of what the line says and of the line before it, in a fixed order."""
    said = [
        line.observation_id,
        line.action,
        line.sha256,
        line.file_key,
        line.derived_from,
        line.actor,
        line.source_url,
        line.note,
        utc(line.created_at).astimezone(dt.UTC).isoformat(),
        line.previous_sha256,
    ]
    return hashlib.sha256(json.dumps(said, ensure_ascii=False).encode()).hexdigest()


def _tail(session: Session, observation_id: int) -> str | None:
    """The hash of the observation's last line, its row locked first; remembered for the
    rest of the transaction (lines added but not yet flushed are not in the database)."""
    tails: dict[int, str | None] = session.info.setdefault(TAILS, {})
    if observation_id not in tails:
        session.execute(
            update(models.Observation)
            .where(models.Observation.id == observation_id)
            .values(version=models.Observation.version)
            .execution_options(synchronize_session=False)
        )
        tails[observation_id] = session.scalar(
            select(models.CustodyEntry.line_sha256)
            .where(models.CustodyEntry.observation_id == observation_id)
            .order_by(models.CustodyEntry.id.desc())
            .limit(1)
        )
    return tails[observation_id]


TAILS = "custody_tails"  # session.info key


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
    line = models.CustodyEntry(
        observation_id=observation.id,
        action=action.value,
        sha256=sha256,
        file_key=file_key,
        derived_from=derived_from,
        actor=actor,
        source_url=observation.source_url,
        note=note,
        created_at=now(),
        previous_sha256=_tail(session, observation.id),
    )
    line.line_sha256 = line_hash(line)
    session.info[TAILS][observation.id] = line.line_sha256
    session.add(line)


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
    previous_sha256: str | None = Field(description="The hash of the line before it.")
    line_sha256: str = Field(description="SHA-256 of this line and the one before it.")


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
                previous_sha256=line.previous_sha256,
                line_sha256=line.line_sha256,
            )
            for line in lines(session, observation.id)
        ],
    )


@dataclass(frozen=True)
class Mismatch:
    observation: int
    subject: str  # the file's store key, or "custody line <id>"
    expected: str
    found: str | None  # None: the file is missing


@dataclass(frozen=True)
class Verification:
    files: int
    lines: int
    mismatches: list[Mismatch]


def verify(session: Session, store: PhotoStore) -> Verification:
    """Re-hash every file the log recorded (as received, or derived) against the log, and
    every line of the log against its chain."""
    everything = list(session.scalars(select(models.CustodyEntry).order_by(models.CustodyEntry.id)))
    mismatches = _broken_links(everything)
    recorded = [line for line in everything if line.file_key is not None]
    for line in recorded:
        assert line.file_key is not None  # selected so
        data = store.read(line.file_key)
        found = hashlib.sha256(data).hexdigest() if data is not None else None
        if found != line.sha256:
            mismatches.append(Mismatch(line.observation_id, line.file_key, line.sha256, found))
    return Verification(len(recorded), len(everything), mismatches)


def _broken_links(everything: list[models.CustodyEntry]) -> list[Mismatch]:
    """Lines whose hash is not that of what they say, or that do not follow the line before
    them (one changed, inserted or taken out)."""
    broken = []
    tails: dict[int, str | None] = {}
    for line in everything:
        expected = line_hash(line)
        previous = tails.get(line.observation_id)
        if line.line_sha256 != expected or line.previous_sha256 != previous:
            broken.append(
                Mismatch(line.observation_id, f"custody line {line.id}", expected, line.line_sha256)
            )
        tails[line.observation_id] = line.line_sha256
    return broken
