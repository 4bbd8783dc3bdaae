"""Requests that never finish arriving are cut off at the documented timeouts, and bodies
over the limit are refused as too large however they are sent; over real sockets."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from contextlib import suppress

import pytest

from api.app import create_app
from tests.serving import in_thread

# They time the server's deadlines against the clock, so they run alone (see the Makefile).
pytestmark = pytest.mark.serial

TIMEOUT = 1.0  # seconds, for headers and for bodies alike in these tests


@pytest.fixture
def port(settings, engine) -> Iterator[int]:
    quick = settings.model_copy(
        update={
            "request_header_timeout_seconds": TIMEOUT,
            "request_body_timeout_seconds": TIMEOUT,
            "max_body_bytes": 4096,
        }
    )
    with in_thread(create_app(quick, engine), quick) as port:
        yield port


def answer_after(connection: socket.socket, trickle: bytes = b"") -> tuple[bytes, float]:
    """What the server says, and how long it took, while *trickle* goes out a byte every
    0.1 s; the server closing the connection ends it."""
    started = time.monotonic()
    connection.settimeout(0.1)
    received = b""
    for byte in [trickle[i : i + 1] for i in range(len(trickle))] or [b""] * 100:
        if byte:
            try:
                connection.sendall(byte)
            except OSError:
                break
        try:
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:  # it answered and closed while we were still sending
            break
        if not chunk:
            break
        received += chunk
    connection.settimeout(5)
    with suppress(ConnectionResetError):
        while chunk := connection.recv(65536):
            received += chunk
    return received, time.monotonic() - started


def status_and_problem(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_connection_that_sends_nothing_is_closed_at_the_header_timeout(port):
    # Timed from before connecting: the server's deadline starts when it accepts, which
    # can come before the client's next instruction.
    opened = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as connection:
        answer, _ = answer_after(connection)
    seconds = time.monotonic() - opened
    status, problem = status_and_problem(answer)
    assert status == 408
    assert problem["code"] == "request_timeout"
    assert TIMEOUT <= seconds < TIMEOUT + 2


def test_headers_trickled_a_byte_at_a_time_are_cut_off(port):
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as connection:
        answer, seconds = answer_after(connection, request)
    assert status_and_problem(answer)[0] == 408
    assert seconds < TIMEOUT + 2


def test_a_body_trickled_a_byte_at_a_time_is_cut_off(port):
    body = json.dumps({"markings": ["F-7"] * 40}).encode()
    head = (
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(head)
        answer, seconds = answer_after(connection, body)
    status, problem = status_and_problem(answer)
    assert status == 408
    assert "body" in str(problem["detail"])
    assert b"connection: close" in answer.lower()
    assert seconds < TIMEOUT + 2


def test_a_chunked_body_over_the_limit_is_too_large_not_malformed(port):
    body = json.dumps({"markings": ["F-7 " * 100] * 20}).encode()  # over 4096 bytes
    chunks = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n"
        for part in (body[i : i + 1000] for i in range(0, len(body), 1000))
    )
    request = (
        b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(request)
        answer, _ = answer_after(connection)
    status, problem = status_and_problem(answer)
    assert status == 413
    assert problem["code"] == "body_too_large"


def test_a_kept_connection_serves_request_after_request(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for _ in range(3):
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 200
        response.read()
        time.sleep(TIMEOUT * 0.6)  # idle between requests is not a slow request
    connection.close()
