"""What reference managers read: the metadata embedded in the served entry and revision
pages, extracted by extruct (schema.org JSON-LD, Dublin Core) and read as Zotero's Embedded
Metadata translator reads Highwire tags (each <meta name="citation_*">, through lxml's HTML
parser); and /cite in RIS, read by rispy, and by media type."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import extruct
import httpx2 as httpx
import lxml.html
import pytest
import rispy

from api.app import create_app
from tests.factories import headers
from tests.serving import in_thread

HOSTILE_NAME = 'F-7 </script><script>alert("x")</script> & <b>'


@pytest.fixture
def site(seeded, settings, engine, editor) -> Iterator[httpx.Client]:
    with (
        in_thread(create_app(settings, engine), settings) as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
    ):
        version = client.get("/v1/entries/f-7").json()["version"]
        renamed = client.patch(
            "/v1/entries/f-7", json={"name": HOSTILE_NAME}, headers=headers(editor, version)
        )
        assert renamed.status_code == 200, renamed.text
        yield client


def embedded(client: httpx.Client, path: str) -> dict[str, Any]:
    page = client.get(path)
    assert page.status_code == 200
    data: dict[str, Any] = extruct.extract(
        page.text, base_url=str(page.url), syntaxes=["json-ld", "dublincore"], uniform=True
    )
    tree = lxml.html.fromstring(page.text)
    data["highwire"] = [
        (meta.get("name"), meta.get("content"))
        for meta in tree.iter("meta")
        if (meta.get("name") or "").startswith("citation_")
    ]
    return data


def dublin_core(data: dict[str, Any]) -> dict[str, str]:
    (dc,) = data["dublincore"]
    return {e["name"]: e["content"] for e in dc["elements"] + dc["terms"]}


def test_entry_page_carries_its_latest_revision(site: httpx.Client) -> None:
    data = embedded(site, "/entries/bang-122")
    base = str(site.base_url).rstrip("/")
    url = f"{base}/v1/entries/bang-122/revisions/1"
    (ld,) = data["json-ld"]
    assert (ld["@type"], ld["name"], ld["version"], ld["url"]) == (
        "Dataset",
        "Bang-122 artillery ammunition",
        "1",
        url,
    )
    assert ld["isPartOf"]["name"] == "weaponsdb"
    assert ld["license"] == "https://creativecommons.org/licenses/by/4.0/"
    dc = dublin_core(data)
    assert dc["DC.title"] == "Bang-122 artillery ammunition"
    assert dc["DC.identifier"] == url
    assert data["dublincore"][0]["@type"] == "Dataset"  # extruct's reading of DC.type
    highwire = dict(data["highwire"])
    assert highwire["citation_title"] == "Bang-122 artillery ammunition"
    assert highwire["citation_public_url"] == url
    assert highwire["citation_publisher"] == "weaponsdb"
    assert highwire["citation_date"].count("/") == 2  # YYYY/MM/DD, as Highwire wants
    # No journal, conference, thesis, report or book: Zotero would type it as one of those.
    typed_as_other = {
        "citation_journal_title",
        "citation_conference_title",
        "citation_dissertation_institution",
        "citation_technical_report_institution",
        "citation_inbook_title",
        "citation_book_title",
    }
    assert not typed_as_other & set(highwire)


def test_revision_pages_show_and_describe_that_revision(site: httpx.Client) -> None:
    old = embedded(site, "/entries/f-7/revisions/1")
    new = embedded(site, "/entries/f-7/revisions/2")
    assert old["json-ld"][0]["name"] == "F-7 rocket-propelled grenade"
    assert old["json-ld"][0]["version"] == "1"
    # A name made to break out of the JSON-LD script or the meta tags reads back whole.
    assert new["json-ld"][0]["name"] == HOSTILE_NAME
    assert dublin_core(new)["DC.title"] == HOSTILE_NAME
    assert dict(new["highwire"])["citation_title"] == HOSTILE_NAME
    page = site.get("/entries/f-7/revisions/1").text
    assert "An earlier revision" in page
    assert "See the current version" in page
    assert site.get("/entries/f-7/revisions/3").status_code == 404
    assert site.get("/entries/no-such/revisions/1").status_code == 404


def test_ris_is_read_by_rispy(site: httpx.Client) -> None:
    by_format = site.get("/v1/entries/f-7/cite", params={"format": "ris", "revision": 1})
    by_accept = site.get(
        "/v1/entries/f-7/cite?revision=1",
        headers={"Accept": "application/x-research-info-systems"},
    )
    assert by_format.text == by_accept.text
    assert by_accept.headers["content-type"].startswith("application/x-research-info-systems")
    (item,) = rispy.loads(by_format.text)
    assert item["type_of_reference"] == "ENCYC"
    assert item["title"] == "F-7 rocket-propelled grenade"
    assert item["secondary_title"] == "weaponsdb"
    assert item["urls"] == [f"{str(site.base_url).rstrip('/')}/v1/entries/f-7/revisions/1"]
    assert item["edition"] == "Revision 1"
    assert len(item["access_date"].split("/")) == 3
    (hostile,) = rispy.loads(site.get("/v1/entries/f-7/cite?format=ris").text)
    assert hostile["title"] == HOSTILE_NAME


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/vnd.citationstyles.csl+json", "application/vnd.citationstyles.csl+json"),
        ("application/x-bibtex", "application/x-bibtex"),
        ("text/html, application/x-bibtex;q=0.5", "application/x-bibtex"),
        (
            "application/x-bibtex;q=0.4, application/x-research-info-systems",
            "application/x-research-info-systems",
        ),
        ("*/*", "text/plain"),
    ],
)
def test_cite_answers_the_media_type_asked_for(seeded_client, accept: str, media_type: str) -> None:
    answer = seeded_client.get("/v1/entries/bang-122/cite", headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in answer.headers["vary"]
    if media_type.endswith("csl+json"):
        assert json.loads(answer.text)[0]["type"] == "entry-encyclopedia"
    explicit = seeded_client.get("/v1/entries/bang-122/cite?format=apa", headers={"Accept": accept})
    assert explicit.headers["content-type"].startswith("text/plain")
