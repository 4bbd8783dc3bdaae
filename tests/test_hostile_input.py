"""Hostile input in every text parameter: a clear 4xx or an honest empty answer, never a 5xx,
and nothing stored changes."""

import pytest

from tests.factories import exported

HOSTILE = [
    "' OR 1=1 --",
    "'; DROP TABLE entries; --",
    '" UNION SELECT * FROM sources --',
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "%ED%A0%80",  # a lone surrogate, UTF-8 encoded: not valid UTF-8
    "%FF%FE",  # not UTF-8 at all
    "\u202eBang-122",  # right-to-left override
    "Bang\u200b-122",  # zero-width space
    "\ufeffF-7",  # byte order mark
    "%_%",  # LIKE wildcards
    "A" * 5000,
    "방-122" * 50,
]

# Real markings behind invisible characters: the matcher reads through them, as it should.
HIDDEN_MARKINGS = {"\u202eBang-122": "bang-122", "Bang\u200b-122": "bang-122", "\ufeffF-7": "f-7"}

READ_URLS = [
    "/v1/entries/{}",
    "/v1/sources/{}",
    "/v1/entries?q={}",
    "/v1/entries?marking={}",
    "/v1/entries?country={}",
    "/v1/entries?cursor={}",
    "/v1/entries?category={}",
    "/v1/entries?calibre={}",
    "/v1/sources?cursor={}",
]


@pytest.mark.parametrize("url", READ_URLS)
def test_hostile_strings_in_reads(seeded, seeded_client, url):
    before = exported(seeded)
    for hostile in HOSTILE:
        response = seeded_client.get(url.format(hostile))
        assert response.status_code < 500, (hostile, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["detail"]
        elif "marking=" in url and hostile in HIDDEN_MARKINGS:
            slugs = [item["slug"] for item in response.json()["items"]]
            assert slugs == [HIDDEN_MARKINGS[hostile]], hostile
        elif "items" in response.json():
            # Nothing in the catalogue holds these strings: an injection would return rows.
            assert response.json()["items"] == [], hostile
    assert exported(seeded) == before
