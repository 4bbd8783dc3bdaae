"""Real images for the photo tests, drawn with Pillow: synthetic scenes, never real photos."""

from __future__ import annotations

import io
import random
import struct
import zlib
from typing import Any

from PIL import Image, ImageDraw

ORIENTATION = 0x0112
MAKE, MODEL, DATETIME_ORIGINAL = 0x010F, 0x0110, 0x9003
GPS_IFD = 0x8825


def scene(seed: int, size: tuple[int, int] = (800, 600), mode: str = "RGB") -> Image.Image:
    """A synthetic picture: blocks, discs and bars placed by *seed*, so that every seed
    gives a picture whose perceptual hash is far from the others'."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(width // 8, width // 2), rng.randrange(height // 8, height // 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice([draw.rectangle, draw.ellipse])
        shape((x - w // 2, y - h // 2, x + w // 2, y + h // 2), fill=colour)
    return image.convert(mode) if mode != "RGB" else image


def encode(image: Image.Image, format_name: str = "JPEG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format_name, **options)
    return buffer.getvalue()


def jpeg(seed: int = 1, size: tuple[int, int] = (800, 600), **options: Any) -> bytes:
    return encode(scene(seed, size), "JPEG", **options)


def camera_exif(orientation: int = 6) -> Image.Exif:
    """What a phone writes: maker, model, time, and where the photo was taken."""
    exif = Image.Exif()
    exif[MAKE] = "ExampleCam"
    exif[MODEL] = "Secret Model 9"
    exif[ORIENTATION] = orientation
    exif.get_ifd(0x8769)[DATETIME_ORIGINAL] = "2024:02:24 10:11:12"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (50.0, 27.0, 1.5)
    gps[3], gps[4] = "E", (30.0, 31.0, 2.5)
    return exif


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims *width* x *height* pixels (10 gigapixels by default) with a
    few bytes of data: decoding it would exhaust memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    rows = zlib.compress(b"\x00" * 1024)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def resized_recompressed_cropped(data: bytes) -> bytes:
    """What a reference photo looks like after it went round the internet: cropped by 2 % on
    each side, scaled down to 60 %, saved again as a lower-quality JPEG."""
    with Image.open(io.BytesIO(data)) as original:
        image = original.convert("RGB")
    width, height = image.size
    dx, dy = int(width * 0.02), int(height * 0.02)
    image = image.crop((dx, dy, width - dx, height - dy))
    smaller = (int(image.width * 0.6), int(image.height * 0.6))
    image = image.resize(smaller, Image.Resampling.BICUBIC)
    return encode(image, "JPEG", quality=60)
