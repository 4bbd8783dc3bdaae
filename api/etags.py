"""Entity tags, made one way: an entry's version, a source's digest, a revision's number and
a photo's hash are all sent as strong ETags, quoted (RFC 9110)."""

from __future__ import annotations


def etag(value: str | int) -> str:
    return f'"{value}"'


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether If-None-Match names *tag*: RFC 9110 compares weakly, and * matches any
    current representation."""
    if if_none_match is None:
        return False
    tags = [candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")]
    return "*" in tags or tag in tags


# What never changes (a revision, a photo: its address is the hash of its bytes) may be kept.
IMMUTABLE = "public, max-age=31536000, immutable"
