"""When the search within the edit budget finds fewer than five entries, a match also lists
the nearest others as suggestions, found through the bigram index and priced by the error
model, so that a reading too damaged for the budget still shows its entry among five, and
never as a confident answer. Designations here are synthetic (test data, not real weapons).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.factories import headers, issue_key
from weaponsdb.matching.index import MatchIndex, Target
from weaponsdb.matching.matcher import SUGGESTED
from weaponsdb.matching.scoring import CONFIDENT_SCORE, Candidate, EntryFacts, Evidence, rank
from weaponsdb.matching.searching import best_per_entry

TEXTS = ["دزص-۲۸۰", "دزص-۲۸۱", "شف-۴۴۷", "KRT-1234", "KRT-1239", "KRX-1234", "Z-552"]
TEXTS += ["ZB-5520", "Z-55201", "XZ-5521"]  # two or three characters more than Z-552
TEXTS += [f"QV-{n}" for n in range(100, 120)]  # more near ones than a list holds


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    return MatchIndex([Target(n, "marking", text) for n, text in enumerate(TEXTS)])


def ranked(index: MatchIndex, observed: str, suggest: int = SUGGESTED) -> list[Candidate]:
    best = best_per_entry(index, observed, suggest)
    facts = {n: EntryFacts(n, f"synthetic-{n:02d}", TEXTS[n], None, None, None) for n in best}
    return rank([observed], {n: [m] for n, m in best.items()}, facts, Evidence(), 5)


def test_a_reading_beyond_the_budget_lists_its_entry_as_a_suggestion(index):
    # 'شف ۳۹۲' for شف-۴۴۷: a 4 read as 3, another as 9, the 7 as 2, in five legible
    # characters: more than the budget allows.
    assert not ranked(index, "شف ۳۹۲", suggest=0)
    found = ranked(index, "شف ۳۹۲")
    assert [c.entry.name for c in found][:1] == ["شف-۴۴۷"]
    assert found[0].score < 0.1
    assert "a suggestion only" in found[0].matches[0].detail
    assert "beyond the budget" in found[0].matches[0].detail


def test_a_reading_within_the_budget_that_the_search_missed_is_found_as_it_is(index):
    # Two likely misreadings and a third, within the budget of five characters, but more
    # than one arbitrary edit from every key of the index: found among the suggestions,
    # and priced, and explained, as any other misreading.
    assert not ranked(index, "شف ۳۳۲", suggest=0)
    found = ranked(index, "شف ۳۳۲")
    assert found[0].entry.name == "شف-۴۴۷"
    assert found[0].score < CONFIDENT_SCORE
    assert "suggestion" not in found[0].matches[0].detail
    assert "'3' taken as '4'" in found[0].matches[0].detail


def test_no_suggestions_beside_a_reading_as_near_as_one_arbitrary_misreading(index):
    # Z-552 as written: what a suggestion would add (ZB-5520, two characters more) ranks
    # below it anyway, so none is searched, and the answer costs no more than before.
    assert [c.entry.name for c in ranked(index, "Z-552")] == ["Z-552"]
    found = ranked(index, "Z-5S2")  # S for 5: a likely misreading
    assert [c.entry.name for c in found] == ["Z-552"]


def test_suggestions_fill_the_list_when_nothing_is_near(index):
    found = ranked(index, "XB-55201")  # two misread of eight: beyond the search's reach
    assert {c.entry.name for c in found} >= {"ZB-5520", "Z-55201"}
    assert len(found) <= 5
    assert found[0].score < CONFIDENT_SCORE


def test_texts_that_share_little_with_the_reading_are_no_suggestions(index):
    # KRT-1234 is in the catalogue, beside two siblings: the QV- texts share one bigram of
    # nine at most, and are not listed.
    assert [c.entry.name for c in ranked(index, "KRT-1234")] == ["KRT-1234", "KRT-1239", "KRX-1234"]


def test_no_suggestions_are_searched_when_the_budget_found_enough(index):
    within = best_per_entry(index, "QV-110", 0)
    assert len(within) >= SUGGESTED
    assert best_per_entry(index, "QV-110", SUGGESTED) == within


@pytest.mark.parametrize("observed", ["QZXW-71", "HKT-4408", "ZK-5", "ذزژ-9"])
def test_random_strings_get_suggestions_but_no_confident_answer(index, observed):
    found = ranked(index, observed)
    assert not found or found[0].score < CONFIDENT_SCORE


def test_a_match_lists_suggestions_but_a_filter_by_marking_does_not(seeded_client, seeded):
    key = issue_key(seeded, "tester")
    body = {
        "name": "Synthetic test rocket (test data, not a real weapon)",
        "category": "rocket",
        "status": "published",
        "slug": "synthetic-suggested",
        "markings": [{"text": "QXW-4471"}],
    }
    response = seeded_client.post("/v1/entries", json=body, headers=headers(key))
    assert response.status_code == 201, response.text
    answer = seeded_client.post("/v1/match", json={"markings": ["QZV-4771"]}).json()
    assert answer["confident"] is False
    first = answer["candidates"][0]
    assert first["slug"] == "synthetic-suggested"
    assert "a suggestion only" in first["matches"][0]["detail"]
    listed = seeded_client.get("/v1/entries", params={"marking": "QZV-4771"}).json()
    assert "synthetic-suggested" not in [e["slug"] for e in listed["items"]]


# Run in processes of their own, each with its own seed for Python's string hashing, as the
# service's worker processes are: suggestions were found through the query's rarest bigram
# lists, and lists of one length came in the order of a set of strings, which that seed
# decides, so two workers could suggest different entries for one query.
SUGGESTIONS_IN_A_PROCESS = """
import json, random
from weaponsdb.matching import index as module
from weaponsdb.matching.index import MatchIndex, Target
from weaponsdb.matching.searching import best_per_entry

module.SUGGESTION_POSTINGS = 40  # so that this small catalogue's lists are cut too
rng = random.Random(1)
query = "QKZ-4821"
texts = []
for kept in range(len(query) - 1):  # one pair of the query's characters kept, the rest not
    for _ in range(20):
        others = [rng.choice("ABCDEFGHJMNPRSTUVWXY0123567") for _ in query]
        others[kept : kept + 2] = query[kept : kept + 2]
        texts.append("".join(others))
index = MatchIndex([Target(n, "marking", text) for n, text in enumerate(texts)])
print(json.dumps(sorted(best_per_entry(index, query, 5))))
"""


def test_every_process_suggests_the_same_entries():
    answers = set()
    for seed in ("1", "2", "3", "4"):
        run = subprocess.run(
            [sys.executable, "-c", SUGGESTIONS_IN_A_PROCESS],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        answers.add(run.stdout)
    assert len(answers) == 1, answers
    assert json.loads(answers.pop())  # suggestions were made
