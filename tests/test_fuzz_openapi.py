"""Property-based tests generated from the service's own OpenAPI schema, with every check
schemathesis has: whatever a client sends, within the schema or outside it, no answer is a
5xx, every answer keeps to the schema, and every request the schema allows is accepted.
Runs against a seeded catalogue on SQLite and PostgreSQL, without a key and with an
editor's."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import settings as settings_
from hypothesis import strategies as st
from PIL import Image
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from sqlalchemy import Engine, inspect, text

from api.app import SETTLE_SECONDS, create_app
from weaponsdb import db, seeding
from weaponsdb.config import Settings
from weaponsdb.photos.validation import FORMATS

# The states a request can meet that its shape cannot rule out: a slug or key no one has
# (404), a change made since the version it names (412), a name already taken (409).
ACCEPTED = ["2xx", "401", "403", "404", "409", "412", "429"]
# Schemathesis's example and coverage phases fill a file field with bytes such as "0", not
# drawn from the image strategies below; the spec already says it must be an image (415).
# They also send empty text fields, though the form declares their minimum length (422).
NOT_DRAWN = {
    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "415", "422"]}}
}
PHOTO_FIELDS = {
    "include-path-regex": "/(read|identify|photos|observations)$",
    "phases": {"examples": NOT_DRAWN, "coverage": NOT_DRAWN},
    # Every form field is text on the wire: a field 'turned into' an array or a number is
    # the same bytes, so the check that such a request is refused cannot apply to forms.
    "checks": {"negative_data_rejection": {"enabled": False}},
}
# Rules between fields, which these bodies' JSON Schema does not state, so a body the spec
# allows may still be refused with a 422 naming the field: a retracted entry and its reason,
# a photo's marking_index within the markings, a marking's text fitting its pattern (which
# needs a placeholder), a source's key in the body equal to the one in the path, and
# If-Match, optional with a photo but required (428) when it names a marking by position.
# Likewise an identifier's value has its scheme's pattern (Wikidata Q..., Commons File:...),
# and an instance's coordinates come with a precision.
CROSS_FIELD = {
    "include-operation-id": [
        "create_entry",
        "update_source",
        "create_source",
        "add_marking",
        "replace_marking",
        "add_photo",
        "add_identifier",
        "replace_identifier",
        "add_instance",
        "replace_instance",
    ],
    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422", "428"]}},
}
# The W3C Reconciliation API sends a batch as JSON inside a form or query field (`queries`),
# which OpenAPI describes only as text: its shape is the specification's own JSON Schema,
# vendored and checked in tests/test_reconcile.py.
RECONCILIATION = {
    "include-path-regex": "^/reconcile",
    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
}
# Schemathesis sends a list of files (an observation's photos) as text parts, which the
# service refuses naming files[0] (422): a client's files arrive as files.
FILE_LISTS = {
    "include-path-regex": "^/v1/observations$",
    "include-method": "POST",
    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "415", "422"]}},
}
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ACCEPTED},
            # RFC 6585: a missing If-Match is answered 428 Precondition Required; a key
            # without the role is refused (403) before the headers are looked at.
            "missing_required_header": {"expected-statuses": ["401", "403", "422", "428"]},
        },
        "operations": [PHOTO_FIELDS, CROSS_FIELD, RECONCILIATION, FILE_LISTS],
    }
)
# The schema is read from an app that is never called; requests go to the test's own app.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(database_url="sqlite://")), config=CONFIG
)
# The operations that need a key; reading and matching are the same without one.
WRITES = schema.include(method=["POST", "PUT", "PATCH", "DELETE"]).exclude(
    path_regex="^/v1/(match|read|identify)"
)


@st.composite
def photos(draw: st.DrawFn, pillow_format: str) -> bytes:
    """A real, small image in *pillow_format*: what the spec's photo encodings promise."""
    size = (draw(st.integers(8, 96)), draw(st.integers(8, 96)))
    colour = tuple(draw(st.integers(0, 255)) for _ in range(3))
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=pillow_format)
    return buffer.getvalue()


for photo_format in FORMATS:
    schemathesis.openapi.media_type(photo_format.media_type, photos(photo_format.pillow))

RUNS = settings(
    # Per operation, beyond the coverage phase's own cases (which already try every boundary
    # and every kind of wrong value); bounded by count to keep the suite's time.
    max_examples=8,
    deadline=None,
    # Patterns (text, dates, decimals) leave generators many values to discard.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@pytest.fixture
def app_under_test(seeded, settings, engine) -> Iterator[FastAPI]:
    app = create_app(settings.model_copy(update={"match_rate_limit": "1000000/minute"}), engine)
    yield app
    # Called without its lifespan: what a shutdown would wait for, before the next test
    # empties the tables.
    app.state.resources.matcher.settle(SETTLE_SECONDS)


def _check(
    case: schemathesis.Case[Any], app: FastAPI, headers: dict[str, str] | None = None
) -> None:
    # 30 s, past PostgreSQL's 15 s statement timeout: a request stuck on a lock ends in a
    # 5xx this test reports, while a pause of the machine (schemathesis waits 10 s by
    # default) is not mistaken for one.
    case.call_and_validate(app=app, headers=headers, timeout=30)


@schema.parametrize()
@RUNS
def test_every_operation_without_a_key(case, app_under_test):
    _check(case, app_under_test)


@WRITES.parametrize()
@RUNS
def test_every_write_with_an_editor_key(case, app_under_test, editor):
    # A case that breaks its headers on purpose may mean to leave the key out.
    headers_broken = case.meta and case.meta.components.get(ParameterLocation.HEADER)
    if headers_broken and headers_broken.mode is GenerationMode.NEGATIVE:
        _check(case, app_under_test)
    else:
        _check(case, app_under_test, {"Authorization": f"Bearer {editor}"})


class Catalogue:
    """The seeded catalogue, put back as it was before each scenario, with an app of its own:
    Hypothesis replays a scenario's steps and expects them to meet what they met before."""

    KEPT = ("alembic_version", "catalogue_generation", "api_keys")

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.settings = settings.model_copy(update={"match_rate_limit": "1000000/minute"})
        self.url = settings.database_url
        self.template = tmp_path / "template.sqlite3"
        if self.url.startswith("sqlite"):
            self._copy(self._path(), self.template)
        self.engine: Engine | None = None
        self.app: FastAPI | None = None

    def fresh_app(self) -> FastAPI:
        if self.app is not None:
            # The last scenario's index may still be loading or rebuilding in a thread of
            # its own: reading the tables while they are emptied deadlocks on PostgreSQL.
            self.app.state.resources.matcher.settle(SETTLE_SECONDS)
        if self.engine is not None:
            self.engine.dispose()
        if self.url.startswith("sqlite"):
            self._copy(self.template, self._path())
        else:
            self._truncate_and_seed()
        self.engine = db.make_engine(self.url)
        self.app = create_app(self.settings, self.engine)
        return self.app

    def _path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))

    @staticmethod
    def _copy(source: Path, target: Path) -> None:
        # SQLite's own backup: whole and consistent, whatever its write-ahead log holds.
        with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
            origin.backup(copy)

    def _truncate_and_seed(self) -> None:
        engine = db.make_engine(self.url)
        with engine.begin() as connection:
            tables = [t for t in inspect(connection).get_table_names() if t not in self.KEPT]
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        with db.transaction(db.make_sessionmaker(engine)) as session:
            seeding.load_seed(session)
        engine.dispose()


def test_sequences_of_calls_following_the_specs_links(seeded, settings, editor, tmp_path):
    """Create, list, read, change, revisions, diffs and citations, each step fed by the
    answer before it (the spec's links), checked as every single call is, from the seeded
    catalogue each time. Whether a step's request is accepted or refused is the single-call
    tests' to judge: along a sequence a part may cite a source no step made, and the key is
    sent even where a step means to leave it out. The sequences run with an editor's key,
    which reads as an anonymous caller does and can also write; what a caller without a key
    is refused, the single-call tests check."""
    catalogue = Catalogue(settings, tmp_path)
    credentials = {"Authorization": f"Bearer {editor}"}

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.app = catalogue.fresh_app()

        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"app": self.app, "headers": credentials, "timeout": 30}

        def validate_response(
            self, response: Any, case: schemathesis.Case[Any], **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                excluded_checks=[
                    schemathesis.checks.positive_data_acceptance,
                    schemathesis.checks.negative_data_rejection,
                ],
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Workflow.run(
        settings=settings_(
            max_examples=8,
            stateful_step_count=5,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
