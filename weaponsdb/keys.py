"""API keys for the write API: issued once, stored only as a hash, revocable.

A key's secret is 32 random bytes from `secrets`; the database keeps its SHA-256. With that
much entropy a plain (unsalted, fast) hash is enough: nobody can guess a preimage, and it
lets a presented key be found by an index lookup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from weaponsdb import models
from weaponsdb.errors import (
    ConflictError,
    FieldError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnauthenticatedError,
)
from weaponsdb.vocab import Role

PREFIX = "wdb_"  # lets secret scanners and people recognise a weaponsdb key
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")
# Each role may do everything the roles ranked below it may.
RANK = {Role.CONTRIBUTOR: 0, Role.EDITOR: 1, Role.ADMIN: 2}
AUTH_FIELD = "Authorization"


@dataclass(frozen=True)
class KeyHolder:
    """Who is making a change: recorded as the author of the revisions it makes."""

    name: str
    role: Role


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str, role: Role) -> str:
    """Issue a key and return its secret, which is shown this once and never stored."""
    if not NAME.fullmatch(name):
        raise InvalidInputError(
            f"'{name}' cannot name a key.",
            [FieldError("name", "1-80 letters, digits, '.', '_', '@' or '-'")],
        )
    if session.scalar(select(models.ApiKey.id).where(models.ApiKey.name == name)) is not None:
        raise ConflictError(f"A key named '{name}' exists; key names are never reused.")
    secret = PREFIX + secrets.token_urlsafe(32)
    session.add(models.ApiKey(name=name, role=role.value, secret_sha256=digest(secret)))
    session.flush()
    return secret


def list_keys(session: Session) -> list[models.ApiKey]:
    return list(session.scalars(select(models.ApiKey).order_by(models.ApiKey.name)))


def revoke_key(session: Session, name: str) -> models.ApiKey:
    key = session.scalar(select(models.ApiKey).where(models.ApiKey.name == name))
    if key is None:
        raise NotFoundError(f"No key is named '{name}'.")
    if key.revoked_at is None:
        key.revoked_at = dt.datetime.now(dt.UTC)
        session.flush()
    return key


def authenticate(session: Session, secret: str | None, needed: Role) -> KeyHolder:
    """The holder of *secret* if it is a live key whose role allows *needed*."""
    if not secret:
        raise UnauthenticatedError(
            "This request changes the catalogue and needs an API key.",
            [FieldError(AUTH_FIELD, "send 'Authorization: Bearer <your API key>'")],
        )
    presented = digest(secret)
    key = session.scalar(select(models.ApiKey).where(models.ApiKey.secret_sha256 == presented))
    # The lookup finds the row; the comparison that decides is constant-time all the same.
    if key is None or not hmac.compare_digest(key.secret_sha256, presented):
        raise UnauthenticatedError(
            "The API key is not one this service issued.",
            [FieldError(AUTH_FIELD, "unknown API key")],
        )
    if key.revoked_at is not None:
        raise ForbiddenError(
            f"The API key '{key.name}' was revoked.", [FieldError(AUTH_FIELD, "revoked API key")]
        )
    role = Role(key.role)
    if RANK[role] < RANK[needed]:
        raise ForbiddenError(
            f"This needs a key with the {needed.value} role; '{key.name}' is {role.value}.",
            [FieldError(AUTH_FIELD, f"role {role.value} may not do this")],
        )
    return KeyHolder(key.name, role)
