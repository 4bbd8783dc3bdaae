"""Spreadsheets: /v1/entries.csv and /v1/instances.csv read with Python's csv module,
`weaponsdb export --format csv` and `weaponsdb import` of a CSV of entries run as a user
runs them, with errors named by row and column and nothing written on any error."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.factories import SOURCE_KEY, add_entries, headers, synthetic_entry
from tests.test_cli import run
from weaponsdb.tabular import ENTRY_COLUMNS, INSTANCE_COLUMNS


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_entries_csv(seeded_client) -> None:
    answer = seeded_client.get("/v1/entries.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="entries.csv"' in answer.headers["content-disposition"]
    assert tuple(next(csv.reader(io.StringIO(answer.text)))) == ENTRY_COLUMNS
    found = {row["slug"]: row for row in rows(answer.text)}
    assert sorted(found) == ["bang-122", "f-7", "type-58"]
    bang = found["bang-122"]
    assert (bang["calibre_mm"], bang["country"], bang["markings"]) == ("122", "KP", "Bang-122")
    assert bang["url"] == "http://testserver/entries/bang-122"
    rifles = rows(seeded_client.get("/v1/entries.csv?category=rifle").text)
    assert [row["slug"] for row in rifles] == ["type-58"]
    assert seeded_client.get("/v1/entries.csv?country=Korea").status_code == 422


def test_entries_csv_for_excel_begins_with_a_byte_order_mark(seeded_client) -> None:
    plain = seeded_client.get("/v1/entries.csv")
    assert not plain.content.startswith(b"\xef\xbb\xbf")  # scripts read it as it is
    excel = seeded_client.get("/v1/entries.csv?excel=true")
    assert excel.status_code == 200
    assert excel.content.startswith(b"\xef\xbb\xbf")
    assert excel.content.decode("utf-8-sig") == plain.text
    instances = seeded_client.get("/v1/instances.csv?excel=true")
    assert instances.content.startswith(b"\xef\xbb\xbfentry,")


def test_instances_csv(seeded_client) -> None:
    answer = seeded_client.get("/v1/instances.csv")
    assert answer.status_code == 200
    assert tuple(next(csv.reader(io.StringIO(answer.text)))) == INSTANCE_COLUMNS
    found = rows(answer.text)
    entries = seeded_client.get("/v1/entries").json()["items"]
    expected = sum(len(seeded_client.get(e["url"]).json()["instances"]) for e in entries)
    assert len(found) == expected > 0
    first = seeded_client.get("/v1/entries/bang-122").json()["instances"][0]
    (bang,) = [row for row in found if row["entry"] == "bang-122"]
    assert bang["event"] == first["event"]
    assert bang["sources"] == " | ".join(sorted({c["source"] for c in first["citations"]}))


def test_instances_csv_gives_coordinates_as_published(seeded_client, editor) -> None:
    sighting = {"event": "Synthetic sighting", "latitude": 48.12, "longitude": 37.65}
    added = seeded_client.post(
        "/v1/entries/f-7/instances",
        json={**sighting, "precision": "place"},
        headers=headers(editor, 1),
    )
    assert added.status_code == 200, added.text
    found = rows(seeded_client.get("/v1/instances.csv").text)
    (row,) = [r for r in found if r["event"] == "Synthetic sighting"]
    assert (row["latitude"], row["longitude"], row["precision"]) == ("48.12", "37.65", "place")


def write_sheet(path: Path, entries: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    """Entry rows written as a spreadsheet would keep them."""
    with path.open("w", newline="", encoding=encoding) as file:
        writer = csv.DictWriter(file, fieldnames=ENTRY_COLUMNS)
        writer.writeheader()
        writer.writerows(entries)
    return path


def test_export_csv_then_import_it_back(seeded, database_url, tmp_path: Path) -> None:
    """A round trip through a file a spreadsheet would keep: the entries exported, given new
    slugs, imported as drafts, and exported again, cell for cell the same."""
    exported = run(database_url, "export", "-", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    original = rows(exported.stdout)
    copies = [{**row, "slug": f"{row['slug']}-copy"} for row in original]
    sheet = write_sheet(tmp_path / "copies.csv", copies)
    imported = run(database_url, "import", str(sheet))
    assert imported.returncode == 0, imported.stderr
    assert "Imported 3 entries as drafts" in imported.stdout
    again = rows(run(database_url, "export", "-", "--format", "csv", "--status", "draft").stdout)
    assert again == [{**row, "status": "draft"} for row in copies]
    instances = run(database_url, "export", "-", "--format", "csv", "--table", "instances")
    assert tuple(next(csv.reader(io.StringIO(instances.stdout)))) == INSTANCE_COLUMNS


def test_a_csv_exported_for_excel_imports_back(seeded, database_url, tmp_path: Path) -> None:
    sheet = tmp_path / "for-excel.csv"
    exported = run(database_url, "export", str(sheet), "--format", "csv", "--excel")
    assert exported.returncode == 0, exported.stderr
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbfslug,")
    copies = [{**row, "slug": f"{row['slug']}-x"} for row in rows(sheet.read_text("utf-8-sig"))]
    write_sheet(sheet, copies, encoding="utf-8-sig")  # as Excel saves it
    imported = run(database_url, "import", str(sheet))
    assert imported.returncode == 0, imported.stderr
    assert "Imported 3 entries as drafts" in imported.stdout


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("sheet", "reported"),
    [
        (
            "slug,name,calibre_mm,country\n"
            "good-one,Synthetic good (test data),122,KP\n"
            "bad-calibre,Synthetic (test data),big,KP\n"
            "bad-country,Synthetic (test data),7.62,Korea\n"
            "Bad Slug,Synthetic (test data),,\n"
            "good-one,Synthetic again (test data),,\n",
            [
                "row 3, column calibre_mm",
                "row 4, column country",
                "row 5, column slug",
                "row 6, column slug: repeats row 2",
            ],
        ),
        ("slug,title\nx,y\n", ["row 1, column title", "row 1, column name"]),
        (
            "slug,name,category,source,confidence,wikidata\n\n"
            "a-one,Synthetic (test data),tank,,,\n"
            "a-two,Synthetic (test data),rifle,no-such-source,,\n"
            "bang-122,Synthetic (test data),,,sure,\n"
            "a-four,Synthetic (test data),,,,Wikidata-7\n",
            [
                "row 3, column category",
                "row 5, column confidence",
                "row 6, column wikidata",
            ],
        ),
        (
            "slug,name,source,producers\n"
            "a-two,Synthetic (test data),no-such-source,\n"
            "bang-122,Synthetic (test data),,\n"
            "a-three,Synthetic (test data),,no-such-producer\n",
            [
                "row 2, column source: the catalogue has no source 'no-such-source'",
                "row 3, column slug: the catalogue already has this entry",
                "row 4, column producers: the catalogue has no producer 'no-such-producer'",
            ],
        ),
    ],
)
def test_a_bad_csv_is_reported_by_row_and_column_and_changes_nothing(
    seeded, database_url, tmp_path: Path, sheet: str, reported: list[str]
) -> None:
    before = json.loads(run(database_url, "export", "-").stdout)
    result = run(database_url, "import", str(write(tmp_path / "entries.csv", sheet)))
    assert result.returncode == 1
    for line in reported:
        assert line in result.stderr, result.stderr
    after = json.loads(run(database_url, "export", "-").stdout)
    before.pop("exported_at"), after.pop("exported_at")
    assert after == before


def test_an_imported_row_cites_its_source_and_stays_a_draft(
    seeded, database_url, tmp_path: Path
) -> None:
    add_entries(seeded, synthetic_entry("placeholder", status="published"))
    sheet = (
        "slug,name,category,names,markings,wikidata,source,confidence\n"
        "csv-one,Synthetic CSV entry (test data),mine,QZ-1 | ҚЗ-1,QZ-1 lot 7,Q999999950,"
        f"{SOURCE_KEY},\n"
    )
    result = run(database_url, "import", str(write(tmp_path / "one.csv", sheet)))
    assert result.returncode == 0, result.stderr
    shown = json.loads(run(database_url, "entries", "show", "csv-one", "--json").stdout)
    assert shown["status"] == "draft"
    assert [n["text"] for n in shown["names"]] == ["QZ-1", "ҚЗ-1"]
    assert [m["text"] for m in shown["markings"]] == ["QZ-1 lot 7"]
    assert shown["citations"] == [{"source": SOURCE_KEY, "confidence": "reported"}]
    assert shown["identifiers"] == [{"scheme": "wikidata", "value": "Q999999950"}]
