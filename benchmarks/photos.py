"""Photo benchmark: ingest rate, and photo-match latency against a brute-force scan.

    python -m benchmarks.photos [--photos N] [--sizes 10000,100000] [--queries N]

Every image is synthetic, drawn by code (benchmarks and tests never use real photos), and
every entry is a synthetic benchmark entry.

- Ingest: photos per second through the whole of `weaponsdb photos add`'s path (checks,
  re-encoding without metadata, two thumbnails, pHash, content-addressed files, the row and
  the entry's revision) into a fresh SQLite database and photo store.
- Match: latency of finding the nearest reference photos among 10k and 100k reference
  hashes, for the index (HashIndex: vectorised XOR and bit count over one uint64 array) and
  a brute-force plain-Python scan, which must give the same answers. Queries are changed
  copies (cropped, resized, recompressed) of synthetic images among the references, and
  unrelated synthetic images, whose "ranked first" is not applicable. The
  rest of the references are random 64-bit hashes, labelled as such (the scan's cost does
  not depend on how hashes are distributed).

Prints figures and ratios; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from benchmarks.synthetic import synthetic_document
from tests.photo_support import encode, resized_recompressed_cropped, scene
from weaponsdb import db, editing, transfer
from weaponsdb.photos import ingest
from weaponsdb.photos.matching import PhotoMatcher
from weaponsdb.photos.processing import perceptual_hash, upright
from weaponsdb.photos.similarity import NEAR_DUPLICATE, HashIndex, brute_force, to_int
from weaponsdb.photos.storage import FileStore
from weaponsdb.photos.validation import Limits, check_upload

LIMITS = Limits(25 * 1024 * 1024, 50_000_000)
SYNTHETIC = {
    "credit": "Synthetic benchmark image (not a real photo)",
    "licence": "CC0 1.0",
    "caption": "Synthetic image drawn by benchmarks/photos.py",
}


def synthetic_photo(seed: int, size: tuple[int, int]) -> bytes:
    return encode(scene(seed, size), "JPEG", quality=90)


def bench_ingest(photos: int, entries: int = 20) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        db.migrate(url)
        engine = db.make_engine(url)
        sessions = db.make_sessionmaker(engine)
        with db.transaction(sessions) as session:
            document = transfer.parse(json.dumps(synthetic_document(entries)))
            transfer.import_catalogue(session, document, transfer.OnConflict.FAIL)
        store, matcher = FileStore(Path(folder) / "images"), PhotoMatcher()
        description = ingest.PhotoDescription.parse(dict(SYNTHETIC))
        uploads = [synthetic_photo(1000 + n, (1600, 1200)) for n in range(photos)]
        seconds = []
        for number, data in enumerate(uploads):
            change = editing.Change(
                f"synthetic-{number % entries}", None, "benchmark", "Synthetic benchmark photo"
            )
            started = time.perf_counter()
            with db.transaction(sessions) as session:
                upload = ingest.Upload(data, "x.jpg")
                ingest.attach_photo(session, store, matcher, change, upload, description, LIMITS)
            seconds.append(time.perf_counter() - started)
        engine.dispose()
        stored = sum(p.stat().st_size for p in (Path(folder) / "images").rglob("*"))
    total = sum(seconds)
    return {
        "photos": photos,
        "image": "1600x1200 JPEG",
        "photos_per_second": round(photos / total, 1),
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "stored_mib": round(stored / 2**20, 1),
    }


def bench_query_hashing(samples: int = 20) -> float:
    """Milliseconds to check a 1600x1200 JPEG and compute its pHash: the match endpoint's
    work before the index is asked."""
    data = synthetic_photo(7, (1600, 1200))
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        checked = check_upload(data, LIMITS, "query.jpg")
        perceptual_hash(upright(checked.data))
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 1)


def photo_hash(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        return to_int(perceptual_hash(image))


def median_us(function: Callable[[int], object], queries: list[int]) -> float:
    timings = []
    for query in queries:
        started = time.perf_counter()
        function(query)
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1e6, 1)


def bench_match(sizes: list[int], queries_per_kind: int) -> list[dict[str, Any]]:
    real = [synthetic_photo(5000 + n, (640, 480)) for n in range(queries_per_kind)]
    real_hashes = [photo_hash(data) for data in real]
    changed = [photo_hash(resized_recompressed_cropped(data)) for data in real]
    unrelated = [photo_hash(synthetic_photo(9000 + n, (640, 480))) for n in range(queries_per_kind)]
    rng = random.Random(11)
    results = []
    for size in sizes:
        # The real images' hashes come last, so reference id = size - count + image number.
        hashes = [rng.getrandbits(64) for _ in range(size - len(real_hashes))] + real_hashes
        for kind, queries, max_distance in (
            ("near-duplicate check", changed, NEAR_DUPLICATE),
            ("changed copy, nearest 10", changed, 20),
            ("unrelated photo, nearest 10", unrelated, 20),
        ):
            row = {"query": kind, **_measure(hashes, queries, max_distance)}
            if queries is unrelated:
                row["reference_ranked_first"] = "n/a"
            results.append(row)
    return results


def _measure(hashes: list[int], queries: list[int], max_distance: int, k: int = 10) -> Any:
    refs = list(range(len(hashes)))
    started = time.perf_counter()
    index = HashIndex(refs, hashes)
    build_ms = (time.perf_counter() - started) * 1000
    few = queries[:50]  # the plain-Python scan is slow: fewer queries for it
    for query in few:
        expected = brute_force(refs, hashes, query, k, max_distance)
        assert index.nearest(query, k, max_distance) == expected
    first_real = len(hashes) - len(queries)
    ranked_first = sum(
        bool(hits) and hits[0].ref == first_real + number
        for number, hits in enumerate(index.nearest(q, k, max_distance) for q in queries)
    )
    index_us = median_us(lambda q: index.nearest(q, k, max_distance), queries)
    python_us = median_us(lambda q: brute_force(refs, hashes, q, k, max_distance), few)
    return {
        "references": len(hashes),
        "max_distance": max_distance,
        "index_us": index_us,
        "python_scan_us": python_us,
        "speedup_vs_python": round(python_us / index_us, 1),
        "reference_ranked_first": f"{ranked_first}/{len(queries)}",
        "index_build_ms": round(build_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=60, help="photos to ingest")
    parser.add_argument("--sizes", default="10000,100000", help="reference hash counts")
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    print("Photo benchmark (synthetic images drawn by code; synthetic entries)")
    ingest_result = bench_ingest(args.photos)
    print(
        f"  ingest: {ingest_result['photos']} photos ({ingest_result['image']}, with 256 and "
        f"1024 px thumbnails) at {ingest_result['photos_per_second']} photos/s, "
        f"p50 {ingest_result['p50_ms']} ms each (SQLite)"
    )
    hashing_ms = bench_query_hashing()
    print(f"  query photo check + pHash (1600x1200 JPEG): p50 {hashing_ms} ms")
    match_results = bench_match(sizes, args.queries)
    print(
        f"  {'references':>10}  {'query':<28}{'index µs':>10}{'python scan µs':>16}"
        f"{'ratio':>8}{'ranked first':>14}"
    )
    for row in match_results:
        print(
            f"  {row['references']:>10}  {row['query']:<28}{row['index_us']:>10}"
            f"{row['python_scan_us']:>16}{row['speedup_vs_python']:>8}"
            f"{row['reference_ranked_first']:>14}"
        )
    print("  (index and scan gave identical answers on every checked query)")
    print(
        json.dumps(
            {
                "benchmark": "photos",
                "synthetic": True,
                "ingest": ingest_result,
                "query_hashing_ms": hashing_ms,
                "match": match_results,
            }
        )
    )


if __name__ == "__main__":
    main()
