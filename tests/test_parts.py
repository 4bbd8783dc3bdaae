"""The table of an entry's parts agrees with the ORM classes and records it names, so that
a part added to one and not the others fails here, not in production."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from weaponsdb import models, schemas
from weaponsdb.catalogue.parts import CITATIONS, ENTRY_COLUMNS, PARTS, Part


def test_every_list_an_entry_holds_is_a_part():
    relationships = {r.key for r in inspect(models.Entry).relationships}
    assert relationships == {part.name for part in PARTS} | {CITATIONS.name}
    lists = {
        name
        for name, field in schemas.EntryRecord.model_fields.items()
        if getattr(field.annotation, "__origin__", None) is list
    }
    assert lists == {part.name for part in PARTS} | {CITATIONS.name}


def test_every_cited_part_has_its_citation_column():
    cited = [part for part in PARTS if part.cited]
    targets = {r.key for r in inspect(models.Citation).relationships} - {"source", "via"}
    assert len(targets) == len(cited) + 1  # the parts and the entry itself
    assert len(models.CITED_COLUMNS) == len(targets)


@pytest.mark.parametrize("part", [*PARTS, CITATIONS], ids=lambda part: part.name)
def test_a_parts_columns_and_references_are_on_its_row(part: Part):
    mapper = inspect(part.model)
    assert set(part.columns) <= set(mapper.columns.keys()), part.name
    relationships = {r.key: r for r in mapper.relationships}
    for reference in part.references:
        assert relationships[reference.field].mapper.class_ is reference.model
    for position in part.positions:
        assert position.column in set(mapper.columns.keys())
        assert position.part in {p.name for p in PARTS}
    assert part.cited == ("citations" in relationships)


def test_the_entrys_own_columns_are_its_rows():
    assert set(ENTRY_COLUMNS) <= set(inspect(models.Entry).columns.keys())
