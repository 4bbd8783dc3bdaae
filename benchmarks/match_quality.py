"""How well the matcher finds what was really read, per script and kind of reading, against
rapidfuzz baselines on the same queries (reading_queries.py).

For each (script, kind): top-1 and top-5 (the entry among the first one / five listed),
'nothing' (no confident answer: the matcher's first score below CONFIDENT_SCORE, or nothing
listed), 'wrong first' (a confident answer whose first entry is wrong) and the expected
calibration error of the first score (10 equal bins). Baselines: rapidfuzz `ratio` and
`WRatio` over every marking, forced choice (always confident), and `ratio` with the cut-off
at which its wrong-first rate is no higher than the matcher's. Targets hold on recognisable
queries (an OCR reading with a character error rate up to 0.5; random strings aside). Queries
of a designation the catalogue lacks, though it holds its siblings, should find nothing: for
them 'wrong first' is how often a sibling is answered confidently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process, utils

from benchmarks.reading_queries import NOBODY, UNLISTED, QualitySet, Query
from benchmarks.synthetic import SyntheticMarking
from weaponsdb.matching.index import MatchIndex, Target
from weaponsdb.matching.matcher import SUGGESTED
from weaponsdb.matching.scoring import CONFIDENT_SCORE, EntryFacts, Evidence, rank
from weaponsdb.matching.searching import best_per_entry

TOP = 5
BINS = 10


@dataclass(frozen=True)
class Outcome:
    ranked: list[int]  # entry ids, best first
    score: float  # of the first, 0 if nothing was listed
    confident: bool


def build_index(markings: Sequence[SyntheticMarking]) -> MatchIndex:
    return MatchIndex([Target(m.entry_id, "marking", m.text, m.pattern) for m in markings])


def slug(entry_id: int) -> str:
    """A slug in no relation to the order entries were made in: a query's own entry is made
    before its siblings, and must not win ties by that."""
    return f"synthetic-{entry_id * 2654435761 % 2**32:010d}"


def matcher_outcome(index: MatchIndex, text: str) -> Outcome:
    best = best_per_entry(index, text, SUGGESTED)
    facts = {e: EntryFacts(e, slug(e), "synthetic", None, None, None) for e in best}
    candidates = rank([text], {e: [m] for e, m in best.items()}, facts, Evidence(), TOP)
    if not candidates:
        return Outcome([], 0.0, False)
    score = candidates[0].score
    return Outcome([c.entry.id for c in candidates], score, score >= CONFIDENT_SCORE)


def baseline(
    markings: Sequence[SyntheticMarking], scorer: Callable[..., float]
) -> Callable[[str], Outcome]:
    # In slug order, like the matcher's ties: a query's own entry is made before its siblings
    # and must not win a tie by being first in the list.
    markings = sorted(markings, key=lambda m: slug(m.entry_id))
    texts = [m.text for m in markings]

    def search(text: str) -> Outcome:
        found = process.extract(
            text, texts, scorer=scorer, processor=utils.default_process, limit=TOP
        )
        if not found:
            return Outcome([], 0.0, False)
        return Outcome([markings[p].entry_id for _, _, p in found], found[0][1] / 100, True)

    return search


def with_cutoff(outcomes: Sequence[Outcome], cutoff: float) -> list[Outcome]:
    return [o if o.score >= cutoff else Outcome([], o.score, False) for o in outcomes]


def figures(outcomes: Sequence[Outcome], queries: Sequence[Query]) -> dict[str, float]:
    count = max(len(queries), 1)
    right = [o.ranked[:1] == [q.entry_id] for o, q in zip(outcomes, queries, strict=True)]
    return {
        "queries": len(queries),
        "top1": round(sum(right) / count, 4),
        "top5": round(
            sum(q.entry_id in o.ranked[:TOP] for o, q in zip(outcomes, queries, strict=True))
            / count,
            4,
        ),
        "nothing": round(sum(not o.confident for o in outcomes) / count, 4),
        "wrong_first": round(
            sum(o.confident and not r for o, r in zip(outcomes, right, strict=True)) / count, 4
        ),
        "ece": round(calibration_error([o.score for o in outcomes], right), 4),
    }


def calibration_error(scores: Sequence[float], right: Sequence[bool]) -> float:
    """Expected calibration error: the gap between score and share right, bin by bin,
    weighted by the share of queries in the bin."""
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(BINS)]
    for score, ok in zip(scores, right, strict=True):
        bins[min(BINS - 1, int(score * BINS))].append((score, ok))
    total = max(len(scores), 1)
    return sum(
        abs(sum(s for s, _ in b) / len(b) - sum(ok for _, ok in b) / len(b)) * len(b) / total
        for b in bins
        if b
    )


def tuned_cutoff(outcomes: Sequence[Outcome], queries: Sequence[Query], wrong: float) -> float:
    """The lowest cut-off at which the baseline's wrong-first rate is at most *wrong*."""
    for cutoff in [c / 100 for c in range(0, 101)]:
        if figures(with_cutoff(outcomes, cutoff), queries)["wrong_first"] <= wrong:
            return cutoff
    return 1.0


def evaluate(data: QualitySet) -> dict[str, Any]:
    index = build_index(data.markings)
    queries = data.queries
    runs = {
        "matcher": [matcher_outcome(index, q.text) for q in queries],
        "ratio": list(map(baseline(data.markings, fuzz.ratio), (q.text for q in queries))),
        "WRatio": list(map(baseline(data.markings, fuzz.WRatio), (q.text for q in queries))),
    }
    groups = _groups(queries)
    recognisable = groups["all recognisable"]
    wrong = figures([runs["matcher"][i] for i in recognisable], [queries[i] for i in recognisable])
    cutoff = tuned_cutoff(
        [runs["ratio"][i] for i in recognisable],
        [queries[i] for i in recognisable],
        wrong["wrong_first"],
    )
    runs[f"ratio >= {cutoff:.2f}"] = with_cutoff(runs["ratio"], cutoff)
    table = {
        name: {
            method: figures([outcomes[i] for i in members], [queries[i] for i in members])
            for method, outcomes in runs.items()
        }
        for name, members in groups.items()
    }
    return {"markings": len(data.markings), "queries": len(queries), "groups": table}


def _groups(queries: Sequence[Query]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, query in enumerate(queries):
        groups.setdefault("all queries", []).append(i)
        if query.kind == UNLISTED:
            groups.setdefault(f"{query.script} unlisted (should find nothing)", []).append(i)
            groups.setdefault("all unlisted (should find nothing)", []).append(i)
            continue
        if query.entry_id == NOBODY:
            groups.setdefault("random strings (should find nothing)", []).append(i)
            continue
        readable = "" if query.recognisable else " (CER > 0.5)"
        groups.setdefault(f"{query.script} {query.kind}{readable}", []).append(i)
        if query.recognisable:
            groups.setdefault(f"{query.script} recognisable", []).append(i)
            groups.setdefault("all recognisable", []).append(i)
    return dict(sorted(groups.items()))


def report(result: dict[str, Any]) -> None:
    print(
        f"\nWhat was really read: {result['queries']} queries against {result['markings']:,} "
        "synthetic markings (OCR by Tesseract, typed by sight, perturbed; random strings and "
        "designations the catalogue lacks)"
    )
    width = max(map(len, result["groups"])) + 2
    print(f"  {'queries':<{width}}{'method':<14}{'n':>5}{'top1':>7}{'top5':>7}{'nothing':>9}"
          f"{'wrong1st':>10}{'ECE':>7}")  # fmt: skip
    for name, methods in result["groups"].items():
        for method, f in methods.items():
            print(
                f"  {name:<{width}}{method:<14}{f['queries']:>5}{f['top1']:>7}{f['top5']:>7}"
                f"{f['nothing']:>9}{f['wrong_first']:>10}{f['ece']:>7}"
            )
