"""Hostile request bodies on every endpoint that takes one: a clear 4xx naming what is wrong,
never a 5xx, and the catalogue exactly as it was (a full export compared before and after).
Valid but hostile-looking text is stored verbatim, never interpreted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import exported, headers
from tests.photo_support import jpeg

PROBLEM = "application/problem+json"
ENTRY = {"slug": "synthetic-hostile", "name": "Synthetic hostile-input test entry"}

# (method, path, needs If-Match) of every endpoint with a JSON body.
JSON_ENDPOINTS = [
    ("POST", "/v1/entries", False),
    ("PATCH", "/v1/entries/f-7", True),
    ("POST", "/v1/entries/f-7/markings", True),
    ("PUT", "/v1/entries/type-58/names/0", True),
    ("POST", "/v1/entries/f-7/retraction", True),
    ("POST", "/v1/sources", False),
    ("POST", "/v1/match", False),
]

DEEPLY_NESTED = ('{"markings": ' + "[" * 50_000 + "]" * 50_000 + "}").encode()

MALFORMED_BODIES = [
    pytest.param(b'{"slug": ', 422, id="truncated"),
    pytest.param(b"{'slug': 'x'}", 422, id="single-quoted"),
    pytest.param(b"\xff\xfe{}", 422, id="not-utf8"),
    pytest.param(b"", 422, id="empty"),
    pytest.param(b"null", 422, id="null"),
    pytest.param(b"[1, 2, 3]", 422, id="array"),
    pytest.param(DEEPLY_NESTED, 400, id="deeply-nested"),
    pytest.param(b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}', 413, id="huge"),
]


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["detail"]
    return body


@pytest.mark.parametrize(("method", "path", "versioned"), JSON_ENDPOINTS)
@pytest.mark.parametrize(("content", "status"), MALFORMED_BODIES)
def test_malformed_bodies_are_refused_and_change_nothing(
    seeded, seeded_client, admin, method, path, versioned, content, status
):
    before = exported(seeded)
    response = seeded_client.request(
        method,
        path,
        content=content,
        headers={**headers(admin, 1 if versioned else None), "Content-Type": "application/json"},
    )
    assert_problem(response, status)
    assert exported(seeded) == before


WRONG_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({**ENTRY, "slug": 5}, "slug"),
    ({**ENTRY, "name": ["a"]}, "name"),
    ({**ENTRY, "name": "x" * 100_000}, "name"),
    ({**ENTRY, "name": "NUL\x00inside"}, "name"),
    ({**ENTRY, "name": "lone \ud800 surrogate"}, "name"),
    ({**ENTRY, "name": "\u202egnab-221"}, "name"),  # displays as another text than it is
    ({**ENTRY, "slug": "../../etc/passwd"}, "slug"),
    ({**ENTRY, "slug": "a'; DROP TABLE entries; --"}, "slug"),
    ({**ENTRY, "category": "' OR 1=1 --"}, "category"),
    ({**ENTRY, "calibre_mm": "122 mm"}, "calibre_mm"),
    ({**ENTRY, "calibre_mm": 1e308}, "calibre_mm"),
    ({**ENTRY, "markings": [{"text": "F-7", "pattern": "{lot"}]}, "markings[0].pattern"),
    ({**ENTRY, "markings": [{"text": "x"}] * 100_000}, "(body)"),
    ({**ENTRY, "unknown": True}, "unknown"),
]


@pytest.mark.parametrize(("body", "field"), WRONG_FIELDS)
def test_wrong_values_name_their_field_and_change_nothing(
    seeded, seeded_client, editor, body, field
):
    before = exported(seeded)
    # json.dumps keeps a lone surrogate as an escape, as a hostile client would send it.
    content = json.dumps(body).encode()
    response = seeded_client.post(
        "/v1/entries",
        content=content,
        headers={**headers(editor), "Content-Type": "application/json"},
    )
    if response.status_code == 413:  # a body past the size limit: refused before parsing
        assert_problem(response, 413)
    else:
        problem = assert_problem(response, 422)
        fields = [error["field"] for error in problem["errors"]]
        assert field in fields or field == "(body)", fields
    assert exported(seeded) == before


@pytest.mark.parametrize(
    "text",
    [
        "' OR 1=1 --",
        "'; DROP TABLE entries; --",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "Bang\u200d-122 (zero-width joiner)",
        "방-122 ١٢٢ 58式 Тип",
    ],
)
def test_hostile_looking_text_is_stored_verbatim(seeded_client, editor, text):
    body = {**ENTRY, "name": text, "markings": [{"text": text[:200]}]}
    response = seeded_client.post("/v1/entries", json=body, headers=headers(editor))
    assert response.status_code == 201, response.text
    stored = seeded_client.get("/v1/entries/synthetic-hostile").json()
    assert stored["name"] == text
    assert stored["markings"][0]["text"] == text
    assert seeded_client.get("/v1/entries").json()["total"] == 3  # a draft: not listed


HOSTILE_IMAGES = [
    pytest.param(("x.jpg", b"<?php system($_GET['c']); ?>", "image/jpeg"), 415, id="script"),
    pytest.param(("x.svg", b"<svg onload='alert(1)'/>", "image/svg+xml"), 415, id="svg"),
    pytest.param(("../../x.jpg", jpeg(1)[:300], "image/jpeg"), 422, id="traversal-truncated"),
    pytest.param(("x.png", jpeg(2), "image/png"), 422, id="lying-type"),
]


@pytest.mark.parametrize(("file", "status"), HOSTILE_IMAGES)
@pytest.mark.parametrize("path", ["/v1/entries/f-7/photos", "/v1/match/photo"])
def test_hostile_images_are_refused_and_change_nothing(
    seeded, seeded_client, editor, settings, path, file, status
):
    before = exported(seeded)
    response = seeded_client.post(
        path,
        files={"file": file},
        data={"credit": "Synthetic test", "licence": "CC0"},
        headers=headers(editor, note="Hostile upload test"),
    )
    problem = assert_problem(response, status)
    assert [error["field"] for error in problem["errors"]] == ["file"]
    assert exported(seeded) == before
    stored = [p for p in settings.images_dir.rglob("*") if p.is_file()]
    assert stored == []


def test_malformed_json_names_the_body_and_where_it_breaks(seeded_client):
    response = seeded_client.post(
        "/v1/match", content=b'{"markings": [', headers={"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "(body)"
    assert problem["errors"][0]["reason"].startswith("invalid JSON at character 14")
