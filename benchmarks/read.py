"""Reading benchmark: how well and how fast the reader reads synthetic markings, and how
often what it reads identifies the right entry.

    python -m benchmarks.read [--per-cell N] [--timed N] [--regions N] [--seed S] [--rows FILE]

Every photo is synthetic (benchmarks/rendering.py): designation-like strings in Hangul,
Cyrillic, Han, Persian/Arabic and Latin, as stencil, stamp or paint on metal, with each
degradation. For each photo:

- character error rate (edit distance / length of the truth, spaces ignored, since neither
  the matcher nor a person reading a stencil counts them) of the reader's best reading of
  each line, joined, and of the baseline: Tesseract run once with its default settings
  (automatic page segmentation, its own binarisation) on the same photo, given the right
  language pack (eng, kor, rus, chi_sim, fas);
- identification against a synthetic catalogue that holds every rendered marking as an
  entry plus three siblings per marking (one character away, as a family's variants are):
  top-1, top-5, nothing returned, a wrong entry first, and a wrong entry first with the
  answer saying it is confident (column `wrong!`).

Then seconds per photo, end to end (upload checks, decoding, reading), for 12-megapixel
JPEGs with the marking somewhere on them, with a crop box around it and without one, and of
the same metal with no marking at all; and how often the region search, which a photo sent
without a box depends on, finds the marking on 12-megapixel photos of every script, style
and degradation (no region at all: the photo is not read).

Prints figures per script and per degradation; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tesserocr
from rapidfuzz.distance import Levenshtein

from benchmarks.legibility import legibility
from benchmarks.rendering import (
    DEGRADATIONS,
    SCRIPTS,
    STYLES,
    MarkingPhoto,
    bare_surface,
    marking_catalogue,
    on_large_photo,
    render_marking,
    synthetic_designation,
)
from weaponsdb import db, transfer
from weaponsdb.matching.matcher import Matcher
from weaponsdb.photos.matching import PhotoMatcher
from weaponsdb.photos.validation import Limits
from weaponsdb.reading import identifying, regions
from weaponsdb.reading.engine import Tesseract
from weaponsdb.reading.preparing import Region
from weaponsdb.reading.reader import Box, Reader
from weaponsdb.reading.scripts import LANGUAGE_SETS, Script

LIMITS = Limits(25 * 1024 * 1024, 50_000_000)
PAD = 0.25  # of the marking's height, around its box, for the crop box a user would drag


@dataclass(frozen=True)
class Case:
    photo: MarkingPhoto
    slug: str


def cases(per_cell: int, rng: random.Random) -> Iterator[Case]:
    number = 0
    for script in SCRIPTS:
        for degradation in DEGRADATIONS:
            for _ in range(per_cell):
                text = synthetic_designation(script, rng)
                style = STYLES[number % len(STYLES)]
                photo = render_marking(text, script, rng, style=style, degradation=degradation)
                yield Case(photo, f"synthetic-marking-{number}")
                number += 1


def cer(read: str, truth: str) -> float:
    read, truth = "".join(read.split()), "".join(truth.split())
    return Levenshtein.distance(read, truth) / max(1, len(truth))


class Baseline:
    """Tesseract once, with its defaults (automatic page segmentation, its own binarisation
    and inversion) on the photo as it is, in the script's main language."""

    def __init__(self, tessdata: Path) -> None:
        self.engines = {
            script: tesserocr.PyTessBaseAPI(path=f"{tessdata}/", lang=LANGUAGE_SETS[script][0])
            for script in Script
        }

    def read(self, photo: MarkingPhoto) -> str:
        engine = self.engines[Script(photo.script)]
        engine.SetImage(photo.image)
        return " ".join(str(engine.GetUTF8Text()).split())


def measure_quality(per_cell: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    all_cases = list(cases(per_cell, rng))
    engine = Tesseract()
    reader, base_reader = Reader(engine), Baseline(engine.tessdata)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'read.sqlite3'}"
        db.migrate(url)
        sessions = db.make_sessionmaker(db.make_engine(url))
        document = marking_catalogue(
            [(c.slug, c.photo.text, c.photo.script) for c in all_cases], rng
        )
        with db.transaction(sessions) as session:
            parsed = transfer.parse(json.dumps(document))
            transfer.import_catalogue(session, parsed, transfer.OnConflict.FAIL)
        matcher, photos = Matcher(), PhotoMatcher()
        for case in all_cases:
            started = time.perf_counter()
            with sessions() as session:
                found = identifying.identify(
                    session,
                    reader,
                    matcher,
                    photos,
                    identifying.Photo(data=case.photo.png(), filename="marking.png"),
                    identifying.Evidence(),
                    LIMITS,
                )
            seconds = time.perf_counter() - started
            read = " ".join(line.text for line in found.reading.lines)
            slugs = [c.slug for c in found.candidates]
            seen = legibility(case.photo)
            rows.append(
                {
                    "script": case.photo.script,
                    "degradation": case.photo.degradation,
                    "legible": seen.legible,
                    "contrast_to_noise": seen.contrast_to_noise,
                    "text_height": seen.text_height,
                    "truth": case.photo.text,
                    "read": read,
                    "baseline": (base := base_reader.read(case.photo)),
                    "cer": cer(read, case.photo.text),
                    "baseline_cer": cer(base, case.photo.text),
                    "top1": slugs[:1] == [case.slug],
                    "top5": case.slug in slugs[:5],
                    "nothing": not slugs,
                    "wrong_first": bool(slugs) and slugs[0] != case.slug,
                    "wrong_confident": found.confident and slugs[0] != case.slug,
                    "candidates": [(c.slug, c.score) for c in found.candidates[:3]],
                    "lines": [
                        [line.text, line.confidence, [a.text for a in line.alternatives]]
                        for line in found.reading.lines
                    ],
                    "seconds": seconds,
                }
            )
    return {"rows": rows}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    count = len(rows)
    return {
        "photos": count,
        "legible": sum(r["legible"] for r in rows),
        "cer": round(statistics.fmean(r["cer"] for r in rows), 3),
        "baseline_cer": round(statistics.fmean(r["baseline_cer"] for r in rows), 3),
        "top1": round(sum(r["top1"] for r in rows) / count, 3),
        "top5": round(sum(r["top5"] for r in rows) / count, 3),
        "nothing": round(sum(r["nothing"] for r in rows) / count, 3),
        "wrong_first": round(sum(r["wrong_first"] for r in rows) / count, 3),
        "wrong_confident": round(sum(r["wrong_confident"] for r in rows) / count, 3),
    }


def grouped(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return {name: summary(members) for name, members in groups.items()}


def measure_speed(count: int, seed: int) -> dict[str, Any]:
    """Seconds per 12-megapixel JPEG, end to end, with a crop box and without one, and for
    the same metal without any marking (the photo an investigator sends when the marking is
    gone, every pass reading nothing)."""
    rng = random.Random(seed)
    reader = Reader(Tesseract())
    timings: dict[str, list[float]] = {"with_box": [], "without_box": [], "no_marking": []}
    for number in range(count):
        script = SCRIPTS[number % len(SCRIPTS)]
        text = synthetic_designation(script, rng)
        small = render_marking(text, script, rng, style=STYLES[number % len(STYLES)])
        large = on_large_photo(small, rng)
        data = large.jpeg(quality=90)
        x, y, width, height = large.box
        pad = round(height * PAD)
        box = Box(x=x - pad, y=y - pad, width=width + 2 * pad, height=height + 2 * pad)
        bare = bare_surface(small, large.image.size, rng)
        for name, sent, crop in (
            ("with_box", data, box),
            ("without_box", data, None),
            ("no_marking", replace(large, image=bare).jpeg(quality=90), None),
        ):
            photo = identifying.Photo(data=sent, filename="photo.jpg", box=crop)
            started = time.perf_counter()
            identifying.read_upload(reader, photo, LIMITS)
            timings[name].append(time.perf_counter() - started)
    return {name: percentiles(seconds) for name, seconds in timings.items()}


def measure_regions(count: int, seed: int) -> dict[str, Any]:
    """Of *count* 12-megapixel photos with a marking somewhere on them (every script, style
    and degradation in turn), the share on which a region found covers the marking, and on
    which no region stands out at all, with those photos named."""
    rng = random.Random(seed)
    covered, none_found = 0, []
    for number in range(count):
        script = SCRIPTS[number % len(SCRIPTS)]
        style = STYLES[number % len(STYLES)]
        degradation = list(DEGRADATIONS)[number % len(DEGRADATIONS)]
        text = synthetic_designation(script, rng)
        small = render_marking(text, script, rng, style=style, degradation=degradation)
        large = on_large_photo(small, rng)
        found = regions.text_regions(large.image)
        covered += any(_covers(region, large.box) for region in found)
        if not found:
            none_found.append(f"{script} {style} {degradation} {text}")
    return {
        "photos": count,
        "covered": round(covered / count, 3) if count else None,
        "none_found": round(len(none_found) / count, 3) if count else None,
        "none_found_photos": none_found,
    }


def _covers(region: Region, box: tuple[int, int, int, int]) -> bool:
    """Whether the region holds at least nine tenths of the marking's box."""
    x, y, width, height = box
    across = min(region.x + region.width, x + width) - max(region.x, x)
    down = min(region.y + region.height, y + height) - max(region.y, y)
    return max(0, across) * max(0, down) >= 0.9 * width * height


def percentiles(seconds: list[float]) -> dict[str, float | None]:
    ordered = sorted(seconds)
    if not ordered:  # none timed
        return {"p50": None, "p99": None}
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 3), "p99": round(p99, 3)}


def report(quality: dict[str, Any], speed: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    rows = quality["rows"]
    legible = [r for r in rows if r["legible"]]
    overall = summary(rows)
    # The target counts the photos a person could read (benchmarks/legibility.py); the
    # figures over all photos come first, those over the legible ones beside them.
    for title, chosen in (("all photos", rows), ("legible photos", legible)):
        _table(title, chosen)
    print("\nseconds per 12-megapixel JPEG (checks, decoding, reading)")
    for name, figures in speed.items():
        print(f"  {name:12} p50 {figures['p50']} s   p99 {figures['p99']} s")
    print(
        f"\nregion search without a box, {found['photos']} 12-megapixel photos: the marking "
        f"covered on {found['covered']}, no region at all (not read) on {found['none_found']}"
    )
    for photo in found["none_found_photos"]:
        print(f"  no region: {photo}")
    misses = [r for r in rows if not r["top5"]][:15]
    print("\nsome misses (truth -> read / baseline):")
    for r in misses:
        where = f"{r['script']} {r['degradation']:12}"
        print(f"  {where} {r['truth']!r} -> {r['read']!r} / {r['baseline']!r}")
    return {
        "benchmark": "read",
        "synthetic": True,
        **overall,
        "cer_ratio": _ratio(overall),
        "by_script": grouped(rows, "script"),
        "by_degradation": grouped(rows, "degradation"),
        "legible_photos": {
            **(summary(legible) if legible else {"photos": 0}),
            "by_script": grouped(legible, "script"),
            "by_degradation": grouped(legible, "degradation"),
        },
        "seconds_12mp": speed,
        "regions_without_box": found,
    }


def _table(title: str, rows: list[dict[str, Any]]) -> None:
    header = f"{'':16} {'photos':>6} {'legib':>6} {'CER':>6} {'base':>6} {'ratio':>6}"
    header += f" {'top1':>6} {'top5':>6} {'none':>6} {'wrong1':>6} {'wrong!':>6}"
    for key in ("script", "degradation"):
        print(f"\n{title}, by {key}\n{header}")
        for name, s in grouped(rows, key).items():
            print(_row(name, s))
    if rows:
        print(_row("all", summary(rows)))


def _ratio(s: dict[str, Any]) -> float | None:
    return round(s["cer"] / s["baseline_cer"], 3) if s["baseline_cer"] else None


def _row(name: str, s: dict[str, Any]) -> str:
    ratio = _ratio(s)
    return (
        f"{name:16} {s['photos']:6d} {s['legible']:6d} {s['cer']:6.3f} {s['baseline_cer']:6.3f} "
        f"{ratio if ratio is not None else float('nan'):6.2f} {s['top1']:6.2f} {s['top5']:6.2f} "
        f"{s['nothing']:6.2f} {s['wrong_first']:6.2f} {s['wrong_confident']:6.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-cell", type=int, default=2, help="photos per script and degradation")
    parser.add_argument("--timed", type=int, default=10, help="12-megapixel photos timed")
    parser.add_argument("--regions", type=int, default=60, help="photos for the region search")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--rows", type=Path, help="also write every photo's figures here (JSON)")
    args = parser.parse_args()
    quality = measure_quality(args.per_cell, args.seed)
    if args.rows:
        args.rows.write_text(json.dumps(quality["rows"], ensure_ascii=False, indent=1))
    speed = measure_speed(args.timed, args.seed + 1)
    found = measure_regions(args.regions, args.seed + 2)
    print(json.dumps(report(quality, speed, found), ensure_ascii=False))


if __name__ == "__main__":
    main()
