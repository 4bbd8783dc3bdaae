"""The page templates' environment, shared by the pages and by error answers for people."""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus
from pathlib import Path

from fastapi.templating import Jinja2Templates

from weaponsdb import schemas
from weaponsdb.matching.scoring import Effect
from weaponsdb.vocab import EXPLOSIVE, Category, Confidence

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")


def millimetres(value: Decimal | float | str) -> str:
    """122.00 as "122", 7.620 as "7.62"."""
    return format(Decimal(str(value)).normalize(), "f")


templates.env.filters["country_name"] = schemas.country_name
templates.env.filters["mm"] = millimetres
templates.env.globals["categories"] = [category.value for category in Category]
templates.env.globals["explosive"] = {category.value for category in EXPLOSIVE}
templates.env.globals["effects"] = {
    Effect.RAISED.value: "raises the score",
    Effect.LOWERED.value: "lowers the score",
    Effect.NEUTRAL.value: "no effect on the score",
}
templates.env.globals["confidence_help"] = {
    Confidence.CONFIRMED.value: "established by several independent sources or physical evidence",
    Confidence.REPORTED.value: "stated by the source, not independently confirmed",
    Confidence.INFERRED.value: "follows from what the source says, though it does not say it",
    Confidence.DISPUTED.value: "stated by the source and contradicted elsewhere",
}


def error_page(status: int, message: str) -> str:
    """A whole page saying what went wrong, for answers made outside the page routes."""
    template = templates.get_template("error.html")
    return template.render(title=HTTPStatus(status).phrase, message=message)
