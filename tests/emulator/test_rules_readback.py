"""Reading back with /sync/all-items: rewatch rows and the flag table."""

from __future__ import annotations

from .support import ANIME, LONG_SHOW, MOVIE, SHOW, Api, at, movie, show


def _show_with_session(api: Api) -> None:
    api.history({"shows": [show((1, 1, at(0)), (1, 2, at(1)), simkl=LONG_SHOW)]})
    episodes = [(1, 1, at(10)), (1, 2, at(11))]
    api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]}, rewatch=True)


def _rows(api: Api, **params: str) -> list[dict]:
    return api.all_items(allow_rewatch="yes", **params)["shows"]


def test_rewatch_rows_share_simkl_id(api: Api) -> None:
    _show_with_session(api)
    canonical, session = _rows(api)
    assert canonical["show"]["ids"]["simkl"] == session["show"]["ids"]["simkl"]
    assert canonical["is_rewatch"] is False
    assert "rewatch_id" not in canonical
    assert session["is_rewatch"] is True
    assert session["rewatch_status"] == "active"
    assert session["last_watched_at"] == at(11)


def test_summary_rows_use_zero_sentinel(api: Api) -> None:
    _show_with_session(api)
    canonical, session = _rows(api)
    assert session["watched_episodes_count"] == 0
    assert "seasons" not in session
    assert "seasons" not in canonical
    assert canonical["watched_episodes_count"] == 2


def test_extended_full_gives_counts_and_seasons(api: Api) -> None:
    _show_with_session(api)
    _, session = _rows(api, extended="full")
    assert session["watched_episodes_count"] == 2
    assert session["seasons"] == [
        {"number": 1, "episodes": [{"number": 1}, {"number": 2}]}
    ]


def test_episode_watched_at_adds_dates(api: Api) -> None:
    _show_with_session(api)
    canonical, session = _rows(api, extended="full", episode_watched_at="yes")
    assert session["seasons"][0]["episodes"][1] == {"number": 2, "watched_at": at(11)}
    assert canonical["seasons"][0]["episodes"][1] == {"number": 2, "watched_at": at(1)}


def test_episode_watched_at_needs_extended_full(api: Api) -> None:
    _show_with_session(api)
    _, session = _rows(api, episode_watched_at="yes")
    assert "seasons" not in session
    assert session["watched_episodes_count"] == 0


def test_no_rewatch_rows_without_flag(api: Api) -> None:
    _show_with_session(api)
    [row] = api.all_items()["shows"]
    assert "is_rewatch" not in row


def test_date_from_limits_to_changed_items(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    since = api.client.get("/sync/activities").json()["all"]
    assert api.all_items(date_from=since) == {}
    api.history({"shows": [show((1, 1, at(0)))]})
    body = api.all_items(date_from=since)
    assert list(body) == ["shows"]
    assert body["shows"][0]["show"]["ids"]["simkl"] == SHOW


def test_movie_row_carries_watch_date(api: Api) -> None:
    api.history({"movies": [movie(at(5))]})
    [row] = api.all_items()["movies"]
    assert row["last_watched_at"] == at(5)
    assert row["status"] == "completed"
    assert row["movie"]["ids"] == {
        "simkl": MOVIE,
        "slug": "copper-tide",
        "imdb": "tt0000101",
        "tmdb": "901",
        "letterboxd": "copper-tide",
    }


def test_empty_library_is_empty_object(api: Api) -> None:
    assert api.all_items() == {}
    assert api.all_items("/movies") == {}


def test_type_and_status_paths_filter(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    api.history({"shows": [show((1, 1, at(0)))]})
    api.history({"anime": [{"ids": {"mal": 5001}, "episodes": [{"number": 1}]}]})
    assert list(api.all_items("/movies")) == ["movies"]
    assert list(api.all_items("/shows/watching")) == ["shows"]
    assert api.all_items("/shows/completed") == {}
    [row] = api.all_items("/anime")["anime"]
    assert row["anime_type"] == "tv"
    assert row["show"]["ids"]["simkl"] == ANIME


def test_movie_session_rows(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    api.history({"movies": [movie(at(10))]}, rewatch=True)
    canonical, session = api.all_items(allow_rewatch="yes")["movies"]
    assert canonical["last_watched_at"] == at(0)
    assert session["last_watched_at"] == at(10)
    assert session["rewatch_status"] == "completed"
    assert "seasons" not in session
