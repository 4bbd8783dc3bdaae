"""Reference photos through the API: upload, provenance, metadata stripped, thumbnails,
serving, deduplication, every refusal, and matching by photo. Every test runs on SQLite and
PostgreSQL, with real images drawn by Pillow."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from tests.factories import PROVENANCE, headers, issue_key, upload
from tests.photo_support import (
    GPS_IFD,
    camera_exif,
    encode,
    jpeg,
    png_bomb,
    resized_recompressed_cropped,
    scene,
)
from weaponsdb.config import Settings


@pytest.fixture
def key(seeded):
    return issue_key(seeded, "photographer")


@pytest.fixture
def images_dir(settings: Settings) -> Path:
    return settings.images_dir


def stored_files(images_dir: Path) -> list[Path]:
    return sorted(p for p in images_dir.rglob("*") if p.is_file()) if images_dir.exists() else []


def version_of(client: TestClient, slug: str = "bang-122") -> int:
    version: int = client.get(f"/v1/entries/{slug}").json()["version"]
    return version


def test_upload_attaches_a_photo_with_provenance_as_a_new_revision(seeded_client, key):
    before = version_of(seeded_client)
    response = upload(
        seeded_client,
        key,
        jpeg(1, (1600, 1200)),
        caption="Shell casing, left side",
        view="side",
        source_url="https://example.org/story",
        captured_on="2023-10",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    photo = body["photo"]
    assert response.headers["etag"] == f'"{before + 1}"'
    assert response.headers["location"] == photo["url"]
    assert body["entry_version"] == before + 1
    assert body["stored_new_file"] is True
    assert body["near_duplicates"] == []
    assert (photo["width"], photo["height"], photo["media_type"]) == (1600, 1200, "image/jpeg")
    assert photo["credit"] == PROVENANCE["credit"]
    assert photo["licence"] == "CC BY 4.0"
    assert photo["view"] == "side"
    assert photo["captured_on"] == "2023-10"
    assert len(photo["phash"]) == 16
    entry = seeded_client.get("/v1/entries/bang-122").json()
    assert entry["photos"] == [photo]
    revision = seeded_client.get(f"/v1/entries/bang-122/revisions/{before + 1}").json()
    assert revision["author"] == "photographer"
    assert revision["note"] == "Reference photo from the agency"
    assert revision["snapshot"]["photos"][0]["sha256"] == photo["sha256"]


def test_metadata_is_gone_and_orientation_applied(seeded_client, key, images_dir):
    # Stored landscape, shown portrait: orientation 6 means "turn 90° clockwise".
    original = encode(scene(2, (800, 600)), "JPEG", exif=camera_exif(6).tobytes())
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif().get_ifd(GPS_IFD)  # the upload does carry a location
    response = upload(seeded_client, key, original)
    assert response.status_code == 201, response.text
    photo = response.json()["photo"]
    assert (photo["width"], photo["height"]) == (600, 800)
    served = seeded_client.get(f"/v1/photos/{photo['sha256']}")
    for data in (served.content, *(p.read_bytes() for p in stored_files(images_dir))):
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif()
            assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(image.info)
            assert b"ExampleCam" not in data
            assert b"Secret Model" not in data
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (600, 800)


def test_png_text_chunks_and_colour_profile_are_stripped(seeded_client, key):
    from PIL import ImageCms, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone who must stay anonymous")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(scene(3), "PNG", pnginfo=info, icc_profile=profile)
    response = upload(seeded_client, key, data, filename="scan.png", content_type="image/png")
    assert response.status_code == 201, response.text
    photo = response.json()["photo"]
    assert photo["media_type"] == "image/png"
    stored = seeded_client.get(f"/v1/photos/{photo['sha256']}").content
    with Image.open(io.BytesIO(stored)) as image:
        assert not set(image.info) & {"Author", "icc_profile", "exif"}
    assert b"anonymous" not in stored


def multi_frame(format_name: str) -> bytes:
    """A camera's MPO (a JPEG with a second picture) or an animated PNG, as Pillow writes them."""
    frames = [scene(21, (400, 300)), scene(22, (400, 300))]
    return encode(frames[0], format_name, save_all=True, append_images=frames[1:])


@pytest.mark.parametrize(
    ("format_name", "filename", "content_type", "stored_as"),
    [
        ("MPO", "IMG_0001.mpo", "image/mpo", "image/jpeg"),
        ("MPO", "IMG_0001.MPO", "image/jpeg", "image/jpeg"),
        ("PNG", "turning.apng", "image/apng", "image/png"),
        ("PNG", "turning.png", "image/vnd.mozilla.apng", "image/png"),
    ],
)
def test_other_names_of_allowed_content_are_accepted(
    seeded_client, key, format_name, filename, content_type, stored_as
):
    data = multi_frame(format_name)
    response = upload(seeded_client, key, data, filename=filename, content_type=content_type)
    assert response.status_code == 201, response.text
    assert response.json()["photo"]["media_type"] == stored_as


@pytest.mark.parametrize(
    ("format_name", "mode", "filename", "stored_as"),
    [
        ("PNG", "RGBA", "alpha.png", "image/png"),
        ("PNG", "P", "palette.png", "image/png"),
        ("WEBP", "RGB", "photo.webp", "image/webp"),
        ("TIFF", "RGB", "scan.tif", "image/png"),
        ("JPEG", "CMYK", "print.jpeg", "image/jpeg"),
        ("JPEG", "L", "grey.jpg", "image/jpeg"),
    ],
)
def test_allowed_formats_are_stored_in_one_browsers_show(
    seeded_client, key, format_name, mode, filename, stored_as
):
    data = encode(scene(4, (400, 300), mode), format_name)
    response = upload(seeded_client, key, data, filename=filename, content_type="")
    assert response.status_code == 201, response.text
    photo = response.json()["photo"]
    assert photo["media_type"] == stored_as
    served = seeded_client.get(photo["url"])
    assert served.headers["content-type"] == stored_as
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (400, 300)


def test_photos_are_served_with_type_etag_cache_headers_and_thumbnails(seeded_client, key):
    photo = upload(seeded_client, key, jpeg(5, (1600, 1200))).json()["photo"]
    served = seeded_client.get(photo["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["etag"] == f'"{photo["sha256"]}"'
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert len(served.content) == photo["byte_size"]
    again = seeded_client.get(photo["url"], headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == served.headers["etag"]
    for url, size in ((photo["thumb_url"], (256, 192)), (photo["medium_url"], (1024, 768))):
        thumb = seeded_client.get(url)
        assert thumb.headers["content-type"] == "image/jpeg"
        assert thumb.headers["etag"] != served.headers["etag"]
        with Image.open(io.BytesIO(thumb.content)) as image:
            assert image.size == size
    assert seeded_client.get(f"/v1/photos/{'0' * 64}").status_code == 404
    assert seeded_client.get(f"{photo['url']}?size=huge").status_code == 422


def test_small_photos_are_not_enlarged_for_thumbnails(seeded_client, key):
    photo = upload(seeded_client, key, jpeg(6, (300, 200))).json()["photo"]
    thumb = seeded_client.get(photo["thumb_url"]).content
    medium = seeded_client.get(photo["medium_url"]).content
    with Image.open(io.BytesIO(thumb)) as small, Image.open(io.BytesIO(medium)) as large:
        assert small.size == (256, 171)
        assert large.size == (300, 200)


def test_identical_uploads_are_stored_once_and_reported(seeded_client, key, images_dir):
    data = jpeg(7)
    first = upload(seeded_client, key, data).json()
    files = stored_files(images_dir)
    assert len(files) == 3  # the photo and two thumbnails
    second = upload(seeded_client, key, data, slug="f-7")
    assert second.status_code == 201, second.text
    assert second.json()["stored_new_file"] is False
    assert second.json()["photo"]["sha256"] == first["photo"]["sha256"]
    (duplicate,) = second.json()["near_duplicates"]
    assert (duplicate["entry"], duplicate["distance"], duplicate["similarity"]) == (
        "bang-122",
        0,
        1.0,
    )
    assert stored_files(images_dir) == files
    version = version_of(seeded_client)
    twice = upload(seeded_client, key, data)
    assert twice.status_code == 409
    assert version_of(seeded_client) == version
    assert stored_files(images_dir) == files


def test_a_near_duplicate_upload_reports_the_reference_photo(seeded_client, key):
    reference = jpeg(8, (1200, 900))
    upload(seeded_client, key, reference)
    copy = resized_recompressed_cropped(reference)
    response = upload(seeded_client, key, copy, slug="f-7")
    assert response.status_code == 201, response.text
    (found,) = response.json()["near_duplicates"]
    assert found["entry"] == "bang-122"
    assert found["near_duplicate"] is True
    assert 0 <= found["distance"] <= 8


def corrupt_png() -> bytes:
    data = bytearray(encode(scene(9, (200, 150)), "PNG"))
    start = data.index(b"IDAT") + 40
    data[start : start + 8] = b"\xff" * 8  # damaged pixels: the chunk's checksum fails
    return bytes(data)


def truncated_jpeg() -> bytes:
    data = jpeg(10, (800, 600))
    return data[: len(data) // 2]


REFUSALS = {
    "decompression bomb": (png_bomb(), "bomb.png", "image/png", 422, "too many pixels"),
    "truncated JPEG": (truncated_jpeg(), "cut.jpg", "image/jpeg", 422, "corrupt"),
    "corrupt PNG": (corrupt_png(), "broken.png", "image/png", 422, "corrupt"),
    "PNG named .jpg": (encode(scene(11), "PNG"), "photo.jpg", "", 422, "not a .jpg"),
    "PNG sent as JPEG": (encode(scene(11), "PNG"), "photo", "image/jpeg", 422, "image/png"),
    "GIF": (encode(scene(12), "GIF"), "anim.gif", "image/gif", 415, "not a JPEG"),
    "not an image": (b"%PDF-1.7 not a photo", "doc.pdf", "application/pdf", 415, "not a"),
    "empty file": (b"", "empty.jpg", "image/jpeg", 422, "empty"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_bad_uploads_are_refused_with_the_reason_and_leave_nothing(
    seeded_client, key, images_dir, case
):
    data, filename, content_type, status, reason = REFUSALS[case]
    version = version_of(seeded_client)
    response = upload(seeded_client, key, data, filename=filename, content_type=content_type)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["field"] == "file"
    assert reason in problem["errors"][0]["reason"] + problem["detail"]
    assert version_of(seeded_client) == version
    assert stored_files(images_dir) == []


def test_an_oversized_photo_is_refused_naming_the_limit(settings, engine, seeded, key, images_dir):
    small = settings.model_copy(update={"max_upload_bytes": 20_000})
    with TestClient(create_app(small, engine)) as client:
        big = jpeg(13, (1200, 900), quality=95)
        assert len(big) > 20_000
        response = upload(client, key, big)
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "too_large"
        assert "20000 bytes" in response.json()["detail"]
        assert response.json()["errors"] == [{"field": "file", "reason": "larger than 20000 bytes"}]
        # Far past the limit, the body is refused before it is read at all.
        huge = upload(client, key, b"\xff" * 200_000)
        assert huge.status_code == 413
    assert stored_files(images_dir) == []


def test_pixel_limit_comes_from_settings(settings, engine, seeded, key):
    strict = settings.model_copy(update={"max_image_pixels": 100_000})
    with TestClient(create_app(strict, engine)) as client:
        response = upload(client, key, jpeg(14, (400, 300)))
        assert response.status_code == 422
        assert "megapixels" in response.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"credit": "  "}, "credit"),
        ({"licence": ""}, "licence"),
        ({"view": "sideways"}, "view"),
        ({"source_url": "ftp://example.org/x"}, "source_url"),
        ({"captured_on": "2023-13"}, "captured_on"),
        ({"marking_index": "first"}, "marking_index"),
    ],
)
def test_bad_descriptions_are_refused_naming_the_field(
    seeded_client, key, images_dir, fields, field
):
    response = upload(seeded_client, key, jpeg(15), version="*", **fields)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert stored_files(images_dir) == []


def test_credit_and_licence_are_required(seeded_client, key):
    response = seeded_client.post(
        "/v1/entries/bang-122/photos",
        files={"file": ("photo.jpg", jpeg(16), "image/jpeg")},
        headers=headers(key, None),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"credit", "licence"}


def test_writes_need_a_key_a_note_and_a_current_version(seeded_client, key, images_dir):
    assert upload(seeded_client, None, jpeg(17)).status_code == 401
    version = version_of(seeded_client)
    stale = upload(seeded_client, key, jpeg(17), version=version - 1 if version > 1 else 99)
    assert stale.status_code == 412
    missing = upload(seeded_client, key, jpeg(17), slug="no-such-entry")
    assert missing.status_code == 404
    assert stored_files(images_dir) == []


def test_a_photo_of_a_marking_names_it_by_position_at_a_version(seeded_client, key):
    version = version_of(seeded_client)
    unpinned = upload(seeded_client, key, jpeg(18), marking_index="0")
    assert unpinned.status_code == 428
    beyond = upload(seeded_client, key, jpeg(18), version=version, marking_index="99")
    assert beyond.status_code == 404
    assert beyond.json()["errors"][0]["field"] == "marking_index"
    shown = upload(seeded_client, key, jpeg(18), version=version, marking_index="0")
    assert shown.status_code == 201, shown.text
    assert shown.json()["photo"]["marking_index"] == 0


def test_retracted_entries_take_no_photos(seeded_client, admin):
    retraction = {"reason": "Duplicate entry"}
    seeded_client.post("/v1/entries/f-7/retraction", json=retraction, headers=headers(admin, "*"))
    assert upload(seeded_client, admin, jpeg(19), slug="f-7").status_code == 409


def test_match_by_photo_ranks_a_changed_copy_of_a_reference_first(seeded_client, key):
    references = {slug: jpeg(seed, (1200, 900)) for slug, seed in (("bang-122", 20), ("f-7", 21))}
    references_type_58 = jpeg(22, (1200, 900))
    for slug, data in references.items():
        assert upload(seeded_client, key, data, slug=slug).status_code == 201
    assert upload(seeded_client, key, references_type_58, slug="type-58").status_code == 201
    query = resized_recompressed_cropped(references["f-7"])
    response = seeded_client.post(
        "/v1/match/photo", files={"file": ("seen.jpg", query, "image/jpeg")}
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items[0]["entry"] == "f-7"
    assert items[0]["near_duplicate"] is True
    assert items[0]["similarity"] == pytest.approx(1 - items[0]["distance"] / 64, abs=1e-4)
    assert items[0]["credit"] == PROVENANCE["credit"]
    assert items[0]["entry_url"].endswith("/v1/entries/f-7")
    assert all(later["distance"] >= items[0]["distance"] for later in items[1:])
    unrelated = seeded_client.post(
        "/v1/match/photo",
        files={"file": ("other.jpg", jpeg(23), "image/jpeg")},
        data={"max_distance": "64", "limit": "2"},
    ).json()["items"]
    assert len(unrelated) == 2
    assert all(not item["near_duplicate"] for item in unrelated)


def test_match_by_photo_refuses_what_uploads_refuse(seeded_client):
    response = seeded_client.post(
        "/v1/match/photo", files={"file": ("cut.jpg", truncated_jpeg(), "image/jpeg")}
    )
    assert response.status_code == 422
    empty = seeded_client.post("/v1/match/photo", files={"file": ("a.jpg", jpeg(24), "")})
    assert empty.json()["items"] == []
