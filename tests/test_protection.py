"""What protects the service and its users: limits, headers, CORS, logs and metrics."""

import gc
import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from weaponsdb import db


@pytest.fixture
def strict_client(settings, engine):
    strict = settings.model_copy(update={"max_body_bytes": 100, "match_rate_limit": "3/minute"})
    with TestClient(create_app(strict, engine)) as client:
        yield client


def test_security_headers_on_every_answer(client):
    for path in ("/v1/entries", "/v1/entries/missing", "/healthz"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "'unsafe-inline'" not in headers["content-security-policy"]


def test_cross_origin_reads_are_allowed_but_not_keyed_writes(client):
    read = client.get("/v1/entries", headers={"Origin": "https://example.org"})
    assert read.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/v1/entries",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 400  # a browser will not send a key across origins


def test_an_oversized_body_is_refused_before_it_is_read(strict_client):
    response = strict_client.post("/v1/entries", content=b"x" * 101)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "100 bytes" in response.json()["detail"]


def test_match_requests_are_rate_limited_per_client(strict_client):
    statuses = [strict_client.post("/v1/match", json={}).status_code for _ in range(4)]
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
    refused = strict_client.post("/v1/match", json={})
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["code"] == "rate_limited"
    assert strict_client.get("/v1/entries").status_code == 200  # other paths unaffected


def test_requests_are_counted_by_route_in_prometheus_format(seeded_client):
    for slug in ("f-7", "type-58", "nope"):
        seeded_client.get(f"/v1/entries/{slug}")
    metrics = seeded_client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    counts = dict(
        re.findall(
            r'weaponsdb_http_requests_total\{method="GET",route="/v1/entries/\{slug\}",'
            r'status="(\d+)"\} (\S+)',
            metrics.text,
        )
    )
    assert counts == {"200": "2.0", "404": "1.0"}
    assert "weaponsdb_http_request_duration_seconds_bucket" in metrics.text


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_each_request_is_logged_with_its_id(client):
    handler = Records()
    logging.getLogger("weaponsdb.access").addHandler(handler)
    try:
        response = client.get("/v1/entries?limit=1", headers={"X-Request-ID": "trace-42"})
    finally:
        logging.getLogger("weaponsdb.access").removeHandler(handler)
    assert response.headers["x-request-id"] == "trace-42"
    (record,) = handler.records
    assert record.__dict__["request_id"] == "trace-42"
    assert record.__dict__["route"] == "/v1/entries"
    assert record.__dict__["status"] == 200
    assert record.__dict__["duration_ms"] >= 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_queries_have_a_time_limit(database_url, settings):
    engine = db.make_engine(database_url, statement_timeout_ms=settings.statement_timeout_ms)
    with engine.connect() as connection:
        assert connection.scalar(text("SHOW statement_timeout")) == "15s"
    engine.dispose()


def test_the_longest_garbage_collection_pause_is_a_metric(seeded_client):
    gc.collect()  # this process's own: the app serves in it
    metrics = seeded_client.get("/metrics").text
    longest = re.search(r"^weaponsdb_gc_longest_pause_seconds (\S+)$", metrics, re.MULTILINE)
    assert longest is not None
    assert float(longest.group(1)) > 0
    # and the CPU of the collection that took most, at most the longest pause
    work = re.search(r"^weaponsdb_gc_most_cpu_seconds (\S+)$", metrics, re.MULTILINE)
    assert work is not None
    assert 0 < float(work.group(1)) <= float(longest.group(1))
