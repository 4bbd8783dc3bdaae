"""Backups: taken while the catalogue is being written, restored without losing anything."""

import random
import threading
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from tests.factories import exported, import_document, synthetic_entry
from tests.test_cli import run
from weaponsdb import backup, db, models
from weaponsdb.errors import InvalidInputError


def synthetic_entries(numbers: range) -> list[dict[str, Any]]:
    """Entries with three markings each, written at once."""
    return [
        synthetic_entry(
            f"synthetic-{number}",
            markings=[{"text": f"SYN-{number}-{part}"} for part in range(3)],
        )
        for number in numbers
    ]


def write_entries(sessions, numbers: range) -> None:
    for entry in synthetic_entries(numbers):
        import_document(sessions, {"entries": [entry]})


@pytest.fixture
def images(tmp_path):
    store = tmp_path / "images"
    (store / "ab").mkdir(parents=True)
    (store / "ab" / "abcdef.jpg").write_bytes(b"synthetic image bytes")
    return store


def test_round_trip_loses_nothing(seeded, engine, images, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    manifest = backup.create_backup(engine, images, archive)
    assert manifest.rows["entries"] == 3
    assert manifest.images == 1

    target_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    restored_images = tmp_path / "restored-images"
    backup.restore_backup(target_url, restored_images, archive)

    restored = db.make_sessionmaker(db.make_engine(target_url))
    assert exported(restored) == exported(seeded)
    assert (restored_images / "ab" / "abcdef.jpg").read_bytes() == b"synthetic image bytes"
    with restored() as session, seeded() as original:
        assert set(session.scalars(select(models.SeedApplied.key))) == set(
            original.scalars(select(models.SeedApplied.key))
        )
    # New rows after a restore get fresh ids (sequences were moved past the restored ones).
    write_entries(restored, range(1))


def test_restores_into_the_same_kind_of_database(seeded, engine, database_url, images, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    backup.create_backup(engine, images, archive)
    before = exported(seeded)
    db.downgrade(database_url, "base")
    backup.restore_backup(database_url, tmp_path / "restored-images", archive)
    assert exported(seeded) == before
    write_entries(seeded, range(1))  # ids continue after the restored ones


def test_a_backup_taken_during_writes_is_consistent(sessions, engine, images, tmp_path):
    writer = threading.Thread(target=write_entries, args=(sessions, range(40)))
    writer.start()
    archive = tmp_path / "backup.tar.gz"
    try:
        backup.create_backup(engine, images, archive)
    finally:
        writer.join()
    target_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    backup.restore_backup(target_url, tmp_path / "restored-images", archive)
    restored = db.make_sessionmaker(db.make_engine(target_url))
    with restored() as session:
        per_entry = session.execute(
            select(models.Entry.slug, func.count(models.Marking.id))
            .outerjoin(models.Marking)
            .group_by(models.Entry.slug)
        ).all()
    # Every entry arrives with all three of its markings, or not at all.
    assert all(count == 3 for _, count in per_entry), per_entry


def test_restore_refuses_a_database_that_has_data(seeded, engine, database_url, images, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    backup.create_backup(engine, images, archive)
    before = exported(seeded)
    with pytest.raises(InvalidInputError, match="empty database"):
        backup.restore_backup(database_url, images, archive)
    assert exported(seeded) == before


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tar file")
    with pytest.raises(InvalidInputError, match="not a weaponsdb backup"):
        backup.restore_backup(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path / "img", bogus)


def truncated(whole: bytes, at: float) -> bytes:
    return whole[: int(len(whole) * at)]


def scrambled(whole: bytes, at: float) -> bytes:
    middle = int(len(whole) * at)
    return (
        whole[:middle] + bytes(b ^ 0x5A for b in whole[middle : middle + 64]) + whole[middle + 64 :]
    )


@pytest.mark.parametrize(("damage", "at"), [(truncated, 0.3), (truncated, 0.95), (scrambled, 0.5)])
def test_a_damaged_backup_restores_nothing_and_says_why(
    seeded, engine, tmp_path, monkeypatch, damage, at
):
    store = tmp_path / "images"
    for number in range(30):  # enough incompressible bytes that a cut lands in the images too
        (store / f"{number:02x}").mkdir(parents=True, exist_ok=True)
        (store / f"{number:02x}" / "photo.jpg").write_bytes(random.randbytes(20_000))
    archive = tmp_path / "backup.tar.gz"
    backup.create_backup(engine, store, archive)
    whole = archive.read_bytes()
    archive.write_bytes(damage(whole, at))

    target_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    restored_images = tmp_path / "restored-images"
    monkeypatch.setenv("WEAPONSDB_IMAGES_DIR", str(restored_images))
    result = run(target_url, "restore", str(archive))
    assert result.returncode == 1, result.stderr
    assert "truncated or corrupt" in result.stderr
    assert "Aborted" not in result.stderr + result.stdout
    with db.make_engine(target_url).connect() as connection:
        if inspect(connection).has_table("entries"):
            assert connection.scalar(select(func.count()).select_from(models.Entry)) == 0
    assert not [p for p in restored_images.rglob("*") if p.is_file()]
