"""The chain of custody on the command line: `weaponsdb verify` re-hashes the store against
the log, passes after a backup is restored into an empty database and store, and names each
tampered or missing file; the located instances export as GeoJSON. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geojson
from sqlalchemy import func, select, text

from tests.conftest import fresh_postgres_schema
from tests.test_api_observations import auth, gps_photo, link, submit
from tests.test_cli import run as cli_run
from weaponsdb import backup, db, models


def run(database_url: str, images: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_run(database_url, *args, images=images)


@contextmanager
def empty_database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'restored.sqlite3'}"
        return
    with fresh_postgres_schema() as url:
        yield url


def linked_observation(client, contributor: str, editor: str) -> int:
    number: int = submit(client, contributor).json()["id"]
    client.get(f"/v1/observations/{number}/photos/0/original", headers=auth(editor))
    assert link(client, editor, number).status_code == 200
    return number


def test_verify_passes_after_a_restore(
    seeded_client, seeded, engine, settings, contributor, editor, tmp_path
):
    number = linked_observation(seeded_client, contributor, editor)
    checked = run(settings.database_url, settings.images_dir, "verify")
    assert checked.returncode == 0, checked.stderr
    assert "All 4 files" in checked.stdout  # the original, its working copy, two thumbnails
    archive = tmp_path / "backup.tar.gz"
    backup.create_backup(engine, settings.images_dir, archive)
    restored_images = tmp_path / "restored-images"
    with empty_database(engine.dialect.name, tmp_path) as url:
        backup.restore_backup(url, restored_images, archive)
        assert run(url, restored_images, "verify").returncode == 0
        restored = db.make_engine(url)
        try:
            with db.make_sessionmaker(restored)() as session, seeded() as original:
                query = select(models.CustodyEntry.action, models.CustodyEntry.sha256).order_by(
                    models.CustodyEntry.id
                )
                assert session.execute(query).all() == original.execute(query).all()
                assert (
                    session.scalar(
                        select(models.Observation.state).where(models.Observation.id == number)
                    )
                    == "linked"
                )
        finally:
            restored.dispose()


def test_verify_names_tampered_and_missing_files(
    seeded_client, seeded, settings, contributor, editor
):
    linked_observation(seeded_client, contributor, editor)
    with seeded() as session:
        photo = session.scalars(select(models.ObservationPhoto)).one()
        lines = session.scalar(select(func.count()).select_from(models.CustodyEntry))
    assert lines
    original = settings.images_dir / photo.original_key
    original.write_bytes(original.read_bytes() + b"tampered")
    working = next(settings.images_dir.glob(f"??/??/{photo.sha256}.*"))
    working.unlink()
    checked = run(settings.database_url, settings.images_dir, "verify")
    assert checked.returncode == 1
    assert photo.original_key in checked.stderr
    assert "found missing" in checked.stderr
    assert "2 mismatches among 4 files and" in checked.stderr


def test_instances_export_as_geojson(seeded_client, settings, contributor, editor):
    linked_observation(seeded_client, contributor, editor)
    exported = run(settings.database_url, settings.images_dir, "export", "-", "--format", "geojson")
    assert exported.returncode == 0, exported.stderr
    collection = geojson.loads(exported.stdout)
    assert collection.is_valid, collection.errors()
    assert [f["properties"]["entry"] for f in collection["features"]] == ["bang-122"]
    assert collection["features"][0]["properties"]["precision"] == "place"
    assert json.loads(exported.stdout)["features"][0]["geometry"]["coordinates"] == [37.65, 48.12]


def test_a_contributor_submits_from_the_command_line(seeded, settings, contributor, tmp_path):
    photo = tmp_path / "casing.jpg"
    photo.write_bytes(gps_photo())
    common = ("observations", "submit", str(photo), "--marking", "방-122", "--key", contributor)
    place = ("--latitude", "48.1", "--longitude", "37.6", "--precision", "place")
    refused = run(settings.database_url, settings.images_dir, *common, "--latitude", "95")
    assert refused.returncode == 1
    assert "latitude:" in refused.stderr
    stranger = run(settings.database_url, settings.images_dir, *common[:5], "--key", "wdb_x")
    assert stranger.returncode == 1
    assert "not one this service issued" in stranger.stderr
    with seeded() as session:
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 0
    assert not settings.images_dir.exists() or not any(settings.images_dir.rglob("*.jpg"))
    sent = run(settings.database_url, settings.images_dir, *common, *place, "--date-from", "2024")
    assert sent.returncode == 0, sent.stderr
    assert "Observation 1 submitted by field-worker: pending review." in sent.stdout
    assert "bang-122" in sent.stdout
    assert run(settings.database_url, settings.images_dir, "verify").returncode == 0


@contextmanager
def triggers_off(engine) -> Iterator[None]:
    """What someone with the database's keys could do around the service."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgres:
            connection.execute(
                text("ALTER TABLE custody_log DISABLE TRIGGER custody_log_append_only")
            )
        else:
            connection.execute(text("DROP TRIGGER custody_log_no_update"))
            connection.execute(text("DROP TRIGGER custody_log_no_delete"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            if postgres:
                connection.execute(
                    text("ALTER TABLE custody_log ENABLE TRIGGER custody_log_append_only")
                )


def test_verify_finds_a_line_changed_or_taken_out_around_the_service(
    seeded_client, engine, settings, contributor, editor
):
    number = linked_observation(seeded_client, contributor, editor)
    with triggers_off(engine), engine.begin() as connection:
        connection.execute(
            text("UPDATE custody_log SET actor = 'mallory' WHERE action = 'received'")
        )
        connection.execute(text("DELETE FROM custody_log WHERE action = 'viewed'"))
    checked = run(settings.database_url, settings.images_dir, "verify")
    assert checked.returncode == 1
    lines = [line for line in checked.stderr.splitlines() if "custody line" in line]
    # The changed line (what it says no longer hashes to its hash), and the line after the
    # one taken out (it no longer follows the line before it).
    assert [line.split(":")[1] for line in lines] == [" custody line 1", " custody line 6"]
    assert all(line.startswith(f"observation {number}: custody line") for line in lines)
