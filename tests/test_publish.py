"""`weaponsdb publish` run as a user runs it, and its copy served by the real Datasette
(`datasette serve -i`), queried through Datasette's JSON API."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.factories import add_entries, cited, synthetic_entry
from tests.serving import free_port
from tests.test_cli import run

HANGUL = synthetic_entry(
    "hangul-test",
    status="published",
    category="rocket",
    calibre_mm=107,
    country="KP",
    citations=cited("reported"),
    names=[{"text": "시험-107", "kind": "alias", "script": "Hang", "language": "ko"}],
    markings=[{"text": "QX-107", "citations": cited()}],
    identifiers=[{"scheme": "wikidata", "value": "Q999999960"}],
)
DRAFT = synthetic_entry("draft-test", markings=[{"text": "QX-999"}])


@pytest.fixture
def published(seeded, database_url, tmp_path: Path) -> tuple[Path, Path]:
    add_entries(seeded, HANGUL, DRAFT)
    copy = tmp_path / "out" / "weaponsdb.db"
    copy.parent.mkdir()
    result = run(database_url, "publish", str(copy))
    assert result.returncode == 0, result.stderr
    assert "Published 4 entries" in result.stdout
    return copy, copy.with_name("metadata.json")


@pytest.fixture
def datasette(published: tuple[Path, Path], tmp_path: Path) -> Iterator[str]:
    copy, metadata = published
    port = free_port()
    log = (tmp_path / "datasette.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            "-i",
            str(copy),
            "--metadata",
            str(metadata),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "datasette.log").read_text()
            try:
                if httpx.get(f"{base}/-/versions.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "datasette did not start"
            time.sleep(0.2)
        yield f"{base}/weaponsdb"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def rows(url: str, **params: str) -> list[dict[str, Any]]:
    answer = httpx.get(url, params={**params, "_shape": "array"}, timeout=30)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_the_copy_is_read_only_and_refuses_to_overwrite(
    published: tuple[Path, Path], database_url: str
) -> None:
    copy, _ = published
    assert not copy.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    again = run(database_url, "publish", str(copy))
    assert again.returncode == 1
    assert "exists already" in again.stderr


def test_datasette_serves_the_published_catalogue(datasette: str) -> None:
    slugs = [row["slug"] for row in rows(f"{datasette}/entries.json")]
    assert slugs == ["bang-122", "f-7", "hangul-test", "type-58"]  # no draft
    found = rows(f"{datasette}/entries.json", _search="시험")
    assert [row["slug"] for row in found] == ["hangul-test"]
    assert [row["slug"] for row in rows(f"{datasette}/entries.json", _search="QX")] == [
        "hangul-test"
    ]
    joined = rows(f"{datasette}/entries.json", wikidata="Q999999960")
    assert [row["slug"] for row in joined] == ["hangul-test"]
    marked = rows(f"{datasette}/entry_markings.json", marking="Bang-122")
    assert [(row["slug"], row["calibre_mm"]) for row in marked] == [("bang-122", 122.0)]
    names = rows(f"{datasette}/entry_names.json", script="Hang")
    assert [(row["slug"], row["name"], row["language"]) for row in names] == [
        ("hangul-test", "시험-107", "ko")
    ]
    claims = rows(f"{datasette}/entry_sources.json", slug="hangul-test")
    assert {(row["claim"], row["confidence"]) for row in claims} == {
        ("entry", "reported"),
        ("markings[0]", "confirmed"),
    }
    assert all(row["source_title"] for row in claims)
    sql = (
        "select count(*) as n from citations c left join sources s on s.key = c.source "
        "where s.key is null"
    )
    assert rows(f"{datasette}.json", sql=sql) == [{"n": 0}]


def test_datasette_reads_the_description(datasette: str) -> None:
    server = datasette.rsplit("/", 1)[0]
    metadata = httpx.get(f"{server}/-/metadata.json", timeout=30).json()
    assert metadata["license"] == "CC BY 4.0"
    assert metadata["source"].startswith("weaponsdb")
    tables = metadata["databases"]["weaponsdb"]["tables"]
    assert tables["markings"]["columns"]["script"].startswith("ISO 15924")
    (database,) = httpx.get(f"{server}/-/databases.json", timeout=30).json()
    assert database["is_mutable"] is False
    listing = httpx.get(f"{datasette}.json", timeout=30).json()
    assert {"entry_names", "entry_markings", "entry_sources"} <= {
        v["name"] for v in listing["views"]
    }
    entries = next(t for t in listing["tables"] if t["name"] == "entries")
    assert entries["fts_table"] == "entries_fts"
