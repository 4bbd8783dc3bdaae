"""Observations over HTTP: roles, submission with identification, every refusal, every
review step, privacy of coordinates and originals, the custody record, and the instance it
becomes on the entry and in GeoJSON. Every test runs on SQLite and PostgreSQL; photos are
drawn by Pillow (synthetic test data)."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path
from typing import Any

import geojson
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select, text

from api.app import create_app
from benchmarks.rendering import render_marking
from tests.factories import headers, issue_key
from tests.photo_support import GPS_IFD, camera_exif, jpeg, scene
from weaponsdb import db, models
from weaponsdb.config import Settings
from weaponsdb.vocab import Role

PLACE = {"latitude": "48.123456", "longitude": "37.654321", "precision": "exact"}


def auth(key: str) -> dict[str, str]:
    return headers(key, note=None)


def gps_photo(seed: int = 3) -> bytes:
    buffer = io.BytesIO()
    scene(seed).save(buffer, "JPEG", exif=camera_exif(1))
    return buffer.getvalue()


def submit(client: TestClient, key: str, photos: list[bytes] | None = None, **fields: Any):
    form: dict[str, Any] = {
        "markings": ["방-122"],
        "calibre_mm": "122",
        "place": "Synthetic place (test data)",
        "country": "UA",
        "date_from": "2024-02",
        "source_kind": "own documentation",
        "notes": "Synthetic observation (test data)",
        **PLACE,
        **fields,
    }
    files = [
        ("files", (f"p{n}.jpg", data, "image/jpeg"))
        for n, data in enumerate(photos or [gps_photo()])
    ]
    return client.post("/v1/observations", data=form, files=files, headers=auth(key))


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def count(sessions, model: type[models.Base]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_contributor_submits_and_identification_is_kept(seeded_client, contributor):
    answer = submit(seeded_client, contributor)
    assert answer.status_code == 201, answer.text
    observation = answer.json()
    assert observation["state"] == "pending"
    assert observation["submitter"] == "field-worker"
    assert answer.headers["Location"].endswith(f"/v1/observations/{observation['id']}")
    first = observation["candidates"]["markings"][0]
    assert first["slug"] == "bang-122"
    assert first["matches"][0]["how"] == "transliterated"
    assert observation["candidates"]["photos"][0]["position"] == 0
    # The contributor does not see the coordinates, even their own; the place name stays.
    assert observation["latitude"] is None
    assert observation["coordinates_hidden"] is True
    assert observation["date_precision"] == "month"


def test_roles(seeded_client, seeded, contributor, editor):
    assert submit(seeded_client, "wdb_not-a-key").status_code == 401
    assert seeded_client.get("/v1/observations").status_code == 401
    mine = submit(seeded_client, contributor).json()["id"]
    other = issue_key(seeded, "someone-else", Role.CONTRIBUTOR)
    theirs = submit(seeded_client, other).json()["id"]
    listed = seeded_client.get("/v1/observations", headers=auth(contributor)).json()
    assert [o["id"] for o in listed["items"]] == [mine]
    assert (
        seeded_client.get(f"/v1/observations/{theirs}", headers=auth(contributor)).status_code
        == 404
    )
    for step in ("requests", "decline"):
        refused = seeded_client.post(
            f"/v1/observations/{mine}/{step}",
            json={"note": "not mine to do"},
            headers=auth(contributor),
        )
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["field"] == "Authorization"
    everything = seeded_client.get("/v1/observations", headers=auth(editor)).json()
    assert {o["id"] for o in everything["items"]} == {mine, theirs}
    assert everything["items"][0]["latitude"] == pytest.approx(48.123456)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"latitude": "91"}, "latitude"),
        ({"longitude": "-180.5"}, "longitude"),
        ({"precision": ""}, "precision"),
        ({"date_from": "2999-01"}, "date_from"),
        ({"date_from": "2024-02-30"}, "date_from"),
        ({"date_to": "2023"}, "date_to"),
        ({"source_kind": "url"}, "source_url"),
        ({"source_kind": "publication"}, "source_publication"),
        ({"category": "spaceship"}, "category"),
        ({"markings": ["???"]}, "markings[0]"),
    ],
)
def test_bad_observations_are_refused_naming_the_field_and_leave_nothing(
    seeded_client, seeded, contributor, settings: Settings, fields, field
):
    answer = submit(seeded_client, contributor, **fields)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert count(seeded, models.Observation) == 0
    assert stored_files(settings.images_dir) == []


def test_unreadable_and_oversized_photos_are_refused(
    seeded, contributor, settings: Settings, engine
):

    small = Settings(
        database_url=settings.database_url, images_dir=settings.images_dir, max_upload_bytes=200_000
    )
    with TestClient(create_app(small, engine)) as client:
        truncated = submit(client, contributor, [gps_photo(), jpeg(2)[:5000]])
        assert truncated.status_code == 422
        assert truncated.json()["errors"][0]["field"] == "files[1]"
        not_image = submit(client, contributor, [b"%PDF-1.4 not a photo"])
        assert not_image.status_code == 415
        assert not_image.json()["errors"][0]["field"] == "files[0]"
        big = encode_noise(1200, 900)
        assert len(big) > 200_000
        assert submit(client, contributor, [big]).status_code == 413
        assert (
            client.post(
                "/v1/observations", data={"notes": "x"}, headers=auth(contributor)
            ).status_code
            == 422
        )
    assert count(seeded, models.Observation) == 0
    assert count(seeded, models.CustodyEntry) == 0
    assert stored_files(settings.images_dir) == []


def encode_noise(width: int, height: int) -> bytes:

    rng = random.Random(5)
    image = Image.frombytes(
        "RGB", (width, height), bytes(rng.getrandbits(8) for _ in range(width * height * 3))
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_a_failed_database_write_leaves_no_files(seeded_client, seeded, contributor, settings):
    """A submission the database refuses after the files were written removes them."""
    engine = db.make_engine(settings.database_url)
    with engine.begin() as connection:  # a check the application does not make itself
        if engine.dialect.name == "postgresql":
            connection.execute(
                text("ALTER TABLE observation_photos ADD CONSTRAINT t_small CHECK (width < 100)")
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER t_small BEFORE INSERT ON observation_photos "
                    "BEGIN SELECT RAISE(ABORT, 'too wide'); END"
                )
            )
    try:
        assert submit(seeded_client, contributor).status_code == 500
    finally:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("ALTER TABLE observation_photos DROP CONSTRAINT t_small"))
            else:
                connection.execute(text("DROP TRIGGER t_small"))
        engine.dispose()
    assert count(seeded, models.Observation) == 0
    assert stored_files(settings.images_dir) == []


def test_originals_are_kept_apart_and_for_editors_only(seeded_client, contributor, editor):
    original = gps_photo()
    observation = submit(seeded_client, contributor, [original]).json()
    base = f"/v1/observations/{observation['id']}/photos/0"
    working = seeded_client.get(base, headers=auth(contributor))
    assert working.status_code == 200
    assert working.headers["cache-control"] == "private, no-store"
    with Image.open(io.BytesIO(working.content)) as image:
        assert not image.getexif()  # no EXIF, no GPS
    assert seeded_client.get(base).status_code == 401
    assert seeded_client.get(f"{base}/original", headers=auth(contributor)).status_code == 403
    assert seeded_client.get(f"{base}/metadata", headers=auth(contributor)).status_code == 403
    kept = seeded_client.get(f"{base}/original", headers=auth(editor))
    assert kept.content == original
    metadata = seeded_client.get(f"{base}/metadata", headers=auth(editor)).json()
    assert metadata["gps"]["GPSLatitudeRef"] == "N"
    assert metadata["exif"]["Model"] == "Secret Model 9"
    assert GPS_IFD  # the photo carried a GPS block


def test_review_steps_and_the_thread(seeded_client, contributor, editor):
    number = submit(seeded_client, contributor).json()["id"]
    path = f"/v1/observations/{number}"
    asked = seeded_client.post(
        f"{path}/requests", json={"note": "A photo of the base, please"}, headers=auth(editor)
    )
    assert asked.json()["state"] == "more requested"
    answered = seeded_client.post(
        f"{path}/comments", json={"note": "The base was buried"}, headers=auth(contributor)
    )
    assert answered.status_code == 201
    assert answered.json()["state"] == "pending"
    declined = seeded_client.post(
        f"{path}/decline", json={"note": "Not enough to identify it"}, headers=auth(editor)
    )
    assert declined.json()["state"] == "declined"
    again = seeded_client.post(f"{path}/requests", json={"note": "More?"}, headers=auth(editor))
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "state"
    steps = seeded_client.get(f"{path}/revisions", headers=auth(contributor)).json()
    assert [(s["number"], s["action"], s["author"], s["state"]) for s in steps] == [
        (1, "submitted", "field-worker", "pending"),
        (2, "more requested", "alice", "more requested"),
        (3, "answered", "field-worker", "pending"),
        (4, "declined", "alice", "declined"),
    ]
    assert steps[3]["note"] == "Not enough to identify it"
    assert all(s["snapshot"] is None for s in steps)  # coordinates: editors only
    seen = seeded_client.get(f"{path}/revisions", headers=auth(editor)).json()
    assert seen[0]["snapshot"]["latitude"] == pytest.approx(48.123456)
    assert seeded_client.get(path, headers=auth(editor)).json()["state"] == "declined"  # kept


def link(client: TestClient, key: str, number: int, **fields: Any):
    body = {
        "entry": "bang-122",
        "event": "Synthetic field observation (test data)",
        "confidence": "reported",
        "precision": "place",
        "note": "Markings and calibre agree",
        **fields,
    }
    return client.post(f"/v1/observations/{number}/link", json=body, headers=auth(key))


def test_linking_makes_a_documented_instance_at_the_chosen_precision(
    seeded_client, contributor, editor
):
    number = submit(seeded_client, contributor).json()["id"]
    before = seeded_client.get("/v1/entries/bang-122").json()
    too_fine = link(seeded_client, editor, number, precision="exact", event="x")
    assert too_fine.status_code == 200  # exact was observed: exact may be published
    assert too_fine.json()["state"] == "linked"
    entry = seeded_client.get("/v1/entries/bang-122").json()
    assert len(entry["instances"]) == len(before["instances"]) + 1
    number2 = submit(seeded_client, contributor, [gps_photo(4)], precision="region").json()["id"]
    refused = link(seeded_client, editor, number2, precision="place")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "precision"
    linked = link(seeded_client, editor, number2, precision="country")
    assert linked.status_code == 200, linked.text
    assert linked.json()["entry"] == "bang-122"
    entry = seeded_client.get("/v1/entries/bang-122").json()
    instance = entry["instances"][-1]
    assert instance["place"] is None  # a place name would undo the rounding
    assert (instance["latitude"], instance["longitude"], instance["precision"]) == (
        48.0,
        38.0,
        "country",
    )
    assert instance["citations"] == [
        {
            "source": f"observation-{number2}",
            "confidence": "reported",
            "field": None,
            "quote": None,
            "locator": None,
            "note": None,
            "via": None,
        }
    ]
    assert (
        seeded_client.get(f"/v1/sources/observation-{number2}").json()["author"] == "field-worker"
    )
    revisions = seeded_client.get("/v1/entries/bang-122/revisions").json()["items"]
    assert revisions[-1]["note"].startswith(f"Field observation {number2}:")
    assert link(seeded_client, editor, number2).status_code == 409  # linked is final
    collection = seeded_client.get("/v1/instances.geojson?entry=bang-122")
    assert collection.headers["content-type"] == "application/geo+json"
    parsed = geojson.loads(collection.text)
    assert parsed.is_valid, parsed.errors()
    points = [f["geometry"]["coordinates"] for f in parsed["features"]]
    assert [38.0, 48.0] in points
    assert [37.65432, 48.12346] in points


def test_custody_record_and_the_append_only_log(seeded_client, seeded, contributor, editor):
    original = gps_photo()
    number = submit(
        seeded_client,
        contributor,
        [original],
        source_kind="url",
        source_url="https://example.org/synthetic-test-video",
    ).json()["id"]
    seeded_client.get(f"/v1/observations/{number}", headers=auth(editor))
    seeded_client.get(f"/v1/observations/{number}/photos/0/original", headers=auth(editor))
    link(seeded_client, editor, number)
    record = seeded_client.get(f"/v1/observations/{number}/custody", headers=auth(editor)).json()
    actions = [(line["action"], line["actor"]) for line in record["log"]]
    assert actions[:4] == [("received", "field-worker")] + [("derived", "field-worker")] * 3
    assert ("viewed", "alice") in actions
    assert ("linked", "alice") in actions
    assert actions[-1] == ("exported", "alice")

    assert record["log"][0]["sha256"] == hashlib.sha256(original).hexdigest()
    assert record["log"][0]["source_url"] == "https://example.org/synthetic-test-video"
    assert all(line["at"].endswith(("Z", "+00:00")) for line in record["log"])  # UTC, said so
    assert {line["derived_from"] for line in record["log"][1:4]} == {record["log"][0]["sha256"]}
    engine = db.make_engine(str(seeded.kw["bind"].url.render_as_string(hide_password=False)))
    try:
        for statement in ("UPDATE custody_log SET actor = 'mallory'", "DELETE FROM custody_log"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()
    assert count(seeded, models.CustodyEntry) == len(record["log"])


@pytest.mark.parametrize(
    ("instance", "field"),
    [
        ({"latitude": 10.0, "precision": "exact"}, "longitude"),
        ({"latitude": 10.0, "longitude": 20.0}, "precision"),
        ({"precision": "country"}, "precision"),
        ({"latitude": -90.5, "longitude": 0.0, "precision": "exact"}, "latitude"),
    ],
)
def test_instance_coordinates_are_checked_field_by_field(seeded_client, editor, instance, field):
    answer = seeded_client.post(
        "/v1/entries/type-58/instances",
        json={"event": "Synthetic event (test data)", **instance},
        headers=headers(editor, "*"),
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_the_reader_reads_the_markings_where_asked(seeded_client, contributor):
    """A close-up of the seed entry's marking (benchmarks/rendering.py, synthetic): nothing
    typed, the reader reads it, and the entry comes first."""
    marking = render_marking("방-122", "Hang", random.Random(8), style="paint")
    typed = submit(seeded_client, contributor, [marking.jpeg()], markings=[])
    assert typed.json()["candidates"]["markings"] == []
    assert "read" not in typed.json()["candidates"]
    answer = submit(seeded_client, contributor, [marking.jpeg()], markings=[], read_markings="true")
    assert answer.status_code == 201, answer.text
    found = answer.json()["candidates"]
    lines = [line["text"] for line in found["read"]["photos"][0]["lines"]]
    assert lines, found["read"]
    assert found["markings"][0]["slug"] == "bang-122"
    assert answer.json()["markings"] == []  # what the contributor typed stays apart


def test_a_refused_step_changes_nothing_and_logs_nothing(
    seeded_client, seeded, contributor, editor
):
    number = submit(seeded_client, contributor).json()["id"]
    path = f"/v1/observations/{number}"
    lines = count(seeded, models.CustodyEntry)
    assert link(seeded_client, contributor, number).status_code == 403
    missing = link(seeded_client, editor, number, entry="no-such-entry")
    assert missing.status_code == 404
    unknown_source = link(seeded_client, editor, number, source="no-such-source")
    assert unknown_source.status_code in (404, 422)
    assert count(seeded, models.CustodyEntry) == lines
    assert count(seeded, models.ObservationRevision) == 1
    shown = seeded_client.get(path, headers=auth(contributor)).json()
    assert (shown["state"], shown["version"]) == ("pending", 1)
    # An editor's comment keeps the state; a link from "more requested" is allowed.
    noted = seeded_client.post(
        f"{path}/comments", json={"note": "Looks like a casing"}, headers=auth(editor)
    )
    assert noted.json()["state"] == "pending"
    seeded_client.post(f"{path}/requests", json={"note": "Any lot number?"}, headers=auth(editor))
    assert link(seeded_client, editor, number).json()["state"] == "linked"
    actions = [
        s["action"] for s in seeded_client.get(f"{path}/revisions", headers=auth(editor)).json()
    ]
    assert actions == ["submitted", "commented", "more requested", "linked"]


def test_the_queue_pages_oldest_first(seeded_client, contributor, editor):
    numbers = [
        submit(seeded_client, contributor, [gps_photo(20 + n)]).json()["id"] for n in range(3)
    ]
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = seeded_client.get(f"/v1/observations{query}", headers=auth(editor)).json()
        assert page["total"] == 3
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == numbers
    bad = seeded_client.get("/v1/observations?cursor=abc", headers=auth(editor))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"
