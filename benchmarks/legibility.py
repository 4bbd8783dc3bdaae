"""Whether a person could read a synthetic marking photo, from what the renderer knows: the
final photo, where the marking's ink is on it, and the letters' height.

The reading target counts photos "where a person could read the marking". A measure from the
image alone cannot tell the marking from the metal (a previous one called uneven light
illegible); the renderer knows which pixels are ink, so two things are measured:

- the contrast of the ink against its *local* ground (so that light falling unevenly is no
  loss) over the photo's pixel noise (grain, sensor noise, compression), both as an eye
  pooling light over a stroke's width sees them: a contrast-to-noise ratio;
- the letters' height in pixels.

Neither threshold is fitted to the reader's results; where each comes from is said beside
it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks.rendering import MarkingPhoto

Floats = npt.NDArray[np.float32]

# Rose's criterion: a feature is seen reliably when its signal is about five times the
# noise's standard deviation over the feature's area (A. Rose, "The sensitivity performance
# of the human eye on an absolute scale", J. Opt. Soc. Am. 38, 196-208, 1948; A. E. Burgess,
# "The Rose model, revisited", J. Opt. Soc. Am. A 16, 633-646, 1999). Here the feature is a
# stroke-sized patch of the letter, the detail letters are told apart by.
ROSE_K = 5.0
# The eye pools light over about a stroke's width when it tells strokes apart (letters
# are identified through a band of about three cycles per letter, a stroke and the gap
# beside it a cycle: J. A. Solomon and D. G. Pelli, "The visual filter mediating letter
# identification", Nature 369, 395-397, 1994; the band follows the strokes' own frequency,
# N. J. Majaj et al., Vision Research 42, 1165-1184, 2002): the photo is seen through a
# Gaussian as wide at half its height (2.35 sigma) as the marking's strokes, measured on
# the ink mask.
FWHM = 2.35
# The ground a stroke is seen against is that within half a letter height of it (the
# letter's own counters and the spaces beside it): a choice, not a measured human figure,
# made so that light falling unevenly over the item, which changes on the item's scale,
# takes nothing from the contrast.
SURROUND = 0.5
# The fewest pixels a letter's height can have and be read: alphabetic letters and digits
# are legible in a 5 by 7 dot matrix (the 7-pixel fonts of terminals and displays), while
# CJK bitmap faces are drawn no smaller than 12 by 12 pixels (the 12-dot Song faces of GB
# 2312 and the 12-pixel Gulim of Korean Windows), the smallest grid their strokes stay
# apart in.
MIN_HEIGHT = {"Hang": 12, "Hani": 12}
MIN_HEIGHT_ALPHABETIC = 7
# Ink pixels are those the marking covers at least half; ground those it does not touch
# once the stroke-scale pooling and the photo's blur have spread it (in letter heights).
INK_COVERAGE = 128
GUARD = 0.3


@dataclass(frozen=True)
class Legibility:
    contrast_to_noise: float
    text_height: int
    legible: bool


def legibility(photo: MarkingPhoto) -> Legibility:
    """How well the marking stands out from its ground for an eye, and whether that and its
    letters' height are enough for a person to read it."""
    if photo.ink is None or photo.surface is None:
        raise ValueError("the photo carries no ground truth: render it with render_marking")
    height = photo.text_height
    cnr = contrast_to_noise(photo, height)
    tall_enough = height >= MIN_HEIGHT.get(photo.script, MIN_HEIGHT_ALPHABETIC)
    return Legibility(round(cnr, 2), height, cnr >= ROSE_K and tall_enough)


def contrast_to_noise(photo: MarkingPhoto, height: int) -> float:
    """The root mean square colour difference (CIE L*a*b*, so that red on green counts as
    a person sees it) between the ink and its local ground, seen through a stroke-wide
    pool, over the photo's pixel noise (grain, sensor noise, compression) left in that
    pool. The metal's mottle, scratches and shading are structure a reader sees past, not
    noise over every stroke."""
    assert photo.ink is not None
    assert photo.surface is not None
    rgb = np.asarray(photo.image.convert("RGB"), dtype=np.float32) / 255.0
    lab = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab), dtype=np.float32)
    coverage = np.asarray(photo.ink)
    surface = np.asarray(photo.surface) >= 255
    ink = (coverage >= INK_COVERAGE) & surface
    sigma = max(0.5, stroke_width(ink) / FWHM)
    seen = np.asarray(cv2.GaussianBlur(lab, (0, 0), sigma), dtype=np.float32)
    ground = surface & ~_dilated(coverage > 0, round(GUARD * height))
    ring = ground & _dilated(coverage > 0, round((GUARD + SURROUND) * height))
    if not ink.any() or not ring.any():
        return 0.0
    level = _local_mean(seen, ground, SURROUND * height / 2)
    signal = _rms(seen[ink] - level[ink])
    # White noise averaged by a Gaussian pool of this sigma keeps 1 / (2 sqrt(pi) sigma)
    # of its standard deviation.
    noise = pixel_noise(lab, ring) / (2 * np.sqrt(np.pi) * sigma)
    return float(signal / noise) if noise > 0 else float("inf")


def pixel_noise(lab: Floats, where: npt.NDArray[np.bool_]) -> float:
    """The standard deviation of the pixel noise over *where*, the channels' together
    (Immerkaer's estimate, J. Immerkaer, "Fast noise variance estimation", Computer Vision
    and Image Understanding 64, 300-302, 1996: a kernel that cancels smooth shading and
    straight edges, so that only the noise answers)."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    inner = cv2.erode(where.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if not inner.any():
        return 0.0
    response = cv2.filter2D(lab, -1, kernel)[inner]
    per_channel = np.sqrt(np.pi / 2) * np.abs(response).mean(axis=0) / 6
    return float(np.sqrt(np.sum(per_channel.astype(np.float64) ** 2)))


def stroke_width(ink: npt.NDArray[np.bool_]) -> float:
    """The strokes' mean width in pixels: over a stroke w wide, the distance to its edge
    averages w / 4."""
    if not ink.any():
        return 0.0
    distance = cv2.distanceTransform(np.pad(ink, 1).astype(np.uint8), cv2.DIST_L2, 5)
    return 4.0 * float(distance[distance > 0].mean())


def _dilated(mask: npt.NDArray[np.bool_], radius: int) -> npt.NDArray[np.bool_]:
    if radius <= 0:
        return mask
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), disc).astype(bool)


def _local_mean(image: Floats, where: npt.NDArray[np.bool_], sigma: float) -> Floats:
    """Each pixel's Gaussian-weighted mean of *image* over the pixels *where* is true
    (normalised convolution): the ground's level under the ink, from the ground around."""
    weight = where.astype(np.float32)
    total = cv2.GaussianBlur(image * weight[:, :, None], (0, 0), sigma)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)[:, :, None]
    return np.asarray(total / np.maximum(norm, 1e-6), dtype=np.float32)


def _rms(differences: Floats) -> float:
    return float(np.sqrt(np.mean(np.sum(differences.astype(np.float64) ** 2, axis=-1))))
