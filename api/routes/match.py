"""Matching against the catalogue: observed markings, and photos against the reference
photos."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Form
from pydantic import BaseModel, Field

from api.dependencies import BaseUrl, DbSession, MarkingMatcher, PhotoMatching, UploadLimits
from api.problems import PROBLEM_RESPONSES
from api.responses import MatchedPhoto, entry_url
from api.routes.photos import UPLOAD_PROBLEMS, PhotoFile, upload_of
from weaponsdb.matching.matcher import MatchQuery
from weaponsdb.matching.normalise import How
from weaponsdb.matching.scoring import CONFIDENT_SCORE, Candidate, Effect
from weaponsdb.photos.similarity import BITS

router = APIRouter(prefix="/v1", tags=["match"], responses=PROBLEM_RESPONSES)

EXAMPLES: dict[str, Any] = {
    "hangul": {
        "summary": "A marking read in Hangul",
        "value": {"markings": ["방-122"]},
    },
    "illegible": {
        "summary": "Partly illegible, with what else was seen",
        "value": {"markings": ["B?ng-1*"], "calibre_mm": 122, "category": "rocket"},
    },
    "several": {
        "summary": "Several markings on one item",
        "value": {"markings": ["58式", "Тип 58"], "country": "KP", "limit": 5},
    },
}


class MarkingMatchOut(BaseModel):
    observed: str = Field(description="The observed marking, as sent.")
    matched: str = Field(description="The catalogue text it matched, as written there.")
    matched_kind: str = Field(description="'marking', or the kind of name it is.")
    how: How
    detail: str = Field(description="What was done to make the two meet.")
    edits: int = Field(description="Characters changed, for fuzzy matches.")
    score: float = Field(ge=0, le=1)


class EvidenceOut(BaseModel):
    field: str
    effect: Effect
    reason: str


class CandidateOut(BaseModel):
    rank: int
    slug: str
    name: str
    url: str = Field(description="Permanent link to the entry.")
    score: float = Field(
        ge=0,
        le=1,
        description="The probability that this is the entry, calibrated on benchmark queries.",
    )
    category: str | None
    calibre_mm: float | None
    country: str | None
    matches: list[MarkingMatchOut] = Field(description="Why it matched, per observed marking.")
    unmatched: list[str] = Field(description="Observed markings this entry does not explain.")
    evidence: list[EvidenceOut] = Field(description="What else raised or lowered the score.")
    photos: list[str] = Field(description="Thumbnails of its reference photos to compare.")

    @classmethod
    def of(cls, rank: int, candidate: Candidate, base: str) -> CandidateOut:
        entry = candidate.entry
        return cls(
            rank=rank,
            slug=entry.slug,
            name=entry.name,
            url=entry_url(base, entry.slug),
            score=candidate.score,
            category=entry.category,
            calibre_mm=entry.calibre_mm,
            country=entry.country,
            matches=[
                MarkingMatchOut(
                    observed=m.observed,
                    matched=m.matched,
                    matched_kind=m.target_kind,
                    how=m.how,
                    detail=m.detail,
                    edits=m.edits,
                    score=round(m.score, 4),
                )
                for m in candidate.matches
            ],
            unmatched=candidate.unmatched,
            evidence=[
                EvidenceOut(field=e.field, effect=e.effect, reason=e.reason)
                for e in candidate.evidence
            ],
            photos=[f"{base}/v1/photos/{sha256}?size=thumb" for sha256 in entry.photos],
        )


class MatchResponse(BaseModel):
    query: MatchQuery
    candidates: list[CandidateOut] = Field(
        description="Best first; equal scores by the error model's cost, then in slug order."
    )
    confident: bool = Field(
        description=f"Whether the first candidate's score reaches {CONFIDENT_SCORE}; if not, "
        "there is no confident match and the candidates are only suggestions."
    )
    catalogue_generation: int = Field(
        description="Moves whenever the catalogue's names or markings change."
    )
    indexed_texts: int = Field(description="Markings and names searched.")


@router.post(
    "/match",
    summary="Which entries bear these markings?",
    description="Ranks published entries by how well their markings and names match what was "
    "read off an item, in any script, misread or partly illegible; each candidate says why. "
    "A query with no legible marking is refused (422). Rate limited per client (429).",
)
def match(
    query: Annotated[MatchQuery, Body(openapi_examples=EXAMPLES)],
    session: DbSession,
    matcher: MarkingMatcher,
    base: BaseUrl,
) -> MatchResponse:
    result = matcher.match(session, query)
    return MatchResponse(
        query=query,
        candidates=[CandidateOut.of(n, c, base) for n, c in enumerate(result.candidates, 1)],
        confident=result.confident,
        catalogue_generation=result.generation,
        indexed_texts=result.indexed_texts,
    )


class PhotoMatches(BaseModel):
    phash: str = Field(description="Perceptual hash of the photo sent, 16 hex digits.")
    items: list[MatchedPhoto] = Field(description="Nearest first.")


@router.post(
    "/match/photo",
    summary="Find the reference photos nearest a photo",
    tags=["photos"],
    responses=UPLOAD_PROBLEMS,
)
def match_photo(
    file: PhotoFile,
    session: DbSession,
    matcher: PhotoMatching,
    limits: UploadLimits,
    base: BaseUrl,
    limit: Annotated[int, Form(ge=1, le=50, description="How many photos at most.")] = 10,
    max_distance: Annotated[
        int, Form(ge=0, le=BITS, description="Farthest pHash distance to report, in bits.")
    ] = 20,
) -> PhotoMatches:
    """Multipart form with the photo in `file`. Compares its perceptual hash (pHash) with
    those of every reference photo: resized, recompressed and slightly cropped copies come
    out near (a few bits), unrelated photos about 32 bits apart. Nothing is stored."""
    upload = upload_of(file, limits)
    phash, matches = matcher.match_photo(
        session, upload.data, limits, limit, max_distance, upload.filename, upload.content_type
    )
    return PhotoMatches(phash=phash, items=[MatchedPhoto.with_links(m, base) for m in matches])
