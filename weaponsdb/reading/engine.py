"""Tesseract in the process, through tesserocr: which language data there is, and a pool of
initialised engines (loading a language model takes longer than reading a marking, so each
engine is kept and reused, by one thread at a time)."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from weaponsdb.errors import ServiceUnavailableError

try:
    import tesserocr
except ImportError:  # the library, or the libtesseract it loads, is not installed
    tesserocr = None

# Where Debian's tesseract-ocr-* packages put the language data, newest first.
DEBIAN_TESSDATA = (
    Path("/usr/share/tesseract-ocr/5/tessdata"),
    Path("/usr/share/tesseract-ocr/4.00/tessdata"),
    Path("/usr/share/tessdata"),
)
# Every language pack the reader uses (see scripts.py), as Debian names them.
REQUIRED_LANGUAGES = ("eng", "kor", "rus", "ukr", "chi_sim", "chi_tra", "fas", "ara")


def default_tessdata() -> Path:
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        return Path(prefix)
    return next((path for path in DEBIAN_TESSDATA if path.is_dir()), DEBIAN_TESSDATA[0])


@dataclass(frozen=True)
class RawLine:
    """One text line as one Tesseract pass read it, in that pass's image coordinates."""

    text: str
    confidence: float  # 0-1, Tesseract's mean over the line's words
    box: tuple[int, int, int, int]  # left, top, right, bottom


class Engine:
    """The Tesseract engines over one tessdata directory."""

    def __init__(self, tessdata: Path | None = None) -> None:
        self.tessdata = tessdata or default_tessdata()
        self._lock = threading.Lock()
        self._idle: dict[str, list[tesserocr.PyTessBaseAPI]] = defaultdict(list)

    def languages(self) -> set[str]:
        if tesserocr is None or not self.tessdata.is_dir():
            return set()
        _, found = tesserocr.get_languages(f"{self.tessdata}/")
        return set(found)

    def missing(self) -> list[str]:
        """What the reader needs and cannot find, in words; empty when all is there."""
        if tesserocr is None:
            return ["the Tesseract library (Python package tesserocr)"]
        found = self.languages()
        return [
            f"Tesseract language data '{language}' in {self.tessdata}"
            for language in REQUIRED_LANGUAGES
            if language not in found
        ]

    def require(self) -> None:
        missing = self.missing()
        if missing:
            raise ServiceUnavailableError(
                "Reading photos is unavailable on this server: missing " + "; ".join(missing) + "."
            )

    def read(self, image: Image.Image, languages: str, psm: int) -> list[RawLine]:
        """Every text line Tesseract reads in *image* with *languages* (e.g. 'kor+eng') in
        page-segmentation mode *psm*."""
        with self._engine(languages) as api:
            api.SetPageSegMode(psm)
            api.SetImage(image)
            api.Recognize()
            return list(_lines(api))

    @contextmanager
    def _engine(self, languages: str) -> Iterator[tesserocr.PyTessBaseAPI]:
        with self._lock:
            idle = self._idle[languages]
            api = idle.pop() if idle else None
        if api is None:
            assert tesserocr is not None
            api = tesserocr.PyTessBaseAPI(
                path=f"{self.tessdata}/", lang=languages, oem=tesserocr.OEM.LSTM_ONLY
            )
            # The reader tries the inverted image itself, as a pass of its own.
            api.SetVariable("tessedit_do_invert", "0")
        try:
            yield api
        finally:
            api.Clear()
            with self._lock:
                self._idle[languages].append(api)


def _lines(api: tesserocr.PyTessBaseAPI) -> Iterator[RawLine]:
    """The lines read, each with the mean of its words' confidences weighted by their
    lengths (Tesseract's own line confidence is unreliable with its LSTM models)."""
    assert tesserocr is not None
    iterator = api.GetIterator()
    if iterator is None:
        return
    words: list[tuple[str, float]] = []
    box: tuple[int, int, int, int] | None = None
    for word in tesserocr.iterate_level(iterator, tesserocr.RIL.WORD):
        if word.IsAtBeginningOf(tesserocr.RIL.TEXTLINE) and words and box:
            yield _line(words, box)
            words = []
        if word.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
            box = word.BoundingBox(tesserocr.RIL.TEXTLINE)
        try:
            text = word.GetUTF8Text(tesserocr.RIL.WORD).strip()
        except RuntimeError:  # a word Tesseract found but read nothing in
            continue
        if text:
            words.append((text, word.Confidence(tesserocr.RIL.WORD) / 100))
    if words and box:
        yield _line(words, box)


def _line(words: list[tuple[str, float]], box: tuple[int, int, int, int]) -> RawLine:
    characters = sum(len(text) for text, _ in words)
    confidence = sum(len(text) * conf for text, conf in words) / characters
    return RawLine(" ".join(text for text, _ in words), max(0.0, min(1.0, confidence)), box)
