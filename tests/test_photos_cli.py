"""`weaponsdb photos add`, run as a user runs it."""

import json

import pytest

from tests.photo_support import encode, jpeg, scene
from tests.test_cli import run


@pytest.fixture(autouse=True)
def private_photo_store(tmp_path, monkeypatch):
    """The commands below must never touch the project's own images/ folder."""
    monkeypatch.setenv("WEAPONSDB_IMAGES_DIR", str(tmp_path / "images"))


def test_photos_add_attaches_each_file_and_names_those_refused(seeded, database_url, tmp_path):
    good = tmp_path / "side.jpg"
    good.write_bytes(jpeg(30))
    other = tmp_path / "markings.png"
    other.write_bytes(encode(scene(31), "PNG"))
    mislabelled = tmp_path / "fake.jpg"
    mislabelled.write_bytes(encode(scene(32), "PNG"))
    result = run(
        database_url,
        "photos",
        "add",
        "bang-122",
        str(good),
        str(mislabelled),
        str(other),
        "--credit",
        "Jane Doe",
        "--licence",
        "CC BY 4.0",
        "--view",
        "side",
        "--note",
        "Reference photos from the field",
    )
    assert result.returncode == 1, result.stderr
    assert "Attached 2 of 3 photos to bang-122." in result.stdout
    assert "fake.jpg" in result.stderr
    assert "content is PNG" in result.stderr
    shown = run(database_url, "entries", "show", "bang-122", "--json")
    photos = json.loads(shown.stdout)["photos"]
    assert [p["media_type"] for p in photos] == ["image/jpeg", "image/png"]
    assert {p["credit"] for p in photos} == {"Jane Doe"}
    images = tmp_path / "images"
    assert len([p for p in images.rglob("*") if p.is_file()]) == 6


def test_photos_add_needs_credit_and_licence(seeded, database_url, tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(jpeg(33))
    result = run(database_url, "photos", "add", "bang-122", str(photo), "--note", "A photo")
    assert result.returncode == 2
    assert "--credit" in result.stderr
