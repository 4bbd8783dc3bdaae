"""`weaponsdb up`, as the README runs it: a real server on loopback, migrated and seeded."""

import httpx2
import pytest

from tests.editing_support import headers, issue_key
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


def test_every_worker_process_matches_an_edit_at_once(tmp_path):
    """Two processes, two in-memory indexes: a write through one is matched by both."""
    url = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    with served(url, tmp_path, "--workers", "2") as service:
        engine = db.make_engine(url)
        key = issue_key(db.make_sessionmaker(engine), "two-workers")
        engine.dispose()
        with httpx2.Client(base_url=service.base, timeout=30) as api:
            for _ in range(10):  # warm both workers' indexes
                assert api.post("/v1/match", json={"markings": ["F-7"]}).status_code == 200
            created = api.post(
                "/v1/entries",
                json={
                    "slug": "synthetic-two-workers",
                    "name": "Synthetic two-worker test entry",
                    "status": "published",
                    "markings": [{"text": "TWO-4242"}],
                },
                headers=headers(key),
            )
            assert created.status_code == 201, created.text
            answers = [
                api.post("/v1/match", json={"markings": ["TWO-4242"]}).json()["candidates"]
                for _ in range(20)
            ]
        pids = {line for line in service.output().splitlines() if "Started server process" in line}
    assert len(pids) == 2, service.output()
    assert all(a and a[0]["slug"] == "synthetic-two-workers" for a in answers)
