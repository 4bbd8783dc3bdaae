"""Matching by photo against the catalogue's reference photos.

Each process keeps one HashIndex of every stored photo's pHash and brings it up to date on
use: one cheap query (count and highest id of the photos with a hash) says whether photos
were added since; only the new rows are then read. Photos are only ever added (a removal or
restore shows as a changed count and reloads everything).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from weaponsdb import models
from weaponsdb.photos.processing import query_hash
from weaponsdb.photos.similarity import NEAR_DUPLICATE, HashIndex, similarity, to_int
from weaponsdb.photos.validation import Limits, check_header


class PhotoMatch(BaseModel):
    """A reference photo found, as plain values that outlive the session."""

    entry: str = Field(description="Slug of the entry the reference photo shows.")
    entry_name: str
    entry_status: str
    sha256: str
    media_type: str
    width: int
    height: int
    caption: str | None
    view: str | None
    credit: str
    licence: str
    source_url: str | None
    distance: int = Field(description="Bits of the 64-bit perceptual hash that differ.")
    similarity: float = Field(description="1 - distance / 64: 1 is the same picture.")
    near_duplicate: bool = Field(
        description=f"At most {NEAR_DUPLICATE} bits apart: the same photo, resized, "
        "recompressed or slightly cropped."
    )

    @classmethod
    def of(cls, photo: models.Photo, distance: int) -> PhotoMatch:
        return cls(
            entry=photo.entry.slug,
            entry_name=photo.entry.name,
            entry_status=photo.entry.status,
            **{column: getattr(photo, column) for column in _PHOTO_COLUMNS},
            distance=distance,
            similarity=similarity(distance),
            near_duplicate=distance <= NEAR_DUPLICATE,
        )


_PHOTO_COLUMNS = [
    name for name in PhotoMatch.model_fields if name in models.Photo.__table__.columns
]


class PhotoMatcher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: list[int] = []
        self._hashes: list[int] = []
        self._state: tuple[int, int] = (0, 0)
        self._index = HashIndex([], [])

    def index(self, session: Session) -> HashIndex:
        hashed = models.Photo.phash.is_not(None)
        count, highest = session.execute(
            select(func.count(models.Photo.id), func.coalesce(func.max(models.Photo.id), 0)).where(
                hashed
            )
        ).one()
        state = (int(count), int(highest))
        with self._lock:
            if state == self._state:
                return self._index
            known_count, known_highest = self._state
            query = select(models.Photo.id, models.Photo.phash).where(hashed)
            added = session.execute(
                query.where(models.Photo.id > known_highest).order_by(models.Photo.id)
            ).all()
            if known_count + len(added) != state[0]:  # not only additions: read everything
                self._refs, self._hashes = [], []
                added = session.execute(query.order_by(models.Photo.id)).all()
            self._refs += [row.id for row in added]
            self._hashes += [to_int(row.phash) for row in added]
            self._index = HashIndex(self._refs, self._hashes)
            self._state = state
            return self._index

    def match(
        self, session: Session, phash: str, limit: int, max_distance: int
    ) -> list[PhotoMatch]:
        """The reference photos nearest *phash*, nearest first."""
        neighbours = self.index(session).nearest(to_int(phash), limit, max_distance)
        return _matches(session, [(n.ref, n.distance) for n in neighbours])

    def match_photo(
        self,
        session: Session,
        data: bytes,
        limits: Limits,
        limit: int,
        max_distance: int,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> tuple[str, list[PhotoMatch]]:
        """A query photo, checked as every upload is and hashed within a memory budget: its
        pHash and the reference photos nearest it. Nothing is stored."""
        phash = query_hash(check_header(data, limits, filename, content_type), limits)
        return phash, self.match(session, phash, limit, max_distance)

    def near_duplicates(self, session: Session, phash: str, limit: int = 10) -> list[PhotoMatch]:
        return self.match(session, phash, limit, NEAR_DUPLICATE)


def _matches(session: Session, found: Sequence[tuple[int, int]]) -> list[PhotoMatch]:
    photos = {
        photo.id: photo
        for photo in session.scalars(
            select(models.Photo)
            .where(models.Photo.id.in_([ref for ref, _ in found]))
            .options(selectinload(models.Photo.entry))
        )
    }
    return [PhotoMatch.of(photos[ref], distance) for ref, distance in found if ref in photos]
