"""`weaponsdb up`, as the README runs it: a real server on loopback, migrated and seeded."""

import os
import socket
import subprocess
import sys
import time

import httpx2
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def running_service(tmp_path):
    port = free_port()
    env = {**os.environ, "WEAPONSDB_DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "weaponsdb", "up", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the service did not become healthy within 60 s")
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_fresh_service_lists_the_seed_entries_with_their_sources(running_service):
    base, process = running_service
    entries = httpx2.get(f"{base}/v1/entries").json()
    assert [item["slug"] for item in entries["items"]] == ["bang-122", "f-7", "type-58"]
    assert all(item["url"].startswith(base) for item in entries["items"])
    f7 = httpx2.get(f"{base}/v1/entries/f-7").json()
    assert "ap-2023-10-19" in [source["key"] for source in f7["sources"]]
    process.terminate()
    output = process.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{base.rsplit(':', 1)[1]}" in output
