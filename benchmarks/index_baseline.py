"""The match index of a synthetic catalogue built by another checkout of weaponsdb (a
baseline: the code before a change), in a process of its own, and compared with this code's.

    python benchmarks/index_baseline.py SIZE OUTPUT   (run with PYTHONPATH=the checkout)

builds the index of benchmarks.scale's catalogue of SIZE synthetic markings with whatever
weaponsdb the path finds, saves it to OUTPUT, answers the generated queries with it, and
writes its build time, per-query p50/p99 and answers as JSON beside OUTPUT. compare() then
says whether the two indexes are the same: every array equal (the bigrams compared gram by
gram: an older build numbered them in an order that differs from process to process), and
every generated query answered alike by the old code and this one.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def synthetic_targets(size: int, query_count: int = 1000) -> tuple[list[Any], list[str]]:
    """The targets and queries of benchmarks.scale's index figures (the seed is the size)."""
    from benchmarks.synthetic import perturbed_queries, synthetic_markings
    from weaponsdb.matching.index import Target

    rng = random.Random(size)
    markings = synthetic_markings(size, rng)
    queries = [q.text for q in perturbed_queries(markings, query_count, rng)]
    return [Target(m.entry_id, "marking", m.text, m.pattern) for m in markings], queries


def build_with(checkout: Path, size: int, query_count: int, path: Path) -> dict[str, Any]:
    """The code in *checkout*: the index of *size* markings built (saved to *path*), its
    build time, and its answers to the queries with their p50/p99."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    subprocess.run(
        [sys.executable, __file__, str(size), str(query_count), str(path)],
        env=env,
        check=True,
    )
    found: dict[str, Any] = json.loads(_answers_file(path).read_text())
    return found


def _answers_file(path: Path) -> Path:
    return path.with_name(f"{path.name}.answers.json")


def answers(index: Any, queries: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """Each query's answer (every entry's best match, as plain lists) and the p50/p99."""
    try:
        from weaponsdb.matching.searching import best_per_entry
    except ImportError:  # a checkout from before the search was moved out of matcher.py
        from weaponsdb.matching.matcher import best_per_entry  # type: ignore[attr-defined,no-redef]

    found, spent, cpu = [], [], []
    for query in queries:
        began, began_cpu = time.perf_counter(), time.thread_time()
        best = best_per_entry(index, query)
        spent.append(time.perf_counter() - began)
        cpu.append(time.thread_time() - began_cpu)
        found.append(
            sorted(
                [entry, m.matched, m.target_kind, str(m.how), m.detail, m.edits, m.cost]
                for entry, m in best.items()
            )
        )
    spent.sort()
    cpu.sort()
    last = max(0, int(len(cpu) * 0.99) - 1)
    return found, {
        "p50_ms": round(spent[len(spent) // 2] * 1000, 2),
        "p99_ms": round(spent[max(0, int(len(spent) * 0.99) - 1)] * 1000, 2),
        # This thread's CPU time per query, p50 / p99: what other work on the machine
        # changes far less than the wall clock.
        "cpu": f"{cpu[len(cpu) // 2] * 1000:.2f} / {cpu[last] * 1000:.2f} ms",
    }


def compare(
    path: Path, old: dict[str, Any], arrays: dict[str, Any], index: Any, queries: list[str]
) -> dict[str, Any]:
    """Differences between the index saved in *path* (and the *old* code's answers) and
    *arrays* (of *index*, and this code's answers, timed in this process)."""
    import numpy as np

    from weaponsdb.matching import tables

    other, _ = tables.load(path)
    _answers_file(path).unlink()
    differing = sorted(set(other) ^ set(arrays))
    differing += [
        name
        for name in sorted(set(other) & set(arrays))
        if not name.startswith("bigrams.") and not np.array_equal(other[name], arrays[name])
    ]
    if _bigrams(other) != _bigrams(arrays):
        differing.append("bigram postings")
    answers(index, queries[:50])  # warmed, as the old code's were
    found, timing = answers(index, queries)
    new = json.loads(json.dumps(found))  # through JSON, as the old answers came
    alike = sum(a == b for a, b in zip(old["answers"], new, strict=True))
    return {
        "arrays_differing": differing,
        "queries": len(queries),
        "alike": alike,
        "old_p50_ms": old["p50_ms"],
        "old_p99_ms": old["p99_ms"],
        "new_p50_ms": timing["p50_ms"],
        "new_p99_ms": timing["p99_ms"],
        "old_cpu": old.get("cpu", "not measured"),
        "new_cpu": timing["cpu"],
    }


def _bigrams(arrays: dict[str, Any]) -> dict[str, list[int]]:
    from weaponsdb.matching.grams import GramIndex

    index = GramIndex.from_arrays(arrays, "bigrams")
    return {gram: index.postings(gram).tolist() for gram in index.grams()}


def main() -> None:
    from weaponsdb.matching import tables
    from weaponsdb.matching.index import MatchIndex

    size, query_count, path = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    targets, queries = synthetic_targets(size, query_count)
    began = time.perf_counter()
    index = MatchIndex(targets)
    seconds = round(time.perf_counter() - began, 1)
    tables.save(path, index.arrays(), {"generation": 0})
    answers(index, queries[:50])  # warmed as this code's are (after its build)
    found, timing = answers(index, queries)
    _answers_file(path).write_text(json.dumps({"build_s": seconds, **timing, "answers": found}))


if __name__ == "__main__":
    # benchmarks.synthetic, if the checkout lacks it; its weaponsdb is found first.
    sys.path.append(str(Path(__file__).resolve().parent.parent))
    main()
