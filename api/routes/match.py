"""Matching against the catalogue: observed markings, and photos against the reference
photos."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from functools import partial
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from limits import parse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from api.asgi import header_value
from api.dependencies import (
    AppSettings,
    BaseUrl,
    DbSession,
    MarkingMatcher,
    PhotoMatching,
    RateCounts,
    UploadLimits,
    base_of,
    get_resources,
)
from api.limits import client_of, limit_of
from api.problems import PROBLEM_RESPONSES, Problem, problem_of, problem_response
from api.responses import JsonBody, MatchedPhoto, entry_url
from api.routes.photos import UPLOAD_PROBLEMS, PhotoFile, upload_of
from weaponsdb.matching.batch import MAX_BATCH, BatchAnswer, answered
from weaponsdb.matching.matcher import Matcher, MatchQuery
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
    lacked_variant_score: float = Field(
        ge=0,
        le=1,
        description="The probability that the item is instead a variant of this entry that "
        "the catalogue lacks, one a character apart where the match assumed a misreading "
        "(Type 56 where the catalogue holds Type 58); 0 where no assumed misreading could "
        "be a variant's difference. Part of why an answer is not confident.",
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
            lacked_variant_score=candidate.lacked_variant,
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
    matching_index: str = Field(
        default="ready",
        description="'ready'; or 'building' while the service's match index is built, when "
        "the answer comes from the catalogue texts sharing a run of three letters or digits "
        "with a marking (misreadings are not searched: ask again when /healthz says ready).",
    )


@router.post(
    "/match",
    summary="Which entries bear these markings?",
    description="Ranks published entries by how well their markings and names match what was "
    "read off an item, in any script, misread or partly illegible; each candidate says why. "
    "A query with no legible marking is refused (422). Rate limited per client (429).",
    response_model=MatchResponse,
)
async def match(
    query: Annotated[MatchQuery, Body(openapi_examples=EXAMPLES)], request: Request
) -> Response:
    # The hot path of the service: resources from the request, not by dependencies (see
    # get_resources); one trip to a thread (asyncio's, which costs less than FastAPI's
    # through anyio), where the session is opened and closed rather than by a dependency
    # (two more trips); and the answer, validated as it is built, written as it stands
    # rather than validated again by FastAPI.
    resources = get_resources(request)
    return await asyncio.to_thread(
        _matched, query, resources.sessions, resources.matcher, base_of(request)
    )


def _matched(
    query: MatchQuery, sessions: sessionmaker[Session], matcher: Matcher, base: str
) -> Response:
    with sessions() as session:
        result = matcher.match(session, query)
    answer = MatchResponse(
        query=query,
        candidates=[CandidateOut.of(n, c, base) for n, c in enumerate(result.candidates, 1)],
        confident=result.confident,
        catalogue_generation=result.generation,
        indexed_texts=result.indexed_texts,
        matching_index=result.index_state,
    )
    return JsonBody(answer)


BATCH_PATH = "/v1/match/batch"
NDJSON = "application/x-ndjson"
GENERATION_HEADER = "X-Catalogue-Generation"
BATCH_EXAMPLES: dict[str, Any] = {
    "reconcile": {
        "summary": "Items of an inventory, one bad",
        "value": {
            "queries": [
                {"id": "item-1", "markings": ["방-122"]},
                {"id": "item-2", "markings": ["F-7"], "category": "rocket"},
                {"id": "item-3", "markings": ["???"]},
            ]
        },
    }
}


class BatchRequest(BaseModel):
    queries: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="Up to 1,000 match queries, each an object with the fields of a "
        "`POST /v1/match` body and the caller's `id` for it (1-200 characters). Each is "
        "checked on its own: a bad one is answered with its problem, the others are matched.",
    )


class BatchItemOut(BaseModel):
    index: int = Field(description="The query's position in the batch, from 0.")
    id: str | None = Field(description="The query's id, as sent (null if it had no usable one).")
    candidates: list[CandidateOut] | None = Field(
        default=None, description="As `POST /v1/match` answers them; absent with a problem."
    )
    confident: bool | None = None
    problem: Problem | None = Field(
        default=None, description="Why this query was not matched (422, naming its fields)."
    )

    @classmethod
    def of(cls, answer: BatchAnswer, base: str) -> BatchItemOut:
        if answer.result is None:
            assert answer.error is not None
            fields = answer.error.errors
            message = answer.error.message
            problem = problem_of(422, "validation_error", message, BATCH_PATH, fields)
            return cls(index=answer.index, id=answer.id, problem=problem)
        candidates = answer.result.candidates
        return cls(
            index=answer.index,
            id=answer.id,
            candidates=[CandidateOut.of(n, c, base) for n, c in enumerate(candidates, 1)],
            confident=answer.result.confident,
        )


class BatchResponse(BaseModel):
    results: list[BatchItemOut] = Field(description="One per query, in the order sent.")
    catalogue_generation: int = Field(description="The one generation every query met.")
    indexed_texts: int


@router.post(
    "/match/batch",
    summary="Match many items at once",
    response_model=BatchResponse,
    responses={
        200: {
            "content": {
                NDJSON: {
                    "schema": {"$ref": "#/components/schemas/BatchItemOut"},
                    "example": '{"index":0,"id":"item-1","candidates":[...],"confident":true}',
                }
            },
            "description": "JSON; or, asked for with `Accept: application/x-ndjson`, one "
            "result (a BatchItemOut) a line, streamed as each query is matched.",
            "headers": {
                GENERATION_HEADER: {
                    "description": "The catalogue generation every query met.",
                    "schema": {"type": "integer"},
                }
            },
        }
    },
)
def match_batch(
    batch: Annotated[BatchRequest, Body(openapi_examples=BATCH_EXAMPLES)],
    request: Request,
    session: DbSession,
    matcher: MarkingMatcher,
    counts: RateCounts,
    settings: AppSettings,
    base: BaseUrl,
) -> Response:
    """Answers each query as `POST /v1/match` would, in order, all against one catalogue
    generation. Rate limited per client by the number of queries
    (`WEAPONSDB_MATCH_BATCH_RATE_LIMIT`; 429 with Retry-After). Large batches are best
    streamed: send `Accept: application/x-ndjson` and read a line per query as it is done."""
    rate = parse(settings.match_batch_rate_limit)
    key = f"{BATCH_PATH} {client_of(request.scope)}"
    verdict = counts.hit(key, *limit_of(rate), cost=len(batch.queries))
    if not verdict.allowed:
        detail = (
            f"This client sent more than {rate} queries in batches; "
            f"try again in {verdict.retry_after} s."
        )
        headers = {"Retry-After": str(verdict.retry_after)}
        return problem_response(request, 429, "rate_limited", detail, None, headers)
    index = matcher.index(session)  # one generation for the whole batch
    headers = {GENERATION_HEADER: str(index.generation)}
    processes = settings.match_batch_processes
    if NDJSON in (header_value(request.scope, "accept") or ""):
        lines = answered(matcher, index, batch.queries, partial(_line, base=base), processes)
        return StreamingResponse(_few_at_a_time(lines), media_type=NDJSON, headers=headers)
    results = answered(matcher, index, batch.queries, partial(_item, base=base), processes)
    whole = {
        "results": list(results),
        "catalogue_generation": index.generation,
        "indexed_texts": index.texts,
    }
    return JSONResponse(whole, headers=headers)


def _item(answer: BatchAnswer, base: str) -> dict[str, Any]:
    return BatchItemOut.of(answer, base).model_dump(mode="json")


def _line(answer: BatchAnswer, base: str) -> str:
    return BatchItemOut.of(answer, base).model_dump_json() + "\n"


# Lines of a streamed batch made at a time, in one trip to a thread: a trip per line cost
# about a sixth of each query's time beside the matcher's.
STREAMED_LINES = 16


async def _few_at_a_time(lines: Iterator[str]) -> AsyncIterator[str]:
    """The lines, made in a thread (matching holds the interpreter a while) a few at a time;
    each few sent as soon as they are made."""
    while chunk := await asyncio.to_thread(lambda: "".join(islice(lines, STREAMED_LINES))):
        yield chunk


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
