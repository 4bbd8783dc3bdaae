"""Learn the OCR part of the matcher's error model from markings the project renders.

    python -m benchmarks.learn_confusions [--per-script 400] [--seed 3]

Synthetic designations of every script are rendered and read by Tesseract (ocr_readings.py),
each reading's key is aligned to the key of what was rendered (rapidfuzz Levenshtein
editops), and the substitutions, extra and missing characters are counted per script read
(each script is read by its own Tesseract model, which makes its own confusions). A confusion read
with probability p costs ln p / ln P_ARBITRARY (so one as unlikely as an arbitrary misread
costs 1.0, the unit of errors.json); only confusions seen at least MIN_SEEN times are kept,
errors.json's hand-tuned costs stand where the data is silent. Readings with a character
error rate above 0.5 are left out: their alignments are noise. The result replaces the "ocr"
part of weaponsdb/matching/learned.json; the same seed and count give the same table. Three
seeds keep the data apart: the confusions are learned on seed 3, the scores calibrated on
seed 1 (calibrate.py) and the matcher benchmark evaluates on seed 2, never on what was learned.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein

from benchmarks.ocr_readings import OcrReading, ocr_readings
from weaponsdb.matching.error_model import (
    LEARNED_FILE,
    P_ARBITRARY,
    glyph_likeness,
    glyphs,
    is_ideograph,
    log_normaliser,
)
from weaponsdb.matching.normalise import fold, key

MIN_SEEN = 2
CHEAPEST = 0.1
MOST_CER = 0.5
# How many readings' worth of the digits' rate a digit's own rate of loss is shrunk toward
# (lost_characters): about as many as each digit is met, so that its own count moves the
# cost only where it says much more than chance.
PRIOR_READINGS = 50
# The grid on which the lead of glyph likeness in OCR's ideograph confusions is fitted.
LIKENESS_GRID = np.linspace(0.0, 80.0, 161)
SHARE_GRID = np.linspace(0.0, 1.0, 101)


def plain_key(text: str) -> str:
    return key(fold(text), designate=False)


def count(readings: list[OcrReading]) -> dict[str, Counter[Any]]:
    """Counts per script read: a confusion happens in one language's model of Tesseract
    (only `fas` reads 8 as و), so it is counted against how often that model met the
    character, not against every script's readings together."""
    counts: dict[str, Counter[Any]] = {
        name: Counter()
        for name in ("meant", "read", "pairs", "extra", "missing", "ideographs", "other_ideograph")
    }
    for reading in readings:
        if reading.cer > MOST_CER:
            continue
        script = reading.script
        truth, read = plain_key(reading.truth), plain_key(reading.read)
        counts["meant"].update((script, ch) for ch in truth)
        counts["read"][script] += len(read)
        counts["ideographs"][script] += sum(map(is_ideograph, truth))
        for op in Levenshtein.editops(read, truth):
            tag, i, j = op.tag, op.src_pos, op.dest_pos
            if tag == "replace":
                counts["pairs"][(script, truth[j], read[i])] += 1
                if is_ideograph(truth[j]) and is_ideograph(read[i]):
                    counts["other_ideograph"][(script, truth[j], read[i])] += 1
            elif tag == "delete":
                counts["extra"][(script, read[i])] += 1
            else:
                counts["missing"][(script, truth[j])] += 1
    return counts


def cost(seen: float, out_of: float) -> float:
    probability = seen / (out_of + 1)
    return round(max(CHEAPEST, math.log(probability) / math.log(P_ARBITRARY)), 3)


def table(counts: dict[str, Counter[Any]]) -> dict[str, Any]:
    """The cheapest cost of each confusion over the scripts it was seen in often enough."""
    pairs: dict[tuple[str, str], tuple[float, int]] = {}
    for (script, meant, read), seen in counts["pairs"].items():
        _keep(pairs, (meant, read), cost(seen, counts["meant"][(script, meant)]), seen)
    extra: dict[str, tuple[float, int]] = {}
    for (script, ch), seen in counts["extra"].items():
        _keep(extra, ch, cost(seen, counts["read"][script]), seen)
    return {
        "pairs": sorted([meant, read, c, seen] for (meant, read), (c, seen) in pairs.items()),
        "extra": {ch: c for ch, (c, _) in sorted(extra.items())},
        "missing": lost_characters(counts),
        "other_ideograph": other_ideograph(counts),
    }


def _kind(ch: str) -> str:
    return "digit" if ch.isdigit() else "letter"


def lost_characters(counts: dict[str, Counter[Any]]) -> dict[str, float]:
    """What losing each character costs. A digit: its own rate shrunk toward the rate at
    which its script's model loses digits, by PRIOR_READINGS readings of that rate. Each
    digit is met a few dozen times and lost a handful, so its own rate is mostly chance (2
    of 45 against 5 of 35 for two Persian digits Tesseract loses alike, which made 杀烧-43
    a confident 杀烧-143 rather than 杀烧-943); the digits' rate is measured on hundreds, and
    a digit never seen lost still costs it. A letter keeps a rate of its own, kept when seen
    MIN_SEEN times: letters are lost for their shapes (the thin j and l, the dots of ث), and
    pooled they would price a lost letter of every short designation cheaply enough that a
    random 4103 is taken for D-4103. The cheapest script counts, as for a pair."""
    lost: Counter[tuple[str, str]] = Counter()
    met: Counter[tuple[str, str]] = Counter()
    for (script, ch), n in counts["meant"].items():
        met[(script, _kind(ch))] += n
    for (script, ch), n in counts["missing"].items():
        lost[(script, _kind(ch))] += n
    found: dict[str, tuple[float, int]] = {}
    for (script, ch), meant in counts["meant"].items():
        kind = (script, _kind(ch))
        if lost[kind] < MIN_SEEN:
            continue
        seen = counts["missing"][(script, ch)]
        if kind[1] == "digit":
            rate = lost[kind] / met[kind]
            price = cost(seen + PRIOR_READINGS * rate, meant + PRIOR_READINGS)
            _keep(found, ch, price, lost[kind])
        elif seen:
            _keep(found, ch, cost(seen, meant), seen)
    return {ch: c for ch, (c, _) in sorted(found.items())}


def other_ideograph(counts: dict[str, Counter[Any]]) -> dict[str, Any]:
    """Ideographs read as other ideographs, as a class: OCR reads a dense ideograph as some
    other one often, but each pair too rarely to be learned on its own. class_cost prices
    the share of ideographs read as another one (whether such a reading is likely at all: it
    decides whether ideographs form a class of the index's shape keys); cost prices one
    particular pair, that share spread over the ideographs each was seen read as (so that
    an exact reading still outweighs a sibling one ideograph away). The script whose model
    does it least often counts, as for a pair."""
    found: dict[str, Any] = {}
    for script, meant in counts["ideographs"].items():
        pairs = {(m, r): n for (s, m, r), n in counts["other_ideograph"].items() if s == script}
        seen = sum(pairs.values())
        if seen < MIN_SEEN or not meant:
            continue
        spread = len(pairs) / len({m for m, _ in pairs})  # ideographs each is read as
        price = cost(seen, meant * spread)
        if price < found.get("cost", 1.0):
            found = {
                "cost": price,
                "class_cost": cost(seen, meant),
                "seen": seen,
                "out_of": meant,
                "read_as_each": round(spread, 2),
                **_alike_part(pairs),
            }
    return found


def _alike_part(pairs: dict[tuple[str, str], int]) -> dict[str, Any]:
    fitted = alike_fit(pairs)
    return {"alike": fitted} if fitted else {}


def alike_fit(pairs: dict[tuple[str, str], int]) -> dict[str, float] | None:
    """How far glyph likeness leads which ideograph OCR reads for another. The chance of x
    read for a meant m, among the ideographs OCR reads for m, is taken as share *
    exp(likeness * alike(m, x)) / Z(m) + (1 - share) / (N - 1): a choice led by shape
    among the N tabled ideographs, or any. The (likeness, share) of greatest likelihood of
    the pairs seen is kept, with the mean log chance of those pairs, which
    error_model.alike_ideograph_cost prices at the class's measured cost of a pair. Pairs
    of an ideograph the glyphs' table lacks are left out. None without the table
    (benchmarks/learn_glyphs.py) or pairs."""
    table = glyphs()
    if table is None:
        return None
    seen = [
        (meant, likeness, n)
        for (meant, read), n in pairs.items()
        if (likeness := glyph_likeness(read, meant)) is not None
    ]
    if len(seen) < MIN_SEEN:
        return None
    counts = np.array([n for _, _, n in seen], dtype=np.float64)
    alike = np.array([a for _, a, _ in seen], dtype=np.float64)
    best = (-np.inf, 0.0, 0.0, 0.0)
    for likeness in LIKENESS_GRID:
        normaliser = np.array([log_normaliser(meant, float(likeness)) for meant, _, _ in seen])
        led = np.exp(likeness * alike - normaliser)
        chances = np.log(SHARE_GRID[:, None] * led + (1 - SHARE_GRID[:, None]) / len(table.rows))
        total = (counts * chances).sum(axis=1)
        at = int(np.argmax(total))
        if total[at] > best[0]:
            mean = float(total[at] / counts.sum())
            best = (float(total[at]), float(likeness), float(SHARE_GRID[at]), mean)
    _, likeness, share, mean = best
    return {
        "likeness": round(likeness, 3),
        "share": round(share, 3),
        "mean_log_chance": round(mean, 4),
        "pairs": int(counts.sum()),
    }


def _keep(found: dict[Any, tuple[float, int]], name: Any, price: float, seen: int) -> None:
    """Kept if seen often enough to be more than chance and likelier than an arbitrary error."""
    if seen >= MIN_SEEN and price < 1.0 and (name not in found or price < found[name][0]):
        found[name] = (price, seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-script", type=int, default=400)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    readings = ocr_readings(args.seed, args.per_script)
    learned = table(count(readings))
    kept = sum(r.cer <= MOST_CER for r in readings)
    current = json.loads(LEARNED_FILE.read_text("utf-8")) if LEARNED_FILE.exists() else {}
    current["ocr"] = {
        "_about": (
            "Measured, not hand-tuned: generated by `python -m benchmarks.learn_confusions "
            f"--per-script {args.per_script} --seed {args.seed}` from {kept} of "
            f"{len(readings)} synthetic markings (benchmarks/rendering.py) read by Tesseract "
            f"(character error rate <= {MOST_CER}). pairs: [meant, read as, cost, times seen]; "
            "extra: characters read that were not there; missing: characters lost; "
            "other_ideograph: an ideograph read as another, as a class."
        ),
        **learned,
    }
    LEARNED_FILE.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(
        f"{len(learned['pairs'])} confusions, {len(learned['extra'])} extra and "
        f"{len(learned['missing'])} missing characters learned from {kept} readings"
    )
    print(json.dumps({"benchmark": "learn_confusions", "readings": len(readings), "kept": kept}))


if __name__ == "__main__":
    main()
