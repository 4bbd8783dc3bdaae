"""Loading a large catalogue: `weaponsdb import` of one file of synthetic entries, then
`weaponsdb migrate` (which backfills first revisions), as users run them, on SQLite and
PostgreSQL. Import validation and the revision backfill were quadratic (a 100k import had to
be split into ten files; migrate took minutes on PostgreSQL); this shows they are not.

    python -m benchmarks.bulk_import [--entries 100000] [--database sqlite|postgresql|both]

Prints entries/s per database, and the same at a tenth of the size, measured in the same run:
a linear step keeps the rate; a quadratic one loses a factor of ten. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.load import database
from benchmarks.synthetic import synthetic_document


def weaponsdb(url: str, *args: str) -> float:
    """Seconds one `weaponsdb` command took, run as a user runs it."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "weaponsdb", *args],
        env={**os.environ, "WEAPONSDB_DATABASE_URL": url},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def measure(kind: str, entries: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        path = Path(tmp) / "catalogue.json"
        path.write_text(json.dumps(synthetic_document(entries)))
        weaponsdb(url, "migrate")
        imported = weaponsdb(url, "import", str(path))
        migrated = weaponsdb(url, "migrate")  # nothing to backfill: the anti-join's cost
    return {
        "database": kind,
        "entries": entries,
        "import_s": round(imported, 2),
        "entries_per_s": round(entries / imported, 1),
        "migrate_after_s": round(migrated, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(f"Bulk import: {args.entries} synthetic entries in one file; load {os.getloadavg()}")
    results = []
    for kind in kinds:
        small = measure(kind, args.entries // 10)
        large = measure(kind, args.entries)
        ratio = large["entries_per_s"] / small["entries_per_s"]
        print(
            f"{kind}: {large['entries']} entries in {large['import_s']} s "
            f"({large['entries_per_s']} entries/s; {small['entries']} at "
            f"{small['entries_per_s']}/s, ratio {ratio:.2f}); migrate afterwards "
            f"{large['migrate_after_s']} s"
        )
        results.append({"large": large, "small": small, "rate_ratio": round(ratio, 2)})
    print(json.dumps({"benchmark": "bulk_import", "results": results}))


if __name__ == "__main__":
    main()
