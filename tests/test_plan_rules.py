"""One named test per planning rule, run on the reference and the real planner.

The helpers at the top (row builders, `run_reference`, `run_real`, `Outcome`)
are shared with the property and case tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from reference_planner import UNKNOWN_DATE, ReferenceOptions, reference_plan_from_rows

from importer.events import conform, conform_remote

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def movie(row: int, hours: float | None, simkl: int = 1, **extra: Any) -> dict:
    """Return a watch row of movie `simkl`, `hours` after T0 (None: undated)."""
    return {
        "source": "test",
        "source_file": "history.csv",
        "source_row": row,
        "record": "watch",
        "media_type": "movie",
        "title": f"Movie {simkl}",
        "year": 2000,
        "simkl": simkl,
        "watched_at": None if hours is None else at(hours),
        **extra,
    }


def episode(
    row: int, season: int, number: int, hours: float | None, simkl: int = 100, **extra
) -> dict:
    """Return a watch row of one episode of show `simkl`."""
    return {
        **movie(row, hours, simkl, **extra),
        "media_type": "show",
        "title": f"Show {simkl}",
        "season": season,
        "episode": number,
    }


def on_account(
    row: dict, rewatch_id: int | None = None, status: str | None = None, **extra
) -> dict:
    """Return `row` as a viewing the account stores, canonical or in a session."""
    remote = {**row, "source": "simkl", "source_file": None, "source_row": None}
    remote["is_rewatch"] = rewatch_id is not None
    remote["rewatch_id"] = rewatch_id
    remote["session_status"] = status
    remote.update(extra)
    return remote


@dataclass
class Outcome:
    """A plan reduced to what both planners must agree on.

    `writes` are tuples (source_row, season, episode, simkl, watched_at, kind,
    session, session_status, rewatch_id, round, date_note). `skips` and
    `notes` are (source_row, reason) pairs. All three are sorted.
    """

    writes: list[tuple]
    skips: list[tuple]
    notes: list[tuple]

    def kinds(self) -> list[tuple]:
        return [(w[0], w[4], w[5], w[6]) for w in self.writes]

    def reasons(self) -> dict[int, str]:
        return {row: reason for row, reason in self.skips}


def write_tuple(write: dict) -> tuple:
    status = write["session_status"] if write["kind"] == "rewatch" else None
    return (
        write["source_row"],
        write["season"],
        write["episode"],
        write["simkl"],
        write["watched_at"],
        write["kind"],
        write["session"],
        status,
        write["rewatch_id"],
        write["round"],
        write["date_note"],
    )


def outcome_of(writes: list[dict], skips: list[dict], notes: list[dict]) -> Outcome:
    def sort_key(value: tuple) -> tuple:
        return tuple((v is None, v) for v in value)

    return Outcome(
        writes=sorted((write_tuple(w) for w in writes), key=sort_key),
        skips=sorted(((s["source_row"], s["reason"]) for s in skips), key=sort_key),
        notes=sorted(((n["source_row"], n["reason"]) for n in notes), key=sort_key),
    )


def run_reference(
    rows: list[dict], remote: list[dict] | None = None, **options
) -> Outcome:
    plan = reference_plan_from_rows(rows, remote, ReferenceOptions(**options))
    return outcome_of(plan.writes, plan.skipped, plan.notes)


def events_frame(rows: list[dict]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows, infer_schema_length=None))


def real_plan(rows: list[dict], remote: list[dict] | None = None, **options: Any):
    """Run the real planner on plain rows; skip the test if it is missing."""
    plan_module = pytest.importorskip("importer.plan")
    if not hasattr(plan_module, "build_plan"):
        pytest.skip("importer.plan has no build_plan yet")
    remote_frame = None
    if remote:
        remote_frame = conform_remote(pl.DataFrame(remote, infer_schema_length=None))
    plan_options = plan_module.PlanOptions(**options)
    return plan_module.build_plan(events_frame(rows), remote_frame, plan_options)


def run_real(rows: list[dict], remote: list[dict] | None = None, **options) -> Outcome:
    plan = real_plan(rows, remote, **options)
    notes = plan.notes.to_dicts() if hasattr(plan, "notes") else []
    return outcome_of(plan.writes.to_dicts(), plan.skipped.to_dicts(), notes)


PLANNERS = {"reference": run_reference, "real": run_real}


@pytest.fixture(params=sorted(PLANNERS))
def plan(request):
    return PLANNERS[request.param]


def test_gap_anchored_on_kept_viewings(plan):
    outcome = plan([movie(1, 0), movie(2, 30), movie(3, 60)])
    assert [w[4] for w in outcome.writes] == [at(0), at(60)]
    assert outcome.reasons() == {2: "collapsed_48h"}


def test_gap_of_exactly_48_hours_keeps_both(plan):
    outcome = plan([movie(1, 0), movie(2, 48)])
    assert outcome.kinds() == [(1, at(0), "canonical", 0), (2, at(48), "rewatch", 1)]
    assert outcome.skips == []


def test_gap_just_under_48_hours_collapses(plan):
    outcome = plan([movie(1, 0), movie(2, 48 - 1 / 3600)])
    assert len(outcome.writes) == 1
    assert outcome.reasons() == {2: "collapsed_48h"}


def test_exact_duplicate_keeps_first_row(plan):
    outcome = plan([movie(2, 5), movie(1, 5)])
    assert [w[0] for w in outcome.writes] == [1]
    assert outcome.reasons() == {2: "collapsed_48h"}


def test_gap_is_per_episode(plan):
    rows = [episode(1, 1, 1, 0), episode(2, 1, 2, 20), episode(3, 1, 1, 10)]
    outcome = plan(rows)
    assert outcome.kinds() == [(1, at(0), "canonical", 0), (2, at(20), "canonical", 0)]
    assert outcome.reasons() == {3: "collapsed_48h"}


def test_gap_is_per_movie(plan):
    outcome = plan([movie(1, 0, simkl=1), movie(2, 1, simkl=2)])
    assert [w[5] for w in outcome.writes] == ["canonical", "canonical"]


def test_near_account_viewing_is_present(plan):
    remote = [on_account(movie(0, 0))]
    outcome = plan([movie(1, 47), movie(2, -47), movie(3, 100)], remote)
    assert outcome.reasons() == {1: "already_present", 2: "already_present"}
    assert outcome.kinds() == [(3, at(100), "rewatch", 1)]


def test_rerun_of_written_plan_writes_nothing(plan):
    rows = [movie(1, 0), movie(2, 100), episode(3, 1, 1, 0), episode(4, 1, 1, 200)]
    first = reference_plan_from_rows(rows)
    remote = [
        on_account(
            {**w, "source_file": None},
            w["rewatch_id"]
            or (1000 + w["session"] if w["kind"] == "rewatch" else None),
            w["session_status"],
        )
        for w in first.writes
    ]
    outcome = plan(rows, remote)
    assert outcome.writes == []
    assert outcome.reasons() == {row: "already_present" for row in (1, 2, 3, 4)}


def test_older_than_account_canonical_is_rewatch(plan):
    remote = [on_account(movie(0, 1000))]
    outcome = plan([movie(1, 0)], remote)
    assert outcome.kinds() == [(1, at(0), "rewatch", 1)]


def test_movie_rewatches_one_session_each(plan):
    outcome = plan([movie(1, 0), movie(2, 100), movie(3, 200)])
    assert [(w[5], w[6], w[7], w[9]) for w in outcome.writes] == [
        ("canonical", 0, None, 0),
        ("rewatch", 1, "completed", 1),
        ("rewatch", 2, "completed", 2),
    ]


def test_sessions_counted_after_account_sessions(plan):
    remote = [
        on_account(movie(0, 0)),
        on_account(movie(0, 100), rewatch_id=11, status="completed"),
        on_account(movie(0, 200), rewatch_id=12, status="completed"),
    ]
    outcome = plan([movie(1, 300)], remote)
    assert outcome.kinds() == [(1, at(300), "rewatch", 3)]


def test_cap_keeps_earliest_fifty_sessions(plan):
    rows = [movie(row, 72 * row) for row in range(53)]
    outcome = plan(rows)
    sessions = [w[6] for w in outcome.writes]
    assert sessions == list(range(51))
    assert outcome.reasons() == {51: "rewatch_cap", 52: "rewatch_cap"}


def test_cap_counts_account_sessions(plan):
    remote = [on_account(movie(0, 0))] + [
        on_account(movie(0, 72 * i), rewatch_id=i, status="completed")
        for i in range(1, 50)
    ]
    rows = [movie(row, 10_000 + 72 * row) for row in range(1, 4)]
    outcome = plan(rows, remote)
    assert outcome.kinds() == [(1, at(10_072), "rewatch", 50)]
    assert outcome.reasons() == {2: "rewatch_cap", 3: "rewatch_cap"}


def test_show_rewatch_groups_into_one_session(plan):
    rows = [
        episode(1, 1, 1, 0),
        episode(2, 1, 2, 24),
        episode(3, 1, 1, 500),
        episode(4, 1, 2, 524),
    ]
    outcome = plan(rows)
    rewatches = [(w[0], w[6], w[7], w[9]) for w in outcome.writes if w[5] == "rewatch"]
    assert rewatches == [(3, 1, "active", 1), (4, 1, "active", 1)]


def test_conflict_split_closes_session(plan):
    rows = [
        episode(1, 1, 1, 0),
        episode(2, 1, 1, 100),
        episode(3, 1, 2, 150),
        episode(4, 1, 1, 300),
    ]
    outcome = plan(rows)
    rewatches = [(w[0], w[6], w[7], w[9]) for w in outcome.writes if w[5] == "rewatch"]
    assert rewatches == [(2, 1, "closed", 1), (4, 2, "active", 2)]
    assert [w[5] for w in outcome.writes if w[0] == 3] == ["canonical"]


def test_session_completes_at_aired_count(plan):
    aired = {"aired_episodes": 2}
    remote = [
        on_account(episode(0, 1, 1, -1000), **aired),
        on_account(episode(0, 1, 2, -900), **aired),
    ]
    rows = [episode(1, 1, 1, 0), episode(2, 1, 2, 24), episode(3, 1, 1, 100)]
    outcome = plan(rows, remote)
    rewatches = [(w[0], w[6], w[7], w[9]) for w in outcome.writes]
    assert rewatches == [
        (1, 1, "completed", 1),
        (2, 1, "completed", 1),
        (3, 2, "active", 2),
    ]


def test_account_active_session_is_continued(plan):
    remote = [
        on_account(episode(0, 1, 1, -1000)),
        on_account(episode(0, 1, 2, -900)),
        on_account(episode(0, 1, 1, -500), rewatch_id=7, status="active"),
    ]
    outcome = plan([episode(1, 1, 2, 0)], remote)
    assert [(w[6], w[7], w[8], w[9]) for w in outcome.writes] == [(1, "active", 7, 1)]


def test_account_active_session_split_on_conflict(plan):
    remote = [
        on_account(episode(0, 1, 1, -1000)),
        on_account(episode(0, 1, 1, -500), rewatch_id=7, status="active"),
    ]
    outcome = plan([episode(1, 1, 1, 0)], remote)
    assert [(w[6], w[7], w[8], w[9]) for w in outcome.writes] == [
        (2, "active", None, 1)
    ]


def test_undated_rows_give_one_viewing(plan):
    outcome = plan([movie(1, None), movie(2, None)])
    assert outcome.kinds() == [(1, UNKNOWN_DATE, "canonical", 0)]
    assert outcome.writes[0][10] == "unknown_date"
    assert outcome.reasons() == {2: "undated_extra"}


def test_undated_rows_skipped_on_request(plan):
    outcome = plan([movie(1, None), movie(2, None)], undated="skip")
    assert outcome.writes == []
    assert outcome.reasons() == {1: "undated", 2: "undated"}


def test_undated_viewing_precedes_dated(plan):
    outcome = plan([movie(1, None), movie(2, 0)])
    assert outcome.kinds() == [
        (1, UNKNOWN_DATE, "canonical", 0),
        (2, at(0), "rewatch", 1),
    ]


def test_undated_present_on_account(plan):
    remote = [{**on_account(movie(0, None)), "watched_at": UNKNOWN_DATE}]
    outcome = plan([movie(1, None)], remote)
    assert outcome.writes == []
    assert outcome.reasons() == {1: "already_present"}


def test_rewatch_mark_without_earlier_adds_viewing(plan):
    outcome = plan([movie(1, 0, rewatch_hint=True)])
    assert outcome.kinds() == [
        (1, UNKNOWN_DATE, "canonical", 0),
        (1, at(0), "rewatch", 1),
    ]
    assert outcome.writes[0][10] == "unknown_date_for_rewatch"
    assert outcome.notes == [(1, "rewatch_without_earlier")]


def test_rewatch_mark_ignored_on_request(plan):
    outcome = plan([movie(1, 0, rewatch_hint=True)], rewatch_without_earlier="ignore")
    assert outcome.kinds() == [(1, at(0), "canonical", 0)]
    assert outcome.notes == []


def test_rewatch_mark_with_earlier_viewing(plan):
    outcome = plan([movie(1, 0), movie(2, 100, rewatch_hint=True)])
    assert outcome.kinds() == [(1, at(0), "canonical", 0), (2, at(100), "rewatch", 1)]
    assert outcome.notes == []


def test_rewatch_mark_tied_with_unmarked_row(plan):
    # The unmarked row at the same instant is the earlier viewing, in
    # either row order.
    for marked in (1, 2):
        rows = [movie(row, 0, rewatch_hint=row == marked) for row in (1, 2)]
        outcome = plan(rows)
        assert [kind for *_, kind, _ in outcome.kinds()] == ["canonical"]
        assert outcome.notes == []


def test_undated_rewatch_mark_written_once(plan):
    # The row is the unknown-date viewing itself, so nothing else is added.
    outcome = plan([movie(1, None, rewatch_hint=True)])
    assert outcome.kinds() == [(1, UNKNOWN_DATE, "canonical", 0)]
    assert outcome.skips == []
    assert outcome.notes == []


def test_free_tier_wins_over_cap(plan):
    # On a free account no rewatch is ever written, so that is the reason.
    remote = [on_account(movie(0, 0))] + [
        on_account(movie(0, 72 * i), rewatch_id=i, status="completed")
        for i in range(1, 51)
    ]
    outcome = plan([movie(1, 10_000)], remote, rewatches=False)
    assert outcome.writes == []
    assert outcome.reasons() == {1: "rewatch_not_written_free_tier"}


def test_absolute_numbers_are_episodes(plan):
    # Episodes known only by absolute number are still distinct episodes.
    first = {**episode(1, 1, 1, 0), "season": None, "episode": None, "episode_abs": 7}
    second = {**first, "source_row": 2, "episode_abs": 8, "watched_at": at(100)}
    outcome = plan([first, second])
    assert outcome.kinds() == [(1, at(0), "canonical", 0), (2, at(100), "canonical", 0)]


def test_anime_movie_rewatches_one_session_each(plan):
    # An anime without episodes is a film: each rewatch is its own session.
    rows = [{**movie(row, 100 * row), "media_type": "anime"} for row in range(3)]
    outcome = plan(rows)
    assert [(w[5], w[6], w[7]) for w in outcome.writes] == [
        ("canonical", 0, None),
        ("rewatch", 1, "completed"),
        ("rewatch", 2, "completed"),
    ]


def test_older_than_account_is_noted(plan):
    # Simkl keeps its canonical viewing, so the report must say why an older
    # viewing became a rewatch.
    remote = [on_account(movie(0, 1000))]
    outcome = plan([movie(1, 0)], remote)
    assert outcome.kinds() == [(1, at(0), "rewatch", 1)]
    assert outcome.notes == [(1, "older_than_account")]


def test_free_tier_reports_rewatches(plan):
    outcome = plan([movie(1, 0), movie(2, 100)], rewatches=False)
    assert outcome.kinds() == [(1, at(0), "canonical", 0)]
    assert outcome.reasons() == {2: "rewatch_not_written_free_tier"}


def test_far_before_release_is_held(plan):
    release = date(2031, 3, 1)
    outcome = plan([movie(1, 0, release_date=release)])
    assert outcome.writes == []
    assert outcome.reasons() == {1: "held_before_release"}


def test_shortly_before_release_is_noted(plan):
    release = (T0 + timedelta(days=1)).date()
    outcome = plan([movie(1, 0, release_date=release)])
    assert outcome.kinds() == [(1, at(0), "canonical", 0)]
    assert outcome.notes == [(1, "before_release")]


def test_hold_turned_off(plan):
    outcome = plan(
        [movie(1, 0, release_date=date(2031, 3, 1))], hold_before_release_days=None
    )
    assert outcome.kinds() == [(1, at(0), "canonical", 0)]
    assert outcome.notes == [(1, "before_release")]


def test_extra_plays_noted_not_written(plan):
    outcome = plan([movie(1, 0, extra_plays=3)])
    assert outcome.kinds() == [(1, at(0), "canonical", 0)]
    assert outcome.skips == []
    assert outcome.notes == [(1, "extra_plays")]


def test_rating_rows_are_not_viewings(plan):
    outcome = plan([movie(1, 0, record="rating"), movie(2, 100)])
    assert outcome.kinds() == [(2, at(100), "canonical", 0)]
    assert outcome.skips == []
