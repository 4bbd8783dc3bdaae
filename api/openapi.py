"""The OpenAPI description as integrators generate clients from it: every schema with a
title of its own, every problem declared under the media type it is sent with, and the
failures that can meet any operation declared where they can occur."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.problems import PROBLEM_JSON
from weaponsdb.photos.validation import FORMATS

ENFORCED_MARK = "x-weaponsdb-enforced"


def enforced(**schema: Any) -> dict[str, Any]:
    """A header's json_schema_extra: the header is required, whatever FastAPI says, and
    takes what *schema* says (the string its dependency enforces)."""
    return {ENFORCED_MARK: {"type": "string", **schema}}


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
FORM = "multipart/form-data"
# Every file this API takes is a photo, checked by its content (see photos.validation).
PHOTO_TYPES = ", ".join(f.media_type for f in FORMATS)
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
                    _describe_form(operation, spec["components"]["schemas"])
                    _link(operation)
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
    declaration marks them (see enforced)."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {}).pop(ENFORCED_MARK, None)
        if schema is not None:
            parameter["required"] = True
            parameter["schema"] = schema  # not null: it must be sent


def _describe_form(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A form field left out is absent, never null (a form cannot send null), and a file
    field takes the photo types the service reads, declared as its encoding, never empty."""
    form = operation.get("requestBody", {}).get("content", {}).get(FORM)
    if form is None:
        return
    body = schemas[form["schema"]["$ref"].rsplit("/", 1)[-1]]
    _inline_parts(body, schemas)
    for name, field in body["properties"].items():
        choices = field.pop("anyOf", None)
        if choices is not None:
            field.update(next(c for c in choices if c.get("type") != "null"))
        files = field.get("items", {}) if field.get("type") == "array" else field
        if files.get("contentMediaType") == "application/octet-stream":
            form.setdefault("encoding", {})[name] = {"contentType": PHOTO_TYPES}
            files["minLength"] = 1  # an empty file is refused
            if files is not field:
                field.setdefault("minItems", 1)  # a list of photos has at least one


def _inline_parts(body: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A form made of a model and a file (`allOf` the model, plus the file) as one flat
    object: each form field is a property, as form encoders and generators expect."""
    for part in body.pop("allOf", []):
        model = schemas[part["$ref"].rsplit("/", 1)[-1]]
        body["properties"] = {**model.get("properties", {}), **body.get("properties", {})}
        body["required"] = [*model.get("required", []), *body.get("required", [])]


# What a client can do next with what an answer names (OpenAPI links): an entry answered
# is read, changed (with its ETag), listed by revision and cited; a source likewise.
_ENTRY = {"slug": "$response.body#/slug"}
_ENTRY_LINKS = {
    "GetEntry": ("get_entry", _ENTRY),
    "UpdateEntry": ("update_entry", {**_ENTRY, "header.If-Match": "$response.header.ETag"}),
    "AddName": ("add_name", {**_ENTRY, "header.If-Match": "$response.header.ETag"}),
    "ListRevisions": ("list_revisions", _ENTRY),
    "GetRevision": ("get_revision", {**_ENTRY, "number": "$response.body#/version"}),
    "DiffRevision": ("diff_revisions", {**_ENTRY, "number": "$response.body#/version"}),
    "Cite": ("cite", _ENTRY),
}
_SOURCE = {"key": "$response.body#/key"}
_SOURCE_LINKS = {
    "GetSource": ("get_source", _SOURCE),
    "UpdateSource": ("update_source", {**_SOURCE, "header.If-Match": "$response.header.ETag"}),
    "ListSourceRevisions": ("list_source_revisions", _SOURCE),
}
_FIRST_ENTRY = {"slug": "$response.body#/items/0/slug"}
_LINKS_BY_ANSWER = {
    "EntryDetail": _ENTRY_LINKS,
    "SourceRecord": _SOURCE_LINKS,
    "EntryPage": {"GetFirstEntry": ("get_entry", _FIRST_ENTRY)},
}


def _link(operation: dict[str, Any]) -> None:
    for status, response in operation["responses"].items():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        answer = schema.get("$ref", "").rsplit("/", 1)[-1]
        links = _LINKS_BY_ANSWER.get(answer) if status.startswith("2") else None
        if links:
            response["links"] = {
                name: {"operationId": target, "parameters": parameters}
                for name, (target, parameters) in links.items()
            }
