"""Ready-made citations of an entry revision, in APA, Chicago, BibTeX, CSL-JSON and RIS,
and the metadata reference managers read off its page (Highwire, Dublin Core, schema.org).

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
    RIS = "ris"


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


def _ris_text(value: str) -> str:
    # A line break would end the tag early and start a line RIS cannot read.
    return " ".join(value.split())


def ris(cited: Cited) -> str:
    # ENCYC, as CSL's entry-encyclopedia: Zotero imports it as an encyclopedia article with
    # weaponsdb as the encyclopedia (T2); Y2 is the access date.
    lines = [
        ("TY", "ENCYC"),
        ("TI", _ris_text(cited.title)),
        ("T2", PUBLICATION),
        ("PY", str(cited.revised.year)),
        ("DA", cited.revised.strftime("%Y/%m/%d")),
        ("ET", f"Revision {cited.revision}"),
        ("UR", cited.url),
        ("Y2", cited.accessed.strftime("%Y/%m/%d")),
        ("N1", f"Revision {cited.revision}, accessed {cited.accessed.isoformat()}"),
        ("ID", f"weaponsdb-{cited.slug}-r{cited.revision}"),
        ("ER", ""),
    ]
    return "\r\n".join(f"{tag}  - {value}".rstrip() for tag, value in lines) + "\r\n"


RENDERERS: dict[CitationFormat, tuple[str, Callable[[Cited], str]]] = {
    CitationFormat.APA: ("text/plain; charset=utf-8", apa),
    CitationFormat.CHICAGO: ("text/plain; charset=utf-8", chicago),
    CitationFormat.BIBTEX: ("application/x-bibtex; charset=utf-8", bibtex),
    CitationFormat.CSL_JSON: ("application/vnd.citationstyles.csl+json", csl_json),
    CitationFormat.RIS: ("application/x-research-info-systems; charset=utf-8", ris),
}


def render(cited: Cited, style: CitationFormat) -> tuple[str, str]:
    """The citation text and its media type."""
    media_type, renderer = RENDERERS[style]
    return renderer(cited), media_type


def negotiated(accept: str | None) -> CitationFormat | None:
    """The format an Accept header prefers among those with a media type of their own
    (plain text is APA's and Chicago's alike, so it names neither); None if none."""
    ranked: list[tuple[float, int, CitationFormat]] = []
    by_type = {
        media_type.split(";")[0]: style
        for style, (media_type, _) in RENDERERS.items()
        if not media_type.startswith("text/plain")
    }
    for position, part in enumerate((accept or "").split(",")):
        media_type, *parameters = (p.strip() for p in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        style = by_type.get(media_type.lower())
        if style is not None and quality > 0:
            ranked.append((-quality, position, style))
    return min(ranked)[2] if ranked else None


LICENCE = "https://creativecommons.org/licenses/by/4.0/"


def meta_tags(cited: Cited, description: str | None, keywords: list[str]) -> list[tuple[str, str]]:
    """Highwire Press (citation_*) and Dublin Core <meta> tags of the revision, as Zotero's
    Embedded Metadata translator and other reference managers read them. No journal,
    conference or book title: the item is a dataset record (DC.type Dataset), not an
    article. No author: entries have none."""
    slash = cited.revised.strftime("%Y/%m/%d")
    tags = [
        ("citation_title", cited.title),
        ("citation_publisher", PUBLICATION),
        ("citation_date", slash),
        ("citation_online_date", slash),
        ("citation_public_url", cited.url),
        ("citation_abstract_html_url", cited.url),
        ("citation_language", "en"),
        *(("citation_keywords", k) for k in keywords),
        ("DC.title", cited.title),
        ("DC.type", "Dataset"),
        ("DC.publisher", PUBLICATION),
        ("DC.date", cited.revised.isoformat()),
        ("DC.identifier", cited.url),
        ("DC.language", "en"),
        ("DC.relation.ispartof", PUBLICATION),
        ("DC.rights", LICENCE),
    ]
    if description:
        tags.append(("DC.description", description))
    return tags


def json_ld(cited: Cited, description: str | None, keywords: list[str], home: str) -> str:
    """schema.org JSON-LD of the revision: a Dataset (one record) in the weaponsdb
    Dataset, its version the revision. Safe inside <script>: '<', '>' and '&' escaped."""
    document = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "@id": cited.url,
        "name": cited.title,
        "url": cited.url,
        "version": str(cited.revision),
        "dateModified": cited.revised.isoformat(),
        "inLanguage": "en",
        "license": LICENCE,
        "keywords": keywords,
        "publisher": {"@type": "Organization", "name": PUBLICATION},
        "isPartOf": {"@type": "Dataset", "name": PUBLICATION, "url": home},
        **({"description": description} if description else {}),
    }
    text = json.dumps(document, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
