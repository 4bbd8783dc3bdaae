"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for the page tests.

Nothing is downloaded (never `playwright install`): Playwright is pointed at the system
browser, which the Makefile's test set-up installs. In CI a missing browser fails the tests
instead of skipping them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
WEIGHTS = OUTPUT / "page-weights.json"
# The budget: no page over 200 kB before photos.
PAGE_BUDGET_BYTES = 200_000
PHONE = {"width": 390, "height": 844}


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the browser tests must run in CI: {reason}")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A launched browser; skips (fails in CI) when Chromium is missing."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing; `make browser` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Console:
    """What the page said on its console: CSP violations and script errors land here."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def forgive(self, fragment: str) -> None:
        """Drop the errors a test meant to cause, such as the 404 of a missing page."""
        self.errors = [error for error in self.errors if fragment not in error]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


WEIGHT_SCRIPT = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const other = resources.filter((r) => r.initiatorType !== "img");
  const images = resources.filter((r) => r.initiatorType === "img");
  const sum = (list) => list.reduce((total, r) => total + r.decodedBodySize, 0);
  return {
    html: nav.decodedBodySize,
    other: sum(other),
    images: sum(images),
    requests: resources.length + 1,
    external: resources.map((r) => r.name).filter((u) => !u.startsWith(location.origin)),
  };
}"""


def page_weight(page: Page, name: str) -> dict[str, Any]:
    """Bytes the page loaded, uncompressed, photos apart; kept in test-output for reading."""
    page.wait_for_load_state("load")
    weight: dict[str, Any] = page.evaluate(WEIGHT_SCRIPT)
    weight["before_photos"] = weight["html"] + weight["other"]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    recorded = json.loads(WEIGHTS.read_text()) if WEIGHTS.exists() else {}
    recorded[name] = weight
    WEIGHTS.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    return weight
