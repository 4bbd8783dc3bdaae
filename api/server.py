"""Running the application under uvicorn, with the one timeout uvicorn lacks.

uvicorn closes connections idle between requests, but not one whose request never finishes
arriving: a client that connects and sends nothing, or trickles its headers a byte at a
time, would hold a connection for ever. ASGI middleware cannot help, since the application
is called only once the headers are complete; so the deadline lives in the protocol.
Bodies are timed by the application's own middleware (api/limits.py).

Several worker processes (`weaponsdb serve --workers N`) are run by uvicorn's own supervisor:
it binds one listening socket and hands it to each worker, which accepts on it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from weaponsdb.config import Settings, get_settings, usable_cores

REQUEST_TIMEOUT_BODY = json.dumps(
    {
        "type": "about:blank",
        "title": "Request Timeout",
        "status": 408,
        "detail": "The request's headers did not arrive in time.",
        "code": "request_timeout",
    }
).encode()
REQUEST_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"Content-Type: application/problem+json\r\n"
    + f"Content-Length: {len(REQUEST_TIMEOUT_BODY)}\r\n".encode()
    + b"Connection: close\r\n\r\n"
    + REQUEST_TIMEOUT_BODY
)


def with_header_deadline(base: type[asyncio.Protocol], seconds: float) -> type[asyncio.Protocol]:
    """*base* (one of uvicorn's HTTP protocols), answering 408 and closing a connection whose
    request headers are not complete *seconds* after it opened or its next request began."""

    class HeaderDeadline(base):  # type: ignore[valid-type, misc]
        app: ASGIApp  # set by uvicorn's protocol from its config

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._deadline: asyncio.TimerHandle | None = None
            self._between_requests = True
            application = self.app

            async def headers_arrived(scope: Scope, receive: Receive, send: Send) -> None:
                self._disarm()
                self._between_requests = False
                await application(scope, receive, send)

            self.app = headers_arrived

        def connection_made(self, transport: asyncio.Transport) -> None:
            without_nagle(transport)
            super().connection_made(CoalescedWrites(transport, self.loop))
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._between_requests and self._deadline is None:
                self._arm()  # the first byte of the next request on a kept connection
            super().data_received(data)

        def on_response_complete(self) -> None:
            self._between_requests = True
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.write(REQUEST_TIMEOUT_ANSWER)
                self.transport.close()

    return HeaderDeadline


class CoalescedWrites:
    """A connection's transport whose writes made in one turn of the event loop leave as one
    send. uvicorn writes an answer's head and its body apart; without Nagle's algorithm
    (below) each write was a system call and a packet of its own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def _flush(self) -> None:
        if self._pending and not self._transport.is_closing():
            self._transport.write(b"".join(self._pending))
        self._pending.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def without_nagle(transport: asyncio.BaseTransport) -> None:
    """Sends each answer at once. asyncio only sets TCP_NODELAY on sockets created with
    proto=IPPROTO_TCP, and the listening socket older uvicorn releases bind for their workers
    has proto=0, as do the connections accepted on it: small answers then wait for the
    client's delayed ACK (Nagle's algorithm), about 40 ms each on Linux loopback."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def server_config(app: FastAPI, settings: Settings, host: str, port: int) -> uvicorn.Config:
    protocol = with_header_deadline(AutoHTTPProtocol, settings.request_header_timeout_seconds)
    # Requests are logged as JSON by the app itself (api/telemetry.py).
    return uvicorn.Config(app, host=host, port=port, http=protocol, access_log=False)


def serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serves with *workers* processes under uvicorn's supervisor (which restarts one that
    dies). Each worker is a fresh interpreter that reads its settings from the environment
    (WEAPONSDB_*), builds its own application and shares the database and, in a file made
    here unless one is configured, the rate limits' counts."""
    os.environ["WEAPONSDB_DATABASE_URL"] = settings.database_url
    with tempfile.TemporaryDirectory(prefix="weaponsdb-") as shared:
        if settings.rate_limit_file is None:
            os.environ["WEAPONSDB_RATE_LIMIT_FILE"] = str(Path(shared) / "rate-counts")
        uvicorn.run(
            "api.server:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            http="api.server:worker_protocol",
            access_log=False,
        )


def worker_app() -> FastAPI:
    """The application of one worker process (uvicorn imports it by name)."""
    from api.app import create_app

    return create_app(get_settings())


def worker_protocol(*args: Any, **kwargs: Any) -> asyncio.Protocol:
    """The HTTP protocol of one worker's connections (uvicorn imports it by name, since the
    class made by with_header_deadline cannot be sent to a worker process)."""
    return _worker_protocol_class()(*args, **kwargs)


@cache
def _worker_protocol_class() -> type[asyncio.Protocol]:
    return with_header_deadline(AutoHTTPProtocol, get_settings().request_header_timeout_seconds)


def default_workers() -> int:
    return usable_cores()
