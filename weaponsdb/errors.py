"""Domain errors. The API maps each to an HTTP problem, the CLI to a message and exit code."""

from dataclasses import dataclass


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


class ServiceUnavailableError(WeaponsdbError):
    """A part of the service that needs something missing on the server (e.g. Tesseract's
    language data); the message names what."""
