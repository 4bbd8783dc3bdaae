"""Where on a photo the text is, when the user has not drawn a box: letters are dense, short
strokes of strong contrast in every direction, unlike the broad shading and long scratches of
the metal around them. The photo is looked at small; the strokes' edges are closed into
blobs the size of words and lines; blobs shaped and filled like text are the regions."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from weaponsdb.reading.preparing import Region

# The photo is searched at this long side: letters a person could read on the whole photo
# keep a few pixels of height, and the search takes milliseconds.
SEARCH_SIDE = 1200
# Photos this small are one region: a close-up of the marking.
CLOSE_UP_PIXELS = 1_500_000
MAX_REGIONS = 3
PADDING = 0.25  # of the region's smaller side, on every side


def text_regions(photo: Image.Image) -> list[Region]:
    """The regions likeliest to hold text, most ink-like first: the whole photo when it is a
    close-up, none when nothing on a larger photo stands out."""
    whole = Region(0, 0, photo.width, photo.height)
    if photo.width * photo.height <= CLOSE_UP_PIXELS:
        return [whole]
    shrink = SEARCH_SIDE / max(photo.size)
    small = photo.convert("L").resize(
        (max(1, round(photo.width * shrink)), max(1, round(photo.height * shrink))),
        Image.Resampling.BOX,
    )
    grey = np.asarray(small, dtype=np.uint8)
    return [
        _grown(_scaled(region, 1 / shrink), whole) for region in _candidates(grey)[:MAX_REGIONS]
    ]


def _candidates(grey: np.ndarray) -> list[Region]:
    edges = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    _, strong = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Close the gaps between letters (about a letter's width at readable sizes).
    gap = max(3, max(grey.shape) // 80)
    blobs = cv2.morphologyEx(strong, cv2.MORPH_CLOSE, np.ones((gap, gap), np.uint8))
    blobs = cv2.morphologyEx(blobs, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
    scored = []
    for x, y, w, h, area in stats[1:count]:
        long, short = max(w, h), min(w, h)
        if short < 6 or long > 0.9 * max(grey.shape) or area < 0.4 * w * h:
            continue  # specks, the whole picture's edge, or scratches and outlines
        density = float(np.count_nonzero(strong[y : y + h, x : x + w])) / (w * h)
        scored.append((density * min(long / short, 8.0) * area, Region(x, y, w, h)))
    return [region for _, region in sorted(scored, key=lambda s: -s[0])]


def _scaled(region: Region, factor: float) -> Region:
    return Region(
        round(region.x * factor),
        round(region.y * factor),
        round(region.width * factor),
        round(region.height * factor),
    )


def _grown(region: Region, within: Region) -> Region:
    pad = round(min(region.width, region.height) * PADDING)
    x, y = max(within.x, region.x - pad), max(within.y, region.y - pad)
    right = min(within.width, region.x + region.width + pad)
    bottom = min(within.height, region.y + region.height + pad)
    return Region(x, y, right - x, bottom - y)
