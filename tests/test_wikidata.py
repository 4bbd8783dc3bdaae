"""`weaponsdb import wikidata` run as a user runs it, on synthetic entity JSON written to
Wikidata's documented formats (tests/wikidata), from a file, standard input, and a local
HTTP server standing in for Special:EntityData; and what it leaves, through the API."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.factories import change, headers
from weaponsdb import db, editing, schemas
from weaponsdb.catalogue.parts import COLLECTIONS

FIXTURES = Path(__file__).parent / "wikidata"
QID = "Q999999001"


def run(database_url: str, *args: str, stdin: str | None = None, **env: str):
    return subprocess.run(
        [sys.executable, "-m", "weaponsdb", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "WEAPONSDB_DATABASE_URL": database_url, "COLUMNS": "200", **env},
        timeout=120,
    )


def imported(database_url: str, fixture: str) -> str:
    result = run(database_url, "import", "wikidata", str(FIXTURES / fixture))
    assert result.returncode == 0, result.stderr
    printed: str = result.stdout
    return printed


def entry(client: TestClient, qid: str = QID) -> dict[str, Any]:
    found = client.get("/v1/entries", params={"wikidata": qid, "status": "draft"}).json()
    (summary,) = found["items"]
    detail: dict[str, Any] = client.get(f"/v1/entries/{summary['slug']}").json()
    return detail


def test_an_item_becomes_a_cited_draft(seeded_client, database_url) -> None:
    assert "created draft synthetic-rocket-sr-1-test-data" in imported(
        database_url, "entity-data.json"
    )
    made = entry(seeded_client)
    assert made["status"] == "draft"
    assert (made["category"], made["calibre_mm"], made["country"]) == ("rocket", 107.0, "KP")
    names = {(n["text"], n["script"], n["language"], n["kind"]) for n in made["names"]}
    assert ("시험 로켓 SR-1", "Hang", "ko", "name") in names
    assert ("Синтетическая ракета SR-1", "Cyrl", "ru", "name") in names
    assert ("에스알-1", "Hang", "ko", "alias") in names
    assert made["producers"][0]["producer"] == "wikidata-q999999030"
    assert {(i["scheme"], i["value"]) for i in made["identifiers"]} == {
        ("wikidata", QID),
        ("commons", "Synthetic rocket SR-1 (test data).jpg"),
    }
    source = "wikidata-q999999001-r101"
    everything = [
        *made["citations"],
        *(c for n in made["names"] for c in n["citations"]),
        *made["producers"][0]["citations"],
    ]
    assert {(c["source"], c["confidence"]) for c in everything} == {(source, "reported")}
    assert {c["field"] for c in made["citations"]} == {"category", "calibre", "country"}
    (cited,) = [s for s in made["sources"] if s["key"] == source]
    assert cited["url"].endswith(f"title={QID}&oldid=101")
    assert cited["published"] == "2026-03-04"
    assert "Retrieved" in cited["description"]
    page = seeded_client.get(f"/entries/{made['slug']}").text
    assert f"https://www.wikidata.org/wiki/{QID}" in page
    assert "https://www.wikidata.org/wiki/Q999999030" in page  # the maker's item
    # Nothing is published without an editor: the public list does not show it.
    assert seeded_client.get("/v1/entries", params={"wikidata": QID}).json()["total"] == 0


def test_producers_and_sources_carry_identifiers(seeded_client, editor, database_url) -> None:
    imported(database_url, "entity-data.json")
    exported = json.loads(run(database_url, "export", "-").stdout)
    (maker,) = [p for p in exported["producers"] if p["key"] == "wikidata-q999999030"]
    assert maker["identifiers"] == [{"scheme": "wikidata", "value": "Q999999030"}]
    key = "upi-2023-10-17"  # a seed source
    current = seeded_client.get(f"/v1/sources/{key}")
    body = {**current.json(), "identifiers": [{"scheme": "wikidata", "value": "Q999999040"}]}
    changed = seeded_client.put(
        f"/v1/sources/{key}",
        json=body,
        headers=headers(editor, None) | {"If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    shown = seeded_client.get(f"/v1/sources/{key}").json()["identifiers"]
    assert [(i["scheme"], i["value"]) for i in shown] == [("wikidata", "Q999999040")]
    bad = seeded_client.put(
        f"/v1/sources/{key}",
        json={**body, "identifiers": [{"scheme": "wikidata", "value": "4040"}]},
        headers=headers(editor, None) | {"If-Match": changed.headers["etag"]},
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["identifiers[0]"]


def test_reimport_follows_the_item_but_never_an_editors_change(
    seeded_client, seeded, database_url
) -> None:
    imported(database_url, "entity-data.json")
    slug = entry(seeded_client)["slug"]
    with db.transaction(seeded) as session:
        editing.update_entry(session, change(slug), editing.EntryChanges(country="CN"))
    with db.transaction(seeded) as session:
        alias = schemas.NameRecord(text="Editor's alias (test data)", kind="alias")
        editing.add_item(session, change(slug), COLLECTIONS["names"], alias)
    assert f"updated {slug}" in imported(database_url, "entity-data-r102.json")
    after = entry(seeded_client)
    assert after["calibre_mm"] == 108.0  # changed on Wikidata, untouched here
    assert after["country"] == "CN"  # the editor's
    texts = {n["text"] for n in after["names"]}
    assert "Editor's alias (test data)" in texts
    assert "Синтетична ракета СР-1" in texts  # new on Wikidata
    assert "Essar One (test data)" not in texts  # gone from Wikidata
    calibre = [c for c in after["citations"] if c["field"] == "calibre"]
    assert [c["source"] for c in calibre] == ["wikidata-q999999001-r102"]
    assert [c["field"] for c in after["citations"] if c["field"] == "country"] == ["country"]
    revisions = seeded_client.get(f"/v1/entries/{slug}/revisions").json()["items"]
    assert [r["author"] for r in revisions][-1] == "wikidata import"


def test_dump_lines_from_standard_input(seeded_client, database_url) -> None:
    text = (FIXTURES / "dump.json").read_text()
    result = run(database_url, "import", "wikidata", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    made = entry(seeded_client, "Q999999002")
    assert (made["category"], made["country"]) == ("rifle", "KP")  # mapping.json
    assert {n["script"] for n in made["names"]} == {"Latn", "Hani"}


class JsonServer(http.server.BaseHTTPRequestHandler):
    """A quiet stand-in for a service that answers JSON."""

    def send_json(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[str]:
    """A local HTTP server in the place of Wikidata, serving Special:EntityData."""

    class EntityData(JsonServer):
        def do_GET(self) -> None:
            name = self.path.removeprefix("/wiki/Special:EntityData/")
            path = FIXTURES / name
            if not name.startswith("Q") or not path.is_file():
                self.send_error(404)
                return
            self.send_json(path.read_bytes())

    yield from serving(EntityData)


def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(10)


def test_fetch_from_the_service(seeded_client, database_url, stand_in: str) -> None:
    result = run(
        database_url,
        "import",
        "wikidata",
        "--fetch",
        "Q999999002",
        WEAPONSDB_WIKIDATA_URL=stand_in,
    )
    assert result.returncode == 0, result.stderr
    assert entry(seeded_client, "Q999999002")["name"] == "Synthetic rifle SX-2 (test data)"
    missing = run(
        database_url, "import", "wikidata", "--fetch", "Q999999077", WEAPONSDB_WIKIDATA_URL=stand_in
    )
    assert missing.returncode == 1
    assert "answered 404" in missing.stderr


@pytest.mark.parametrize(
    ("text", "reported"),
    [
        ("[\n{not json},\n]\n", "line 2"),
        ('{"entities": {"Q1": {"id": "Q1"}}}', "entities.Q1.lastrevid"),
    ],
)
def test_bad_entity_json_changes_nothing(seeded, database_url, text: str, reported: str) -> None:
    before = json.loads(run(database_url, "export", "-").stdout)
    result = run(database_url, "import", "wikidata", "-", stdin=text)
    assert result.returncode == 1
    assert reported in result.stderr
    after = json.loads(run(database_url, "export", "-").stdout)
    before.pop("exported_at"), after.pop("exported_at")
    assert after == before


# --- the licences of photo leads, from Wikimedia Commons ---------------------------------------

COMMONS_PAGES = {
    page["title"]: page
    for page in json.loads((FIXTURES / "commons-extmetadata.json").read_text())["query"]["pages"]
}
LICENSED = "Synthetic rifle SX-3 (test data).jpg"
UNKNOWN = "Synthetic rifle SX-3 markings (test data).png"
UNCHECKED = "photo lead from Wikidata; its licence is on the Commons file page, not checked"


@pytest.fixture
def commons() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    """A local HTTP server in the place of the Commons API at /w/api.php, answering
    imageinfo extmetadata queries from tests/wikidata/commons-extmetadata.json (any other
    title is missing, as on Commons); anything else answers 503. With the queries asked."""
    asked: list[dict[str, list[str]]] = []

    class Api(JsonServer):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path != "/w/api.php":
                self.send_error(503)
                return
            asked.append(query)
            self.answer(query)

        def answer(self, query: dict[str, list[str]]) -> None:
            wanted = {"action": ["query"], "prop": ["imageinfo"], "format": ["json"]}
            if any(query.get(k) != v for k, v in wanted.items()) or "extmetadata" not in query.get(
                "iiprop", [""]
            )[0].split("|"):
                document: dict[str, Any] = {"error": {"code": "badquery", "info": "not expected"}}
            else:
                titles = query["titles"][0].split("|")
                missing = {"ns": 6, "missing": True, "imagerepository": ""}
                pages = [COMMONS_PAGES.get(t, {**missing, "title": t}) for t in titles]
                document = {"batchcomplete": True, "query": {"pages": pages}}
            self.send_json(json.dumps(document).encode())

    for url in serving(Api):
        yield f"{url}/w/api.php", asked


def leads(made: dict[str, Any]) -> dict[str, str]:
    return {i["value"]: i["note"] for i in made["identifiers"] if i["scheme"] == "commons"}


def fetched(database_url: str, wikidata: str, commons_api: str):
    return run(
        database_url,
        "import",
        "wikidata",
        "--fetch",
        "Q999999003",
        WEAPONSDB_WIKIDATA_URL=wikidata,
        WEAPONSDB_COMMONS_API_URL=commons_api,
    )


def test_fetch_records_the_licences_commons_gives(
    seeded_client, database_url, stand_in: str, commons
) -> None:
    api, asked = commons
    result = fetched(database_url, stand_in, api)
    assert result.returncode == 0, result.stderr
    # One query for both files, by their File: titles.
    assert [q["titles"] for q in asked] == [[f"File:{LICENSED}|File:{UNKNOWN}"]]
    made = entry(seeded_client, "Q999999003")
    notes = leads(made)
    assert notes[LICENSED].startswith(
        "licence: CC BY-SA 4.0 <https://creativecommons.org/licenses/by-sa/4.0>;"
        " credit: Synthetic Tester (test data) (as Wikimedia Commons gave it on "
    )
    assert notes[UNKNOWN] == UNCHECKED  # Commons does not know it
    assert f"File:{UNKNOWN}: Commons gives no licence for it" in result.stderr
    page = seeded_client.get(f"/entries/{made['slug']}").text
    assert "licence: CC BY-SA 4.0" in page
    assert "credit: Synthetic Tester (test data)" in page


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("down", ["unreachable", "503"])
def test_commons_down_leaves_the_licence_unchecked(
    seeded_client, database_url, stand_in: str, commons, down: str
) -> None:
    api = f"http://127.0.0.1:{closed_port()}/w/api.php" if down == "unreachable" else ""
    api = api or commons[0].replace("/w/api.php", "/down/api.php")
    result = fetched(database_url, stand_in, api)
    assert result.returncode == 0, result.stderr
    assert "the photo leads keep 'licence not checked'" in result.stderr
    made = entry(seeded_client, "Q999999003")
    assert leads(made) == {LICENSED: UNCHECKED, UNKNOWN: UNCHECKED}
    # Once Commons answers, importing again records the licence.
    again = fetched(database_url, stand_in, commons[0])
    assert again.returncode == 0, again.stderr
    assert leads(entry(seeded_client, "Q999999003"))[LICENSED].startswith("licence: CC BY-SA 4.0")


def test_from_a_file_commons_is_not_asked(seeded_client, database_url, commons) -> None:
    api, asked = commons
    result = run(
        database_url,
        "import",
        "wikidata",
        str(FIXTURES / "Q999999003.json"),
        WEAPONSDB_COMMONS_API_URL=api,
    )
    assert result.returncode == 0, result.stderr
    assert asked == []
    assert set(leads(entry(seeded_client, "Q999999003")).values()) == {UNCHECKED}


def test_a_licence_never_replaces_an_editors_note(
    seeded_client, seeded, database_url, stand_in: str, commons
) -> None:
    down = commons[0].replace("/w/api.php", "/down/api.php")
    assert fetched(database_url, stand_in, down).returncode == 0
    made = entry(seeded_client, "Q999999003")
    index = [i["value"] for i in made["identifiers"]].index(LICENSED)
    mine = schemas.IdentifierRecord(
        scheme="commons", value=LICENSED, note="Editor: CC0 per the uploader (test data)"
    )
    with db.transaction(seeded) as session:
        editing.replace_item(session, change(made["slug"]), COLLECTIONS["identifiers"], index, mine)
    result = fetched(database_url, stand_in, commons[0])
    assert result.returncode == 0, result.stderr
    assert leads(entry(seeded_client, "Q999999003")) == {
        LICENSED: "Editor: CC0 per the uploader (test data)",
        UNKNOWN: UNCHECKED,
    }
