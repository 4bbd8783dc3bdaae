"""The error model at work: markings as OCR and people really misread them find their entry,
with scores that say how likely the first candidate is right. Catalogues here are synthetic
designations held in memory (test data, not real weapons), plus the seed catalogue over HTTP.
"""

from __future__ import annotations

import gc

import pytest

from benchmarks.learn_confusions import count, other_ideograph, table
from benchmarks.ocr_readings import OcrReading
from tests.factories import headers, issue_key
from weaponsdb.matching.error_model import align, coarse_key, costs_within, shape_key
from weaponsdb.matching.index import MatchIndex, Target
from weaponsdb.matching.normalise import readings
from weaponsdb.matching.scoring import CONFIDENT_SCORE, Candidate, EntryFacts, Evidence, rank
from weaponsdb.matching.searching import best_per_entry

# Synthetic designations shaped like real ones (test data).
TEXTS = [
    "ПГ-7ВМ",
    "ПГ-7В",
    "ОГ-7",
    "9М22У",
    "9М14",
    "3ОФ39",
    "РПК",
    "M16A2",
    "M933",
    "M982",
    "Type 56",
    "Type 56-1",
    "Type 95-1",
    "58식",
    "F-7",
    "Bang-122",
]


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    return MatchIndex([Target(n, "marking", text) for n, text in enumerate(TEXTS)])


def ranked(index: MatchIndex, observed: str) -> list[Candidate]:
    best = best_per_entry(index, observed)
    facts = {n: EntryFacts(n, f"synthetic-{n:02d}", TEXTS[n], None, None, None) for n in best}
    return rank([observed], {n: [m] for n, m in best.items()}, facts, Evidence(), 5)


def first(index: MatchIndex, observed: str) -> Candidate:
    candidates = ranked(index, observed)
    assert candidates, f"{observed!r} found nothing"
    return candidates[0]


@pytest.mark.parametrize(
    ("observed", "meant"),
    [
        ("nr-7BM", "ПГ-7ВМ"),  # П typed as n, Г as r: letters Unicode's confusables lack
        ("IIГ-7ВМ", "ПГ-7ВМ"),  # П read as II
        ("nГ-7ВМ", "ПГ-7ВМ"),
        ("9M22Y", "9М22У"),
        ("30039", "3ОФ39"),  # О read as 0 and Ф as 0: two likely misreadings, one fold
        ("MIGA2", "M16A2"),  # two likely OCR misreadings in five characters
        ("M1GA2", "M16A2"),
        ("ie РПК", "РПК"),  # a stray token from the background
        ("| РПК _", "РПК"),
        ("95-1式", "Type 95-1"),  # N-M式 meets Type N-M
        ("58 shik", "58식"),
        ("58shiki", "58식"),
        ("58 sik", "58식"),
        ("58shi", "58식"),
    ],
)
def test_likely_misreadings_find_their_entry_first(index, observed, meant):
    assert first(index, observed).entry.name == meant


def test_an_unreadable_character_is_never_absorbed_by_the_designator(index):
    for observed in ("56-?式", "56-]式"):
        candidates = ranked(index, observed)
        assert "Type 56" not in [c.entry.name for c in candidates]
        assert candidates[0].entry.name == "Type 56-1"
        assert candidates[0].matches[0].how.value == "wildcard"


@pytest.mark.parametrize(
    ("observed", "meant"),
    [
        ("五六式", "Type 56"),  # as Chinese writes the designation: digit by digit
        ("五六-一式", "Type 56-1"),
        ("九五-一式", "Type 95-1"),
        ("五八식", "58식"),
    ],
)
def test_a_designation_numbered_in_numerals_is_the_one_in_digits(index, observed, meant):
    found = first(index, observed)
    assert found.entry.name == meant
    assert found.matches[0].how.value == "normalised"
    assert found.matches[0].detail.startswith("numerals read as digits; ")
    assert found.score > 0.9


def test_numerals_outside_a_designation_number_stay_as_written(index):
    # 第六式 ('the sixth form'): a letter before the numerals; 五十六式: arithmetic, not read.
    assert readings("第六式")[0].key == "第六式"
    assert readings("五十六式")[0].key == "五十六式"
    assert all(c.entry.name != "Type 56" for c in ranked(index, "五十六式"))


def test_a_plausible_misreading_beats_an_implausible_one_of_as_many_edits(index):
    # 8 read as 3 is a confusion Tesseract makes; 3 read as 2 is not.
    candidates = ranked(index, "M932")
    assert [c.entry.name for c in candidates[:2]] == ["M982", "M933"]
    assert candidates[0].score > candidates[1].score


def test_explanations_say_which_character_was_taken_as_which_and_why(index):
    match = first(index, "nr-7BM").matches[0]
    assert match.how.value == "look-alike letters"
    assert "'n' taken as 'п' (look-alike shape)" in match.detail
    assert "'r' taken as 'г' (look-alike shape)" in match.detail
    spans = first(index, "ie РПК").matches[0]
    assert "'ie' left out as not part of the marking" in spans.detail


def test_a_random_string_is_no_confident_match(index):
    for observed in ("QZXW-71", "HKT-4408", "X9"):
        candidates = ranked(index, observed)
        assert not candidates or candidates[0].score < CONFIDENT_SCORE


def test_scores_are_probabilities_that_share_what_a_tie_leaves(index):
    alone = first(index, "ПГ-7ВМ")
    assert alone.score > 0.99
    tied = ranked(index, "Type 5?")  # Type 56 only: '?' fits one character
    assert tied[0].entry.name == "Type 56"
    shared = ranked(index, "ПГ-7В*")
    assert sum(c.score for c in shared) <= 1.0
    assert {c.entry.name for c in shared[:2]} == {"ПГ-7ВМ", "ПГ-7В"}


def test_what_matching_remembers_is_not_walked_by_the_garbage_collector(index):
    """A serving process remembers thousands of alignments of distinct queries; a full
    collection walks every object the collector tracks (its pause grows with them), so
    what is remembered must not be tracked."""
    gc.collect()
    before = len(gc.get_objects())
    for number in range(3000):
        assert best_per_entry(index, f"M{number}A2") is not None
    gc.collect()
    # What stays tracked is bounded caches of other kinds: the re module's compiled patterns
    # (at most 512, a pattern per wildcard query) and a few hundred more. The alignments
    # remembered as objects were 2,700 more here, and 20,000 in a serving process.
    assert len(gc.get_objects()) - before < 1500


def test_weighted_distance_prices_likely_confusions_below_arbitrary_ones():
    assert align("0", "о").cost < align("x", "о").cost
    assert align("n", "п").cost < 1.0
    assert align("ab", "ba").edits == 1  # neighbours swapped: one transposition
    assert coarse_key("30039") == coarse_key("3оф39")
    assert shape_key("m1ga2") == shape_key("m16a2")


def test_a_key_is_within_a_budget_exactly_when_its_alignment_costs_no_more():
    """costs_within decides from the first steps that exceed the budget; it must agree with
    the whole alignment's cost on every pair and budget, swaps and extra characters too."""
    texts = [readings(text)[0].key for text in TEXTS] + ["пг7вм", "ba", "ab", "3оф39", "30039"]
    for read in texts:
        for meant in texts:
            cost = align(read, meant).cost
            for allowed in (0.0, 0.3, 1.0, 2.5, cost, cost - 0.01):
                assert costs_within(read, meant, allowed) is (cost <= allowed), (read, meant)


SYNTHETIC = {
    "name": "Synthetic test rocket (test data, not a real weapon)",
    "category": "rocket",
    "status": "published",
}


def test_the_answer_says_whether_the_first_candidate_is_a_confident_match(seeded_client, seeded):
    sure = seeded_client.post("/v1/match", json={"markings": ["Bang-122"]}).json()
    assert sure["confident"] is True
    assert sure["candidates"][0]["score"] >= CONFIDENT_SCORE
    key = issue_key(seeded, "tester")
    for slug in ("synthetic-twin-a", "synthetic-twin-b"):
        body = {**SYNTHETIC, "slug": slug, "markings": [{"text": "TWN-41"}]}
        response = seeded_client.post("/v1/entries", json=body, headers=headers(key))
        assert response.status_code == 201, response.text
    unsure = seeded_client.post("/v1/match", json={"markings": ["TWN-41"]}).json()
    assert unsure["confident"] is False
    assert [c["slug"] for c in unsure["candidates"]] == ["synthetic-twin-a", "synthetic-twin-b"]
    assert unsure["candidates"][0]["score"] == pytest.approx(0.5, abs=0.01)
    nothing = seeded_client.post("/v1/match", json={"markings": ["Q-999 ZZTOP"]}).json()
    assert nothing["candidates"] == []
    assert nothing["confident"] is False


# Synthetic designations (test data) for readings by shape and misread designators, with
# siblings one character away that a reading must not fall into.
SIGHT_TEXTS = [
    *("ШПК-9", "ШПМ-9", "ЦФ-21", "ЦФ-27", "ЖФ-21", "ЯД-3", "250式", "260式", "250-1式"),
    *("ЗНА-84", "ЗНА-34", "ΓΛ-12", "ΓΛ-17"),
]


@pytest.fixture(scope="module")
def sight_index() -> MatchIndex:
    return MatchIndex([Target(n, "marking", text) for n, text in enumerate(SIGHT_TEXTS)])


def sight_first(index: MatchIndex, observed: str) -> Candidate | None:
    best = best_per_entry(index, observed)
    facts = {n: EntryFacts(n, f"synthetic-{n:02d}", SIGHT_TEXTS[n], None, None, None) for n in best}
    candidates = rank([observed], {n: [m] for n, m in best.items()}, facts, Evidence(), 5)
    return candidates[0] if candidates else None


@pytest.mark.parametrize(
    ("observed", "meant", "taken"),
    [
        ("LLITTK-9", "ШПК-9", "'lli' taken as 'ш'"),  # Ш as LLI, П as TT (Volapuk)
        ("LICD-21", "ЦФ-21", "'cd' taken as 'ф'"),  # Ц as LI, Ф as CD
        ("LIQP-27", "ЦФ-27", "'qp' taken as 'ф'"),  # Ф as QP
        ("9IA-3", "ЯД-3", "'9i' taken as 'я'"),  # Я as 9I, Д as A
        ("250吉", "250式", "'吉' after the number taken as the designator '式'"),
        ("250-1 或", "250-1式", "'或' after the number taken as the designator '式'"),
        ("ЭНА-84", "ЗНА-84", "'э' taken as 'з' (both look like '3', or a variant not in"),
        ("TA-12", "ΓΛ-12", "'t' taken as 'γ'"),  # Γ typed as T, as Г is
        ("260G式", "260式", "'g' taken as extra"),  # a Latin letter beside 式 is a misreading
    ],
)
def test_shapes_typed_as_runs_and_misread_designators_find_their_entry(
    sight_index, observed, meant, taken
):
    found = sight_first(sight_index, observed)
    assert found is not None, f"{observed!r} found nothing"
    assert found.entry.name == meant
    assert taken in found.matches[0].detail


@pytest.mark.parametrize("observed", ["LLITTCD-LI", "QPLI-5", "731吉", "9IXZ-40"])
def test_strings_of_such_runs_are_no_confident_match(sight_index, observed):
    found = sight_first(sight_index, observed)
    assert found is None or found.score < CONFIDENT_SCORE


# Synthetic Han and Persian designations (test data), each beside siblings one character
# away: the misreadings OCR makes of these scripts that the matcher tolerates.
DENSE_TEXTS = ["榴甲-102", "榴乙-102", "榴甲-103", "ثوی-844", "سوی-844", "ثوی-841"]


@pytest.fixture(scope="module")
def dense_index() -> MatchIndex:
    return MatchIndex([Target(n, "marking", text) for n, text in enumerate(DENSE_TEXTS)])


def ranked_among(texts: list[str], index: MatchIndex, observed: str) -> list[Candidate]:
    """The first five candidates of an index of *texts*, each entry named by its text."""
    best = best_per_entry(index, observed)
    facts = {n: EntryFacts(n, f"synthetic-{n:02d}", texts[n], None, None, None) for n in best}
    return rank([observed], {n: [m] for n, m in best.items()}, facts, Evidence(), 5)


def dense_ranked(index: MatchIndex, observed: str) -> list[Candidate]:
    return ranked_among(DENSE_TEXTS, index, observed)


@pytest.mark.parametrize(
    ("observed", "meant", "taken"),
    [
        # Both ideographs OCR'd as other ideographs: the number still tells the entry.
        ("相生-102", "榴甲-102", "Han character read as another"),
        ("相生-103", "榴甲-103", "Han character read as another"),
        # A dot lost (ث as ن) beside an arbitrary misreading (4 as 0).
        ("نوی-840", "ثوی-844", "'ن' taken as 'ث' (dots lost or added, or a variant not in"),
    ],
)
def test_dense_scripts_misread_by_ocr_find_their_entry_first(dense_index, observed, meant, taken):
    candidates = dense_ranked(dense_index, observed)
    assert candidates, f"{observed!r} found nothing"
    assert candidates[0].entry.name == meant
    assert taken in candidates[0].matches[0].detail


def test_an_exact_reading_stays_confident_beside_a_sibling_one_ideograph_away(dense_index):
    found = dense_ranked(dense_index, "榴甲-102")
    assert found[0].entry.name == "榴甲-102"
    assert found[0].score >= CONFIDENT_SCORE


@pytest.mark.parametrize("observed", ["相生-555", "火箭弹炮", "ذزژ-9", "榴甲-9999"])
def test_random_ideographs_and_dotted_letters_are_no_confident_match(dense_index, observed):
    candidates = dense_ranked(dense_index, observed)
    assert not candidates or candidates[0].score < CONFIDENT_SCORE


def test_ideographs_read_as_other_ideographs_are_learned_as_a_class():
    # Each pair is seen once, too rarely to be learned alone; together they are a class.
    readings = [
        OcrReading("榴甲-102", "相甲-102", "Hani", "stamp", "none"),
        OcrReading("榴甲-103", "柏甲-103", "Hani", "stamp", "none"),
        OcrReading("火箭-5", "火箭-5", "Hani", "stamp", "none"),
    ]
    counts = count(readings)
    assert not [p for p in table(counts)["pairs"] if p[0] == "榴"]
    found = other_ideograph(counts)
    assert (found["seen"], found["out_of"], found["read_as_each"]) == (2, 6, 2.0)
    assert found["class_cost"] < found["cost"] < 1.0  # a particular pair is less likely


# Synthetic designations (test data): each beside the near misses a reading could fall into.
NEAR_TEXTS = [
    "KRT-1234",
    "KRT-1239",
    "KRX-1234",
    "362式",
    "362-1式",
    "362-7式",
    "호통-349",
    "고통-349",
    "Κ-349",
    "ΓΛ-197",
    "ازا-719",
    "ازا-713",
    "Z-552",
    "Z-592",
    "ZB-55",
    "ینلب-471",
    "ینلب-477",
    "26式",
    "اا-826",
]


@pytest.fixture(scope="module")
def near_index() -> MatchIndex:
    return MatchIndex([Target(n, "marking", text) for n, text in enumerate(NEAR_TEXTS)])


def near_ranked(index: MatchIndex, observed: str) -> list[Candidate]:
    return ranked_among(NEAR_TEXTS, index, observed)


def test_a_reading_that_lost_a_character_keeps_the_edits_of_what_was_written(near_index):
    # Seven legible characters as written, so two arbitrary edits; one of them lost the R,
    # which leaves six in the reading.
    candidates = near_ranked(near_index, "KT-1274")
    assert candidates
    assert candidates[0].entry.name == "KRT-1234"
    assert "'r' taken as missing" in candidates[0].matches[0].detail


def test_a_dash_before_the_designator_that_joins_nothing_is_a_lost_character(near_index):
    # '362-式' was '362-N式' with N lost: the N-M designations come first, none confidently,
    # and 362式 only with the dash taken as a stray mark.
    candidates = near_ranked(near_index, "362-式")
    names = [c.entry.name for c in candidates]
    assert set(names[:2]) == {"362-1式", "362-7式"}
    assert candidates[0].score < CONFIDENT_SCORE
    dashed = next(c for c in candidates if c.entry.name == "362式")
    assert "'-' before the designator taken as extra" in dashed.matches[0].detail
    # A space before the designator is how it is written, not a lost character.
    assert near_ranked(near_index, "362 式")[0].entry.name == "362式"
    assert near_ranked(near_index, "362 式")[0].score >= CONFIDENT_SCORE


def test_a_letter_is_not_taken_as_a_letter_of_a_third_script(near_index):
    # 통-349 lost its first syllable: the Hangul designations ending in 통 come first; the
    # Greek Κ-349 after them, and only as Latin K (no way of reading takes 통 for Κ).
    candidates = near_ranked(near_index, "통-349")
    assert {c.entry.name for c in candidates[:2]} == {"호통-349", "고통-349"}
    for candidate in candidates[2:]:
        assert "'통' taken as 'κ'" not in candidate.matches[0].detail
        assert candidate.score < candidates[1].score


def test_greek_capitals_typed_as_their_cyrillic_twins_find_their_entry(near_index):
    candidates = near_ranked(near_index, "ГЛ-197")  # Cyrillic Г and Л for Greek Γ and Λ
    assert candidates[0].entry.name == "ΓΛ-197"
    assert candidates[0].score >= CONFIDENT_SCORE


def test_a_wildcard_in_the_script_as_written_beats_its_transliteration(near_index):
    # 'ازا-*' transliterated is 'z*', which every Z- designation fits: those come after the
    # designations that fit the text as written.
    names = [c.entry.name for c in near_ranked(near_index, "ازا-*")]
    assert set(names[:2]) == {"ازا-719", "ازا-713"}


@pytest.mark.parametrize("observed", ["QZXW-71", "HKT-4408", "Ж-9К3Ф", "통통-5"])
def test_random_strings_are_still_no_confident_match(near_index, observed):
    candidates = near_ranked(near_index, observed)
    assert not candidates or candidates[0].score < CONFIDENT_SCORE


def test_a_split_number_of_a_right_to_left_line_is_read_in_either_order(near_index):
    # Tesseract's Persian model split 471 into '47' and '1' and listed them from the right
    # (and read ی as ب, a dot apart).
    candidates = near_ranked(near_index, "بنلب-1 47")
    assert candidates
    assert candidates[0].entry.name == "ینلب-471"
    assert "runs of digits of a right-to-left line taken in the other order" in (
        candidates[0].matches[0].detail
    )
    assert near_ranked(near_index, "ABC-1 47") == []  # a left-to-right line keeps its order


def test_a_transliteration_with_no_letter_left_matches_nothing(near_index):
    # 'اا-826' transliterated leaves '826' (its alifs silent): '26' is not that.
    names = [c.entry.name for c in near_ranked(near_index, "26")]
    assert names[0] == "26式"
    assert "اا-826" not in names


# Designations of real weapons, each entry with the texts it is known by (test data held in
# memory, no catalogue facts): what an investigator types, read off an item in part, or
# quoted without its designator word.
KNOWN = {
    "Type 56": ["Type 56", "56式"],
    "Type 56-1": ["Type 56-1", "56-1式"],
    "Type 58": ["Type 58", "58식"],
    "Type 65": ["Type 65", "65式"],
    "T65": ["T65"],
    "F-7": ["F-7"],
    "PG-7": ["PG-7"],
    "M16A1": ["M16A1"],
    "M16A2": ["M16A2"],
    "M4A1": ["M4A1"],
    "FN FAL": ["FN FAL"],
    "M72 LAW": ["M72 LAW"],
    "Galil ARM": ["Galil ARM"],
    "РПК": ["РПК", "RPK"],
    "ПГ-7ВМ": ["ПГ-7ВМ", "PG-7VM"],
}
KNOWN_NAMES = list(KNOWN)


@pytest.fixture(scope="module")
def known_index() -> MatchIndex:
    return MatchIndex(
        [Target(n, "marking", text) for n, name in enumerate(KNOWN) for text in KNOWN[name]]
    )


def known_ranked(index: MatchIndex, observed: str) -> list[Candidate]:
    return ranked_among(KNOWN_NAMES, index, observed)


@pytest.mark.parametrize(
    ("observed", "meant", "taken"),
    [
        ("56-1", "Type 56-1", "'56-1' taken as a type designation without its word"),
        ("56", "Type 56", "'56' taken as a type designation without its word"),
        ("T58", "Type 58", "'t' taken as short for the designator 'type'"),
        ("Ty. 56-1", "Type 56-1", "'ty.' taken as short for the designator 'type'"),
    ],
)
def test_a_designation_quoted_without_its_word_or_with_it_shortened_finds_its_type(
    known_index, observed, meant, taken
):
    candidates = known_ranked(known_index, observed)
    assert candidates, f"{observed!r} found nothing"
    assert candidates[0].entry.name == meant
    # Ahead of 56式 with 式 misread, where that is listed at all ('T58' is three characters
    # as written: its budget, less the shortened word, holds no arbitrary misreading).
    assert all(candidates[0].score > other.score for other in candidates[1:])
    assert taken in candidates[0].matches[0].detail


def test_a_designation_of_its_own_that_begins_with_t_is_not_read_as_type(known_index):
    for observed in ("T65", "T-65"):
        candidates = known_ranked(known_index, observed)
        assert candidates[0].entry.name == "T65"
        assert candidates[0].score >= CONFIDENT_SCORE
    # Type 65 is the reading of 'T65' with the word shortened: listed after it.
    assert "Type 65" in [c.entry.name for c in known_ranked(known_index, "T65")]


@pytest.mark.parametrize(
    ("observed", "meant", "part"),
    [
        ("FAL", "FN FAL", "end"),
        ("Galil", "Galil ARM", "start"),
        ("M72", "M72 LAW", "start"),
        ("LAW", "M72 LAW", "end"),
        ("7BM", "ПГ-7ВМ", "end"),  # the end typed by shape: В as B
    ],
)
def test_only_the_start_or_the_end_of_a_marking_read_finds_it(known_index, observed, meant, part):
    candidates = known_ranked(known_index, observed)
    assert candidates, f"{observed!r} found nothing"
    assert candidates[0].entry.name == meant
    assert f"only the {part} of the marking read" in candidates[0].matches[0].detail


def test_the_start_of_several_markings_lists_them_all_without_choosing(known_index):
    candidates = known_ranked(known_index, "M16")
    assert {c.entry.name for c in candidates[:2]} == {"M16A1", "M16A2"}
    assert candidates[0].score < CONFIDENT_SCORE  # nothing read tells them apart
    assert candidates[0].score == pytest.approx(candidates[1].score)


def test_a_marking_read_whole_beats_a_longer_one_it_begins(known_index):
    # PG-7 as written is certain; PG-7VM, which it begins, is no rival.
    candidates = known_ranked(known_index, "PG-7")
    assert candidates[0].entry.name == "PG-7"
    assert candidates[0].score >= CONFIDENT_SCORE


def test_a_letter_of_a_worn_stencil_read_as_one_a_stroke_away_finds_its_entry(known_index):
    candidates = known_ranked(known_index, "P-7")  # F read as P: the bowl closed
    assert candidates[0].entry.name == "F-7"
    taken = "'p' taken as 'f' (a stroke lost or added, or a variant not in"
    assert taken in candidates[0].matches[0].detail


@pytest.mark.parametrize("observed", ["PPK", "XQZ", "KZH-4", "ZZ-93"])
def test_other_designations_and_random_strings_are_no_confident_match(known_index, observed):
    # PPK is a designation of its own (Walther PPK), not РПК with П read as P: a suggestion
    # at most.
    candidates = known_ranked(known_index, observed)
    assert not candidates or candidates[0].score < CONFIDENT_SCORE


def test_digits_lost_are_priced_by_how_often_their_kind_is_lost():
    # 1 lost twice in four readings, 3 never: too few readings for rates of their own; the
    # digits together were lost 2 times in 16, and both cost about that. A letter keeps a
    # rate of its own (l lost twice in four), and one never seen lost (b) has none.
    readings = [
        *(OcrReading("AB-12", "AB-2", "Latn", "stamp", "none") for _ in range(2)),
        *(OcrReading("AB-12", "AB-12", "Latn", "stamp", "none") for _ in range(2)),
        *(OcrReading("AL-34", "A-34", "Latn", "stamp", "none") for _ in range(2)),
        *(OcrReading("AL-34", "AL-34", "Latn", "stamp", "none") for _ in range(2)),
    ]
    lost = table(count(readings))["missing"]
    assert lost["l"] < lost["1"] < lost["3"] < 1.0  # 3 was never lost, yet digits are
    assert lost["3"] - lost["1"] < 0.1  # the digits' costs are close
    assert "b" not in lost


@pytest.mark.parametrize("observed", ["5927式", "Type 5927", "5927 式", "Тип 5927"])
def test_the_designator_word_counts_as_one_character_of_the_budget(observed):
    # 5528式 is five characters as written, so one arbitrary misreading: two (5 as 9, 8 as
    # 7) are another designation, as they are for K-5528 (six). The key spells the word
    # 'type', whatever was written, which once counted four and gave two.
    texts = ["5528式", "K-5528"]
    index = MatchIndex([Target(n, "marking", text) for n, text in enumerate(texts)])
    assert ranked_among(texts, index, "K-5927") == []
    assert ranked_among(texts, index, observed) == []
    # One misreading is still found, however the word was written.
    one = observed.replace("9", "5")
    assert ranked_among(texts, index, one)[0].entry.name == "5528式"


def test_where_a_separator_stood_is_evidence_between_misreadings_otherwise_alike():
    # '8-5式' lost a character either way: 38-5式 its 3, with the dash where it stands;
    # 815式 its 1 and 485式 its 4, each with a dash read where none stands.
    texts = ["815式", "485式", "38-5式"]
    index = MatchIndex([Target(n, "marking", text) for n, text in enumerate(texts)])
    candidates = ranked_among(texts, index, "8-5式")
    assert candidates[0].entry.name == "38-5式"
    assert candidates[0].score < CONFIDENT_SCORE  # still a guess between lost characters
    assert "separator where the text has none" in candidates[1].matches[0].detail
    # A separator only dropped is no misreading and costs nothing: 38-5式 as written.
    assert ranked_among(texts, index, "385式")[0].entry.name == "38-5式"
    assert ranked_among(texts, index, "385式")[0].score >= CONFIDENT_SCORE
