"""The photo store: files addressed by the SHA-256 of their content, behind a small
interface so that another store (e.g. object storage) can be added later.

Keys are relative paths such as `ab/cd/<sha256>.jpg` and `thumbs/256/ab/cd/<sha256>.jpg`.
A file is written under a temporary name and renamed into place, so a key names a whole
file or nothing; writing a key that exists changes nothing (same key, same bytes).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from weaponsdb.errors import DependencyUnavailableError

_KEY = re.compile(
    r"^(thumbs/\d{2,5}/|originals/)?[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z]{3,4}$"
)
# Files exactly as received (observations' evidence), kept apart from the working copies.
ORIGINALS = "originals"


def photo_key(sha256: str, extension: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"


def thumbnail_key(sha256: str, size: int, extension: str) -> str:
    return f"thumbs/{size}/{photo_key(sha256, extension)}"


def original_key(sha256: str, extension: str) -> str:
    return f"{ORIGINALS}/{photo_key(sha256, extension)}"


class PhotoStore(Protocol):
    def put(self, key: str, data: bytes) -> bool:
        """Store *data* under *key*; True if this call created the file, False if it was
        there already."""
        ...

    def read(self, key: str) -> bytes | None:
        """The file's bytes, or None if the store has no such key."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the file if it is there."""
        ...


class FileStore:
    """The store as a folder (settings.images_dir)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a photo store key: {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        with _store_faults("written"):
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
            try:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return True

    def read(self, key: str) -> bytes | None:
        try:
            with _store_faults("read"):
                return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


@contextmanager
def _store_faults(doing: str) -> Iterator[None]:
    """A store that is read-only, full or gone is the service's fault, not the request's."""
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as error:
        raise DependencyUnavailableError(
            "photo store",
            f"The photo store cannot be {doing} ({error.strerror or error}); try again later.",
        ) from error
