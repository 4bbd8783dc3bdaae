"""Catalogue marking patterns: the marking with its variable parts as placeholders.

    Bang-122 {lot}        a lot number after the designation
    {factory} {year:2}    a factory code and a two-digit year

Placeholders: {digit} one digit, {number} one or more digits, {year} or {year:2} / {year:4}
two or four digits, {letter} one letter, {lot} and {serial} a run of letters and digits,
{factory} a run of letters and digits. Everything outside braces is literal text and is
compared the way observed text is (see normalise.key).
"""

from __future__ import annotations

import re
from functools import lru_cache

from weaponsdb.matching.normalise import fold, key

PLACEHOLDERS = {
    "digit": "[0-9]",
    "number": "[0-9]+",
    "year": "(?:[0-9]{2}|[0-9]{4})",
    "year:2": "[0-9]{2}",
    "year:4": "[0-9]{4}",
    "letter": "[^\\W\\d_]",
    "lot": "[^\\W_]+",
    "serial": "[^\\W_]+",
    "factory": "[^\\W_]+",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class PatternError(ValueError):
    pass


def validate(pattern: str) -> str:
    """The pattern itself, or PatternError naming what is wrong with it."""
    compile_pattern(pattern)
    return pattern


@lru_cache(maxsize=20_000)  # bounded: a big catalogue has hundreds of thousands of patterns
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression over keys (see normalise.key) that the pattern's markings have."""
    if pattern.count("{") != pattern.count("}"):
        raise PatternError("unbalanced braces")
    parts: list[str] = []
    position = 0
    for placeholder in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(key(fold(pattern[position : placeholder.start()]))))
        name = placeholder.group(1).strip().lower()
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise PatternError(f"unknown placeholder {{{name}}}; known: {known}")
        parts.append(PLACEHOLDERS[name])
        position = placeholder.end()
    parts.append(re.escape(key(fold(pattern[position:]))))
    if not _PLACEHOLDER.search(pattern):
        raise PatternError("a pattern needs at least one placeholder, e.g. {lot}")
    return re.compile("".join(parts))


def literal_fragments(pattern: str) -> list[str]:
    """The keys of the pattern's fixed parts, longest first: what every match must contain."""
    parts = (key(fold(part)) for part in _PLACEHOLDER.split(pattern)[::2])
    return sorted((p for p in parts if p), key=len, reverse=True)
