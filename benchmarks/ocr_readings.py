"""Synthetic markings read by Tesseract: what OCR really makes of designations per script.

Designation-like strings (benchmarks/rendering.py, synthetic) are rendered as stencil, stamp
or paint on metal with a seeded degradation and read by the `tesseract` command line (one
line, the script's language). The readings are cached under benchmarks/results/ocr/ (git-
ignored), keyed by seed and count, so a second run reuses them; deleting the directory
regenerates them. Used to learn the OCR confusions (learn_confusions.py, one seed) and as
queries of the matcher benchmark (match.py, another seed): never evaluated on what was learned.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from benchmarks.rendering import DEGRADATIONS, SCRIPTS, STYLES, render_marking
from benchmarks.rendering import synthetic_designation as designation

CACHE = Path(__file__).parent / "results" / "ocr"
LANGUAGES = {"Latn": "eng", "Cyrl": "rus", "Hang": "kor", "Hani": "chi_sim", "Arab": "fas"}
# Tesseract reads one line; a marking turned a quarter is the reader's job (issue 13), not
# a reading to learn confusions from.
SPOILS = [name for name in DEGRADATIONS if name != "rotated 90"]


@dataclass(frozen=True)
class OcrReading:
    truth: str
    read: str
    script: str
    style: str
    degradation: str

    @property
    def cer(self) -> float:
        """Character error rate of the reading, spacing aside."""
        truth, read = self.truth.replace(" ", ""), self.read.replace(" ", "")
        return Levenshtein.distance(read, truth) / max(len(truth), 1)


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def read_with_tesseract(png: bytes, language: str) -> str:
    """What Tesseract reads on the one line of the image; nothing if it gives up (it dies of
    a floating-point error on a few tiny images)."""
    with tempfile.NamedTemporaryFile(suffix=".png") as image:
        image.write(png)
        image.flush()
        done = subprocess.run(
            ["tesseract", image.name, "stdout", "-l", language, "--psm", "7"],
            capture_output=True,
            text=True,
            check=False,
            env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
        )
    return " ".join(done.stdout.split()) if done.returncode == 0 else ""


def ocr_readings(seed: int, per_script: int) -> list[OcrReading]:
    """*per_script* synthetic markings of each script, rendered and read (cached)."""
    cache = CACHE / f"seed{seed}-n{per_script}.json"
    if cache.exists():
        return [OcrReading(**row) for row in json.loads(cache.read_text("utf-8"))]
    if not tesseract_available():
        raise SystemExit("tesseract is not installed: apt-get install tesseract-ocr")
    rng = random.Random(seed)
    found: list[OcrReading] = []
    for script in SCRIPTS:
        for _ in range(per_script):
            truth = designation(script, rng)
            style, spoil = rng.choice(STYLES), rng.choice(SPOILS)
            photo = render_marking(truth, script, rng, style=style, degradation=spoil)
            read = read_with_tesseract(photo.png(), LANGUAGES[script])
            found.append(OcrReading(truth, read, script, style, spoil))
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([asdict(r) for r in found], ensure_ascii=False), "utf-8")
    return found
