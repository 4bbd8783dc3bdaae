"""Two editors change the same entry at the same moment, both from the same ETag, through a
real server: exactly one change lands, the other gets 412, and the history shows only the
one that landed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from api.app import create_app
from tests.factories import headers, issue_key
from tests.serving import in_thread

ROUNDS = 4


@pytest.fixture
def server(seeded, settings, engine) -> Iterator[str]:
    with in_thread(create_app(settings, engine), settings) as port:
        yield f"http://127.0.0.1:{port}"


def race(server: str, editors: dict[str, str], version: int, tag: str) -> dict[str, httpx.Response]:
    """Every editor sends a change based on *version*, all released at the same moment."""
    barrier = threading.Barrier(len(editors))
    results: dict[str, httpx.Response] = {}

    def change(name: str, key: str) -> None:
        with httpx.Client(base_url=server, timeout=30) as client:
            barrier.wait()
            results[name] = client.patch(
                "/v1/entries/type-58",
                json={"description": f"Synthetic description by {name}, {tag}"},
                headers=headers(key, version, f"{name} edits, {tag}"),
            )

    threads = [threading.Thread(target=change, args=item) for item in editors.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_same_etag_one_wins_one_gets_412(seeded, server):
    editors = {"alice": issue_key(seeded, "alice"), "bob": issue_key(seeded, "bob")}
    with httpx.Client(base_url=server, timeout=30) as client:
        for round_ in range(ROUNDS):
            version = int(client.get("/v1/entries/type-58").headers["ETag"].strip('"'))
            tag = f"round {round_}"
            results = race(server, editors, version, tag)
            statuses = sorted(r.status_code for r in results.values())
            assert statuses == [200, 412], {n: r.text for n, r in results.items()}
            (winner,) = [n for n, r in results.items() if r.status_code == 200]
            (loser,) = [n for n, r in results.items() if r.status_code == 412]
            assert results[loser].json()["errors"][0]["field"] == "If-Match"
            assert results[winner].headers["ETag"] == f'"{version + 1}"'
            revision = client.get(f"/v1/entries/type-58/revisions/{version + 1}").json()
            assert revision["author"] == winner
            assert revision["note"] == f"{winner} edits, {tag}"
            expected = f"Synthetic description by {winner}, {tag}"
            assert revision["snapshot"]["description"] == expected
            assert client.get("/v1/entries/type-58").json()["description"] == expected
        history = client.get("/v1/entries/type-58/revisions").json()["items"]
        assert [r["number"] for r in history] == list(range(1, ROUNDS + 2))
        # The revision before the race still says what the seed said.
        first = client.get("/v1/entries/type-58/revisions/1").json()
        assert first["snapshot"]["description"] != expected
