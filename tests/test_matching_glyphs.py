"""How alike ideographs look, measured on their glyphs (benchmarks/learn_glyphs.py), and what
the error model makes of it: an ideograph OCR'd as one of like shape is a likelier misreading
than one read as an unrelated one, so a reading with a wrong ideograph finds the entry whose
ideograph looks like it, not a sibling with another. Designations here are synthetic (test
data, not real weapons); the ideograph pairs are ones OCR is known to confuse.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.learn_confusions import alike_fit
from benchmarks.learn_glyphs import FACES, faces, gb2312_ideographs, picture
from weaponsdb.matching.error_model import (
    alike_ideograph_cost,
    glyph_likeness,
    glyphs,
    other_ideograph_cost,
    substitution,
)
from weaponsdb.matching.index import MatchIndex, Target
from weaponsdb.matching.scoring import EntryFacts, Evidence, rank
from weaponsdb.matching.searching import best_per_entry

# Pairs OCR and people confuse: a bar longer or shorter, a stroke closed or open.
CONFUSED = ["土士", "未末", "己已", "己巳", "已巳", "人入", "日曰", "内丙", "丙两", "筒简", "式武"]
UNRELATED = ["内丁", "土福", "人福", "榴机", "日火"]


def most_alike_rank(one: str, other: str) -> int:
    """How many tabled ideographs look more like *one* than *other* does."""
    table = glyphs()
    assert table is not None, "weaponsdb/matching/glyphs.npz: make learn-glyphs"
    alike = table.pictures @ table.pictures[table.rows[one]]
    return int((alike > alike[table.rows[other]]).sum()) - 1  # *one* itself is the most alike


@pytest.mark.parametrize("pair", CONFUSED)
def test_ideographs_ocr_confuses_are_among_the_few_most_alike(pair):
    one, other = pair
    assert most_alike_rank(one, other) < 10  # of 6,763
    assert most_alike_rank(other, one) < 10


@pytest.mark.parametrize("pair", UNRELATED)
def test_unrelated_ideographs_are_not_alike(pair):
    likeness = glyph_likeness(*pair)
    assert likeness is not None
    assert likeness < min(glyph_likeness(*p) or 0.0 for p in CONFUSED)


@pytest.mark.parametrize("pair", CONFUSED)
def test_an_ideograph_read_as_one_of_like_shape_costs_less_than_one_read_as_any(pair):
    read, meant = pair
    assert substitution(read, meant).cost < other_ideograph_cost()
    assert "glyphs" in substitution(read, meant).why
    assert "alike" in substitution(read, meant).why


def test_an_ideograph_read_as_an_unrelated_one_costs_more_than_one_of_like_shape():
    assert substitution("丁", "内").cost > substitution("丙", "内").cost
    assert substitution("机", "福").cost > substitution("榴", "福").cost
    assert substitution("机", "福").cost <= 1.0  # never more than an arbitrary misreading


def test_an_ideograph_the_table_lacks_is_priced_as_the_class():
    # 丟 (U+4E1F) is traditional, not in GB 2312.
    assert glyph_likeness("丟", "丢") is None
    assert alike_ideograph_cost("丟", "丢") is None
    assert substitution("丟", "丢").cost == other_ideograph_cost()


# Synthetic designations (test data): each beside a sibling with another ideograph.
TEXTS = ["丁榴-697", "丁机-697", "乙丙-55", "乙丁-55", "未甲-12", "末甲-12"]


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    return MatchIndex([Target(n, "marking", text) for n, text in enumerate(TEXTS)])


@pytest.mark.parametrize(
    ("observed", "meant"),
    [
        ("丁福-697", "丁榴-697"),  # 福 looks like 榴 (木 and 礻, a dense right half), not 机
        ("乙内-55", "乙丙-55"),  # 内 is 丙 without its top bar; nothing like 丁
        ("乙两-55", "乙丙-55"),
    ],
)
def test_a_wrong_ideograph_finds_the_entry_whose_ideograph_looks_like_it(index, observed, meant):
    best = best_per_entry(index, observed)
    facts = {n: EntryFacts(n, f"synthetic-{n:02d}", TEXTS[n], None, None, None) for n in best}
    found = rank([observed], {n: [m] for n, m in best.items()}, facts, Evidence(), 5)
    assert found[0].entry.name == meant
    assert found[0].score > found[1].score


def test_an_exact_reading_still_beats_a_sibling_of_like_shape(index):
    best = best_per_entry(index, "未甲-12")
    assert best[4].cost < best[5].cost


def test_the_fit_follows_likeness_when_ocr_reads_alike_glyphs():
    # Made-up counts: every ideograph read as the ones most like it.
    table = glyphs()
    assert table is not None
    pairs = {(pair[1], pair[0]): 3 for pair in CONFUSED}
    led = alike_fit(pairs)
    assert led is not None
    assert led["likeness"] > 0
    assert led["share"] > 0.5
    # Read as ideographs with nothing in common: likeness tells nothing, each pair is about
    # as likely as any of the 6,763 (ln 1/6,763 = -8.8), far less than a pair that looks alike.
    unled = alike_fit({(pair[0], pair[1]): 3 for pair in UNRELATED})
    assert unled is not None
    assert unled["mean_log_chance"] < -8.0 < -3.0 < led["mean_log_chance"]


@pytest.mark.skipif(not FACES.exists(), reason="fonts-noto-cjk is not installed")
def test_the_glyphs_table_is_what_the_fonts_draw():
    table = glyphs()
    assert table is not None
    assert len(table.rows) == len(gb2312_ideographs()) == 6763
    drawn_in = faces()
    for ch in "式土士内丙福":
        drawn = picture(ch, drawn_in).ravel()
        stored = table.pictures[table.rows[ch]]
        centred = drawn - drawn.mean()
        assert float(stored @ (centred / np.linalg.norm(centred))) > 0.995, ch
