"""Test factories, one of each: keys, request headers, entries, sources and photos."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from weaponsdb import db, keys, transfer
from weaponsdb.vocab import Role


def issue_key(sessions: sessionmaker[Session], name: str, role: Role = Role.EDITOR) -> str:
    with db.transaction(sessions) as session:
        return keys.create_key(session, name, role)


def headers(
    key: str | None, version: int | str | None = None, note: str | None = "A test change"
) -> dict[str, str]:
    result: dict[str, str] = {}
    if key is not None:
        result["Authorization"] = f"Bearer {key}"
    if version is not None:
        result["If-Match"] = version if version == "*" else f'"{version}"'
    if note is not None:
        result["X-Change-Note"] = note
    return result


def exported(sessions: sessionmaker[Session]) -> str:
    """The whole catalogue, history included, minus the moment of export."""
    with db.transaction(sessions) as session:
        document = transfer.export_catalogue(session)
    return transfer.dump(document.model_copy(update={"exported_at": None}))
