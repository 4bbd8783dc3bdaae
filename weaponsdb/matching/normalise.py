"""The readings of a marking: the comparable keys one text can stand for.

A marking read off a photo may be in another script, in look-alike letters, in full-width or
Arabic-Indic digits, spaced and punctuated in any way. Each text yields one or more readings,
each a *key* (lower-case letters and digits only; `?` and `*` kept in queries) with how it was
obtained, so that a match can say why it matched.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import hangul_jamo
from anyascii import anyascii
from confusable_homoglyphs import categories, confusables
from korean_romanizer.romanizer import Romanizer

RULES: dict[str, Any] = json.loads((Path(__file__).parent / "rules.json").read_text("utf-8"))
WILDCARDS = "?*"
_OCR_TABLE = str.maketrans({k: v for k, v in RULES["ocr_confusions"].items() if len(k) == 1})


class How(StrEnum):
    EXACT = "exact"
    NORMALISED = "normalised"
    TRANSLITERATED = "transliterated"
    LOOK_ALIKE = "look-alike letters"
    OCR = "OCR confusion"
    FUZZY = "fuzzy"
    WILDCARD = "wildcard"
    PATTERN = "pattern"


@dataclass(slots=True)  # not frozen, for speed (see index.Hit)
class Reading:
    key: str
    how: How
    detail: str
    # Worth searching for misreadings too; not a key in two alphabets at once, which is a
    # misreading itself and has a cleaner reading beside it.
    fuzzy: bool = True
    cost: float = 0.0  # what this reading assumed beyond its way of reading (error model)


def readings(text: str, wildcards: bool = False) -> list[Reading]:
    """Every reading of *text*, the plainest first, without duplicate keys."""
    folded = fold(text)
    if wildcards:
        folded = unreadable_as_wildcards(folded)
    designated = designators(folded.casefold())
    plain = (
        f"type designator read as '{designated}'"
        if designated != folded.casefold()
        else "same text but for case, spacing, punctuation or script of digits"
    )
    designated_in_numerals = (
        designated != folded.casefold()
        and not folded.isascii()
        and _numbers_in_numerals().search(folded)
    )
    if designated_in_numerals:
        plain = f"numerals read as digits; {plain}"
    plain_key = key(folded, wildcards)
    # Latin beside another alphabet, the designator word included, is itself a misreading,
    # with a cleaner reading beside it when the other letters have Latin look-alikes (Cyrillic
    # В beside B). Beside letters without one (式, Persian), the misread Latin letter is just
    # one more misread character, and this key the one to search misreadings of.
    mixed = (
        _has_other_alphabet(plain_key)
        and any(c.isascii() and c.isalpha() for c in plain_key)
        and look_alikes(plain_key) != plain_key
    )
    found = [Reading(plain_key, How.NORMALISED, plain, fuzzy=not mixed)]
    if designated != folded.casefold():  # a misread designator word still leaves the rest
        found.append(Reading(key(folded, wildcards, designate=False), How.NORMALISED, "as written"))
    if not folded.isascii() and _SYLLABLE.search(folded):
        revised, mccune = revised_romanization(folded), mccune_reischauer(folded)
        found.append(
            Reading(
                key(revised, wildcards),
                How.TRANSLITERATED,
                f"Hangul read in Revised Romanization as '{revised}'",
            )
        )
        found.append(
            Reading(
                key(mccune, wildcards),
                How.TRANSLITERATED,
                f"Hangul read in McCune–Reischauer as '{mccune}'",
            )
        )
    if _has_other_alphabet(folded):
        latin = look_alikes(folded)
        if latin != folded:
            found.append(
                Reading(
                    key(latin, wildcards),
                    How.LOOK_ALIKE,
                    f"look-alike letters read as Latin: '{latin}'",
                )
            )
        romanised = anyascii(folded)
        # A transliteration that leaves no letter ('اا-826', its alifs silent, as '826')
        # says nothing the digits alone do not, and would match every text with them.
        if any(ch.isalpha() for ch in romanised):
            found.append(
                Reading(
                    key(romanised, wildcards),
                    How.TRANSLITERATED,
                    f"transliterated as '{romanised}'",
                )
            )
    unique: dict[str, Reading] = {}
    for reading in found:
        if reading.key:
            unique.setdefault(reading.key, reading)
    return list(unique.values())


def fold(text: str) -> str:
    """Compatibility forms (full-width letters and digits), every script's decimal digits as
    ASCII digits, invisible format characters (zero-width, direction marks) removed."""
    if text.isascii():  # all of it as it is (most catalogue texts: a quick way past)
        return text
    return unicodedata.normalize("NFKC", text).translate(_FOLDED)


class CharTable(dict[int, str | None]):
    """A str.translate table of what *mapped* makes of each character (None: dropped), each
    worked out the first time it is met and remembered: one call per text instead of one per
    character (readings of a million catalogue texts are most of an index build)."""

    def __init__(self, mapped: Callable[[str], str | None]) -> None:
        super().__init__()
        self._mapped = mapped

    def __missing__(self, code: int) -> str | None:
        found = self[code] = self._mapped(chr(code))
        return found


def _folded_character(ch: str) -> str | None:
    if unicodedata.category(ch) == "Cf":
        return None
    return str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch


_FOLDED = CharTable(_folded_character)


def key(text: str, wildcards: bool = False, designate: bool = True) -> str:
    """Designators made one, case folded, everything but letters and digits dropped."""
    keep = WILDCARDS if wildcards else ""
    text = text.casefold()
    # Dropping punctuation can join a number to a designator ('0–식'), so repeat until
    # nothing changes: a key is then its own key.
    while True:
        designated = designators(text) if designate else text
        stripped = designated.translate(
            _ASCII_DROPPED[bool(keep)] if designated.isascii() else _DROPPED[bool(keep)]
        )
        if stripped == text:
            return text
        text = stripped


_SEPARATOR_RUNS = re.compile(r"[\W_]+")


@lru_cache(maxsize=4096)
def separated_key(text: str, text_key: str) -> str | None:
    """*text_key*, a key of *text* (no wildcards), with one '-' where a run of separators
    stood between two of its characters ('8-5式' as 'type8-5' or '8-5式', '38 5式' as
    'type38-5'; a reading letter for letter, look-alike or OCR-folded, as its own key with
    the dashes where they stand); None for a reading that is not letter for letter (a
    transliteration), or a key that does not keep the characters in their order."""
    canonical = RULES["designators"]["canonical"]
    folded = fold(text).casefold()
    for spelled in (designators(folded).replace(f"{canonical} ", canonical), folded):
        marked = _SEPARATOR_RUNS.sub("-", spelled).strip("-")
        letters_only = marked.replace("-", "")
        if letters_only == text_key:  # the text read as written: its key, its dashes
            return marked
        if (
            len(letters_only) == len(text_key)
            and key(letters_only, designate=False) == letters_only
        ):
            letters = iter(text_key)
            return "".join(ch if ch == "-" else next(letters) for ch in marked)
    return None


# What key() drops of ASCII text, without and with the wildcards kept: all but letters and
# digits (str.translate deletes them at once).
_ASCII_DROPPED = tuple(
    str.maketrans(
        "", "", "".join(chr(c) for c in range(128) if not chr(c).isalnum() and chr(c) not in keep)
    )
    for keep in ("", WILDCARDS)
)


def _kept_by_key(keep: str) -> Callable[[str], str | None]:
    return lambda ch: ch if ch.isalnum() or ch in keep else None


# The same of any text, each character's fate remembered as it is met.
_DROPPED = tuple(CharTable(_kept_by_key(keep)) for keep in ("", WILDCARDS))


def ocr_key(text_key: str) -> str:
    """The key with characters OCR confuses mapped to one representative each."""
    return text_key.translate(_OCR_TABLE)


_UNREADABLE = re.compile(rf"(?<=\S)[{re.escape(RULES['unreadable']['characters'])}](?=\S)")


def unreadable_as_wildcards(text: str) -> str:
    """OCR's marks for a character it could not read ('56-]式'), inside a word, as '?'."""
    return _UNREADABLE.sub("?", text)


@cache
def _designator_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    rules = RULES["designators"]
    separator = f"[{re.escape(rules['separators'])}]*"
    before = "|".join(re.escape(word) for word in rules["before_number"])
    # Longest first ('shiki' before 'shi'); a word in an alphabet must end there ('shi', not
    # 'ship'); 式 needs no such boundary.
    after = "|".join(
        re.escape(word) + (r"(?![^\W\d_])" if word[-1].isascii() else "")
        for word in sorted(rules["after_number"], key=len, reverse=True)
    )
    # The number before the word may carry a suffix, illegible characters included:
    # '95-1式' is Type 95-1 and '56-?式' Type 56-? (never Type 56).
    # Each suffix starts with a separator, so digits split between parts in one way only.
    number = rf"(\d+(?:[{re.escape(rules['separators'])}]+[\d?*]+)*)"
    return (
        re.compile(rf"(?<![^\W\d_])(?:{before}){separator}(\d+)"),
        re.compile(rf"{number}{separator}(?:{after})"),
    )


@cache
def _numbers_in_numerals() -> re.Pattern[str]:
    """The number of a designation written in numerals (rules.json's designators.numerals),
    a suffix included ('五六-一式'), where nothing but a separator stands between it and a
    word after the number, and no letter before it."""
    rules = RULES["designators"]
    numerals = "".join(rules["numerals"])
    separator = f"[{re.escape(rules['separators'])}]"
    words = "|".join(re.escape(word) for word in rules["after_number"] if not word.isascii())
    return re.compile(
        rf"(?<![^\W\d_])[{numerals}]+(?:{separator}+[{numerals}\d]+)*(?={separator}*(?:{words}))"
    )


_AS_DIGITS = str.maketrans(RULES["designators"]["numerals"])


@cache
def _any_designator_word() -> re.Pattern[str]:
    """Found in every text either pattern matches: each match holds one of the words."""
    rules = RULES["designators"]
    words = sorted(rules["before_number"] + rules["after_number"], key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in words))


def designators(text: str) -> str:
    """'58式', '58식', '五八式', 'тип 58' and 'type 58' all become 'type 58'."""
    if not _any_designator_word().search(text):  # most texts: one search, not two passes
        return text
    canonical = RULES["designators"]["canonical"]
    before, after = _designator_patterns()
    if not text.isascii():
        text = _numbers_in_numerals().sub(lambda m: m.group().translate(_AS_DIGITS), text)
    text = after.sub(lambda m: f"{canonical} {m.group(1)}", text)
    return before.sub(lambda m: f"{canonical} {m.group(1)}", text)


def _is_hangul(ch: str) -> bool:
    return bool(hangul_jamo.is_syllable(ch))


# Hangul syllables, as hangul_jamo.is_syllable has them.
_SYLLABLE = re.compile("[\uac00-\ud7a3]")
_SYLLABLE_RUNS = re.compile("([\uac00-\ud7a3]+)")


def revised_romanization(text: str) -> str:
    # korean-romanizer applies the official Revised Romanization with its sound changes
    # between syllables. It is given runs of syllables only: a final ㄶ or ㅀ before
    # anything else ('않-122') raises KeyError inside it, as it does before an initial its
    # sound rules leave out ('뷿미'), hence _silent_h().
    return "".join(
        str(Romanizer(_silent_h(run)).romanize()) if index % 2 else run
        for index, run in enumerate(_SYLLABLE_RUNS.split(text))
    )


# Syllable arithmetic of Unicode's Hangul block: 0xAC00 + (initial * 21 + vowel) * 28 + final.
_FINALS = 28
_INITIAL_INDEX = 21 * _FINALS
# Finals holding ㅎ (ㄶ, ㅀ, ㅎ) and what is left of them when the ㅎ is not pronounced, with the
# initials after which korean-romanizer applies their rules itself: ㄱ ㄴ ㄷ ㅅ ㅇ ㅈ, and ㄹ
# after ㅀ. Before any other initial it raises KeyError.
_FINAL_H = {6: (4, frozenset({0, 2, 3, 9, 11, 12})), 15: (8, frozenset({0, 2, 3, 5, 9, 11, 12}))}
_FINAL_H[27] = (0, _FINAL_H[6][1])


def _silent_h(run: str) -> str:
    """*run* (Hangul syllables) with each final ㄶ, ㅀ or ㅎ that precedes an initial the
    romanizer has no rule for written without its ㅎ, as it is pronounced."""
    codes = [ord(ch) - 0xAC00 for ch in run]
    for at, code in enumerate(codes[:-1]):
        final = code % _FINALS
        if final in _FINAL_H:
            left, handled = _FINAL_H[final]
            if codes[at + 1] // _INITIAL_INDEX not in handled:
                codes[at] = code - final + left
    return "".join(chr(0xAC00 + code) for code in codes)


def mccune_reischauer(text: str) -> str:
    """ASCII McCune–Reischauer from our table over Unicode's jamo decomposition."""
    table = RULES["mccune_reischauer"]
    out: list[str] = []
    previous_voiced = False
    for ch in text:
        if not _is_hangul(ch):
            out.append(ch)
            previous_voiced = False
            continue
        initial, vowel, final = hangul_jamo.decompose_syllable(ch)
        voiced = table["voiced_initial"].get(initial) if previous_voiced else None
        out.append((voiced or table["initial"][initial]) + table["vowel"][vowel])
        if final:
            out.append(table["final"][final])
        previous_voiced = final in (None, "ㄴ", "ㄹ", "ㅁ", "ㅇ")
    return "".join(out)


def _has_other_alphabet(text: str) -> bool:
    if text.isascii():
        return False
    # Each letter of another alphabet is dropped: the text is shorter by them.
    return len(text.translate(_OTHER_ALPHABET)) != len(text)


_OTHER_ALPHABET = CharTable(
    lambda ch: None if ch.isalpha() and not ch.isascii() and not _is_hangul(ch) else ch
)


@cache
def _latin_twin(ch: str) -> str | None:
    """The ASCII letter or digit that Unicode's confusables data says *ch* looks like."""
    if categories.alias(ch) in ("LATIN", "COMMON"):
        return None
    found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True) or []
    for entry in found:
        for homoglyph in entry["homoglyphs"]:
            if homoglyph["c"].isascii() and homoglyph["c"].isalnum():
                return str(homoglyph["c"])
    return None


def look_alikes(text: str) -> str:
    return "".join(_latin_twin(ch) or ch for ch in text)
