"""Export and import: a lossless round trip, and bad files refused without harm."""

import json

import pytest
from sqlalchemy import func, select

from tests.factories import exported
from weaponsdb import db, models, transfer
from weaponsdb.errors import ConflictError, InvalidInputError


def import_text(sessions, text: str, on_conflict=transfer.OnConflict.FAIL):
    with db.transaction(sessions) as session:
        return transfer.import_catalogue(session, transfer.parse(text), on_conflict)


def test_round_trip_is_lossless(seeded, database_url):
    original = exported(seeded)
    # Rebuild the same database from nothing, then import what was exported.
    db.downgrade(database_url, "base")
    db.migrate(database_url)
    assert exported(seeded)["entries"] == []
    import_text(seeded, json.dumps(original))
    assert exported(seeded) == original
    assert len(original["entries"]) == 3


def test_a_catalogue_moves_between_database_kinds(seeded, tmp_path):
    original = exported(seeded)
    other_url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    db.migrate(other_url)
    other = db.make_sessionmaker(db.make_engine(other_url))
    import_text(other, json.dumps(original))
    assert exported(other) == original


def test_import_adds_entries_related_to_each_other(sessions):
    document = {
        "sources": [{"key": "synthetic-source", "kind": "other", "title": "Synthetic test data"}],
        "entries": [
            {
                "slug": "synthetic-variant",
                "name": "Synthetic variant (test data)",
                "relations": [
                    {
                        "kind": "variant of",
                        "target": "synthetic-base",
                        "citations": [{"source": "synthetic-source", "confidence": "reported"}],
                    }
                ],
            },
            {"slug": "synthetic-base", "name": "Synthetic base (test data)"},
        ],
    }
    import_text(sessions, json.dumps(document))
    catalogue = exported(sessions)
    variant = next(e for e in catalogue["entries"] if e["slug"] == "synthetic-variant")
    assert variant["relations"][0]["target"] == "synthetic-base"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"format": "something-else"}, "format"),
        ({"entries": [{"slug": "Not A Slug", "name": "x"}]}, "entries[0].slug"),
        ({"entries": [{"slug": "x", "name": "x", "category": "tank"}]}, "entries[0].category"),
        ({"entries": [{"slug": "x", "name": "x", "country": "ZZ"}]}, "entries[0].country"),
        ({"entries": [{"slug": "x", "name": "x", "calibre_mm": -1}]}, "entries[0].calibre_mm"),
        ({"sources": [{"key": "s", "kind": "other", "published": "2023-13-01"}]}, "sources[0]"),
        ({"entries": [{"slug": "x", "name": "x", "surprise": 1}]}, "entries[0].surprise"),
        ({"entries": [{"slug": "x", "name": "a\u0000b"}]}, "entries[0].name"),
    ],
)
def test_malformed_documents_name_the_field(document, field):
    with pytest.raises(InvalidInputError) as raised:
        transfer.parse(json.dumps(document))
    assert any(e.field.startswith(field) for e in raised.value.errors), raised.value.errors


def test_a_dangling_reference_refuses_the_whole_import(seeded):
    before = exported(seeded)
    document = {
        "entries": [
            {"slug": "synthetic-ok", "name": "Synthetic (test data)"},
            {
                "slug": "synthetic-bad",
                "name": "Synthetic (test data)",
                "citations": [{"source": "no-such-source", "confidence": "reported"}],
            },
        ]
    }
    with pytest.raises(InvalidInputError) as raised:
        import_text(seeded, json.dumps(document))
    assert raised.value.errors[0].field == "entries[1].citations[0].source"
    assert exported(seeded) == before


def test_importing_what_exists_fails_whole_or_skips(seeded):
    before = exported(seeded)
    with pytest.raises(ConflictError):
        import_text(seeded, json.dumps(before))
    assert exported(seeded) == before
    report = import_text(seeded, json.dumps(before), transfer.OnConflict.SKIP)
    assert report.added == []
    assert exported(seeded) == before
    with seeded() as session:
        assert session.scalar(select(func.count(models.Entry.id))) == 3
