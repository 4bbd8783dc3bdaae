"""The reconciliation service, as OpenRefine and other clients of the W3C Entity
Reconciliation API v0.2 use it: every kind of answer validated against the specification's
own JSON Schemas (vendored in tests/reconciliation_schemas), and a spreadsheet column
reconciled by an existing client from PyPI (`reconciler`) against the served app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from reconciler import reconcile as client_reconcile
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from api.app import create_app
from tests.factories import add_entries, synthetic_entry
from tests.serving import in_thread

SCHEMAS = Path(__file__).parent / "reconciliation_schemas"


def _load() -> dict[str, dict[str, Any]]:
    schemas = {}
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        # "$schema" names no particular draft ("http://json-schema.org/schema#"); they use
        # draft 7 keywords ("contains").
        schema.pop("$schema", None)
        schemas[path.stem] = schema
    return schemas


LOADED = _load()
# Schemas refer to each other by their $id (manifest.json -> type.json).
REGISTRY: Registry = Registry().with_resources(
    (s["$id"], Resource.from_contents(s, default_specification=DRAFT7)) for s in LOADED.values()
)


def check(schema_name: str, document: Any) -> None:
    """*document* is valid under the specification's schema *schema_name*."""
    Draft7Validator(LOADED[schema_name], registry=REGISTRY).validate(document)


def queries(**batch: dict[str, Any]) -> str:
    check("reconciliation-query-batch", batch)  # what we send is a query the spec allows
    return json.dumps(batch)


# Two synthetic entries bearing the same marking: a query for it is ambiguous.
TWINS = [
    synthetic_entry(
        "twin-a",
        status="published",
        category="mine",
        markings=[{"text": "QZX-4417"}],
        identifiers=[{"scheme": "wikidata", "value": "Q999999901"}],
    ),
    synthetic_entry(
        "twin-b",
        status="published",
        category="hand grenade",
        markings=[{"text": "QZX-4417"}],
    ),
]


@pytest.fixture
def service(seeded_client: TestClient, seeded) -> TestClient:
    add_entries(seeded, *TWINS)
    return seeded_client


def test_manifest_is_valid_and_names_the_entry_pages(service: TestClient) -> None:
    answer = service.get("/reconcile")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    manifest = answer.json()
    check("manifest", manifest)
    assert "0.2" in manifest["versions"]
    assert manifest["identifierSpace"] == "http://testserver/entries/"
    assert manifest["view"]["url"] == "http://testserver/entries/{{id}}"
    assert {"id": "rocket", "name": "Rocket"} in manifest["defaultTypes"]
    view = manifest["view"]["url"].replace("{{id}}", "bang-122").removeprefix("http://testserver")
    assert service.get(view).status_code == 200


def test_queries_by_get_and_post_give_the_same_valid_answers(service: TestClient) -> None:
    batch = queries(
        q0={"query": "방-122"},
        q1={"query": "F7", "type": "rocket-propelled grenade", "limit": 3},
        q2={"query": "QZX-4417"},
        q3={"query": "???"},
    )
    by_get = service.get("/reconcile", params={"queries": batch})
    by_post = service.post("/reconcile", data={"queries": batch})
    assert by_get.status_code == by_post.status_code == 200
    assert by_get.json() == by_post.json()
    results = by_post.json()
    check("reconciliation-result-batch", results)
    first = results["q0"]["result"][0]
    assert (first["id"], first["match"]) == ("bang-122", True)
    assert "transliterated" in first["description"]
    assert {"id": "markings_explained", "value": 1.0} in first["features"]
    assert first["type"] == [{"id": "artillery projectile", "name": "Artillery projectile"}]
    assert results["q1"]["result"][0]["id"] == "f-7"
    twins = results["q2"]["result"]
    assert {c["id"] for c in twins[:2]} == {"twin-a", "twin-b"}
    assert not any(c["match"] for c in twins), "two entries share the marking: no match"
    assert results["q3"]["result"] == []  # nothing legible


def test_type_and_type_strict(service: TestClient) -> None:
    batch = queries(
        strict={"query": "QZX-4417", "type": "mine"},
        any={"query": "QZX-4417", "type": ["mine", "hand grenade"], "type_strict": "any"},
        all={"query": "QZX-4417", "type": ["mine", "hand grenade"], "type_strict": "all"},
        should={"query": "QZX-4417", "type": "mine", "type_strict": "should"},
    )
    results = service.post("/reconcile", data={"queries": batch}).json()
    check("reconciliation-result-batch", results)
    assert [c["id"] for c in results["strict"]["result"]] == ["twin-a"]
    assert {c["id"] for c in results["any"]["result"]} == {"twin-a", "twin-b"}
    assert results["all"]["result"] == []
    should = [c["id"] for c in results["should"]["result"]]
    assert should[:2] == ["twin-a", "twin-b"], "the type raises twin-a, twin-b stays"


def test_properties_raise_and_lower_candidates(service: TestClient) -> None:
    batch = queries(
        q0={
            "query": "QZX-4417",
            "properties": [
                {"pid": "category", "v": "hand grenade"},
                {"pid": "country", "v": {"id": "KP", "name": "North Korea"}},
            ],
        },
        q1={
            "query": "B?ng-1*",
            "properties": [
                {"pid": "calibre", "v": "122 mm"},
                {"pid": "markings", "v": ["Bang-122"]},
            ],
        },
    )
    results = service.post("/reconcile", data={"queries": batch}).json()
    check("reconciliation-result-batch", results)
    top = results["q0"]["result"][0]
    assert top["id"] == "twin-b"
    assert {"id": "category_agrees", "value": True} in top["features"]
    bang = results["q1"]["result"][0]
    assert bang["id"] == "bang-122"
    assert "122 mm agrees" in bang["description"]
    assert {"id": "calibre_mm_agrees", "value": True} in bang["features"]


@pytest.mark.parametrize(
    ("batch", "field"),
    [
        ("{not json", "queries"),
        ('{"q0": {"query": "F-7", "limit": 0}}', "queries.q0.limit"),
        ('{"q0": {"query": "F-7", "type": "spaceship"}}', "queries.q0.type"),
        ('{"q0": {"query": "F-7", "properties": [{"pid": "colour", "v": "red"}]}}', None),
        ('{"q0": {"query": "F-7", "properties": [{"pid": "calibre", "v": "big"}]}}', None),
    ],
)
def test_bad_queries_are_problems_naming_the_field(
    service: TestClient, batch: str, field: str | None
) -> None:
    answer = service.post("/reconcile", data={"queries": batch})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    named = [e["field"] for e in answer.json()["errors"]]
    expected = field or (
        "queries.q0.properties[0].pid" if "colour" in batch else "queries.q0.properties[0].v"
    )
    assert named == [expected]


def test_suggest_services_answer_as_the_spec_says(service: TestClient) -> None:
    entities = service.get("/reconcile/suggest/entity", params={"prefix": "bang"}).json()
    check("suggest-entities-response", entities)
    assert [e["id"] for e in entities["result"]] == ["bang-122"]
    types = service.get("/reconcile/suggest/type", params={"prefix": "gren"}).json()
    check("suggest-types-response", types)
    assert {t["id"] for t in types["result"]} == {
        "grenade launcher",
        "rocket-propelled grenade",
        "hand grenade",
    }
    properties = service.get("/reconcile/suggest/property", params={"prefix": "cal"}).json()
    check("suggest-properties-response", properties)
    assert [p["id"] for p in properties["result"]] == ["calibre"]


def test_extend_gives_the_entries_values(service: TestClient) -> None:
    proposal = service.get("/reconcile/propose_properties", params={"type": "rocket"}).json()
    check("data-extension-property-proposal", proposal)
    wanted = [{"id": p["id"]} for p in proposal["properties"]]
    query = {"ids": ["bang-122", "no-such-entry"], "properties": wanted}
    check("data-extension-query", query)
    answer = service.post("/reconcile", data={"extend": json.dumps(query)})
    assert answer.status_code == 200
    extended = answer.json()
    check("data-extension-response", extended)
    row = extended["rows"]["bang-122"]
    assert row["calibre"] == [{"float": 122.0}]
    assert row["country"] == [{"str": "KP"}]
    assert row["category"] == [{"str": "artillery projectile"}]
    assert row["url"] == [{"str": "http://testserver/entries/bang-122"}]
    assert row["wikidata"] == []
    assert all(values == [] for values in extended["rows"]["no-such-entry"].values())
    twin = service.post(
        "/reconcile",
        data={"extend": json.dumps({"ids": ["twin-a"], "properties": [{"id": "wikidata"}]})},
    ).json()
    check("data-extension-response", twin)
    assert twin["rows"]["twin-a"]["wikidata"] == [{"str": "Q999999901"}]
    bad = service.post("/reconcile", data={"extend": '{"ids": [], "properties": [{"id": "x"}]}'})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["extend.properties[0].id"]


def test_preview_is_a_card_that_may_be_framed(service: TestClient) -> None:
    answer = service.get("/reconcile/preview", params={"id": "bang-122"})
    assert answer.status_code == 200
    assert "Bang-122" in answer.text
    assert "frame-ancestors *" in answer.headers["content-security-policy"]
    assert "x-frame-options" not in answer.headers
    assert service.get("/reconcile/preview", params={"id": "no-such-entry"}).status_code == 404


def test_cors_lets_any_page_use_the_service(service: TestClient) -> None:
    origin = {"Origin": "http://localhost:3333"}
    assert service.get("/reconcile", headers=origin).headers["access-control-allow-origin"] == "*"
    preflight = service.options(
        "/reconcile",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


@pytest.fixture
def endpoint(seeded, settings, engine) -> Iterator[str]:
    add_entries(seeded, *TWINS)
    with in_thread(create_app(settings, engine), settings) as port:
        yield f"http://127.0.0.1:{port}/reconcile"


def test_a_spreadsheet_column_reconciled_by_an_existing_client(endpoint: str) -> None:
    """`reconciler` (PyPI) posts the column in batches as a form, as OpenRefine does, and
    reads back a table of candidates."""
    sheet = pd.DataFrame(
        {
            "seen": ["방-122", "F7", "Type 58", "QZX-4417"],
            "country": ["KP", "KP", "North Korea", "KP"],
        }
    )
    table = client_reconcile(
        sheet["seen"],
        property_mapping={"country": sheet["country"]},
        reconciliation_endpoint=endpoint,
        top_res=1,
    )
    best = {row.input_value: (row.id, bool(row.match)) for row in table.itertuples()}
    assert best["방-122"] == ("bang-122", True)
    assert best["F7"] == ("f-7", True)
    assert best["Type 58"] == ("type-58", True)
    assert best["QZX-4417"][1] is False  # ambiguous between the twins
    typed = client_reconcile(
        sheet["seen"].iloc[3:], type_id="mine", reconciliation_endpoint=endpoint
    )
    assert list(typed["id"]) == ["twin-a"]
    assert list(typed["type_id"]) == ["mine"]
