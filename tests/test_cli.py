"""The weaponsdb command, run as a user runs it: a real process, real exit codes."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_schema


@pytest.fixture(autouse=True)
def private_photo_store(tmp_path, monkeypatch):
    """The commands below must never touch the project's own images/ folder."""
    monkeypatch.setenv("WEAPONSDB_IMAGES_DIR", str(tmp_path / "images"))


def run(
    database_url: str, *args: str, images: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WEAPONSDB_DATABASE_URL": database_url, "COLUMNS": "200"}
    if images is not None:
        env["WEAPONSDB_IMAGES_DIR"] = str(images)
    return subprocess.run(
        [sys.executable, "-m", "weaponsdb", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def fresh_file_db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_db(request, tmp_path) -> Iterator[str]:
    """A database nobody has run `weaponsdb migrate` on."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with fresh_postgres_schema() as url:
        yield url


@pytest.mark.parametrize("command", [("match", "F-7"), ("entries", "list")])
def test_a_database_never_migrated_gets_told_to_migrate(unmigrated_db, command):
    result = run(unmigrated_db, *command)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "the database cannot be used" in result.stderr
    assert "run `weaponsdb migrate`" in result.stderr
    assert run(unmigrated_db, "migrate").returncode == 0
    assert run(unmigrated_db, *command).returncode == 0


def test_migrate_seed_list_and_show(fresh_file_db):
    assert run(fresh_file_db, "migrate").returncode == 0
    seeded = run(fresh_file_db, "seed")
    assert seeded.returncode == 0, seeded.stderr
    listing = run(fresh_file_db, "entries", "list")
    assert listing.returncode == 0
    for slug in ("bang-122", "f-7", "type-58"):
        assert slug in listing.stdout
    rifles = run(fresh_file_db, "entries", "list", "--category", "rifle")
    assert "type-58" in rifles.stdout
    assert "bang-122" not in rifles.stdout
    shown = run(fresh_file_db, "entries", "show", "bang-122")
    assert "marking: Bang-122" in shown.stdout
    assert "upi-2023-10-17" in shown.stdout
    as_json = run(fresh_file_db, "entries", "show", "type-58", "--json")
    assert json.loads(as_json.stdout)["family"] == "Kalashnikov"


def test_unknown_slug_and_bad_options_fail_clearly(seeded, database_url):
    missing = run(database_url, "entries", "show", "no-such-entry")
    assert missing.returncode == 1
    assert "No entry has the slug 'no-such-entry'" in missing.stderr
    bad = run(database_url, "entries", "list", "--category", "tank")
    assert bad.returncode == 2
    assert "tank" in bad.stderr


def test_export_then_import_into_an_empty_database(seeded, database_url, tmp_path):
    exported = tmp_path / "catalogue.json"
    assert run(database_url, "export", str(exported)).returncode == 0
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    assert run(target, "migrate").returncode == 0
    imported = run(target, "import", str(exported))
    assert imported.returncode == 0, imported.stderr
    again = json.loads(run(target, "export", "-").stdout)
    original = json.loads(exported.read_text())
    again.pop("exported_at"), original.pop("exported_at")
    assert again == original


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"entries": [{"slug": "x", "name": "x", "category": "tank"}]}', "entries[0].category"),
        (
            '{"entries": [{"slug": "bang-122", "name": "duplicate"}]}',
            "already has the entry 'bang-122'",
        ),
    ],
)
def test_a_bad_import_file_changes_nothing(seeded, database_url, tmp_path, content, message):
    before = json.loads(run(database_url, "export", "-").stdout)
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run(database_url, "import", str(bad))
    assert result.returncode == 1
    assert message in result.stderr
    after = json.loads(run(database_url, "export", "-").stdout)
    before.pop("exported_at"), after.pop("exported_at")
    assert after == before


def test_an_unreachable_database_is_a_clear_error(tmp_path):
    result = run(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}", "entries", "list")
    assert result.returncode == 1
    assert "database cannot be used" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("WEAPONSDB_MATCH_BATCH_PROCESSES", "0"), ("WEAPONSDB_MAX_BODY_BYTES", "lots")],
)
def test_an_invalid_setting_is_named_without_a_traceback(
    fresh_file_db, monkeypatch, variable, value
):
    monkeypatch.setenv(variable, value)
    for command in (("match", "F-7"), ("serve", "--port", "1")):
        result = run(fresh_file_db, *command)
        assert result.returncode == 1
        assert "a setting is invalid" in result.stderr
        assert variable in result.stderr
        assert "Traceback" not in result.stderr


def test_backup_and_restore_from_the_command_line(seeded, database_url, tmp_path):
    archive = tmp_path / "weaponsdb-backup.tar.gz"
    made = run(database_url, "backup", str(archive))
    assert made.returncode == 0, made.stderr
    target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    restored = run(target, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    original = json.loads(run(database_url, "export", "-").stdout)
    copy = json.loads(run(target, "export", "-").stdout)
    original.pop("exported_at"), copy.pop("exported_at")
    assert copy == original
    again = run(target, "restore", str(archive))
    assert again.returncode == 1
    assert "empty database" in again.stderr


def test_match_prints_the_ranked_table_with_explanations(seeded, database_url):
    evidence = ("--calibre", "122", "--category", "artillery projectile")
    result = run(database_url, "match", "방-122", "F-7", *evidence)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if "Bang-122 artillery ammunition" in line)
    second = next(i for i, line in enumerate(lines) if "F-7 rocket-propelled grenade" in line)
    assert first < second
    assert "방-122 → Bang-122: transliterated" in result.stdout
    assert "calibre_mm raised: 122 mm agrees with the catalogue's 122 mm" in result.stdout
    assert "2 candidates" in result.stdout


def test_match_answers_as_json_for_scripts(seeded, database_url):
    result = run(database_url, "match", "방-122", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["confident"] is True
    first = answer["candidates"][0]
    assert first["slug"] == "bang-122"
    assert first["matches"][0]["observed"] == "방-122"
    assert first["matches"][0]["how"] == "transliterated"
    assert "Revised Romanization" in first["matches"][0]["detail"]
    assert answer["indexed_texts"] > 0


def test_match_says_when_no_candidate_is_confident(seeded, database_url):
    bare = run(database_url, "match", "58")  # a number without its word: Type 58, unsure
    assert bare.returncode == 0, bare.stderr
    assert "Type 58 self-loading rifle" in bare.stdout
    assert "no confident match" in bare.stdout
    assert json.loads(run(database_url, "match", "58", "--json").stdout)["confident"] is False
    sure = run(database_url, "match", "Type 58")
    assert "no confident match" not in sure.stdout


def test_match_says_when_the_item_may_be_a_variant_the_catalogue_lacks(seeded, database_url):
    lacked = run(database_url, "match", "Type 56")  # the catalogue holds Type 58 only
    assert lacked.returncode == 0, lacked.stderr
    said = " ".join(lacked.stdout.split())  # however the table wraps it
    assert "no confident match" in said
    assert "it may be a variant of Type 58 self-loading rifle that the catalogue lacks" in said
    first = json.loads(run(database_url, "match", "Type 56", "--json").stdout)["candidates"][0]
    assert first["slug"] == "type-58"
    assert 0.3 < first["lacked_variant_score"] < 0.7
    sure = run(database_url, "match", "Type 58")
    assert "catalogue lacks" not in sure.stdout


def test_match_refuses_an_illegible_query(seeded, database_url):
    result = run(database_url, "match", "***", "F-7")
    assert result.returncode == 1
    assert "markings[0]" in result.stderr
    assert "no legible letter or digit" in result.stderr


def test_entries_list_finds_a_marking_as_the_matcher_reads_it(seeded, database_url):
    listing = run(database_url, "entries", "list", "--marking", "방-122")
    assert listing.returncode == 0, listing.stderr
    assert "bang-122" in listing.stdout
    assert "f-7" not in listing.stdout
    assert "1 of 1 entries" in listing.stdout
