"""Who is using the pages: a contributor or editor signs in with their API key, kept in a
cookie the browser sends back to this site only (HttpOnly, SameSite=Strict: a form on another
site cannot post with it), and checked on every request like a Bearer key."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session, sessionmaker

from weaponsdb import keys
from weaponsdb.errors import ForbiddenError, UnauthenticatedError
from weaponsdb.vocab import Role

COOKIE = "wdb_key"
MAX_AGE = 8 * 3600  # a working day; sign in again after


def holder(request: Request, sessions: sessionmaker[Session]) -> keys.KeyHolder | None:
    """The key holder signed in on this browser, if their key is still live."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    try:
        with sessions() as session:
            return keys.authenticate(session, secret, Role.CONTRIBUTOR)
    except (UnauthenticatedError, ForbiddenError):
        return None


def local(target: str) -> str:
    """Only paths on this site are followed after signing in."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def signed_in(request: Request, secret: str, target: str) -> RedirectResponse:
    response = RedirectResponse(local(target), status_code=303)
    response.set_cookie(
        COOKIE,
        secret,
        max_age=MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def signed_out() -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response
