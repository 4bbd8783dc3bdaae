"""The match index of a synthetic catalogue built by another checkout of weaponsdb (a
baseline: the code before a change), in a process of its own, and compared with this code's.

    python benchmarks/index_baseline.py SIZE OUTPUT   (run with PYTHONPATH=the checkout)

builds the index of benchmarks.scale's catalogue of SIZE synthetic markings with whatever
weaponsdb the path finds, saves it to OUTPUT and prints its build time as JSON. compare()
then says whether the two indexes are the same: every array equal (the bigrams compared gram
by gram: an older build numbered them in an order that differs from process to process), and
every generated query answered alike from both.
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


def build_with(checkout: Path, size: int, path: Path) -> float:
    """Seconds the code in *checkout* took to build the index of *size* markings (saved to
    *path*)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, __file__, str(size), str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds: float = json.loads(done.stdout.splitlines()[-1])["build_s"]
    return seconds


def compare(path: Path, arrays: dict[str, Any], index: Any, queries: list[str]) -> dict[str, Any]:
    """Differences between the index saved in *path* and *arrays* (of *index*)."""
    import numpy as np

    from weaponsdb.matching import tables
    from weaponsdb.matching.index import MatchIndex
    from weaponsdb.matching.matcher import best_per_entry

    other, _ = tables.load(path)
    differing = sorted(set(other) ^ set(arrays))
    differing += [
        name
        for name in sorted(set(other) & set(arrays))
        if not name.startswith("bigrams.") and not np.array_equal(other[name], arrays[name])
    ]
    if _bigrams(other) != _bigrams(arrays):
        differing.append("bigram postings")
    old = MatchIndex.from_arrays(other)
    answered_alike = sum(best_per_entry(old, q) == best_per_entry(index, q) for q in queries)
    return {"arrays_differing": differing, "queries": len(queries), "alike": answered_alike}


def _bigrams(arrays: dict[str, Any]) -> dict[str, list[int]]:
    from weaponsdb.matching.grams import GramIndex

    index = GramIndex.from_arrays(arrays, "bigrams")
    return {gram: index.postings(gram).tolist() for gram in index.grams()}


def main() -> None:
    from weaponsdb.matching import tables
    from weaponsdb.matching.index import MatchIndex

    size, path = int(sys.argv[1]), Path(sys.argv[2])
    targets, _ = synthetic_targets(size)
    began = time.perf_counter()
    index = MatchIndex(targets)
    seconds = round(time.perf_counter() - began, 1)
    tables.save(path, index.arrays(), {"generation": 0})
    print(json.dumps({"build_s": seconds}))


if __name__ == "__main__":
    # benchmarks.synthetic, if the checkout lacks it; its weaponsdb is found first.
    sys.path.append(str(Path(__file__).resolve().parent.parent))
    main()
