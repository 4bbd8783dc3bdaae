"""Who may change the catalogue, and the preconditions every change carries.

Attach `key: EditorKey` (or ContributorKey, AdminKey) to a route to require an API key with
that role; `note: ChangeNote` for the required change note; `version: IfMatchVersion` for the
entry version the change is based on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, Header, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.dependencies import Sessions, get_resources
from api.openapi import enforced
from weaponsdb import editing, keys
from weaponsdb.db import INTEGER_MAX
from weaponsdb.errors import (
    FieldError,
    InvalidInputError,
    PreconditionRequiredError,
)
from weaponsdb.vocab import Role

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="weaponsdb API key (wdb_...)",
    description="An API key from `weaponsdb keys create`, as `Authorization: Bearer <key>`. "
    "Reads need none; every write does.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _holder(sessions: Sessions, credentials: Credentials, needed: Role) -> keys.KeyHolder:
    with sessions() as session:
        return keys.authenticate(session, credentials.credentials if credentials else None, needed)


def require_contributor(
    request: Request, sessions: Sessions, credentials: Credentials
) -> keys.KeyHolder:
    return _checked(request) or _holder(sessions, credentials, Role.CONTRIBUTOR)


def require_editor(
    request: Request, sessions: Sessions, credentials: Credentials
) -> keys.KeyHolder:
    return _checked(request) or _holder(sessions, credentials, Role.EDITOR)


def require_admin(request: Request, sessions: Sessions, credentials: Credentials) -> keys.KeyHolder:
    return _checked(request) or _holder(sessions, credentials, Role.ADMIN)


_NEEDS = {
    require_contributor: Role.CONTRIBUTOR,
    require_editor: Role.EDITOR,
    require_admin: Role.ADMIN,
}


def _checked(request: Request) -> keys.KeyHolder | None:
    """The holder KeyFirstRoute found, so that one request looks its key up once."""
    holder: keys.KeyHolder | None = getattr(request.state, "key_holder", None)
    return holder


def _needed_role(dependant: Dependant) -> Role | None:
    for dependency in dependant.dependencies:
        needed = _NEEDS.get(dependency.call) or _needed_role(dependency)  # type: ignore[arg-type]
        if needed is not None:
            return needed
    return None


class KeyFirstRoute(APIRoute):
    """A route that needs an API key checks it before it reads the body: a client without
    a valid key hears 401 (or 403) whatever it sent, malformed JSON included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        needed = _needed_role(self.dependant)
        if needed is None:
            return handle

        async def key_first(request: Request) -> Response:
            sessions = get_resources(request).sessions
            credentials = await bearer(request)
            request.state.key_holder = await run_in_threadpool(
                _holder, sessions, credentials, needed
            )
            return await handle(request)

        return key_first


ContributorKey = Annotated[keys.KeyHolder, Depends(require_contributor)]
EditorKey = Annotated[keys.KeyHolder, Depends(require_editor)]
AdminKey = Annotated[keys.KeyHolder, Depends(require_admin)]

NOTE_HEADER = "X-Change-Note"
# The note as the header declares it: printable ASCII, 3 to 500 characters once the spaces
# around it are stripped. Percent-encoded UTF-8 is read as the text it encodes.
NOTE_PATTERN = r"^ *[!-~][ -~]{1,498}[!-~] *$"
VERSION_TAG_PATTERN = r'^ *(?:\*|"[0-9]{1,18}") *$'
ETAG_PATTERN = r'^ *(?:\*|".*") *$'


async def change_note(
    x_change_note: Annotated[
        str | None,
        Header(
            description="What changed and why, 3-500 characters. UTF-8; percent-encode "
            "anything outside ASCII (e.g. with encodeURIComponent). Text that does not "
            "decode to a valid note is kept as sent.",
            json_schema_extra=enforced(pattern=NOTE_PATTERN),
        ),
    ] = None,
) -> str:
    if x_change_note is None:
        return editing.check_note(None, NOTE_HEADER)
    try:
        # Header values arrive as Latin-1; clients that send raw UTF-8 are understood too.
        raw = x_change_note.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise InvalidInputError(
            "The change note is not UTF-8.", [FieldError(NOTE_HEADER, "must be UTF-8")]
        ) from None
    decoded = _percent_decoded(raw)
    if decoded is not None:
        try:
            return editing.check_note(decoded, NOTE_HEADER)
        except InvalidInputError:
            pass  # '100%', '%41b': a note that only looked encoded
    return editing.check_note(raw, NOTE_HEADER)


def _percent_decoded(raw: str) -> str | None:
    try:
        return unquote(raw, errors="strict") if "%" in raw else None
    except UnicodeError:
        return None


ChangeNote = Annotated[str, Depends(change_note)]

NO_VERSION = -1  # a version no entry has
_VERSION_TAG = re.compile(r'^"([0-9]{1,18})"$')


def _if_match(description: str, pattern: str) -> Any:
    return Header(
        alias="If-Match",
        description=f"{description} Required: a change without it gets 428.",
        json_schema_extra=enforced(pattern=pattern),
    )


def precondition(value: str | None) -> str | None:
    """The If-Match value, or None for `*`; 428 when it is missing."""
    if value is None:
        raise PreconditionRequiredError(
            "Send If-Match with the ETag you read, so the change cannot overwrite one made "
            "since (or If-Match: * to change whatever is current).",
            [FieldError(editing.IF_MATCH, "required")],
        )
    value = value.strip()
    return None if value == "*" else value


def version_of(tag: str | None) -> int | None:
    """The entry version an If-Match tag names; None means any."""
    if tag is None:
        return None
    match = _VERSION_TAG.fullmatch(tag)
    if match is None:
        raise InvalidInputError(
            'If-Match must be one ETag of this entry, e.g. "3", or *.',
            [FieldError(editing.IF_MATCH, 'not an entry ETag such as "3"')],
        )
    version = int(match.group(1))
    # No entry ever reaches such a version: the change meets 412 where any stale version
    # does, after the request's other parameters are checked.
    return version if version <= INTEGER_MAX else NO_VERSION


async def if_match_version(
    if_match: Annotated[
        str | None,
        _if_match(
            'The entry\'s ETag you read, e.g. "3"; * for whatever version is current.',
            VERSION_TAG_PATTERN,
        ),
    ] = None,
) -> int | None:
    """The entry version the change is based on; None means any."""
    return version_of(precondition(if_match))


async def if_match_etag(
    if_match: Annotated[
        str | None,
        _if_match(
            "The ETag you read, quotes included; * for whatever version is current.",
            ETAG_PATTERN,
        ),
    ] = None,
) -> str | None:
    """An opaque ETag without its quotes; None means any."""
    tag = precondition(if_match)
    if tag is None:
        return None
    if len(tag) < 2 or not (tag.startswith('"') and tag.endswith('"')):
        raise InvalidInputError(
            "If-Match must be an ETag as the service sent it, quotes included, or *.",
            [FieldError(editing.IF_MATCH, "not an ETag")],
        )
    return tag[1:-1]


IfMatchVersion = Annotated[int | None, Depends(if_match_version)]
IfMatchTag = Annotated[str | None, Depends(if_match_etag)]
