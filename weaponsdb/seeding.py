"""Loading the seed catalogue shipped with weaponsdb.

Each seed source, producer and entry is loaded at most once, ever: the keys of what was
loaded are remembered, so a later load neither duplicates it nor brings back what an editor
has since changed or retracted.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from weaponsdb import models, revisions, schemas, transfer

SEED_FILE = Path(__file__).resolve().parent / "seed" / "catalogue.json"


def seed_keys(document: schemas.CatalogueDocument) -> dict[str, object]:
    return {
        **{f"source:{s.key}": s for s in document.sources},
        **{f"producer:{p.key}": p for p in document.producers},
        **{f"entry:{e.slug}": e for e in document.entries},
    }


def load_seed(session: Session, path: Path = SEED_FILE) -> transfer.ImportReport:
    document = transfer.read_file(path)
    applied = set(session.scalars(select(models.SeedApplied.key)))
    pending = {key for key in seed_keys(document) if key not in applied}
    unloaded = document.model_copy(
        update={
            "sources": [s for s in document.sources if f"source:{s.key}" in pending],
            "producers": [p for p in document.producers if f"producer:{p.key}" in pending],
            "entries": [e for e in document.entries if f"entry:{e.slug}" in pending],
        }
    )
    report = transfer.import_catalogue(
        session,
        unloaded,
        transfer.OnConflict.SKIP,
        revisions.SEED_AUTHOR,
        "Loaded from the seed catalogue shipped with weaponsdb.",
    )
    session.add_all(models.SeedApplied(key=key) for key in sorted(pending))
    session.flush()
    return report
