"""Smoke test of the benchmark path on a small generated export.

It runs the generator, the whole pipeline (read, validate, plan) and the
batcher on 2,000 synthetic viewings in each format, as `benchmarks/run.py`
does on large ones. It checks the plan's invariants and the POST count
against the lower bound. It makes no timing assertions.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from importer.batch import build_requests
from importer.pipeline import load_events, plan_prepared
from importer.plan.rules import (
    ACTIVE,
    CANONICAL,
    MAX_SESSIONS,
    MIN_GAP,
    REWATCH,
    UNKNOWN_DATE,
)
from importer.readers.base import ReadOptions

ROOT = Path(__file__).resolve().parents[1]
VIEWINGS = 2_000
BATCH_SIZE = 100
SUFFIXES = {"trakt": "json", "csv": "csv"}


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


generate = _load("benchmark_generate", ROOT / "benchmarks" / "generate.py")
bench = _load("benchmark_run", ROOT / "benchmarks" / "run.py")


@pytest.fixture(scope="module", params=sorted(SUFFIXES))
def planned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    fmt = request.param
    path = tmp_path_factory.mktemp(fmt) / f"export.{SUFFIXES[fmt]}"
    summary = generate.generate(fmt, VIEWINGS, seed=7, out=path)
    options = ReadOptions(timezone="UTC")
    prepared = load_events([path], read_options=options)
    plan = plan_prepared(prepared)
    requests = build_requests(plan.writes, BATCH_SIZE)
    return summary, prepared, plan, requests, path


def test_generator_same_seed_same_bytes(tmp_path: Path) -> None:
    for fmt, suffix in SUFFIXES.items():
        first = tmp_path / f"first.{suffix}"
        second = tmp_path / f"second.{suffix}"
        other = tmp_path / f"other.{suffix}"
        generate.generate(fmt, 1_500, seed=3, out=first)
        generate.generate(fmt, 1_500, seed=3, out=second)
        generate.generate(fmt, 1_500, seed=4, out=other)
        assert first.read_bytes() == second.read_bytes(), fmt
        assert first.read_bytes() != other.read_bytes(), fmt


def test_generator_writes_requested_count(tmp_path: Path) -> None:
    out = tmp_path / "history.json"
    summary = generate.generate("trakt", 1_234, seed=1, out=out)
    entries = pl.read_json(out)
    assert entries.height == 1_234
    assert summary.viewings == 1_234
    assert (
        summary.movie_viewings
        + summary.episode_viewings
        + (
            summary.duplicates_within_48h
            + summary.undated
            + summary.capped_item_viewings
        )
        == 1_234
    )


def test_generator_command_line(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "history.csv"
    command = [sys.executable, str(ROOT / "benchmarks" / "generate.py")]
    command += ["--format", "csv", "--viewings", "50", "--seed", "2"]
    command += ["--out", str(out), "--summary"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["viewings"] == 50
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(generate.CSV_COLUMNS)
    assert len(lines) == 51

    command[command.index("50")] = "0"
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "--viewings must be 1 or more" in done.stderr


def test_generator_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid format"):
        generate.generate("xml", 10, seed=1, out=tmp_path / "x")
    with pytest.raises(ValueError, match="invalid viewing count"):
        generate.generate("csv", 0, seed=1, out=tmp_path / "x")


def test_pipeline_reads_every_row(planned) -> None:
    summary, prepared, plan, *_ = planned
    assert prepared.read.events.height == VIEWINGS
    assert prepared.validation.rejects.height == 0
    written_rows = set(plan.writes["source_row"].drop_nulls().to_list())
    skipped_rows = set(plan.skipped["source_row"].drop_nulls().to_list())
    # CSV rows are line numbers (header on line 1), JSON rows are positions.
    read_rows = set(prepared.read.events["source_row"].to_list())
    assert len(read_rows) == VIEWINGS
    assert written_rows | skipped_rows == read_rows
    assert summary.undated > 0


def test_plan_has_generated_features(planned) -> None:
    summary, _, plan, *_ = planned
    reasons = Counter(plan.skipped["reason"].to_list())
    assert reasons["collapsed_48h"] == summary.duplicates_within_48h
    assert reasons["rewatch_cap"] > 0
    assert plan.writes.filter(pl.col("kind") == REWATCH).height > 0
    assert plan.writes["date_note"].eq("unknown_date").sum() > 0


def test_plan_keeps_48_hour_gap(planned) -> None:
    _, _, plan, *_ = planned
    gaps = (
        plan.writes.sort("unit_key", "watched_at")
        .select(pl.col("watched_at").diff().over("unit_key").alias("gap"))
        .drop_nulls()
    )
    assert gaps.height > 0
    assert gaps["gap"].min() >= MIN_GAP


def test_plan_session_invariants(planned) -> None:
    _, _, plan, *_ = planned
    writes = plan.writes
    assert writes["write_key"].n_unique() == writes.height

    canonical = writes.filter(pl.col("kind") == CANONICAL)
    assert canonical["unit_key"].n_unique() == canonical.height
    assert canonical["session"].eq(0).all()
    assert canonical["round"].eq(0).all()

    rewatches = writes.filter(pl.col("kind") == REWATCH)
    assert rewatches["session"].min() >= 1
    assert rewatches["session"].max() == MAX_SESSIONS
    assert rewatches["round"].min() >= 1

    states = rewatches.unique(["item_key", "session"])
    active = states.filter(pl.col("session_status") == ACTIVE)
    assert active["item_key"].n_unique() == active.height


def test_requests_carry_each_write_once(planned) -> None:
    _, _, plan, requests, _ = planned
    keys = [key for request in requests for key in request.write_keys]
    assert len(keys) == plan.writes.height
    assert set(keys) == set(plan.writes["write_key"].to_list())
    assert max(request.size for request in requests) <= BATCH_SIZE
    rounds = [request.round for request in requests]
    assert rounds == sorted(rounds)


def test_requests_follow_session_order(planned) -> None:
    _, _, plan, requests, _ = planned
    round_of = dict(zip(plan.writes["write_key"], plan.writes["round"], strict=True))
    for request in requests:
        assert {round_of[key] for key in request.write_keys} == {request.round}


def test_posts_near_lower_bound(planned) -> None:
    _, _, plan, requests, _ = planned
    lower = bench.lower_bound_posts(plan.writes, BATCH_SIZE)
    assert lower >= math.ceil(plan.writes.height / BATCH_SIZE)
    assert len(requests) >= lower
    assert len(requests) <= math.floor(lower * 1.05)


def test_lower_bound_counts_rounds() -> None:
    writes = pl.DataFrame(
        {
            "item_key": ["a", "a", "a", "b", "b", "b", "b"],
            "kind": [CANONICAL, REWATCH, REWATCH, CANONICAL, REWATCH, REWATCH, REWATCH],
            "session": [0, 3, 3, 0, 1, 2, 2],
        }
    )
    # Round 0: two canonical writes. Round 1: a's session 3 and b's session
    # 1 (three writes). Round 2: b's session 2 (two writes).
    assert bench.lower_bound_posts(writes, batch_size=2) == 1 + 2 + 1
    assert bench.lower_bound_posts(writes, batch_size=100) == 3
    assert bench.lower_bound_posts(writes.clear(), batch_size=100) == 0


def test_unknown_date_writes_once_per_unit(planned) -> None:
    _, _, plan, *_ = planned
    sentinels = plan.writes.filter(pl.col("watched_at").dt.year() == 1970)
    assert sentinels.height > 0
    assert sentinels["unit_key"].n_unique() == sentinels.height
    assert sentinels["watched_at"].unique().to_list() == [UNKNOWN_DATE]


def test_plan_matches_reference_planner(planned) -> None:
    _, _, plan, _, path = planned
    sys.path.insert(0, str(ROOT / "tests"))
    from reference_planner import reference_plan_file

    reference = reference_plan_file(path)

    def write_facts(rows) -> Counter:
        return Counter(
            (row["source_row"], row["watched_at"], row["kind"], row["session"])
            for row in rows
        )

    assert write_facts(plan.writes.iter_rows(named=True)) == write_facts(
        reference.writes
    )
    skip_facts = Counter(
        (row["source_row"], row["reason"]) for row in reference.skipped
    )
    assert (
        Counter(zip(plan.skipped["source_row"], plan.skipped["reason"], strict=True))
        == skip_facts
    )


def test_combined_runs_keep_highest_peak():
    runs = [
        {
            "total_s": 2.0,
            "writes": 5,
            "peak_rss_mb": 600.0,
            "peak_rss_after_read_mb": 590.0,
        },
        {
            "total_s": 1.5,
            "writes": 5,
            "peak_rss_mb": 640.0,
            "peak_rss_after_read_mb": 560.0,
        },
        {
            "total_s": 1.8,
            "writes": 5,
            "peak_rss_mb": 620.0,
            "peak_rss_after_read_mb": 610.0,
        },
    ]
    combined = bench.combine_runs(runs)
    assert combined["total_s"] == 1.5
    assert combined["peak_rss_mb"] == 640.0
    assert combined["peak_rss_after_read_mb"] == 610.0
    assert combined["runs_total_s"] == [2.0, 1.5, 1.8]
    assert combined["runs_peak_rss_mb"] == [600.0, 640.0, 620.0]
    assert runs[1]["peak_rss_after_read_mb"] == 560.0
