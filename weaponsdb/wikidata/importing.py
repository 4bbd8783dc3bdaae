"""Wikidata items into the catalogue as draft entries, every statement cited.

Each item revision read becomes a source (`wikidata-q…-r…`: the item, its revision id, the
date it was retrieved), and everything taken from the item cites it with the confidence
'reported'. A new item makes a draft; nothing is published without an editor. An item
imported before (found by its Wikidata identifier) is updated only where what stands is
still what the last import put there: an attribute, name or link an editor changed or added
is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from weaponsdb import editing, models, revisions, schemas
from weaponsdb.catalogue import convert
from weaponsdb.catalogue.parts import CITATIONS, PARTS
from weaponsdb.revisions import ENTRIES
from weaponsdb.vocab import Confidence, IdentifierScheme, NameKind, SourceKind, Status
from weaponsdb.wikidata.commons import Licence
from weaponsdb.wikidata.entities import Entity, Item, english_label, read_item

AUTHOR = "wikidata import"
SOURCE_PREFIX = "wikidata-"
ATTRIBUTES = {"category": "category", "calibre_mm": "calibre", "country": "country"}
COMMONS_NOTE = "photo lead from Wikidata; its licence is on the Commons file page, not checked"
PART = {part.name: part for part in PARTS}


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def import_items(
    session: Session,
    entities: list[Entity],
    today: dt.date,
    licences: dict[str, Licence] | None = None,
) -> Report:
    """Import the items among *entities* (the others, e.g. countries and makers, are read
    for what the items name), in the caller's transaction; *licences*, by Commons file
    name, are what Commons said of the items' images (none: not asked)."""
    report = Report()
    by_id = {e["id"]: e for e in entities}
    for entity in entities:
        if not re.fullmatch(r"Q[1-9][0-9]*", entity["id"]) or not _is_subject(entity, by_id):
            continue
        item = read_item(entity, by_id)
        source = _source(session, item, today)
        producers = _producers(session, item, by_id, report)
        slug = _identified(session, item.qid)
        identifiers = _identifiers(item, licences or {}, today)
        if slug is None:
            report.created.append(_create(session, item, source, producers, identifiers))
        else:
            _update(session, slug, item, source, producers, identifiers)
            report.updated.append(slug)
        report.notes += [f"{item.qid}: {note}" for note in item.unmapped]
    return report


def _is_subject(entity: Entity, others: dict[str, Entity]) -> bool:
    """An item to import, not one that only names a class, country or maker of another."""
    named: set[str] = set()
    for other in others.values():
        for pid in ("P31", "P495", "P176"):
            for claim in other.get("claims", {}).get(pid, []):
                value = claim.get("mainsnak", {}).get("datavalue", {}).get("value")
                if isinstance(value, dict) and isinstance(value.get("id"), str):
                    named.add(value["id"])
    return entity["id"] not in named


def _identified(session: Session, qid: str) -> str | None:
    slug: str | None = session.scalar(
        select(models.Entry.slug)
        .join(models.EntryIdentifier)
        .where(models.EntryIdentifier.scheme == IdentifierScheme.WIKIDATA.value)
        .where(models.EntryIdentifier.value == qid)
    )
    return slug


def _source(session: Session, item: Item, today: dt.date) -> str:
    key = f"{SOURCE_PREFIX}{item.qid.lower()}-r{item.revision}"
    if session.scalar(select(models.Source.id).where(models.Source.key == key)) is None:
        record = schemas.SourceRecord(
            key=key,
            kind=SourceKind.DATASET,
            title=f"Wikidata item {item.qid}, revision {item.revision}",
            publisher="Wikidata",
            published=item.modified,
            url=f"https://www.wikidata.org/w/index.php?title={item.qid}&oldid={item.revision}",
            description=f"Retrieved {today.isoformat()} by `weaponsdb import wikidata`.",
        )
        editing.create_source(session, record, AUTHOR, f"Wikidata {item.qid} r{item.revision}")
    return key


def _cited(source: str, item: Item, what: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "source": source,
            "confidence": Confidence.REPORTED.value,
            "field": what,
            "locator": f"{item.qid}, revision {item.revision}",
        }
    ]


def _producers(session: Session, item: Item, by_id: dict[str, Entity], report: Report) -> list[str]:
    """Producer keys for the item's makers: the producer that carries the maker's Wikidata
    identifier, else one made from the maker's own item when the input holds it."""
    keys = []
    for qid in item.manufacturers:
        key = session.scalar(
            select(models.Producer.key)
            .join(models.ProducerIdentifier)
            .where(models.ProducerIdentifier.scheme == IdentifierScheme.WIKIDATA.value)
            .where(models.ProducerIdentifier.value == qid)
        )
        name = english_label(by_id.get(qid, {}))
        if key is None and name:
            key = f"{SOURCE_PREFIX}{qid.lower()}"
            identifier = schemas.IdentifierRecord(scheme=IdentifierScheme.WIKIDATA, value=qid)
            record = schemas.ProducerRecord(key=key, name=name[:200], identifiers=[identifier])
            session.add(convert.producer_row(record))
            session.flush()
        if key is None:
            report.notes.append(f"{item.qid}: maker {qid} not imported: give its item too")
            continue
        keys.append(key)
    return keys


def _names(item: Item, source: str) -> list[dict[str, Any]]:
    return [
        {
            "text": label.text,
            "script": label.script,
            "language": label.language,
            "kind": (NameKind.ALIAS if label.alias else NameKind.NAME).value,
            "citations": _cited(source, item),
        }
        for label in item.labels
        if len(label.text) <= 200
    ]


def _identifiers(item: Item, licences: dict[str, Licence], today: dt.date) -> list[dict[str, Any]]:
    return [
        {"scheme": IdentifierScheme.WIKIDATA.value, "value": item.qid},
        *(
            {
                "scheme": IdentifierScheme.COMMONS.value,
                "value": name,
                "note": commons_note(licences.get(name), today),
            }
            for name in item.images
            if len(name) <= 200
        ),
    ]


def commons_note(licence: Licence | None, today: dt.date) -> str:
    """What a photo lead says of its licence: as Commons gave it, or that nobody checked."""
    if licence is None:
        return COMMONS_NOTE
    where = f" <{licence.url}>" if licence.url else ""
    credit = f"; credit: {licence.credit}" if licence.credit else ""
    return (
        f"licence: {licence.name}{where}{credit}"
        f" (as Wikimedia Commons gave it on {today.isoformat()}; check before reuse)"
    )


def _slug(session: Session, item: Item) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", item.name.lower()).strip("-")[:60]
    taken = session.scalar(select(models.Entry.id).where(models.Entry.slug == slug))
    return slug if slug and taken is None else f"wikidata-{item.qid.lower()}"


def _create(
    session: Session,
    item: Item,
    source: str,
    producers: list[str],
    identifiers: list[dict[str, Any]],
) -> str:
    values = {"category": item.category, "calibre_mm": item.calibre_mm, "country": item.country}
    record = schemas.EntryRecord.model_validate(
        {
            "slug": _slug(session, item),
            "name": item.name[:200],
            "status": Status.DRAFT.value,
            **values,
            "citations": [
                c
                for column, what in ATTRIBUTES.items()
                if values[column] is not None
                for c in _cited(source, item, what)
            ],
            "names": _names(item, source),
            "producers": [{"producer": k, "citations": _cited(source, item)} for k in producers],
            "identifiers": identifiers,
        }
    )
    editing.create_entry(session, record, AUTHOR, f"Imported from Wikidata {item.qid}")
    return record.slug


def _from_wikidata(citations: list[schemas.CitationRecord]) -> bool:
    return bool(citations) and all(c.source.startswith(SOURCE_PREFIX) for c in citations)


def _update(
    session: Session,
    slug: str,
    item: Item,
    source: str,
    producers: list[str],
    identifiers: list[dict[str, Any]],
) -> None:
    change = editing.Change(slug, None, AUTHOR, f"Re-imported from Wikidata {item.qid}")
    entry = editing.begin_change(session, change)
    before = _last_import(session, entry)
    refs = convert.References(
        session.scalars(select(models.Source).where(models.Source.key == source)),
        session.scalars(select(models.Producer).where(models.Producer.key.in_(producers))),
    )
    reimport = Reimport(entry, before, item, source, refs)
    _update_attributes(reimport)
    _update_names(reimport)
    _add_missing(
        entry,
        "producers",
        [{"producer": k, "citations": _cited(source, item)} for k in producers],
        refs,
        key="producer",
    )
    _add_missing(entry, "identifiers", identifiers, refs, key="value")
    _update_leads(entry, before, identifiers)
    editing.end_change(session, change, entry)


def _last_import(session: Session, entry: models.Entry) -> schemas.EntryRecord | None:
    """The entry as the last import left it."""
    revision = session.scalar(
        select(models.Revision)
        .where(models.Revision.entry_id == entry.id, models.Revision.author == AUTHOR)
        .order_by(models.Revision.number.desc())
        .limit(1)
    )
    return revisions.snapshot(ENTRIES, revision) if revision is not None else None


def _citation(source: str, item: Item, refs: convert.References, what: str | None) -> Any:
    record = schemas.CitationRecord.model_validate(_cited(source, item, what)[0])
    return convert.row(CITATIONS, record, refs, ())


@dataclass(frozen=True)
class Reimport:
    """An entry being imported again: as it stands, as the last import left it, and the
    item's new revision with the source that cites it."""

    entry: models.Entry
    before: schemas.EntryRecord | None
    item: Item
    source: str
    refs: convert.References

    def fields(
        self,
    ) -> tuple[models.Entry, schemas.EntryRecord | None, Item, str, convert.References]:
        return self.entry, self.before, self.item, self.source, self.refs


def _update_leads(
    entry: models.Entry, before: schemas.EntryRecord | None, identifiers: list[dict[str, Any]]
) -> None:
    """A photo lead's note takes a licence Commons now gives while it still says what the
    last import wrote; an unanswered question never replaces a licence already recorded."""
    imported = {(i.value, i.note) for i in (before.identifiers if before else [])}
    checked = {
        i["value"]: i["note"] for i in identifiers if i.get("note", COMMONS_NOTE) != COMMONS_NOTE
    }
    for row in entry.identifiers:
        if row.scheme == IdentifierScheme.COMMONS.value and (row.value, row.note) in imported:
            row.note = checked.get(row.value, row.note)


def _update_attributes(update: Reimport) -> None:
    """An attribute is set again only while it still holds what the last import set."""
    entry, before, item, source, refs = update.fields()
    for column, what in ATTRIBUTES.items():
        new = getattr(item, column)
        current = getattr(entry, column)
        imported = getattr(before, column) if before is not None else None
        if before is None or not _same(current, imported) or _same(current, new):
            continue
        setattr(entry, column, convert.stored(new) if new is not None else None)
        entry.citations = [
            c
            for c in entry.citations
            if not (c.field == what and c.source.key.startswith(SOURCE_PREFIX))
        ]
        if new is not None:
            entry.citations.append(_citation(source, item, refs, what))


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, (Decimal, float, int)) or isinstance(b, (Decimal, float, int)):
        return abs(float(a) - float(b)) < 0.005
    return str(getattr(a, "value", a)) == str(getattr(b, "value", b))


def _update_names(update: Reimport) -> None:
    """Names the last import put there and nobody changed follow the item (cited anew, or
    gone); every other name stays; the item's new names are added."""
    entry, before, item, source, refs = update.fields()
    imported = {
        (n.text, n.kind.value, n.script, n.language)
        for n in (before.names if before else [])
        if _from_wikidata(n.citations)
    }
    wanted = {n["text"]: n for n in _names(item, source)}
    kept: list[Any] = []
    for row in entry.names:
        untouched = (row.text, row.kind, row.script, row.language) in imported and all(
            c.source.key.startswith(SOURCE_PREFIX) for c in row.citations
        )
        if not untouched:
            kept.append(row)
        elif row.text in wanted:
            row.citations = [_citation(source, item, refs, None)]
            kept.append(row)
    texts = {row.text for row in kept}
    part = PART["names"]
    kept += [
        convert.row(part, part.record.model_validate(n), refs, ("names",), entry)
        for text, n in wanted.items()
        if text not in texts
    ]
    entry.names = kept


def _add_missing(
    entry: models.Entry, name: str, items: list[dict[str, Any]], refs: convert.References, key: str
) -> None:
    part = PART[name]
    rows = list(getattr(entry, name))
    have = {_key(getattr(row, key)) for row in rows}
    for values in items:
        if values[key] not in have:
            rows.append(convert.row(part, part.record.model_validate(values), refs, (name,), entry))
    setattr(entry, name, rows)


def _key(value: Any) -> Any:
    return getattr(value, "key", value)
