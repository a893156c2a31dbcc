"""Tests of verify: intended viewings compared with the account."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from importer.events import conform
from importer.plan import build_plan
from importer.remote import remote_frame
from importer.verify import compare, render


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def events(rows: list[dict]) -> pl.DataFrame:
    base = {"source": "test", "source_file": "history.csv", "record": "watch"}
    frame = pl.DataFrame(
        [{**base, "source_row": i + 2, **row} for i, row in enumerate(rows)]
    )
    return conform(frame)


MOVIE = {"media_type": "movie", "title": "Heat", "year": 1995, "tmdb": 949}


def intended(rows: list[dict]) -> pl.DataFrame:
    return build_plan(events(rows)).writes


def account(
    movie_dates: list[str],
    episode_dates: dict[tuple[int, int], list[str]] | None = None,
):
    movies = [
        {
            "last_watched_at": date,
            "is_rewatch": i > 0,
            "rewatch_id": 100 + i if i else None,
            "rewatch_status": "completed" if i else None,
            "movie": {
                "title": "Heat",
                "year": 1995,
                "ids": {"simkl": 9, "tmdb": "949"},
            },
        }
        for i, date in enumerate(movie_dates)
    ]
    shows = []
    for (season, episode), dates in (episode_dates or {}).items():
        for date in dates:
            shows.append(
                {
                    "show": {"title": "Dark", "year": 2017, "ids": {"tvdb": "295779"}},
                    "seasons": [
                        {
                            "number": season,
                            "episodes": [{"number": episode, "watched_at": date}],
                        }
                    ],
                }
            )
    return remote_frame({"movies": movies, "shows": shows})


def test_all_present_once():
    writes = intended(
        [
            {**MOVIE, "watched_at": at("2020-01-01T20:00:00")},
            {**MOVIE, "watched_at": at("2021-01-01T20:00:00")},
        ]
    )
    remote = account(["2020-01-01T21:00:00Z", "2021-01-02T19:00:00Z"])
    result = compare(writes, remote)
    assert result.checked == 2
    assert result.ok
    assert render(result) == [
        "verified: all 2 intended viewings are on Simkl exactly once."
    ]


def test_missing_viewing_reported_with_source_row():
    writes = intended(
        [
            {**MOVIE, "watched_at": at("2020-01-01T20:00:00")},
            {**MOVIE, "watched_at": at("2021-01-01T20:00:00")},
        ]
    )
    remote = account(["2020-01-01T20:00:00Z", "2021-01-04T20:00:00Z"])
    result = compare(writes, remote)
    assert not result.ok
    rows = result.differences.to_dicts()
    assert len(rows) == 1
    assert rows[0]["problem"] == "missing"
    assert rows[0]["source_row"] == 3
    lines = render(result)
    assert lines[0].startswith("missing: Heat (1995) watched 2021-01-01T20:00:00Z")
    assert "history.csv, row 3" in lines[0]
    assert (
        lines[-1]
        == "1 of 2 intended viewings differ: 1 missing, 0 stored more than once."
    )


def test_two_stored_within_48h_is_duplicate():
    writes = intended([{**MOVIE, "watched_at": at("2020-01-01T20:00:00")}])
    remote = account(["2020-01-01T20:00:00Z", "2020-01-02T22:00:00Z"])
    result = compare(writes, remote)
    rows = result.differences.to_dicts()
    assert [row["problem"] for row in rows] == ["duplicate"]
    assert rows[0]["stored"] == 2
    assert "stored 2 times within 48 hours" in render(result)[0]


def test_stored_at_48h_is_another_viewing():
    writes = intended([{**MOVIE, "watched_at": at("2020-01-01T20:00:00")}])
    remote = account(["2020-01-01T20:00:00Z", "2020-01-03T20:00:00Z"])
    assert compare(writes, remote).ok


def test_episode_matched_by_number():
    show = {"media_type": "show", "title": "Dark", "year": 2017, "tvdb": 295779}
    writes = intended(
        [
            {
                **show,
                "season": 1,
                "episode": 1,
                "watched_at": at("2020-01-01T20:00:00"),
            },
            {
                **show,
                "season": 1,
                "episode": 2,
                "watched_at": at("2020-01-01T21:00:00"),
            },
        ]
    )
    remote = account(
        [], {(1, 1): ["2020-01-01T20:00:00Z"], (1, 3): ["2020-01-01T21:00:00Z"]}
    )
    rows = compare(writes, remote).differences.to_dicts()
    assert [(row["problem"], row["episode"]) for row in rows] == [("missing", 2)]
    assert "Dark (2017) S01E02" in render(compare(writes, remote))[0]


def test_empty_plan_and_empty_account():
    result = compare(intended([]), remote_frame(None))
    assert result.checked == 0
    assert result.ok


def test_title_and_year_match_without_ids():
    writes = intended(
        [
            {
                "media_type": "movie",
                "title": "Heat",
                "year": 1995,
                "watched_at": at("2020-01-01T20:00:00"),
            }
        ]
    )
    assert compare(writes, account(["2020-01-01T20:00:00Z"])).ok
    other_year = intended(
        [
            {
                "media_type": "movie",
                "title": "Heat",
                "year": 1986,
                "watched_at": at("2020-01-01T20:00:00"),
            }
        ]
    )
    assert not compare(other_year, account(["2020-01-01T20:00:00Z"])).ok


def test_ids_of_other_family_never_match():
    # TMDB 949 as a show is another item than TMDB 949 as a movie.
    show = {"media_type": "show", "title": "X", "tmdb": 949, "season": 1, "episode": 1}
    writes = intended([{**show, "watched_at": at("2020-01-01T20:00:00")}])
    result = compare(writes, account(["2020-01-01T20:00:00Z"]))
    assert [row["problem"] for row in result.differences.to_dicts()] == ["missing"]


def test_added_first_viewing_met_by_any_canonical():
    # A rewatch with no earlier viewing in the export makes the planner add
    # an unknown-date first viewing. An account with a first viewing of its
    # own does not get one, and that is not a difference.
    writes = intended(
        [{**MOVIE, "watched_at": at("2021-01-01T20:00:00"), "rewatch_hint": True}]
    )
    assert sorted(writes["date_note"].to_list(), key=str) == [
        None,
        "unknown_date_for_rewatch",
    ]
    result = compare(writes, account(["2015-05-05T20:00:00Z", "2021-01-01T20:00:00Z"]))
    assert result.ok
    missing = compare(writes, account([]))
    assert missing.differences.height == 2


def test_unreturned_id_falls_back_to_title():
    # Simkl does not return Letterboxd slugs, so the row matches by title.
    row = {"media_type": "movie", "title": "Heat", "year": 1995, "letterboxd": "heat"}
    writes = intended([{**row, "watched_at": at("2020-01-01T20:00:00")}])
    assert compare(writes, account(["2020-01-01T20:00:00Z"])).ok
    wrong_title = intended(
        [{**row, "title": "Heat 2", "watched_at": at("2020-01-01T20:00:00")}]
    )
    assert not compare(wrong_title, account(["2020-01-01T20:00:00Z"])).ok


def test_title_without_year_matches_same():
    row = {"media_type": "movie", "title": "One of the Roughs, a Kosmos"}
    writes = intended([{**row, "watched_at": at("2017-03-06T12:00:00")}])
    body = {
        "movies": [
            {
                "last_watched_at": "2017-03-06T12:00:00Z",
                "movie": {"title": row["title"], "year": None, "ids": {"simkl": 5}},
            }
        ]
    }
    assert compare(writes, remote_frame(body)).ok
    body["movies"][0]["movie"]["year"] = 1921
    assert not compare(writes, remote_frame(body)).ok
