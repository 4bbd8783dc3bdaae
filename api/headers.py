"""Response headers every answer carries: security headers, and CORS for reading."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The service's own pages load nothing from elsewhere: 'self' only. The API docs need one
# inline script and style, and images inlined as data: URLs.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    PAGE_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
    .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    .replace("img-src 'self'", "img-src 'self' data:")
)
DOCS_PATHS = ("/docs", "/redoc")

COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"].startswith(DOCS_PATHS) else PAGE_POLICY

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(k, v) for k, v in COMMON if k not in present]
                if b"content-security-policy" in present:
                    # An answer with its own policy says who may frame it (frame-ancestors),
                    # e.g. a reconciliation preview shown inside OpenRefine.
                    added = [(k, v) for k, v in added if k != b"x-frame-options"]
                else:
                    added.append((b"content-security-policy", policy.encode()))
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, with_headers)


def allow_cross_origin_reads(app: FastAPI, origins: list[str]) -> None:
    """Browsers on other sites may read and match; they may not send keys for writing,
    because no credential header is allowed across origins."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "HEAD", "POST"],
        allow_headers=["Content-Type", "X-Request-ID"],
        expose_headers=["ETag", "Retry-After", "X-Request-ID", "Link"],
        max_age=3600,
    )
