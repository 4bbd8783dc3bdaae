"""The real service, started as the README starts it (`weaponsdb up`) on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI

from api.server import server_config
from weaponsdb.config import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Service:
    base: str
    database_url: str
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@contextmanager
def served(
    database_url: str,
    workdir: Path,
    timeout: float = 60,
    workers: int = 1,
    environment: dict[str, str] | None = None,
) -> Iterator[Service]:
    """Migrates, seeds and serves *database_url* with *workers* processes (and settings from
    *environment*); output goes to a file (a pipe nobody reads would fill up and stall the
    server)."""
    port = free_port()
    env = {
        **os.environ,
        "WEAPONSDB_DATABASE_URL": database_url,
        "WEAPONSDB_IMAGES_DIR": str(workdir / "images"),
        **(environment or {}),
    }
    log = workdir / f"service-{port}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "weaponsdb", "up", "--port", str(port), "--workers", str(workers)),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
    service = Service(f"http://127.0.0.1:{port}", database_url, process, log)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the service stopped before it was healthy:\n{service.output()}")
            try:
                if httpx2.get(f"{service.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"the service did not become healthy within {timeout} s")
        yield service
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def in_thread(app: FastAPI, settings: Settings) -> Iterator[int]:
    """*app* served as `weaponsdb serve` serves it, by uvicorn in a thread of this process,
    on a free loopback port; yields the port."""
    server = uvicorn.Server(server_config(app, settings, "127.0.0.1", free_port()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield server.config.port
    finally:
        server.should_exit = True
        thread.join(10)
