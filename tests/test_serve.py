"""`weaponsdb up`, as the README runs it: a real server on loopback, migrated and seeded."""

import httpx2
import pytest

from tests.serving import served


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
