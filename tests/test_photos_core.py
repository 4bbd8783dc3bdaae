"""The photo library below the API: the hash index against a plain scan, the store, and
attaching a photo when the database fails after the files were written."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select

from tests.photo_support import encode, jpeg, scene
from weaponsdb import db, editing, models, revisions
from weaponsdb.photos import ingest
from weaponsdb.photos.matching import PhotoMatcher
from weaponsdb.photos.processing import process
from weaponsdb.photos.similarity import HashIndex, brute_force, similarity
from weaponsdb.photos.storage import FileStore, photo_key
from weaponsdb.photos.validation import Limits, check_upload

LIMITS = Limits(10_000_000, 50_000_000)
hashes64 = st.integers(min_value=0, max_value=2**64 - 1)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(hashes64, min_size=0, max_size=300),
    hashes64,
    st.lists(st.integers(0, 63), max_size=12),
    st.integers(1, 12),
    st.integers(0, 64),
)
def test_the_index_answers_exactly_what_a_scan_answers(refs, query, flips, k, max_distance):
    if refs:  # a query near one of the hashes, as well as anywhere
        near = refs[len(refs) // 2]
        for bit in flips:
            near ^= 1 << bit
        queries = [query, near]
    else:
        queries = [query]
    ids = list(range(len(refs)))
    index = HashIndex(ids, refs)
    for q in queries:
        assert index.nearest(q, k, max_distance) == brute_force(ids, refs, q, k, max_distance)


def test_the_index_finds_near_hashes_among_many():
    rng = random.Random(4)
    hashes = [rng.getrandbits(64) for _ in range(20_000)]
    index = HashIndex(range(len(hashes)), hashes)
    target = hashes[1234] ^ 0b1000_0000_0100_0001  # three bits changed
    (best,) = index.nearest(target, 1, 8)
    assert (best.ref, best.distance) == (1234, 3)
    assert similarity(best.distance) == pytest.approx(1 - 3 / 64, abs=1e-4)
    assert index.nearest(target, 5, 2) == []


def test_the_store_writes_whole_files_once(tmp_path):
    store = FileStore(tmp_path)
    key = photo_key("ab" * 32, "jpg")
    assert store.put(key, b"first") is True
    assert store.put(key, b"first") is False
    assert store.read(key) == b"first"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{'ab' * 32}.jpg"]
    store.delete(key)
    assert store.read(key) is None
    assert not store.exists(key)
    with pytest.raises(ValueError, match="not a photo store key"):
        store.put("../../etc/passwd", b"x")


def test_identical_uploads_re_encode_to_identical_bytes():
    data = jpeg(40)
    first, second = (process(check_upload(data, LIMITS)) for _ in range(2))
    assert first.sha256 == second.sha256
    assert first.data == second.data


def test_sixteen_bit_images_keep_their_depth_and_get_visible_thumbnails():
    deep = scene(41, (300, 200), "L").convert("I").point(lambda v: v * 256).convert("I;16")
    processed = process(check_upload(encode(deep, "PNG"), LIMITS, "deep.png"))
    with Image.open(io.BytesIO(processed.data)) as stored:
        assert stored.mode.startswith("I")
    with Image.open(io.BytesIO(processed.thumbnails[256])) as thumb:
        high = thumb.convert("L").getextrema()[1]
        assert isinstance(high, int)
        assert high > 100  # not a white or black square from clipped values


def test_a_database_failure_after_storing_leaves_no_files(seeded, tmp_path, monkeypatch):
    store = FileStore(tmp_path / "images")
    change = editing.Change("bang-122", None, "tester", "A photo that fails")
    description = ingest.PhotoDescription.parse({"credit": "Jane Doe", "licence": "CC0"})

    def fail(*_: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(revisions, "record_revision", fail)  # the revision, after the files
    with pytest.raises(RuntimeError), db.transaction(seeded) as session:
        ingest.attach_photo(
            session, store, PhotoMatcher(), change, ingest.Upload(jpeg(42)), description, LIMITS
        )
    assert [p for p in (tmp_path / "images").rglob("*") if p.is_file()] == []
    with db.transaction(seeded) as session:
        assert session.scalar(select(func.count()).select_from(models.Photo)) == 0
        entry = session.scalar(select(models.Entry).where(models.Entry.slug == "bang-122"))
        assert entry is not None
        assert entry.version == 1


def test_files_another_row_uses_are_kept_when_an_upload_fails(seeded, tmp_path, monkeypatch):
    store = FileStore(tmp_path / "images")
    description = ingest.PhotoDescription.parse({"credit": "Jane Doe", "licence": "CC0"})
    data = jpeg(43)
    with db.transaction(seeded) as session:
        ingest.attach_photo(
            session,
            store,
            PhotoMatcher(),
            editing.Change("f-7", None, "tester", "First use"),
            ingest.Upload(data),
            description,
            LIMITS,
        )
    files = sorted(p for p in (tmp_path / "images").rglob("*") if p.is_file())
    for file in files[1:]:
        file.unlink()  # as if a thumbnail had been lost: this upload will create it again

    def fail(*_: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(revisions, "record_revision", fail)  # the revision, after the files
    with pytest.raises(RuntimeError), db.transaction(seeded) as session:
        ingest.attach_photo(
            session,
            store,
            PhotoMatcher(),
            editing.Change("bang-122", None, "tester", "Second use"),
            ingest.Upload(data),
            description,
            LIMITS,
        )
    assert sorted(p for p in (tmp_path / "images").rglob("*") if p.is_file()) == files
