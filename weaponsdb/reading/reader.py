"""The reader: a photo in, the lines of text on it out, each with where it is, how sure the
reader is, and the other readings its passes made.

A careful person reading a worn marking looks at it several ways; so does the reader, in two
rounds per region of the photo. First it finds the text's size, slant, polarity and direction
from the ink, and reads the region with each script's own model, upright and upside down (and
as columns of upright CJK where the lines run down the photo), to learn which script and
which way up. The likeliest of these ways are read again with the other binarisations,
other sizes, single-line segmentation and the script's other language models, and so is the
opposite polarity where it reads one of them better. Each way's lines are combined into
ranked hypotheses per line (combining.py), and the way whose passes read the most plausible
text, most surely and most alike, is chosen; the others' readings stay as alternatives. The
number of passes is bounded, so a photo's reading time is.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image
from pydantic import BaseModel, Field

from weaponsdb.config import usable_cores
from weaponsdb.matching.normalise import fold, look_alikes
from weaponsdb.reading import combining, regions
from weaponsdb.reading.engine import Tesseract
from weaponsdb.reading.preparing import (
    Binarisation,
    Geometry,
    Region,
    Views,
    estimate,
    grey_region,
)
from weaponsdb.reading.scripts import (
    LANGUAGE_SETS,
    VERTICAL,
    Script,
    fits,
    plausibility,
    script_of,
    tidy,
)

# Tesseract's page segmentation modes the reader uses.
BLOCK, LINE, COLUMNS = 6, 7, 5
# Other text heights tried: thin strokes read better larger, blurred and noisy ones smaller.
LARGER, SMALLER = 1.5, 0.7
# Photos are taken, and boxes drawn, upright far more often than upside down; lines that
# run up or down the photo are as likely to run either way.
UPSIDE_DOWN = 0.75
# Readings of each runner-up script offered per line, after the winner's own alternatives.
RIVAL_ALTERNATIVES = 2
# Scripts looked at closely after the first round.
LEADERS = 4
# Lines read with less confidence than this are noise on the metal, not text.
MIN_CONFIDENCE = 0.3
# A line is text when the passes agree on it at least this much (its confidence); a line
# few passes saw, or all read differently, is texture.
AGREED = 0.25
# A line within this many pixels of both ends of the region read, and of one of its sides,
# is the region's edge, counted at EDGE.
BORDER, EDGE = 2, 0.5


_NUMBER, _POSITIVE = " *[0-9]+ *", " *0*[1-9][0-9]* *"
_FOUR_NUMBERS = re.compile(",".join([_NUMBER] * 4))
# What Box.parse takes, as the API declares it: nothing, or x,y,width,height.
BOX_PATTERN = f"^(?: *|{_NUMBER},{_NUMBER},{_POSITIVE},{_POSITIVE})$"


class Box(BaseModel):
    """A rectangle on the photo, in its pixels: left, top, width, height."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(ge=1)
    height: int = Field(ge=1)

    @classmethod
    def of(cls, region: Region) -> Box:
        return cls(x=region.x, y=region.y, width=region.width, height=region.height)

    def region(self) -> Region:
        return Region(self.x, self.y, self.width, self.height)

    @classmethod
    def parse(cls, text: str | None) -> Box | None:
        """'x,y,width,height' in the photo's pixels (upright); None for nothing. A
        ValueError says what is wrong."""
        if text is None or not text.strip(" "):
            return None
        if not _FOUR_NUMBERS.fullmatch(text):
            raise ValueError("must be four whole numbers: x,y,width,height")
        x, y, width, height = (int(p) for p in text.split(","))
        if width < 1 or height < 1:
            raise ValueError("width and height must be at least 1")
        return cls(x=x, y=y, width=width, height=height)


class Alternative(BaseModel):
    text: str
    confidence: float = Field(ge=0, le=1)
    passes: int = Field(description="How many of the reader's passes read exactly this.")


class ReadLine(BaseModel):
    text: str = Field(description="The best reading.")
    box: Box = Field(description="Where the line is on the photo, in its pixels.")
    script: Script | None = Field(description="ISO 15924 script of the best reading.")
    languages: list[str] = Field(description="Tesseract language sets whose passes read it.")
    confidence: float = Field(
        ge=0, le=1, description="How sure the passes were and how many agreed; 1 is certain."
    )
    alternatives: list[Alternative] = Field(
        description="The other readings the passes made here, best first."
    )


class Reading(BaseModel):
    width: int = Field(description="Width of the photo, upright, in pixels.")
    height: int
    box: Box | None = Field(description="The crop box read, if one was given.")
    regions: list[Box] = Field(description="The regions of the photo that were read.")
    scripts_tried: list[Script]
    passes: int = Field(description="Tesseract passes made.")
    nothing_stood_out: bool = Field(
        default=False,
        description="True when the photo was sent without a box and nothing on it stood out "
        "as text, so it was not read: draw a box around the marking to have it read.",
    )
    seconds: float
    lines: list[ReadLine] = Field(description="Top to bottom, left to right.")


# A script, how many quarter turns make its text upright, whether it is read in columns
# (vertical CJK) rather than lines, and whether the text is lighter than its ground.
Way = tuple[Script, int, bool, bool]


@dataclass(frozen=True)
class Pass:
    script: Script
    languages: str
    quarter_turns: int
    how: Binarisation
    invert: bool
    psm: int
    zoom: float = 1.0  # times the scale that makes the text Tesseract's favourite height
    columns: bool = False  # lines running down the photo read as columns, not turned


class Reader:
    """Reads photos, at most *workers* at once (more would only share the same cores, and
    each keeps Tesseract's models in memory); the others wait their turn."""

    def __init__(self, engine: Tesseract, workers: int | None = None) -> None:
        self.engine = engine
        self._turns = threading.BoundedSemaphore(workers or usable_cores())

    def read(
        self, photo: Image.Image, box: Box | None = None, scripts: Sequence[Script] = ()
    ) -> Reading:
        """The text lines on *photo* (upright, as stored), inside *box* if given, in
        *scripts* if given (else in any the catalogue holds)."""
        with self.turn():
            return self.read_in_turn(photo, box, scripts)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """One of the reader's turns, waited for: a caller that decodes the photo inside
        its turn holds at most *workers* decoded photos in memory, however many wait."""
        self.engine.require()
        with self._turns:
            yield

    def read_in_turn(
        self, photo: Image.Image, box: Box | None = None, scripts: Sequence[Script] = ()
    ) -> Reading:
        """As read, by a caller holding a turn."""
        started = time.perf_counter()
        tried = list(dict.fromkeys(scripts)) or list(Script)
        # Where nothing stands out on a larger photo, the marking is gone, or too faint or
        # small to find without a box: read whole, a camera photo took 20 s to read the
        # texture of the metal and none of the marking (README).
        areas = (
            [_within(box.region(), Region(0, 0, *photo.size))]
            if box
            else regions.text_regions(photo)
        )
        passes, read = 0, []
        for area in areas:
            region_passes, region_lines = self._read_region(photo, area, tried)
            passes += region_passes
            read += region_lines
        return Reading(
            width=photo.width,
            height=photo.height,
            box=Box.of(areas[0]) if box else None,
            regions=[Box.of(area) for area in areas],
            scripts_tried=tried,
            passes=passes,
            nothing_stood_out=not areas,
            seconds=round(time.perf_counter() - started, 3),
            lines=read,
        )

    def _read_region(
        self, photo: Image.Image, region: Region, scripts: list[Script]
    ) -> tuple[int, list[ReadLine]]:
        crop = grey_region(photo, region)
        geometry = estimate(crop)
        run = functools.partial(self._run, Views(crop, region), geometry)
        # Which script and which way up: each script's own model, upright and upside down
        # (a script read upside down can look like another read upright); the likeliest
        # are then looked at the other ways, and the one whose passes read the most
        # plausible text, most surely and most alike, is chosen.
        prior = {0: 1.0, 2: 1.0 if geometry.vertical else UPSIDE_DOWN}
        own = {
            (script, turns, False, geometry.invert): Pass(
                script, LANGUAGE_SETS[script][0], turns, Binarisation.GREY, geometry.invert, BLOCK
            )
            for script in scripts
            for turns in prior
        }
        own |= self._columns(geometry, scripts)
        # A second view of each way, the ground subtracted: stamped edges, faint paint and
        # shade read in one binarisation often read as nothing in the other, so one pass
        # would leave the right script and way up out of the closer look.
        second = [dataclasses.replace(p, how=Binarisation.GROUND) for p in own.values()]
        found = run([*own.values(), *second])

        def first_look(way: Way) -> float:
            """The most plausible line its own model read, in either view: a marking has
            a line or two, while a model reading a script it does not know, or upside
            down, can make lines of the texture around it."""
            views = (own[way], dataclasses.replace(own[way], how=Binarisation.GROUND))
            return prior[way[1]] * max(
                _plausible_line(found[view], way[0], region) for view in views
            )

        leaders = sorted(own, key=first_look, reverse=True)[:LEADERS]
        leaders += _other_way_up(leaders, own)
        # Stamped and embossed markings show light faces and dark shadows: where the
        # opposite polarity reads a leader better, it is a way of its own.
        flipped = {
            leader: dataclasses.replace(own[leader], invert=not leader[3]) for leader in leaders
        }
        found |= run(flipped.values())
        for leader, flip in flipped.items():
            if _plausible_line(found[flip], leader[0], region) > _plausible_line(
                found[own[leader]], leader[0], region
            ):
                way = (*leader[:3], flip.invert)
                own[way] = flip
                leaders.append(way)
        for leader in leaders:
            found |= run(p for p in _refinements(own[leader]) if p not in found)
        read = {leader: _way_lines(found, leader) for leader in leaders}
        best = _chosen(read, prior, region)
        # The other leaders' best readings of each line are offered as alternatives: where
        # the choice was wrong, the right reading is still matched.
        rivals = [line for leader in leaders if leader != best for line in read[leader]]
        return len(found), [_line(line, rivals) for line in _kept(read[best])]

    def _columns(self, geometry: Geometry, scripts: list[Script]) -> dict[Way, Pass]:
        """Where lines run down the photo, a way of reading them with the script's
        vertical model (where installed), on the text as it stands: CJK is written in
        columns of upright characters, which a quarter turn lays on their sides."""
        installed = self.engine.languages() if geometry.vertical else set()
        return {
            (script, 0, True, geometry.invert): Pass(
                script, model, 0, Binarisation.GREY, geometry.invert, COLUMNS, columns=True
            )
            for script in scripts
            if (model := VERTICAL.get(script)) in installed
        }

    def _run(
        self, views: Views, geometry: Geometry, passes: Iterable[Pass]
    ) -> dict[Pass, list[combining.PassLine]]:
        found = {}
        for p in passes:
            zoomed = dataclasses.replace(
                geometry,
                scale=geometry.scale * p.zoom,
                vertical=geometry.vertical and not p.columns,
            )
            prepared = views.prepare(zoomed, p.quarter_turns, p.how, p.invert)
            found[p] = [
                combining.PassLine(
                    tidy(raw.text),
                    raw.confidence,
                    _within(prepared.to_photo(raw.box), views.region),
                    p.languages,
                    f"{prepared.label}, {p.languages}, psm {p.psm}",
                    tidy(raw.unsure),
                )
                for raw in self.engine.read(prepared.image, p.languages, p.psm)
            ]
        return found


def _other_way_up(leaders: list[Way], ways: dict[Way, Pass]) -> list[Way]:
    """The leading script's other way up, when no leader is: Latin letters and digits read
    upside down are other Latin letters and digits ('VX-948' reads 'ab6-XN'), as surely,
    so one pass each way cannot tell which way up the text is; the passes of the second
    round, several each way, can."""
    script, turns, columns, invert = leaders[0]
    other = (script, 2 - turns, columns, invert)
    return [other] if other in ways and other not in leaders else []


def _refinements(leader: Pass) -> list[Pass]:
    """The second round: the same script, way up and direction looked at the other ways."""
    again = functools.partial(dataclasses.replace, leader)
    passes = [
        again(how=Binarisation.OTSU),
        again(how=Binarisation.ADAPTIVE),
        again(how=Binarisation.GROUND),
        again(how=Binarisation.CLOSED),
        again(zoom=LARGER),
        again(how=Binarisation.OTSU, zoom=SMALLER),
    ]
    if leader.columns:  # the vertical models have no line mode, nor other languages
        return passes
    return [
        again(psm=LINE),
        *passes,
        *(
            again(languages=lang)
            for lang in LANGUAGE_SETS[leader.script]
            if lang != leader.languages
        ),
    ]


def _way_lines(found: dict[Pass, list[combining.PassLine]], way: Way) -> list[combining.Line]:
    """The lines read by the passes of a script, that way up, with their hypotheses."""
    mine = [p for p in found if (p.script, p.quarter_turns, p.columns, p.invert) == way]
    return combining.lines([line for p in mine for line in found[p]], len(mine) or 1)


def _plausible_line(lines: list[combining.PassLine], script: Script, region: Region) -> float:
    """The most plausible line a pass read (its confidence times its plausibility times
    how well it fits its box times the square root of its letters and digits): a marking
    has a line or two, while a model reading a script it does not know, or upside down,
    can make long lines of texture."""
    return max(
        (
            line.confidence
            * plausibility(line.text, script)
            * fits(line.text, line.region.width, line.region.height)
            * _inside(line.region, region)
            * _characters(line.text) ** 0.5
            for line in lines
        ),
        default=0.0,
    )


def _evidence(lines: list[combining.Line], script: Script, region: Region) -> float:
    """How much plausible text a script's passes read, how surely and how alike: over the
    lines kept, the best hypothesis's confidence (which falls as passes disagree) times its
    plausibility in the script, times how well it fits its line's box (more characters
    than there is room for are letters cut into pieces), times the square root of its
    letters and digits (longer text is more evidence, but texture read as a long string of
    letters is not)."""
    total = 0.0
    for line in _kept(lines):
        best = line.hypotheses()[0]
        room = fits(best.text, line.region.width, line.region.height)
        room *= _inside(line.region, region)
        total += (
            best.confidence * plausibility(best.text, script) * room * _characters(best.text) ** 0.5
        )
    return total


def _chosen(read: dict[Way, list[combining.Line]], prior: dict[int, float], region: Region) -> Way:
    """The script and way up with the most evidence; Latin, if its passes read the same
    letter shapes that way up (Cyrillic Р and Latin P): markings in every script mix Latin
    letters in, so it is the likelier where the shapes cannot tell."""
    best = max(read, key=lambda way: prior[way[1]] * _evidence(read[way], way[0], region))
    latin = (Script.LATIN, *best[1:])
    if best != latin and latin in read and _shapes(read[best]) == _shapes(read[latin]):
        return latin
    return best


def _inside(line: Region, region: Region) -> float:
    """1 for a line inside the region read; EDGE for one that runs the region's whole
    length against one of its sides: the edge of the item, a shadow or the photo's border,
    which every model reads as some string of its letters."""
    left, top = line.x - region.x, line.y - region.y
    right = region.width - (left + line.width)
    bottom = region.height - (top + line.height)
    across = left <= BORDER and right <= BORDER
    down = top <= BORDER and bottom <= BORDER
    if down and line.height > line.width and min(left, right) <= BORDER:
        return EDGE
    if across and line.width > line.height and min(top, bottom) <= BORDER:
        return EDGE
    return 1.0


def _shapes(lines: list[combining.Line]) -> list[tuple[str, int]]:
    """The kept lines' best readings as the letter shapes they show, and how many of
    them are letters (Cyrillic З looks like the digit 3, but is no Latin letter)."""
    texts = [line.hypotheses()[0].text for line in _kept(lines)]
    return [(look_alikes(fold(t)).casefold().replace(" ", ""), _letters(t)) for t in texts]


def _letters(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def _characters(text: str) -> int:
    return sum(1 for c in text if c.isalnum())


def _kept(lines: list[combining.Line]) -> list[combining.Line]:
    """The lines the passes agree on enough to call them text; failing that, the likeliest
    line, with its low confidence: a worn marking read by a few passes only is still worth
    showing to the person who asked (and matching, weighted by that confidence)."""
    legible = [
        line
        for line in lines
        if (best := line.hypotheses()[0]).mean_confidence >= MIN_CONFIDENCE
        and any(c.isalnum() for c in best.text)
    ]
    agreed = [line for line in legible if line.hypotheses()[0].confidence >= AGREED]
    likeliest = max(legible, key=lambda line: line.hypotheses()[0].confidence, default=None)
    return agreed or ([likeliest] if likeliest else [])


def _line(line: combining.Line, rivals: list[combining.Line]) -> ReadLine:
    best, *others = line.hypotheses()
    # The best reading with its unsure characters as '?', for the matcher to fill in.
    unsure = line.unsure(best.text)
    if unsure != best.text and any(c.isalnum() for c in unsure):
        others.insert(0, dataclasses.replace(best, text=unsure))
    # A right-to-left marking read number first is also offered letters first.
    turned = _letters_first(best.text)
    if turned and turned not in {h.text for h in others}:
        others.insert(0, dataclasses.replace(best, text=turned))
    known = {best.text, *(h.text for h in others)}
    others += [
        hypothesis
        for rival in rivals
        if combining.overlap(rival.region, line.region) >= combining.SAME_PLACE
        for hypothesis in rival.hypotheses()[:RIVAL_ALTERNATIVES]
        if hypothesis.text not in known
    ]
    return ReadLine(
        text=best.text,
        box=Box.of(line.region),
        script=script_of(best.text),
        languages=line.languages(),
        confidence=round(best.confidence, 3),
        alternatives=[
            Alternative(text=h.text, confidence=round(h.confidence, 3), passes=h.passes)
            for h in others
        ],
    )


# A number, a separator, then the rest of a line.
_NUMBER_FIRST = re.compile(r"^(\d+)( ?[-/.] ?| )(.*\D.*)$")


def _letters_first(text: str) -> str | None:
    """A line of right-to-left letters read number first ('۹۱-هصد' for هصد-۹۱) in the
    order the marking is written, letters first; None for any other line. Tesseract orders
    the runs of a line by the direction it takes the line to have, and sometimes takes a
    line of Persian letters, a hyphen and digits (misread, or read by a model of another
    script) for one running left to right: the number, leftmost on the photo, then comes
    first."""
    found = _NUMBER_FIRST.match(text.strip())
    if not found or not any(unicodedata.bidirectional(c) in ("R", "AL") for c in text):
        return None
    number, separator, rest = found.groups()
    return f"{rest.strip()}{separator.strip() or ' '}{number}"


def _within(inner: Region, outer: Region) -> Region:
    # A box past the photo's edge keeps a one-pixel sliver inside it: Pillow cannot crop
    # at coordinates beyond a C int, and a box is a place on this photo.
    x = min(max(outer.x, inner.x), outer.x + outer.width - 1)
    y = min(max(outer.y, inner.y), outer.y + outer.height - 1)
    right = min(outer.x + outer.width, inner.x + inner.width)
    bottom = min(outer.y + outer.height, inner.y + inner.height)
    return Region(x, y, max(1, right - x), max(1, bottom - y))
