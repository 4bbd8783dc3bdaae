"""Scale benchmark: the service with one and with two worker processes, as `weaponsdb serve
--workers N` runs it, on SQLite and PostgreSQL, with a synthetic catalogue; and the match
index file at 100k and 1M markings.

    python -m benchmarks.scale [--database sqlite|postgresql|both|none] [--entries N]
                               [--seconds S] [--index-sizes 100000,1000000] [--queries Q]
                               [--baseline CHECKOUT] [--serial-baseline]

The index file, in-process (synthetic markings, no database): the index built, its build
time, resident memory and p50/p99 per query; the file written (seconds, MB); then, in a
fresh process, the file loaded (seconds), its first match, resident memory, and p50/p99 over
the same queries, with the ratios loaded / built. With --baseline, a checkout of older code
builds the same index in a process of its own and answers the same queries: its build time
and p50/p99 beside this code's, and whether the arrays and every answer are the same
(index_baseline.py).

For each database and worker count: seconds from process start to /healthz answering and to
the first answered match, resident memory of each worker, POST /v1/match req/s and p50/p99 at
1, 8 and 32 concurrent clients, /healthz req/s at 32 clients, and batch queries/s (10 batches
of 1,000 queries of 1-2 markings, from one client and from one client per worker). Ratios
are against one worker in the same run.
The load comes from wrk (benchmarks/http_load.py; `make bench-load` installs Debian's wrk)
or, without it, from a Python client that saturates first; either shares the machine's cores
with the service, and the load average is printed before each database. Ends with one JSON
line.
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
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

from benchmarks import http_load
from benchmarks.index_baseline import build_with, compare, synthetic_targets
from benchmarks.load import Tally, Workload, database, free_port, prepare
from weaponsdb.matching import tables
from weaponsdb.matching.index import MatchIndex

CLIENTS = (1, 8, 32)
QUERIES = 2000  # distinct markings the match load cycles through
BATCH = 1000
BATCHES = 10


@contextmanager
def started(url: str, folder: Path, workers: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The service on a free port; yields its address and the seconds from process start to
    /healthz answering and to the first match answered."""
    port = free_port()
    env = {
        **os.environ,
        "WEAPONSDB_DATABASE_URL": url,
        "WEAPONSDB_IMAGES_DIR": str(folder / "images"),
        # Measure the service, not the limiter.
        "WEAPONSDB_MATCH_RATE_LIMIT": "100000000/minute",
        "WEAPONSDB_MATCH_BATCH_RATE_LIMIT": "100000000/minute",
        # The first run starts without the file and builds it; the second loads it.
        "WEAPONSDB_INDEX_FILE": str(folder / "match.index"),
    }
    with_file = (folder / "match.index").exists()
    begun = time.perf_counter()
    command = ["serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        [sys.executable, "-m", "weaponsdb", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        times: dict[str, Any] = {"index_file_at_start": with_file}
        times["healthz_s"] = _until(base, begun, "get", "/healthz", None)
        times["first_match_s"] = _until(base, begun, "post", "/v1/match", {"markings": ["F-7"]})
        first = httpx2.post(f"{base}/v1/match", json={"markings": ["F-7"]}, timeout=600)
        times["first_match_index"] = first.json()["matching_index"]
        times["all_indexes_s"] = _all_indexes_ready(base, begun, workers)
        times["pids"] = _worker_pids(process.pid, workers)
        times["rss_mb"] = _resident_mb(times["pids"])
        yield base, times
    finally:
        process.terminate()
        process.wait(timeout=60)


def _until(base: str, begun: float, method: str, path: str, body: Any) -> float:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            answer = httpx2.request(method, base + path, json=body, timeout=600)
            if answer.status_code == 200:
                return round(time.perf_counter() - begun, 2)
        except httpx2.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{path} did not answer")


def _all_indexes_ready(base: str, begun: float, workers: int) -> float:
    """Seconds from start until every worker says its match index is ready: measuring
    before would time a worker still building its own."""
    ready: set[int] = set()
    deadline = time.monotonic() + 900
    with httpx2.Client(base_url=base, timeout=60) as client:
        while len(ready) < workers:
            assert time.monotonic() < deadline, "the workers' indexes were not built"
            client.headers["Connection"] = "close"  # a new connection may reach another worker
            health = client.get("/healthz").json()
            if health["matching_index"].startswith("ready"):
                ready.add(health["worker"])
            else:
                time.sleep(0.1)
    return round(time.perf_counter() - begun, 2)


def _worker_pids(pid: int, workers: int) -> list[int]:
    """The processes that answer: the service itself when there is one worker."""
    if workers == 1:
        return [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    # The supervisor's children are the workers and multiprocessing's resource tracker.
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def _resident_mb(pids: list[int]) -> list[float]:
    sizes = []
    for each in pids:
        status = Path(f"/proc/{each}/status").read_text().splitlines()
        rss = next(line for line in status if line.startswith("VmRSS:"))
        sizes.append(round(int(rss.split()[1]) / 1024, 1))
    return sizes


async def hammer(
    base: str, clients: int, seconds: float, call: Callable[[httpx2.AsyncClient], Awaitable[bool]]
) -> dict[str, float | int]:
    tally = Tally()
    deadline = time.monotonic() + seconds

    async def client() -> None:
        async with httpx2.AsyncClient(base_url=base, timeout=60) as session:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                try:
                    ok = await call(session)
                except httpx2.HTTPError:
                    ok = False
                if ok:
                    tally.latencies.append(time.perf_counter() - began)
                else:
                    tally.errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return tally.summary(time.perf_counter() - began)


def batch_rate(base: str, workload: Workload, clients: int = 1) -> float:
    """Queries/s of BATCHES batches of BATCH queries (1-2 markings each), streamed, sent by
    *clients* at once (an integrator uses every worker by sending a batch to each)."""
    rng = random.Random(5)
    queries = [
        {"id": str(n), "markings": rng.sample(workload.markings, rng.randint(1, 2))}
        for n in range(BATCH * BATCHES)
    ]
    batches = [queries[start : start + BATCH] for start in range(0, len(queries), BATCH)]

    def send(share: list[list[dict[str, Any]]]) -> None:
        with httpx2.Client(base_url=base, timeout=600) as client:
            for batch in share:
                answer = client.post(
                    "/v1/match/batch",
                    json={"queries": batch},
                    headers={"Accept": "application/x-ndjson"},
                )
                assert answer.status_code == 200, answer.text
                assert len(answer.text.splitlines()) == BATCH

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, [batches[n::clients] for n in range(clients)]))
    return round(len(queries) / (time.perf_counter() - began), 1)


def drive(
    base: str, clients: int, seconds: float, calls: list[http_load.Call], pids: list[int]
) -> dict[str, Any]:
    """wrk when the machine has it (with the workers' CPU time per request); else the
    Python client, which saturates first."""
    if http_load.available():
        return http_load.load(base, clients, seconds, calls, pids)
    rng = random.Random(7)

    async def call(session: httpx2.AsyncClient) -> bool:
        chosen = rng.choice(calls)
        answer = await session.request(chosen.method, chosen.path, json=chosen.json_body)
        return answer.status_code == 200

    return asyncio.run(hammer(base, clients, seconds, call))


def measure(
    url: str, folder: Path, workload: Workload, workers: int, seconds: float
) -> dict[str, Any]:
    sample = workload.rng.sample(workload.markings, min(QUERIES, len(workload.markings)))
    matches = [http_load.Call("POST", "/v1/match", {"markings": [m]}) for m in sample]
    with started(url, folder, workers) as (base, times):
        result: dict[str, Any] = {"workers": workers, **times}
        for clients in CLIENTS:
            result[f"match_{clients}"] = drive(base, clients, seconds, matches, times["pids"])
        health = [http_load.Call("GET", "/healthz")]
        result["healthz_32"] = drive(base, 32, seconds / 2, health, times["pids"])
        result["batch_qps"] = batch_rate(base, workload)
        result["batch_qps_a_client_per_worker"] = batch_rate(base, workload, workers)
        result["longest_gc_pause_ms"] = longest_gc_pause_ms(base)
        result["most_gc_cpu_ms"] = longest_gc_pause_ms(base, "weaponsdb_gc_most_cpu_seconds")
    return result


def longest_gc_pause_ms(base: str, metric: str = "weaponsdb_gc_longest_pause_seconds") -> float:
    """The longest collection any worker reported (each scrape reaches one of them)."""
    longest = 0.0
    for _ in range(20):
        for line in httpx2.get(f"{base}/metrics", timeout=30).text.splitlines():
            if line.startswith(f"{metric} "):
                longest = max(longest, float(line.split()[1]))
    return round(longest * 1000, 1)


def run(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    generator = "wrk" if http_load.available() else "Python (install wrk for higher rates)"
    print(
        f"\n{kind}: load average {os.getloadavg()[0]:.2f} before the run; load from {generator}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        workload = prepare(url, args.entries, random.Random(11))
        runs = [measure(url, Path(tmp), workload, w, args.seconds) for w in (1, 2)]
    one, two = runs
    for each in runs:
        start = "with the index file" if each["index_file_at_start"] else "without a file"
        print(
            f"  {each['workers']} worker(s), {start}: /healthz up {each['healthz_s']} s, first "
            f"match {each['first_match_s']} s after start (index {each['first_match_index']}), "
            f"every worker's index "
            f"{each['all_indexes_s']} s; resident MB per worker {each['rss_mb']}"
        )
        for clients in CLIENTS:
            figures = each[f"match_{clients}"]
            ratio = figures["rps"] / max(one[f"match_{clients}"]["rps"], 0.1)
            print(
                f"    match, {clients:>2} clients: {figures['rps']:>7} req/s "
                f"(x{ratio:.2f} of 1 worker), p50 {figures['p50_ms']} ms, "
                f"p99 {figures['p99_ms']} ms, errors {figures['errors']}{_cpu(figures)}"
            )
        print(
            f"    /healthz, 32 clients: {each['healthz_32']['rps']} req/s"
            f"{_cpu(each['healthz_32'])}; "
            f"batch: {each['batch_qps']} queries/s, "
            f"{each['batch_qps_a_client_per_worker']} with a client per worker; longest GC pause "
            f"{each['longest_gc_pause_ms']} ms (the most CPU one took: {each['most_gc_cpu_ms']} ms)"
        )
    return {"database": kind, "entries": args.entries, "one_worker": one, "two_workers": two}


def _cpu(figures: dict[str, Any]) -> str:
    spent = figures.get("cpu_ms_per_request")
    return "" if spent is None else f", CPU {spent} ms a request"


def own_rss_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return round(int(next(s for s in status if s.startswith("VmRSS:")).split()[1]) / 1024, 1)


def latencies(search: Callable[[str], object], queries: list[str]) -> dict[str, float]:
    """p50 and p99 per query, of the wall clock and of this thread's CPU time (what the
    machine's other work changes far less)."""
    spent, cpu = [], []
    for query in queries:
        began, began_cpu = time.perf_counter(), time.thread_time()
        search(query)
        spent.append(time.perf_counter() - began)
        cpu.append(time.thread_time() - began_cpu)
    return {**percentiles(spent), **percentiles(cpu, "cpu_")}


def percentiles(seconds: list[float], prefix: str = "") -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        f"{prefix}p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        f"{prefix}p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2),
    }


def index_file_figures(
    size: int, query_count: int, folder: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """The index of *size* synthetic markings built, saved, and loaded in a fresh process;
    with *args.baseline*, built by that checkout too, first, and compared."""
    targets, queries = synthetic_targets(size, query_count)
    path = folder / f"synthetic-{size}.index"
    old_path = folder / f"baseline-{size}.index"
    old = build_with(args.baseline, size, query_count, old_path) if args.baseline else None
    built = built_figures(targets, queries, path, args.serial_baseline)
    if old is not None:
        index = MatchIndex.from_arrays(tables.load(path)[0])
        built["baseline"] = {
            "build_s": old["build_s"],
            "speedup": round(old["build_s"] / built["build_s"], 2),
            **compare(old_path, old, index.arrays(), index, queries),
        }
        old_path.unlink()
    del targets
    query_file = folder / "queries.json"
    query_file.write_text(json.dumps(queries))
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--load-file", str(path), str(query_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: dict[str, Any] = json.loads(child.stdout.splitlines()[-1])
    ratios = {
        name: round(loaded[name] / max(built[name], 0.001), 2) for name in ("p50_ms", "p99_ms")
    }
    return {"markings": size, "built": built, "loaded": loaded, "loaded_over_built": ratios}


def built_figures(
    targets: list[Any], queries: list[str], path: Path, serial: bool
) -> dict[str, Any]:
    """The index built in this process and saved to *path*: time, memory, speed."""
    from weaponsdb.matching.searching import best_per_entry

    before = own_rss_mb()
    began = time.perf_counter()
    index = MatchIndex(targets)
    built: dict[str, Any] = {"build_s": round(time.perf_counter() - began, 1)}
    built["rss_mb_for_index"] = round(own_rss_mb() - before, 1)
    began = time.perf_counter()
    size_bytes = tables.save(path, index.arrays(), {"generation": 0})
    built["write_s"] = round(time.perf_counter() - began, 2)
    built["file_mb"] = round(size_bytes / 1e6, 1)
    built.update(latencies(lambda q: best_per_entry(index, q), queries))
    if serial:
        built.update(serial_baseline(targets, index.arrays(), built["build_s"]))
    return built


def serial_baseline(targets: list[Any], arrays: dict[str, Any], build_s: float) -> dict[str, Any]:
    """The same index built with every reading computed in this process, as before readings
    were computed in worker processes: its time, the ratio, and whether it is the same."""
    import numpy as np

    from weaponsdb.matching import construct
    from weaponsdb.matching import index as index_module

    parallel_above = construct.PARALLEL_ABOVE
    construct.PARALLEL_ABOVE = len(targets) + 1
    try:
        began = time.perf_counter()
        serial = index_module.MatchIndex(targets).arrays()
        seconds = round(time.perf_counter() - began, 1)
    finally:
        construct.PARALLEL_ABOVE = parallel_above
    same = serial.keys() == arrays.keys() and all(
        np.array_equal(array, arrays[name]) for name, array in serial.items()
    )
    return {"serial_build_s": seconds, "build_speedup": round(seconds / build_s, 2), "same": same}


def loaded_figures(path: Path, query_file: Path) -> dict[str, Any]:
    """In a fresh process: the file mapped, its first match, memory, and every query."""
    from weaponsdb.matching.searching import best_per_entry

    queries = json.loads(query_file.read_text())
    before = own_rss_mb()
    began = time.perf_counter()
    index = MatchIndex.from_arrays(tables.load(path)[0])
    figures: dict[str, Any] = {"load_s": round(time.perf_counter() - began, 3)}
    began = time.perf_counter()
    best_per_entry(index, queries[0])
    figures["first_match_ms"] = round((time.perf_counter() - began) * 1000, 1)
    figures.update(latencies(lambda q: best_per_entry(index, q), queries))
    figures["rss_mb_for_index"] = round(own_rss_mb() - before, 1)  # pages touched, shared
    return figures


def report_index(figures: dict[str, Any]) -> None:
    built, loaded, ratios = figures["built"], figures["loaded"], figures["loaded_over_built"]
    compared = ""
    if "serial_build_s" in built:
        compared += (
            f" (readings in one process: {built['serial_build_s']} s, "
            f"x{built['build_speedup']}; same index: {built['same']})"
        )
    if "baseline" in built:
        old = built["baseline"]
        compared += (
            f" (baseline checkout: {old['build_s']} s, x{old['speedup']}; arrays differing: "
            f"{old['arrays_differing'] or 'none'}; {old['alike']} of {old['queries']} queries "
            f"answered alike; per query, each code on its own index, old p50 "
            f"{old['old_p50_ms']} ms p99 {old['old_p99_ms']} ms (CPU {old['old_cpu']}), new p50 "
            f"{old['new_p50_ms']} ms p99 {old['new_p99_ms']} ms (CPU {old['new_cpu']}))"
        )
    print(
        f"  {figures['markings']} markings: built in {built['build_s']} s{compared} "
        f"(+{built['rss_mb_for_index']} MB resident), file {built['file_mb']} MB written in "
        f"{built['write_s']} s; loaded in a fresh process in {loaded['load_s']} s, first match "
        f"{loaded['first_match_ms']} ms, +{loaded['rss_mb_for_index']} MB resident (shared "
        f"pages) after every query\n"
        f"    per query: built p50 {built['p50_ms']} ms p99 {built['p99_ms']} ms (CPU "
        f"{built['cpu_p50_ms']} / {built['cpu_p99_ms']} ms); loaded p50 {loaded['p50_ms']} ms "
        f"p99 {loaded['p99_ms']} ms (x{ratios['p50_ms']} / x{ratios['p99_ms']}; CPU "
        f"{loaded['cpu_p50_ms']} / {loaded['cpu_p99_ms']} ms)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both", "none"], default="both"
    )
    parser.add_argument("--entries", type=int, default=10_000, help="synthetic entries loaded")
    parser.add_argument("--seconds", type=float, default=10, help="per client count")
    parser.add_argument("--index-sizes", default="100000", help="markings, comma-separated")
    parser.add_argument("--queries", type=int, default=1000, help="per index size")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of older weaponsdb code: its index build timed and compared",
    )
    parser.add_argument(
        "--serial-baseline",
        action="store_true",
        help="the index also built with every reading computed in this process",
    )
    parser.add_argument("--load-file", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_file:  # the fresh process of index_file_figures
        print(json.dumps(loaded_figures(*args.load_file)))
        return
    sizes = [int(size) for size in args.index_sizes.split(",") if size]
    print(f"Match index file: {sizes} synthetic markings, {args.queries} queries each")
    with tempfile.TemporaryDirectory() as tmp:
        indexes = []
        for size in sizes:
            indexes.append(index_file_figures(size, args.queries, Path(tmp), args))
            report_index(indexes[-1])
    kinds = {"both": ["sqlite", "postgresql"], "none": []}.get(args.database, [args.database])
    print(f"Scale benchmark: {args.entries} synthetic entries (3 texts each), 1 and 2 workers")
    results = [run(kind, args) for kind in kinds]
    print(json.dumps({"benchmark": "scale", "index_file": indexes, "results": results}))


if __name__ == "__main__":
    main()
