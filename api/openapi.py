"""The OpenAPI description as integrators generate clients from it: every schema with a
title of its own, every problem declared under the media type it is sent with, and the
failures that can meet any operation declared where they can occur."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.problems import PROBLEM_JSON

# Put in a header's json_schema_extra: the header is required, whatever FastAPI says.
ENFORCED_MARK = "x-weaponsdb-enforced"
ENFORCED = {ENFORCED_MARK: True}
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
# FastAPI's own 422 shape, which this service never sends (its 422 is a problem).
UNSENT_SCHEMAS = ("HTTPValidationError", "ValidationError")

ANY_OPERATION = {
    "500": "The service failed; quote the X-Request-ID to us",
    "503": "Something the service needs is out of reach; try again after Retry-After "
    "seconds. `code` names what: `database_unavailable`, `photo_store_unavailable`, or "
    "`reader_unavailable` (Tesseract or a language pack missing on the server).",
}
WITH_A_BODY = {
    "408": "The request body did not arrive whole in time; the connection is closed",
    "413": "The request body is larger than the service accepts",
}
RATE_LIMITED = {"429": "Too many requests from this client; try again after Retry-After seconds"}


def operation_id(route: APIRoute) -> str:
    """The route's function name: what a generated client calls the operation."""
    return route.name


def describe(app: FastAPI, rate_limited_paths: Iterable[str]) -> None:
    """Make app.openapi() give the description, corrected, built once."""
    build: Callable[[], dict[str, Any]] = app.openapi
    limited = set(rate_limited_paths)

    def described() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            _title_schemas_by_name(spec)
            for path, operations in spec["paths"].items():
                for operation in operations.values():
                    _declare_problems(operation, path in limited)
                    _require_headers(operation)
            for name in UNSENT_SCHEMAS:
                spec["components"]["schemas"].pop(name, None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = described  # type: ignore[method-assign]


def _title_schemas_by_name(spec: dict[str, Any]) -> None:
    """Pydantic gives a model's input and output schemas (`EntryRecord-Input`, `-Output`)
    one title, and generators name classes by title, so one of them is lost: each schema is
    titled by its own name instead."""
    for name, schema in spec["components"]["schemas"].items():
        schema["title"] = name


def _declare_problems(operation: dict[str, Any], rate_limited: bool) -> None:
    responses = operation.setdefault("responses", {})
    more = {**ANY_OPERATION}
    if "requestBody" in operation:
        more |= WITH_A_BODY
    if rate_limited:
        more |= RATE_LIMITED
    for status, description in more.items():
        responses.setdefault(status, {"description": description})
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}


def _require_headers(operation: dict[str, Any]) -> None:
    """Headers that FastAPI takes as optional, so that their absence gets this service's own
    answer (428 for If-Match, 422 naming X-Change-Note), are required to a client: their
    declaration marks them (see ENFORCED)."""
    for parameter in operation.get("parameters", []):
        if parameter.get("schema", {}).pop(ENFORCED_MARK, False):
            parameter["required"] = True
            parameter["schema"] = {"type": "string"}  # not null: it must be sent
