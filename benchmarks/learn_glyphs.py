"""Measure how alike ideographs look, from their glyphs, for the matcher's error model.

    python -m benchmarks.learn_glyphs

OCR reads an ideograph as another one far more often than any one pair recurs in what the
project can measure (learned.json's other_ideograph), but the one it reads is mostly one of
a similar shape: 内 for 丙, 未 for 末, 已 for 己. Each ideograph of GB 2312 (the 6,763 of
the Simplified Chinese standard that Tesseract's chi_sim model reads) is drawn in the four
Noto CJK faces of Debian's fonts-noto-cjk (sans and serif, regular and bold: a marking is
cut in whatever face its maker had), centred on its em square, the four averaged, reduced
to SIZE x SIZE cells by area and blurred by one cell, so that a stroke drawn a little
elsewhere still overlaps. Two ideographs' likeness is the correlation of those pictures
(error_model.glyph_likeness). Writes weaponsdb/matching/glyphs.npz: the code points and
their pictures (LEVELS shades a cell). How likeness turns into a cost is learned from OCR
readings by learn_confusions.py. The same fonts give the same table.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from weaponsdb.matching.error_model import GLYPH_SIZE, GLYPHS_FILE

FACES = Path("/usr/share/fonts/opentype/noto")
FACE_FILES = (
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJK-Bold.ttc",
    "NotoSerifCJK-Regular.ttc",
    "NotoSerifCJK-Bold.ttc",
)
SIMPLIFIED_CHINESE = 2  # the face inside each collection (0 Japanese, 1 Korean)
DRAWN = 64  # pixels of the em square as drawn, before it is reduced to GLYPH_SIZE cells
# Shades of ink a cell is stored in: 31 keep every likeness within 0.02 of what the full
# pictures give, and the table at under a megabyte (255 would be 1.6).
LEVELS = 31


def gb2312_ideographs() -> list[str]:
    """The ideographs of GB 2312, levels 1 and 2 (rows 16-87), in the standard's order."""
    found = []
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                found.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:  # the few unassigned places at the end of row 55
                continue
    return found


def faces() -> list[ImageFont.FreeTypeFont]:
    missing = [name for name in FACE_FILES if not (FACES / name).exists()]
    if missing:
        raise SystemExit(f"no {', '.join(missing)} in {FACES}: apt-get install fonts-noto-cjk")
    return [ImageFont.truetype(str(FACES / n), DRAWN, index=SIMPLIFIED_CHINESE) for n in FACE_FILES]


def picture(ch: str, drawn_in: Sequence[ImageFont.FreeTypeFont]) -> np.ndarray:
    """The ideograph's ink, averaged over the faces, in GLYPH_SIZE x GLYPH_SIZE cells (0-1)."""
    cells = np.zeros((GLYPH_SIZE, GLYPH_SIZE))
    for font in drawn_in:
        canvas = Image.new("L", (DRAWN, DRAWN), 0)
        # Centred on the em square, not on its ink: where the strokes sit is part of the
        # shape (土 and 士 differ by which bar is the longer).
        ImageDraw.Draw(canvas).text((DRAWN / 2, DRAWN / 2), ch, font=font, fill=255, anchor="mm")
        reduced = canvas.resize((GLYPH_SIZE, GLYPH_SIZE), Image.Resampling.BOX)
        cells += np.asarray(reduced, dtype=np.float64) / 255
    return blurred(cells / len(drawn_in))


def blurred(cells: np.ndarray) -> np.ndarray:
    """A [1 2 1] x [1 2 1] blur: a stroke one cell off still shares most of its ink."""
    padded = np.pad(cells, 1)
    out = np.zeros_like(cells)
    size = cells.shape[0]
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            weight = (2 - abs(dy)) * (2 - abs(dx))
            out += weight * padded[1 + dy : 1 + dy + size, 1 + dx : 1 + dx + size]
    return out / 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    characters = gb2312_ideographs()
    drawn_in = faces()
    pictures = np.stack([picture(ch, drawn_in) for ch in characters])
    scaled = np.round(pictures / pictures.max() * LEVELS).astype(np.uint8)
    np.savez_compressed(
        GLYPHS_FILE,
        characters=np.array([ord(ch) for ch in characters], dtype=np.uint32),
        pictures=scaled.reshape(len(characters), -1),
    )
    print(f"{len(characters)} ideographs drawn in {len(drawn_in)} faces: {GLYPHS_FILE}")
    print(json.dumps({"benchmark": "learn_glyphs", "ideographs": len(characters)}))


if __name__ == "__main__":
    main()
