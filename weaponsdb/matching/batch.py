"""Many match queries at once, for integrators reconciling a list of items: each query is
validated on its own (a bad one is reported, the others are answered), and all are matched
against one index, of one catalogue generation, in the order given; a long batch by several
processes at once, forked with that index (forked.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import Field, ValidationError

from weaponsdb import forked
from weaponsdb.config import usable_cores
from weaponsdb.errors import FieldError, InvalidInputError, field_path
from weaponsdb.matching.catalogue_index import CatalogueIndex
from weaponsdb.matching.matcher import Matcher, MatchQuery, MatchResult

MAX_BATCH = 1000
# A batch this long or longer is spread over processes: forking a serving process and
# collecting its answers cost a few milliseconds, a query about one.
SPREAD_FROM = 64
QUERIES_AT_A_TIME = 16  # by each process: answers stream back in order, this many at once
# A batch's processes yield the cores to the worker that forked them and to the others,
# so that single matches and pages stay quick while a batch takes the rest.
BATCH_NICENESS = 10

Made = TypeVar("Made")


class BatchQuery(MatchQuery):
    """A match query with the caller's id for it, given back with its answer."""

    id: str = Field(min_length=1, max_length=200, description="The caller's id for the query.")


@dataclass(frozen=True)
class BatchAnswer:
    index: int  # of the query in the batch, from 0
    id: str | None  # the caller's id, if it gave a usable one
    result: MatchResult | None  # the answer, or
    error: InvalidInputError | None  # why the query was not matched


def checked(index: int, raw: Any, root: str = "queries") -> BatchQuery | InvalidInputError:
    """Query *index* of a batch validated as one query is, its fields named within the batch
    (queries[3].markings[0])."""
    try:
        return BatchQuery.model_validate(raw)
    except ValidationError as error:
        errors = [
            FieldError(field_path((root, index, *e["loc"])), e["msg"])
            for e in error.errors(include_url=False)
        ]
        fields = ", ".join(sorted({e.field for e in errors}))
        return InvalidInputError(f"Query {index} has invalid values: {fields}.", errors)


def answered(
    matcher: Matcher,
    index: CatalogueIndex,
    raws: Sequence[Any],
    made: Callable[[BatchAnswer], Made],
    processes: int | None = None,
) -> Iterator[Made]:
    """made(answer) of each query's answer, in order, as they are done (so that a caller can
    stream them): by *processes* processes at once (default: one a core) when the batch is
    long, each answering a share of it with the index as it is now. *made* runs in those
    processes too, so that what crosses back is what the caller sends on (a line of JSON)."""

    def one(number: int) -> Made:
        return made(_answer(matcher, index, number, raws[number]))

    processes = processes or usable_cores()
    if processes > 1 and len(raws) >= SPREAD_FROM and forked.can_fork():
        return forked.in_order(one, range(len(raws)), processes, QUERIES_AT_A_TIME, BATCH_NICENESS)
    return map(one, range(len(raws)))


def _answer(matcher: Matcher, index: CatalogueIndex, number: int, raw: Any) -> BatchAnswer:
    query = checked(number, raw)
    if isinstance(query, InvalidInputError):
        given = raw.get("id") if isinstance(raw, dict) else None
        return BatchAnswer(number, given if isinstance(given, str) else None, None, query)
    return BatchAnswer(number, query.id, matcher.match_in(index, query), None)


def read_queries(text: str, kind: str) -> list[Any]:
    """Queries from a file's text: JSON Lines (one query object a line) or CSV (a header
    row naming the fields: id, markings separated by '|', and optionally category,
    calibre_mm, country, features separated by '|', limit). Values are checked per query,
    later; only a file that cannot be read as either is refused here."""
    if kind == "jsonl":
        queries: list[Any] = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    queries.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise InvalidInputError(f"Line {number} is not JSON: {error}.") from None
        return queries
    rows = csv.DictReader(io.StringIO(text))
    if not rows.fieldnames or "markings" not in rows.fieldnames:
        raise InvalidInputError("The CSV file needs a header row with a 'markings' column.")
    return [_csv_query(row) for row in rows]


LISTS = ("markings", "features")


def _csv_query(row: dict[str, str]) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for name, value in row.items():
        if value is None or value == "":
            continue  # an empty cell: the field is not given
        query[name] = [part for part in value.split("|") if part] if name in LISTS else value
    return query
