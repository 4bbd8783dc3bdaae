"""Rate-limit counts shared by processes through one file (api/rate_counts.py)."""

from __future__ import annotations

import multiprocessing

from api.rate_counts import SharedCounts

LIMIT = 40


def _hits(path: str, tries: int, results: multiprocessing.Queue[int]) -> None:
    counts = SharedCounts(path)  # type: ignore[arg-type]
    allowed = sum(counts.hit("/v1/match 192.0.2.1", LIMIT, 60).allowed for _ in range(tries))
    counts.close()
    results.put(allowed)


def test_two_processes_on_one_file_are_allowed_the_limit_between_them(tmp_path):
    path = str(tmp_path / "counts")
    spawn = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = spawn.Queue()
    workers = [spawn.Process(target=_hits, args=(path, 50, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    allowed = [results.get(timeout=5) for _ in workers]
    assert sum(allowed) == LIMIT  # 100 tries between them, 40 allowed: not 40 each


def test_a_refused_hit_says_how_long_to_wait_and_counts_nothing(tmp_path):
    counts = SharedCounts(tmp_path / "counts")
    assert all(counts.hit("a", 3, 60).allowed for _ in range(3))
    refused = counts.hit("a", 3, 60)
    assert not refused.allowed
    assert 1 <= refused.retry_after <= 120
    assert counts.hit("b", 3, 60).allowed  # another client, or another path


def test_costs_count_several_items_at_once(tmp_path):
    counts = SharedCounts(tmp_path / "counts")
    assert counts.hit("batch", 10, 60, cost=7).allowed
    assert not counts.hit("batch", 10, 60, cost=4).allowed
    assert counts.hit("batch", 10, 60, cost=3).allowed


def test_without_a_file_each_counter_is_its_own():
    first, second = SharedCounts(), SharedCounts()
    assert first.hit("a", 1, 60).allowed
    assert second.hit("a", 1, 60).allowed
    assert not first.hit("a", 1, 60).allowed
