from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from importer.events import conform, conform_remote
from importer.plan import PlanOptions, build_plan
from importer.plan.rules import UNKNOWN_DATE

T0 = datetime(2023, 3, 4, 20, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def frame(*rows: dict) -> pl.DataFrame:
    base = {"source": "test", "source_file": "h.json", "record": "watch"}
    return conform(
        pl.DataFrame(
            [{**base, "source_row": i + 1, **row} for i, row in enumerate(rows)]
        )
    )


def movie(tmdb: int = 1, at: datetime | None = T0, **extra) -> dict:
    return {
        "media_type": "movie",
        "title": f"Film {tmdb}",
        "year": 2000,
        "tmdb": tmdb,
        "watched_at": at,
        **extra,
    }


def episode(
    season: int, number: int, at: datetime | None, tvdb: int = 60001, **extra
) -> dict:
    return {
        "media_type": "show",
        "title": "Lantern Street",
        "year": 2022,
        "tvdb": tvdb,
        "season": season,
        "episode": number,
        "watched_at": at,
        **extra,
    }


def remote(*rows: dict) -> pl.DataFrame:
    return conform_remote(pl.DataFrame(list(rows)))


def kinds(plan) -> list[tuple[str, int]]:
    return list(
        zip(
            plan.writes["kind"].to_list(), plan.writes["session"].to_list(), strict=True
        )
    )


def test_gap_anchored_on_kept_viewings():
    plan = build_plan(
        frame(movie(at=hours(0)), movie(at=hours(30)), movie(at=hours(60)))
    )
    assert plan.writes["watched_at"].to_list() == [hours(0), hours(60)]
    assert plan.skipped["reason"].to_list() == ["collapsed_48h"]
    assert plan.skipped["source_row"].to_list() == [2]


def test_exactly_48_hours_is_two_viewings():
    plan = build_plan(frame(movie(at=hours(0)), movie(at=hours(48))))
    assert kinds(plan) == [("canonical", 0), ("rewatch", 1)]


def test_later_viewings_become_sessions():
    plan = build_plan(
        frame(movie(at=hours(0)), movie(at=hours(100)), movie(at=hours(200)))
    )
    assert kinds(plan) == [("canonical", 0), ("rewatch", 1), ("rewatch", 2)]
    assert plan.writes["session_status"].to_list() == [None, "completed", "completed"]
    assert plan.writes["round"].to_list() == [0, 1, 2]


def test_rows_already_on_account_are_present():
    account = remote(
        {"media_type": "movie", "simkl": 9, "tmdb": 1, "watched_at": hours(1)}
    )
    plan = build_plan(frame(movie(at=hours(0)), movie(at=hours(100))), account)
    assert kinds(plan) == [("rewatch", 1)]
    assert plan.skipped["reason"].to_list() == ["already_present"]


def test_older_viewing_than_account_is_rewatch():
    account = remote(
        {"media_type": "movie", "simkl": 9, "tmdb": 1, "watched_at": hours(500)}
    )
    plan = build_plan(frame(movie(at=hours(0))), account)
    assert kinds(plan) == [("rewatch", 1)]


def test_ids_compared_only_in_namespace_and_type():
    account = remote(
        {"media_type": "movie", "simkl": 9, "tmdb": 81234, "watched_at": hours(24)}
    )
    events = frame(
        {
            "media_type": "show",
            "title": "Harbor Patrol Weekly",
            "tvdb": 81234,
            "season": 2023,
            "episode": 18,
            "watched_at": hours(0),
        },
        movie(tmdb=81234, at=hours(24)),
    )
    plan = build_plan(events, account)
    assert plan.writes["media_type"].to_list() == ["show"]
    assert plan.skipped["reason"].to_list() == ["already_present"]
    assert plan.skipped["media_type"].to_list() == ["movie"]


def test_rows_sharing_any_id_are_one_item():
    events = frame(
        movie(tmdb=900401, at=None, imdb="tt9800101"),
        movie(tmdb=900401, at=datetime(2022, 6, 10, 18, tzinfo=UTC), imdb="tt9800103"),
    )
    plan = build_plan(events)
    assert plan.writes["watched_at"].to_list() == [
        UNKNOWN_DATE,
        datetime(2022, 6, 10, 18, tzinfo=UTC),
    ]
    assert kinds(plan) == [("canonical", 0), ("rewatch", 1)]
    assert plan.writes["item_key"].n_unique() == 1


def test_undated_sentinel_once_per_item():
    plan = build_plan(frame(movie(at=None), movie(at=None), movie(tmdb=2, at=None)))
    assert plan.writes["watched_at"].to_list() == [UNKNOWN_DATE, UNKNOWN_DATE]
    assert plan.skipped["reason"].to_list() == ["undated_extra"]
    assert plan.summary["undated_written"] == 2


def test_undated_skip_policy_reports_every_row():
    plan = build_plan(
        frame(movie(at=None), movie(at=T0, tmdb=2)), options=PlanOptions(undated="skip")
    )
    assert plan.writes["tmdb"].to_list() == [2]
    assert plan.skipped["reason"].to_list() == ["undated"]


def test_extra_plays_noted_not_written():
    plan = build_plan(frame(movie(at=T0, extra_plays=3), movie(tmdb=2, at=T0)))
    assert plan.writes.height == 2
    assert plan.notes["reason"].to_list() == ["extra_plays"]
    assert plan.notes["detail"][0].startswith("3 more plays")
    assert plan.summary["extra_plays_not_written"] == 3


def test_rewatch_mark_without_earlier_gets_sentinel():
    plan = build_plan(frame(movie(at=T0, rewatch_hint=True)))
    assert plan.writes["watched_at"].to_list() == [UNKNOWN_DATE, T0]
    assert kinds(plan) == [("canonical", 0), ("rewatch", 1)]
    assert plan.writes["date_note"].to_list() == ["unknown_date_for_rewatch", None]
    assert plan.notes["reason"].to_list() == ["rewatch_without_earlier"]


def test_rewatch_mark_ignored_when_policy_says():
    options = PlanOptions(rewatch_without_earlier="ignore")
    plan = build_plan(frame(movie(at=T0, rewatch_hint=True)), options=options)
    assert kinds(plan) == [("canonical", 0)]


def test_rewatch_mark_with_account_viewing_adds_nothing():
    account = remote(
        {"media_type": "movie", "simkl": 9, "tmdb": 1, "watched_at": hours(-1000)}
    )
    plan = build_plan(frame(movie(at=T0, rewatch_hint=True)), account)
    assert kinds(plan) == [("rewatch", 1)]


def test_cap_keeps_earliest_sessions():
    rows = [movie(at=hours(100 * i)) for i in range(60)]
    plan = build_plan(frame(*reversed(rows)))
    assert plan.writes.height == 51
    assert plan.writes["session"].max() == 50
    capped = plan.skipped.filter(pl.col("reason") == "rewatch_cap")
    assert capped.height == 9
    assert capped["watched_at"].min() == hours(100 * 51)


def test_cap_counts_sessions_on_account():
    account_rows = [
        {"media_type": "movie", "simkl": 9, "tmdb": 1, "watched_at": hours(-10000)}
    ]
    account_rows += [
        {
            "media_type": "movie",
            "simkl": 9,
            "tmdb": 1,
            "watched_at": hours(-9000 + 100 * i),
            "is_rewatch": True,
            "rewatch_id": 100 + i,
            "session_status": "completed",
        }
        for i in range(49)
    ]
    plan = build_plan(
        frame(movie(at=hours(0)), movie(at=hours(100))), remote(*account_rows)
    )
    assert kinds(plan) == [("rewatch", 50)]
    assert plan.skipped["reason"].to_list() == ["rewatch_cap"]


def test_show_rewatch_pass_is_one_session():
    first = [episode(1, e, hours(24 * e)) for e in (1, 2, 3)]
    second = [episode(1, e, hours(1000 + 24 * e)) for e in (1, 2, 3)]
    plan = build_plan(frame(*first, *second))
    rewatch = plan.writes.filter(pl.col("kind") == "rewatch")
    assert rewatch["session"].to_list() == [1, 1, 1]
    assert rewatch["session_status"].to_list() == ["active", "active", "active"]


def test_repeated_episode_splits_session():
    rows = [episode(1, 1, hours(0)), episode(1, 2, hours(24))]
    rows += [
        episode(1, 1, hours(1000)),
        episode(1, 1, hours(2000)),
        episode(1, 2, hours(2024)),
    ]
    plan = build_plan(frame(*rows))
    rewatch = plan.writes.filter(pl.col("kind") == "rewatch").sort("watched_at")
    assert rewatch["session"].to_list() == [1, 2, 2]
    assert rewatch["session_status"].to_list() == ["closed", "active", "active"]


def test_session_completes_when_aired_known():
    account = remote(
        *[
            {
                "media_type": "show",
                "simkl": 5,
                "tvdb": 60001,
                "season": 1,
                "episode": e,
                "watched_at": hours(-1000 + e),
                "aired_episodes": 2,
            }
            for e in (1, 2)
        ]
    )
    rows = [episode(1, 1, hours(0)), episode(1, 2, hours(1)), episode(1, 1, hours(100))]
    plan = build_plan(frame(*rows), account)
    assert plan.writes["session"].to_list() == [1, 1, 2]
    assert plan.writes["session_status"].to_list() == [
        "completed",
        "completed",
        "active",
    ]


def test_active_account_session_is_continued():
    account = remote(
        {
            "media_type": "show",
            "simkl": 5,
            "tvdb": 60001,
            "season": 1,
            "episode": 1,
            "watched_at": hours(-1000),
        },
        {
            "media_type": "show",
            "simkl": 5,
            "tvdb": 60001,
            "season": 1,
            "episode": 2,
            "watched_at": hours(-990),
        },
        {
            "media_type": "show",
            "simkl": 5,
            "tvdb": 60001,
            "season": 1,
            "episode": 1,
            "watched_at": hours(-500),
            "is_rewatch": True,
            "rewatch_id": 77,
            "session_status": "active",
        },
    )
    plan = build_plan(frame(episode(1, 2, hours(0))), account)
    assert kinds(plan) == [("rewatch", 1)]
    assert plan.writes["rewatch_id"].to_list() == [77]
    assert plan.writes["round"].to_list() == [1]


def test_free_tier_writes_canonical_only():
    plan = build_plan(
        frame(movie(at=hours(0)), movie(at=hours(100))),
        options=PlanOptions(rewatches=False),
    )
    assert kinds(plan) == [("canonical", 0)]
    assert plan.skipped["reason"].to_list() == ["rewatch_not_written_free_tier"]


def test_release_hold_and_note():
    events = frame(
        movie(
            tmdb=1,
            at=datetime(2025, 6, 25, 23, 30, tzinfo=UTC),
            release_date=date(2025, 6, 26),
        ),
        movie(
            tmdb=2,
            at=datetime(2024, 4, 2, 20, tzinfo=UTC),
            release_date=date(2031, 3, 1),
        ),
    )
    plan = build_plan(events)
    assert plan.writes["tmdb"].to_list() == [1]
    assert plan.skipped["reason"].to_list() == ["held_before_release"]
    assert plan.notes["reason"].to_list() == ["before_release"]


def test_episode_ids_keep_specials_apart():
    events = frame(
        episode(0, 0, hours(0), ep_tvdb=9900201),
        episode(0, 0, hours(24), ep_tvdb=9900202),
    )
    plan = build_plan(events)
    assert plan.writes.height == 2
    assert plan.writes["unit_key"].n_unique() == 2


def test_title_only_rows_join_single_item():
    events = frame(
        {
            "media_type": "movie",
            "title": "Inception",
            "year": 2010,
            "imdb": "tt1375666",
            "watched_at": hours(0),
        },
        {
            "media_type": "movie",
            "title": "Inception",
            "year": 2010,
            "watched_at": hours(1),
        },
    )
    plan = build_plan(events)
    assert plan.writes.height == 1
    assert plan.skipped["reason"].to_list() == ["collapsed_48h"]


def test_same_ids_different_titles_one_item():
    # Every row has an id, so the planner groups rows without their titles.
    events = frame(
        movie(tmdb=900501, at=hours(0), title="Inception"),
        movie(tmdb=900501, at=hours(100), title="Inception (2010)", year=2011),
    )
    plan = build_plan(events)
    assert plan.writes["item_key"].to_list() == ["movie:tmdb:900501"] * 2
    assert kinds(plan) == [("canonical", 0), ("rewatch", 1)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_plan_independent_of_row_order(seed: int):
    rows = [movie(at=hours(37 * i % 500), tmdb=i % 3) for i in range(30)]
    rows += [episode(1, i % 4 + 1, hours(53 * i % 900)) for i in range(30)]
    events = frame(*rows)
    shuffled = events.sample(fraction=1.0, shuffle=True, seed=seed)
    first = build_plan(events)
    second = build_plan(shuffled)
    assert first.writes.equals(second.writes)
    assert first.skipped.equals(second.skipped)
