"""Turning a photo region into the images a careful reader would try: grey with the contrast
stretched, binarised globally and locally, dark text on light ground, the text scaled to the
height Tesseract reads best, turned upright and straightened. Each prepared image keeps the
affine map from the photo to it, so what is read in it is placed back on the photo."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

Grey = npt.NDArray[np.uint8]
Affine = npt.NDArray[np.float64]  # 2x3, photo coordinates to prepared image coordinates

# Tesseract's LSTM models are trained on text lines about this many pixels high.
TEXT_HEIGHT = 40
MIN_SCALE, MAX_SCALE = 0.2, 6.0
# Below this many pixels on its long side, text and skew are estimated on the region as is.
ESTIMATE_SIDE = 800
# Noise (standard deviation, in grey levels) beyond which edge-keeping denoising is worth
# its time: a camera's grain at base ISO stays below it.
NOISY = 6.0
SKEW_RANGE = 20  # degrees either way; markings beyond it are caught by the right angles


class Binarisation(StrEnum):
    GREY = "grey, contrast stretched"
    OTSU = "light evened, Otsu threshold"
    ADAPTIVE = "adaptive threshold"
    GROUND = "ground subtracted, contrast stretched"
    CLOSED = "ground subtracted, Otsu threshold, gaps in strokes closed"


@dataclass(frozen=True)
class Region:
    """A rectangle of the photo: left, top, width, height."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Geometry:
    """How to make the text of one region upright and the right size."""

    scale: float
    skew: float  # degrees, counter-clockwise, to straighten the lines
    invert: bool  # the text is lighter than its ground
    vertical: bool  # the lines run up or down the photo


@dataclass(frozen=True)
class Prepared:
    image: Image.Image
    to_image: Affine
    label: str

    def to_photo(self, box: tuple[int, int, int, int]) -> Region:
        """A box (left, top, right, bottom) in this image as a region of the photo."""
        left, top, right, bottom = box
        inverse = cv2.invertAffineTransform(self.to_image)
        corners = np.array([[left, top, 1], [right, top, 1], [left, bottom, 1], [right, bottom, 1]])
        points = corners @ inverse.T
        x0, y0 = np.floor(points.min(axis=0)).astype(int)
        x1, y1 = np.ceil(points.max(axis=0)).astype(int)
        return Region(int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def grey_region(photo: Image.Image, region: Region) -> Grey:
    """The region's pixels in the one grey channel where paint and ground differ most: red
    lettering on green paint is as light as its ground in luminance, not in red."""
    crop = photo.crop((region.x, region.y, region.x + region.width, region.y + region.height))
    colour = np.asarray(crop.convert("RGB"), dtype=np.uint8)
    channels = [np.asarray(crop.convert("L"), dtype=np.uint8)]
    channels += [np.ascontiguousarray(colour[:, :, c]) for c in range(3)]
    return max(channels, key=_separability)


def _separability(grey: Grey) -> float:
    """Otsu's criterion: the share of the variance that splitting into two tones explains."""
    small = grey[:: max(1, grey.shape[0] // 200), :: max(1, grey.shape[1] // 200)]
    threshold, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    dark, light = small[small <= threshold], small[small > threshold]
    total = float(small.var())
    if not dark.size or not light.size or total == 0:
        return 0.0
    between = (
        dark.size * light.size / small.size**2 * (float(dark.mean()) - float(light.mean())) ** 2
    )
    return between / total


def noise_level(grey: Grey) -> float:
    """The standard deviation of the image's noise (Immerkaer's estimate: the mean absolute
    response to a kernel that cancels smooth shading and straight edges)."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)
    response = cv2.filter2D(grey.astype(np.float64), -1, kernel)[1:-1, 1:-1]
    if not response.size:
        return 0.0
    return float(np.sqrt(np.pi / 2) * np.abs(response).mean() / 6)


def denoised(grey: Grey) -> Grey:
    """Grain and sensor noise smoothed away, as far as they are finer than strokes: a
    little blur always, non-local means when the noise is strong (it keeps edges)."""
    sigma = noise_level(grey)
    if sigma > NOISY:
        grey = np.asarray(cv2.fastNlMeansDenoising(grey, None, h=1.5 * sigma), dtype=np.uint8)
    return np.asarray(cv2.GaussianBlur(grey, (0, 0), TEXT_HEIGHT / 30), dtype=np.uint8)


def evened(grey: Grey) -> Grey:
    """Light falling unevenly across the item divided out: each pixel against the mean
    tone of its surroundings, several letters wide, so that strokes keep their contrast and
    the sunlit and shaded sides of a casing come out the same tone."""
    surroundings = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 2 * TEXT_HEIGHT)
    flat = grey.astype(np.float32) / np.maximum(surroundings, 1.0) * float(surroundings.mean())
    return np.asarray(np.clip(flat, 0, 255), dtype=np.uint8)


def stretched(grey: Grey) -> Grey:
    """Denoised and contrast stretched between the 1st and 99th percentiles, so faint paint
    reads as well as fresh."""
    smooth = denoised(grey)
    low, high = np.percentile(smooth, (1, 99))
    spread = max(1.0, float(high - low))
    return np.asarray(np.clip((smooth - low) * (255 / spread), 0, 255), dtype=np.uint8)


def ground_subtracted(grey: Grey, light_ink: bool) -> Grey:
    """The ink's difference from the ground around it, in the ink's own polarity: the
    ground is the image with the strokes taken away by a grey-level closing (of dark ink)
    or opening (of light ink) wider than any stroke, then smoothed. Light falling unevenly
    and faint paint on a dark or bright part of the item come out alike (the top-hat
    transform)."""
    side = TEXT_HEIGHT | 1  # odd; wider than a stroke of text TEXT_HEIGHT high
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    ground = cv2.morphologyEx(grey, cv2.MORPH_OPEN if light_ink else cv2.MORPH_CLOSE, kernel)
    ground = cv2.GaussianBlur(ground, (0, 0), TEXT_HEIGHT / 4)
    ink = cv2.subtract(grey, ground) if light_ink else cv2.subtract(ground, grey)
    low, high = np.percentile(ink, (1, 99.5))
    spread = max(1.0, float(high - low))
    contrast = np.clip((ink.astype(np.float32) - low) * (255 / spread), 0, 255)
    return np.asarray(contrast if light_ink else 255 - contrast, dtype=np.uint8)


def relief(grey: Grey) -> Grey:
    """Struck, stamped or embossed letters as ink: no paint, only the light falling on one
    edge of each stroke and the shadow on the other, which a threshold of either polarity
    cuts in halves. Every pixel's difference from the ground (the median of a neighbourhood
    wider than a stroke), lighter or darker alike, with the two halves of each stroke joined
    by a closing as wide as the gap between them; light on dark ground."""
    ground = cv2.medianBlur(grey, TEXT_HEIGHT | 1)
    deviation = cv2.absdiff(grey, ground)
    side = max(3, TEXT_HEIGHT // 8) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    joined = cv2.morphologyEx(deviation, cv2.MORPH_CLOSE, kernel)
    low, high = np.percentile(joined, (1, 99.5))
    spread = max(1.0, float(high - low))
    return np.asarray(np.clip((joined - low) * (255 / spread), 0, 255), dtype=np.uint8)


def closed_gaps(binary: Grey, light_ink: bool) -> Grey:
    """The ink's narrow gaps closed: a stencil's bridges and the breaks of worn paint cut
    letters into pieces Tesseract reads as separate signs."""
    side = max(3, TEXT_HEIGHT // 10) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    ink = cv2.morphologyEx(binary if light_ink else 255 - binary, cv2.MORPH_CLOSE, kernel)
    return np.asarray(ink if light_ink else 255 - ink, dtype=np.uint8)


def binarised(
    smooth: Grey, how: Binarisation, light_ink: bool = False, text_height: int = TEXT_HEIGHT
) -> Grey:
    """*smooth* (a view stretched()) prepared the way *how* says, in its own polarity
    (*light_ink*: the text is lighter than the ground)."""
    if how is Binarisation.GREY:
        return smooth
    if how in (Binarisation.GROUND, Binarisation.CLOSED):
        flat = ground_subtracted(smooth, light_ink)
        if how is Binarisation.GROUND:
            return flat
        _, binary = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return closed_gaps(np.asarray(binary, dtype=np.uint8), light_ink)
    if how is Binarisation.OTSU:
        _, binary = cv2.threshold(evened(smooth), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return np.asarray(binary, dtype=np.uint8)
    block = max(3, (2 * text_height) | 1)  # odd, about two letters wide
    return np.asarray(
        cv2.adaptiveThreshold(
            smooth, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 15
        ),
        dtype=np.uint8,
    )


def estimate(grey: Grey) -> Geometry:
    """Text height, skew, polarity and direction of the lines in *grey*, from its binarised
    letters: the height is the median height of letter-sized blobs, the skew and direction
    those at which the rows of ink are most unequal (lines and the gaps between them)."""
    shrink = min(1.0, ESTIMATE_SIDE / max(grey.shape))
    small = cv2.resize(grey, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    smooth = np.asarray(cv2.medianBlur(small, 5), dtype=np.uint8)
    otsu = cv2.THRESH_BINARY + cv2.THRESH_OTSU
    _, binary = cv2.threshold(smooth, 0, 255, otsu)
    _, evened_binary = cv2.threshold(_light_evened(smooth), 0, 255, otsu)
    smaller = bool(np.count_nonzero(binary) < binary.size / 2)  # ink is the smaller part
    # The ink: the tones as they are or against their own surroundings (where light falls
    # unevenly, one threshold over the raw tones splits lit metal from shaded), light or
    # dark, whichever has the most letter-like blobs; in a tie, the smaller part as is.
    ink, invert = max(
        (
            (np.asarray(b if light else 255 - b, dtype=np.uint8), light)
            for b in (binary, evened_binary)
            for light in (smaller, not smaller)
        ),
        key=lambda candidate: _letter_count(candidate[0]),
    )
    angle, vertical = _direction(ink)
    # The letters' height from their relief (lighter or darker than the ground alike): a
    # threshold of the tones cuts struck letters into their light edges and shadows, and
    # worn or stencilled ones into pieces, each a blob shorter than the letter.
    _, raised = cv2.threshold(relief(smooth), 0, 255, otsu)
    height = _letter_height(np.asarray(raised, dtype=np.uint8), vertical)
    height = (height or _letter_height(ink, vertical)) / shrink
    scale = float(np.clip(TEXT_HEIGHT / height, MIN_SCALE, MAX_SCALE)) if height else 1.0
    return Geometry(scale, angle, invert, vertical)


def _light_evened(grey: Grey) -> Grey:
    """Each pixel against the mean tone of a wide neighbourhood (a quarter of the image's
    smaller side, wider than the letters): where light falls unevenly, one threshold over
    the raw tones splits the lit part of the item from the shaded one, not ink from ground."""
    sigma = max(3.0, min(grey.shape) / 4)
    values = grey.astype(np.float32)
    difference = values - cv2.GaussianBlur(values, (0, 0), sigma)
    low, high = float(difference.min()), float(difference.max())
    spread = max(1e-6, high - low)
    return np.asarray((difference - low) * (255 / spread), dtype=np.uint8)


def _letter_count(ink: Grey) -> int:
    """How many blobs of ink are shaped like letters, whichever way the lines run."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    longer, shorter = np.maximum(widths, heights), np.minimum(widths, heights)
    letters = (longer >= 6) & (longer < max(ink.shape) / 2) & (longer < 4 * shorter)
    return int(np.count_nonzero(letters))


def _letter_height(ink: Grey, vertical: bool) -> float:
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    if vertical:
        widths, heights = heights, widths
    side = max(ink.shape)
    areas = stats[1:, cv2.CC_STAT_AREA]
    # Letters: neither specks nor the whole region, nor long rules and scratches.
    letters = (heights >= 6) & (heights < side / 2) & (widths < 4 * heights)
    if count <= 1 or not letters.any():
        return 0.0
    # The median by ink, so that the many specks of a noisy photo do not outvote letters.
    order = np.argsort(heights[letters])
    ink = np.cumsum(areas[letters][order])
    return float(heights[letters][order][np.searchsorted(ink, ink[-1] / 2)])


def _direction(ink: Grey) -> tuple[float, bool]:
    """The skew in degrees, and whether the lines run vertically."""
    best = (-1.0, 0.0, False)
    for vertical in (False, True):
        turned = np.ascontiguousarray(np.rot90(ink)) if vertical else ink
        for angle in np.arange(-SKEW_RANGE, SKEW_RANGE + 1, 2.0):
            score = _row_contrast(turned, float(angle))
            if score > best[0]:
                best = (score, float(angle), vertical)
    _, coarse, vertical = best
    turned = np.ascontiguousarray(np.rot90(ink)) if vertical else ink
    fine = max(
        np.arange(coarse - 1.5, coarse + 1.6, 0.5),
        key=lambda a: _row_contrast(turned, float(a)),
    )
    return float(fine), vertical


def _row_contrast(ink: Grey, angle: float) -> float:
    height, width = ink.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    rotated = cv2.warpAffine(ink, matrix, (width, height), flags=cv2.INTER_NEAREST)
    rows = rotated.sum(axis=1, dtype=np.float64)
    return float(np.var(rows))


# The largest view kept for the passes after the first: a reading holds a few ways at once,
# and a view of a whole photo scaled up (small text found on it) can be hundreds of
# megapixels, made again for each pass rather than kept.
KEPT_VIEW_PIXELS = 8_000_000


class Views:
    """One region's grey pixels as every pass of a reading sees them: scaled, straightened,
    turned by quarter turns, smoothed and stretched once for each way (geometry and turns),
    then binarised and inverted as each pass asks. Passes that differ only in language,
    binarisation or polarity share one view: smoothing a noisy photo is most of what a pass
    costs (non-local means, about 0.3 s on a megapixel), and a reading makes some 75 passes
    in a few ways."""

    def __init__(self, crop: Grey, region: Region) -> None:
        self.crop = crop
        self.region = region
        self._smooth: dict[tuple[Geometry, int], tuple[Affine, Grey]] = {}

    def prepare(
        self, geometry: Geometry, quarter_turns: int, how: Binarisation, invert: bool
    ) -> Prepared:
        """The region scaled, straightened, turned by *quarter_turns* x 90 degrees
        counter-clockwise, binarised, and inverted if asked (to make light text dark on
        light ground, as Tesseract reads best)."""
        matrix, smooth = self._smoothed(geometry, quarter_turns)
        image = binarised(smooth, how, light_ink=invert)
        if invert:
            image = 255 - image
        turns = f", turned {quarter_turns * 90}°" if quarter_turns else ""
        label = f"{how.value}{', inverted' if invert else ''}{turns}"
        return Prepared(Image.fromarray(image), matrix, label)

    def _smoothed(self, geometry: Geometry, quarter_turns: int) -> tuple[Affine, Grey]:
        way = (geometry, quarter_turns)
        if way in self._smooth:
            return self._smooth[way]
        matrix, size = _affine(self.region, geometry, quarter_turns)
        warped = cv2.warpAffine(
            self.crop,
            _from_crop(matrix, self.region),
            size,
            flags=cv2.INTER_CUBIC if geometry.scale > 1 else cv2.INTER_AREA,
            borderMode=cv2.BORDER_REPLICATE,
        )
        view = (matrix, stretched(np.asarray(warped, dtype=np.uint8)))
        if size[0] * size[1] <= KEPT_VIEW_PIXELS:
            self._smooth[way] = view
        return view


def _affine(
    region: Region, geometry: Geometry, quarter_turns: int
) -> tuple[Affine, tuple[int, int]]:
    """Photo coordinates to prepared image coordinates (into the region, scaled, rotated by
    the skew and the quarter turns about its centre, moved to start at the origin), and the
    size of the prepared image."""
    centre = (region.x + region.width / 2, region.y + region.height / 2)
    turn = geometry.skew + 90 * (quarter_turns + (1 if geometry.vertical else 0))
    matrix = cv2.getRotationMatrix2D(centre, turn, geometry.scale)
    right, bottom = region.x + region.width, region.y + region.height
    corners = np.array(
        [[region.x, region.y, 1], [right, region.y, 1], [region.x, bottom, 1], [right, bottom, 1]]
    )
    placed = corners @ matrix.T
    matrix[:, 2] -= placed.min(axis=0)
    width, height = np.ceil(placed.max(axis=0) - placed.min(axis=0)).astype(int)
    return np.asarray(matrix, dtype=np.float64), (int(width), int(height))


def _from_crop(matrix: Affine, region: Region) -> Affine:
    """*matrix* applied to the cropped region's pixels rather than the photo's."""
    shifted = matrix.copy()
    shifted[:, 2] += matrix[:, :2] @ np.array([region.x, region.y], dtype=np.float64)
    return shifted
