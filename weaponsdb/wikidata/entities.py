"""Reading Wikidata entity JSON: the format of Special:EntityData/Q….json and of the JSON
dump (an array, one entity a line), from a file, standard input or the live service; and
what one item says, in weaponsdb's terms (mapping.json says which properties and items
mean what)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from weaponsdb.errors import FieldError, InvalidInputError
from weaponsdb.reading.scripts import script_of
from weaponsdb.schemas import WIKIDATA_ID
from weaponsdb.vocab import Category

Entity = dict[str, Any]
MAPPING = Path(__file__).with_name("mapping.json")
ENTITY_URL = re.compile(r"^https?://www\.wikidata\.org/entity/(Q[1-9][0-9]*)$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # what NameRecord takes
FETCH_TIMEOUT_SECONDS = 30


@cache
def mapping() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(MAPPING.read_text(encoding="utf-8"))
    return loaded


def parse_entities(text: str, origin: str) -> list[Entity]:
    """Every entity in *text*: one EntityData document ({"entities": {...}}), one entity,
    a JSON array of them, or the dump's lines (one entity a line, each ending in a comma,
    between '[' and ']')."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return _dump_lines(text, origin)
    if isinstance(document, dict) and isinstance(document.get("entities"), dict):
        return [_checked(e, f"entities.{k}") for k, e in document["entities"].items()]
    if isinstance(document, list):
        return [_checked(e, f"[{n}]") for n, e in enumerate(document)]
    return [_checked(document, "(document)")]


def _dump_lines(text: str, origin: str) -> list[Entity]:
    entities = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip().rstrip(",")
        if line in ("", "[", "]"):
            continue
        try:
            entities.append(_checked(json.loads(line), f"line {number}"))
        except json.JSONDecodeError as error:
            raise InvalidInputError(
                f"{origin} is not Wikidata entity JSON.",
                [FieldError(f"line {number}", f"not JSON: {error.msg}")],
            ) from None
    if not entities:
        raise InvalidInputError(f"{origin} holds no entity.")
    return entities


def _checked(entity: Any, where: str) -> Entity:
    """An entity with what the importer relies on: its id and revision."""
    problems = []
    if not isinstance(entity, dict):
        raise InvalidInputError("Not a Wikidata entity.", [FieldError(where, "not an object")])
    if not isinstance(entity.get("id"), str) or not entity["id"]:
        problems.append(FieldError(f"{where}.id", "missing"))
    if not isinstance(entity.get("lastrevid"), int):
        problems.append(FieldError(f"{where}.lastrevid", "missing, or not a number"))
    if problems:
        raise InvalidInputError("Not a Wikidata entity.", problems)
    return entity


def fetch(qid: str, base_url: str) -> list[Entity]:
    """The item as Special:EntityData serves it."""
    if not re.fullmatch(WIKIDATA_ID, qid):
        raise InvalidInputError(
            f"'{qid}' is not a Wikidata item.", [FieldError("--fetch", "Q followed by digits")]
        )
    url = f"{base_url.rstrip('/')}/wiki/Special:EntityData/{qid}.json"
    request = urllib.request.Request(url, headers={"User-Agent": "weaponsdb (import wikidata)"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as answer:
            text = answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        raise InvalidInputError(f"{url} answered {error.code}: no such item?") from None
    except (urllib.error.URLError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise InvalidInputError(f"Cannot reach {url}: {reason}.") from None
    return parse_entities(text, url)


# --- what an item says -----------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    text: str
    language: str
    script: str | None
    alias: bool


@dataclass
class Item:
    """One Wikidata item in weaponsdb's terms; None where it says nothing we can map."""

    qid: str
    revision: int
    modified: str | None
    labels: list[Label]
    category: Category | None = None
    country: str | None = None
    calibre_mm: float | None = None
    manufacturers: list[str] = field(default_factory=list)  # item ids
    images: list[str] = field(default_factory=list)  # Commons file names
    unmapped: list[str] = field(default_factory=list)  # what was not understood, in words

    @property
    def name(self) -> str:
        english = [label.text for label in self.labels if label.language == "en"]
        return (english or [label.text for label in self.labels] or [self.qid])[0]


def english_label(entity: Entity) -> str | None:
    label = entity.get("labels", {}).get("en", {}).get("value")
    return label if isinstance(label, str) else None


def read_item(entity: Entity, others: dict[str, Entity]) -> Item:
    """*entity* read with *others* (the rest of the input, by id) for the classes,
    countries and makers it names."""
    properties = mapping()["properties"]
    item = Item(entity["id"], entity["lastrevid"], _day(entity.get("modified")), _labels(entity))
    for class_id in _item_values(entity, properties["instance_of"]):
        item.category = item.category or _category(class_id, others)
    if item.category is None and _item_values(entity, properties["instance_of"]):
        item.unmapped.append("instance of: no class maps to a category (mapping.json)")
    for country_id in _item_values(entity, properties["country_of_origin"]):
        item.country = item.country or _country(country_id, others)
    if item.country is None and _item_values(entity, properties["country_of_origin"]):
        item.unmapped.append("country of origin: no ISO code known (mapping.json, or P297)")
    item.manufacturers = _item_values(entity, properties["manufacturer"])
    item.calibre_mm = _calibre(entity, properties["calibre"], item)
    item.images = [v for v in _values(entity, properties["image"]) if isinstance(v, str)]
    return item


def image_names(entities: list[Entity]) -> list[str]:
    """The Commons file names the entities' images (P18) give."""
    pid = mapping()["properties"]["image"]
    return [v for entity in entities for v in _values(entity, pid) if isinstance(v, str)]


def _day(modified: Any) -> str | None:
    return modified[:10] if isinstance(modified, str) and len(modified) >= 10 else None


def _labels(entity: Entity) -> list[Label]:
    """Labels, then aliases, English first; each text once, with the first language that
    gives it."""
    found: dict[str, Label] = {}
    labels = entity.get("labels", {})
    aliases = entity.get("aliases", {})
    languages = sorted(set(labels) | set(aliases), key=lambda code: (code != "en", code))
    for alias in (False, True):
        for language in languages:
            given = aliases.get(language, []) if alias else [labels.get(language)]
            for value in given:
                text = (value or {}).get("value") if isinstance(value, dict) else None
                if isinstance(text, str) and text.strip() and text not in found:
                    code = language if LANGUAGE.fullmatch(language) else None
                    script = script_of(text)
                    found[text] = Label(
                        text.strip(), code or "", script.value if script else None, alias
                    )
    return [label for label in found.values() if label.language]


def _statements(entity: Entity, pid: str) -> list[dict[str, Any]]:
    """The property's statements, preferred ones alone if any are, never deprecated ones."""
    claims = [c for c in entity.get("claims", {}).get(pid, []) if isinstance(c, dict)]
    preferred = [c for c in claims if c.get("rank") == "preferred"]
    return preferred or [c for c in claims if c.get("rank", "normal") == "normal"]


def _values(entity: Entity, pid: str) -> list[Any]:
    values = []
    for claim in _statements(entity, pid):
        snak = claim.get("mainsnak", {})
        if snak.get("snaktype") == "value":
            values.append(snak.get("datavalue", {}).get("value"))
    return values


def _item_values(entity: Entity, pid: str) -> list[str]:
    return [
        v["id"]
        for v in _values(entity, pid)
        if isinstance(v, dict) and isinstance(v.get("id"), str)
    ]


def _category(class_id: str, others: dict[str, Entity]) -> Category | None:
    mapped = mapping()["categories"].get(class_id)
    if mapped:
        return Category(mapped["category"])
    label = english_label(others.get(class_id, {}))
    values = {c.value: c for c in Category}
    return values.get(label.casefold()) if label else None


def _country(country_id: str, others: dict[str, Entity]) -> str | None:
    mapped = mapping()["countries"].get(country_id)
    if mapped:
        code: str = mapped["code"]
        return code
    given = _values(others.get(country_id, {}), mapping()["properties"]["iso_3166_1_alpha_2"])
    codes = [v for v in given if isinstance(v, str) and re.fullmatch(r"[A-Z]{2}", v)]
    return codes[0] if codes else None


def _calibre(entity: Entity, pid: str, item: Item) -> float | None:
    units = mapping()["units_in_mm"]
    for value in _values(entity, pid):
        if not isinstance(value, dict):
            continue
        unit = ENTITY_URL.match(str(value.get("unit", "")))
        factor = units.get(unit.group(1), {}).get("factor") if unit else None
        try:
            amount = float(value.get("amount", ""))
        except ValueError:
            continue
        if factor is None:
            item.unmapped.append(f"calibre: unit {value.get('unit')} is not in mapping.json")
            continue
        if 0 < amount * factor <= 1000:
            return round(amount * float(factor), 2)
    return None
