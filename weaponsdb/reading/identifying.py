"""From a photo to the catalogue entries it shows: what the reader read on it, each reading
(and its alternatives) matched as an observed marking and weighted by how sure the reading
is, combined with how near the photo is to the entries' reference photos.

An entry's score from a line is its best weighted match among the line's readings; of
entries scored alike, the one the most readings name (each by its share of the line: how
sure the reader was of it, how plausible it is as a marking) ranks first. Its reading score
is the noisy OR over the lines: an entry that explains two lines ranks above one that
explains one. The photo score comes from the perceptual-hash distance to the
entry's nearest reference photo. The two combine by noisy OR again; each candidate says
which reading met which catalogue text, how, and which photo it resembles. The answer is
confident when the first candidate's score reaches the matcher's confident score."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from weaponsdb import models
from weaponsdb.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError
from weaponsdb.matching.catalogue_index import load_facts
from weaponsdb.matching.matcher import Matcher, MatchQuery
from weaponsdb.matching.scoring import CONFIDENT_SCORE, Candidate, EntryFacts, MarkingMatch
from weaponsdb.photos.matching import PhotoMatch, PhotoMatcher
from weaponsdb.photos.processing import perceptual_hash, upright, within_query_budget
from weaponsdb.photos.similarity import BITS
from weaponsdb.photos.validation import Limits, check_header, check_upload
from weaponsdb.reading.reader import Box, Reader, Reading, ReadLine
from weaponsdb.reading.scripts import SEPARATORS, Script, plausibility, script_of
from weaponsdb.vocab import PhotoView

# A reading the reader is unsure of still counts, at half weight when it is a mere guess.
GUESS_WEIGHT = 0.5
# Photos further apart than this many pHash bits are unrelated pictures (about 32 apart).
PHOTO_DISTANCE = 20
PHOTOS_SEARCHED = 10
MATCHES_PER_READING = 10
# Where no reading of a line meets an entry better than WEAK_MATCH (its weighted score),
# this many of its likeliest are tried again with a part illegible. The reading names
# some entry nearly always, by a character or two of texture; below a guess's weight
# the match is no better evidence than the parts it did read right.
BACKED_OFF_READINGS = 5
WEAK_MATCH = 0.5


class Photo(BaseModel):
    """An uploaded photo and how to read it."""

    model_config = {"arbitrary_types_allowed": True}

    data: bytes
    filename: str | None = None
    content_type: str | None = None
    box: Box | None = None
    scripts: list[Script] = []


class Evidence(BaseModel):
    """What else was seen on the item, as a match query takes it."""

    markings: list[str] = Field(default=[], description="Markings typed by the user.")
    category: str | None = None
    calibre_mm: float | None = None
    country: str | None = None


class ReadingMatch(BaseModel):
    """A line read on the photo that met a catalogue text of the entry."""

    line: int = Field(description="Position of the line in `reading.lines`, or -1 if typed.")
    reading: str = Field(description="Which of its readings met the entry.")
    reading_confidence: float
    matched: str = Field(description="The catalogue text it met.")
    how: str
    detail: str
    score: float = Field(description="The matcher's score times the reading's weight.")


class PhotoEvidence(BaseModel):
    sha256: str
    similarity: float
    distance: int


class Identified(BaseModel):
    rank: int
    slug: str
    name: str
    score: float = Field(ge=0, le=1)
    reading_score: float = Field(ge=0, le=1, description="From the markings read or typed.")
    photo_score: float = Field(ge=0, le=1, description="From the nearest reference photo.")
    category: str | None
    calibre_mm: float | None
    country: str | None
    matches: list[ReadingMatch]
    photo: PhotoEvidence | None


class Identification(BaseModel):
    reading: Reading
    phash: str
    candidates: list[Identified] = Field(description="Best first; ties in slug order.")
    confident: bool = Field(
        description="Whether the first candidate is likely enough to be the one (its score "
        "at least the matcher's confident score); the candidates are listed either way."
    )
    photo_matches: list[PhotoMatch] = Field(description="Nearest reference photos first.")


def read_upload(reader: Reader, photo: Photo, limits: Limits) -> Reading:
    """The photo checked as every upload is, turned upright, and read. Nothing is stored."""
    _check_before_decoding(photo, limits)
    with reader.turn():
        return reader.read_in_turn(_decoded(photo, limits), photo.box, photo.scripts)


def proposed_markings(
    reader: Reader, photo: Photo, view: str | None, limits: Limits
) -> list[ReadLine] | None:
    """What the reader reads on a reference photo of an item's markings, for an editor to
    confirm: never stored as catalogue facts. None for other views, where reading is
    unavailable, and for a photo the reader cannot decode within the query budget (the
    photo is attached all the same, or refused by the upload's own checks). A JPEG over the
    budget is read at the largest of its decoder's scales that fits, its lines placed on
    the photo at full size."""
    if view != PhotoView.MARKINGS.value or reader.engine.missing():
        return None
    try:
        header = check_header(photo.data, limits, photo.filename, photo.content_type)
        shrink = _budget_shrink(header.size, header.format.pillow, limits)
        if shrink is None:
            return None
        with reader.turn():
            checked = check_upload(photo.data, limits, photo.filename, photo.content_type)
            width, _ = header.size
            image = upright(checked.data, _draft_side(header.size, shrink))
            lines = reader.read_in_turn(image).lines
    except (InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError):
        # A bad upload: attaching it refuses it, saying what is wrong.
        return None
    factor = width / image.width if image.width else 1.0
    return [_scaled(line, factor) for line in lines] if factor != 1 else lines


# Scales a JPEG decoder reads at, besides the whole: 1/2, 1/4 and 1/8.
_DRAFT_SHRINKS = (2, 4, 8)


def _budget_shrink(size: tuple[int, int], pillow_format: str, limits: Limits) -> int | None:
    """By how much to shrink a photo on decoding to keep within the query budget: 1 for a
    photo within it, a JPEG decoder's scale for a JPEG beyond it, None when nothing fits."""
    pixels = size[0] * size[1]
    if pixels <= limits.max_query_pixels:
        return 1
    if pillow_format not in ("JPEG", "MPO"):
        return None
    return next((s for s in _DRAFT_SHRINKS if pixels / s**2 <= limits.max_query_pixels), None)


def _draft_side(size: tuple[int, int], shrink: int) -> int | None:
    """The draft size asking the JPEG decoder for 1/*shrink* of the photo (it picks the
    smallest of its scales keeping that many pixels a side)."""
    return None if shrink == 1 else -(-min(size) // shrink)


def _scaled(line: ReadLine, factor: float) -> ReadLine:
    box = line.box
    scaled = Box(
        x=round(box.x * factor),
        y=round(box.y * factor),
        width=max(1, round(box.width * factor)),
        height=max(1, round(box.height * factor)),
    )
    return line.model_copy(update={"box": scaled})


def _check_before_decoding(photo: Photo, limits: Limits) -> None:
    """The upload checks that need no decoding; reading needs every pixel, so a photo over
    the query budget is refused here, before it is decoded."""
    header = check_header(photo.data, limits, photo.filename, photo.content_type)
    within_query_budget(header, limits, "read", "crop it to the marking, or send a smaller copy")


def _decoded(photo: Photo, limits: Limits) -> Image.Image:
    """The photo decoded, upright, after the upload checks that decode it: by a caller
    holding one of the reader's turns, which bound the photos decoded at once."""
    checked = check_upload(photo.data, limits, photo.filename, photo.content_type)
    return upright(checked.data)


@dataclass
class _Found:
    facts: EntryFacts
    matches: list[ReadingMatch]
    reading_score: float = 0.0
    photo: PhotoMatch | None = None
    support: float = 0.0  # the readings' shares naming it, summed: breaks ties in score


def identify(
    session: Session,
    reader: Reader,
    matcher: Matcher,
    photo_matcher: PhotoMatcher,
    photo: Photo,
    evidence: Evidence,
    limits: Limits,
    limit: int = 10,
) -> Identification:
    reader.engine.require()
    _check_before_decoding(photo, limits)
    with reader.turn():
        image = _decoded(photo, limits)
        reading = reader.read_in_turn(image, photo.box, photo.scripts)
        phash = perceptual_hash(image)
        del image  # the decoded photo is let go with the turn
    neighbours = photo_matcher.match(session, phash, PHOTOS_SEARCHED, PHOTO_DISTANCE)
    found: dict[str, _Found] = {}
    for index, line in enumerate(_observed_lines(reading, evidence)):
        matched = _line_matches(session, matcher, index, line, evidence)
        for slug, (facts, best, support) in matched.items():
            entry = found.setdefault(slug, _Found(facts, []))
            entry.matches.append(best)
            entry.reading_score = 1 - (1 - entry.reading_score) * (1 - best.score)
            entry.support += support
    _add_photos(session, found, neighbours)
    ranked = sorted(found.values(), key=lambda f: (-_score(f), -f.support, f.facts.slug))
    ranked = ranked[:limit]
    return Identification(
        reading=reading,
        phash=phash,
        candidates=[_identified(rank, f) for rank, f in enumerate(ranked, 1)],
        confident=bool(ranked) and _score(ranked[0]) >= CONFIDENT_SCORE,
        photo_matches=neighbours,
    )


def _add_photos(session: Session, found: dict[str, _Found], neighbours: list[PhotoMatch]) -> None:
    """Each entry's nearest reference photo, adding the entries found by photo alone."""
    for neighbour in neighbours:
        if neighbour.entry not in found:
            facts = _facts_of(session, neighbour.entry)
            if facts is None:  # not published
                continue
            found[neighbour.entry] = _Found(facts, [])
        entry = found[neighbour.entry]
        if entry.photo is None or neighbour.distance < entry.photo.distance:
            entry.photo = neighbour


def _observed_lines(reading: Reading, evidence: Evidence) -> list[ReadLine]:
    """The lines read, then the typed markings as lines read with certainty."""
    typed = [
        ReadLine(
            text=text,
            box=Box(x=0, y=0, width=1, height=1),
            script=None,
            languages=[],
            confidence=1.0,
            alternatives=[],
        )
        for text in evidence.markings
    ]
    return [*reading.lines, *typed]


def _line_matches(
    session: Session, matcher: Matcher, index: int, line: ReadLine, evidence: Evidence
) -> dict[str, tuple[EntryFacts, ReadingMatch, float]]:
    """Per entry, its best match among the line's readings, the matcher's calibrated score
    times how sure the reading is (a guess, half): a sibling that a partial reading names
    keeps the matcher's split of that reading among the siblings it fits, so it is no
    confident answer. Beside it, the entry's support: the matcher's score summed over the
    readings, each by its share of the line (how sure and how plausible as a marking it
    is), which ranks an entry several readings name above one a single reading names as
    well. Where no reading meets any entry, the likeliest readings are tried again with a
    part at a time illegible, at half weight."""
    line_number = index if line.languages else -1
    found = _shared_matches(session, matcher, line_number, line, evidence, backing_off=False)
    best = max((match.score for _, match, _ in found.values()), default=0.0)
    if best < WEAK_MATCH and line.languages:
        backed = _shared_matches(session, matcher, line_number, line, evidence, backing_off=True)
        found = _merged(found, backed)
    return found


def _merged(
    found: dict[str, tuple[EntryFacts, ReadingMatch, float]],
    more: dict[str, tuple[EntryFacts, ReadingMatch, float]],
) -> dict[str, tuple[EntryFacts, ReadingMatch, float]]:
    """Each entry's better match of the two, and its support from both."""
    merged = dict(found)
    for slug, (facts, match, support) in more.items():
        if slug in merged:
            _, shown, earlier = merged[slug]
            match = match if match.score > shown.score else shown
            support += earlier
        merged[slug] = (facts, match, support)
    return merged


def _shared_matches(
    session: Session,
    matcher: Matcher,
    line_number: int,
    line: ReadLine,
    evidence: Evidence,
    backing_off: bool,
) -> dict[str, tuple[EntryFacts, ReadingMatch, float]]:
    readings = _weighted_readings(line)
    if backing_off:
        readings = _backed_off(readings)
    total = sum(weight for _, _, weight in readings) or 1.0
    # However its readings share it, a line read unsurely is worth less (a guess, half).
    line_weight = GUESS_WEIGHT + (1 - GUESS_WEIGHT) * line.confidence
    if backing_off:
        line_weight *= GUESS_WEIGHT
    found: dict[str, tuple[EntryFacts, ReadingMatch, float]] = {}
    for text, confidence, weight in readings:
        share = line_weight * weight / total
        # Alone, a reading counts as it is sure (a guess, half): the entry's score from the
        # line is its best reading's, as the matcher scores one marking.
        alone = GUESS_WEIGHT + (1 - GUESS_WEIGHT) * confidence
        if backing_off:
            alone *= GUESS_WEIGHT
        for candidate in _candidates(session, matcher, text, evidence):
            match = _best_match(candidate.matches)
            if match is None:
                continue
            scored = ReadingMatch(
                line=line_number,
                reading=text,
                reading_confidence=confidence,
                matched=match.matched,
                how=match.how.value,
                detail=match.detail,
                score=round(candidate.score * alone, 4),
            )
            slug = candidate.entry.slug
            facts, shown, support = found.get(slug, (candidate.entry, scored, 0.0))
            if scored.score > shown.score:
                shown = scored
            found[slug] = (facts, shown, support + candidate.score * share)
    return found


def _weighted_readings(line: ReadLine) -> list[tuple[str, float, float]]:
    """The line's readings (best, then alternatives) with their confidence and weight: the
    confidence, floored at a guess's weight for the best reading (a typed marking is
    certain), times how plausible the text is as a marking in the script it is written
    in (a reading of mostly letters a model makes of a script it does not know weighs
    little). Each text once, at its highest weight."""
    weights: dict[str, tuple[float, float]] = {}
    candidates = [(line.text, line.confidence, True)]
    candidates += [(a.text, a.confidence, False) for a in line.alternatives]
    for text, confidence, best in candidates:
        floor = GUESS_WEIGHT if best else 0.0
        weight = max(floor, confidence) * plausibility(text, script_of(text) or Script.LATIN)
        if text not in weights or weight > weights[text][1]:
            weights[text] = (confidence, weight)
    return [(text, confidence, weight) for text, (confidence, weight) in weights.items()]


def _backed_off(readings: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """Where no reading of a line met any entry, each reading with one of its parts at a
    time taken as illegible ('*'): a part is often misread whole (a script's letters read
    by another script's model, a stencil's bridges breaking letters apart) while the
    others, the digits most often, are right. Each such reading shares its reading's
    weight with the others made from it."""
    backed: dict[str, tuple[float, float]] = {}
    likeliest = sorted(readings, key=lambda r: -r[2])[:BACKED_OFF_READINGS]
    for text, confidence, weight in likeliest:
        variants = _with_a_part_illegible(text)
        for variant in variants:
            share = weight / len(variants)
            if variant not in backed or share > backed[variant][1]:
                backed[variant] = (confidence, share)
    return [(text, confidence, weight) for text, (confidence, weight) in backed.items()]


# A marking's parts: split at its separators, and where letters meet digits (a hyphen worn
# away or not read, 'رد۲۶۵' for 'یثرا-۲۶۵', still parts letters from number).
_PARTS = re.compile(r"([ \-./])|(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")


def _with_a_part_illegible(text: str) -> list[str]:
    """*text*, split into its parts, with each part in turn as '*', where the others
    keep at least two letters or digits to go on."""
    parts = [p for p in _PARTS.split(text.strip(" |[](){}:;,'\"")) if p]
    variants = []
    for number, part in enumerate(parts):
        if part in SEPARATORS or not any(c.isalnum() for c in part):
            continue
        rest = sum(c.isalnum() for p in parts[:number] + parts[number + 1 :] for c in p)
        if rest >= 2:
            variants.append("".join([*parts[:number], "*", *parts[number + 1 :]]).strip())
    return variants


def _candidates(
    session: Session, matcher: Matcher, text: str, evidence: Evidence
) -> Sequence[Candidate]:
    try:
        query = MatchQuery(
            markings=[text],
            category=evidence.category,
            calibre_mm=evidence.calibre_mm,
            country=evidence.country,
            limit=MATCHES_PER_READING,
        )
    except ValidationError:  # no legible character, or too long to be a marking
        return []
    return matcher.match(session, query).candidates


def _best_match(matches: Sequence[MarkingMatch]) -> MarkingMatch | None:
    return max(matches, key=lambda m: m.score, default=None)


def _facts_of(session: Session, slug: str) -> EntryFacts | None:
    """The facts of a published entry found only by its photo."""
    entry_id = session.scalar(select(models.Entry.id).where(models.Entry.slug == slug))
    return load_facts(session, [entry_id]).get(entry_id) if entry_id is not None else None


def _photo_score(photo: PhotoMatch | None) -> float:
    """1 for the same picture, 0 at the distance of unrelated pictures (half the bits)."""
    if photo is None:
        return 0.0
    return max(0.0, 1 - photo.distance / (BITS / 2))


def _score(found: _Found) -> float:
    return round(1 - (1 - found.reading_score) * (1 - _photo_score(found.photo)), 4)


def _identified(rank: int, found: _Found) -> Identified:
    facts = found.facts
    return Identified(
        rank=rank,
        slug=facts.slug,
        name=facts.name,
        score=_score(found),
        reading_score=round(found.reading_score, 4),
        photo_score=round(_photo_score(found.photo), 4),
        category=facts.category,
        calibre_mm=facts.calibre_mm,
        country=facts.country,
        matches=sorted(found.matches, key=lambda m: -m.score),
        photo=(
            PhotoEvidence(
                sha256=found.photo.sha256,
                similarity=found.photo.similarity,
                distance=found.photo.distance,
            )
            if found.photo
            else None
        ),
    )
