"""Domain errors. The API maps each to an HTTP problem, the CLI to a message and exit code."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str


class WeaponsdbError(Exception):
    """Base class: the message is written for the person who made the request."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(WeaponsdbError):
    pass


class ConflictError(WeaponsdbError):
    pass


class InvalidInputError(WeaponsdbError):
    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []
