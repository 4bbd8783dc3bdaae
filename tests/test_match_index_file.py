"""The match index saved to a file: answers as built, caught up with later changes on load,
and, while a missing one is built, matches answered from the database."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import numpy as np
import pytest

from benchmarks.synthetic import perturbed_queries, synthetic_markings
from tests.test_matching import add_synthetic_markings
from weaponsdb.matching import construct, saved, tables
from weaponsdb.matching.catalogue_index import caught_up
from weaponsdb.matching.index import MatchIndex, Target
from weaponsdb.matching.matcher import Matcher, MatchQuery
from weaponsdb.matching.searching import best_per_entry


def test_a_saved_index_answers_as_the_index_it_was_saved_from(tmp_path):
    """On a generated catalogue (synthetic markings, names beside them), every perturbed
    query gets the same hits, costs and explanations from the mapped file."""
    rng = random.Random(15)
    markings = synthetic_markings(600, rng)
    targets = [Target(m.entry_id, "marking", m.text, m.pattern) for m in markings]
    targets += [Target(m.entry_id, "designation", m.text.split(" ")[0]) for m in markings[:60]]
    targets += [Target(9999, "marking", "방-122"), Target(9998, "marking", "58式")]
    built = MatchIndex(targets)
    path = tmp_path / "catalogue.index"
    tables.save(path, built.arrays(), {"generation": 1})
    loaded = MatchIndex.from_arrays(tables.load(path)[0])
    queries = [q.text for q in perturbed_queries(markings, 150, rng)]
    queries += ["Вang-122", "B?ng-1*", "58 shiki", "ie 방-122"]
    for query in queries:
        assert best_per_entry(loaded, query) == best_per_entry(built, query), query
    assert list(loaded.targets) == targets


def test_an_entry_committed_after_the_file_was_written_is_matched_after_a_restart(seeded, tmp_path):
    path = tmp_path / "catalogue.index"
    first = Matcher(index_file=path)
    with seeded() as session:
        assert first.match(session, MatchQuery(markings=["Bang-122"])).candidates
    written = tables.header(path)["meta"]["generation"]
    add_synthetic_markings(seeded, ["AFTER-FILE-3"])
    restarted = Matcher(index_file=path)
    with seeded() as session:
        result = restarted.match(session, MatchQuery(markings=["AFTER-FILE-3"]))
        index = restarted.index(session)
    assert result.candidates[0].entry.slug == "synthetic-after-file-3"
    assert result.index_state == "ready"
    assert index.base_generation == written  # loaded and caught up, not rebuilt
    assert index.generation > written
    assert len(index.changed) == 1


def test_a_file_written_by_other_rules_or_ahead_of_the_database_is_not_loaded(seeded, tmp_path):
    path = tmp_path / "catalogue.index"
    with seeded() as session:
        Matcher(index_file=path).index(session)
        arrays, meta = tables.load(path)
        tables.save(path, arrays, {**meta, "code": "other rules"})
        assert saved.load(session, path) is None
        tables.save(path, arrays, {**meta, "generation": meta["generation"] + 1})
        assert saved.load(session, path) is None
        # Another catalogue with a change log alike: its sampled entries' texts differ.
        tables.save(path, arrays, {**meta, "sample": dict.fromkeys(meta["sample"], "other")})
        other = saved.load(session, path)
        assert other is not None
        assert caught_up(session, other, meta["generation"]) is None
        index = Matcher(index_file=path).index(session)  # rebuilt, and saved again
        assert index.base_generation == meta["generation"]
        assert saved.load(session, path) is not None


@pytest.mark.parametrize("file", [True, False], ids=["index file", "no index file"])
def test_while_a_missing_index_is_built_matches_come_from_the_database(seeded, tmp_path, file):
    """Built by another process (into a private file without an index file), then mapped:
    the answers are those of an index built here."""
    path = tmp_path / "catalogue.index" if file else None
    matcher = Matcher(index_file=path, background_above=0)
    with seeded() as session:
        early = matcher.match(session, MatchQuery(markings=["Bang-122"]))
    assert early.index_state == "building"
    assert early.candidates[0].entry.slug == "bang-122"
    deadline = time.monotonic() + 60
    while matcher.index_now() is None:
        assert time.monotonic() < deadline, "the index was not built"
        time.sleep(0.05)
    assert matcher.state().startswith("ready")
    with seeded() as session:
        later = matcher.match(session, MatchQuery(markings=["Bamg-122"]))  # misread: index
        here = Matcher().match(session, MatchQuery(markings=["Bamg-122"]))
    assert later.index_state == "ready"
    assert later.candidates[0].entry.slug == "bang-122"
    assert later.candidates == here.candidates
    assert (tmp_path / "catalogue.index").exists() == file


def test_readings_computed_in_worker_processes_build_the_same_index(monkeypatch, caplog):
    rng = random.Random(16)
    targets = [
        Target(m.entry_id, "marking", m.text, m.pattern) for m in synthetic_markings(300, rng)
    ]
    targets += [Target(9999, "marking", "방-122"), Target(9998, "marking", "58式")]
    serial = MatchIndex(targets).arrays()
    monkeypatch.setattr(construct, "PARALLEL_ABOVE", 10)
    monkeypatch.setattr(construct, "READING_CHUNK", 50)
    parallel = MatchIndex(targets).arrays()
    assert "no worker processes" not in caplog.text  # they were used
    assert serial.keys() == parallel.keys()
    for name, array in serial.items():
        assert np.array_equal(array, parallel[name]), name


def test_index_build_saves_the_file_that_match_then_loads(seeded, database_url, tmp_path):
    path = tmp_path / "built.index"
    env = {**os.environ, "WEAPONSDB_DATABASE_URL": database_url, "COLUMNS": "200"}
    env["WEAPONSDB_INDEX_FILE"] = str(path)

    def weaponsdb(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "weaponsdb", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    built = weaponsdb("index", "build")
    assert built.returncode == 0, built.stderr
    meta, written = tables.header(path)["meta"], path.stat().st_mtime_ns
    assert f"{meta['targets']} markings and names indexed" in built.stdout
    assert str(path) in built.stdout
    matched = weaponsdb("match", "Bang-122")
    assert matched.returncode == 0, matched.stderr
    assert "bang-122" in matched.stdout
    assert path.stat().st_mtime_ns == written  # loaded, not rebuilt
    if database_url.startswith("postgresql"):
        del env["WEAPONSDB_INDEX_FILE"]
        refused = weaponsdb("index", "build")
        assert refused.returncode != 0
        assert "WEAPONSDB_INDEX_FILE" in refused.stderr
