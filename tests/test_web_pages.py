"""The pages as HTML, without a browser: what each shows, escaping, errors, headers."""

import csv
import datetime as dt
import html
import io
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.factories import (
    PROVENANCE,
    SHA,
    add_entries,
    cited,
    issue_key,
    photo_record,
    upload,
)
from tests.photo_support import jpeg, resized_recompressed_cropped

HTML = "text/html; charset=utf-8"


def test_browse_lists_the_entries_with_links(seeded_client):
    response = seeded_client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == HTML
    for slug in ("bang-122", "f-7", "type-58"):
        assert f'href="/entries/{slug}"' in response.text
    assert "3 entries." in response.text


def test_entries_is_browse_too(seeded_client):
    response = seeded_client.get("/entries?category=rifle")
    assert response.status_code == 200
    assert 'href="/entries/type-58"' in response.text
    assert 'href="/entries/f-7"' not in response.text


def test_browse_pages_follow_on_with_the_same_filters(seeded_client, monkeypatch):
    from api.web import pages

    monkeypatch.setattr(pages, "BROWSE_PAGE_SIZE", 2)
    first = seeded_client.get("/?country=KP").text
    assert "3 entries match these filters." in first
    assert len(re.findall(r'<h2><a href="/entries/', first)) == 2
    more = re.search(r'<a rel="next" href="([^"]+)">Next page</a>', first)
    assert more is not None
    second = seeded_client.get(html.unescape(more.group(1))).text
    assert re.findall(r'<h2><a href="/entries/([a-z0-9-]+)"', second) == ["type-58"]
    assert 'rel="next"' not in second


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("category=rifle", ["type-58"], ["bang-122", "f-7"]),
        ("country=kp&q=f-7", ["f-7"], ["bang-122", "type-58"]),
        ("country=IL", [], ["bang-122", "f-7", "type-58"]),
    ],
)
def test_browse_filters(seeded_client, query, shown, hidden):
    text = seeded_client.get(f"/?{query}").text
    assert all(f'href="/entries/{slug}"' in text for slug in shown)
    assert not any(f'href="/entries/{slug}"' in text for slug in hidden)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("category=tank", "Choose a category from the list."),
        ("country=Korea", "Choose a country from the list."),
        ("q=" + "x" * 201, "At most 200 characters"),
        ("q=%00", "Must not contain control characters."),
        ("cursor=!!", "not a cursor from a previous page"),
    ],
)
def test_bad_filters_answer_a_page_naming_the_problem(seeded_client, query, message):
    response = seeded_client.get(f"/?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == HTML
    assert message in response.text


def test_an_entry_page_shows_everything_with_its_sources(sessions, client):
    add_entries(
        sessions,
        {
            "slug": "test-parent",
            "name": "Parent rifle",
            "status": "published",
        },
        {
            "slug": "test-entry",
            "name": "Test launcher <script>alert(1)</script>",
            "status": "published",
            "category": "grenade launcher",
            "calibre_mm": "40",
            "country": "KR",
            "citations": [{**cited()[0], "field": "calibre", "quote": "Forty millimetres."}],
            "names": [
                {
                    "text": "시험 발사기",
                    "script": "Hang",
                    "language": "ko",
                    "kind": "name",
                    "citations": cited("disputed"),
                }
            ],
            "features": [{"kind": "shape", "description": "Ribbed grip.", "diagnostic": "weak"}],
            "markings": [
                {
                    "text": "시험-40",
                    "script": "Hang",
                    "language": "ko",
                    "position": "On the tube, left side",
                    "meaning": "Test, 40 mm",
                }
            ],
            "relations": [{"kind": "variant of", "target": "test-parent"}],
            "instances": [{"event": "Seen at a test range", "date": "2020-05"}],
            "photos": [
                photo_record(
                    width=800,
                    height=600,
                    caption="Left side with the marking",
                    credit="A. Photographer",
                    licence="CC BY 4.0",
                    marking_index=0,
                )
            ],
        },
    )
    response = client.get("/entries/test-entry")
    assert response.status_code == 200
    page = response.text
    assert "<script>alert(1)</script>" not in page
    assert "Test launcher &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "40 mm" in page
    assert "South Korea (KR)" in page
    assert '<span lang="ko">시험 발사기</span>' in page
    assert "On the tube, left side" in page
    assert "Test, 40 mm" in page
    assert "Ribbed grip." in page
    assert '<a href="/entries/test-parent">Parent rifle</a>' in page
    assert "Seen at a test range" in page
    assert f'src="/v1/photos/{SHA}?size=thumb" alt="Left side with the marking"' in page
    assert f'href="/v1/photos/{SHA}"' in page
    assert "Credit: A. Photographer. Licence: CC BY 4.0." in page
    assert "Shows the marking 시험-40." in page
    assert 'class="conf conf-disputed"' in page
    assert "Forty millimetres." in page
    assert 'id="source-test-source"' in page
    parent = client.get("/entries/test-parent").text
    assert "is a variant of this entry" in parent
    assert 'href="/entries/test-entry"' in parent


def test_a_photo_without_a_caption_is_described_by_the_entry_and_view(sessions, client):
    photo = photo_record(view="side", credit="B", licence="public domain")
    add_entries(
        sessions, {"slug": "test-bare", "name": "Bare", "status": "draft", "photos": [photo]}
    )
    page = client.get("/entries/test-bare").text
    assert 'alt="Bare, side, reference photo"' in page
    assert "<strong>Draft</strong>" in page


@pytest.mark.parametrize("style", ["apa", "chicago", "bibtex", "csl-json"])
def test_the_cite_box_gives_what_the_api_gives(seeded_client, style):
    page = seeded_client.get("/entries/f-7").text
    box = re.search(rf'<textarea id="cite-{style}"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert box is not None
    today = dt.datetime.now(dt.UTC).date().isoformat()
    api = seeded_client.get(f"/v1/entries/f-7/cite?format={style}&accessed={today}").text
    assert html.unescape(box.group(1)) == api
    assert f'href="/v1/entries/f-7/cite?format={style}&amp;revision=1"' in page


def test_missing_and_malformed_entries_are_404_pages(seeded_client):
    for path in ("/entries/no-such-entry", "/entries/Not_A_Slug"):
        response = seeded_client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == HTML
        assert "<h1>Not found</h1>" in response.text


def test_pages_carry_a_self_only_policy_and_load_only_local_assets(seeded_client):
    for path in ("/", "/entries/bang-122"):
        response = seeded_client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self';" in policy
        assert "img-src 'self';" in policy
        assert "data:" not in policy
        assert "'unsafe-inline'" not in policy
        assert response.headers["x-frame-options"] == "DENY"
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text)
        assert assets
        assert not re.search(r'(?:src|href)="(?:https?:)?//', response.text.split("<main")[0])
        assert "<script>" not in response.text
        assert "style=" not in response.text
        for asset in assets:
            served = seeded_client.get(asset)
            assert served.status_code == 200, asset


def test_pages_are_not_part_of_the_api_description(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/entries", "/entries/{slug}", "/search"} & set(paths)


def result_slugs(page):
    return re.findall(r'<h3><a href="/entries/([a-z0-9-]+)">', page)


def test_the_search_form_explains_illegible_characters(client):
    response = client.get("/search")
    assert response.status_code == 200
    assert "<kbd>?</kbd> for one character you cannot read" in response.text
    assert "<kbd>*</kbd> for several" in response.text
    assert 'enctype="multipart/form-data"' in response.text
    assert "Best matches" not in response.text


def test_hangul_markings_find_the_122_mm_entry_first_with_the_reason(seeded_client):
    response = seeded_client.get("/search", params={"markings": "방-122"})
    assert response.status_code == 200
    assert result_slugs(response.text)[0] == "bang-122"
    assert (
        "You read <q>방-122</q>: it matches the marking <q>Bang-122</q>, transliterated"
        in response.text
    )
    assert re.search(r"\d+ % match", response.text)


def test_several_markings_one_per_line_with_category_and_calibre(seeded_client):
    params = {"markings": "B?ng-1*\r\n\r\nF7\n", "category": "rocket", "calibre": "122 mm"}
    page = seeded_client.get("/search", params=params).text
    assert result_slugs(page)[:2] == ["bang-122", "f-7"]
    assert "Calibre: 122 mm agrees with the catalogue" in page
    assert "(raises the score)" in page
    assert "(lowers the score)" in page
    assert "Nothing on this entry explains <q>F7</q>." in page


def test_a_designation_the_catalogue_may_lack_says_so_beside_its_nearest_entry(seeded_client):
    page = seeded_client.get("/search", params={"markings": "Type 56"}).text
    assert result_slugs(page)[0] == "type-58"
    assert "No confident match:" in page
    assert re.search(r"It may as well be a variant of it that the catalogue lacks \(\d+ %\)", page)
    sure = seeded_client.get("/search", params={"markings": "Type 58"}).text
    assert "No confident match" not in sure
    assert "catalogue lacks" not in sure
    assert "an answer is confident from 80 %" in sure


def test_markings_nothing_matches(seeded_client):
    page = seeded_client.get("/search", params={"markings": "QQQQQQQQ"}).text
    assert "No entry matches" in page


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"markings": ""}, "markings", "Type at least one marking, one per line."),
        ({"markings": "ok\n???"}, "markings", "“???”: Has no legible letter or digit"),
        ({"markings": "\n".join("abc") * 10}, "markings", "At most 20 markings at once"),
        ({"markings": "F-7", "calibre": "big"}, "calibre", "Give the calibre in millimetres"),
        ({"markings": "F-7", "calibre": "0"}, "calibre", "Give the calibre in millimetres"),
        ({"markings": "F-7", "category": "tank"}, "category", "Choose a category"),
        ({"markings": "F-7", "country": "XX"}, "country", "ISO 3166-1 alpha-2"),
    ],
)
def test_a_bad_search_says_what_is_wrong_next_to_the_field(client, params, field, message):
    response = client.get("/search", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == HTML
    assert f'aria-invalid="true" aria-describedby="e-{field}' in response.text
    error = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', response.text)
    assert error is not None
    assert message in html.unescape(error.group(1))


def test_a_result_shows_a_thumbnail_of_the_entry(sessions, client):
    photo = photo_record(caption="The stencil on the body", credit="C", licence="CC0")
    entry = {
        "slug": "test-photo",
        "name": "Pictured",
        "status": "published",
        "markings": [{"text": "ZX-99"}],
        "photos": [photo],
    }
    add_entries(sessions, entry)
    page = client.get("/search", params={"markings": "ZX-99"}).text
    assert result_slugs(page) == ["test-photo"]
    assert f'src="/v1/photos/{SHA}?size=thumb" alt="The stencil on the body"' in page


def png(size=(8, 8), kind="PNG"):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, kind)
    return buffer.getvalue()


NOT_AN_IMAGE = "The file is not an image of an allowed format (JPEG, PNG, WebP, TIFF)."


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        ({"photo": ("notes.txt", b"not a photo", "text/plain")}, 415, NOT_AN_IMAGE),
        ({"photo": ("fake.jpg", png()[:40], "image/jpeg")}, 415, NOT_AN_IMAGE),
        ({"photo": ("anim.gif", png(kind="GIF"), "image/gif")}, 415, NOT_AN_IMAGE),
        ({"photo": ("photo.jpg", png(), "image/jpeg")}, 422, "declared as image/jpeg"),
        ({"photo": ("empty.jpg", b"", "image/jpeg")}, 422, "No photo came with the form"),
        ({"other": ("x.png", png(), "image/png")}, 422, "No photo came with the form"),
    ],
)
def test_a_bad_upload_is_a_page_with_a_clear_message(client, files, status, message):
    response = client.post("/search/photo", files=files)
    assert response.status_code == status
    assert response.headers["content-type"] == HTML
    assert 'aria-invalid="true" aria-describedby="e-photo' in response.text
    assert html.escape(message) in response.text


def test_a_photo_is_matched_against_the_reference_photos(seeded_client, seeded):
    key = issue_key(seeded, "photographer")
    reference = jpeg(31, (1200, 900))
    assert upload(seeded_client, key, reference, slug="f-7").status_code == 201
    assert upload(seeded_client, key, jpeg(32, (1200, 900)), slug="bang-122").status_code == 201
    seen = resized_recompressed_cropped(reference)
    response = seeded_client.post(
        "/search/photo", files={"photo": ("seen.jpg", seen, "image/jpeg")}
    )
    assert response.status_code == 200, response.text
    page = response.text
    assert result_slugs(page)[0] == "f-7"
    assert "Almost the same picture as this reference photo." in page
    assert PROVENANCE["credit"] in page


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def strict_client(settings, engine):
    strict = settings.model_copy(update={"match_rate_limit": "2/minute", "max_upload_bytes": 1000})
    with TestClient(create_app(strict, engine)) as client:
        yield client


def test_search_pages_share_the_match_rate_limit_and_say_so_in_a_page(strict_client):
    statuses = [strict_client.get("/search").status_code for _ in range(2)]
    assert statuses == [200, 200]
    refused = strict_client.get("/search", headers=BROWSER)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == HTML
    assert "<h1>Too Many Requests</h1>" in refused.text
    assert "try again in" in refused.text
    assert strict_client.get("/").status_code == 200


def test_an_oversized_upload_is_refused_with_a_page(strict_client):
    photo = {"photo": ("big.png", b"\x89PNG" + b"0" * 2000, "image/png")}
    refused = strict_client.post("/search/photo", files=photo, headers=BROWSER)
    assert refused.status_code == 413
    assert refused.headers["content-type"] == HTML
    assert "The photo is larger than 1000 bytes, the most this service takes." in refused.text


def test_browsers_get_error_pages_and_programs_get_problems(client):
    page = client.get("/no/such/page", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"] == HTML
    assert "There is nothing at /no/such/page." in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/no/such/page").headers["content-type"] == "application/problem+json"
    api = client.get("/v1/entries/missing", headers=BROWSER)
    assert api.headers["content-type"] == "application/problem+json"


def test_browse_offers_the_entries_shown_as_spreadsheets(seeded_client):
    page = seeded_client.get("/?country=kp&q=f-7").text
    links = [html.unescape(link) for link in re.findall(r'href="(/v1/[a-z]+\.csv[^"]*)"', page)]
    assert len(links) == 4
    for link in links:
        sheet = seeded_client.get(link)
        assert sheet.status_code == 200, (link, sheet.text)
        if "excel=true" in link:
            assert sheet.content.startswith("\ufeff".encode())
        rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
        column = "slug" if "/entries.csv" in link else "entry"
        assert {row[column] for row in rows} <= {"f-7"}
    entries = seeded_client.get(links[1]).content.decode()
    assert [row["slug"] for row in csv.DictReader(io.StringIO(entries))] == ["f-7"]
    assert "spreadsheet" not in seeded_client.get("/?country=IL").text  # nothing to download
    everything = re.findall(r'href="(/v1/entries\.csv[^"]*)"', seeded_client.get("/").text)
    assert everything == ["/v1/entries.csv?excel=true", "/v1/entries.csv"]
