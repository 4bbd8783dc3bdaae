"""Integers a request names are bounded by what the database stores: out of range is a 4xx
naming the parameter, never a 500, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from tests.factories import headers, upload
from tests.photo_support import jpeg

BEYOND_64_BITS = "9223372036854775808"
BEYOND_32_BITS = "2147483648"
LARGEST = "2147483647"


@pytest.mark.parametrize("number", [BEYOND_64_BITS, BEYOND_32_BITS])
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/entries/f-7/cite?revision={n}", "revision"),
        ("/v1/entries/f-7/revisions/1/diff?from={n}", "from"),
        ("/v1/entries/f-7/revisions/{n}", "number"),
        ("/v1/entries/f-7/revisions/{n}/diff", "number"),
    ],
)
def test_numbers_past_the_database_range_are_refused_naming_them(
    seeded_client, path, field, number
):
    response = seeded_client.get(path.format(n=number))
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_the_largest_number_is_simply_not_there(seeded_client):
    assert seeded_client.get(f"/v1/entries/f-7/revisions/{LARGEST}").status_code == 404
    assert seeded_client.get(f"/v1/entries/f-7/cite?revision={LARGEST}").status_code == 404


@pytest.mark.parametrize("version", [BEYOND_32_BITS, "999999999999999999"])
def test_an_if_match_past_any_version_is_stale_not_an_error(seeded_client, editor, version):
    edit = seeded_client.patch(
        "/v1/entries/f-7", json={"family": "RPG-7"}, headers=headers(editor, version)
    )
    assert edit.status_code == 412, edit.text
    assert edit.json()["errors"][0]["field"] == "If-Match"
    photo = upload(seeded_client, editor, jpeg(seed=3), slug="f-7", version=version)
    assert photo.status_code == 412, photo.text
    assert seeded_client.get("/v1/entries/f-7").json()["version"] == 1
