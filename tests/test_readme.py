"""The README documents what there is: every setting and every command."""

from __future__ import annotations

from typing import Any

import typer

from weaponsdb.cli import app
from weaponsdb.config import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def command_paths(command: Any, prefix: str = "weaponsdb") -> list[str]:
    """Every command, as typed after `weaponsdb` (groups' commands one by one)."""
    commands: dict[str, Any] = getattr(command, "commands", {})
    if not commands:
        return [prefix]
    return [
        path for name, sub in commands.items() for path in command_paths(sub, f"{prefix} {name}")
    ]


def test_every_setting_is_documented():
    prefix = Settings.model_config.get("env_prefix", "")
    missing = [f"{prefix}{name}".upper() for name in Settings.model_fields]
    assert [name for name in missing if name not in README] == []


def test_every_command_is_documented():
    paths = command_paths(typer.main.get_command(app))
    assert len(paths) >= 15
    assert [path for path in paths if path not in README] == []
