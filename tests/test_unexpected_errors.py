"""A failure no handler knows: a 500 problem that carries the request id and the security
headers like every other answer, on a connection that stays usable."""

from __future__ import annotations

import http.client
import json

from fastapi import FastAPI

from api.app import create_app
from tests.serving import in_thread


def failing_app(settings, engine) -> FastAPI:
    app = create_app(settings, engine)

    def broken() -> None:  # stands for any bug in a route
        raise RuntimeError("a bug")

    app.add_api_route("/v1/broken", broken)
    return app


def test_an_unexpected_error_is_a_problem_with_every_header_on_a_kept_connection(settings, engine):
    with in_thread(failing_app(settings, engine), settings) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/v1/broken", headers={"X-Request-ID": "trace-42"})
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == 500
        assert response.getheader("content-type") == "application/problem+json"
        assert body["code"] == "internal_error"
        assert "a bug" not in json.dumps(body)  # details stay in the server's log
        assert response.getheader("x-request-id") == "trace-42"
        assert response.getheader("x-content-type-options") == "nosniff"
        assert response.getheader("content-security-policy")
        # The same connection answers the next request.
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        connection.close()
