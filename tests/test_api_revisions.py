"""Revisions and citations over HTTP: every entry has a citable history that later edits
leave alone, and export/import carries it over."""

from __future__ import annotations

import json

import jsonpatch
import pytest
from sqlalchemy import select

from tests.factories import exported, headers
from weaponsdb import db, models, transfer


def edit(client, key, version, **changes):
    response = client.patch(
        "/v1/entries/bang-122", json=changes, headers=headers(key, version, f"Set {changes}")
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_every_seeded_entry_has_a_first_revision(seeded_client):
    for slug in ("bang-122", "f-7", "type-58"):
        items = seeded_client.get(f"/v1/entries/{slug}/revisions").json()["items"]
        assert [(r["number"], r["author"]) for r in items] == [(1, "seed")]
        snapshot = seeded_client.get(f"/v1/entries/{slug}/revisions/1").json()["snapshot"]
        current = seeded_client.get(f"/v1/entries/{slug}").json()
        assert snapshot == {k: current[k] for k in snapshot}


def test_revisions_are_unchanged_by_later_edits(seeded_client, editor):
    first = seeded_client.get("/v1/entries/bang-122/revisions/1")
    assert first.headers["Cache-Control"].endswith("immutable")
    edit(seeded_client, editor, 1, family="First synthetic family")
    second = seeded_client.get("/v1/entries/bang-122/revisions/2").json()
    edit(seeded_client, editor, 2, family="Second synthetic family", calibre_mm=None)
    assert seeded_client.get("/v1/entries/bang-122/revisions/1").json() == first.json()
    assert seeded_client.get("/v1/entries/bang-122/revisions/2").json() == second
    assert second["snapshot"]["family"] == "First synthetic family"
    assert second["snapshot"]["calibre_mm"] == 122
    latest = seeded_client.get("/v1/entries/bang-122/revisions/3").json()["snapshot"]
    assert (latest["family"], latest["calibre_mm"]) == ("Second synthetic family", None)


def test_diff_between_revisions_is_a_json_patch(seeded_client, editor):
    edit(seeded_client, editor, 1, family="Synthetic family")
    edit(seeded_client, editor, 2, calibre_mm=None)
    diff = seeded_client.get("/v1/entries/bang-122/revisions/3/diff?from=1").json()
    assert (diff["from_revision"], diff["to_revision"]) == (1, 3)
    changes = {op["path"]: op for op in diff["patch"]}
    assert changes["/family"] == {"op": "replace", "path": "/family", "value": "Synthetic family"}
    assert changes["/calibre_mm"]["value"] is None
    previous = seeded_client.get("/v1/entries/bang-122/revisions/3/diff").json()
    assert previous["from_revision"] == 2
    assert "/family" not in {op["path"] for op in previous["patch"]}
    assert seeded_client.get("/v1/entries/bang-122/revisions/9").status_code == 404


def test_the_first_revision_diffs_against_nothing(seeded_client):
    creation = seeded_client.get("/v1/entries/bang-122/revisions/1/diff").json()
    assert (creation["from_revision"], creation["from_url"]) == (0, None)
    assert {op["op"] for op in creation["patch"]} == {"add"}
    first = seeded_client.get("/v1/entries/bang-122/revisions/1").json()["snapshot"]
    assert jsonpatch.apply_patch({}, creation["patch"]) == first


@pytest.mark.parametrize("style", ["apa", "chicago", "bibtex", "csl-json"])
def test_citations_name_revision_url_and_access_date(seeded_client, editor, style):
    edit(seeded_client, editor, 1, family="Synthetic family")
    response = seeded_client.get(
        f"/v1/entries/bang-122/cite?format={style}&revision=1&accessed=2026-01-02"
    )
    assert response.status_code == 200, response.text
    text = response.text
    assert "http://testserver/v1/entries/bang-122/revisions/1" in text
    assert "Bang-122 artillery ammunition" in text
    assert "weaponsdb" in text
    if style == "csl-json":
        item = json.loads(text)[0]
        assert item["version"] == "1"
        assert item["accessed"] == {"date-parts": [[2026, 1, 2]]}
        assert "author" not in item
    else:
        assert "January 2, 2026" in text or "2026-01-02" in text
    latest = seeded_client.get(f"/v1/entries/bang-122/cite?format={style}").text
    assert "/revisions/2" in latest


def test_a_cited_revision_url_shows_what_was_cited(seeded_client, editor):
    citation = seeded_client.get("/v1/entries/bang-122/cite?format=csl-json").json()[0]
    cited = seeded_client.get(citation["URL"]).json()["snapshot"]
    edit(seeded_client, editor, 1, name="Synthetic new name", country=None)
    later = seeded_client.get(citation["URL"]).json()["snapshot"]
    assert later == cited
    assert later["name"] == citation["title"] == "Bang-122 artillery ammunition"
    assert later["country"] == "KP"


def test_public_url_setting_makes_the_permalinks(seeded, settings, engine):
    from fastapi.testclient import TestClient

    from api.app import create_app

    public = settings.model_copy(update={"public_url": "https://weaponsdb.example.org/"})
    with TestClient(create_app(public, engine)) as client:
        text = client.get("/v1/entries/f-7/cite?format=apa").text
    assert "https://weaponsdb.example.org/v1/entries/f-7/revisions/1" in text


def test_export_and_import_keep_the_history(seeded, seeded_client, editor, tmp_path, sessions):
    edit(seeded_client, editor, 1, family="Synthetic family")
    seeded_client.delete("/v1/entries/bang-122/instances/0", headers=headers(editor, 2))
    source = seeded_client.get("/v1/sources/ap-2023-10-19")
    changed = seeded_client.put(
        "/v1/sources/ap-2023-10-19",
        json={**source.json(), "title": "Synthetic title"},
        headers={**headers(editor), "If-Match": source.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    before = exported(seeded)
    document = transfer.parse(json.dumps(before))
    assert [r.number for r in document.source_revisions if r.source == "ap-2023-10-19"] == [1, 2]
    assert [r.number for r in document.revisions if r.entry == "bang-122"] == [1, 2, 3]
    # Into an empty catalogue (the same database, emptied by a fresh migration of a copy).
    from weaponsdb.db import make_engine, make_sessionmaker, migrate

    url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    migrate(url)
    engine = make_engine(url)
    try:
        restored = make_sessionmaker(engine)
        with db.transaction(restored) as session:
            transfer.import_catalogue(session, document, transfer.OnConflict.FAIL)
        assert exported(restored) == before
        with db.transaction(restored) as session:
            entry = session.scalar(select(models.Entry).where(models.Entry.slug == "bang-122"))
            assert entry is not None
            assert entry.version == 3
    finally:
        engine.dispose()
