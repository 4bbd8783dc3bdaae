"""The reconciliation service OpenRefine speaks (W3C Entity Reconciliation API v0.2): the
manifest, batches of queries by GET or POST, previews, suggestions and data extension. The
answers are the core's (weaponsdb/reconciling.py), shaped as the specification says."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AfterValidator

from api.dependencies import BaseUrl, DbSession, MarkingMatcher
from api.problems import PROBLEM_RESPONSES
from api.web.templating import templates
from weaponsdb import __version__, reconciling
from weaponsdb.catalogue import convert
from weaponsdb.catalogue.read import get_entry
from weaponsdb.errors import NotFoundError
from weaponsdb.schemas import PRINTABLE_PATTERN, declared, printable
from weaponsdb.vocab import Category, Status

PATH = "/reconcile"
router = APIRouter(prefix=PATH, tags=["reconcile"], responses=PROBLEM_RESPONSES)

# A preview is shown in a frame of the client's page (OpenRefine's), wherever it runs.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors *"
)
PREVIEW_SIZE = (400, 160)

QueriesParameter = Annotated[
    str | None,
    Query(
        description="A JSON object of queries by name, e.g. "
        '`{"q0": {"query": "방-122", "type": "rocket", "properties": '
        '[{"pid": "calibre", "v": "122"}]}}`.'
    ),
]
ExtendParameter = Annotated[
    str | None,
    Query(description='`{"ids": ["bang-122"], "properties": [{"id": "calibre"}]}`.'),
]


@router.get(
    "",
    summary="Reconciliation service: the manifest, or the answers to `queries` or `extend`",
    description="Without parameters, the service manifest. With `queries`, candidate entries "
    "for each query ranked by the marking matcher; `match` is true only for a confident, "
    "unambiguous candidate. With `extend`, values of the entries' properties. Rate limited "
    "per client with the match endpoints (429).",
)
def service(
    session: DbSession,
    matcher: MarkingMatcher,
    base: BaseUrl,
    queries: QueriesParameter = None,
    extend: ExtendParameter = None,
) -> dict[str, Any]:
    return answer(session, matcher, base, queries, extend)


@router.post(
    "",
    summary="Reconciliation queries or data extension, as a form",
    description="The same as GET, with `queries` or `extend` as form fields (OpenRefine's way).",
)
def service_form(
    session: DbSession,
    matcher: MarkingMatcher,
    base: BaseUrl,
    queries: Annotated[str | None, Form()] = None,
    extend: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    return answer(session, matcher, base, queries, extend)


def answer(
    session: DbSession, matcher: MarkingMatcher, base: str, queries: str | None, extend: str | None
) -> dict[str, Any]:
    if queries is not None:
        batch = reconciling.parse_batch(queries)
        found = reconciling.reconcile(session, matcher, batch)
        return {
            name: {"result": [_candidate(a) for a in answers]} for name, answers in found.items()
        }
    if extend is not None:
        return _extended(session, reconciling.parse_extend(extend), base)
    return manifest(base)


def _type(category: str) -> dict[str, str]:
    return {"id": category, "name": reconciling.type_name(category)}


def manifest(base: str) -> dict[str, Any]:
    def service_path(path: str) -> dict[str, str]:
        return {"service_url": base, "service_path": f"{PATH}/{path}"}

    return {
        "versions": ["0.2"],
        "name": "weaponsdb",
        "identifierSpace": f"{base}/entries/",
        "schemaSpace": f"{base}{PATH}/properties/",
        "documentation": f"{base}/docs",
        "serviceVersion": __version__,
        "view": {"url": f"{base}/entries/{{{{id}}}}"},
        "defaultTypes": [_type(c.value) for c in Category],
        "preview": {
            "url": f"{base}{PATH}/preview?id={{{{id}}}}",
            "width": PREVIEW_SIZE[0],
            "height": PREVIEW_SIZE[1],
        },
        "suggest": {
            "entity": service_path("suggest/entity"),
            "type": service_path("suggest/type"),
            "property": service_path("suggest/property"),
        },
        "extend": {"propose_properties": service_path("propose_properties")},
    }


def _candidate(found: reconciling.Answer) -> dict[str, Any]:
    return {
        "id": found.slug,
        "name": found.name,
        "description": found.description,
        "score": found.score,
        "match": found.match,
        "type": [_type(found.category)] if found.category else [],
        "features": [{"id": f.id, "value": f.value} for f in found.features],
    }


def _extended(session: DbSession, query: reconciling.ExtendQuery, base: str) -> dict[str, Any]:
    ids = [p.id for p in query.properties]
    return {
        "meta": [{"id": pid, "name": name} for pid, name in reconciling.names(ids)],
        "rows": reconciling.extend(session, query, f"{base}/entries/{{slug}}"),
    }


@router.get("/preview", summary="A small card of an entry, for OpenRefine's preview")
def preview(
    request: Request,
    session: DbSession,
    base: BaseUrl,
    id: Annotated[str, Query(max_length=80, description="The entry's slug.")],
) -> HTMLResponse:
    entry = get_entry(session, id)
    if entry.status != Status.PUBLISHED.value:
        raise NotFoundError(f"No published entry has the slug '{id}'.")
    record = convert.entry_record(entry)
    response = templates.TemplateResponse(
        request,
        "reconcile_preview.html",
        {
            "entry": record,
            "summary": reconciling.summary(entry),
            "url": f"{base}/entries/{record.slug}",
        },
    )
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return response


Prefix = Annotated[
    str,
    Query(max_length=200, description="What has been typed so far."),
    AfterValidator(printable),
    declared(pattern=PRINTABLE_PATTERN),
]


def _suggestions(found: list[reconciling.Suggestion]) -> dict[str, Any]:
    return {
        "result": [
            {
                "id": s.id,
                "name": s.name,
                **({"description": s.description} if s.description else {}),
            }
            for s in found
        ]
    }


@router.get("/suggest/entity", summary="Entries whose names hold the prefix")
def suggest_entity(session: DbSession, prefix: Prefix) -> dict[str, Any]:
    return _suggestions(reconciling.suggest_entities(session, prefix))


@router.get("/suggest/type", summary="Categories whose names hold the prefix")
def suggest_type(prefix: Prefix) -> dict[str, Any]:
    return _suggestions(reconciling.suggest_types(prefix))


@router.get("/suggest/property", summary="Query properties whose names hold the prefix")
def suggest_property(prefix: Prefix) -> dict[str, Any]:
    return _suggestions(reconciling.suggest_properties(prefix))


@router.get("/propose_properties", summary="Properties a reconciled column can be extended with")
def propose_properties(
    type: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> Response:
    names = reconciling.names(list(reconciling.EXTEND_PROPERTIES))[:limit]
    body: dict[str, Any] = {"properties": [{"id": pid, "name": name} for pid, name in names]}
    if type is not None:
        body["type"] = type
    if limit is not None:
        body["limit"] = limit
    return JSONResponse(body)
