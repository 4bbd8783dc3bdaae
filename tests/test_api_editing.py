"""The write API over HTTP: keys, change notes, If-Match, entries, their parts, sources."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
from sqlalchemy import select

from tests.factories import exported, headers, issue_key
from weaponsdb import db, keys, models
from weaponsdb.catalogue.parts import COLLECTIONS

PROBLEM = "application/problem+json"
NEW_ENTRY = {
    "slug": "synthetic-test-rifle",
    "name": "Synthetic test rifle (test data, not a real weapon)",
    "category": "rifle",
    "names": [{"text": "試驗步槍", "script": "Hani", "kind": "alias"}],
    "markings": [{"text": "SYN-1", "script": "Latn", "kind": "model designation"}],
    "relations": [{"kind": "variant of", "target": "type-58"}],
}


def fields(response):
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json()["errors"]]


def test_reads_carry_the_version_as_etag(seeded_client):
    response = seeded_client.get("/v1/entries/f-7")
    assert response.headers["ETag"] == '"1"'
    assert response.json()["version"] == 1
    assert response.json()["revision_url"].endswith("/v1/entries/f-7/revisions/1")


@pytest.mark.parametrize(
    ("make_headers", "status", "field"),
    [
        (lambda key, revoked: headers(None, 1), 401, "Authorization"),
        (lambda key, revoked: headers("wdb_never-issued", 1), 401, "Authorization"),
        (lambda key, revoked: headers(revoked, 1), 403, "Authorization"),
        (lambda key, revoked: headers(key, 1, note=None), 422, "X-Change-Note"),
        (lambda key, revoked: headers(key, 1, note="  "), 422, "X-Change-Note"),
        (lambda key, revoked: headers(key, 1, note="x" * 501), 422, "X-Change-Note"),
        (lambda key, revoked: headers(key, None), 428, "If-Match"),
        (lambda key, revoked: headers(key, 7), 412, "If-Match"),
        (lambda key, revoked: {**headers(key), "If-Match": "W/1"}, 422, "If-Match"),
    ],
)
def test_refused_writes_change_nothing(seeded, seeded_client, editor, make_headers, status, field):
    revoked = issue_key(seeded, "mallory")
    with db.transaction(seeded) as session:
        keys.revoke_key(session, "mallory")
    before = exported(seeded)
    response = seeded_client.patch(
        "/v1/entries/f-7", json={"family": "changed"}, headers=make_headers(editor, revoked)
    )
    assert response.status_code == status, response.text
    assert field in fields(response)
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert exported(seeded) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/v1/entries/f-7", b'{"family": '),
        ("POST", "/v1/entries", b"[" * 10_000),
        ("POST", "/v1/sources", b"not json"),
    ],
)
def test_a_write_without_a_key_is_refused_before_its_body_is_read(
    seeded, seeded_client, method, path, body
):
    before = exported(seeded)
    response = seeded_client.request(
        method, path, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert exported(seeded) == before


def test_an_editor_cannot_retract(seeded_client, editor):
    response = seeded_client.post(
        "/v1/entries/f-7/retraction", json={"reason": "test"}, headers=headers(editor, 1)
    )
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


def test_keys_are_stored_only_as_hashes(seeded, editor):
    with db.transaction(seeded) as session:
        stored = session.scalars(select(models.ApiKey)).all()
    assert [k.secret_sha256 for k in stored] == [hashlib.sha256(editor.encode()).hexdigest()]
    assert all(editor not in str(vars(k).values()) for k in stored)


def test_update_bumps_version_and_records_who_and_why(seeded_client, editor):
    response = seeded_client.patch(
        "/v1/entries/f-7",
        json={"family": "RPG-7 family", "description": None},
        headers=headers(editor, 1, note="Family named by the AP report"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    entry = response.json()
    assert (entry["family"], entry["description"], entry["version"]) == ("RPG-7 family", None, 2)
    revisions = seeded_client.get("/v1/entries/f-7/revisions").json()["items"]
    assert [(r["number"], r["author"]) for r in revisions] == [(1, "seed"), (2, "alice")]
    assert revisions[1]["note"] == "Family named by the AP report"


def test_a_note_outside_ascii_is_percent_encoded(seeded_client, editor):
    note = "Hangul name 방사포 checked"
    response = seeded_client.patch(
        "/v1/entries/f-7", json={"family": "x"}, headers=headers(editor, "*", note=quote(note))
    )
    assert response.status_code == 200, response.text
    assert seeded_client.get("/v1/entries/f-7/revisions").json()["items"][1]["note"] == note


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"country": "North Korea"}, "country"),
        ({"category": "tank"}, "category"),
        ({"calibre_mm": -1}, "calibre_mm"),
        ({"name": None}, "name"),
        ({"slug": "renamed"}, "slug"),
        ({"status": "retracted"}, "status"),
    ],
)
def test_invalid_changes_name_the_field(seeded, seeded_client, editor, body, field):
    before = exported(seeded)
    response = seeded_client.patch("/v1/entries/f-7", json=body, headers=headers(editor, 1))
    assert response.status_code == 422, response.text
    assert field in fields(response)
    assert exported(seeded) == before


def test_create_an_entry_with_its_parts(seeded_client, editor):
    response = seeded_client.post("/v1/entries", json=NEW_ENTRY, headers=headers(editor))
    assert response.status_code == 201, response.text
    assert response.headers["Location"].endswith("/v1/entries/synthetic-test-rifle")
    assert response.headers["ETag"] == '"1"'
    entry = seeded_client.get("/v1/entries/synthetic-test-rifle").json()
    assert entry["names"][0]["text"] == "試驗步槍"
    assert entry["relations"] == [{"kind": "variant of", "target": "type-58", "citations": []}]
    revision = seeded_client.get("/v1/entries/synthetic-test-rifle/revisions/1").json()
    assert revision["author"] == "alice"
    assert revision["snapshot"]["markings"][0]["text"] == "SYN-1"
    again = seeded_client.post("/v1/entries", json=NEW_ENTRY, headers=headers(editor))
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"relations": [{"kind": "variant of", "target": "nowhere"}]}, "relations[0].target"),
        (
            {
                "markings": [
                    {"text": "A", "citations": [{"source": "nope", "confidence": "reported"}]}
                ]
            },
            "markings[0].citations[0].source",
        ),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"status": "retracted", "retraction_reason": "no"}, "retraction_reason"),
        ({"names": [{"text": "x", "kind": "secret name"}]}, "names[0].kind"),
    ],
)
def test_a_bad_new_entry_names_the_field(seeded, seeded_client, editor, change, field):
    before = exported(seeded)
    response = seeded_client.post(
        "/v1/entries", json={**NEW_ENTRY, **change}, headers=headers(editor)
    )
    assert response.status_code == 422, response.text
    assert field in fields(response)
    assert exported(seeded) == before


def test_add_change_and_remove_a_marking(seeded_client, editor):
    marking = {
        "text": "방-122",
        "script": "Hang",
        "citations": [{"source": "upi-2023-10-17", "confidence": "inferred"}],
    }
    added = seeded_client.post(
        "/v1/entries/bang-122/markings", json=marking, headers=headers(editor, 1)
    )
    assert added.status_code == 200, added.text
    assert [m["text"] for m in added.json()["markings"]] == ["Bang-122", "방-122"]
    changed = seeded_client.put(
        "/v1/entries/bang-122/markings/1",
        json={**marking, "language": "ko", "citations": []},
        headers=headers(editor, 2),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["markings"][1]["language"] == "ko"
    assert changed.json()["markings"][1]["citations"] == []
    removed = seeded_client.delete("/v1/entries/bang-122/markings/1", headers=headers(editor, 3))
    assert removed.status_code == 200, removed.text
    assert [m["text"] for m in removed.json()["markings"]] == ["Bang-122"]
    # Removed from the entry, not from its history.
    history = seeded_client.get("/v1/entries/bang-122/revisions/3").json()["snapshot"]
    assert history["markings"][1] == {
        **marking,
        "language": "ko",
        "citations": [],
        "kind": None,
        "position": None,
        "meaning": None,
        "pattern": None,
    }
    missing = seeded_client.delete("/v1/entries/bang-122/markings/5", headers=headers(editor, 4))
    assert missing.status_code == 404


def test_entry_citations_and_instances_are_edited_the_same_way(seeded_client, editor):
    citation = {"source": "ap-2023-10-19", "confidence": "reported", "field": "country"}
    response = seeded_client.post(
        "/v1/entries/f-7/citations", json=citation, headers=headers(editor, 1)
    )
    assert response.status_code == 200, response.text
    assert response.json()["citations"][-1]["source"] == "ap-2023-10-19"
    instance = {"event": "Synthetic test event", "country": "XX"}
    bad = seeded_client.post("/v1/entries/f-7/instances", json=instance, headers=headers(editor, 2))
    assert bad.status_code == 422
    assert "country" in fields(bad)
    bad_source = seeded_client.put(
        "/v1/entries/f-7/citations/0",
        json={**citation, "source": "nope"},
        headers=headers(editor, 2),
    )
    assert bad_source.status_code == 422
    assert fields(bad_source) == ["source"]


def test_a_relation_to_itself_is_refused(seeded_client, editor):
    response = seeded_client.post(
        "/v1/entries/f-7/relations",
        json={"kind": "variant of", "target": "f-7"},
        headers=headers(editor, 1),
    )
    assert response.status_code == 422
    assert fields(response) == ["target"]


def test_a_duplicate_name_is_a_conflict(seeded_client, editor):
    name = seeded_client.get("/v1/entries/f-7").json()["names"][0]
    response = seeded_client.post("/v1/entries/f-7/names", json=name, headers=headers(editor, 1))
    assert response.status_code == 409, response.text
    assert seeded_client.get("/v1/entries/f-7").json()["version"] == 1


def test_retraction_keeps_the_entry_readable_with_its_reason(seeded_client, admin, editor):
    response = seeded_client.post(
        "/v1/entries/f-7/retraction",
        json={"reason": "Synthetic test retraction"},
        headers=headers(admin, 1, note="Retracted in a test"),
    )
    assert response.status_code == 200, response.text
    entry = seeded_client.get("/v1/entries/f-7")
    assert entry.status_code == 200
    assert entry.json()["status"] == "retracted"
    assert entry.json()["retraction_reason"] == "Synthetic test retraction"
    assert entry.json()["retracted_at"]
    assert seeded_client.get("/v1/entries/f-7/revisions/1").json()["snapshot"]["status"] == (
        "published"
    )
    later = seeded_client.patch("/v1/entries/f-7", json={"family": "x"}, headers=headers(editor, 2))
    assert later.status_code == 409


def test_sources_are_created_and_changed_with_their_etag(seeded_client, editor):
    source = {"key": "synthetic-test-source", "kind": "other", "title": "Synthetic test source"}
    created = seeded_client.post("/v1/sources", json=source, headers=headers(editor))
    assert created.status_code == 201, created.text
    etag = created.headers["ETag"]
    changed = seeded_client.put(
        "/v1/sources/synthetic-test-source",
        json={**source, "published": "2024-02"},
        headers={**headers(editor), "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["published"] == "2024-02"
    stale = seeded_client.put(
        "/v1/sources/synthetic-test-source",
        json={**source, "published": "2025"},
        headers={**headers(editor), "If-Match": etag},
    )
    assert stale.status_code == 412
    renamed = seeded_client.put(
        "/v1/sources/synthetic-test-source",
        json={**source, "key": "other-key"},
        headers={**headers(editor), "If-Match": "*"},
    )
    assert renamed.status_code == 422
    assert fields(renamed) == ["key"]
    assert seeded_client.get("/v1/sources/synthetic-test-source").json()["published"] == "2024-02"
    history = seeded_client.get("/v1/sources/synthetic-test-source/revisions").json()["items"]
    assert [(r["number"], r["author"], r["note"]) for r in history] == [
        (1, "alice", "A test change"),
        (2, "alice", "A test change"),
    ]
    assert "published" not in history[0]["snapshot"] or history[0]["snapshot"]["published"] is None
    assert history[1]["snapshot"]["published"] == "2024-02"


@pytest.mark.parametrize("url", ["https://example.org/\x00", "https://example.org/a\x1bb"])
def test_a_url_with_a_control_character_is_refused_naming_it(seeded_client, editor, url):
    source = {"key": "synthetic-control-url", "kind": "other", "url": url}
    refused = seeded_client.post("/v1/sources", json=source, headers=headers(editor))
    assert refused.status_code == 422, refused.text
    assert fields(refused) == ["url"]
    assert seeded_client.get("/v1/sources/synthetic-control-url").status_code == 404


def test_seeded_sources_have_a_first_revision(seeded_client):
    history = seeded_client.get("/v1/sources/ap-2023-10-19/revisions").json()["items"]
    assert [(r["number"], r["author"]) for r in history] == [(1, "seed")]
    assert history[0]["snapshot"] == seeded_client.get("/v1/sources/ap-2023-10-19").json()


def test_openapi_documents_the_key_scheme(client):
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    patch = spec["paths"]["/v1/entries/{slug}"]["patch"]
    assert {"ApiKey": []} in patch["security"]
    assert {"412", "428", "401", "403"} <= set(patch["responses"])
    assert "/v1/entries/{slug}/markings/{index}" in spec["paths"]


CITED = [{"source": "ap-2023-10-19", "confidence": "reported"}]
ITEMS = {
    "names": ({"text": "SYN-A", "kind": "alias"}, {"text": "SYN-B", "kind": "designation"}),
    "features": (
        {"kind": "shape", "description": "Synthetic A", "citations": CITED},
        {"kind": "colour", "description": "Synthetic B", "diagnostic": "weak"},
    ),
    "measurements": (
        {"quantity": "length", "value": 100, "unit": "mm"},
        {"quantity": "weight", "value": 2.5, "unit": "kg", "citations": CITED},
    ),
    "relations": (
        {"kind": "variant of", "target": "f-7"},
        {"kind": "copy of", "target": "bang-122"},
    ),
    "instances": (
        {"event": "Synthetic event A", "country": "IL", "date": "2023-10"},
        {
            "event": "Synthetic event B",
            "date": "2024",
            "place": "Synthetic place",
            "latitude": 31.5,
            "longitude": 34.47,
            "precision": "place",
        },
    ),
    "identifiers": (
        {"scheme": "wikidata", "value": "Q999999901"},
        {"scheme": "commons", "value": "Synthetic test file.jpg", "note": "licence not checked"},
    ),
    "citations": (
        {"source": "ap-2023-10-19", "confidence": "reported", "field": "name"},
        {
            "source": "upi-2023-10-17",
            "confidence": "disputed",
            "field": "country",
            "via": "op-ed-2024-02-24",
        },
    ),
}


@pytest.mark.parametrize("collection", sorted(ITEMS))
def test_every_list_is_added_to_changed_and_removed(seeded_client, editor, collection):
    first, second = ITEMS[collection]
    url = f"/v1/entries/type-58/{collection}"
    before = seeded_client.get("/v1/entries/type-58").json()[collection]
    added = seeded_client.post(url, json=first, headers=headers(editor, 1))
    assert added.status_code == 200, added.text
    assert len(added.json()[collection]) == len(before) + 1
    index = len(before)
    changed = seeded_client.put(f"{url}/{index}", json=second, headers=headers(editor, 2))
    assert changed.status_code == 200, changed.text
    shown = changed.json()[collection][index]
    record_type = COLLECTIONS[collection].record
    assert shown == record_type.model_validate(second).model_dump(mode="json")
    removed = seeded_client.delete(f"{url}/{index}", headers=headers(editor, 3))
    assert removed.status_code == 200, removed.text
    assert removed.json()[collection] == before
    revision = seeded_client.get("/v1/entries/type-58/revisions/3").json()["snapshot"]
    assert revision[collection][index] == shown
