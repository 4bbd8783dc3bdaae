"""Who may change the catalogue, and the preconditions every change carries.

Attach `key: EditorKey` (or ContributorKey, AdminKey) to a route to require an API key with
that role; `note: ChangeNote` for the required change note; `version: IfMatchVersion` for the
entry version the change is based on.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.dependencies import Sessions
from api.openapi import ENFORCED
from weaponsdb import editing, keys
from weaponsdb.db import INTEGER_MAX
from weaponsdb.errors import (
    FieldError,
    InvalidInputError,
    PreconditionFailedError,
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


def require_contributor(sessions: Sessions, credentials: Credentials) -> keys.KeyHolder:
    return _holder(sessions, credentials, Role.CONTRIBUTOR)


def require_editor(sessions: Sessions, credentials: Credentials) -> keys.KeyHolder:
    return _holder(sessions, credentials, Role.EDITOR)


def require_admin(sessions: Sessions, credentials: Credentials) -> keys.KeyHolder:
    return _holder(sessions, credentials, Role.ADMIN)


ContributorKey = Annotated[keys.KeyHolder, Depends(require_contributor)]
EditorKey = Annotated[keys.KeyHolder, Depends(require_editor)]
AdminKey = Annotated[keys.KeyHolder, Depends(require_admin)]

NOTE_HEADER = "X-Change-Note"


def change_note(
    x_change_note: Annotated[
        str | None,
        Header(
            description="What changed and why, 3-500 characters. UTF-8; percent-encode "
            "anything outside ASCII (e.g. with encodeURIComponent).",
            json_schema_extra=ENFORCED,
        ),
    ] = None,
) -> str:
    if x_change_note is None:
        return editing.check_note(None, NOTE_HEADER)
    try:
        # Header values arrive as Latin-1; clients that send raw UTF-8 are understood too.
        raw = x_change_note.encode("latin-1").decode("utf-8")
        text = unquote(raw, errors="strict")
    except UnicodeError:
        raise InvalidInputError(
            "The change note is not UTF-8.", [FieldError(NOTE_HEADER, "must be UTF-8")]
        ) from None
    return editing.check_note(text, NOTE_HEADER)


ChangeNote = Annotated[str, Depends(change_note)]

_VERSION_TAG = re.compile(r'^"(\d{1,18})"$')


def if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The ETag of the version you changed, e.g. "3"; * for whatever '
            "version is current. Required: a change without it gets 428.",
            json_schema_extra=ENFORCED,
        ),
    ] = None,
) -> str | None:
    """The If-Match value, or None for `*`; 428 when it is missing."""
    if if_match is None:
        raise PreconditionRequiredError(
            "Send If-Match with the ETag you read, so the change cannot overwrite one made "
            "since (or If-Match: * to change whatever is current).",
            [FieldError(editing.IF_MATCH, "required")],
        )
    value = if_match.strip()
    return None if value == "*" else value


def if_match_version(tag: Annotated[str | None, Depends(if_match)]) -> int | None:
    """The entry version the change is based on; None means any."""
    if tag is None:
        return None
    match = _VERSION_TAG.fullmatch(tag)
    if match is None:
        raise InvalidInputError(
            'If-Match must be one ETag of this entry, e.g. "3", or *.',
            [FieldError(editing.IF_MATCH, 'not an entry ETag such as "3"')],
        )
    version = int(match.group(1))
    if version > INTEGER_MAX:  # no entry ever reaches such a version: it cannot be current
        raise PreconditionFailedError(
            f"If-Match names version {version}, which is not the entry's current version.",
            [FieldError(editing.IF_MATCH, "not the current version")],
        )
    return version


def if_match_etag(tag: Annotated[str | None, Depends(if_match)]) -> str | None:
    """An opaque ETag without its quotes; None means any."""
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
