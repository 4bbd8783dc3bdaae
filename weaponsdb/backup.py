"""Consistent backups of the whole database and the photo store, and their restoration.

A backup is a gzipped tar: `manifest.json` (schema revision, time, row counts), one JSON Lines
file a table under `tables/`, and the photo store under `images/`. Tables are read from one
snapshot (SQLite's online backup API; a REPEATABLE READ transaction on PostgreSQL), so a
backup taken while the service writes is still consistent. Photo files are written before
the rows that name them are committed, and never changed, so copying the store after the
snapshot holds every file the snapshot needs.

Rows are dumped table by table as the schema stands, so every table is kept — those added by
later migrations too — and a backup restores into either kind of database.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import json
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, insert, select, text
from sqlalchemy import types as sqltypes

from weaponsdb import db
from weaponsdb.errors import InvalidInputError

FORMAT = "weaponsdb-backup"
# The catalogue generation and its change log are derived state, rebuilt by triggers.
SKIPPED_TABLES = {"alembic_version", "catalogue_generation", "catalogue_changes"}


@dataclass(frozen=True)
class Manifest:
    format: str
    schema_revision: str
    created_at: str
    database: str
    rows: dict[str, int]
    images: int


def create_backup(engine: Engine, images_dir: Path, destination: Path) -> Manifest:
    with _snapshot(engine) as connection:
        revision = db.current_revision_of(connection)
        if revision is None:
            raise InvalidInputError("The database has no schema yet: nothing to back up.")
        tables = _reflect(connection)
        dumps = {t.name: _dump_rows(connection, t) for t in tables}
    partial = destination.with_name(destination.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        for name, (_, payload) in dumps.items():
            _add_bytes(archive, f"tables/{name}.jsonl", payload)
        image_count = _add_images(archive, images_dir)
        manifest = Manifest(
            FORMAT,
            revision,
            dt.datetime.now(dt.UTC).isoformat(),
            engine.dialect.name,
            {name: count for name, (count, _) in dumps.items()},
            image_count,
        )
        _add_bytes(archive, "manifest.json", json.dumps(asdict(manifest), indent=2).encode())
    partial.replace(destination)  # a backup file exists whole or not at all
    return manifest


def restore_backup(url: str, images_dir: Path, source: Path) -> Manifest:
    """Restore into an empty database (created and migrated here as needed), then bring the
    schema up to the current revision."""
    with _open(source) as archive:
        manifest = _read_manifest(archive)
        db.migrate(url, manifest.schema_revision)
        engine = db.make_engine(url)
        written: list[Path] = []
        try:
            with engine.begin() as connection:
                tables = _reflect(connection)
                _require_empty(connection, tables)
                for table in tables:
                    _load_rows(connection, table, archive)
                _reset_sequences(connection, tables)
                # Inside the transaction: an archive that breaks here restores no rows.
                _extract_images(archive, images_dir, written)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        finally:
            engine.dispose()
    db.migrate(url)
    return manifest


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    if engine.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "snapshot.sqlite3"
            raw = engine.raw_connection()
            try:
                target = sqlite3.connect(copy)
                raw.driver_connection.backup(target)  # type: ignore[union-attr]
                target.close()
            finally:
                raw.close()
            snapshot = db.make_engine(f"sqlite:///{copy}")
            try:
                with snapshot.connect() as connection:
                    yield connection
            finally:
                snapshot.dispose()
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def _reflect(connection: Connection) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(connection)
    return [t for t in metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _dump_rows(connection: Connection, table: Table) -> tuple[int, bytes]:
    order = list(table.primary_key.columns) or list(table.columns)
    lines = [
        json.dumps({key: _encode(value) for key, value in row.items()}, ensure_ascii=False)
        for row in connection.execute(select(table).order_by(*order)).mappings()
    ]
    return len(lines), ("\n".join(lines) + "\n" if lines else "").encode()


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _decode(column_type: sqltypes.TypeEngine[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, sqltypes.DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column_type, sqltypes.Date):
        return dt.date.fromisoformat(value)
    if isinstance(column_type, sqltypes.Numeric) and not isinstance(column_type, sqltypes.Float):
        return Decimal(value)
    if isinstance(column_type, sqltypes.LargeBinary):
        return base64.b64decode(value)
    return value


def _load_rows(connection: Connection, table: Table, archive: tarfile.TarFile) -> None:
    member = _member(archive, f"tables/{table.name}.jsonl", required=False)
    if member is None:
        return
    rows = [
        {name: _decode(table.c[name].type, value) for name, value in json.loads(line).items()}
        for line in member.read().decode().splitlines()
        if line
    ]
    unknown = {name for row in rows for name in row} - set(table.c.keys())
    if unknown:
        raise InvalidInputError(f"The backup's {table.name} has unknown columns: {sorted(unknown)}")
    if rows:
        connection.execute(insert(table), rows)


def _require_empty(connection: Connection, tables: list[Table]) -> None:
    filled = [t.name for t in tables if connection.scalar(select(func.count()).select_from(t))]
    if filled:
        raise InvalidInputError(
            "A backup restores only into an empty database; this one has rows in "
            + ", ".join(filled)
            + "."
        )


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL hands out ids from sequences, which a restore with explicit ids bypasses."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        if "id" in table.c and table.c.id.primary_key:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                )
            )


def _add_bytes(archive: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    archive.addfile(info, io.BytesIO(payload))


def _add_images(archive: tarfile.TarFile, images_dir: Path) -> int:
    count = 0
    if images_dir.is_dir():
        for path in sorted(p for p in images_dir.rglob("*") if p.is_file()):
            if path.name == "README.md" and path.parent == images_dir:
                continue
            archive.add(path, f"images/{path.relative_to(images_dir).as_posix()}")
            count += 1
    return count


def _extract_images(archive: tarfile.TarFile, images_dir: Path, written: list[Path]) -> None:
    """Extract the photo store, adding each file it writes to *written*."""
    for member in archive.getmembers():
        if not member.name.startswith("images/") or not member.isfile():
            continue
        relative = Path(member.name).relative_to("images")
        target = (images_dir / relative).resolve()
        if not target.is_relative_to(images_dir.resolve()):
            raise InvalidInputError(f"The backup holds a file outside the store: {member.name}")
        if target.exists():
            continue  # content-addressed: same name, same bytes
        target.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(member)
        assert source is not None
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(source.read())  # read whole first: a broken member writes nothing
        partial.replace(target)
        written.append(target)


@contextmanager
def _open(source: Path) -> Iterator[tarfile.TarFile]:
    _verify_checksum(source)
    try:
        # Not a with-statement here: only errors of opening mean "not a backup".
        archive = tarfile.open(source, "r:gz")  # noqa: SIM115
    except (OSError, tarfile.TarError) as error:
        raise InvalidInputError(f"{source} is not a weaponsdb backup: {error}") from None
    with archive:
        try:
            yield archive
        except _UNREADABLE as error:
            raise _damaged(source, error) from None


# What reading a damaged archive raises; tarfile reads lazily, so it comes mid-restore.
_UNREADABLE = (EOFError, zlib.error, tarfile.TarError, gzip.BadGzipFile)


def _verify_checksum(source: Path) -> None:
    """Read the whole archive once before restoring anything: gzip checks its CRC only at
    the end of the stream, which tarfile never reaches, so a damaged photo would otherwise
    be restored silently."""
    try:
        with source.open("rb") as file:
            if file.read(2) != _GZIP_MAGIC:
                raise InvalidInputError(f"{source} is not a weaponsdb backup: not gzip data.")
        with gzip.open(source) as stream:
            while stream.read(1 << 20):
                pass
    except _UNREADABLE as error:
        raise _damaged(source, error) from None
    except OSError as error:
        raise InvalidInputError(f"{source} is not a weaponsdb backup: {error}") from None


_GZIP_MAGIC = b"\x1f\x8b"


def _damaged(source: Path, error: BaseException) -> InvalidInputError:
    return InvalidInputError(
        f"{source} is truncated or corrupt ({error or type(error).__name__}); no data was restored."
    )


def _member(archive: tarfile.TarFile, name: str, required: bool = True) -> io.BufferedReader | None:
    try:
        extracted = archive.extractfile(name)
    except KeyError:
        extracted = None
    if extracted is None and required:
        raise InvalidInputError(f"The backup has no {name}.")
    return extracted  # type: ignore[return-value]


def _read_manifest(archive: tarfile.TarFile) -> Manifest:
    member = _member(archive, "manifest.json")
    assert member is not None
    try:
        manifest = Manifest(**json.loads(member.read()))
    except (ValueError, TypeError) as error:
        raise InvalidInputError(f"The backup's manifest is unreadable: {error}") from None
    if manifest.format != FORMAT:
        raise InvalidInputError(f"Not a weaponsdb backup (format {manifest.format!r}).")
    return manifest
