"""Runtime settings, read from WEAPONSDB_* environment variables, and the cores there are."""

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEAPONSDB_")

    # The embedded default: one SQLite file in the working directory.
    database_url: str = "sqlite:///weaponsdb.sqlite3"
    images_dir: Path = PROJECT_ROOT / "images"
    # Where permalinks point; the service's own address when unset.
    public_url: str | None = None
    # Where `weaponsdb import wikidata --fetch` reads items (Special:EntityData).
    wikidata_url: str = "https://www.wikidata.org"
    # Where `--fetch` asks Wikimedia Commons for the licences of the items' images.
    commons_api_url: str = "https://commons.wikimedia.org/w/api.php"

    # Limits that protect the service (see api/limits.py).
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 25 * 1024 * 1024  # one photo file
    max_image_pixels: int = 50_000_000  # one photo, read from its header before decoding
    # A photo searched with (not stored), other than a JPEG: decoded within this many pixels.
    max_query_image_pixels: int = 16_000_000
    match_rate_limit: str = "120/minute"  # per client, on each match endpoint
    # Per client, queries sent in batches (POST /v1/match/batch), counted by the query.
    match_batch_rate_limit: str = "10000/minute"
    # Processes that answer one long batch together, forked with the index; unset: a core each.
    match_batch_processes: int | None = Field(default=None, ge=1)
    # Where the worker processes count requests for the rate limits, together; unset: each
    # process alone (`serve --workers N` makes one for its workers).
    rate_limit_file: Path | None = None
    statement_timeout_ms: int = 15_000  # PostgreSQL: no query may hold a connection longer
    # A request must arrive whole in time: its headers (api/server.py), then its body.
    request_header_timeout_seconds: float = 10.0
    request_body_timeout_seconds: float = 60.0
    cors_origins: list[str] = ["*"]
    # Tesseract's language data; unset: TESSDATA_PREFIX, else where Debian installs it.
    tessdata_dir: Path | None = None
    # Where the match index is saved and loaded from (`weaponsdb index build`); unset:
    # beside a SQLite database file (its name and `.index`), none for PostgreSQL.
    index_file: Path | None = None

    def match_index_file(self) -> Path | None:
        """The index file in use, if any."""
        if self.index_file is not None:
            return self.index_file
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(f"{url.database}.index")
        return None


@lru_cache
def get_settings() -> Settings:
    return Settings()


def usable_cores() -> int:
    """The cores this process may run on: in a container limited to some of the host's, or
    under taskset, fewer than the machine has (os.cpu_count())."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
