"""Load benchmark: the service, started as users start it, driven on loopback by concurrent
clients mixing searches, entry reads, matches and edits. Bounded in requests and time.

    python -m benchmarks.load [--database sqlite|postgresql|both] [--requests N] ...

Prints throughput, p50/p99 latency and error counts per request kind and database, checks
that every acknowledged write is present afterwards, and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import create_engine, text

from benchmarks.synthetic import synthetic_document
from weaponsdb import db, keys, seeding, transfer
from weaponsdb.vocab import Role

POSTGRES_SERVER = os.environ.get(
    "WEAPONSDB_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test"
)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def summary(self, seconds: float) -> dict[str, float | int]:
        ordered = sorted(self.latencies)
        return {
            "requests": len(ordered) + self.errors,
            "errors": self.errors,
            "rps": round(len(ordered) / seconds, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else 0,
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2) if ordered else 0,
        }


@dataclass
class Workload:
    """What the clients ask for, and the writes the service acknowledged."""

    slugs: list[str]
    markings: list[str]
    editor_key: str
    rng: random.Random
    tallies: dict[str, Tally] = field(default_factory=dict)
    acknowledged: list[str] = field(default_factory=list)

    def kinds(self) -> list[tuple[str, int, Callable[[httpx2.AsyncClient], Awaitable[bool]]]]:
        return [
            ("match", 4, self.match),
            ("search", 2, self.search),
            ("entry", 3, self.entry),
            ("list", 1, self.listing),
            ("edit", 1, self.edit),
        ]

    async def match(self, client: httpx2.AsyncClient) -> bool:
        marking = self.rng.choice(self.markings)
        observed = self.rng.choice([marking, marking.lower(), marking.replace("-", " ")])
        response = await client.post("/v1/match", json={"markings": [observed, "방-122"]})
        return response.status_code == 200 and bool(response.json()["candidates"])

    async def edit(self, client: httpx2.AsyncClient) -> bool:
        """A new synthetic entry, acknowledged only on 201."""
        number = len(self.acknowledged) + self.rng.randint(0, 10**9)
        slug = f"synthetic-load-{number}"
        body = {
            "slug": slug,
            "name": f"Synthetic load-test item {number} (benchmark data)",
            "status": "published",
            "markings": [{"text": f"LOAD-{number}"}],
        }
        headers = {
            "Authorization": f"Bearer {self.editor_key}",
            "X-Change-Note": "Synthetic entry written by the load benchmark",
        }
        response = await client.post("/v1/entries", json=body, headers=headers)
        if response.status_code == 201:
            self.acknowledged.append(slug)
        return response.status_code == 201

    async def search(self, client: httpx2.AsyncClient) -> bool:
        slug = self.rng.choice(self.slugs)
        response = await client.get("/v1/entries", params={"q": slug.split("-")[-1]})
        return response.status_code == 200

    async def entry(self, client: httpx2.AsyncClient) -> bool:
        response = await client.get(f"/v1/entries/{self.rng.choice(self.slugs)}")
        return response.status_code == 200

    async def listing(self, client: httpx2.AsyncClient) -> bool:
        response = await client.get("/v1/entries", params={"limit": 50, "category": "rifle"})
        return response.status_code == 200


async def drive(
    base: str, workload: Workload, requests: int, seconds: float, workers: int
) -> float:
    kinds = workload.kinds()
    weights = [weight for _, weight, _ in kinds]
    remaining = requests
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal remaining
        async with httpx2.AsyncClient(base_url=base, timeout=30) as client:
            while remaining > 0 and time.monotonic() < deadline:
                remaining -= 1
                name, _, call = workload.rng.choices(kinds, weights)[0]
                tally = workload.tallies.setdefault(name, Tally())
                started = time.perf_counter()
                try:
                    ok = await call(client)
                except httpx2.HTTPError:
                    ok = False
                if ok:
                    tally.latencies.append(time.perf_counter() - started)
                else:
                    tally.errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'load.sqlite3'}"
        return
    schema = f"wdb_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_SERVER)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_SERVER}?options=-csearch_path%3D{schema},public"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def prepare(url: str, entries: int, rng: random.Random) -> Workload:
    """Migrate, load the seed, a synthetic catalogue and an editor key."""
    db.migrate(url)
    document = transfer.parse(json.dumps(synthetic_document(entries)))
    engine = db.make_engine(url)
    with db.transaction(db.make_sessionmaker(engine)) as session:
        seeding.load_seed(session)
        transfer.import_catalogue(session, document, transfer.OnConflict.FAIL)
        editor_key = keys.create_key(session, "load-benchmark", Role.EDITOR)
    engine.dispose()
    slugs = ["bang-122", "f-7", "type-58", *(e.slug for e in document.entries)]
    markings = [m.text for e in document.entries for m in e.markings]
    return Workload(slugs, markings, editor_key, rng)


@contextmanager
def service(url: str, folder: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "WEAPONSDB_DATABASE_URL": url,
        "WEAPONSDB_IMAGES_DIR": str(folder / "images"),
        "WEAPONSDB_MATCH_RATE_LIMIT": "1000000/minute",  # measure the service, not the limiter
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "weaponsdb", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the service did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        workload = prepare(url, args.entries, random.Random(11))
        with service(url, Path(tmp)) as base:
            seconds = asyncio.run(drive(base, workload, args.requests, args.seconds, args.workers))
            missing = asyncio.run(missing_writes(base, workload.acknowledged))
            unmatched = asyncio.run(unmatched_writes(base, workload.acknowledged))
    kinds = {name: tally.summary(seconds) for name, tally in sorted(workload.tallies.items())}
    total = sum(len(t.latencies) for t in workload.tallies.values())
    errors = sum(t.errors for t in workload.tallies.values())
    return {
        "database": kind,
        "seconds": round(seconds, 2),
        "rps": round(total / seconds, 1),
        "errors": errors,
        "acknowledged_writes": len(workload.acknowledged),
        "missing_writes": missing,
        "unmatchable_writes": unmatched,
        "kinds": kinds,
    }


async def missing_writes(base: str, slugs: list[str]) -> int:
    async with httpx2.AsyncClient(base_url=base, timeout=30) as client:
        found = [await client.get(f"/v1/entries/{slug}") for slug in slugs]
    return sum(response.status_code != 200 for response in found)


async def unmatched_writes(base: str, slugs: list[str]) -> int:
    """Written entries whose marking does not find them first: the index fell behind."""
    misses = 0
    async with httpx2.AsyncClient(base_url=base, timeout=30) as client:
        for slug in slugs:
            marking = f"LOAD-{slug.rsplit('-', 1)[1]}"
            response = await client.post("/v1/match", json={"markings": [marking]})
            candidates = response.json().get("candidates", []) if response.is_success else []
            misses += not candidates or candidates[0]["slug"] != slug
    return misses


def report(result: dict[str, Any]) -> None:
    print(
        f"\n{result['database']}: {result['rps']} requests/s over {result['seconds']} s, "
        f"{result['errors']} errors, {result['acknowledged_writes']} writes acknowledged, "
        f"{result['missing_writes']} missing and {result['unmatchable_writes']} not matchable "
        "afterwards"
    )
    print(f"  {'kind':<10}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, figures in result["kinds"].items():
        print(
            f"  {name:<10}{figures['requests']:>10}{figures['errors']:>8}{figures['rps']:>10}"
            f"{figures['p50_ms']:>10}{figures['p99_ms']:>10}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--entries", type=int, default=2000, help="synthetic entries loaded")
    parser.add_argument("--requests", type=int, default=6000, help="requests in all, at most")
    parser.add_argument("--seconds", type=float, default=60, help="time in all, at most")
    parser.add_argument("--workers", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(
        f"Load benchmark: {args.workers} concurrent clients, at most {args.requests} requests "
        f"or {args.seconds} s per database; {args.entries} synthetic entries."
    )
    results = [run(kind, args) for kind in kinds]
    for result in results:
        report(result)
    print(json.dumps({"benchmark": "load", "results": results}))


if __name__ == "__main__":
    main()
