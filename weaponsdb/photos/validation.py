"""Checking an upload before anything is stored: its size, its format, its pixel count (read
from the header, before any decoding, so decompression bombs are refused unopened), and that
it decodes whole. Every refusal names the reason."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from PIL import Image, UnidentifiedImageError

from weaponsdb.config import Settings
from weaponsdb.errors import (
    FieldError,
    InvalidInputError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)


@dataclass(frozen=True)
class Format:
    pillow: str  # Image.format as Pillow reports it
    media_type: str
    extensions: tuple[str, ...]
    # Other names of the same content: a camera's MPO is a JPEG with a second picture
    # embedded; an APNG is a PNG whose first frame every PNG reader shows.
    also_declared_as: tuple[str, ...] = ()

    def is_declared_by(self, media_type: str) -> bool:
        return media_type == self.media_type or media_type in self.also_declared_as


FORMATS = (
    Format(
        "JPEG",
        "image/jpeg",
        (".jpg", ".jpeg", ".jpe", ".jfif", ".mpo"),
        ("image/pjpeg", "image/mpo"),
    ),
    Format("PNG", "image/png", (".png", ".apng"), ("image/apng", "image/vnd.mozilla.apng")),
    Format("WEBP", "image/webp", (".webp",)),
    Format("TIFF", "image/tiff", (".tif", ".tiff")),
)
# Cameras write JPEGs with a second, embedded picture that Pillow's JPEG plugin opens as MPO.
_ALIASES = {"MPO": "JPEG"}
ALLOWED = ", ".join(f.pillow.replace("WEBP", "WebP") for f in FORMATS)
# Content types that claim nothing: what clients send when they do not know.
_UNCLAIMED = {"", "application/octet-stream", "binary/octet-stream"}
FIELD = "file"
Image.init()  # registers every format plugin, so that open(formats=...) may name them


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int
    # A photo searched with is decoded only to be hashed: within this many pixels, or, for a
    # JPEG, at the reduced scale its decoder offers (see processing.query_hash).
    max_query_pixels: int = 16_000_000

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.max_upload_bytes, settings.max_image_pixels, settings.max_query_image_pixels
        )


@dataclass(frozen=True)
class CheckedImage:
    """An upload that passed the checks: its bytes, its format and its size in pixels."""

    data: bytes
    format: Format
    size: tuple[int, int]


def _format_named(pillow: str | None) -> Format | None:
    name = _ALIASES.get(pillow or "", pillow)
    return next((f for f in FORMATS if f.pillow == name), None)


def check_upload(
    data: bytes, limits: Limits, filename: str | None = None, content_type: str | None = None
) -> CheckedImage:
    """The upload if it is a whole image of an allowed format within the limits; else a
    PayloadTooLargeError (413), UnsupportedMediaTypeError (415) or InvalidInputError (422)
    naming the field *file* and the reason."""
    checked = check_header(data, limits, filename, content_type)
    _check_decodes(data, checked.format)
    return checked


def check_header(
    data: bytes, limits: Limits, filename: str | None = None, content_type: str | None = None
) -> CheckedImage:
    """Every check of check_upload that needs no decoding: size, format, pixel count, and
    that name and type agree with the content. Whoever decodes it must still treat a
    decoding failure as corruption (corrupt_image)."""
    if len(data) > limits.max_bytes:
        raise PayloadTooLargeError(
            f"The photo is larger than {limits.max_bytes} bytes, the most this service takes.",
            [FieldError(FIELD, f"larger than {limits.max_bytes} bytes")],
        )
    if not data:
        raise InvalidInputError("The photo is empty.", [FieldError(FIELD, "empty file")])
    with warnings.catch_warnings():
        # Pillow only warns of a large image; here every bomb is an error, checked below.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[f.pillow for f in FORMATS]) as im:
                found = _format_named(im.format)
                width, height = im.size
        except UnidentifiedImageError:
            raise UnsupportedMediaTypeError(
                f"The file is not an image of an allowed format ({ALLOWED}).",
                [FieldError(FIELD, f"not a {ALLOWED} image")],
            ) from None
        except Image.DecompressionBombError as error:
            raise _bomb(str(error)) from None
        except Exception as error:  # Pillow's decoders raise many kinds on a broken header
            raise corrupt_image(error) from None
    assert found is not None  # Image.open tried the allowed formats only
    if width * height > limits.max_pixels:
        raise _bomb(
            f"{width}×{height} pixels is {width * height / 1e6:.0f} megapixels; the limit is "
            f"{limits.max_pixels / 1e6:.0f} megapixels"
        )
    _check_claims(found, filename, content_type)
    return CheckedImage(data, found, (width, height))


def _bomb(reason: str) -> InvalidInputError:
    return InvalidInputError(
        "The image has more pixels than the service decodes (a decompression bomb, or "
        f"simply too large); it was refused without decoding: {reason}.",
        [FieldError(FIELD, "too many pixels")],
    )


def corrupt_image(error: BaseException) -> InvalidInputError:
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return InvalidInputError(
        f"The image is corrupt or truncated and cannot be decoded: {reason}.",
        [FieldError(FIELD, "corrupt or truncated image")],
    )


def _check_claims(found: Format, filename: str | None, content_type: str | None) -> None:
    """The format read from the content must be the one the name and type claim."""
    claimed = (content_type or "").split(";")[0].strip().lower()
    if claimed not in _UNCLAIMED and not found.is_declared_by(claimed):
        raise InvalidInputError(
            f"The file is declared as {claimed} but its content is {found.pillow}.",
            [FieldError(FIELD, f"content is {found.media_type}, not {claimed}")],
        )
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix and suffix not in found.extensions:
        raise InvalidInputError(
            f"The file is named {PurePath(filename or '').name} but its content is {found.pillow}.",
            [FieldError(FIELD, f"content is {found.media_type}, not a {suffix} file")],
        )


def _check_decodes(data: bytes, found: Format) -> None:
    """verify() checks the structure (e.g. PNG checksums); a full load() catches truncation."""
    formats = [found.pillow]  # the JPEG plugin opens MPO files too
    try:
        with Image.open(io.BytesIO(data), formats=formats) as im:
            im.verify()
        with Image.open(io.BytesIO(data), formats=formats) as im:
            im.load()
    except Exception as error:  # truncation is OSError; other damage raises other kinds
        raise corrupt_image(error) from None
