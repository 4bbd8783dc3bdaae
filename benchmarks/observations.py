"""Observation benchmark: submission latency against attaching the same photo as a reference
photo (the baseline, measured in the same run), and `weaponsdb verify` against hashing the
same files with nothing else.

    python -m benchmarks.observations [--observations N]

Every image is synthetic, drawn by code; the catalogue is the seed plus synthetic entries.

- Submit: seconds per observation with one 1600x1200 JPEG and one marking, through
  submitting.submit (checks, the original kept, the stripped copy and two thumbnails,
  identification by markings and by photo, the custody lines, the first revision) into a
  fresh SQLite database; the baseline is ingest.attach_photo on the same photos (checks,
  stripped copy, thumbnails, pHash, the entry's revision).
- Verify: files per second re-hashed against the custody log, and the baseline: reading and
  hashing the same files from disk, with no database and no comparison.

Prints figures and ratios; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from benchmarks.photos import LIMITS, SYNTHETIC, synthetic_photo
from benchmarks.synthetic import synthetic_document
from weaponsdb import db, editing, keys, models, seeding, transfer
from weaponsdb.matching.matcher import Matcher
from weaponsdb.observations import custody, submitting
from weaponsdb.observations.records import Submission
from weaponsdb.photos import ingest
from weaponsdb.photos.matching import PhotoMatcher
from weaponsdb.photos.storage import FileStore
from weaponsdb.vocab import Role

SUBMISSION = Submission.parse(
    {
        "markings": ["SYN-7"],
        "latitude": 10.5,
        "longitude": 20.5,
        "precision": "place",
        "notes": "Synthetic benchmark observation (not a real sighting)",
    }
)


def _millis(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
    }


def run(count: int, entries: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        db.migrate(url)
        engine = db.make_engine(url)
        sessions = db.make_sessionmaker(engine)
        with db.transaction(sessions) as session:
            seeding.load_seed(session)
            document = transfer.parse(json.dumps(synthetic_document(entries)))
            transfer.import_catalogue(session, document, transfer.OnConflict.FAIL)
            secret = keys.create_key(session, "benchmark", Role.CONTRIBUTOR)
            holder = keys.authenticate(session, secret, Role.CONTRIBUTOR)
        store = FileStore(Path(folder) / "images")
        matcher, photo_matcher = Matcher(), PhotoMatcher()
        photos = [synthetic_photo(2000 + n, (1600, 1200)) for n in range(count)]
        baseline, submitted = [], []
        description = ingest.PhotoDescription.parse(dict(SYNTHETIC))
        for number, data in enumerate(photos):
            change = editing.Change(f"synthetic-{number % entries}", None, "bench", "Synthetic")
            started = time.perf_counter()
            with db.transaction(sessions) as session:
                ingest.attach_photo(
                    session, store, photo_matcher, change, ingest.Upload(data), description, LIMITS
                )
            baseline.append(time.perf_counter() - started)
        # Other pictures of the same kind, so that no file is in the store already.
        for data in (synthetic_photo(3000 + n, (1600, 1200)) for n in range(count)):
            upload = ingest.Upload(data)
            started = time.perf_counter()
            with db.transaction(sessions) as session:
                submitting.submit(
                    session, store, matcher, photo_matcher, holder, SUBMISSION, [upload], LIMITS
                )
            submitted.append(time.perf_counter() - started)
        with sessions() as session:
            started = time.perf_counter()
            report = custody.verify(session, store)
            verify_seconds = time.perf_counter() - started
        with sessions() as session:  # the same files as the log names
            logged = session.scalars(
                select(models.CustodyEntry.file_key).where(
                    models.CustodyEntry.file_key.is_not(None)
                )
            )
            files = [Path(folder) / "images" / str(key) for key in logged]
        started = time.perf_counter()
        for path in files:
            hashlib.sha256(path.read_bytes()).hexdigest()
        hash_seconds = time.perf_counter() - started
        engine.dispose()
    assert not report.mismatches
    submit, attach = _millis(submitted), _millis(baseline)
    return {
        "observations": count,
        "image": "1600x1200 JPEG",
        "submit": submit,
        "attach_reference_photo": attach,
        "submit_vs_attach_p50": round(submit["p50_ms"] / attach["p50_ms"], 2),
        "verify_files": report.files,
        "verify_files_per_second": round(report.files / verify_seconds),
        "hash_only_files_per_second": round(len(files) / hash_seconds),
        "verify_vs_hash_only": round(
            (report.files / verify_seconds) / (len(files) / hash_seconds), 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=40)
    figures = run(parser.parse_args().observations)
    print(
        f"submit p50 {figures['submit']['p50_ms']} ms, p99 {figures['submit']['p99_ms']} ms; "
        f"attach as reference photo p50 {figures['attach_reference_photo']['p50_ms']} ms "
        f"(ratio {figures['submit_vs_attach_p50']})"
    )
    print(
        f"verify {figures['verify_files_per_second']} files/s over {figures['verify_files']} "
        f"files; hashing only {figures['hash_only_files_per_second']} files/s "
        f"(ratio {figures['verify_vs_hash_only']})"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
