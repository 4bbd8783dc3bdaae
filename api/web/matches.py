"""What the Identify page shows of a match, from its markings typed or read off a photo:
the candidates with their photos, whether the answer is confident, and the thresholds the
page explains the scores by."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from weaponsdb.catalogue import read as catalogue
from weaponsdb.matching.matcher import MatchResult
from weaponsdb.matching.scoring import CONFIDENT_SCORE, LACKED_VARIANT_SAID

# Before anything was matched: the page shows no results.
NONE_YET: dict[str, Any] = {
    "candidates": None,
    "confident": None,
    "photos": {},
    "confident_score": CONFIDENT_SCORE,
    "lacked_variant_said": LACKED_VARIANT_SAID,
}


def show(session: Session, context: dict[str, Any], result: MatchResult) -> None:
    context["candidates"] = result.candidates
    context["confident"] = result.confident
    slugs = [candidate.entry.slug for candidate in result.candidates]
    context["photos"] = catalogue.first_photos(session, slugs)
