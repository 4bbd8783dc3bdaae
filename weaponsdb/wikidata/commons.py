"""The licences of Wikimedia Commons files, asked of the Commons API (MediaWiki's
action=query&prop=imageinfo&iiprop=extmetadata), for the photo leads an import records.

Only the file description page's metadata is read, never the file. Any failure (no
network, an error answer, a file Commons does not know) leaves the lead without a licence
and says why: a licence is welcome, not required.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

TITLES_PER_REQUEST = 50  # the API's limit on titles for clients without the apihighlimits right
TIMEOUT_SECONDS = 30
# What the catalogue does not store (weaponsdb.schemas.storable): control characters,
# bidirectional controls (a right-to-left credit may hold them) and lone surrogates.
UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@dataclass(frozen=True)
class Licence:
    name: str  # LicenseShortName, e.g. "CC BY-SA 4.0"
    url: str | None  # LicenseUrl; none for e.g. public domain
    credit: str | None  # Artist, else Credit, as plain text


@dataclass
class Answer:
    licences: dict[str, Licence] = field(default_factory=dict)  # by file name
    notes: list[str] = field(default_factory=list)


def licences(file_names: Iterable[str], api_url: str) -> Answer:
    """The licence of each file Commons gives one for, by file name (without 'File:')."""
    answer = Answer()
    names = sorted(set(file_names))
    for start in range(0, len(names), TITLES_PER_REQUEST):
        batch = names[start : start + TITLES_PER_REQUEST]
        try:
            document = _query(batch, api_url)
        except CommonsError as error:
            answer.notes.append(f"{error}; the photo leads keep 'licence not checked'")
            return answer
        _read(document, batch, answer)
    return answer


class CommonsError(Exception):
    pass


def _query(names: list[str], api_url: str) -> Any:
    parameters = {
        "action": "query",
        "prop": "imageinfo",
        "iiprop": "extmetadata",
        "titles": "|".join(f"File:{name}" for name in names),
        "format": "json",
        "formatversion": "2",
    }
    url = f"{api_url}?{urllib.parse.urlencode(parameters)}"
    request = urllib.request.Request(url, headers={"User-Agent": "weaponsdb (import wikidata)"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            document = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        raise CommonsError(f"Commons ({api_url}) answered {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise CommonsError(f"Cannot reach Commons ({api_url}): {reason}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CommonsError(f"Commons ({api_url}) did not answer JSON") from None
    if not isinstance(document, dict) or "error" in document:
        refusal = document.get("error", {}) if isinstance(document, dict) else {}
        raise CommonsError(f"Commons ({api_url}) refused the query: {refusal.get('info', '?')}")
    return document


def _read(document: dict[str, Any], names: list[str], answer: Answer) -> None:
    query = document.get("query", {})
    # The API answers under the normalised title (e.g. underscores become spaces).
    normalised = {n.get("to"): n.get("from") for n in query.get("normalized", [])}
    for page in query.get("pages", []):  # a list: formatversion 2
        title = str(page.get("title", ""))
        name = str(normalised.get(title, title)).removeprefix("File:")
        licence = _licence(page)
        if licence is not None and name in names:
            answer.licences[name] = licence
    for name in names:
        if name not in answer.licences:
            answer.notes.append(f"File:{name}: Commons gives no licence for it")


def _licence(page: dict[str, Any]) -> Licence | None:
    infos = page.get("imageinfo") or [{}]
    metadata = infos[0].get("extmetadata", {}) if isinstance(infos[0], dict) else {}
    name = _text(metadata, "LicenseShortName")
    if name is None:
        return None
    credit = _text(metadata, "Artist") or _text(metadata, "Credit")
    return Licence(name, _text(metadata, "LicenseUrl"), credit)


def _text(metadata: dict[str, Any], key: str) -> str | None:
    """A field's value as plain text: extmetadata values are HTML."""
    value = metadata.get(key, {}).get("value") if isinstance(metadata.get(key), dict) else None
    if not isinstance(value, str):
        return None
    parser = _PlainText()
    parser.feed(value)
    parser.close()
    text = UNSTORABLE.sub("", re.sub(r"\s+", " ", "".join(parser.parts))).strip()
    return text[:500] or None


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
