"""Fit the matcher's score calibration on held-out benchmark queries.

    python -m benchmarks.calibrate [--per-script 500] [--seed 1] [--background 10000]

The matcher's score is a posterior: each entry hit weighs exp(-temperature * cost) against
"none of them", which weighs exp(-temperature * (none_base + none_per_character * n)) for an
observed text of n legible characters, and the likeliest variant the catalogue lacks
(scoring.py). The three numbers are chosen here to
minimise the log loss of the first candidate's score (the probability that it is the right
entry; a random string has none) over queries of every kind and script (reading_queries.py,
this seed) but designations the catalogue lacks; the benchmark measures the calibration error
on another seed's catalogue and queries, those included. Writes the "calibration" part of
weaponsdb/matching/learned.json.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from benchmarks.match_quality import build_index, slug
from benchmarks.reading_queries import UNLISTED, quality_set
from weaponsdb.matching.error_model import LEARNED_FILE
from weaponsdb.matching.matcher import SUGGESTED
from weaponsdb.matching.scoring import information
from weaponsdb.matching.searching import best_per_entry

CANDIDATES = 20  # the cheapest entries per query that the fit weighs
TEMPERATURES = np.linspace(0.5, 12.0, 47)
BASES = np.linspace(-4.0, 8.0, 49)
PER_CHARACTER = np.linspace(0.0, 2.0, 41)


def observations(seed: int, per_script: int, background: int) -> dict[str, np.ndarray]:
    """Per query: the costs of the entries hit (padded with inf), the true entry's position
    among them (-1 if not hit) and the legible characters of the query."""
    data = quality_set(seed, per_script, background)
    index = build_index(data.markings)
    # Not the designations the catalogue lacks: how often a marking read is one is a share
    # nobody has measured, and the fit would take whatever share was made up as the truth
    # (the benchmark reports what they get).
    queries = [query for query in data.queries if query.kind != UNLISTED]
    costs = np.full((len(queries), CANDIDATES), np.inf)
    truth = np.full(len(queries), -1)
    size = np.zeros(len(queries))
    variant = np.full(len(queries), np.inf)
    for row, query in enumerate(queries):
        hits = best_per_entry(index, query.text, SUGGESTED).items()
        best = sorted((m.cost, slug(entry), entry) for entry, m in hits)
        for column, (cost, _, entry) in enumerate(best[:CANDIDATES]):
            costs[row, column] = cost
            if entry == query.entry_id:
                truth[row] = column
        size[row] = information(query.text)
        variant[row] = min(
            (m.cost - m.variant_saving for _, m in hits if m.variant_saving is not None),
            default=np.inf,
        )
    return {"costs": costs, "truth": truth, "size": size, "variant": variant}


def fit(seen: dict[str, np.ndarray]) -> dict[str, float]:
    """The grid point with the least log loss of the first candidate's score: the score the
    answer stands on, as the probability that the first candidate is right."""
    costs, truth, size, variant = seen["costs"], seen["truth"], seen["size"], seen["variant"]
    first_right = truth == 0
    best: tuple[float, dict[str, float]] = (np.inf, {})
    base, per = np.meshgrid(BASES, PER_CHARACTER, indexing="ij")
    none_cost = base.reshape(-1, 1) + per.reshape(-1, 1) * size  # (grid, queries)
    for temperature in TEMPERATURES:
        logs = -temperature * costs
        entries = np.logaddexp.reduce(np.where(np.isfinite(costs), logs, -np.inf), axis=1)
        # "None of them" holds the likeliest variant the catalogue lacks too (scoring.py).
        none = np.logaddexp(-temperature * none_cost, -temperature * variant)
        total = np.logaddexp(entries, none)
        first = np.clip(np.exp(logs[:, 0] - total), 1e-9, 1 - 1e-9)
        loss = -np.where(first_right, np.log(first), np.log1p(-first)).sum(axis=1)
        at = int(np.argmin(loss))
        if loss[at] < best[0]:
            best = (
                float(loss[at]),
                {
                    "temperature": round(float(temperature), 4),
                    "none_base": round(float(base.reshape(-1)[at]), 4),
                    "none_per_character": round(float(per.reshape(-1)[at]), 4),
                },
            )
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-script", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--background", type=int, default=10000)
    args = parser.parse_args()
    fitted = fit(observations(args.seed, args.per_script, args.background))
    current = json.loads(LEARNED_FILE.read_text("utf-8")) if LEARNED_FILE.exists() else {}
    current["calibration"] = {
        "_about": (
            "Fitted, not hand-tuned: generated by `python -m benchmarks.calibrate --per-script "
            f"{args.per_script} --seed {args.seed} --background {args.background}` "
            "(see scoring.py for what the numbers mean)."
        ),
        **fitted,
    }
    LEARNED_FILE.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"calibration: {fitted}")
    print(json.dumps({"benchmark": "calibrate", **fitted}))


if __name__ == "__main__":
    main()
