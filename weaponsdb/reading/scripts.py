"""The scripts the catalogue's markings are written in (ISO 15924), the Tesseract language
sets that read each, and the script a read text is in."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from enum import StrEnum


class Script(StrEnum):
    HANGUL = "Hang"
    CYRILLIC = "Cyrl"
    HAN = "Hani"
    ARABIC = "Arab"
    LATIN = "Latn"


# Language sets, best first. Markings mix their script with Latin letters and digits; the
# script's own model reads those too, and English alone reads Latin designations best.
LANGUAGE_SETS: dict[Script, tuple[str, ...]] = {
    Script.HANGUL: ("kor", "kor+eng"),
    Script.CYRILLIC: ("rus", "ukr"),
    Script.HAN: ("chi_sim", "chi_tra"),
    Script.ARABIC: ("fas", "ara"),
    Script.LATIN: ("eng",),
}


# Models of text written in columns, characters upright (Debian's *-vert packages): used
# where installed, for lines that run down the photo.
VERTICAL: dict[Script, str] = {Script.HAN: "chi_sim_vert", Script.HANGUL: "kor_vert"}


_CODE = f" *(?:{'|'.join(Script)})? *"
# What parse_scripts takes, as the API declares it: codes separated by commas, or nothing.
SCRIPTS_PATTERN = f"^{_CODE}(?:,{_CODE})*$"


def parse_scripts(text: str | None) -> list[Script]:
    """Comma-separated ISO 15924 codes ('Hang,Cyrl'); a ValueError names an unknown one."""
    codes = [code.strip(" ") for code in (text or "").split(",") if code.strip(" ")]
    known = {script.value for script in Script}
    for code in codes:
        if code not in known:
            raise ValueError(f"unknown script {code!r}; one of {', '.join(sorted(known))}")
    return [Script(code) for code in codes]


# The first words of the Unicode character names of each script's letters.
_NAME_PREFIXES: dict[str, Script] = {
    "HANGUL": Script.HANGUL,
    "CYRILLIC": Script.CYRILLIC,
    "CJK": Script.HAN,
    "ARABIC": Script.ARABIC,
    "LATIN": Script.LATIN,
}


def script_of_character(character: str) -> Script | None:
    if not character.isalpha():
        return None
    first = unicodedata.name(character, "").split(" ")[0]
    return _NAME_PREFIXES.get(first)


def script_of(text: str) -> Script | None:
    """The script most of *text*'s letters are in (Latin when it has only digits and signs
    is not assumed: None)."""
    counts = Counter(s for s in map(script_of_character, text) if s is not None)
    return counts.most_common(1)[0][0] if counts else None


# Hangul letters written alone (jamo): markings compose them into syllables; a model
# that reads another script as Hangul makes them of strokes.
_JAMO = re.compile(r"[\u1100-\u11ff\u3130-\u318f]")
# What separates the parts of a marking: neither evidence for a reading nor against it.
SEPARATORS = " -./"


def plausibility(text: str, script: Script) -> float:
    """How much *text* looks like a marking in *script*, from 0 to 1: the share of its
    characters that are digits, letters of the script or Latin letters (markings in every
    script mix them in). Letters of other scripts, lone Hangul jamo and signs no marking
    has are what a model makes of a script it does not know. Separators count neither
    way."""
    good = bad = 0.0
    for character in text:
        if character in SEPARATORS:
            continue
        found = script_of_character(character)
        own = found is script and not _JAMO.match(character)
        if character.isdecimal() or found is Script.LATIN or own:
            good += 1
        else:
            bad += 1
    return good / (good + bad) if good + bad else 0.0


# About how wide a character is, in heights of its line: CJK characters are square, Latin,
# Cyrillic and Arabic letters and digits narrower, signs and spaces narrower still. Only
# far more characters than a line's length holds at these widths counts against a reading.
_SQUARE, _NARROW, _SIGN = 0.9, 0.5, 0.3
# How many times the characters' widths may exceed the line's length before a reading is
# doubted: stencils are spaced, fonts condensed and boxes cut short.
CROWDED = 1.8


def fits(text: str, length: float, height: float) -> float:
    """How well *text* fits a line *length* long and *height* high (up or down the photo
    alike, so that it is the longer side that is the length), from 0 to 1: 1 unless the
    reading holds more characters than the line has room for, as a model that does not
    know the script, or reads letters on their sides, makes several characters of each
    one; then as the square of the room there is (the more characters a reading claims,
    the more its length counts for it elsewhere)."""
    length, height = max(length, height), min(length, height)
    if height <= 0:
        return 1.0
    needed = sum(_width(character) for character in text) * height
    return min(1.0, CROWDED * length / needed) ** 2 if needed else 1.0


def _width(character: str) -> float:
    if script_of_character(character) in (Script.HAN, Script.HANGUL):
        return _SQUARE
    return _NARROW if character.isalnum() else _SIGN


# Tesseract puts a space between CJK characters, and often around a designation's hyphen;
# neither is in the marking.
_CJK = r"\u1100-\u11ff\u3130-\u318f\uac00-\ud7af\u3400-\u4dbf\u4e00-\u9fff"
_CLOSE_UP = re.compile(rf"(?<=[{_CJK}]) (?=\S)|(?<=\S) (?=[{_CJK}])|\s+(?=-)|(?<=-)\s+")


def tidy(text: str) -> str:
    """*text* as Tesseract read it without the spaces it adds inside CJK text and around
    hyphens."""
    return _CLOSE_UP.sub("", " ".join(text.split()))
