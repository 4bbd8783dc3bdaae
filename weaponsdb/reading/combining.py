"""Many passes' readings of one region made into ranked hypotheses per line: readings in the
same place of the photo are one line; the texts read there are its hypotheses, ranked by how
well each agrees with all the passes' readings, weighted by their confidence."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from weaponsdb.reading.preparing import Region

# Two readings are of the same line when this share of the smaller box lies in the other.
SAME_PLACE = 0.5
MAX_ALTERNATIVES = 5


@dataclass(frozen=True)
class PassLine:
    """A line one pass read, placed on the photo."""

    text: str
    confidence: float
    region: Region
    languages: str
    pass_label: str
    unsure: str = ""  # the text with the characters read with little confidence as '?'


@dataclass(frozen=True)
class Hypothesis:
    text: str
    confidence: float  # 0-1: how sure the passes that read it were, and how many agreed
    passes: int  # how many passes read exactly this
    mean_confidence: float  # Tesseract's own, averaged over those passes


@dataclass
class Line:
    region: Region
    passes: int  # how many passes looked at the region the line is in
    readings: list[PassLine] = field(default_factory=list)

    def hypotheses(self) -> list[Hypothesis]:
        """The texts read here, best first, by minimum Bayes risk: each text is scored by
        how closely it agrees with every pass's reading, weighted by that pass's confidence
        (a reading that shares most characters with the others beats one read exactly the
        same way twice but cut short). The score, averaged over all the passes that looked
        here, is its confidence: 1 when every pass read exactly it and was certain; low for
        a line only a few passes saw (texture read as letters by some binarisations)."""
        texts: dict[str, list[float]] = defaultdict(list)
        for reading in self.readings:
            texts[reading.text].append(reading.confidence)
        ranked = []
        for text, confidences in texts.items():
            support = sum(
                r.confidence * Levenshtein.normalized_similarity(text, r.text)
                for r in self.readings
            )
            mean = sum(confidences) / len(confidences)
            ranked.append(Hypothesis(text, support / self.passes, len(confidences), mean))
        ranked.sort(key=lambda h: (-h.confidence, -h.mean_confidence, h.text))
        return ranked[:MAX_ALTERNATIVES]

    def unsure(self, text: str) -> str:
        """*text* with the characters its surest pass read with little confidence as '?'
        (*text* itself when all were sure)."""
        passes = [r for r in self.readings if r.text == text and r.unsure]
        return max(passes, key=lambda r: r.confidence).unsure if passes else text

    def languages(self) -> list[str]:
        return sorted({r.languages for r in self.readings})


def lines(readings: list[PassLine], passes: int) -> list[Line]:
    """Readings grouped by place, each in the line it overlaps most; the lines top to bottom
    and left to right. Readings are taken most confident first, so that a confident pass's
    lines are the ones others join, and each line is where its most confident pass put it."""
    found: list[Line] = []
    for reading in sorted(readings, key=lambda r: -r.confidence):
        best = max(found, key=lambda line: overlap(line.region, reading.region), default=None)
        if best is not None and overlap(best.region, reading.region) >= SAME_PLACE:
            best.readings.append(reading)
        else:
            found.append(Line(reading.region, passes, [reading]))
    return sorted(found, key=lambda line: (line.region.y, line.region.x))


def overlap(a: Region, b: Region) -> float:
    """The share of the smaller region that lies in the other."""
    width = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    height = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min(a.width * a.height, b.width * b.height) or 1
    return width * height / smaller
