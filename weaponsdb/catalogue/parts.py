"""The parts of a catalogue entry, declared once.

An entry (models.Entry, schemas.EntryRecord) has columns of its own, citations, and lists
of parts: names, features, markings, ... Each part is one row of PARTS below: the name of
the Entry relationship and of the EntryRecord field that hold it, its ORM class, its record
class, and what it refers to elsewhere in the catalogue. Everything that walks an entry is
derived from this table: rows <-> records (convert.py), what a read loads (read.py), which
lists editors change item by item (editing.py, and the API routes for each), the sources
an entry cites, and the paths that name a bad value (markings[0].citations[1].source).

A part's columns are its record's fields, less its citations, references and positions:
the ORM class names its columns as the record names its fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from weaponsdb import models, schemas

Referable = type[models.Source] | type[models.Producer] | type[models.Entry]


@dataclass(frozen=True)
class Reference:
    """A record field naming another catalogue object by its key; on the row, the
    relationship of the same name holds the object itself."""

    field: str  # e.g. "producer": ProducerLinkRecord.producer, EntryProducer.producer
    model: Referable
    key: str = "key"  # the referred object's column the record names it by


@dataclass(frozen=True)
class Position:
    """A record field giving the position of another part of the same entry, e.g. which of
    the entry's markings a photo shows; on the row, a relationship to that part's row."""

    field: str  # the record's field: the position, from 0
    relationship: str  # the row's relationship to the other part's row
    column: str  # the row's foreign key column behind that relationship
    part: str  # the name of the other part


@dataclass(frozen=True)
class Part:
    """One kind of thing an entry holds a list of."""

    name: str  # the Entry relationship and the EntryRecord field holding the list
    model: type[models.Base]
    record: type[schemas.Record]
    references: tuple[Reference, ...] = ()
    positions: tuple[Position, ...] = ()
    # Editors add, change and remove items one by one (photos come with their files
    # through an endpoint of their own).
    editable: bool = True

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The record fields that are stored as they are in the row's columns."""
        derived = {
            CITED_BY,
            *(r.field for r in self.references),
            *(p.field for p in self.positions),
        }
        return tuple(name for name in self.record.model_fields if name not in derived)

    @property
    def cited(self) -> bool:
        return issubclass(self.record, schemas.Cited)


CITED_BY = "citations"  # the relationship and field holding the citations of a claim

# The link from a claim to a source: not a part of its own, but stored the same way.
CITATIONS = Part(
    CITED_BY,
    models.Citation,
    schemas.CitationRecord,
    references=(Reference("source", models.Source), Reference("via", models.Source)),
)

# Order matters where a part refers to the position of another: that one comes first.
PARTS: tuple[Part, ...] = (
    Part("names", models.EntryName, schemas.NameRecord),
    Part("features", models.Feature, schemas.FeatureRecord),
    Part("markings", models.Marking, schemas.MarkingRecord),
    Part("measurements", models.Measurement, schemas.MeasurementRecord),
    Part(
        "producers",
        models.EntryProducer,
        schemas.ProducerLinkRecord,
        references=(Reference("producer", models.Producer),),
    ),
    Part(
        "relations",
        models.Relation,
        schemas.RelationRecord,
        references=(Reference("target", models.Entry, key="slug"),),
    ),
    Part("instances", models.Instance, schemas.InstanceRecord),
    Part(
        "photos",
        models.Photo,
        schemas.PhotoRecord,
        positions=(Position("marking_index", "marking", "marking_id", "markings"),),
        editable=False,
    ),
    Part("identifiers", models.EntryIdentifier, schemas.IdentifierRecord),
)

# What editors change item by item, by position: the editable parts and the entry's own
# citations. The name is also the path of the API routes (/v1/entries/{slug}/{name}).
COLLECTIONS: dict[str, Part] = {part.name: part for part in (*PARTS, CITATIONS) if part.editable}

# The entry's own columns: its record's fields that are neither parts nor citations.
ENTRY_COLUMNS = tuple(
    name
    for name in schemas.EntryRecord.model_fields
    if name not in {CITED_BY, *(part.name for part in PARTS)}
)


def refers_to_entries(part: Part) -> bool:
    """Parts that name other entries are attached once every entry of an import exists."""
    return any(reference.model is models.Entry for reference in part.references)
