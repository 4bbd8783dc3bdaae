"""The error model: how likely each misreading is, as a cost, and the weighted edit distance
built on it.

A marking reaches the matcher through a way of reading (OCR, a person copying shapes, a
transliteration), and each way gets some characters wrong more often than others: OCR reads
О as 0, a person who does not know Cyrillic types П as n. The costs (about -ln of how likely
an error is, 1.0 for an arbitrary misread character) come from two data files beside
rules.json: errors.json, hand-tuned where data is silent, and learned.json, measured on
rendered markings read by Tesseract (benchmarks/learn_confusions.py). Characters that are
misread as one another cheaply fall in one *shape class*; a key with every character replaced
by its class (its shape key) lets the index find candidates that differ only by likely
misreadings, however many, and the weighted distance then ranks them.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple, cast

import hangul_jamo
import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import Levenshtein

from weaponsdb.matching.normalise import RULES, CharTable, How, ocr_key

HERE = Path(__file__).parent
ERRORS: dict[str, Any] = json.loads((HERE / "errors.json").read_text("utf-8"))
LEARNED_FILE = HERE / "learned.json"
# How ideographs look: pictures of their glyphs (benchmarks/learn_glyphs.py).
GLYPHS_FILE = HERE / "glyphs.npz"
GLYPH_SIZE = 16  # cells a side of each picture
# What an arbitrary misreading of one character as one particular other is taken to have as
# its probability: a cost is ln p / ln of it (benchmarks/learn_confusions.py).
P_ARBITRARY = 0.01
COSTS: dict[str, float] = {k: v for k, v in ERRORS["costs"].items() if not k.startswith("_")}
PATH_COST = {
    How(how): -math.log(score)
    for how, score in ERRORS["path_scores"].items()
    if not how.startswith("_")
}


@cache
def learned() -> dict[str, Any]:
    """The measured part of the model; empty tables until `make learn-error-model` ran."""
    if not LEARNED_FILE.exists():
        return {"ocr": {"pairs": [], "extra": {}, "missing": {}}}
    return dict(json.loads(LEARNED_FILE.read_text("utf-8")))


class Confusion(NamedTuple):
    # A tuple, not a dataclass: the collector stops tracking it at its first look, and the
    # prices below remember thousands of them.
    cost: float
    why: str  # the way of reading that makes this error


@cache
def confusions() -> dict[tuple[str, str], Confusion]:
    """(read as, meant) -> the cheapest known way that reading happens."""
    table: dict[tuple[str, str], Confusion] = {}

    def add(meant: str, read: str, cost: float, why: str) -> None:
        pair = (read, meant)
        if pair not in table or cost < table[pair].cost:
            table[pair] = Confusion(cost, why)

    for meant, read, cost in ERRORS["shapes"]["pairs"]:
        add(meant, read, cost, "look-alike shape")
        if len(read) == 1:  # a shape misread either way: typed by sight, or OCR'd back
            add(read, meant, cost + 0.1, "look-alike shape")
    for one, other, cost in ERRORS["worn"]["pairs"]:
        add(one, other, cost, "a stroke lost or added")
        add(other, one, cost, "a stroke lost or added")
    for meant, read, cost in ERRORS["volapuk"]["runs"]:
        add(meant, read, cost, "typed by shape (Volapuk)")
    for meant, read, cost in ERRORS["han"]["pairs"]:
        add(meant, read, cost, "Han character of similar shape")
    for group in ERRORS["arabic"]["groups"]:
        for meant in group:
            for read in group:
                if read != meant:
                    add(meant, read, ERRORS["arabic"]["cost"], "dots lost or added")
    for read, meant in _ocr_rule_pairs():
        add(meant, read, 0.3, "OCR confusion")
    for meant, read, cost, _seen in learned()["ocr"]["pairs"]:
        add(meant, read, cost, "OCR confusion, measured")
    _through_a_third_shape(table)
    return table


def _through_a_third_shape(table: dict[tuple[str, str], Confusion]) -> None:
    """Two characters that each look like a third are misread as one another (З and Э both
    look like 3): such a pair costs the two confusions together, when that is less than an
    arbitrary misreading. Single characters only; it joins no shape class (the sum of two
    costs is below a class's bound only if both are), so the index finds nothing new."""
    single = [(pair, c) for pair, c in table.items() if len(pair[0]) == 1 and len(pair[1]) == 1]
    read_for: dict[str, list[tuple[str, float]]] = {}
    for (read, meant), confusion in single:
        read_for.setdefault(meant, []).append((read, confusion.cost))
    for (third, meant), first in single:  # *meant* read as *third* ...
        for read, cost in read_for.get(third, ()):  # ... and *third* as *read*
            total = first.cost + cost
            if read != meant and total < COSTS["substitution"]:
                known = table.get((read, meant))
                if known is None or total < known.cost:
                    why = f"both look like '{third}'"
                    table[(read, meant)] = Confusion(round(total, 3), why)


def _ocr_rule_pairs() -> Iterator[tuple[str, str]]:
    """Pairs that rules.json's OCR table makes one (the classic 0/O, 1/I/l, 5/S, 8/B, 2/Z)."""
    classes: dict[str, set[str]] = {}
    for ch, representative in RULES["ocr_confusions"].items():
        if len(ch) == 1:
            classes.setdefault(representative, {representative}).add(ch)
    for members in classes.values():
        for a in members:
            for b in members:
                if a != b:
                    yield a, b


@cache
def multi_character_readings() -> dict[str, tuple[str, float, str]]:
    """Runs of characters read for one character ('ji' for л): run -> (meant, cost, why)."""
    found: dict[str, tuple[str, float, str]] = {}
    for (read, meant), confusion in confusions().items():
        if len(read) > 1 and len(meant) == 1:
            current = found.get(read)
            if current is None or confusion.cost < current[1]:
                found[read] = (meant, confusion.cost, confusion.why)
    return found


# Remembered: an alignment prices each step it makes, most of them pairs it priced before,
# and an unknown pair costs look-ups of Unicode names: a third of aligning was this.
@lru_cache(maxsize=16384)
def substitution(read: str, meant: str) -> Confusion:
    """What it costs to have read *meant* as *read* (single characters)."""
    known = confusions().get((read, meant))
    if known is not None:
        return known
    if hangul_jamo.is_syllable(read) and hangul_jamo.is_syllable(meant):
        return _hangul(read, meant)
    if is_ideograph(read) and is_ideograph(meant):
        return _other_ideograph(read, meant)
    if _across_scripts(read, meant):
        return Confusion(COSTS["substitution_across_scripts"], "letter of another script")
    return Confusion(COSTS["substitution"], "misread")


OTHER_VARIANT = "a variant not in the catalogue"
# Letters in a run of more than this are a word, which names a family (Type, Bang, FN FAL),
# not a code that tells its variants apart (the ВМ of ПГ-7ВМ, the A of M16A2, RPK and RPD).
VARIANT_CODE_LETTERS = 3


def variant_place(key: str, at: int) -> bool:
    """Whether a family's variants could differ in character *at* of a key: a digit, or a
    letter of a short code that is no designator (56式 is Type 56 whatever 式 is read as).
    Asked of the few places an alignment edits, not of every character of both keys."""
    ch = key[at]
    if ch.isdigit():
        return True
    if not _is_letter(ch) or ch in RULES["designators"]["after_number"]:
        return False
    start, end = at, at + 1
    while start > 0 and _is_letter(key[start - 1]):
        start -= 1
    while end < len(key) and _is_letter(key[end]):
        end += 1
    return end - start <= VARIANT_CODE_LETTERS


def _is_letter(ch: str) -> bool:
    return ch.isalnum() and not ch.isdigit()


def _variant_step(read: str, meant: str) -> bool:
    """Whether variants could differ by this one step, where both sides stand in variant
    places: a digit for a digit, a letter for a letter of its script, one more or less."""
    if not read or not meant:
        return True
    if read.isdigit() or meant.isdigit():
        return read.isdigit() and meant.isdigit()
    return _script(read) == _script(meant)


def _across_scripts(read: str, meant: str) -> bool:
    """Two letters of two scripts neither of which is Latin (a Hangul syllable read as a
    Greek letter): no way of reading makes that error. Tesseract's models for each script
    misread its letters as Latin letters and digits, and as their own script's, never as
    a third script's (learned.json has no such pair), and a person typing by sight types
    Latin; shapes shared across scripts are in the tables above, priced as they are."""
    scripts = {_script(read), _script(meant)}
    return len(scripts) == 2 and None not in scripts and "LATIN" not in scripts


@lru_cache(maxsize=4096)
def _script(ch: str) -> str | None:
    """The script of a letter, by the first word of its Unicode name; None for what is no
    letter (digits are shared by every script)."""
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] or None


def is_ideograph(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH")


@cache
def other_ideograph_cost(as_class: bool = False) -> float:
    """What one particular ideograph read for another costs (or, *as_class*, any other one:
    how likely such a misreading is at all, which decides whether ideographs are one class
    of the shape keys). OCR reads the dense ideographs of a stamped or stencilled marking as
    some other ideograph far more often than any one pair recurs (learned.json's
    `other_ideograph`, measured on Tesseract); an arbitrary misreading where nothing was
    measured."""
    measured = learned()["ocr"].get("other_ideograph")
    if not measured:
        return COSTS["substitution"]
    return float(min(COSTS["substitution"], measured["class_cost" if as_class else "cost"]))


@lru_cache(maxsize=4096)
def _other_ideograph(read: str, meant: str) -> Confusion:
    """One ideograph read as another: by how alike the two look, where the glyphs' table
    and the fit of likeness to OCR's confusions are there; else as the measured class."""
    cost = alike_ideograph_cost(read, meant)
    if cost is None:
        return Confusion(other_ideograph_cost(), "Han character read as another, measured")
    likeness = glyph_likeness(read, meant)
    return Confusion(cost, f"Han character read as another, glyphs {likeness:.0%} alike")


@dataclass(frozen=True)
class Glyphs:
    """Each tabled ideograph's picture, centred and scaled to unit length, so that the
    product of two is the correlation of their pictures: 1 for the same shape, about 0
    for unrelated ones."""

    rows: dict[str, int]
    pictures: npt.NDArray[np.float32]


@cache
def glyphs() -> Glyphs | None:
    if not GLYPHS_FILE.exists():
        return None
    with np.load(GLYPHS_FILE) as data:
        codes = data["characters"].tolist()
        pictures = data["pictures"].astype(np.float32)
    centred = pictures - pictures.mean(axis=1, keepdims=True)
    unit = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)
    return Glyphs({chr(code): row for row, code in enumerate(codes)}, unit)


def glyph_likeness(one: str, other: str) -> float | None:
    """How alike two ideographs look (the correlation of their glyphs' pictures, -1 to 1);
    None if either is not in the table."""
    table = glyphs()
    if table is None or one not in table.rows or other not in table.rows:
        return None
    a, b = table.pictures[table.rows[one]], table.pictures[table.rows[other]]
    return float(a @ b)


@lru_cache(maxsize=4096)
def log_normaliser(meant: str, likeness: float) -> float:
    """ln of the sum, over every other tabled ideograph x, of exp(likeness * alike(meant, x))."""
    table = glyphs()
    assert table is not None, "the glyphs' table"
    row = table.rows[meant]
    exponents = likeness * (table.pictures @ table.pictures[row]).astype(np.float64)
    exponents[row] = -np.inf  # read as itself is no misreading
    return float(np.logaddexp.reduce(exponents))


def alike_ideograph_cost(read: str, meant: str) -> float | None:
    """The cost of *meant* read as the ideograph *read*, by how alike the two look. OCR reads
    an ideograph as another one often (the measured class) but each pair too rarely to be
    learned: learn_confusions.py fits how far likeness leads which one it reads, x for m
    with a chance of share * exp(k * alike(m, x)) / Z(m) + (1 - share) / N (a choice led by
    shape, or any), and the pairs it saw cost on average what the class measured for a
    pair. So a pair likelier than those costs less, down to what any ideograph read for m
    costs, and one less likely more, up to an arbitrary misreading. None where either is
    not tabled or nothing was fitted."""
    measured = learned()["ocr"].get("other_ideograph") or {}
    fitted = measured.get("alike")
    likeness = glyph_likeness(read, meant)
    table = glyphs()
    if not fitted or likeness is None or table is None:
        return None
    k, share = float(fitted["likeness"]), float(fitted["share"])
    led = share * math.exp(k * likeness - log_normaliser(meant, k))
    chance = math.log(led + (1 - share) / len(table.rows))
    mean = float(fitted["mean_log_chance"])
    cost = float(measured["cost"]) + (chance - mean) / math.log(P_ARBITRARY)
    return round(min(COSTS["substitution"], max(float(measured["class_cost"]), cost)), 3)


@lru_cache(maxsize=4096)
def _hangul(read: str, meant: str) -> Confusion:
    rules = ERRORS["hangul"]
    similar = {frozenset(pair) for pair in rules["similar"]}
    cost = 0.0
    for a, b in zip(
        hangul_jamo.decompose_syllable(read), hangul_jamo.decompose_syllable(meant), strict=True
    ):
        if a == b:
            continue
        if a is None or b is None:
            cost += rules["missing_jamo"]
        elif frozenset((a, b)) in similar:
            cost += rules["similar_jamo"]
        else:
            cost += rules["other_jamo"]
    return Confusion(min(cost, COSTS["substitution"]), "Hangul syllable with a jamo misread")


@lru_cache(maxsize=4096)
def extra(read: str) -> Confusion:
    """A character read that is not there (a scratch, a rivet, a stroke of the background)."""
    cost = learned()["ocr"]["extra"].get(read)
    if cost is not None and cost < COSTS["extra_character"]:
        return Confusion(cost, "stray mark read as a character, measured")
    return Confusion(COSTS["extra_character"], "extra character")


@lru_cache(maxsize=4096)
def missing(meant: str) -> Confusion:
    cost = learned()["ocr"]["missing"].get(meant)
    if cost is not None and cost < COSTS["missing_character"]:
        return Confusion(cost, "character often lost, measured")
    return Confusion(COSTS["missing_character"], "character missing")


@dataclass(frozen=True)
class Step:
    read: str  # '' for a missing character
    meant: str  # '' for an extra one
    confusion: Confusion

    variant: bool = False  # it could be where a variant the catalogue lacks differs

    def describe(self) -> str:
        why = f"{self.confusion.why}, or {OTHER_VARIANT}" if self.variant else self.confusion.why
        if not self.meant:
            return f"'{self.read}' taken as extra ({why})"
        if not self.read:
            return f"'{self.meant}' taken as missing ({why})"
        return f"'{self.read}' taken as '{self.meant}' ({why})"


# A step as alignments keep it: (read, meant, cost, why, variant).
PlainStep = tuple[str, str, float, str, bool]


@dataclass(slots=True)  # not frozen, for speed (see index.Hit)
class Alignment:
    cost: float
    plain_steps: tuple[PlainStep, ...]

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(
            Step(read, meant, Confusion(cost, why), variant)
            for read, meant, cost, why, variant in self.plain_steps
        )

    @property
    def edits(self) -> int:
        return len(self.plain_steps)

    def how(self) -> How:
        """OCR if every step is one of rules.json's classic OCR confusions, look-alike if every
        step is a confusion of shape, fuzzy otherwise."""
        steps = self.plain_steps  # not as Step: a match asks this of every entry it ranks
        if all(read and meant and ocr_key(read) == ocr_key(meant) for read, meant, *_ in steps):
            return How.OCR
        if all(why == "look-alike shape" for _, _, _, why, _ in steps):
            return How.LOOK_ALIKE
        return How.FUZZY

    def describe(self) -> str:
        return "; ".join(step.describe() for step in self.steps)

    def variant_saving(self) -> float | None:
        """How much less it would cost were its steps that could tell variants apart the
        difference of a variant the catalogue lacks, each at COSTS["variant_difference"],
        rather than misreadings (None: no step could)."""
        differences = [cost for _, _, cost, _, variant in self.plain_steps if variant]
        if not differences:
            return None
        return sum(differences) - COSTS["variant_difference"] * len(differences)


def align(read: str, meant: str) -> Alignment:
    """The cost of having read *meant* as *read*: the unit alignment that rapidfuzz finds,
    each step priced by the error model, neighbours swapped counted as one transposition."""
    return Alignment(*_aligned(read, meant))


def costs_within(read: str, meant: str, allowed: float) -> bool:
    """Whether align(read, meant) costs at most *allowed*, told without making the alignment
    and from as few of its steps as decide it: most of the keys priced are over their
    budget, and never explained (costs are never negative)."""
    total = 0.0
    for tag, i, j in _unit_steps(read, meant):
        total += _step_price(tag, read, meant, i, j).cost
        if total > allowed:
            return False
    return total <= allowed


# Alignments are remembered as plain tuples of strings and numbers, which the garbage
# collector stops tracking at its first look: as dataclasses, the 4,096 remembered were
# 20,000 of the 27,000 objects a serving process kept tracked, walked by every full
# collection. Small, too: at 65,536 a serving process grew to 250,000 tracked objects and
# full collections of 150 ms of CPU, at the same CPU per query as 4,096.
@lru_cache(maxsize=4096)
def _aligned(read: str, meant: str) -> tuple[float, tuple[PlainStep, ...]]:
    # Plain steps made directly: a frozen Step a step cost more than the rest of an
    # alignment, and most alignments priced are over the budget and never explained.
    steps: list[PlainStep] = []
    for tag, i, j in _unit_steps(read, meant):
        confusion = _step_price(tag, read, meant, i, j)
        if tag == SWAP:
            steps.append((read[i : i + 2], meant[j : j + 2], confusion.cost, confusion.why, False))
        elif tag == "replace":
            variant = (
                variant_place(read, i)
                and variant_place(meant, j)
                and _variant_step(read[i], meant[j])
            )
            steps.append((read[i], meant[j], confusion.cost, confusion.why, variant))
        elif tag == "delete":
            steps.append((read[i], "", confusion.cost, confusion.why, variant_place(read, i)))
        else:
            steps.append(("", meant[j], confusion.cost, confusion.why, variant_place(meant, j)))
    return sum(step[2] for step in steps), tuple(steps)


SWAP = "swap"  # a step of _unit_steps beside rapidfuzz's replace, delete and insert
SWAPPED = Confusion(COSTS["transposition"], "neighbours swapped")


def _unit_steps(read: str, meant: str) -> Iterator[tuple[str, int, int]]:
    """(tag, position in *read*, position in *meant*) of each step of the unit alignment:
    rapidfuzz's edit operations, two that swap neighbours taken as one SWAP."""
    # Plain tuples (tag, i, j), a third quicker to walk than Editop objects; rapidfuzz's
    # stub says Editop.
    ops = cast("list[tuple[str, int, int]]", Levenshtein.editops(read, meant).as_list())
    position = 0
    while position < len(ops):
        op = ops[position]
        if position + 1 < len(ops) and _swapped(read, meant, op, ops[position + 1]):
            yield SWAP, op[1], op[2]
            position += 2
            continue
        yield op
        position += 1


def _step_price(tag: str, read: str, meant: str, i: int, j: int) -> Confusion:
    if tag == SWAP:
        return SWAPPED
    if tag == "replace":
        return substitution(read[i], meant[j])
    if tag == "delete":
        return extra(read[i])
    return missing(meant[j])


def _swapped(read: str, meant: str, op: tuple[str, int, int], nxt: tuple[str, int, int]) -> bool:
    """Whether two neighbouring edit operations are one swap of neighbouring characters
    (rapidfuzz gives a swap as two replacements, or as an insertion and a deletion)."""
    _, i, j = op
    pair, swapped = read[i : i + 2], meant[j : j + 2][::-1]
    return (
        len(pair) == 2
        and pair == swapped
        and pair[0] != pair[1]
        and i <= nxt[1] <= i + 2
        and j <= nxt[2] <= j + 2
    )


def budget(legible: int) -> float:
    """The most a reading of this many legible characters may cost and still be offered."""
    rules = ERRORS["budget"]
    return float(min(rules["most"], rules["base"] + rules["per_character"] * legible))


@cache
def shape_classes(below: float) -> dict[str, str]:
    """Each character misread as another for less than *below*, mapped to one representative
    of its class (single characters only; classes joined through any such pair)."""
    parent: dict[str, str] = {}

    def root(ch: str) -> str:
        while parent.get(ch, ch) != ch:
            ch = parent[ch]
        return ch

    for (read, meant), confusion in confusions().items():
        if len(read) == 1 and len(meant) == 1 and confusion.cost < below:
            a, b = root(read), root(meant)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {ch: root(ch) for ch in parent}


# The one character every ideograph stands for in a key of classes, when ideographs are
# misread as one another cheaply enough to be a class: not an ideograph, not alphanumeric,
# so no key holds it otherwise.
IDEOGRAPH_CLASS = "\u3013"  # 〓, the geta mark: a character that could not be set


def shape_key(text_key: str) -> str:
    """The key with each character replaced by its class of likely misreadings: keys that
    differ only by likely misreadings, however many, share it."""
    return _class_key(text_key, COSTS["shape_class_below"])


def coarse_key(text_key: str) -> str:
    """The same with less likely misreadings too (a letter typed by its shape in another
    script, as П for n or Ж for K): larger classes, only looked up as they are."""
    return _class_key(text_key, COSTS["coarse_class_below"])


def _class_key(text_key: str, below: float) -> str:
    # A key's characters are mapped one by one, so str.translate does it in one call (a
    # text's shape keys were a third of its readings' time, a million texts in a build).
    return text_key.translate(_class_table(below))


@cache
def _class_table(below: float) -> CharTable:
    classes = shape_classes(below)
    ideographs = other_ideograph_cost(as_class=True) < below

    def class_of(ch: str) -> str:
        member = classes.get(ch, ch)
        # An ideograph's class is every ideograph, unless it is also read as a Latin letter
        # or digit (丁 as j), whose class it then keeps.
        return IDEOGRAPH_CLASS if ideographs and is_ideograph(member) else member

    return CharTable(class_of)


@dataclass(frozen=True)
class RunReading:
    key: str
    cost: float
    taken: tuple[str, ...]  # what was taken as what, and why


def read_runs(text_key: str) -> RunReading | None:
    """The key with runs of characters that stand for one character ('ji' for л, 'xt' for
    式) read as that character, if there is any such run."""
    runs = multi_character_readings()
    longest = max((len(run) for run in runs), default=0)
    out: list[str] = []
    taken: list[str] = []
    cost = 0.0
    position = 0
    while position < len(text_key):
        for size in range(longest, 1, -1):
            run = text_key[position : position + size]
            if len(run) == size and run in runs:
                meant, run_cost, why = runs[run]
                out.append(meant)
                taken.append(f"'{run}' taken as '{meant}' ({why})")
                cost += run_cost
                position += size
                break
        else:
            out.append(text_key[position])
            position += 1
    return RunReading("".join(out), cost, tuple(taken)) if taken else None
