"""Limits that protect the service: request body size and per-client request rates."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi import header_value
from api.problems import send_problem


class BodyTooLargeError(Exception):
    pass


class BodySizeLimit:
    """Refuses bodies over the limit with 413, whether announced by Content-Length or not,
    before the application reads them. *limit_for* gives the limit of a path."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = header_value(scope, "content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, scope, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError:
            if not started:
                await _refuse(send, scope, limit)


async def _refuse(send: Send, scope: Scope, limit: int) -> None:
    await send_problem(
        scope,
        send,
        413,
        "body_too_large",
        f"The request body is larger than this endpoint accepts ({limit} bytes).",
    )


class RateLimit:
    """Per-client moving-window limits on chosen paths; 429 with Retry-After past them."""

    def __init__(self, app: ASGIApp, limits: dict[str, str]) -> None:
        self.app = app
        self.limits: dict[str, RateLimitItem] = {path: parse(rate) for path, rate in limits.items()}
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        item = self.limits.get(scope["path"]) if scope["type"] == "http" else None
        if item is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        who = client[0] if client else "unknown"
        if self.limiter.hit(item, scope["path"], who):
            await self.app(scope, receive, send)
            return
        reset_at = self.limiter.get_window_stats(item, scope["path"], who).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        await send_problem(
            scope,
            send,
            429,
            "rate_limited",
            f"This client sent more than {item} requests to {scope['path']}; "
            f"try again in {retry_after} s.",
            {"Retry-After": str(retry_after)},
        )
