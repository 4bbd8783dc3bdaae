"""What an observed marking may have said: its readings (normalise.py), runs of characters
read for one character ('JI' for Л), a designation quoted without its word or with it
shortened ('56-1', 'T58'), the start or the end of a longer marking ('M16' of M16A2), and,
for a whole line read off a photo, its tokens and spans of tokens, each paying a little for
the tokens it leaves out as junk."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from weaponsdb.matching.error_model import COSTS, extra, is_ideograph, read_runs
from weaponsdb.matching.normalise import RULES, WILDCARDS, How, Reading, fold, key, readings

# A line of more tokens than this is tried as its whole and its single tokens only.
MAX_SPAN_TOKENS = 6
# Legible characters a reading of part of a marking needs: fewer fit too many texts to say
# anything.
PARTIAL_LEAST = 3
_TOKEN = re.compile(r"[^\s|_]+")


@dataclass(frozen=True)
class Span:
    text: str
    cost: float  # for the tokens left out
    left_out: tuple[str, ...]


def query_readings(text: str, whole: bool = True) -> list[Reading]:
    """The readings of one observed text, with runs read as one character where there are
    any; the plainest first, without duplicate keys. Only a *whole* marking, not a span of
    a line, is also read as a designation quoted without its word: a number in a line whose
    other tokens are left out as junk may have lost its letters among them."""
    found = (
        (lost_before_designator(text) or readings(text, wildcards=True))
        + designator_misread(text)
        + (designator_left_out(text) if whole else [])
        + digit_runs_reordered(text)
    )
    for reading in list(found):
        if reading.how is How.TRANSLITERATED:
            continue  # runs are what someone typed or OCR read, not our own romanisation
        run = read_runs(reading.key)
        if run is not None:
            detail = f"{reading.detail}; read by shape: {', '.join(run.taken)}"
            found.append(Reading(run.key, How.LOOK_ALIKE, detail, cost=reading.cost + run.cost))
    unique: dict[str, Reading] = {}
    for reading in found:
        unique.setdefault(reading.key, reading)
    return list(unique.values())


_ENDS_IN_ONE_CHARACTER = re.compile(
    rf"(.*\d)[{re.escape(RULES['designators']['separators'])}]*(\w)", re.DOTALL
)


def designator_misread(text: str) -> list[Reading]:
    """A number ending in a Han character that is no designator, read as the number and the
    designator 式 (which OCR reads as other ideographs: errors.json says how often)."""
    found = _ENDS_IN_ONE_CHARACTER.fullmatch(fold(text).strip())
    if found is None:
        return []
    number, last = found.groups()
    if last in RULES["designators"]["after_number"] or not is_ideograph(last):
        return []
    cost = COSTS["designator_read_as_other_han"]
    why = f"'{last}' after the number taken as the designator '式' (OCR reads 式 as others)"
    return [
        replace(reading, detail=f"{why}; {reading.detail}", cost=reading.cost + cost)
        for reading in readings(f"{number}式", wildcards=True)[:1]
    ]


_SEPARATORS = f"[{re.escape(RULES['designators']['separators'])}]"
# A number and its suffixes ('56-1'), as the designator words take it.
_NUMBER = rf"\d+(?:{_SEPARATORS}+[\d?*]+)*"
_BARE_NUMBER = re.compile(_NUMBER)
_ABBREVIATED = re.compile(
    rf"(?:{'|'.join(map(re.escape, RULES['designators']['abbreviated_before_number']))})"
    rf"{_SEPARATORS}*({_NUMBER})"
)


def designator_left_out(text: str) -> list[Reading]:
    """A bare number ('56-1') read as the type designation it may quote without its word
    ('Type 56-1', '56-1式': people leave the word out, OCR loses 式), and a number after a
    shortened word ('T58', 'Ty 58') as one with the word shortened. Each costs what it
    assumes (errors.json): 'T65' as written still beats 'Type 65'."""
    folded = fold(text).strip().casefold()
    if _BARE_NUMBER.fullmatch(folded):
        number, cost = folded, COSTS["designator_left_out"]
        why = f"'{folded}' taken as a type designation without its word"
    else:
        found = _ABBREVIATED.fullmatch(folded)
        if found is None:
            return []
        number, cost = found.group(1), COSTS["designator_abbreviated"]
        why = f"'{folded[: found.start(1)].strip()}' taken as short for the designator 'type'"
    canonical = RULES["designators"]["canonical"]
    return [
        replace(reading, detail=f"{why}; {reading.detail}", cost=reading.cost + cost)
        for reading in readings(f"{canonical} {number}", wildcards=True)[:1]
    ]


# A dash joins a number to its suffix ('95-1式'); a space or a dot may stand before a
# designator as it is ('58 式').
_DASHES = "".join(
    ch for ch in RULES["designators"]["separators"] if unicodedata.category(ch) == "Pd"
)
_SEPARATES_NOTHING = re.compile(
    rf"(?<=\d)\s*([{re.escape(_DASHES)}])\s*"
    rf"(?=[{''.join(w for w in RULES['designators']['after_number'] if len(w) == 1)}])"
)


def lost_before_designator(text: str) -> list[Reading]:
    """'362-式': a dash between the number and the designator (式, 식, 型) that joins nothing
    is where a character was lost ('362-1式'), or a stray mark. Read both ways: with an
    illegible character there, and with the separator as a mark read that is not there (so
    that the shorter designation, '362式', is no longer an exact reading of it)."""
    folded = fold(text).strip()
    found = _SEPARATES_NOTHING.search(folded)
    if found is None:
        return []
    at = found.end()
    lost = readings(f"{folded[:at]}?{folded[at:]}", wildcards=True)
    stray = extra(found.group(1))
    why = f"'{found.group(1)}' before the designator taken as extra ({stray.why})"
    without = readings(folded[: found.start()] + folded[at:], wildcards=True)
    return lost + [
        replace(r, detail=f"{why}; {r.detail}", cost=r.cost + stray.cost) for r in without
    ]


_SPLIT_NUMBER = re.compile(r"\d+(?:\s+\d+)+")


def digit_runs_reordered(text: str) -> list[Reading]:
    """A number in a right-to-left line, split by OCR into runs read in the line's order
    ('بنلب-1 47' for ینلب-471): the runs taken in the other order. Digits run left to
    right inside Persian or Arabic text; an OCR that splits them lists the runs from the
    right, as it reads the letters."""
    folded = fold(text)
    if not any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in folded):
        return []
    reordered = _SPLIT_NUMBER.sub(lambda m: " ".join(reversed(m.group().split())), folded)
    if reordered == folded:
        return []
    cost = COSTS["digit_runs_reordered"]
    why = f"the runs of digits of a right-to-left line taken in the other order: '{reordered}'"
    return [
        replace(r, detail=f"{why}; {r.detail}", cost=r.cost + cost)
        for r in readings(reordered, wildcards=True)
    ]


def partial_readings(text: str) -> list[Reading]:
    """Only the start or only the end of the marking read, the rest cut off, worn away or
    out of sight ('M16' of M16A2, 'FAL' of FN FAL): each reading of at least
    PARTIAL_LEAST legible characters, followed or preceded by an illegible run, at the cost
    of assuming so (errors.json). A marking with '?' or '*' already says where it is
    illegible."""
    if any(ch in WILDCARDS for ch in text):
        return []
    cost = COSTS["partial_reading"]
    found: dict[str, Reading] = {}
    for reading in readings(text):
        if len(reading.key) < PARTIAL_LEAST:
            continue
        for partial, read in ((f"{reading.key}*", "start"), (f"*{reading.key}", "end")):
            why = f"only the {read} of the marking read, the rest taken as illegible"
            if reading.how is not How.NORMALISED:  # say how the part was read, if not plainly
                why += f"; {reading.detail}"
            found.setdefault(
                partial, replace(reading, key=partial, detail=why, cost=reading.cost + cost)
            )
    return list(found.values())


def spans(text: str) -> list[Span]:
    """The line's tokens and runs of neighbouring tokens, shortest loss first; the whole
    line is not among them."""
    tokens = _TOKEN.findall(text)
    if len(tokens) < 2:
        return []
    found: list[Span] = []
    longest = len(tokens) - 1 if len(tokens) <= MAX_SPAN_TOKENS else 1
    for size in range(1, longest + 1):
        for start in range(len(tokens) - size + 1):
            kept = tokens[start : start + size]
            if not key(fold(" ".join(kept))):
                continue
            left_out = tuple(tokens[:start] + tokens[start + size :])
            found.append(Span(" ".join(kept), junk_cost(left_out), left_out))
    return sorted(found, key=lambda span: span.cost)


def junk_cost(tokens: tuple[str, ...]) -> float:
    """Tokens taken as background: cheap for a few stray characters, more for whole words,
    never more than a bad misreading."""
    legible = sum(len(key(fold(token))) for token in tokens)
    return float(min(COSTS["junk_token_most"], COSTS["junk_token_character"] * legible))


def span_readings(span: Span) -> list[Reading]:
    note = f"; {', '.join(repr(t) for t in span.left_out)} left out as not part of the marking"
    return [
        replace(r, detail=r.detail + note, cost=r.cost + span.cost)
        for r in query_readings(span.text, whole=False)
    ]
