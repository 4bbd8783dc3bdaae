"""Loading a large catalogue: `weaponsdb import` of one file of synthetic entries, then
`weaponsdb migrate` (which backfills first revisions), as users run them, on SQLite and
PostgreSQL. Import validation and the revision backfill were quadratic (a 100k import had to
be split into ten files; migrate took minutes on PostgreSQL); this shows they are not, and
how fast the import writes (the target: 1,000 entries/s at 100k entries in one file).

    python -m benchmarks.bulk_import [--entries 100000] [--database sqlite|postgresql|both]
                                     [--baseline CHECKOUT]

Prints entries/s per database, and the same at a tenth of the size, measured in the same run:
a linear step keeps the rate; a quadratic one loses a factor of ten. Beside each wall time,
the CPU seconds of the `weaponsdb import` process (on SQLite all of the work; on PostgreSQL
the server's share is not in it), which the machine's load changes far less. With
--baseline, a checkout of older weaponsdb code imports the same file into a fresh database
just before this code does, each size, and the ratios are printed. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.load import database
from benchmarks.synthetic import synthetic_document


def weaponsdb(url: str, *args: str, code: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds one `weaponsdb` command took, run as a user runs it; with
    *code*, that checkout's weaponsdb (run from its folder, its package comes first)."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "weaponsdb", *args],
        env={**os.environ, "WEAPONSDB_DATABASE_URL": url},
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=code,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - started, cpu


def measure(kind: str, path: Path, entries: int, code: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        weaponsdb(url, "migrate", code=code)
        imported, cpu = weaponsdb(url, "import", str(path), code=code)
        migrated, _ = weaponsdb(url, "migrate", code=code)  # nothing to backfill
    return {
        "database": kind,
        "entries": entries,
        "import_s": round(imported, 2),
        "import_cpu_s": round(cpu, 2),
        "entries_per_s": round(entries / imported, 1),
        "migrate_after_s": round(migrated, 2),
    }


def sized(kind: str, entries: int, baseline: Path | None) -> dict[str, Any]:
    """This code at *entries*, and the baseline's just before it on the same file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalogue.json"
        path.write_text(json.dumps(synthetic_document(entries)))
        old = measure(kind, path, entries, baseline) if baseline else None
        new = measure(kind, path, entries)
    if old is not None:
        new["baseline"] = old
        new["speedup_wall"] = round(old["import_s"] / new["import_s"], 2)
        new["speedup_cpu"] = round(old["import_cpu_s"] / max(new["import_cpu_s"], 0.01), 2)
    return new


def describe(figures: dict[str, Any]) -> str:
    text = (
        f"{figures['entries']} entries in {figures['import_s']} s "
        f"({figures['entries_per_s']} entries/s; import process {figures['import_cpu_s']} "
        f"CPU-s)"
    )
    if "baseline" in figures:
        old = figures["baseline"]
        text += (
            f"; baseline {old['import_s']} s ({old['entries_per_s']}/s, "
            f"{old['import_cpu_s']} CPU-s): x{figures['speedup_wall']} wall, "
            f"x{figures['speedup_cpu']} CPU"
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--baseline", type=Path, help="a checkout of older weaponsdb code")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(f"Bulk import: {args.entries} synthetic entries in one file; load {os.getloadavg()}")
    results = []
    for kind in kinds:
        small = sized(kind, args.entries // 10, args.baseline)
        large = sized(kind, args.entries, args.baseline)
        ratio = large["entries_per_s"] / small["entries_per_s"]
        print(
            f"{kind}: {describe(large)}\n  {describe(small)}\n  rate ratio {ratio:.2f}; "
            f"migrate afterwards {large['migrate_after_s']} s; load {os.getloadavg()}",
            flush=True,
        )
        results.append({"large": large, "small": small, "rate_ratio": round(ratio, 2)})
    print(json.dumps({"benchmark": "bulk_import", "results": results}))


if __name__ == "__main__":
    main()
