"""From a checked upload to what is stored: the image turned upright as its EXIF orientation
says, re-encoded from its pixels alone (no EXIF, GPS, XMP, comments, text chunks or device
colour profile: colours are converted to sRGB first), thumbnails, and a perceptual hash."""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass

import imagehash
from PIL import Image, ImageCms, ImageOps

from weaponsdb.errors import FieldError, InvalidInputError
from weaponsdb.photos.validation import FIELD, CheckedImage, Limits, corrupt_image

# Long side of each thumbnail, by the name the API serves it under.
THUMBNAIL_SIZES = {"thumb": 256, "medium": 1024}
THUMBNAIL_TYPE = ("image/jpeg", "jpg")


@dataclass(frozen=True)
class Encoding:
    media_type: str
    extension: str
    modes: frozenset[str]  # modes written as they are; others become RGB or RGBA
    options: tuple[tuple[str, object], ...]


# What each upload format is stored as: browsers show all of these (TIFF becomes PNG).
_ENCODINGS = {
    "JPEG": Encoding("image/jpeg", "jpg", frozenset({"L", "RGB"}), (("quality", 92),)),
    "PNG": Encoding("image/png", "png", frozenset({"1", "L", "LA", "RGB", "RGBA", "I;16"}), ()),
    "WEBP": Encoding(
        "image/webp", "webp", frozenset({"RGB", "RGBA"}), (("quality", 90), ("method", 4))
    ),
}
_ENCODINGS["TIFF"] = _ENCODINGS["PNG"]
EXTENSIONS = {e.media_type: e.extension for e in _ENCODINGS.values()}
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes  # the stored image
    sha256: str  # of *data*
    original_sha256: str  # of the upload
    media_type: str
    extension: str
    width: int
    height: int
    phash: str  # 16 hex digits
    thumbnails: dict[int, bytes]  # long side -> JPEG


def upright(data: bytes, draft_side: int | None = None) -> Image.Image:
    """The decoded image turned as its EXIF orientation says, in sRGB where it carried a
    colour profile; its metadata is left behind in the file. With *draft_side*, a JPEG is
    decoded at the smallest of its decoder's scales (1/2 to 1/8) that keeps that many pixels
    on each side: far less memory and time for a picture only hashed."""
    with Image.open(io.BytesIO(data)) as opened:
        if draft_side and opened.format in ("JPEG", "MPO"):
            opened.draft(opened.mode, (draft_side, draft_side))
        opened.load()
        turned = ImageOps.exif_transpose(opened)
    profile = turned.info.get("icc_profile")
    if profile and turned.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            output = "RGBA" if turned.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(turned, source, _SRGB, outputMode=output)
            if converted is not None:
                turned = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: keep the pixels as they are
    return turned


def displayable(image: Image.Image) -> Image.Image:
    """8-bit RGB, transparency shown on white: for thumbnails and hashing."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB") if image.mode != "RGB" else image


def perceptual_hash(image: Image.Image) -> str:
    """The 64-bit DCT hash of imagehash, as 16 hex digits."""
    return str(imagehash.phash(displayable(image)))


# pHash looks at 32x32 pixels: 256 a side keeps every detail it can see.
QUERY_DRAFT_SIDE = 256
# Query photos decoded at once, process-wide: with the pixel budget, bounds their memory.
_QUERY_DECODES = threading.BoundedSemaphore(2)


def query_hash(checked: CheckedImage, limits: Limits) -> str:
    """The pHash of a photo searched with (checked by validation.check_header), decoded
    within a memory budget: a JPEG at a reduced scale, any other format only if it has at
    most limits.max_query_pixels. A file that fails to decode is refused as corrupt."""
    if checked.format.pillow != "JPEG":
        within_query_budget(checked, limits, "search with", "send a smaller copy or a JPEG")
    with _QUERY_DECODES:
        try:
            return perceptual_hash(upright(checked.data, QUERY_DRAFT_SIDE))
        except (OSError, SyntaxError, ValueError) as error:  # Pillow's ways of saying corrupt
            raise corrupt_image(error) from None


def within_query_budget(checked: CheckedImage, limits: Limits, doing: str, advice: str) -> None:
    """Refuse, before any decoding, a photo sent to be searched with or read (never stored)
    that has more than limits.max_query_pixels."""
    width, height = checked.size
    if width * height > limits.max_query_pixels:
        raise InvalidInputError(
            f"A {checked.format.pillow} image of {width}×{height} pixels is more than this "
            f"service decodes to {doing} ({limits.max_query_pixels / 1e6:g} megapixels); "
            f"{advice}.",
            [FieldError(FIELD, f"too many pixels to {doing}")],
        )


def _pixels_only(image: Image.Image, encoding: Encoding) -> Image.Image:
    """A new image from the pixels alone: nothing of the upload's info travels with it."""
    if image.mode not in encoding.modes:
        alpha = "A" in image.mode or "transparency" in image.info
        image = displayable(image) if not alpha else image.convert("RGBA")
        if image.mode not in encoding.modes:
            image = image.convert("RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _encode(image: Image.Image, format_name: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format_name, **options)
    return buffer.getvalue()


def thumbnail(image: Image.Image, long_side: int) -> bytes:
    small = displayable(image).copy()
    small.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    return _encode(small, "JPEG", quality=85)


def process(checked: CheckedImage) -> ProcessedPhoto:
    encoding = _ENCODINGS[checked.format.pillow]
    image = _pixels_only(upright(checked.data), encoding)
    stored = _encode(image, checked.format.pillow.replace("TIFF", "PNG"), **dict(encoding.options))
    return ProcessedPhoto(
        data=stored,
        sha256=hashlib.sha256(stored).hexdigest(),
        original_sha256=hashlib.sha256(checked.data).hexdigest(),
        media_type=encoding.media_type,
        extension=encoding.extension,
        width=image.width,
        height=image.height,
        phash=perceptual_hash(image),
        thumbnails={size: thumbnail(image, size) for size in THUMBNAIL_SIZES.values()},
    )
