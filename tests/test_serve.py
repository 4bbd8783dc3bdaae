"""`weaponsdb up`, as the README runs it: a real server on loopback, migrated and seeded."""

import httpx2
import pytest

from tests.factories import headers, issue_key
from tests.serving import served
from weaponsdb import db


@pytest.fixture
def running_service(tmp_path):
    with served(f"sqlite:///{tmp_path / 'served.sqlite3'}", tmp_path) as service:
        yield service.base, service


def test_a_fresh_service_lists_the_seed_entries_with_their_sources(running_service):
    base, service = running_service
    entries = httpx2.get(f"{base}/v1/entries").json()
    assert [item["slug"] for item in entries["items"]] == ["bang-122", "f-7", "type-58"]
    assert all(item["url"].startswith(base) for item in entries["items"])
    f7 = httpx2.get(f"{base}/v1/entries/f-7").json()
    assert "ap-2023-10-19" in [source["key"] for source in f7["sources"]]
    service.process.terminate()
    service.process.wait(timeout=30)
    output = service.output()
    assert f"http://127.0.0.1:{base.rsplit(':', 1)[1]}" in output


def test_every_service_process_matches_an_edit_at_once(tmp_path):
    """Two processes on one database, two in-memory indexes: a write through one is matched
    by the other from its next query."""
    url = f"sqlite:///{tmp_path / 'two.sqlite3'}"
    with served(url, tmp_path) as first, served(url, tmp_path) as second:
        engine = db.make_engine(url)
        key = issue_key(db.make_sessionmaker(engine), "two-processes")
        engine.dispose()
        for service in (first, second):  # both build their index before the write
            answer = httpx2.post(f"{service.base}/v1/match", json={"markings": ["F-7"]})
            assert answer.json()["candidates"][0]["slug"] == "f-7"
        created = httpx2.post(
            f"{first.base}/v1/entries",
            json={
                "slug": "synthetic-two-processes",
                "name": "Synthetic two-process test entry",
                "status": "published",
                "markings": [{"text": "TWO-4242"}],
            },
            headers=headers(key),
        )
        assert created.status_code == 201, created.text
        answer = httpx2.post(f"{second.base}/v1/match", json={"markings": ["TWO-4242"]})
    assert answer.json()["candidates"][0]["slug"] == "synthetic-two-processes"
