"""Reconciliation: a spreadsheet's cells (what investigators wrote down, in any script)
matched to catalogue entries, in the terms of the W3C Entity Reconciliation API v0.2, the
version OpenRefine speaks. The HTTP side is api/routes/reconcile.py; here are the queries,
their answers from the marking matcher, suggestions and the values a column can be extended
with. Entities are published entries, named by slug; types are the categories.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from weaponsdb import models, schemas
from weaponsdb.catalogue.read import EntryFilter, list_entries
from weaponsdb.errors import FieldError, InvalidInputError, invalid
from weaponsdb.matching.matcher import MAX_MARKINGS, MAX_RESULTS, Matcher, MatchQuery
from weaponsdb.matching.normalise import fold, key
from weaponsdb.matching.scoring import CONFIDENT_SCORE, Candidate, Effect
from weaponsdb.vocab import Category, IdentifierScheme, Status

MAX_QUERIES = 100  # in one batch; OpenRefine sends 10
DEFAULT_LIMIT = 10
SUGGESTIONS = 10

# Properties a query may give beside the cell's text: what else was seen on the item.
QUERY_PROPERTIES = {
    "markings": ("Markings", "Other markings read off the item, in any script."),
    "category": ("Category", "What kind of weapon or munition it is."),
    "calibre": ("Calibre (mm)", "The calibre in millimetres, e.g. 122 or '7.62 mm'."),
    "country": ("Country of origin", "An ISO 3166-1 alpha-2 code or an English name."),
}
# Properties a reconciled column can be extended with.
EXTEND_PROPERTIES = {
    "calibre": "Calibre (mm)",
    "country": "Country of origin (ISO 3166-1 alpha-2)",
    "category": "Category",
    "family": "Family",
    "producers": "Producers",
    "wikidata": "Wikidata item",
    "url": "Entry page",
}

ShortCell = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class Lenient(BaseModel):
    # Clients add fields of later versions of the protocol; they do not change the answer.
    model_config = ConfigDict(extra="ignore", frozen=True)


class EntityValue(Lenient):
    """A property value that was itself reconciled: its id (and name)."""

    id: ShortCell
    name: ShortCell | None = None


PropertyValue = bool | int | float | ShortCell | EntityValue


class PropertyPair(Lenient):
    pid: str
    v: PropertyValue | Annotated[list[PropertyValue], Field(max_length=MAX_MARKINGS)]


class Query(Lenient):
    query: ShortCell = ""
    type: ShortCell | list[ShortCell] | None = None
    limit: int | None = Field(default=None, ge=1, le=MAX_RESULTS)
    properties: list[PropertyPair] = Field(default=[], max_length=len(QUERY_PROPERTIES) * 4)
    type_strict: Literal["any", "should", "all"] = "any"


class Batch(RootModel[dict[str, Query]]):
    root: dict[str, Query] = Field(max_length=MAX_QUERIES)


@dataclass(frozen=True)
class Feature:
    id: str
    value: bool | float


@dataclass(frozen=True)
class Answer:
    """One candidate for one query: the entry, how likely, and why."""

    slug: str
    name: str
    description: str
    score: float
    match: bool
    category: str | None
    features: list[Feature]


def parse_batch(text: str, field: str = "queries") -> dict[str, Query]:
    """The JSON of a `queries` parameter, each query checked; errors name the query and its
    field, e.g. `queries.q0.limit`."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            "The queries are not JSON.", [FieldError(field, f"not JSON: {error.msg}")]
        ) from None
    try:
        return Batch.model_validate(document).root
    except ValidationError as error:
        raise _prefixed(
            invalid(error, "Some queries are not reconciliation queries."), field
        ) from None


def _prefixed(error: InvalidInputError, field: str) -> InvalidInputError:
    named = [
        FieldError(f"{field}.{e.field}" if e.field != "(body)" else field, e.reason)
        for e in error.errors
    ]
    return InvalidInputError(error.message, named)


def reconcile(
    session: Session, matcher: Matcher, queries: dict[str, Query]
) -> dict[str, list[Answer]]:
    return {
        name: reconcile_one(session, matcher, query, f"queries.{name}")
        for name, query in queries.items()
    }


@dataclass(frozen=True)
class Seen:
    """What a query says was seen on the item, read from its text and its properties."""

    markings: list[str]
    category: Category | None
    calibre_mm: float | None
    country: str | None


def reconcile_one(session: Session, matcher: Matcher, query: Query, field: str) -> list[Answer]:
    """Candidates for one query, best first. Only a candidate whose score is at least
    CONFIDENT_SCORE is a match: scores are probabilities that sum to at most 1 over the
    candidates, so at most one can be, and then no other is likely (unambiguous)."""
    seen = read_properties(query, field)
    types = _types(query, field)
    filtering = bool(types) and query.type_strict != "should"
    if len(set(types)) == 1 and seen.category is None:
        seen = Seen(seen.markings, types[0], seen.calibre_mm, seen.country)
    markings = [text for text in seen.markings if key(fold(text))][:MAX_MARKINGS]
    if not markings:
        return []  # nothing legible to match: no candidate rather than every entry
    limit = query.limit or DEFAULT_LIMIT
    result = matcher.match(
        session,
        MatchQuery(
            markings=markings,
            category=seen.category,
            calibre_mm=seen.calibre_mm,
            country=seen.country,
            limit=MAX_RESULTS if filtering else limit,
        ),
    )
    candidates = result.candidates
    if filtering:
        candidates = [c for c in candidates if _of_types(c, types, query.type_strict)]
    return [_answer(c) for c in candidates[:limit]]


def _types(query: Query, field: str) -> list[Category]:
    given = [query.type] if isinstance(query.type, str) else (query.type or [])
    return [_category(name, f"{field}.type") for name in given if name]


def _of_types(candidate: Candidate, types: list[Category], strict: str) -> bool:
    category = candidate.entry.category
    if strict == "all":
        return all(category == t.value for t in types)
    return any(category == t.value for t in types)


def read_properties(query: Query, field: str) -> Seen:
    markings = [query.query] if query.query else []
    found: dict[str, Any] = {}
    for n, pair in enumerate(query.properties):
        where = f"{field}.properties[{n}]"
        if pair.pid not in QUERY_PROPERTIES:
            known = ", ".join(QUERY_PROPERTIES)
            raise InvalidInputError(
                f"Unknown property '{pair.pid}'.",
                [FieldError(f"{where}.pid", f"not a property of this service ({known})")],
            )
        values = [_text(v) for v in (pair.v if isinstance(pair.v, list) else [pair.v])]
        values = [v for v in values if v]  # an empty cell says nothing
        if pair.pid == "markings":
            markings += values
        elif values:
            found[pair.pid] = _property(pair.pid, values[0], f"{where}.v")
    return Seen(markings, found.get("category"), found.get("calibre"), found.get("country"))


def _text(value: PropertyValue) -> str:
    if isinstance(value, EntityValue):
        return value.id
    if isinstance(value, bool):
        return ""
    return str(value).strip()


def _property(pid: str, value: str, field: str) -> Any:
    if pid == "category":
        return _category(value, field)
    if pid == "calibre":
        return calibre_mm(value, field)
    return country_code(value, field)


def _category(value: str, field: str) -> Category:
    wanted = value.strip().casefold().replace("-", " ")
    for category in Category:
        if wanted in (category.value.replace("-", " "), category.name.casefold().replace("_", " ")):
            return category
    choices = ", ".join(c.value for c in Category)
    raise InvalidInputError(
        f"'{value}' is not a category.", [FieldError(field, f"not a category ({choices})")]
    )


def calibre_mm(value: str, field: str) -> float:
    """'122', '122 mm', '7,62' or '7.62x39': the leading number, in millimetres."""
    found = re.match(r"\s*(\d+(?:[.,]\d+)?)\s*(mm)?", value, re.IGNORECASE)
    number = float(found.group(1).replace(",", ".")) if found else 0.0
    if not 0 < number <= 1000:
        raise InvalidInputError(
            f"'{value}' is not a calibre.",
            [FieldError(field, "not a calibre in millimetres, e.g. 122 or '7.62 mm'")],
        )
    return number


def country_code(value: str, field: str) -> str:
    try:
        country = pycountry.countries.lookup(value.strip())
    except LookupError:
        raise InvalidInputError(
            f"'{value}' is not a country.",
            [FieldError(field, "not an ISO 3166-1 alpha-2 code or a country's English name")],
        ) from None
    code: str = country.alpha_2
    return code


def _answer(candidate: Candidate) -> Answer:
    entry = candidate.entry
    return Answer(
        slug=entry.slug,
        name=entry.name,
        description=explanation(candidate),
        score=candidate.score,
        match=candidate.score >= CONFIDENT_SCORE,
        category=entry.category,
        features=features(candidate),
    )


def explanation(candidate: Candidate) -> str:
    """Why it is a candidate, in words: what each marking met, and what else counted."""
    parts = [
        f"'{m.observed}' {m.how.value} as '{m.matched}' ({m.detail})" for m in candidate.matches
    ]
    parts += [f"'{text}' not explained" for text in candidate.unmatched]
    parts += [e.reason for e in candidate.evidence if e.effect is not Effect.NEUTRAL]
    return "; ".join(parts)


def features(candidate: Candidate) -> list[Feature]:
    """The explanation as numbers and flags: the best fit of each way a marking was read
    (1 as written), edits, the share of markings explained, and what agreed or not."""
    best: dict[str, float] = {}
    for m in candidate.matches:
        name = f"read_{m.how.name.lower()}"
        best[name] = max(best.get(name, 0.0), round(m.score, 4))
    observed = len(candidate.matches) + len(candidate.unmatched)
    found = [Feature(name, value) for name, value in sorted(best.items())]
    found.append(Feature("edits", float(sum(m.edits for m in candidate.matches))))
    found.append(Feature("markings_explained", round(len(candidate.matches) / observed, 4)))
    found += [
        Feature(f"{e.field}_agrees", e.effect is Effect.RAISED)
        for e in candidate.evidence
        if e.effect is not Effect.NEUTRAL
    ]
    return found


# --- suggest and extend --------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    id: str
    name: str
    description: str | None = None


def suggest_entities(session: Session, prefix: str) -> list[Suggestion]:
    """Published entries whose name or any of their names holds *prefix*, by slug."""
    if not prefix.strip():
        return []
    page = list_entries(session, EntryFilter(text=prefix), SUGGESTIONS)
    return [Suggestion(e.slug, e.name, summary(e)) for e in page.items]


def summary(entry: models.Entry) -> str:
    facts = [entry.category, _mm(entry.calibre_mm), schemas.country_name(entry.country)]
    return ", ".join(f for f in facts if f)


def _mm(value: Any) -> str | None:
    return f"{float(value):g} mm" if value is not None else None


def suggest_types(prefix: str) -> list[Suggestion]:
    wanted = prefix.strip().casefold()
    return [Suggestion(c.value, type_name(c.value)) for c in Category if wanted in c.value]


def suggest_properties(prefix: str) -> list[Suggestion]:
    wanted = prefix.strip().casefold()
    return [
        Suggestion(pid, name, description)
        for pid, (name, description) in QUERY_PROPERTIES.items()
        if wanted in pid or wanted in name.casefold()
    ]


def type_name(category: str) -> str:
    return category[0].upper() + category[1:]


class PropertyId(Lenient):
    id: str


class ExtendQuery(Lenient):
    ids: list[ShortCell] = Field(max_length=MAX_QUERIES * 10)
    properties: list[PropertyId] = Field(min_length=1, max_length=len(EXTEND_PROPERTIES))


def parse_extend(text: str) -> ExtendQuery:
    try:
        query = ExtendQuery.model_validate_json(text)
    except ValidationError as error:
        raise _prefixed(invalid(error, "The extend query is not one."), "extend") from None
    for n, prop in enumerate(query.properties):
        if prop.id not in EXTEND_PROPERTIES:
            known = ", ".join(EXTEND_PROPERTIES)
            raise InvalidInputError(
                f"Unknown property '{prop.id}'.",
                [FieldError(f"extend.properties[{n}].id", f"not a property to extend ({known})")],
            )
    return query


Cell = dict[str, str | float]


def extend(
    session: Session, query: ExtendQuery, entry_page: str
) -> dict[str, dict[str, list[Cell]]]:
    """For each id, each property's values; an id that names no published entry has none.
    *entry_page* is the entry page's URL with `{slug}` in it."""
    entries = {
        e.slug: e
        for e in session.scalars(
            select(models.Entry)
            .where(models.Entry.slug.in_(query.ids))
            .where(models.Entry.status == Status.PUBLISHED.value)
            .options(
                selectinload(models.Entry.producers).selectinload(models.EntryProducer.producer),
                selectinload(models.Entry.identifiers),
            )
        )
    }
    rows: dict[str, dict[str, list[Cell]]] = {}
    for slug in query.ids:
        entry = entries.get(slug)
        rows[slug] = {
            p.id: _values(entry, p.id, entry_page) if entry else [] for p in query.properties
        }
    return rows


def _values(entry: models.Entry, pid: str, entry_page: str) -> list[Cell]:
    if pid == "calibre":
        return [{"float": float(entry.calibre_mm)}] if entry.calibre_mm is not None else []
    if pid == "producers":
        return [{"str": link.producer.name} for link in entry.producers]
    if pid == "wikidata":
        return [
            {"str": i.value}
            for i in entry.identifiers
            if i.scheme == IdentifierScheme.WIKIDATA.value
        ]
    if pid == "url":
        return [{"str": entry_page.format(slug=entry.slug)}]
    value = {"country": entry.country, "category": entry.category, "family": entry.family}[pid]
    return [{"str": value}] if value else []


def names(ids: Sequence[str]) -> list[tuple[str, str]]:
    return [(pid, EXTEND_PROPERTIES[pid]) for pid in ids]
