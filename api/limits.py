"""Limits that protect the service: request body size and per-client request rates."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from limits import RateLimitItem, parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi import header_value
from api.problems import send_problem
from api.rate_counts import SharedCounts


class BodyTooLargeError(Exception):
    pass


class RequestBodyLimits:
    """Reads the whole request body before the application sees it, so that a body over the
    path's limit is refused with 413 (announced by Content-Length or not: chunked bodies are
    counted too) and one that does not arrive whole within *timeout* seconds with 408.
    Both close the connection, since the rest of the body is never read. *limit_for* gives
    the limit of a path."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int], timeout: float) -> None:
        self.app = app
        self.limit_for = limit_for
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = header_value(scope, "content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, scope, limit)
            return
        try:
            async with asyncio.timeout(self.timeout):
                body = await _read_body(receive, limit)
        except BodyTooLargeError:
            await _too_large(send, scope, limit)
            return
        except TimeoutError:
            await send_problem(
                scope,
                send,
                408,
                "request_timeout",
                f"The request body did not arrive whole within {self.timeout:g} seconds.",
                CLOSE,
            )
            return
        await self.app(scope, _replay(body, receive), send)


CLOSE = {"Connection": "close"}


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks)
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, as one message; then whatever the server says next (a
    disconnect)."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _too_large(send: Send, scope: Scope, limit: int) -> None:
    await send_problem(
        scope,
        send,
        413,
        "body_too_large",
        f"The request body is larger than this endpoint accepts ({limit} bytes).",
        CLOSE,
    )


def client_of(scope: Scope) -> str:
    """Who a rate limit counts: the client's address (as uvicorn gives it, behind a trusted
    proxy the forwarded one)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def limit_of(item: RateLimitItem) -> tuple[int, int]:
    """A parsed rate as SharedCounts takes it: how many, per how many seconds."""
    return item.amount, item.get_expiry()


class RateLimit:
    """Per-client moving-window limits on chosen paths, counted across every worker process
    sharing *counts*; 429 with Retry-After past them."""

    def __init__(self, app: ASGIApp, limits: dict[str, str], counts: SharedCounts) -> None:
        self.app = app
        self.limits: dict[str, RateLimitItem] = {path: parse(rate) for path, rate in limits.items()}
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        item = self.limits.get(scope["path"]) if scope["type"] == "http" else None
        if item is None:
            await self.app(scope, receive, send)
            return
        verdict = self.counts.hit(f"{scope['path']} {client_of(scope)}", *limit_of(item))
        if verdict.allowed:
            await self.app(scope, receive, send)
            return
        await send_problem(
            scope,
            send,
            429,
            "rate_limited",
            f"This client sent more than {item} requests to {scope['path']}; "
            f"try again in {verdict.retry_after} s.",
            {"Retry-After": str(verdict.retry_after)},
        )
