"""POST /v1/match against the seed catalogue: observed markings as investigators read them.

Each case is what someone might type after reading a photo, and the entry and kind of match
they should get first. Entries added here are synthetic test data, named as such.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from tests.factories import headers, issue_key, synthetic_entry
from weaponsdb import db, models
from weaponsdb.matching.catalogue_index import CatalogueIndex
from weaponsdb.matching.index import MatchIndex, Target
from weaponsdb.matching.matcher import SUGGESTED, Matcher, MatchQuery
from weaponsdb.matching.normalise import revised_romanization
from weaponsdb.matching.searching import best_per_entry

PROBLEM = "application/problem+json"

# (observed markings, expected first entry, expected kind of match of the first marking)
CASES = [
    # as written, and case, spacing and punctuation variants
    (["Bang-122"], "bang-122", "exact"),
    (["BANG-122"], "bang-122", "normalised"),
    (["bang 122"], "bang-122", "normalised"),
    (["Bang122"], "bang-122", "normalised"),
    (["Bang–122"], "bang-122", "normalised"),  # en dash
    (["Bang.122"], "bang-122", "normalised"),
    (["F-7"], "f-7", "exact"),
    (["f7"], "f-7", "normalised"),
    (["Type 58"], "type-58", "exact"),
    (["TYPE-58"], "type-58", "normalised"),
    # full-width and Arabic-Indic digits
    (["Ｂａｎｇ－１２２"], "bang-122", "normalised"),
    (["Bang-١٢٢"], "bang-122", "normalised"),
    (["Type ٥٨"], "type-58", "normalised"),
    (["F-۷"], "f-7", "normalised"),  # Extended Arabic-Indic seven
    # Hangul, Chinese, Korean and Russian type designators
    (["방-122"], "bang-122", "transliterated"),
    (["방 122"], "bang-122", "transliterated"),
    (["58式"], "type-58", "normalised"),
    (["58식"], "type-58", "normalised"),
    (["Тип 58"], "type-58", "normalised"),
    (["58 式"], "type-58", "normalised"),
    (["五八式"], "type-58", "normalised"),  # the number in Chinese numerals, digit by digit
    # look-alike letters from another alphabet, and transliteration of Cyrillic
    (["Вang-122"], "bang-122", "look-alike letters"),  # Cyrillic Ve
    (["ВАNG-122"], "bang-122", "look-alike letters"),  # Cyrillic Ve and A
    (["Ф-7"], "f-7", "transliterated"),
    # OCR and reading errors
    (["8ang-122"], "bang-122", "OCR confusion"),
    (["Bang-l22"], "bang-122", "OCR confusion"),
    (["BANG-I22"], "bang-122", "OCR confusion"),
    (["Bang-1ZZ"], "bang-122", "OCR confusion"),
    (["Type 5B"], "type-58", "OCR confusion"),
    (["Bng-122"], "bang-122", "fuzzy"),  # a dropped character
    (["Baang-122"], "bang-122", "fuzzy"),  # an extra character
    (["Bamg-122"], "bang-122", "fuzzy"),  # a wrong character
    (["Tyep 58"], "type-58", "fuzzy"),  # two characters swapped: one edit
    # illegible parts
    (["B?ng-1*"], "bang-122", "wildcard"),
    (["Bang-???"], "bang-122", "wildcard"),
    (["*-122"], "bang-122", "wildcard"),
    (["Ty?e 5?"], "type-58", "wildcard"),
    (["방-1?2"], "bang-122", "wildcard"),
]


def match(client, **query):
    response = client.post("/v1/match", json=query)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("observed", "slug", "how"), CASES, ids=[c[0][0] for c in CASES])
def test_observed_marking_finds_its_entry_first(seeded_client, observed, slug, how):
    answer = match(seeded_client, markings=observed)
    first = answer["candidates"][0]
    assert first["slug"] == slug
    assert first["rank"] == 1
    assert first["url"].endswith(f"/v1/entries/{slug}")
    assert first["matches"][0]["observed"] == observed[0].strip()
    assert first["matches"][0]["how"] == how
    assert first["matches"][0]["detail"]
    assert 0 < first["score"] <= 1
    scores = [c["score"] for c in answer["candidates"]]
    assert scores == sorted(scores, reverse=True)


def test_explanations_say_which_marking_matched_what_and_how(seeded_client):
    first = match(seeded_client, markings=["방-122"])["candidates"][0]
    assert first["matches"] == [
        {
            "observed": "방-122",
            "matched": "Bang-122",
            "matched_kind": "marking",
            "how": "transliterated",
            "detail": "Hangul read in Revised Romanization as 'bang-122'",
            "edits": 0,
            "score": 0.93,
        }
    ]
    fuzzy = match(seeded_client, markings=["Bng-122"])["candidates"][0]["matches"][0]
    assert fuzzy["edits"] == 1
    assert "1 edit" in fuzzy["detail"]


def test_exact_beats_normalised_beats_misread(seeded_client):
    firsts = [
        match(seeded_client, markings=[text])["candidates"][0]
        for text in ("Bang-122", "BANG 122", "방-122", "8ang-l22", "Bng-122", "B?ng-1*")
    ]
    scores = [first["score"] for first in firsts]
    assert scores == sorted(scores, reverse=True)
    # The entry's probability is near certain for all three; how well the marking fits
    # the text says which was read as written.
    fits = [first["matches"][0]["score"] for first in firsts[:3]]
    assert fits == sorted(fits, reverse=True)
    assert len(set(fits)) == 3


def test_several_markings_on_one_item_combine(seeded_client):
    alone = match(seeded_client, markings=["Bng-122"])["candidates"][0]
    together = match(seeded_client, markings=["Bng-122", "방-122"])["candidates"][0]
    assert together["slug"] == "bang-122"
    assert together["score"] > alone["score"]
    assert [m["observed"] for m in together["matches"]] == ["Bng-122", "방-122"]
    assert together["unmatched"] == []


def test_markings_of_different_entries_rank_both_and_say_what_is_unexplained(seeded_client):
    candidates = match(seeded_client, markings=["Bang-122", "F-7"])["candidates"]
    assert {c["slug"] for c in candidates[:2]} == {"bang-122", "f-7"}
    by_slug = {c["slug"]: c for c in candidates}
    assert by_slug["bang-122"]["unmatched"] == ["F-7"]
    assert by_slug["f-7"]["unmatched"] == ["Bang-122"]


def test_evidence_raises_and_lowers_with_reasons(seeded_client):
    plain = match(seeded_client, markings=["Bang-12?"])["candidates"][0]
    agreeing = match(seeded_client, markings=["Bang-12?"], calibre_mm=122, country="KP")
    first = agreeing["candidates"][0]
    assert first["score"] > plain["score"]
    assert {(e["field"], e["effect"]) for e in first["evidence"]} == {
        ("calibre_mm", "raised"),
        ("country", "raised"),
    }
    disagreeing = match(seeded_client, markings=["Bang-12?"], calibre_mm=7.62, category="rifle")
    lowered = disagreeing["candidates"][0]
    assert lowered["score"] < plain["score"]
    assert {(e["field"], e["effect"]) for e in lowered["evidence"]} == {
        ("calibre_mm", "lowered"),
        ("category", "lowered"),
    }
    assert any("7.62 mm seen; the catalogue has 122 mm" in e["reason"] for e in lowered["evidence"])


def test_evidence_the_catalogue_cannot_judge_is_neutral(seeded_client):
    first = match(seeded_client, markings=["F-7"], calibre_mm=40)["candidates"][0]
    assert first["evidence"] == [
        {
            "field": "calibre_mm",
            "effect": "neutral",
            "reason": "the catalogue gives no calibre for this entry",
        }
    ]


def test_category_decides_between_equally_good_markings(seeded_client):
    candidates = match(seeded_client, markings=["Type 58", "F-7"], category="rifle")["candidates"]
    assert [c["slug"] for c in candidates[:2]] == ["type-58", "f-7"]


def test_nothing_matching_is_an_empty_list_not_an_error(seeded_client):
    answer = match(seeded_client, markings=["Q-999 ZZTOP"])
    assert answer["candidates"] == []
    assert answer["indexed_texts"] > 0


@pytest.mark.parametrize("marking", ["않-122", "방-122 많", "볞1"])
def test_hangul_ending_in_nh_before_other_characters_is_matched(seeded_client, marking):
    # A final ㄶ before a digit or hyphen once failed inside the romaniser with a 500.
    response = seeded_client.post("/v1/match", json={"markings": [marking]})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"markings": []}, "markings"),
        ({}, "markings"),
        ({"markings": ["***"]}, "markings[0]"),
        ({"markings": ["?", "*"]}, "markings[0]"),
        ({"markings": ["F-7", "  "]}, "markings[1]"),
        ({"markings": ["—/—"]}, "markings[0]"),
        ({"markings": ["F-7"] * 21}, "markings"),
        ({"markings": ["B" * 201]}, "markings[0]"),
        ({"markings": ["F-7\x00"]}, "markings[0]"),
        ({"markings": "F-7"}, "markings"),
        ({"markings": ["F-7"], "limit": 0}, "limit"),
        ({"markings": ["F-7"], "limit": 51}, "limit"),
        ({"markings": ["F-7"], "calibre_mm": -1}, "calibre_mm"),
        ({"markings": ["F-7"], "country": "XX"}, "country"),
        ({"markings": ["F-7"], "category": "spaceship"}, "category"),
        ({"markings": ["F-7"], "colour": "green"}, "colour"),
    ],
)
def test_unmatchable_queries_are_refused_naming_the_field(seeded_client, body, field):
    response = seeded_client.post("/v1/match", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in [error["field"] for error in response.json()["errors"]]


def test_a_body_that_is_not_json_is_refused(seeded_client):
    response = seeded_client.post(
        "/v1/match", content=b"markings=F-7", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_marking_search_in_the_entry_list_uses_the_matcher(seeded_client):
    for observed in ("방-122", "8ang-l22", "B?ng-1*", "Bang"):
        listed = seeded_client.get("/v1/entries", params={"marking": observed}).json()
        assert [e["slug"] for e in listed["items"]] == ["bang-122"], observed
    nothing = seeded_client.get("/v1/entries", params={"marking": "***"}).json()
    assert nothing["items"] == []


def add_entry(client, key, slug, *markings):
    body = synthetic_entry(slug, category="rocket", status="published", markings=list(markings))
    response = client.post("/v1/entries", json=body, headers=headers(key))
    assert response.status_code == 201, response.text


def test_a_lot_number_that_differs_still_fits_the_markings_pattern(seeded_client, seeded):
    key = issue_key(seeded, "tester")
    marking = {"text": "SYN-9 LOT 0417", "pattern": "SYN-9 LOT {lot}", "kind": "lot or batch"}
    add_entry(seeded_client, key, "synthetic-lot-rocket", marking)
    first = match(seeded_client, markings=["SYN-9 LOT 2231"])["candidates"][0]
    assert first["slug"] == "synthetic-lot-rocket"
    assert first["matches"][0]["how"] == "pattern"
    assert "SYN-9 LOT {lot}" in first["matches"][0]["detail"]


def test_hangul_in_mccune_reischauer_meets_its_revised_romanization(seeded_client, seeded):
    key = issue_key(seeded, "tester")
    add_entry(seeded_client, key, "synthetic-mr-rocket", {"text": "Pang-9", "script": "Latn"})
    first = match(seeded_client, markings=["방-9"])["candidates"][0]
    assert first["slug"] == "synthetic-mr-rocket"
    assert "McCune" in first["matches"][0]["detail"]


def test_every_final_holding_h_romanises_before_every_initial():
    """korean-romanizer raised KeyError for ㄶ, ㅀ or ㅎ before some initials (뷿미, 않마):
    a catalogue text like that would have stopped the index build."""
    finals_with_h = (6, 15, 27)  # ㄶ ㅀ ㅎ
    for final in finals_with_h:
        syllable = chr(0xAC00 + final)  # 갆, 갏, 갛
        for initial in range(19):
            following = chr(0xAC00 + initial * 21 * 28)  # 가, 까, 나, ...
            romanised = revised_romanization(syllable + following)
            assert romanised.isascii(), syllable + following
            assert romanised.isalpha(), syllable + following
    assert revised_romanization("않마") == "anma"
    assert revised_romanization("좋아") == "joa"


def test_a_text_the_romanizer_once_refused_is_indexed_and_found():
    index = MatchIndex([Target(1, "marking", "뷿미-7"), Target(2, "marking", "F-7")])
    assert 1 in best_per_entry(index, "뷿미-7")


def test_equal_matches_break_ties_by_slug_every_time(seeded_client, seeded):
    key = issue_key(seeded, "tester")
    for slug in ("synthetic-tie-c", "synthetic-tie-a", "synthetic-tie-b"):
        add_entry(seeded_client, key, slug, {"text": "TIE-7"})
    for _ in range(3):
        candidates = match(seeded_client, markings=["TIE-7"])["candidates"]
        assert [c["slug"] for c in candidates] == [
            "synthetic-tie-a",
            "synthetic-tie-b",
            "synthetic-tie-c",
        ]
        assert len({c["score"] for c in candidates}) == 1


def test_edits_are_matchable_at_once_and_drafts_and_retractions_are_not(
    seeded_client, seeded, admin
):
    key = issue_key(seeded, "tester")
    assert match(seeded_client, markings=["NEW-55"])["candidates"] == []
    add_entry(seeded_client, key, "synthetic-new-rocket", {"text": "NEW-55"})
    assert match(seeded_client, markings=["NEW-55"])["candidates"][0]["slug"] == (
        "synthetic-new-rocket"
    )
    draft = synthetic_entry(
        "synthetic-draft", category="rocket", status="draft", markings=[{"text": "DRAFT-66"}]
    )
    assert seeded_client.post("/v1/entries", json=draft, headers=headers(key)).status_code == 201
    assert match(seeded_client, markings=["DRAFT-66"])["candidates"] == []
    retracted = seeded_client.post(
        "/v1/entries/synthetic-new-rocket/retraction",
        json={"reason": "Synthetic test entry withdrawn by the test."},
        headers=headers(admin, 1),
    )
    assert retracted.status_code == 200, retracted.text
    assert match(seeded_client, markings=["NEW-55"])["candidates"] == []


def test_the_endpoint_is_documented_with_examples(seeded_client):
    operation = seeded_client.get("/openapi.json").json()["paths"]["/v1/match"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert {"hangul", "illegible", "several"} <= set(examples)
    for example in examples.values():
        assert seeded_client.post("/v1/match", json=example["value"]).status_code == 200


def test_a_changed_marking_stops_matching_its_old_text(seeded_client, seeded):
    key = issue_key(seeded, "tester")
    add_entry(seeded_client, key, "synthetic-renamed-rocket", {"text": "OLD-4711"})
    assert match(seeded_client, markings=["OLD-4711"])["candidates"][0]["slug"] == (
        "synthetic-renamed-rocket"
    )
    changed = seeded_client.put(
        "/v1/entries/synthetic-renamed-rocket/markings/0",
        json={"text": "NEW-4711"},
        headers=headers(key, 1),
    )
    assert changed.status_code == 200, changed.text
    # Nothing within the budget: the renamed entry is at most a suggestion, three letters off.
    old = match(seeded_client, markings=["OLD-4711"])
    assert old["confident"] is False
    assert all("a suggestion only" in c["matches"][0]["detail"] for c in old["candidates"])
    assert match(seeded_client, markings=["NEW-4711"])["candidates"][0]["slug"] == (
        "synthetic-renamed-rocket"
    )


def test_every_process_sees_writes_made_any_way(seeded):
    """Two matchers (two service processes) over one database; the write is plain SQL."""
    first, second = Matcher(), Matcher()
    query = MatchQuery(markings=["Bang-122"])
    with seeded() as session:
        assert first.match(session, query).candidates[0].entry.slug == "bang-122"
        assert second.match(session, query).candidates[0].entry.slug == "bang-122"
    with db.transaction(seeded) as session:
        session.execute(
            update(models.Marking)
            .where(models.Marking.text == "Bang-122")
            .values(text="Synthetic-999")
        )
    with seeded() as session:
        for matcher in (first, second):
            assert matcher.match(session, query).candidates == []
            moved = matcher.match(session, MatchQuery(markings=["Synthetic-999"]))
            assert moved.candidates[0].entry.slug == "bang-122"


def test_facts_for_ranking_follow_features_written_any_way(seeded):
    """Ranking uses each entry's facts as of the index's generation, not a read per match:
    a feature added by plain SQL (no change to the entry's row) counts from the next query."""
    matcher = Matcher()
    query = MatchQuery(markings=["Bang-122"], features=["synthetic yellow band"])
    with seeded() as session:
        before = matcher.match(session, query).candidates[0]
        entry_id = before.entry.id
    assert [e.effect for e in before.evidence if e.field == "features"] == ["neutral"]
    with db.transaction(seeded) as session:
        session.add(
            models.Feature(entry_id=entry_id, kind="colour", description="synthetic yellow band")
        )
    with seeded() as session:
        after = matcher.match(session, query).candidates[0]
    assert [e.effect for e in after.evidence if e.field == "features"] == ["raised"]


def test_past_the_overlay_limit_the_index_is_rebuilt_in_the_background(seeded):
    """Changes beyond the overlay's limit are still matched at once, from the overlay; the
    whole index is rebuilt beside it, never inside a match."""
    matcher = Matcher(overlay_limit=2)
    with seeded() as session:
        built = matcher.index(session)
    add_synthetic_markings(seeded, ["OVER-1", "OVER-2", "OVER-3"])
    with seeded() as session:
        index = matcher.index(session)  # what the next match is answered from
    assert index.base_generation == built.base_generation  # the overlay, not a rebuild
    assert len(index.changed) == 3
    found = matcher.match_in(index, MatchQuery(markings=["OVER-3"]))
    assert found.candidates[0].entry.slug == "synthetic-over-3"
    deadline = time.monotonic() + 30
    while (now := matcher.index_now()) is None or now.base_generation == built.base_generation:
        assert time.monotonic() < deadline, "the index was not rebuilt"
        time.sleep(0.05)
    with seeded() as session:
        rebuilt = matcher.index(session)
        assert matcher.match(session, MatchQuery(markings=["OVER-1"])).candidates
    assert rebuilt.changed == frozenset()


def add_synthetic_markings(sessions, markings):
    with db.transaction(sessions) as session:
        for text in markings:
            slug = f"synthetic-{text.lower()}"
            session.add(
                models.Entry(
                    slug=slug,
                    name=f"Synthetic {slug} (test data)",
                    status="published",
                    markings=[models.Marking(text=text)],
                )
            )


def test_a_designation_one_digit_apart_may_be_a_variant_the_catalogue_lacks(seeded_client):
    # Type 56 is no misreading of Type 58 more than it is a rifle the catalogue lacks: the
    # entry is still offered first, and the answer is no confident match.
    answer = match(seeded_client, markings=["Type 56"])
    first = answer["candidates"][0]
    assert first["slug"] == "type-58"
    assert not answer["confident"]
    assert first["score"] < 0.6
    detail = first["matches"][0]["detail"]
    assert "'6' taken as '8' (misread, or a variant not in the catalogue)" in detail
    # What the entry does not get is the variant's: the answer says how likely it is.
    assert 0.3 < first["lacked_variant_score"] < 0.7
    assert first["score"] + first["lacked_variant_score"] <= 1
    exact = match(seeded_client, markings=["Type 58"])["candidates"][0]
    assert exact["lacked_variant_score"] == 0


@pytest.mark.parametrize(
    ("observed", "slug"),
    [
        ("Type 5B", "type-58"),  # B for 8: a likely misreading, and no variant's number
        ("Bxng-122", "bang-122"),  # a letter of a word: words name a family, not a variant
    ],
)
def test_a_misreading_no_variant_could_be_stays_a_confident_match(seeded_client, observed, slug):
    answer = match(seeded_client, markings=[observed])
    assert answer["confident"]
    first = answer["candidates"][0]
    assert first["slug"] == slug
    assert "variant" not in first["matches"][0]["detail"]
    assert first["lacked_variant_score"] < 0.01


def test_an_index_with_an_overlay_answers_as_the_catalogue_indexed_whole():
    """Entries changed since the base was built are searched in the overlay, and the two are
    searched as one catalogue: what a step of the search tries depends on what was found so
    far (spans, parts of a marking, suggestions when few entries were hit), so searching
    them apart answered otherwise than the whole catalogue would, with suggestions from the
    overlay beside an exact hit in the base. Synthetic designations (test data)."""
    before = {1: "KRT-1234", 2: "KRT-1239", 3: "QV-110", 4: "ZB-5520", 5: "OLD-99"}
    now = {**before, 5: "QV-11077"}  # entry 5 changed since the base was built
    base = MatchIndex([Target(n, "marking", text) for n, text in before.items()])
    overlay = MatchIndex([Target(5, "marking", now[5])])
    layered = CatalogueIndex(2, base, 1, overlay, frozenset({5}), {}, {})
    whole = MatchIndex([Target(n, "marking", text) for n, text in now.items()])
    queries = [*now.values(), "KRT-1284", "KRX-12", "QV-11O", "ZB-552", "OLD-99", "K?T-1234"]
    for query in queries:
        assert layered.best_per_entry(query, SUGGESTED) == best_per_entry(
            whole, query, SUGGESTED
        ), query
