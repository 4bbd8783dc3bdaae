"""Ready-made citations of an entry revision, in APA, Chicago, BibTeX and CSL-JSON.

The catalogue itself is the publication: a citation names weaponsdb, the entry, the
revision, its date, its permanent URL and the date the reader accessed it, and nothing
else. Entries have no personal authors, and weaponsdb has no DOI, so none are given.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

PUBLICATION = "weaponsdb"


class CitationFormat(StrEnum):
    APA = "apa"
    CHICAGO = "chicago"
    BIBTEX = "bibtex"
    CSL_JSON = "csl-json"


@dataclass(frozen=True)
class Cited:
    """One revision of one entry, as read on *accessed*."""

    slug: str
    title: str  # the entry's name in that revision
    revision: int
    revised: dt.date  # when that revision was made
    url: str  # the revision's permanent URL
    accessed: dt.date


def _long(day: dt.date) -> str:
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def apa(cited: Cited) -> str:
    # APA 7 for a page of a reference work that changes: dated, with a retrieval date.
    revised = cited.revised
    return (
        f"{cited.title} (revision {cited.revision}). ({revised.year}, {revised.strftime('%B')} "
        f"{revised.day}). In {PUBLICATION}. Retrieved {_long(cited.accessed)}, from {cited.url}"
    )


def chicago(cited: Cited) -> str:
    # Chicago 17 bibliography entry for a web page, with its last-modified date.
    return (
        f'"{cited.title}." {PUBLICATION}, revision {cited.revision}. Last modified '
        f"{_long(cited.revised)}. Accessed {_long(cited.accessed)}. {cited.url}."
    )


# One pass, one replacement a character, so that no escape is escaped again. Braces become
# macros, never `\{`: BibTeX counts every brace, escaped or not, and an odd one breaks the
# entry in strict parsers.
_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
} | {c: "\\" + c for c in "&%$#_"}


def _bibtex_text(value: str) -> str:
    return "".join(_BIBTEX_ESCAPES.get(c, c) for c in value)


def bibtex(cited: Cited) -> str:
    key = re.sub(r"[^a-z0-9]+", "-", f"weaponsdb-{cited.slug}-r{cited.revision}")
    fields = {
        "title": _bibtex_text(cited.title),
        "howpublished": f"{PUBLICATION}, revision {cited.revision}",
        "year": str(cited.revised.year),
        "month": str(cited.revised.month),
        "date": cited.revised.isoformat(),
        "url": cited.url,
        "urldate": cited.accessed.isoformat(),
        "note": f"Revision {cited.revision}, accessed {cited.accessed.isoformat()}",
    }
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@misc{{{key},\n{body}\n}}\n"


def _date_parts(day: dt.date) -> dict[str, list[list[int]]]:
    return {"date-parts": [[day.year, day.month, day.day]]}


def csl_json(cited: Cited) -> str:
    item = {
        "id": f"weaponsdb-{cited.slug}-r{cited.revision}",
        "type": "entry-encyclopedia",
        "title": cited.title,
        "container-title": PUBLICATION,
        "version": str(cited.revision),
        "issued": _date_parts(cited.revised),
        "accessed": _date_parts(cited.accessed),
        "URL": cited.url,
    }
    return json.dumps([item], ensure_ascii=False, indent=2) + "\n"


RENDERERS: dict[CitationFormat, tuple[str, Callable[[Cited], str]]] = {
    CitationFormat.APA: ("text/plain; charset=utf-8", apa),
    CitationFormat.CHICAGO: ("text/plain; charset=utf-8", chicago),
    CitationFormat.BIBTEX: ("application/x-bibtex; charset=utf-8", bibtex),
    CitationFormat.CSL_JSON: ("application/vnd.citationstyles.csl+json", csl_json),
}


def render(cited: Cited, style: CitationFormat) -> tuple[str, str]:
    """The citation text and its media type."""
    media_type, renderer = RENDERERS[style]
    return renderer(cited), media_type
