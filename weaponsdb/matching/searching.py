"""One observed marking searched in one index: over each of its readings, its spans (a line
of several tokens), the parts of it legible (when nothing is near) and, for a match that hit
few entries, the nearest others as suggestions; the best hit on each entry kept."""

from __future__ import annotations

from collections.abc import Iterable

from weaponsdb.matching.error_model import COSTS, budget
from weaponsdb.matching.index import Hit, MatchIndex, written
from weaponsdb.matching.normalise import Reading
from weaponsdb.matching.observed import partial_readings, query_readings, span_readings, spans
from weaponsdb.matching.scoring import MarkingMatch


def best_per_entry(index: MatchIndex, observed: str, suggest: int = 0) -> dict[int, MarkingMatch]:
    """The best hit on each entry over every reading of one observed marking; a line of
    several tokens is also tried as its spans, while leaving tokens out could still beat the
    best hit of the whole; and the marking as the start or the end of a longer one, when
    nothing is as near as one arbitrary misreading (what it finds would rank below that).
    With *suggest*, when fewer entries than that were hit and none as near as one arbitrary
    misreading, the nearest others too, however far (suggestions, beyond the budget)."""
    best: dict[int, MarkingMatch] = {}
    readings = query_readings(observed)
    _search(index, observed, readings, best)
    for span in spans(observed):
        if span.cost >= _cheapest(best):
            break
        _search(index, observed, span_readings(span), best, read_from=span.text)
    if _cheapest(best) > COSTS["substitution"]:
        # Within the budget of what was read: the more is taken as illegible, the dearer.
        for reading in partial_readings(observed):
            _search(index, observed, [reading], best, budget(written(reading.key)))
    if len(best) < suggest and _cheapest(best) > COSTS["substitution"]:
        # Only when nothing is as near as one arbitrary misreading, as for a partial reading:
        # what a suggestion adds then ranks below it. Of the plainest reading, as written.
        # Priced as the search prices: where a suggestion is a cheaper reading of an entry
        # already hit (a key the search did not reach), it is that entry's best.
        hits = index.suggest(observed, readings[0]).values() if readings else ()
        _keep_best(index, observed, hits, best)
    return best


def _cheapest(best: dict[int, MarkingMatch]) -> float:
    return min((m.cost for m in best.values()), default=float("inf"))


def _search(
    index: MatchIndex,
    observed: str,
    found: list[Reading],
    best: dict[int, MarkingMatch],
    most: float = float("inf"),
    read_from: str | None = None,
) -> None:
    for reading in found:
        hits = index.search(observed, reading, read_from).values()
        _keep_best(index, observed, (hit for hit in hits if hit.cost <= most), best)


def _keep_best(
    index: MatchIndex, observed: str, hits: Iterable[Hit], best: dict[int, MarkingMatch]
) -> None:
    for hit in hits:
        target = index.targets[hit.target]
        current = best.get(target.entry_id)
        if current is None or hit.cost < current.cost:
            best[target.entry_id] = MarkingMatch(
                observed,
                target.text,
                target.kind,
                hit.how,
                hit.detail,
                hit.edits,
                hit.cost,
                hit.variant_saving,
            )
