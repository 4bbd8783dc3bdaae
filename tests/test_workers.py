"""Several worker processes on one port: what `weaponsdb serve --workers N` runs."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
import uvicorn

from api.app import create_app
from api.server import server_config
from tests.factories import headers, issue_key, synthetic_entry
from tests.serving import free_port, in_thread, served
from weaponsdb import db


@pytest.fixture
def seeded_key():
    def key_for(url: str) -> str:
        engine = db.make_engine(url)
        try:
            return issue_key(db.make_sessionmaker(engine), "two-workers")
        finally:
            engine.dispose()

    return key_for


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_connections_accepted_on_the_workers_shared_socket_send_without_delay(
    settings, engine, loop
):
    """uvicorn binds the workers' socket with proto=0, so asyncio leaves Nagle's algorithm on
    for the connections accepted on it; every answer then waited for the client's delayed ACK
    (about 40 ms). The service turns it off itself, whichever event loop runs it."""
    config = server_config(create_app(settings, engine), settings, "127.0.0.1", free_port())
    config.loop = loop
    config.load()
    # Bound as older uvicorn releases bound it for their workers (and other supervisors may):
    # proto 0, which asyncio does not recognise as TCP.
    shared = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto=0)
    shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    shared.bind((config.host, config.port))
    shared.set_inheritable(True)
    seen: list[int] = []

    class Observed(config.http_protocol_class):  # type: ignore[misc, name-defined]
        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            accepted = transport.get_extra_info("socket")
            seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    config.http_protocol_class = Observed
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [shared]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        answer = httpx2.get(f"http://127.0.0.1:{config.port}/healthz")
    finally:
        server.should_exit = True
        thread.join(10)
    assert answer.status_code == 200
    assert seen
    assert all(seen)


LIMIT = 30  # match requests per minute per client, in the served tests


@pytest.fixture
def two_workers(database_url, tmp_path):
    environment = {
        "WEAPONSDB_MATCH_RATE_LIMIT": f"{LIMIT}/minute",
        # One index file for both workers, on PostgreSQL too.
        "WEAPONSDB_INDEX_FILE": str(tmp_path / "match.index"),
    }
    with served(database_url, tmp_path, workers=2, environment=environment) as service:
        yield service


def on_fresh_connections(requests: list[Callable[[], httpx2.Response]]) -> list[httpx2.Response]:
    """Each request on its own connection, several at once, so that both workers accept."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda send: send(), requests))


def workers_answering(base: str) -> set[int]:
    """The ids of the workers seen answering (both, unless one will not accept for a minute)."""
    workers: set[int] = set()
    deadline = time.monotonic() + 60  # a busy worker may leave the other to accept for a while
    while len(workers) < 2 and time.monotonic() < deadline:
        answers = on_fresh_connections([lambda: httpx2.get(f"{base}/healthz")] * 16)
        workers |= {answer.json()["worker"] for answer in answers}
    return workers


def test_two_workers_answer_and_match_an_edit_made_through_either(two_workers, seeded_key):
    base = two_workers.base
    assert len(workers_answering(base)) == 2
    created = httpx2.post(
        f"{base}/v1/entries",
        json=synthetic_entry(
            "synthetic-two-workers", status="published", markings=[{"text": "TWO-WORKERS-7"}]
        ),
        headers=headers(seeded_key(two_workers.database_url)),
    )
    assert created.status_code == 201, created.text
    answers = on_fresh_connections(
        [lambda: httpx2.post(f"{base}/v1/match", json={"markings": ["TWO-WORKERS-7"]})] * 20
    )
    assert {a.json()["candidates"][0]["slug"] for a in answers} == {"synthetic-two-workers"}
    assert {a.json()["matching_index"] for a in answers} == {"ready"}
    healths = on_fresh_connections([lambda: httpx2.get(f"{base}/healthz")] * 16)
    assert all(h.json()["matching_index"].startswith("ready") for h in healths)
    assert len({a.json()["catalogue_generation"] for a in answers}) == 1


# Readings that keep the matcher busy (partial, wildcard, stray tokens, misread letters), so
# that a batch of them takes its processes a while.
MESSY = ["ie РПК Bxng-1q2 | _", "B?ng-1*", "3ОФ39 58式 F-7", "Вang-122 7BM", "56-]式 T58"]


def test_a_long_batch_cut_off_midway_leaves_every_worker_serving(two_workers):
    """A long batch is answered by processes the worker forks; when the client goes away
    mid-batch they are stopped, and the worker must not stop with them."""
    base = two_workers.base
    before = workers_answering(base)
    queries = [{"id": str(n), "markings": [MESSY[n % 5], MESSY[n % 3]]} for n in range(1000)]
    ndjson = {"Accept": "application/x-ndjson"}
    body = {"queries": queries}
    with httpx2.stream("POST", f"{base}/v1/match/batch", json=body, headers=ndjson) as cut:
        assert json.loads(next(cut.iter_lines()))["index"] == 0
    whole = httpx2.post(f"{base}/v1/match/batch", json=body, headers=ndjson, timeout=120)
    lines = [json.loads(line) for line in whole.text.splitlines()]
    assert [line["index"] for line in lines] == list(range(1000))
    assert lines[3]["candidates"][0]["slug"] == "bang-122"  # 'Вang-122 7BM', 'Bxng-1q2'
    assert workers_answering(base) == before  # neither worker stopped and was replaced
    assert two_workers.process.poll() is None


def test_two_workers_count_one_clients_matches_together(two_workers):
    """A client is allowed the limit by the service, not by each worker."""
    base = two_workers.base
    answers = on_fresh_connections(
        [lambda: httpx2.post(f"{base}/v1/match", json={"markings": ["F-7"]})] * (LIMIT + 20)
    )
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 20
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1


def test_an_answer_leaves_in_one_send_head_and_body_together(settings, engine):
    """uvicorn writes an answer's head and body apart; the service sends them as one, so a
    client's first read holds the whole answer (two sends cost two packets and system calls)."""
    with (
        in_thread(create_app(settings, engine), settings) as port,
        socket.create_connection(("127.0.0.1", port)) as connection,
    ):
        for _ in range(20):
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            head, _, body = connection.recv(65536).partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            assert len(body) == length


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs two cores to confine a process to one",
)
def test_a_process_confined_to_one_core_counts_one():
    """In a container given one of the host's cores (or under taskset), `serve` starts one
    worker, not one per core of the host (a batch's processes are counted alike)."""
    probe = "from api.server import default_workers; print(default_workers())"
    confined = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}),
    )
    assert confined.stdout.split() == ["1"]
