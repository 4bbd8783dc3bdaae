"""The seed catalogue: sourced, idempotent, and never overwriting editors' work."""

import os
import unicodedata

import pytest
from sqlalchemy import select

from tests.factories import exported
from weaponsdb import db, models, schemas, seeding, transfer
from weaponsdb.config import PROJECT_ROOT

OP_ED = PROJECT_ROOT.parent / "shared" / "sources" / "north-korea-hamas-weapons-op-ed.txt"


def seed_document() -> schemas.CatalogueDocument:
    return transfer.read_file(seeding.SEED_FILE)


def test_seed_has_the_three_first_entries_and_every_source_the_op_ed_names():
    document = seed_document()
    assert {e.slug for e in document.entries} == {"bang-122", "f-7", "type-58"}
    publishers = {s.publisher for s in document.sources}
    assert {
        "Associated Press",
        "Agence France-Presse",
        "United Press International",
        "The Daily Telegraph",
        "38 North (Stimson Center)",
    } <= publishers
    assert any(s.kind == "opinion" and s.published == "2024-02-24" for s in document.sources)


def test_every_seed_claim_is_cited():
    for entry in seed_document().entries:
        cited_fields = {c.field for c in entry.citations}
        for field, value in (
            ("category", entry.category),
            ("calibre", entry.calibre_mm),
            ("country", entry.country),
            ("family", entry.family),
            ("description", entry.description),
        ):
            if value is not None:
                assert field in cited_fields, f"{entry.slug}.{field} has no source"
        for claim in [*entry.names, *entry.markings, *entry.features, *entry.instances]:
            assert claim.citations, f"{entry.slug}: {claim} has no source"


def normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def test_every_seed_quote_stands_verbatim_in_the_op_ed():
    if not OP_ED.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{OP_ED} is missing")
        pytest.skip("the op-ed is not beside the project")
    op_ed = normalised(OP_ED.read_text(encoding="utf-8"))
    for entry in seed_document().entries:
        for citation in entry.all_citations():
            assert citation.quote, f"{entry.slug}: a citation without a quote"
            assert normalised(citation.quote) in op_ed, citation.quote


def test_loading_twice_changes_nothing(sessions):
    with db.transaction(sessions) as session:
        first = seeding.load_seed(session)
    before = exported(sessions)
    with db.transaction(sessions) as session:
        second = seeding.load_seed(session)
    assert len(first.added) == 9
    assert second.added == []
    assert exported(sessions) == before


def test_a_reload_never_overwrites_or_revives_what_editors_changed(seeded):
    with db.transaction(seeded) as session:
        rifle = session.scalar(select(models.Entry).where(models.Entry.slug == "type-58"))
        assert rifle is not None
        rifle.description = "Edited by an editor."
        rifle.instances.clear()
    edited = exported(seeded)
    with db.transaction(seeded) as session:
        assert seeding.load_seed(session).added == []
    assert exported(seeded) == edited
