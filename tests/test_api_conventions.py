"""One way per API concern, checked over every route: path parameters, list envelopes,
ETags."""

from __future__ import annotations

import pytest

from tests.factories import headers

PROBLEM = "application/problem+json"
ENTRY_PATHS = [
    "/v1/entries/{slug}",
    "/v1/entries/{slug}/revisions",
    "/v1/entries/{slug}/revisions/1",
    "/v1/entries/{slug}/revisions/2/diff",
    "/v1/entries/{slug}/cite",
]
LISTS = [
    "/v1/entries",
    "/v1/sources",
    "/v1/entries/f-7/revisions",
    "/v1/sources/ap-2023-10-19/revisions",
]


@pytest.mark.parametrize("path", ENTRY_PATHS)
def test_a_slug_that_cannot_be_one_is_422_on_every_path(seeded_client, path):
    response = seeded_client.get(path.format(slug="Bad_Slug"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["slug"]
    assert seeded_client.get(path.format(slug="no-such-entry")).status_code == 404


def test_a_bad_key_is_422_on_every_source_path(seeded_client, editor):
    for response in (
        seeded_client.get("/v1/sources/Bad_Key"),
        seeded_client.get("/v1/sources/Bad_Key/revisions"),
        seeded_client.put(
            "/v1/sources/Bad_Key", json={"key": "x", "kind": "other"}, headers=headers(editor, "*")
        ),
    ):
        assert response.status_code == 422, response.text
        assert "key" in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_is_a_page(seeded_client, path):
    body = seeded_client.get(f"{path}?limit=1").json()
    assert {"items", "total", "limit", "next_cursor"} <= set(body)
    assert (len(body["items"]), body["limit"]) == (1, 1)
    seen = list(body["items"])
    while body["next_cursor"]:
        body = seeded_client.get(f"{path}?limit=1&cursor={body['next_cursor']}").json()
        seen += body["items"]
    assert len(seen) == body["total"]
    assert seeded_client.get(f"{path}?cursor=%25").status_code == 422


def test_revisions_page_in_order(seeded_client, editor):
    for version in (1, 2, 3):
        response = seeded_client.patch(
            "/v1/entries/f-7",
            json={"family": f"Synthetic {version}"},
            headers=headers(editor, version),
        )
        assert response.status_code == 200, response.text
    first = seeded_client.get("/v1/entries/f-7/revisions?limit=3").json()
    rest = seeded_client.get(f"/v1/entries/f-7/revisions?cursor={first['next_cursor']}").json()
    assert [r["number"] for r in first["items"] + rest["items"]] == [1, 2, 3, 4]
    assert (first["total"], rest["next_cursor"]) == (4, None)


def test_etags_are_quoted_the_same_way_everywhere(seeded_client):
    entry = seeded_client.get("/v1/entries/f-7")
    source = seeded_client.get("/v1/sources/ap-2023-10-19")
    revision = seeded_client.get("/v1/entries/f-7/revisions/1")
    for response in (entry, source, revision):
        tag = response.headers["ETag"]
        assert len(tag) > 2, tag
        assert (tag[0], tag[-1]) == ('"', '"'), tag
    assert entry.headers["ETag"] == revision.headers["ETag"] == '"1"'
