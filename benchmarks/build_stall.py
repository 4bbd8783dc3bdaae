"""Matches answered while the service builds its first match index, one worker, no index file
yet: the code of this checkout (the build in a process of its own) against a baseline checkout
(e.g. a clone at an earlier commit, where the build ran in a thread of the service), on one
SQLite catalogue, in the same run.

    python -m benchmarks.build_stall --baseline ../weaponsdb-before [--entries N] [--clients C]
                                     [--seconds S]

For each: seconds from start to /healthz, match req/s and p50/p99 at C clients during the
first S seconds after /healthz answers (the build is under way), and seconds until the index
is ready. Synthetic catalogue (benchmarks/synthetic.py). Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

from benchmarks.load import Workload, database, free_port, prepare
from benchmarks.scale import _until, hammer

HERE = Path(__file__).resolve().parent.parent


def during_build(
    url: str, code: Path, index: Path, workload: Workload, args: Any
) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "WEAPONSDB_DATABASE_URL": url,
        "WEAPONSDB_IMAGES_DIR": str(index.parent / "images"),
        "WEAPONSDB_MATCH_RATE_LIMIT": "100000000/minute",
        "WEAPONSDB_INDEX_FILE": str(index),
    }
    begun = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "weaponsdb", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    async def match(session: httpx2.AsyncClient) -> bool:
        marking = workload.rng.choice(workload.markings)
        answer = await session.post("/v1/match", json={"markings": [marking]})
        return answer.status_code == 200

    try:
        result: dict[str, Any] = {"healthz_s": _until(base, begun, "get", "/healthz", None)}
        result["while_building"] = asyncio.run(hammer(base, args.clients, args.seconds, match))
        while not httpx2.get(f"{base}/healthz").json()["matching_index"].startswith("ready"):
            time.sleep(0.2)
        result["ready_s"] = round(time.perf_counter() - begun, 1)
        return result
    finally:
        process.terminate()
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="checkout to compare")
    parser.add_argument("--entries", type=int, default=30_000, help="synthetic entries")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    print(f"Build stall: {args.entries} synthetic entries, 1 worker, {args.clients} clients")
    results = {}
    with tempfile.TemporaryDirectory() as tmp, database("sqlite", Path(tmp)) as url:
        workload = prepare(url, args.entries, random.Random(11))
        for name, code in (("baseline", args.baseline), ("this", HERE)):
            results[name] = during_build(url, code, Path(tmp) / f"{name}.index", workload, args)
            figures = results[name]["while_building"]
            print(
                f"  {name}: /healthz {results[name]['healthz_s']} s; while building "
                f"{figures['rps']} req/s, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} "
                f"ms; index ready {results[name]['ready_s']} s",
                flush=True,
            )
    ratio = results["this"]["while_building"]["rps"] / max(
        results["baseline"]["while_building"]["rps"], 0.1
    )
    print(json.dumps({"benchmark": "build_stall", **results, "rps_ratio": round(ratio, 1)}))


if __name__ == "__main__":
    main()
