"""Structured request logs and Prometheus metrics, one pure ASGI middleware for both."""

from __future__ import annotations

import gc
import logging
import time
import uuid

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi import header_value

ACCESS_LOG = logging.getLogger("weaponsdb.access")
REQUEST_ID_HEADER = "x-request-id"


class GarbageCollections:
    """The pauses of Python's cyclic garbage collector in this process, which stop every
    request it serves (the match index is kept out of its way: see matching/catalogue_index.py)."""

    def __init__(self) -> None:
        self.longest = 0.0
        # The CPU the longest-working collection took: on a busy machine a pause can be
        # mostly the process waiting for a core, which a collection's size does not explain.
        self.most_work = 0.0
        self._began = 0.0
        self._began_cpu = 0.0

    def __call__(self, phase: str, _: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            self._began_cpu = time.thread_time()  # the collector runs in the thread it stops
        else:
            paused = time.perf_counter() - self._began
            worked = time.thread_time() - self._began_cpu
            self.longest = max(self.longest, paused)
            # Two clocks, each of its own resolution: the CPU can read a microsecond over
            # the pause it was spent in, which it cannot have been.
            self.most_work = max(self.most_work, min(worked, paused))

    def install(self) -> None:
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def serving(self) -> None:
        """Counts from now: the collections while modules were imported and the app built
        stopped no request."""
        self.longest = 0.0
        self.most_work = 0.0


COLLECTIONS = GarbageCollections()  # one per process, whatever the number of apps in it


class Metrics:
    """The service's own registry, so that several apps in one process never share counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        COLLECTIONS.install()
        Gauge(
            "weaponsdb_gc_longest_pause_seconds",
            "The longest garbage collection of this worker process since it began serving.",
            registry=self.registry,
        ).set_function(lambda: COLLECTIONS.longest)
        Gauge(
            "weaponsdb_gc_most_cpu_seconds",
            "The CPU time of the garbage collection that took the most of it in this worker "
            "since it began serving.",
            registry=self.registry,
        ).set_function(lambda: COLLECTIONS.most_work)
        self.requests = Counter(
            "weaponsdb_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "weaponsdb_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def exposition(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class RequestTelemetry:
    """Times every HTTP request, counts it, logs it as one JSON line, tags it with an id."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        status = 500  # what the client sees if the app fails before it answers
        started = time.perf_counter()

        async def tagged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route = getattr(scope.get("route"), "path", None) or "(unmatched)"
        method = scope["method"]
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.latency.labels(method, route).observe(seconds)
        client = scope.get("client")
        ACCESS_LOG.info(
            "request",
            extra={
                "request_id": request_id,
                "method": method,
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": client[0] if client else None,
            },
        )


def _incoming_id(scope: Scope) -> str | None:
    """Keep a caller's request id, if it is a sane one, so their logs and ours line up."""
    text = header_value(scope, REQUEST_ID_HEADER)
    if text and len(text) <= 64 and text.replace("-", "").isalnum():
        return text
    return None


def configure_access_log() -> None:
    """One JSON object a line on stderr, for log shippers."""
    if ACCESS_LOG.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.setLevel(logging.INFO)
    ACCESS_LOG.propagate = False
