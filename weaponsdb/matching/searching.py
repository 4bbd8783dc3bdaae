"""One observed marking searched in an index, or in the layers of one (a base and an overlay
of the entries changed since): over each of its readings, its spans (a line of several
tokens), the parts of it legible (when nothing is near) and, for a match that hit few
entries, the nearest others as suggestions; the best hit on each entry kept. Each of those
steps asks what the whole catalogue holds, so the layers are searched as one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from weaponsdb.matching.error_model import COSTS, budget
from weaponsdb.matching.index import Hit, MatchIndex, written
from weaponsdb.matching.normalise import Reading
from weaponsdb.matching.observed import partial_readings, query_readings, span_readings, spans
from weaponsdb.matching.scoring import MarkingMatch


@dataclass(frozen=True)
class Layer:
    """An index and the entries whose hits in it are superseded (by a later layer)."""

    index: MatchIndex
    superseded: frozenset[int] = frozenset()


def best_per_entry(index: MatchIndex, observed: str, suggest: int = 0) -> dict[int, MarkingMatch]:
    """The best hit on each entry of *index* (see best_in_layers)."""
    return best_in_layers([Layer(index)], observed, suggest)


def best_in_layers(
    layers: Sequence[Layer], observed: str, suggest: int = 0
) -> dict[int, MarkingMatch]:
    """The best hit on each entry over every reading of one observed marking; a line of
    several tokens is also tried as its spans, while leaving tokens out could still beat the
    best hit of the whole; and the marking as the start or the end of a longer one, when
    nothing is as near as one arbitrary misreading (what it finds would rank below that).
    With *suggest*, when fewer entries than that were hit and none as near as one arbitrary
    misreading, the nearest others too, however far (suggestions, beyond the budget)."""
    best: dict[int, MarkingMatch] = {}
    # An empty layer (an overlay with no changes, the usual case) would still make every
    # reading, span and suggestion of the query: a third of a match's time, measured.
    layers = [layer for layer in layers if layer.index.targets]
    readings = query_readings(observed)
    _search(layers, observed, readings, best)
    for span in spans(observed):
        if span.cost >= _cheapest(best):
            break
        _search(layers, observed, span_readings(span), best, read_from=span.text)
    if _cheapest(best) > COSTS["substitution"]:
        # Within the budget of what was read: the more is taken as illegible, the dearer.
        for reading in partial_readings(observed):
            _search(layers, observed, [reading], best, budget(written(reading.key)))
    if len(best) < suggest and _cheapest(best) > COSTS["substitution"] and readings:
        # Only when nothing is as near as one arbitrary misreading, as for a partial reading:
        # what a suggestion adds then ranks below it. Of the plainest reading, as written.
        # Priced as the search prices: where a suggestion is a cheaper reading of an entry
        # already hit (a key the search did not reach), it is that entry's best.
        for layer in layers:
            hits = layer.index.suggest(observed, readings[0]).values()
            _keep_best(layer, observed, hits, best)
    return best


def _cheapest(best: dict[int, MarkingMatch]) -> float:
    return min((m.cost for m in best.values()), default=float("inf"))


def _search(
    layers: Sequence[Layer],
    observed: str,
    found: list[Reading],
    best: dict[int, MarkingMatch],
    most: float = float("inf"),
    read_from: str | None = None,
) -> None:
    for reading in found:
        for layer in layers:
            hits = layer.index.search(observed, reading, read_from).values()
            _keep_best(layer, observed, (hit for hit in hits if hit.cost <= most), best)


def _keep_best(
    layer: Layer, observed: str, hits: Iterable[Hit], best: dict[int, MarkingMatch]
) -> None:
    targets = layer.index.targets
    for hit in hits:
        entry_id = targets.entry(hit.target)  # the target decoded only if it is kept
        if entry_id in layer.superseded:
            continue
        current = best.get(entry_id)
        if current is None or hit.cost < current.cost:
            best[entry_id] = MarkingMatch(
                observed,
                targets.text(hit.target),
                targets.kind(hit.target),
                hit.explained,
                hit.edits,
                hit.cost,
                hit.variant_saving,
            )
