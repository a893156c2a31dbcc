"""History write shapes: ids, episodes, anime, list status, not_found, remove."""

from __future__ import annotations

from .support import (
    AIRING_SHOW,
    ANIME,
    DOUBLE_SHOW,
    LONG_SHOW,
    MOVIE,
    SHOW,
    Api,
    at,
    movie,
    show,
)


def _episodes(api: Api, simkl: int) -> list[tuple[int, int]]:
    row = api.rows(simkl)[0]
    return [
        (s["number"], e["number"])
        for s in row.get("seasons", [])
        for e in s["episodes"]
    ]


def test_movie_resolves_by_any_external_id(api: Api) -> None:
    for ids in ({"imdb": "tt0000101"}, {"tmdb": "901"}, {"letterboxd": "copper-tide"}):
        api.emu.reset()
        api = Api(api.emu, api.emu.issue_token(), api.client)
        body = api.history({"movies": [{"ids": ids, "watched_at": at(0)}]})
        assert body["added"]["movies"] == 1, ids
        assert api.rows(MOVIE)[0]["last_watched_at"] == at(0)


def test_not_found_echoes_request(api: Api) -> None:
    no_ids = {"title": "Nowhere Film", "year": 1999, "ids": None, "watched_at": at(0)}
    unknown = {"title": "Ghost", "ids": {"tmdb": 424242}}
    wrong_type = {"ids": {"simkl": SHOW}}
    body = api.history({"movies": [no_ids, unknown, wrong_type]})
    assert body["not_found"]["movies"] == [no_ids, unknown, wrong_type]
    assert body["added"]["movies"] == 0
    assert api.all_items() == {}


def test_title_alone_is_not_found(api: Api) -> None:
    entry = {"title": "Copper Tide", "year": 2011, "watched_at": at(0)}
    body = api.history({"movies": [entry]})
    assert body["not_found"]["movies"] == [entry]


def test_unknown_show_and_episode_not_found(api: Api) -> None:
    ghost = {"title": "Ghost Show", "ids": {"tvdb": 999999}}
    entry = show((1, 1, at(0)), (1, 9, at(0)), (5, 1, at(0)), simkl=SHOW)
    body = api.history({"shows": [ghost, entry]})
    assert body["not_found"]["shows"] == [ghost]
    assert body["not_found"]["episodes"] == [
        {
            "ids": {"simkl": SHOW},
            "seasons": [
                {"number": 1, "episodes": [{"number": 9, "watched_at": at(0)}]},
                {"number": 5, "episodes": [{"number": 1, "watched_at": at(0)}]},
            ],
        }
    ]
    assert body["added"]["episodes"] == 1


def test_unknown_episodes_change_nothing(api: Api) -> None:
    entry = show((4, 1, at(0)), simkl=LONG_SHOW, is_rewatch=True)
    body = api.history({"shows": [entry]}, rewatch=True)
    assert body["added"]["shows"] == 0
    assert len(body["not_found"]["episodes"]) == 1
    assert api.all_items() == {}


def test_flat_episodes_mean_season_one(api: Api) -> None:
    entry = {"ids": {"tvdb": 7002}, "episodes": [{"number": 1}, {"number": 2}]}
    api.history({"shows": [entry]})
    assert _episodes(api, LONG_SHOW) == [(1, 1), (1, 2)]


def test_episode_ids_place_both_halves(api: Api) -> None:
    entry = {
        "ids": {"simkl": DOUBLE_SHOW},
        "seasons": [{"number": 1, "episodes": [{"number": 9, "ids": {"tvdb": 74099}}]}],
    }
    body = api.history({"shows": [entry]})
    assert body["added"]["episodes"] == 2
    assert _episodes(api, DOUBLE_SHOW) == [(1, 2), (1, 3)]


def test_top_level_episodes_by_episode_ids(api: Api) -> None:
    entries = [
        {"ids": {"tvdb": 71001}, "watched_at": at(3)},
        {"ids": {"imdb": "tt0071001"}, "watched_at": at(4)},
        {"ids": {"tvdb": 5555555}, "watched_at": at(5)},
    ]
    body = api.history({"episodes": entries})
    assert body["added"]["episodes"] == 1
    assert body["not_found"]["episodes"] == [entries[2]]
    row = api.rows(SHOW)[0]
    assert row["seasons"][0]["episodes"] == [{"number": 1, "watched_at": at(3)}]


def test_anime_under_anime_or_shows(api: Api) -> None:
    as_anime = {"ids": {"mal": 5001}, "episodes": [{"number": 1, "watched_at": at(0)}]}
    as_show = {"ids": {"anidb": 6001}, "episodes": [{"number": 2, "watched_at": at(1)}]}
    first = api.history({"anime": [as_anime]})
    api.history({"shows": [as_show]})
    response = first["added"]["statuses"][0]["response"]
    assert (response["simkl_type"], response["anime_type"]) == ("anime", "tv")
    assert _episodes(api, ANIME) == [(1, 1), (1, 2)]
    assert api.rows(ANIME)[0]["status"] == "completed"


def test_unknown_anime_lands_in_not_found_shows(api: Api) -> None:
    body = api.history({"anime": [{"ids": {"mal": 1}}]})
    assert body["not_found"]["shows"] == [{"ids": {"mal": 1}}]


def test_whole_season_marks_its_episodes(api: Api) -> None:
    entry = {
        "ids": {"simkl": LONG_SHOW},
        "seasons": [{"number": 2, "watched_at": at(7)}],
    }
    body = api.history({"shows": [entry]})
    assert body["added"]["episodes"] == 10
    assert _episodes(api, LONG_SHOW) == [(2, n) for n in range(1, 11)]


def test_status_completed_marks_all_aired(api: Api) -> None:
    body = api.history({"shows": [show(simkl=AIRING_SHOW, status="completed")]})
    assert body["added"]["episodes"] == 2
    assert _episodes(api, AIRING_SHOW) == [(1, 1), (1, 2)]
    assert body["added"]["statuses"][0]["response"]["status"] == "completed"


def test_show_without_episodes_invents_none(api: Api) -> None:
    body = api.history({"shows": [show(simkl=LONG_SHOW)]})
    row = api.rows(LONG_SHOW)[0]
    assert body["added"]["episodes"] == 0
    assert row["status"] == "watching"
    assert row["watched_episodes_count"] == 0


def test_single_finale_marks_only_finale(api: Api) -> None:
    body = api.history({"shows": [show((2, 10, at(0)), simkl=LONG_SHOW)]})
    row = api.rows(LONG_SHOW)[0]
    assert body["added"]["episodes"] == 1
    assert row["watched_episodes_count"] == 1
    assert row["status"] == "watching"


def test_show_becomes_completed_at_aired_count(api: Api) -> None:
    api.history({"shows": [show((1, 1, at(0)), (1, 2, at(1)))]})
    assert api.rows(SHOW)[0]["status"] == "watching"
    body = api.history({"shows": [show((1, 3, at(2)))]})
    assert body["added"]["statuses"][0]["response"]["status"] == "completed"
    assert api.rows(SHOW)[0]["status"] == "completed"


def test_missing_watched_at_defaults_to_now(api: Api, monkeypatch) -> None:
    monkeypatch.setenv("SIMKL_IMPORT_NOW", "2026-09-14T16:00:00Z")
    api.history({"movies": [movie()]})
    assert api.rows(MOVIE)[0]["last_watched_at"] == "2026-09-14T16:00:00Z"


def test_rating_is_stored(api: Api) -> None:
    api.history({"movies": [movie(at(0), rating=8)]})
    row = api.rows(MOVIE)[0]
    assert row["user_rating"] == 8
    assert row["user_rated_at"] is not None


def test_activities_move_on_each_write(api: Api) -> None:
    before = api.client.get("/sync/activities").json()
    api.history({"movies": [movie(at(0))]})
    middle = api.client.get("/sync/activities").json()
    api.history({"shows": [show((1, 1, at(0)))]})
    after = api.client.get("/sync/activities").json()
    assert before["all"] is None
    assert middle["movies"]["completed"] is not None
    assert after["all"] > middle["all"]
    assert after["tv_shows"]["watching"] > middle["all"]
    assert after["movies"] == middle["movies"]


def test_remove_movie_and_its_sessions(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    api.history({"movies": [movie(at(10))]}, rewatch=True)
    response = api.client.post("/sync/history/remove", json={"movies": [movie()]})
    assert response.status_code == 200
    assert response.json()["deleted"]["movies"] == 1
    assert api.all_items(allow_rewatch="yes") == {}


def test_remove_episode_from_canonical_and_sessions(api: Api) -> None:
    api.history({"shows": [show((1, 1, at(0)), (1, 2, at(1)), simkl=LONG_SHOW)]})
    api.history(
        {"shows": [show((1, 1, at(10)), (1, 2, at(11)), simkl=LONG_SHOW)]}, rewatch=True
    )
    removal = {"shows": [show((1, 2, at(0)), simkl=LONG_SHOW)]}
    response = api.client.post("/sync/history/remove", json=removal)
    canonical, session = api.rows(LONG_SHOW)
    assert response.json()["deleted"]["episodes"] == 1
    assert canonical["watched_episodes_count"] == 1
    assert session["watched_episodes_count"] == 1


def test_remove_unknown_item_is_not_found(api: Api) -> None:
    response = api.client.post("/sync/history/remove", json={"movies": [movie()]})
    assert response.json()["not_found"]["movies"] == [{"ids": {"simkl": MOVIE}}]


def test_request_log_records_each_call(api: Api) -> None:
    api.history({"movies": [movie(at(0))]}, rewatch=True)
    record = api.emu.requests[-1]
    assert (record.method, record.path, record.status) == ("POST", "/sync/history", 201)
    assert record.query["allow_rewatch"] == "yes"
    assert record.json == {"movies": [movie(at(0))]}
