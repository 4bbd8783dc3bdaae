"""The weaponsdb command line: set up, load, serve, read, export and import the catalogue."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from weaponsdb import backup as backups
from weaponsdb import (
    db,
    editing,
    geo,
    keys,
    publishing,
    revisions,
    schemas,
    seeding,
    tabular,
    transfer,
)
from weaponsdb.catalogue import convert, read
from weaponsdb.config import Settings
from weaponsdb.errors import InvalidInputError, WeaponsdbError, invalid
from weaponsdb.matching import batch, saved
from weaponsdb.matching.catalogue_index import current_generation, load_targets
from weaponsdb.matching.matcher import MAX_RESULTS, Matcher, MatchQuery, MatchResult
from weaponsdb.matching.scoring import LACKED_VARIANT_SAID, Candidate
from weaponsdb.observations import custody, submitting
from weaponsdb.observations.records import Submission
from weaponsdb.photos import ingest
from weaponsdb.photos.matching import PhotoMatcher
from weaponsdb.photos.storage import FileStore
from weaponsdb.photos.validation import Limits
from weaponsdb.reading import identifying
from weaponsdb.reading.engine import Tesseract
from weaponsdb.reading.reader import Box, Reader, Reading
from weaponsdb.reading.scripts import parse_scripts
from weaponsdb.vocab import Category, PhotoView, Role, Status
from weaponsdb.wikidata import commons, importing
from weaponsdb.wikidata import entities as wikidata

app = typer.Typer(
    help="weaponsdb: identify weapons and munitions from what can be seen on them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
entries_app = typer.Typer(help="Read catalogue entries.", no_args_is_help=True)
app.add_typer(entries_app, name="entries")
keys_app = typer.Typer(
    help="Issue, list and revoke API keys for the write API.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
photos_app = typer.Typer(help="Attach reference photos to entries.", no_args_is_help=True)
app.add_typer(photos_app, name="photos")
index_app = typer.Typer(help="The match index saved beside the database.", no_args_is_help=True)
app.add_typer(index_app, name="index")
observations_app = typer.Typer(help="Submit observations from the field.", no_args_is_help=True)
app.add_typer(observations_app, name="observations")

out = Console()
err = Console(stderr=True)


class State:
    def __init__(self, database_url: str | None) -> None:
        self.settings = Settings(database_url=database_url) if database_url else Settings()


@app.callback()
def configure(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="WEAPONSDB_DATABASE_URL",
            help="SQLAlchemy URL; default: sqlite:///weaponsdb.sqlite3 in this folder.",
        ),
    ] = None,
) -> None:
    ctx.obj = State(database_url)


def settings_of(ctx: typer.Context) -> Settings:
    state: State = ctx.obj
    return state.settings


@contextmanager
def unit_of_work(ctx: typer.Context) -> Iterator[Session]:
    engine = db.make_engine(settings_of(ctx).database_url)
    try:
        with db.transaction(db.make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the latest revision."""
    db.migrate(settings_of(ctx).database_url)
    out.print(f"Database schema is at revision {db.head_revision()}.")
    with unit_of_work(ctx) as session:
        recorded = revisions.record_missing_initial_revisions(session)
    if recorded:
        out.print(f"Recorded revision 1 of {recorded} entries that had no revisions.")


@app.command()
def seed(ctx: typer.Context) -> None:
    """Load the seed catalogue (safe to repeat: nothing already loaded is touched)."""
    with unit_of_work(ctx) as session:
        report = seeding.load_seed(session)
    if report.added:
        out.print(f"Seed catalogue: {len(report.added)} records loaded.")
    else:
        out.print("Seed catalogue: already loaded; nothing changed.")


HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)]


WorkersOption = Annotated[
    int | None,
    typer.Option(help="Worker processes sharing the port; default: the number of cores.", min=1),
]


@app.command()
def serve(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: WorkersOption = None,
) -> None:
    """Serve the HTTP API with one or more worker processes; each keeps its matcher in step
    with the shared database."""
    import uvicorn

    from api.app import create_app
    from api.server import default_workers, serve_workers, server_config

    count = workers or default_workers()
    # Plain echo: the address must stay on one line, whatever the terminal width.
    typer.echo(
        f"weaponsdb is serving at http://{host}:{port}  (API docs: /docs; "
        f"{count} worker{'s' if count > 1 else ''})"
    )
    settings = settings_of(ctx)
    if count == 1:
        uvicorn.Server(server_config(create_app(settings), settings, host, port)).run()
        return
    serve_workers(settings, host, port, count)


@app.command()
def up(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: WorkersOption = None,
) -> None:
    """Migrate, load the seed catalogue and serve: everything a fresh install needs."""
    migrate(ctx)
    seed(ctx)
    serve(ctx, host, port, workers)


@entries_app.command("list")
def list_entries(
    ctx: typer.Context,
    category: Annotated[Category | None, typer.Option(help="Only this category.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 code.")] = None,
    calibre: Annotated[float | None, typer.Option(help="Calibre in mm.", min=0.01)] = None,
    text: Annotated[str | None, typer.Option("--text", "-q", help="Text in a name.")] = None,
    marking: Annotated[
        str | None, typer.Option(help="A marking as read; matched as `weaponsdb match` does.")
    ] = None,
    status: Annotated[Status, typer.Option(help="Entry status.")] = Status.PUBLISHED,
    limit: Annotated[int, typer.Option(min=1, max=read.MAX_PAGE_SIZE)] = 50,
) -> None:
    """List entries, filtered."""
    where = read.EntryFilter(
        category=category,
        country=country.upper() if country else None,
        calibre_mm=Decimal(str(calibre)) if calibre is not None else None,
        text=text,
        marking=marking,
        status=status,
    )
    with unit_of_work(ctx) as session:
        page = read.list_entries(session, Matcher().widened(session, where), limit)
        table = Table("slug", "name", "category", "calibre", "country", "markings")
        for entry in page.items:
            table.add_row(
                entry.slug,
                entry.name,
                entry.category or "",
                entry.calibre_designation or "",
                entry.country or "",
                ", ".join(m.text for m in entry.markings),
            )
    out.print(table)
    out.print(f"{len(page.items)} of {page.total} entries")


@entries_app.command("show")
def show_entry(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The entry's slug.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the entry record as JSON.")
    ] = False,
) -> None:
    """Show one entry with its names, markings, instances and sources."""
    with unit_of_work(ctx) as session:
        record = convert.entry_record(read.get_entry(session, slug))
        sources = [
            convert.source_record(s)
            for s in read.sources_by_key(session, record.cited_source_keys())
        ]
    if as_json:
        out.print_json(record.model_dump_json(exclude_none=True))
        return
    _print_entry(record, sources)


def _print_entry(record: schemas.EntryRecord, sources: list[schemas.SourceRecord]) -> None:
    out.print(f"[bold]{record.name}[/bold]  ({record.slug}, {record.status})")
    for label, value in (
        ("category", record.category),
        ("calibre", record.calibre_designation),
        ("country", schemas.country_name(record.country)),
        ("family", record.family),
        ("description", record.description),
    ):
        if value:
            out.print(f"  {label}: {value}")
    for name in record.names:
        out.print(f"  name: {name.text} [{name.script or '?'}] ({name.kind})")
    for marking in record.markings:
        out.print(f"  marking: {marking.text} [{marking.script or '?'}] {marking.meaning or ''}")
    for instance in record.instances:
        out.print(f"  documented: {instance.event} ({instance.date or 'date not stated'})")
    for source in sources:
        said = ", ".join(filter(None, [source.publisher, source.author, source.published]))
        out.print(f"  source {source.key}: {said or source.kind}")


JsonOption = Annotated[bool, typer.Option("--json", help="The whole answer as JSON.")]
NOT_CONFIDENT = "no confident match: the first candidate is not likely enough to be the one"


@app.command("match")
def match_markings(
    ctx: typer.Context,
    markings: Annotated[
        list[str] | None, typer.Argument(help="Markings as read; '?' one illegible, '*' a run.")
    ] = None,
    category: Annotated[Category | None, typer.Option(help="Category seen.")] = None,
    calibre: Annotated[float | None, typer.Option(help="Calibre seen, in mm.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 code.")] = None,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", help="A feature seen (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_RESULTS)] = 10,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Match every query of a .jsonl or .csv file instead (see the README); "
            "answers as JSON Lines, in order.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="With --file: write the answers here, not to stdout.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Rank the entries that bear these markings, with why each matched."""
    if file is not None:
        if markings:
            raise InvalidInputError("Give markings or --file, not both.")
        _match_file(ctx, file, output)
        return
    if not markings:
        raise InvalidInputError("Give the markings to match, or --file.")
    try:
        query = MatchQuery(
            markings=markings,
            category=category,
            calibre_mm=calibre,
            country=country.upper() if country else None,
            features=feature or [],
            limit=limit,
        )
    except ValidationError as error:
        raise invalid(error, "The query cannot be matched.") from None
    with unit_of_work(ctx) as session:
        matcher = Matcher(index_file=settings_of(ctx).match_index_file())
        result = matcher.match_in(matcher.index(session), query)
    if as_json:
        answer = {
            **_result_json(result),
            "catalogue_generation": result.generation,
            "indexed_texts": result.indexed_texts,
        }
        out.print_json(json.dumps(answer, ensure_ascii=False))
        return
    table = Table("#", "entry", "score", "why", show_lines=True)
    for number, candidate in enumerate(result.candidates, 1):
        why = [f"{m.observed} → {m.matched}: {m.how} ({m.detail})" for m in candidate.matches]
        why += [f"{e.field} {e.effect}: {e.reason}" for e in candidate.evidence]
        why += [f"not explained: {text}" for text in candidate.unmatched]
        name = f"{escape(candidate.entry.name)}\n[dim]{candidate.entry.slug}[/dim]"
        table.add_row(str(number), name, f"{candidate.score:.2f}", escape("\n".join(why)))
    out.print(table)
    out.print(
        f"{len(result.candidates)} candidates among {result.indexed_texts} markings and names"
    )
    if result.candidates and not result.confident:
        out.print(NOT_CONFIDENT)
        for candidate in result.candidates:
            if candidate.lacked_variant >= LACKED_VARIANT_SAID:
                out.print(_lacked_variant(candidate))


def _lacked_variant(candidate: Candidate) -> str:
    return (
        f"it may be a variant of {escape(candidate.entry.name)} that the catalogue lacks "
        f"({candidate.lacked_variant:.0%})"
    )


def _match_file(ctx: typer.Context, path: Path, output: Path | None) -> None:
    """Every query of *path* matched against one index, with a progress bar on stderr; exits
    non-zero after the answers if any query was refused."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("jsonl", "csv"):
        raise InvalidInputError(f"{path}: the file must end in .jsonl or .csv.")
    queries = batch.read_queries(_read_text(path), kind)
    matcher = Matcher(index_file=settings_of(ctx).match_index_file())
    refused = 0
    with unit_of_work(ctx) as session:
        index = matcher.index(session)
    sink = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        with Progress(console=err, transient=output is None) as progress:
            task = progress.add_task("Matching", total=len(queries))
            processes = settings_of(ctx).match_batch_processes
            for line, failed in batch.answered(matcher, index, queries, _answer_line, processes):
                refused += failed
                sink.write(line)
                progress.advance(task)
    finally:
        if output:
            sink.close()
    err.print(f"{len(queries)} queries: {len(queries) - refused} matched, {refused} refused.")
    if refused:
        raise typer.Exit(1)


def _answer_line(answer: batch.BatchAnswer) -> tuple[str, bool]:
    """A query's answer as a line of JSON, and whether the query was refused."""
    line: dict[str, Any] = {"index": answer.index, "id": answer.id}
    if answer.error is not None:
        errors = [{"field": e.field, "reason": e.reason} for e in answer.error.errors]
        line["problem"] = {"detail": answer.error.message, "errors": errors}
    else:
        assert answer.result is not None
        line.update(_result_json(answer.result))
    return json.dumps(line, ensure_ascii=False) + "\n", answer.error is not None


def _result_json(result: MatchResult) -> dict[str, Any]:
    """A match's answer for machines: whether it is confident, and each candidate with
    which observed marking met which catalogue text, how, and why."""
    candidates = [
        {
            "rank": rank,
            "slug": candidate.entry.slug,
            "name": candidate.entry.name,
            "score": candidate.score,
            "lacked_variant_score": candidate.lacked_variant,
            "matches": [
                {"observed": m.observed, "matched": m.matched, "how": m.how, "detail": m.detail}
                for m in candidate.matches
            ],
        }
        for rank, candidate in enumerate(result.candidates, 1)
    ]
    return {"confident": result.confident, "candidates": candidates}


class ExportFormat(StrEnum):
    JSON = "json"  # the whole catalogue, history included: what `import` reads back
    CSV = "csv"  # one table (--table), for spreadsheets
    GEOJSON = "geojson"  # documented instances with coordinates, for maps


class CsvTable(StrEnum):
    ENTRIES = "entries"
    INSTANCES = "instances"


@index_app.command("build")
def index_build(ctx: typer.Context) -> None:
    """Build the match index of the published catalogue and save it to the index file
    (WEAPONSDB_INDEX_FILE; unset: beside a SQLite database), for the service to load."""
    settings = settings_of(ctx)
    path = settings.match_index_file()
    if path is None:
        raise InvalidInputError(
            "No index file: set WEAPONSDB_INDEX_FILE (a PostgreSQL database has no file to "
            "put it beside)."
        )
    started = time.perf_counter()
    with unit_of_work(ctx) as session, saved.building(path):
        generation = current_generation(session)
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("Indexing markings and names", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            built, size = saved.build(session, path, load_targets, generation, advance)
    out.print(
        f"{len(built.index.targets)} markings and names indexed at catalogue generation "
        f"{generation} in {time.perf_counter() - started:.1f} s: {path} ({size / 1e6:.1f} MB)"
    )


@app.command("export")
def export_catalogue(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="File to write, or - for standard output.")],
    format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="json: the whole catalogue; csv: a table; geojson: documented instances "
            "with coordinates.",
        ),
    ] = ExportFormat.JSON,
    table: Annotated[
        CsvTable, typer.Option(help="With --format csv: entries or instances, one row each.")
    ] = CsvTable.ENTRIES,
    status: Annotated[
        Status, typer.Option(help="With --format csv: the entries of this status.")
    ] = Status.PUBLISHED,
    excel: Annotated[
        bool,
        typer.Option(
            "--excel", help="With --format csv: a byte order mark first, for Excel to read UTF-8."
        ),
    ] = False,
) -> None:
    """Export the whole catalogue as JSON, its entries or instances as CSV, or its located
    instances as GeoJSON."""
    with unit_of_work(ctx) as session:
        if format is ExportFormat.CSV:
            text = _csv_table(session, table, status, settings_of(ctx).public_url or "")
            text = tabular.for_excel(text) if excel else text
        elif format is ExportFormat.GEOJSON:
            collection = geo.feature_collection(session, geo.InstanceFilter())
            text = json.dumps(collection, ensure_ascii=False, indent=2) + "\n"
        else:
            text = transfer.dump(transfer.export_catalogue(session))
    if str(path) == "-":
        sys.stdout.write(text)
        return
    path.write_text(text, encoding="utf-8", newline="")
    err.print(f"Exported the {_exported(format, table)} to {path}.")


def _exported(format: ExportFormat, table: CsvTable) -> str:
    return {ExportFormat.CSV: table.value, ExportFormat.GEOJSON: "located instances"}.get(
        format, "catalogue"
    )


def _csv_table(session: Session, table: CsvTable, status: Status, base: str) -> str:
    where = read.EntryFilter(status=status)
    # Entry pages are linked only where the public address is known (WEAPONSDB_PUBLIC_URL).
    page = f"{base.rstrip('/')}/entries/{{slug}}" if base else ""
    if table is CsvTable.INSTANCES:
        return tabular.instances_csv(session, where, page)
    return tabular.entries_csv(session, where, page)


@app.command()
def publish(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The SQLite file to write (must not exist).")],
    metadata: Annotated[
        Path | None,
        typer.Option(help="Where to write Datasette's metadata; default: metadata.json beside it."),
    ] = None,
) -> None:
    """Write a read-only, self-describing SQLite copy of the published catalogue, for
    Datasette: tables, views that join them, full-text search, and a metadata.json."""
    metadata_path = metadata or path.with_name("metadata.json")
    with unit_of_work(ctx) as session:
        count = publishing.publish(session, path, metadata_path, settings_of(ctx).public_url)
    out.print(f"Published {count} entries to {path}, described in {metadata_path}.")
    out.print(f"Serve it: datasette serve -i {path} --metadata {metadata_path}")


class ImportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


@app.command("import")
def import_catalogue(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            help="A file written by `weaponsdb export`, a CSV of entries, or `wikidata`."
        ),
    ],
    entities: Annotated[
        str | None,
        typer.Argument(help="After `wikidata`: a file of entity JSON, or - for standard input."),
    ] = None,
    fetch: Annotated[
        list[str] | None,
        typer.Option("--fetch", help="After `wikidata`: an item to fetch, Q… (repeatable)."),
    ] = None,
    format: Annotated[
        ImportFormat | None,
        typer.Option("--format", help="Default: csv for a .csv file, else json."),
    ] = None,
    on_conflict: Annotated[
        transfer.OnConflict,
        typer.Option(help="fail: change nothing if anything exists; skip: add only what is new."),
    ] = transfer.OnConflict.FAIL,
) -> None:
    """Import a catalogue JSON file, a CSV of new entries (as drafts), or Wikidata items
    (`weaponsdb import wikidata FILE|-`, `--fetch Q…`), in one transaction: all of it or, on
    error, none of it; a CSV's errors are named by row and column."""
    if path == "wikidata":
        _import_wikidata(ctx, entities, fetch or [])
        return
    file = Path(path)
    chosen = format or (ImportFormat.CSV if file.suffix.lower() == ".csv" else ImportFormat.JSON)
    if chosen is ImportFormat.CSV:
        rows = tabular.parse_entries(_read_text(file))
        with unit_of_work(ctx) as session:
            added = tabular.import_entries(session, rows)
        out.print(f"Imported {len(added)} entries as drafts.")
        return
    document = transfer.read_file(file)
    with unit_of_work(ctx) as session:
        report = transfer.import_catalogue(session, document, on_conflict)
    out.print(f"Imported {len(report.added)} records; skipped {len(report.skipped)} that exist.")


def _import_wikidata(ctx: typer.Context, given: str | None, fetch: list[str]) -> None:
    if given is None and not fetch:
        raise InvalidInputError("Give a file of entity JSON, - for standard input, or --fetch Q….")
    found: list[wikidata.Entity] = []
    if given == "-":
        found += wikidata.parse_entities(sys.stdin.read(), "standard input")
    elif given is not None:
        found += wikidata.parse_entities(_read_text(Path(given)), given)
    for qid in fetch:
        found += wikidata.fetch(qid, settings_of(ctx).wikidata_url)
    # Only with a network (--fetch) are the images' licences asked of Commons.
    answer = (
        commons.licences(wikidata.image_names(found), settings_of(ctx).commons_api_url)
        if fetch
        else commons.Answer()
    )
    today = datetime.now(UTC).date()
    with unit_of_work(ctx) as session:
        report = importing.import_items(session, found, today, answer.licences)
    for slug in report.created:
        out.print(f"created draft {slug}")
    for slug in report.updated:
        out.print(f"updated {slug}")
    for note in [*answer.notes, *report.notes]:
        err.print(f"note: {escape(note)}", highlight=False)


def _read_text(path: Path) -> str:
    """A file given to a command, as UTF-8 text: the byte order mark a spreadsheet puts before
    a CSV it saves as UTF-8 ('CSV UTF-8' in Excel) is no part of it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise InvalidInputError(f"Cannot read {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text.") from None


@app.command()
def backup(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The backup file to write (.tar.gz).")],
) -> None:
    """Back up the database and the photo store, consistently, while the service runs."""
    settings = settings_of(ctx)
    engine = db.make_engine(settings.database_url)
    try:
        manifest = backups.create_backup(engine, settings.images_dir, path)
    finally:
        engine.dispose()
    rows = sum(manifest.rows.values())
    out.print(f"Backed up {rows} rows and {manifest.images} image files to {path}.")


@app.command()
def restore(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A file written by `weaponsdb backup`.")],
) -> None:
    """Restore a backup into an empty database and photo store."""
    settings = settings_of(ctx)
    manifest = backups.restore_backup(settings.database_url, settings.images_dir, path)
    rows = sum(manifest.rows.values())
    out.print(f"Restored {rows} rows and {manifest.images} image files from {path}.")


@app.command()
def verify(ctx: typer.Context) -> None:
    """Re-hash every evidence file in the store against the custody log, and the log's lines
    against their hash chain; exit 1 on any mismatch or missing file."""
    settings = settings_of(ctx)
    with unit_of_work(ctx) as session:
        report = custody.verify(session, FileStore(settings.images_dir))
    for mismatch in report.mismatches:
        found = mismatch.found or "missing"
        err.print(
            f"observation {mismatch.observation}: {mismatch.subject}: expected "
            f"{mismatch.expected}, found {found}",
            highlight=False,
        )
    if report.mismatches:
        err.print(
            f"[red]{len(report.mismatches)} mismatches among {report.files} files and "
            f"{report.lines} lines of the custody log.[/red]"
        )
        raise typer.Exit(1)
    out.print(
        f"All {report.files} files logged in the custody log match it, and its "
        f"{report.lines} lines are unbroken."
    )


@keys_app.command("create")
def create_key(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who holds the key; shown as revision author.")],
    role: Annotated[
        Role,
        typer.Option(
            help="contributor: submit observations; editor: change entries and review; "
            "admin: also retract."
        ),
    ],
) -> None:
    """Issue a key. Its secret is printed once, here, and never stored or shown again."""
    with unit_of_work(ctx) as session:
        secret = keys.create_key(session, name, role)
    err.print(f"Created the {role.value} key '{name}'. Its secret, shown only this once:")
    print(secret)


@keys_app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """List keys (never their secrets)."""
    with unit_of_work(ctx) as session:
        table = Table("name", "role", "created", "revoked")
        for key in keys.list_keys(session):
            table.add_row(
                key.name,
                key.role,
                convert.utc(key.created_at).isoformat(timespec="seconds"),
                convert.utc(key.revoked_at).isoformat(timespec="seconds") if key.revoked_at else "",
            )
    out.print(table)


@keys_app.command("revoke")
def revoke_key(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The key's name.")]
) -> None:
    """Revoke a key: it is refused from now on (its name stays on the revisions it made)."""
    with unit_of_work(ctx) as session:
        keys.revoke_key(session, name)
    out.print(f"Revoked the key '{name}'.")


@photos_app.command("add")
def add_photos(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The entry's slug.")],
    files: Annotated[list[Path], typer.Argument(help="JPEG, PNG, WebP or TIFF files.")],
    credit: Annotated[str, typer.Option(help="Who took the photos, as credited.")],
    licence: Annotated[str, typer.Option(help="Their licence, e.g. 'CC BY 4.0'.")],
    note: Annotated[str, typer.Option(help="The change note of each revision.")],
    author: Annotated[str, typer.Option(help="Named as the revisions' author.")] = "cli",
    caption: Annotated[str | None, typer.Option()] = None,
    view: Annotated[PhotoView | None, typer.Option()] = None,
    source_url: Annotated[str | None, typer.Option(help="Where they were published.")] = None,
    captured_on: Annotated[str | None, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
    marking_index: Annotated[
        int | None, typer.Option(min=0, help="Position of the marking shown, from 0.")
    ] = None,
) -> None:
    """Attach photos to an entry, each as a revision of its own. A file that is refused is
    named with the reason; the others are attached all the same."""
    settings = settings_of(ctx)
    description = ingest.PhotoDescription.parse(
        {
            "credit": credit,
            "licence": licence,
            "caption": caption,
            "view": view.value if view else None,
            "source_url": source_url,
            "captured_on": captured_on,
            "marking_index": marking_index,
        }
    )
    change = editing.Change(slug, None, author, editing.check_note(note))
    limits = Limits.of(settings)
    store, matcher = FileStore(settings.images_dir), PhotoMatcher()
    engine = db.make_engine(settings.database_url)
    refused = 0
    try:
        sessions = db.make_sessionmaker(engine)
        with Progress(console=err, transient=True) as progress:
            for path in progress.track(files, description=f"Attaching to {slug}"):
                try:
                    upload = ingest.Upload(_read_photo(path, limits), path.name)
                    with db.transaction(sessions) as session:
                        attached = ingest.attach_photo(
                            session, store, matcher, change, upload, description, limits
                        )
                except (WeaponsdbError, OSError) as error:
                    refused += 1
                    reason = error.message if isinstance(error, WeaponsdbError) else str(error)
                    err.print(f"[red]refused[/red] {path}: {reason}", highlight=False)
                    continue
                duplicates = ", ".join(
                    f"{m.entry} ({m.distance} bits)" for m in attached.near_duplicates
                )
                out.print(
                    f"{path}: photos[{attached.position}] {attached.record.sha256[:12]} "
                    f"{attached.record.width}×{attached.record.height}"
                    + (f"; near duplicate of {duplicates}" if duplicates else ""),
                    highlight=False,
                )
    finally:
        engine.dispose()
    out.print(f"Attached {len(files) - refused} of {len(files)} photos to {slug}.")
    if refused:
        raise typer.Exit(1)


Optional = Annotated[str | None, typer.Option()]


@observations_app.command("submit")
def submit_observation(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(help="1 to 10 photos: JPEG, PNG, WebP, TIFF.", exists=True, dir_okay=False),
    ],
    key: Annotated[
        str,
        typer.Option(envvar="WEAPONSDB_API_KEY", help="Your contributor (or editor) API key."),
    ],
    marking: Annotated[
        list[str] | None, typer.Option(help="A marking as read; repeat for each.")
    ] = None,
    category: Optional = None,
    calibre: Annotated[str | None, typer.Option(help="Calibre in mm.")] = None,
    latitude: Optional = None,
    longitude: Optional = None,
    precision: Annotated[str | None, typer.Option(help="exact, place, region or country.")] = None,
    place: Optional = None,
    country: Optional = None,
    date_from: Annotated[str | None, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
    date_to: Optional = None,
    source_kind: Annotated[
        str, typer.Option(help="url, publication or 'own documentation'.")
    ] = "own documentation",
    source_url: Optional = None,
    source_publication: Optional = None,
    notes: Optional = None,
    read: Annotated[
        bool, typer.Option("--read", help="Also read the markings off the photos (Tesseract).")
    ] = False,
) -> None:
    """Submit an observation, as the API does: checked, identified, stored with its custody
    record, all or nothing."""
    settings = settings_of(ctx)
    limits = Limits.of(settings)
    submission = Submission.parse(
        {
            "markings": marking or [],
            "category": category,
            "calibre_mm": calibre,
            "latitude": latitude,
            "longitude": longitude,
            "precision": precision,
            "place": place,
            "country": country,
            "date_from": date_from,
            "date_to": date_to,
            "source_kind": source_kind,
            "source_url": source_url,
            "source_publication": source_publication,
            "notes": notes,
        }
    )
    uploads = [ingest.Upload(_read_photo(path, limits), path.name) for path in files]
    with unit_of_work(ctx) as session:
        holder = keys.authenticate(session, key, Role.CONTRIBUTOR)
        row = submitting.submit(
            session,
            FileStore(settings.images_dir),
            Matcher(),
            PhotoMatcher(),
            holder,
            submission,
            uploads,
            limits,
            _reader(settings) if read else None,
        )
        number = row.id
        candidates: list[dict[str, Any]] = list(row.candidates.get("markings") or [])  # type: ignore[call-overload]
    out.print(f"Observation {number} submitted by {holder.name}: pending review.")
    for candidate in candidates[:5]:
        out.print(f"  {candidate['score']:.2f}  {candidate['name']} ({candidate['slug']})")


PhotoArgument = Annotated[
    Path, typer.Argument(help="JPEG, PNG, WebP or TIFF file.", exists=True, dir_okay=False)
]
BoxOption = Annotated[
    str | None,
    typer.Option("--box", help="Where the marking is: x,y,width,height in pixels (upright)."),
]
ScriptOption = Annotated[
    str | None,
    typer.Option("--script", help="Scripts to try, ISO 15924, comma-separated: Hang,Cyrl."),
]


def _photo_to_read(
    settings: Settings, path: Path, box: str | None, script: str | None
) -> identifying.Photo:
    try:
        return identifying.Photo(
            data=_read_photo(path, Limits.of(settings)),
            filename=path.name,
            box=Box.parse(box),
            scripts=parse_scripts(script),
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _reader(settings: Settings) -> Reader:
    return Reader(Tesseract.shared(settings.tessdata_dir))


NOTHING_STOOD_OUT = (
    "nothing on the photo stood out as text, so it was not read: "
    "give --box x,y,w,h around the marking"
)


def _print_reading(reading: Reading) -> None:
    table = Table("#", "read", "where (x,y w×h)", "sure", "script", "alternatives")
    for number, line in enumerate(reading.lines, 1):
        box = line.box
        table.add_row(
            str(number),
            escape(line.text),
            f"{box.x},{box.y} {box.width}×{box.height}",
            f"{line.confidence:.2f}",
            line.script or "",
            escape(" | ".join(a.text for a in line.alternatives)),
        )
    out.print(table)
    out.print(f"{len(reading.lines)} lines, {reading.passes} passes, {reading.seconds:.2f} s")
    if reading.nothing_stood_out:
        out.print(NOTHING_STOOD_OUT)


@app.command("read")
def read_photo(
    ctx: typer.Context,
    photo: PhotoArgument,
    box: BoxOption = None,
    script: ScriptOption = None,
    as_json: JsonOption = False,
) -> None:
    """Read the markings off a photo: each line, where it is, how sure, and alternatives."""
    settings = settings_of(ctx)
    request = _photo_to_read(settings, photo, box, script)
    reading = identifying.read_upload(_reader(settings), request, Limits.of(settings))
    if as_json:
        out.print_json(reading.model_dump_json())
        return
    _print_reading(reading)


@app.command("identify")
def identify_photo(
    ctx: typer.Context,
    photo: PhotoArgument,
    box: BoxOption = None,
    script: ScriptOption = None,
    marking: Annotated[
        list[str] | None, typer.Option("--marking", help="A marking read by you (repeatable).")
    ] = None,
    category: Annotated[Category | None, typer.Option(help="Category seen.")] = None,
    calibre: Annotated[float | None, typer.Option(help="Calibre seen, in mm.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 code.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_RESULTS)] = 10,
    as_json: JsonOption = False,
) -> None:
    """Identify the item in a photo: its markings read and matched, its look compared with
    the reference photos."""
    settings = settings_of(ctx)
    request = _photo_to_read(settings, photo, box, script)
    evidence = identifying.Evidence(
        markings=marking or [],
        category=category.value if category else None,
        calibre_mm=calibre,
        country=country.upper() if country else None,
    )
    with unit_of_work(ctx) as session:
        found = identifying.identify(
            session,
            _reader(settings),
            Matcher(),
            PhotoMatcher(),
            request,
            evidence,
            Limits.of(settings),
            limit,
        )
    if as_json:
        out.print_json(found.model_dump_json())
        return
    _print_reading(found.reading)
    table = Table("#", "entry", "score", "why", show_lines=True)
    for candidate in found.candidates:
        why = [
            f"{m.reading} (read {m.reading_confidence:.2f}) → {m.matched}: {m.how} ({m.detail})"
            for m in candidate.matches
        ]
        if candidate.photo:
            why.append(
                f"looks like reference photo {candidate.photo.sha256[:12]} "
                f"(similarity {candidate.photo.similarity:.2f})"
            )
        name = f"{escape(candidate.name)}\n[dim]{candidate.slug}[/dim]"
        table.add_row(str(candidate.rank), name, f"{candidate.score:.2f}", escape("\n".join(why)))
    out.print(table)
    if found.candidates and not found.confident:
        out.print(NOT_CONFIDENT)


def _read_photo(path: Path, limits: Limits) -> bytes:
    with path.open("rb") as file:
        return file.read(limits.max_bytes + 1)  # one byte past the limit says enough


def main() -> None:
    try:
        app()
    except WeaponsdbError as error:
        # Escaped: a reason may quote a pattern such as [a-z0-9], which is not markup.
        err.print(f"[red]error:[/red] {escape(error.message)}", highlight=False)
        for problem in error.errors[:20]:
            err.print(f"  {escape(problem.field)}: {escape(problem.reason)}", highlight=False)
        sys.exit(1)
    except (OperationalError, ProgrammingError) as error:
        if isinstance(error, ProgrammingError) and not _schema_missing(error):
            raise  # a fault of ours, not of the database: the traceback says where
        reason = escape(str(error.orig).splitlines()[0])
        err.print(f"[red]error:[/red] the database cannot be used: {reason}", highlight=False)
        if _schema_missing(error):
            err.print(f"  {SCHEMA_MISSING}", highlight=False)
        sys.exit(1)
    except ValidationError as error:
        if error.title != Settings.__name__:
            raise  # a fault of ours, not of the settings
        err.print("[red]error:[/red] a setting is invalid", highlight=False)
        for detail in error.errors(include_url=False):
            name = f"WEAPONSDB_{'_'.join(map(str, detail['loc'])).upper()}"
            err.print(f"  {name}: {escape(detail['msg'])}", highlight=False)
        sys.exit(1)


SCHEMA_MISSING = "its schema is missing or older than this weaponsdb: run `weaponsdb migrate`"
# SQLSTATEs of PostgreSQL's undefined_table and undefined_column.
_UNDEFINED = {"42P01", "42703"}


def _schema_missing(error: DBAPIError) -> bool:
    """Whether the database lacks a table or column this code reads (never migrated, or
    migrated by an older weaponsdb), by PostgreSQL's error code or SQLite's message."""
    if getattr(error.orig, "sqlstate", None) in _UNDEFINED:
        return True
    return str(error.orig).startswith(("no such table", "no such column"))
