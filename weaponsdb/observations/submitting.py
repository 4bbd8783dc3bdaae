"""Submitting an observation: photos checked, identification run (markings and photos) and
its ranked candidates kept as they stood, files stored and logged, all in the caller's
transaction; if it rolls back, the files this call wrote are removed again."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from weaponsdb import models
from weaponsdb.db import on_rollback
from weaponsdb.keys import KeyHolder
from weaponsdb.matching.matcher import MAX_MARKINGS, Matcher, MatchQuery
from weaponsdb.matching.normalise import fold, key
from weaponsdb.matching.scoring import Candidate
from weaponsdb.observations import evidence, reviewing
from weaponsdb.observations.custody import now
from weaponsdb.observations.records import Submission
from weaponsdb.photos.ingest import Upload
from weaponsdb.photos.matching import PhotoMatcher
from weaponsdb.photos.processing import upright
from weaponsdb.photos.storage import PhotoStore
from weaponsdb.photos.validation import Limits
from weaponsdb.reading.reader import Reader
from weaponsdb.vocab import ObservationAction, ObservationState

CANDIDATES_KEPT = 10
MAX_MARKING_LENGTH = 200  # as a match query takes them
PHOTO_DISTANCE = 20  # pHash bits: farther apart are unrelated pictures (about 32)


def submit(
    session: Session,
    store: PhotoStore,
    matcher: Matcher,
    photo_matcher: PhotoMatcher,
    holder: KeyHolder,
    submission: Submission,
    uploads: list[Upload],
    limits: Limits,
    reader: Reader | None = None,
) -> models.Observation:
    """With *reader*, the markings are also read off the photos (where the reader is
    installed), and what it reads is matched with what was typed."""
    received = evidence.receive(uploads, limits)
    read = read_markings(reader, received) if reader is not None else None
    candidates = identify(session, matcher, photo_matcher, submission, received, read)
    moment = now()
    row = models.Observation(
        **submission.model_dump(mode="json"),
        submitter=holder.name,
        state=ObservationState.PENDING.value,
        version=1,
        candidates=candidates,
        created_at=moment,
        updated_at=moment,
    )
    session.add(row)
    session.flush()
    created: list[str] = []
    engine = session.get_bind()
    on_rollback(session, lambda: evidence.remove_unused(engine, store, created))
    for position, photo in enumerate(received):
        row.photos.append(
            evidence.store(session, store, row, photo, position, holder.name, created)
        )
    reviewing.record_step(session, row, ObservationAction.SUBMITTED, holder, "Submitted")
    session.flush()
    return row


def identify(
    session: Session,
    matcher: Matcher,
    photo_matcher: PhotoMatcher,
    submission: Submission,
    received: list[evidence.Received],
    read: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ranked candidates from the markings (typed, and read where asked) and from each
    photo, with why, as plain JSON: what the reviewer will see, as it stood at submission."""
    found: dict[str, Any] = {"markings": [], "photos": []}
    markings = list(submission.markings)
    if read is not None:
        found["read"] = read
        lines = [line["text"] for photo in read.get("photos", []) for line in photo["lines"]]
        markings = list(dict.fromkeys(markings + lines))[:MAX_MARKINGS]
    if markings:
        query = MatchQuery(
            markings=markings,
            category=submission.category,
            calibre_mm=float(submission.calibre_mm) if submission.calibre_mm else None,
            country=submission.country,
            limit=CANDIDATES_KEPT,
        )
        result = matcher.match(session, query)
        found["catalogue_generation"] = result.generation
        found["markings"] = [_candidate(n, c) for n, c in enumerate(result.candidates, 1)]
    for position, photo in enumerate(received):
        matches = photo_matcher.match(
            session, photo.processed.phash, CANDIDATES_KEPT, PHOTO_DISTANCE
        )
        found["photos"].append(
            {"position": position, "matches": [m.model_dump(mode="json") for m in matches]}
        )
    return found


def read_markings(reader: Reader, received: list[evidence.Received]) -> dict[str, Any]:
    """The lines the reader reads on each photo, legible ones only, with its confidence."""
    missing = reader.engine.missing()
    if missing:
        return {"unavailable": missing, "photos": []}
    photos = []
    for position, photo in enumerate(received):
        reading = reader.read(upright(photo.processed.data))
        lines = [
            {"text": line.text, "confidence": round(line.confidence, 3)}
            for line in reading.lines
            if _legible(line.text)
        ]
        photos.append({"position": position, "lines": lines})
    return {"photos": photos}


def _legible(text: str) -> bool:
    return 0 < len(text) <= MAX_MARKING_LENGTH and bool(key(fold(text)))


def _candidate(rank: int, candidate: Candidate) -> dict[str, Any]:
    entry = candidate.entry
    return {
        "rank": rank,
        "slug": entry.slug,
        "name": entry.name,
        "score": round(candidate.score, 4),
        "category": entry.category,
        "calibre_mm": entry.calibre_mm,
        "country": entry.country,
        "matches": [
            {"observed": m.observed, "matched": m.matched, "how": m.how.value, "detail": m.detail}
            for m in candidate.matches
        ],
        "unmatched": list(candidate.unmatched),
        "evidence": [
            {"field": e.field, "effect": e.effect.value, "reason": e.reason}
            for e in candidate.evidence
        ],
    }
