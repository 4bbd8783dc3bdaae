"""Errors as RFC 9457 problem details (application/problem+json); a person's browser
asking for a page (not the API) gets the same message as a page instead."""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi import header_value
from api.web.templating import error_page
from weaponsdb.errors import (
    ConflictError,
    DependencyUnavailableError,
    FieldError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PreconditionFailedError,
    PreconditionRequiredError,
    UnauthenticatedError,
    UnsupportedMediaTypeError,
    WeaponsdbError,
    field_path,
)

PROBLEM_JSON = "application/problem+json"


class ProblemField(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details, with *code* for programs and *errors* per field."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[ProblemField] = []


def problem_of(
    status: int, code: str, detail: str, instance: str, errors: list[FieldError] | None
) -> Problem:
    return Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        instance=instance,
        errors=[ProblemField(field=e.field, reason=e.reason) for e in errors or []],
    )


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if wants_page(request.scope):
        return HTMLResponse(error_page(status, detail), status, headers=headers)
    body = problem_of(status, code, detail, request.url.path, errors)
    return JSONResponse(
        body.model_dump(exclude_none=True), status, headers=headers, media_type=PROBLEM_JSON
    )


def wants_page(scope: Scope) -> bool:
    """A browser navigating to a page; the API's own paths always answer problems."""
    accept = header_value(scope, "accept") or ""
    return "text/html" in accept and not scope["path"].startswith(("/v1/", "/docs", "/redoc"))


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    """A problem answer from ASGI middleware, below the reach of FastAPI's handlers."""
    page = wants_page(scope)
    body = (
        error_page(status, detail)
        if page
        else problem_of(status, code, detail, scope["path"], None).model_dump_json()
    ).encode()
    raw_headers = [
        (b"content-type", b"text/html; charset=utf-8" if page else PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


DOMAIN_STATUS: dict[type[WeaponsdbError], tuple[int, str]] = {
    NotFoundError: (404, "not_found"),
    ConflictError: (409, "conflict"),
    InvalidInputError: (422, "invalid_input"),
    UnauthenticatedError: (401, "unauthenticated"),
    ForbiddenError: (403, "forbidden"),
    PreconditionFailedError: (412, "version_mismatch"),
    PreconditionRequiredError: (428, "version_required"),
    PayloadTooLargeError: (413, "too_large"),
    UnsupportedMediaTypeError: (415, "unsupported_media_type"),
    # The API answers these by _unavailable (the code names the dependency); pages use this.
    DependencyUnavailableError: (503, "unavailable"),
}


def status_of(error: WeaponsdbError) -> tuple[int, str]:
    """The HTTP status and stable code of a domain error."""
    return next(
        (v for cls, v in DOMAIN_STATUS.items() if isinstance(error, cls)), (400, "bad_request")
    )


async def _domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, WeaponsdbError)
    if isinstance(error, DependencyUnavailableError):
        return _unavailable(request, error)
    status, code = status_of(error)
    # RFC 9110: a 401 says how to authenticate.
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem_response(request, status, code, error.message, error.errors, headers)


def _unavailable(request: Request, error: DependencyUnavailableError) -> Response:
    """503 naming what is out of reach, with when to try again; logged once a minute per
    dependency, so that an outage does not flood the log."""
    cause = error.__cause__ or error
    if _outage_log.due(error.dependency):
        logger.error("%s unavailable: %s", error.dependency, cause, exc_info=cause)
    code = f"{error.dependency.replace(' ', '_')}_unavailable"
    headers = {"Retry-After": str(error.retry_after_seconds)}
    return problem_response(request, 503, code, error.message, headers=headers)


async def _database_error(request: Request, error: Exception) -> Response:
    """The database refused or lost the connection, or did not answer in time."""
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    unavailable = DependencyUnavailableError(
        "database", f"The database cannot be reached ({reason}); try again later."
    )
    unavailable.__cause__ = error
    return _unavailable(request, unavailable)


class _OncePerInterval:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[str, float] = {}

    def due(self, name: str) -> bool:
        now = time.monotonic()
        if now - self._last.get(name, -self.seconds) < self.seconds:
            return False
        self._last[name] = now
        return True


_outage_log = _OncePerInterval(60.0)
logger = logging.getLogger("weaponsdb.errors")


def _field_path(location: tuple[Any, ...]) -> str:
    # ("query", "limit") -> "limit"; ("body", "markings", 0, "text") -> "markings[0].text"
    parts = (
        location[1:]
        if location and location[0] in ("query", "path", "body", "header")
        else location
    )
    return field_path(parts) or "(request)"


def _field_error(error: Any) -> FieldError:
    if error["type"] == "json_invalid":  # its location is a character offset, not a field
        reason = error.get("ctx", {}).get("error", "malformed")
        return FieldError("(body)", f"invalid JSON at character {error['loc'][-1]}: {reason}")
    return FieldError(_field_path(tuple(error["loc"])), error["msg"])


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    errors = [_field_error(e) for e in error.errors()]
    fields = ", ".join(sorted({e.field for e in errors}))
    return problem_response(
        request, 422, "validation_error", f"The request has invalid values: {fields}.", errors
    )


UNPARSABLE_BODY = "There was an error parsing the body"


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    detail = str(error.detail) if error.detail else HTTPStatus(error.status_code).phrase
    if error.status_code == 404 and detail == "Not Found":
        detail = f"There is nothing at {request.url.path}."
    code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    headers = dict(getattr(error, "headers", None) or {})
    errors: list[FieldError] = []
    if error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
        headers["Allow"] = ", ".join(_allowed_methods(request))
    if error.status_code == 400 and detail == UNPARSABLE_BODY:  # FastAPI's words
        detail = "The request body cannot be read as JSON."
        errors = [FieldError("(body)", "unreadable JSON, e.g. nested too deeply")]
    return problem_response(request, error.status_code, code, detail, errors, headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route offers at this path; Starlette names only the first route's,
    and reads and writes of one path live in different routers."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(request.url.path):
            methods |= route.methods
    return sorted(methods)


async def _unexpected_error(request: Request, _: Exception) -> Response:
    # Details stay in the server log; the client gets a problem it can quote to us.
    return problem_response(request, 500, "internal_error", UNEXPECTED)


class UnexpectedErrors:
    """Innermost middleware: a failure no handler knows becomes a 500 problem here, inside
    the other middleware, so that it still carries the request id and security headers and
    the server keeps the connection usable. Starlette's own last-resort handler answers
    outside them all and then drops the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started:  # half an answer is out; only closing the connection can say so
                raise
            logger.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            await send_problem(scope, send, 500, "internal_error", UNEXPECTED)


UNEXPECTED = "The service failed to answer this request; it is logged."


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected_error)
    # Connection failures, lost connections and timeouts; not a query the database refused.
    for unreachable in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(unreachable, _database_error)
    app.add_exception_handler(WeaponsdbError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": description}
    for status, description in (
        (400, "Malformed request, e.g. a body that is not JSON"),
        (404, "No such resource"),
        (422, "Invalid request: *errors* names each field and the reason"),
    )
}

WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    **{
        status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": description}
        for status, description in (
            (401, "No API key, or one this service never issued"),
            (403, "The API key is revoked, or its role may not do this"),
            (409, "The change conflicts with what is stored (e.g. the slug or key exists)"),
            (413, "The request body is larger than the service accepts"),
            (412, "If-Match names a version that is no longer the current one"),
            (428, "If-Match is missing: changes must name the version they are based on"),
        )
    },
}
