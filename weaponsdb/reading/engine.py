"""Tesseract in the process, through tesserocr: which language data there is, and a pool of
initialised engines (loading a language model takes longer than reading a marking, so each
engine is kept and reused, by one thread at a time)."""

from __future__ import annotations

import functools
import os
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from weaponsdb.errors import DependencyUnavailableError

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


# Words read with less confidence are dropped from their line (unless all are).
MIN_WORD_CONFIDENCE = 0.5
# Characters read with less confidence are unsure: the matcher is offered the line with
# them as '?' too (it matches any character), so a worn letter read wrong still matches.
SURE_CHARACTER = 0.5
# A character is unsure too when another character (not merely its other case) scored
# within this much of it among the LSTM's choices for that place: its confidence is 85-99 %
# even for characters it read wrong, but then a rival is close, while a character read
# clearly has rivals near 0. (Chosen on synthetic markings, seed 7 of benchmarks.read.)
CLOSE_RIVAL = 0.2
# Words of right-to-left lines this long or longer are as sure as their least sure
# character (see _word_confidence).
MIN_RTL_WORD = 3


@dataclass(frozen=True)
class RawLine:
    """One text line as one Tesseract pass read it, in that pass's image coordinates."""

    text: str
    confidence: float  # 0-1, Tesseract's mean over the line's words
    box: tuple[int, int, int, int]  # left, top, right, bottom
    unsure: str = ""  # the text with the characters read with little confidence as '?'


class Tesseract:
    """The Tesseract engines over one tessdata directory."""

    def __init__(self, tessdata: Path | None = None) -> None:
        self.tessdata = tessdata or default_tessdata()
        self._lock = threading.Lock()
        self._idle: dict[str, list[tesserocr.PyTessBaseAPI]] = defaultdict(list)

    @classmethod
    def shared(cls, tessdata: Path | None = None) -> Tesseract:
        """The process's engines over *tessdata* (default: where Debian puts it): every
        application and command in a process reads with the same loaded models."""
        return _shared(tessdata or default_tessdata())

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
            raise DependencyUnavailableError(
                "reader",
                "Reading photos is unavailable on this server: missing " + "; ".join(missing) + ".",
                retry_after_seconds=3600,  # until someone installs it
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
            # Each character's rivals, for telling a clear character from a close call.
            api.SetVariable("lstm_choice_mode", "2")
        try:
            yield api
        finally:
            api.Clear()
            with self._lock:
                self._idle[languages].append(api)


def _lines(api: tesserocr.PyTessBaseAPI) -> Iterator[RawLine]:
    """The lines read, each with the mean of its words' confidences."""
    assert tesserocr is not None
    ril = tesserocr.RIL
    iterator = api.GetIterator()
    if iterator is None:
        return
    words: list[tuple[str, str]] = []  # as read, and with unsure characters as '?'
    confidences: list[list[float]] = []
    box: tuple[int, int, int, int] | None = None
    for symbol in tesserocr.iterate_level(iterator, ril.SYMBOL):
        if symbol.IsAtBeginningOf(ril.TEXTLINE):
            if words and box:
                yield _line(words, confidences, box)
            words, confidences = [], []
            box = symbol.BoundingBox(ril.TEXTLINE)
        try:
            character = symbol.GetUTF8Text(ril.SYMBOL)
        except RuntimeError:  # a symbol Tesseract found but read nothing in
            continue
        if symbol.IsAtBeginningOf(ril.WORD) or not words:
            words.append(("", ""))
            confidences.append([symbol.Confidence(ril.WORD) / 100])
        sure = symbol.Confidence(ril.SYMBOL) / 100
        clear = sure >= SURE_CHARACTER and not _close_call(character, _choices(symbol))
        read, unsure = words[-1]
        words[-1] = (read + character, unsure + (character if clear else "?"))
        confidences[-1].append(sure)
    if words and box:
        yield _line(words, confidences, box)


def _choices(symbol: tesserocr.PyLTRResultIterator) -> list[tuple[str, float]]:
    """The characters the LSTM weighed for this place, with their scores (0-1)."""
    read = [(c.GetUTF8Text(), c.Confidence() / 100) for c in symbol.GetChoiceIterator() or []]
    return [(text, score) for text, score in read if text]  # None: a choice of no text


def _close_call(character: str, choices: list[tuple[str, float]]) -> bool:
    """Whether another character scored nearly as well as *character* (or better) where it
    was read: a worn or blurred letter the LSTM hesitated over, however sure it says it
    is. Another case of the same letter is no rival: the matcher ignores case."""
    own = max((score for text, score in choices if text == character), default=0.0)
    rivals = [s for text, s in choices if text.casefold() != character.casefold()]
    return bool(rivals) and max(rivals) >= own - CLOSE_RIVAL


def _line(
    words: list[tuple[str, str]], confidences: list[list[float]], box: tuple[int, int, int, int]
) -> RawLine:
    """The line without the words read with little confidence: the texture and scratches
    around a marking read as stray letters beside it."""
    right_to_left = any(_right_to_left(read) for read, _ in words)
    scored = [
        (w, _word_confidence(c, right_to_left)) for w, c in zip(words, confidences, strict=True)
    ]
    kept = [(w, c) for w, c in scored if c >= MIN_WORD_CONFIDENCE] or scored
    confidence = sum(c for _, c in kept) / len(kept) if kept else 0.0
    text = " ".join(" ".join(w for (w, _), _ in kept).split())
    unsure = " ".join(" ".join(u for (_, u), _ in kept).split())
    return RawLine(text, max(0.0, min(1.0, confidence)), box, unsure)


def _word_confidence(confidences: list[float], right_to_left: bool = False) -> float:
    """Tesseract's confidence in a word (the first value), except where it drops to 0 on a
    word its LSTM model read with certainty, and in a line of right-to-left text: then
    that of its least sure character. In right-to-left lines (Persian, Arabic) Tesseract's
    word confidence falls far below every one of its characters' on words it read right
    (0.21 for a marking read exactly, its characters 0.89 to 0.99; 0.40 for the digits
    beside it, theirs 0.91 to 0.99), so the reader would take the right reading for
    texture and another script's model's wrong one, read with its usual confidence, for
    the marking. Words of one or two characters keep the word's confidence: texture read
    by these models is strings of them, each character read surely ('دم مه ۰ ز ما ۰'),
    while a designation's letters, hyphen and number are read as one word or two longer
    ones."""
    word, *characters = confidences
    if characters and (word <= 0 or (right_to_left and len(characters) >= MIN_RTL_WORD)):
        return min(characters)
    return word


def _right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


@functools.cache
def _shared(tessdata: Path) -> Tesseract:
    return Tesseract(tessdata)
