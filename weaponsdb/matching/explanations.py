"""What a hit assumed, how the observed marking met the catalogue text, put into words only
when it is shown: a match prices tens of catalogue texts for each observed marking, and
shows a few (words for every one were a tenth of a match's time, measured)."""

from __future__ import annotations

from dataclasses import dataclass

from weaponsdb.matching.error_model import Alignment
from weaponsdb.matching.normalise import How, Reading


@dataclass(slots=True)  # not frozen, for speed (see index.Hit)
class Said:
    """An explanation put into words at once (exact, pattern and wildcard hits)."""

    how: How
    detail: str


@dataclass(slots=True)  # not frozen, for speed (see index.Hit)
class Misreading:
    """The observed text taken as a misreading of a catalogue key, through *alignment*."""

    query: Reading
    catalogue: Reading
    catalogue_key: str
    alignment: Alignment
    separators_moved: int = 0  # separators the texts as written have in other places
    # For a suggestion beyond the budget: its cost and the budget.
    beyond: tuple[float, float] | None = None

    @property
    def how(self) -> How:
        return self.alignment.how()

    @property
    def detail(self) -> str:
        alignment, query = self.alignment, self.query
        plural = "s" * (alignment.edits > 1)
        detail = (
            f"'{query.key}' is {alignment.edits} edit{plural} from '{self.catalogue_key}': "
            f"{alignment.describe()}"
        )
        how, path = combined(query, self.catalogue)
        if how is not How.NORMALISED or query.cost:  # the reading assumed something: say what
            detail += f"; {path}"
        if moved := self.separators_moved:
            detail += f"; {moved} separator{'s' * (moved > 1)} where the text has none"
        if self.beyond is not None:
            cost, allowed = self.beyond
            detail = f"a suggestion only: {detail}; beyond the budget ({cost:.2f} > {allowed:.2f})"
        return detail


Explanation = Said | Misreading


class Explained:
    """What holds an explanation (a hit, a marking's match) says how and why through it."""

    explained: Explanation

    @property
    def how(self) -> How:
        return self.explained.how

    @property
    def detail(self) -> str:
        return self.explained.detail


def combined(query: Reading, catalogue: Reading) -> tuple[How, str]:
    """How two readings met: say what the less plain of them did."""
    if query.how is not How.NORMALISED:
        return query.how, query.detail
    if catalogue.how is not How.NORMALISED:
        return catalogue.how, f"the catalogue text: {catalogue.detail}"
    return How.NORMALISED, query.detail
