"""The field-work pages over HTTP: signing in with a key, submitting an observation with a
photo from the page, the review queue and the side-by-side page, linking from the page, the
map and timeline (pending observations for editors only), the entry page's small map and the
safety notice of explosive categories. SQLite and PostgreSQL; photos drawn by Pillow."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import add_entries, synthetic_entry
from tests.test_api_observations import gps_photo, link, submit
from weaponsdb.vocab import EXPLOSIVE, Category


def sign_in(client: TestClient, key: str) -> None:
    answer = client.post("/signin", data={"key": key, "next": "/review"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


def test_pages_need_a_key(seeded_client):
    for path in ("/observations/new", "/review", "/observations/1"):
        answer = seeded_client.get(path)
        assert answer.status_code == 401
        assert "Sign in with your API key" in answer.text
    wrong = seeded_client.post("/signin", data={"key": "wdb_nobody"})
    assert wrong.status_code == 401
    assert "not one this service issued" in wrong.text


def test_submit_review_and_link_from_the_pages(seeded_client, contributor, editor):
    sign_in(seeded_client, contributor)
    form = {
        "markings": "방-122\n",
        "latitude": "48.5",
        "longitude": "37.5",
        "precision": "place",
        "place": "Synthetic place (test data)",
        "date_from": "2024",
        "source_kind": "own documentation",
    }
    refused = seeded_client.post(
        "/observations/new",
        data={**form, "latitude": "123"},
        files=[("files", ("p.jpg", gps_photo(), "image/jpeg"))],
    )
    assert refused.status_code == 422
    assert 'id="e-latitude"' in refused.text
    sent = seeded_client.post(
        "/observations/new",
        data=form,
        files=[("files", ("p.jpg", gps_photo(), "image/jpeg"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303
    page = seeded_client.get(sent.headers["location"])
    assert "Coordinates given; shown to editors only." in page.text
    assert "48.5" not in page.text
    number = int(sent.headers["location"].rsplit("/", 1)[1])
    photo = seeded_client.get(f"/observations/{number}/photos/0")
    assert photo.headers["content-type"] == "image/jpeg"
    sign_in(seeded_client, editor)
    queue = seeded_client.get("/review")
    assert f'href="/observations/{number}"' in queue.text
    side = seeded_client.get(f"/observations/{number}")
    assert "48.5, 37.5 (place; shown to editors only)" in side.text
    assert 'href="/entries/bang-122"' in side.text  # the first candidate, to compare
    linked = seeded_client.post(
        f"/observations/{number}/link",
        data={
            "entry": "bang-122",
            "event": "Synthetic field observation (test data)",
            "confidence": "reported",
            "precision": "region",
            "note": "Markings agree",
        },
        follow_redirects=False,
    )
    assert linked.status_code == 303
    assert "linked to" in seeded_client.get(f"/observations/{number}").text
    entry = seeded_client.get("/entries/bang-122").text
    assert "48.5, 37.5 (region precision)" in entry
    assert 'class="map small"' in entry


def test_the_map_shows_pending_observations_to_editors_only(seeded_client, contributor, editor):
    pending = submit(seeded_client, contributor).json()["id"]
    linked = submit(seeded_client, contributor, [gps_photo(7)]).json()["id"]
    assert link(seeded_client, editor, linked).status_code == 200
    anonymous = seeded_client.get("/map").text
    assert f"/observations/{pending}" not in anonymous
    assert "48.123456" not in anonymous
    assert len(re.findall(r'<a href="/entries/bang-122#instance-\d+" class="pin"', anonymous)) == 1
    sign_in(seeded_client, editor)
    seen = seeded_client.get("/map").text
    assert f'href="/observations/{pending}" class="pin pending"' in seen
    filtered = seeded_client.get("/map?category=rifle").text
    assert 'class="pin"' not in filtered
    assert seeded_client.get("/map?date_from=2024-13").status_code == 422
    world = seeded_client.get("/maps/world.svg")
    assert world.headers["content-type"].startswith("image/svg+xml")
    assert "Natural Earth" in world.text


def test_explosive_categories_carry_the_safety_notice(seeded, seeded_client):
    add_entries(
        seeded,
        *(
            synthetic_entry(f"syn-{n}", category=category.value, status="published")
            for n, category in enumerate(Category)
        ),
    )
    for n, category in enumerate(Category):
        page = seeded_client.get(f"/entries/syn-{n}").text
        notice = re.search(r'<aside class="banner safety".*?</aside>', page, re.S)
        assert (notice is not None) == (category in EXPLOSIVE), category
        if notice:
            text = notice.group(0).lower()
            assert "never touch" in text
            assert "report it to the police" in text
            assert "safe" not in text.replace("safety", "")
