"""Runtime settings, read from WEAPONSDB_* environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEAPONSDB_")

    # The embedded default: one SQLite file in the working directory.
    database_url: str = "sqlite:///weaponsdb.sqlite3"
    images_dir: Path = PROJECT_ROOT / "images"
    # Where permalinks point; the service's own address when unset.
    public_url: str | None = None


@lru_cache
def get_settings() -> Settings:
    return Settings()
