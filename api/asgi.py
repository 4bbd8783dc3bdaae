"""Small helpers for the pure ASGI middleware."""

from starlette.types import Scope


def header_value(scope: Scope, name: str) -> str | None:
    """The first value of a request header; *name* in lower case."""
    wanted = name.encode()
    for key, value in scope["headers"]:
        if key == wanted:
            return bytes(value).decode("latin-1")
    return None
