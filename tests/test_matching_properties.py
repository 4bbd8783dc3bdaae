"""Properties of the matcher's core, over generated text: reading a text is stable, and a
catalogue's own marking always finds its own entry first. Catalogues here are generated
(synthetic), held in memory only."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import process
from rapidfuzz.distance import OSA

from weaponsdb.matching.error_model import shape_key
from weaponsdb.matching.grams import _distinct_postings
from weaponsdb.matching.index import MAX_PRICED, MatchIndex, Target, _within
from weaponsdb.matching.normalise import How, fold, key, readings, separated_key
from weaponsdb.matching.patterns import compile_pattern
from weaponsdb.matching.searching import best_per_entry
from weaponsdb.matching.tables import distinct_counts

# Letters and digits of the scripts investigators meet, plus separators and odd characters.
ALPHABET = st.sampled_from(
    list("ABCFGKMNPRSTXZabcgkmnx0123456789")
    + list("방식탄포총АВКМНРСТФЖЯ式型号")
    + list("-–. /")
    + ["\u200b", "\u202e", "Ｂ", "１", "٥", "é"]
)
TEXTS = st.text(ALPHABET, min_size=1, max_size=24)


@given(TEXTS)
def test_folding_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


@given(TEXTS)
def test_a_key_is_its_own_key(text):
    assert key(key(fold(text))) == key(fold(text))


@given(TEXTS)
def test_every_reading_is_letters_and_digits_only(text):
    for reading in readings(text):
        assert reading.key == key(reading.key, designate=False)
        assert reading.key  # empty readings are never offered


@given(TEXTS)
def test_the_plainest_reading_comes_first(text):
    found = readings(text)
    if key(fold(text)):
        assert found[0].key == key(fold(text))


MARKINGS = st.lists(
    st.text(ALPHABET, min_size=3, max_size=16).filter(lambda t: len(key(fold(t))) >= 3),
    min_size=1,
    max_size=30,
    unique_by=lambda t: key(fold(t)),
)


@settings(max_examples=60, deadline=None)
@given(MARKINGS, st.data())
def test_a_catalogue_marking_always_matches_its_own_entry_first(markings, data):
    # Entry n bears marking n. A marking whose readings coincide with another entry's may
    # tie with it, but must never rank below anything.
    index = MatchIndex([Target(n, "marking", text) for n, text in enumerate(markings)])
    chosen = data.draw(st.integers(0, len(markings) - 1))
    best = best_per_entry(index, markings[chosen])
    assert chosen in best
    top = max(match.score for match in best.values())
    assert best[chosen].score == top == 1.0


def test_a_marking_with_a_dash_before_its_designator_matches_itself_as_written():
    # Found by the property above: '0-型' is read as a lost character or a stray dash, and its
    # own entry, written just so, scored 0.37.
    markings = ["0-型", "0型", "362-式"]
    index = MatchIndex([Target(n, "marking", text) for n, text in enumerate(markings)])
    for chosen, text in enumerate(markings):
        best = best_per_entry(index, text)
        assert best[chosen].score == 1.0
        assert best[chosen].how is How.EXACT
        assert all(match.score < 1.0 for n, match in best.items() if n != chosen)


@given(st.from_regex(r"[A-Z]{2,4}-[0-9]{2,3} LOT [0-9A-Z]{1,6}", fullmatch=True))
def test_a_marking_fits_the_pattern_made_from_it(marking):
    fixed, _, _ = marking.rpartition(" ")
    assert compile_pattern(f"{fixed} {{lot}}").fullmatch(key(fold(marking)))


# Keys of a few letters and every digit, alike as structured markings are ('lot 0042'): many
# share segments and bigrams, so the narrowing of candidates is exercised. No designator word
# or other alphabet can be spelt, so each marking is read as one key, itself.
KEY_CHARACTERS = st.sampled_from(list("0123456789abklmty"))
KEYS = st.text(KEY_CHARACTERS, min_size=3, max_size=14)


@st.composite
def misread(draw, keys):
    """A key with up to two edits: swaps of neighbours, substitutions, insertions, losses."""
    text = draw(st.sampled_from(keys))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text) - 1))
        new = draw(KEY_CHARACTERS)
        text = draw(
            st.sampled_from(
                [
                    text[:at] + text[at + 1 : at + 2] + text[at] + text[at + 2 :],
                    text[:at] + new + text[at + 1 :],
                    text[:at] + new + text[at:],
                    text[:at] + text[at + 1 :] or text,
                ]
            )
        )
    return text


@settings(max_examples=40, deadline=None)
@given(st.lists(KEYS, min_size=100, max_size=400, unique=True), st.data())
def test_the_search_for_misread_keys_finds_every_key_within_the_edits(keys, data):
    # Against a scan of every key: the nearest MAX_PRICED within two edits (optimal string
    # alignment: a swap of neighbours is one), ties in the keys' order.
    index = MatchIndex([Target(n, "marking", text) for n, text in enumerate(keys)])
    query = data.draw(misread(keys))
    every_key = list(index.keys)
    scanned = process.extract(query, every_key, scorer=OSA.distance, score_cutoff=2, limit=None)
    nearest = [p for _, distance, p in sorted(scanned, key=lambda f: (f[1], f[2])) if distance]
    found = _within(query, index._key_segments, index.keys, 2, index._key_fingerprints)
    assert found == nearest[:MAX_PRICED]


@settings(max_examples=40, deadline=None)
@given(st.lists(KEYS, min_size=100, max_size=400, unique=True), st.data())
def test_the_search_for_misread_shapes_finds_every_shape_one_edit_away(keys, data):
    # One arbitrary edit is searched among shape keys, narrowed by their fingerprints: none
    # within the edit may be dropped (against a scan of every shape key).
    index = MatchIndex([Target(n, "marking", text) for n, text in enumerate(keys)])
    query = shape_key(data.draw(misread(keys)))
    every_shape = list(index.shapes)
    scanned = process.extract(query, every_shape, scorer=OSA.distance, score_cutoff=1, limit=None)
    nearest = [p for _, distance, p in sorted(scanned, key=lambda f: (f[1], f[2])) if distance]
    found = _within(query, index._shape_segments, index.shapes, 1, index._shape_fingerprints)
    assert found == nearest[:MAX_PRICED]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=-3, max_value=40), max_size=60))
def test_values_counted_by_sorting_are_those_numpy_counts(values):
    found, counts = distinct_counts(np.array(values, dtype=np.int64))
    expected, expected_counts = np.unique(np.array(values, dtype=np.int64), return_counts=True)
    assert found.tolist() == expected.tolist()
    assert counts.tolist() == expected_counts.tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, (1 << 42) - 1), st.sampled_from([0, 1, 7, 1 << 21, 1 << 30])),
        max_size=40,
    )
)
def test_postings_are_each_bigram_and_key_once_in_order_of_both(pairs):
    """Packed in one number where the keys' numbers leave room, by two sorts where not
    (keys numbered past 2**21)."""
    grams = np.array([gram for gram, _ in pairs], dtype=np.int64)
    owners = np.array([owner for _, owner in pairs], dtype=np.int32)
    found_grams, found_owners = _distinct_postings(grams, owners)
    assert list(zip(found_grams.tolist(), found_owners.tolist(), strict=True)) == sorted(set(pairs))
    assert found_owners.dtype == np.int32


@given(TEXTS)
def test_a_separated_key_is_the_key_with_dashes_where_the_text_had_separators(text):
    for reading in readings(text):
        separated = separated_key(text, reading.key)
        if separated is not None:
            assert separated.replace("-", "") == reading.key
            assert not separated.startswith("-")
            assert not separated.endswith("-")
            assert "--" not in separated
