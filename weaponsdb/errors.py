"""Domain errors. The API maps each to an HTTP problem, the CLI to a message and exit code."""

from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str


class WeaponsdbError(Exception):
    """Base class: the message is written for the person who made the request; *errors*
    name the fields (or headers) at fault."""

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFoundError(WeaponsdbError):
    pass


class ConflictError(WeaponsdbError):
    pass


class InvalidInputError(WeaponsdbError):
    pass


class UnauthenticatedError(WeaponsdbError):
    """No credentials, or credentials nobody issued."""


class ForbiddenError(WeaponsdbError):
    """Known credentials that may not do this (revoked, or a role too low)."""


class PreconditionFailedError(WeaponsdbError):
    """The change was made against a version that is no longer the current one."""


class PreconditionRequiredError(WeaponsdbError):
    """A change that could overwrite someone else's came without the version it is based on."""


class PayloadTooLargeError(WeaponsdbError):
    """An upload larger than the service accepts."""


class UnsupportedMediaTypeError(WeaponsdbError):
    """An upload in a format the service does not take."""


class DependencyUnavailableError(WeaponsdbError):
    """Something the service needs is out of reach (the database, the photo store): not the
    request's fault, and the same request may succeed later."""

    def __init__(self, dependency: str, message: str, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.dependency = dependency
        self.retry_after_seconds = retry_after_seconds


Location = tuple[str | int, ...]


def field_path(location: Location) -> str:
    """The one way fields are named, in the API, the CLI and import alike:
    ("entries", 1, "citations", 0, "source") -> "entries[1].citations[0].source"."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def invalid(error: ValidationError, message: str, root: str = "(body)") -> InvalidInputError:
    """A Pydantic validation error as our own, each field named by field_path; a problem
    with the whole value (no location) is named *root*."""
    return InvalidInputError(
        message,
        [
            FieldError(field_path(tuple(e["loc"])) or root, e["msg"])
            for e in error.errors(include_url=False)
        ],
    )
