"""POST /v1/match/batch and `weaponsdb match --file`: many queries, answered in order, a bad
one reported without failing the others."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.test_cli_keys import weaponsdb
from weaponsdb.matching.batch import SPREAD_FROM

QUERIES = [
    {"id": "item-1", "markings": ["Bang-122"]},
    {"id": "item-2", "markings": ["F-7"], "calibre_mm": 40},
    {"id": "item-3", "markings": ["???"]},
    {"id": "item-4", "markings": ["58式"], "limit": 1},
    {"markings": ["F-7"]},
    "not a query",
]


def batch(client, queries, **headers):
    return client.post("/v1/match/batch", json={"queries": queries}, headers=headers)


def test_a_batch_is_answered_in_order_each_as_a_single_match_would_be(seeded_client):
    answer = batch(seeded_client, QUERIES)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["index"] for r in results] == list(range(len(QUERIES)))
    assert [r["id"] for r in results] == ["item-1", "item-2", "item-3", "item-4", None, None]
    single = seeded_client.post("/v1/match", json={"markings": ["F-7"], "calibre_mm": 40})
    assert results[1]["candidates"] == single.json()["candidates"]
    assert results[0]["candidates"][0]["slug"] == "bang-122"
    assert len(results[3]["candidates"]) == 1
    assert answer.json()["catalogue_generation"] == single.json()["catalogue_generation"]
    assert answer.headers["X-Catalogue-Generation"] == str(answer.json()["catalogue_generation"])


def test_each_bad_query_gets_its_own_problem_naming_its_fields(seeded_client):
    results = batch(seeded_client, QUERIES).json()["results"]
    illegible, unnamed, not_an_object = results[2], results[4], results[5]
    assert illegible["candidates"] is None
    assert illegible["problem"]["status"] == 422
    assert [e["field"] for e in illegible["problem"]["errors"]] == ["queries[2].markings[0]"]
    assert "illegible" in illegible["problem"]["errors"][0]["reason"]
    assert [e["field"] for e in unnamed["problem"]["errors"]] == ["queries[4].id"]
    assert [e["field"] for e in not_an_object["problem"]["errors"]] == ["queries[5]"]
    assert all(r["problem"] is None for r in results[:2])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"queries": []}, "queries"),
        ({"queries": [{"id": "x", "markings": ["F-7"]}] * 1001}, "queries"),
        ({}, "queries"),
    ],
)
def test_a_batch_that_is_not_one_is_refused_whole(seeded_client, body, field):
    answer = seeded_client.post("/v1/match/batch", json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_asked_for_ndjson_the_answers_stream_one_a_line(seeded_client):
    answer = batch(seeded_client, QUERIES, accept="application/x-ndjson")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert lines == batch(seeded_client, QUERIES).json()["results"]


def test_a_long_batch_answered_by_several_processes_is_answered_as_by_one(settings, engine, seeded):
    """Past SPREAD_FROM queries a batch is shared among forked processes: the same answers,
    in the same order, bad queries reported where they stand, streamed or not."""
    long = [
        dict(q, id=f"{n}") if isinstance(q, dict) and "id" in q else q
        for n, q in enumerate(QUERIES * 30)
    ]
    assert len(long) >= SPREAD_FROM
    answers = {}
    for processes in (1, 2):
        spread = settings.model_copy(update={"match_batch_processes": processes})
        with TestClient(create_app(spread, engine)) as client:
            whole = batch(client, long).json()
            streamed = batch(client, long, accept="application/x-ndjson").text
        answers[processes] = whole, [json.loads(line) for line in streamed.splitlines()]
    assert answers[2] == answers[1]
    whole, streamed = answers[2]
    assert streamed == whole["results"]
    assert [r["index"] for r in streamed] == list(range(len(long)))
    assert [r["id"] for r in streamed[:6]] == ["0", "1", "2", "3", None, None]
    assert streamed[6 * 29 + 2]["problem"]["errors"][0]["field"] == "queries[176].markings[0]"
    assert streamed[6 * 29]["candidates"][0]["slug"] == "bang-122"


def test_batches_are_rate_limited_by_their_queries(settings, engine, seeded):
    strict = settings.model_copy(update={"match_batch_rate_limit": "5/minute"})
    with TestClient(create_app(strict, engine)) as client:
        assert batch(client, QUERIES[:3]).status_code == 200
        refused = batch(client, QUERIES[:3])  # 6 queries in a minute
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        assert batch(client, QUERIES[:2]).status_code == 200  # 5: still within


def test_the_batch_endpoint_is_documented(seeded_client):
    operation = seeded_client.get("/openapi.json").json()["paths"]["/v1/match/batch"]["post"]
    assert "application/x-ndjson" in operation["responses"]["200"]["content"]
    assert "429" in operation["responses"]
    assert "422" in operation["responses"]


def test_the_command_line_matches_a_jsonl_file_in_order(database_url, seeded, tmp_path):
    path = tmp_path / "queries.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in QUERIES[:4]) + "\n")
    answers = tmp_path / "answers.jsonl"
    run = weaponsdb(database_url, "match", "--file", str(path), "--output", str(answers))
    assert run.returncode == 1  # one query was refused, after all were answered
    assert "4 queries: 3 matched, 1 refused" in run.stderr
    lines = [json.loads(line) for line in answers.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["item-1", "item-2", "item-3", "item-4"]
    assert lines[0]["candidates"][0]["slug"] == "bang-122"
    assert lines[2]["problem"]["errors"][0]["field"] == "queries[2].markings[0]"


def test_the_command_line_matches_a_long_file_in_order(database_url, seeded, tmp_path):
    """Long enough to be shared among processes (one a core), answered as a short one is."""
    named: list[dict[str, Any]] = [q for q in QUERIES[:4] if isinstance(q, dict)]
    long = [dict(q, id=f"{n}-{q['id']}") for n, q in enumerate(named * 25)]
    path = tmp_path / "queries.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in long) + "\n")
    run = weaponsdb(database_url, "match", "--file", str(path))
    assert run.returncode == 1
    assert "100 queries: 75 matched, 25 refused" in run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["id"] for line in lines] == [q["id"] for q in long]
    assert {line["candidates"][0]["slug"] for line in lines[::4]} == {"bang-122"}
    assert {line["problem"]["errors"][0]["field"] for line in lines[2::4]} == {
        f"queries[{n}].markings[0]" for n in range(2, 100, 4)
    }


def test_the_command_line_matches_a_csv_file(database_url, seeded, tmp_path):
    path = tmp_path / "queries.csv"
    path.write_text("id,markings,country\nbox-7,F-7|Bang-122,\nbox-8,58式,KP\n")
    run = weaponsdb(database_url, "match", "--file", str(path))
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["box-7", "box-8"]
    assert {c["slug"] for c in lines[0]["candidates"][:2]} == {"f-7", "bang-122"}
    assert lines[1]["candidates"][0]["slug"] == "type-58"


def test_the_command_line_reads_a_csv_saved_by_a_spreadsheet(database_url, seeded, tmp_path):
    # Excel's "CSV UTF-8": a byte order mark before the header, lines ending in CR LF.
    path = tmp_path / "inventory.csv"
    path.write_bytes("id,markings\r\nbox-7,방-122\r\nbox-8,F-7\r\n".encode("utf-8-sig"))
    run = weaponsdb(database_url, "match", "--file", str(path))
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["box-7", "box-8"]
    assert [line["candidates"][0]["slug"] for line in lines] == ["bang-122", "f-7"]


def test_the_command_line_refuses_a_file_it_cannot_read_as_queries(database_url, tmp_path):
    path = tmp_path / "queries.txt"
    path.write_text("F-7\n")
    run = weaponsdb(database_url, "match", "--file", str(path))
    assert run.returncode == 1
    assert ".jsonl or .csv" in run.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "markings": ["F-7"]}\n{not json\n')
    run = weaponsdb(database_url, "match", "--file", str(broken))
    assert run.returncode == 1
    assert "Line 2 is not JSON" in run.stderr
