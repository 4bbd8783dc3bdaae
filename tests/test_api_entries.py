"""The read API over HTTP: listing, filtering, paging, entries with their sources, errors."""

import re

import httpx2
import pytest

from tests.factories import import_document

PROBLEM = "application/problem+json"


def slugs(response: httpx2.Response) -> list[str]:
    return [item["slug"] for item in response.json()["items"]]


def test_lists_the_three_seed_entries_with_links(seeded_client):
    response = seeded_client.get("/v1/entries")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert slugs(response) == ["bang-122", "f-7", "type-58"]
    assert body["items"][0]["url"].endswith("/v1/entries/bang-122")
    assert body["items"][0]["markings"] == ["Bang-122"]
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=rifle", ["type-58"]),
        ("category=rocket-propelled%20grenade", ["f-7"]),
        ("country=kp", ["bang-122", "f-7", "type-58"]),
        ("country=IL", []),
        ("calibre=122", ["bang-122"]),
        ("calibre=7.62", []),
        ("q=type%2058", ["type-58"]),
        ("q=F-7", ["f-7"]),
        ("q=100%25", []),  # a LIKE wildcard is a literal character, not "anything"
        ("marking=bang", ["bang-122"]),
        ("marking=F-7", ["f-7"]),  # its designation, as the matcher reads markings
        ("marking=%EB%B0%A9-122", ["bang-122"]),  # 방-122
        ("category=rifle&country=KP&q=58", ["type-58"]),
    ],
)
def test_filters(seeded_client, query, expected):
    response = seeded_client.get(f"/v1/entries?{query}")
    assert response.status_code == 200, response.text
    assert slugs(response) == expected
    assert response.json()["total"] == len(expected)


def test_pages_follow_the_cursor_in_stable_order(seeded_client):
    seen, cursor = [], None
    while True:
        url = "/v1/entries?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = seeded_client.get(url).json()
        assert body["total"] == 3
        seen += [item["slug"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["bang-122", "f-7", "type-58"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=tank", "category"),
        ("country=North%20Korea", "country"),
        ("calibre=-5", "calibre"),
        ("calibre=big", "calibre"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("status=deleted", "status"),
        ("cursor=%25%25%25", "cursor"),
    ],
)
def test_bad_filter_values_are_problems_naming_the_field(seeded_client, query, field):
    response = seeded_client.get(f"/v1/entries?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert field in [error["field"] for error in problem["errors"]]
    assert problem["detail"]


def test_an_entry_with_its_claims_and_their_sources(seeded_client):
    response = seeded_client.get("/v1/entries/bang-122")
    assert response.status_code == 200
    entry = response.json()
    assert entry["calibre_mm"] == 122
    assert entry["country_name"] == "North Korea"
    assert entry["markings"][0]["text"] == "Bang-122"
    marking_citation = entry["markings"][0]["citations"][0]
    assert marking_citation["source"] == "upi-2023-10-17"
    assert marking_citation["via"] == "op-ed-2024-02-24"
    assert marking_citation["confidence"] == "reported"
    assert "Bang-122" in marking_citation["quote"]
    assert {c["field"] for c in entry["citations"]} == {
        "description",
        "category",
        "calibre",
        "country",
    }
    assert [s["key"] for s in entry["sources"]] == ["op-ed-2024-02-24", "upi-2023-10-17"]
    assert entry["instances"][0]["place"] == "Israel–Gaza border"


def test_what_the_sources_do_not_say_stays_empty(seeded_client):
    rifle = seeded_client.get("/v1/entries/type-58").json()
    assert rifle["calibre_mm"] is None
    assert rifle["markings"] == []
    assert rifle["features"] == []
    assert rifle["family"] == "Kalashnikov"


def test_unknown_slug_is_a_404_problem(seeded_client):
    response = seeded_client.get("/v1/entries/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "no-such-thing" in response.json()["detail"]


def test_unknown_path_is_a_404_problem(client):
    response = client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_sources_are_listed_and_read_by_key(seeded_client):
    body = seeded_client.get("/v1/sources").json()
    assert body["total"] == 6
    keys = [s["key"] for s in body["items"]]
    assert keys == sorted(keys)
    ap = seeded_client.get("/v1/sources/ap-2023-10-19").json()
    assert ap["publisher"] == "Associated Press"
    assert ap["published"] == "2023-10-19"
    assert seeded_client.get("/v1/sources/nope").status_code == 404


def test_health_reports_the_schema_revision(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["schema_revision"] == response.json()["expected_revision"]


def test_openapi_documents_the_read_api(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/entries", "/v1/entries/{slug}", "/v1/sources", "/healthz"} <= set(spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200
    # Everything the docs page loads comes from this service: it works offline.
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text) + re.findall(
        r"url: '([^']+)'", docs.text
    )
    assert assets
    for asset in assets:
        assert asset.startswith("/"), asset
        assert client.get(asset).status_code == 200, asset


def test_text_search_folds_case_in_every_script(sessions, client):
    document = {
        "entries": [
            {
                "slug": "synthetic-cyrillic",
                "name": "Синтетическая запись (test data)",
                "status": "published",
                "names": [{"text": "ТИП 99", "script": "Cyrl", "kind": "designation"}],
            }
        ]
    }
    import_document(sessions, document)
    assert slugs(client.get("/v1/entries?q=СИНТЕТИЧЕСКАЯ")) == ["synthetic-cyrillic"]
    assert slugs(client.get("/v1/entries?q=тип%2099")) == ["synthetic-cyrillic"]
