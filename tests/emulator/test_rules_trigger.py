"""When a write becomes a rewatch: ordinary first, then the three triggers."""

from __future__ import annotations

from .support import MOVIE, SHOW, Api, at, movie, show


def test_plain_write_touches_only_canonical(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    body = api.history({"movies": [movie(at(10))]})
    assert body["added"]["movies"] == 0
    assert api.sessions(MOVIE) == []
    assert api.rows(MOVIE)[0]["last_watched_at"] == at(0)


def test_ordinary_write_wins_over_rewatch(api: Api) -> None:
    body = api.history({"movies": [movie(at(0))]}, rewatch=True)
    response = body["added"]["statuses"][0]["response"]
    assert body["added"]["movies"] == 1
    assert response["rewatch_id"] is None
    assert response["status"] == "completed"
    assert api.sessions(MOVIE) == []


def test_completed_movie_write_becomes_session(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    body = api.history({"movies": [movie(at(10))]}, rewatch=True)
    response = body["added"]["statuses"][0]["response"]
    sessions = api.sessions(MOVIE)
    assert body["added"]["movies"] == 1
    assert isinstance(response["rewatch_id"], int)
    assert [s["rewatch_id"] for s in sessions] == [response["rewatch_id"]]
    assert sessions[0]["last_watched_at"] == at(10)


def test_completed_show_without_episodes_opens_session(api: Api) -> None:
    api.history({"shows": [show(status="completed", watched_at=at(0))]})
    body = api.history({"shows": [show()]}, rewatch=True)
    sessions = api.sessions(SHOW)
    assert body["added"]["episodes"] == 0
    assert len(sessions) == 1
    assert sessions[0]["watched_episodes_count"] == 0
    assert sessions[0]["rewatch_status"] == "active"


def test_all_listed_episodes_canonical_is_rewatch(api: Api) -> None:
    api.history({"shows": [show((1, 1, at(0)), (1, 2, at(0, 1)))]})
    body = api.history(
        {"shows": [show((1, 1, at(10)), (1, 2, at(10, 1)))]}, rewatch=True
    )
    canonical, session = api.rows(SHOW)
    assert body["added"]["episodes"] == 2
    assert session["watched_episodes_count"] == 2
    assert canonical["status"] == "watching"
    assert canonical["seasons"][0]["episodes"][0]["watched_at"] == at(0)


def test_one_new_episode_keeps_write_ordinary(api: Api) -> None:
    api.history({"shows": [show((1, 1, at(0)))]})
    body = api.history({"shows": [show((1, 1, at(10)), (1, 2, at(10)))]}, rewatch=True)
    canonical = api.rows(SHOW)[0]
    episodes = canonical["seasons"][0]["episodes"]
    assert body["added"]["episodes"] == 1
    assert api.sessions(SHOW) == []
    assert episodes == [
        {"number": 1, "watched_at": at(0)},
        {"number": 2, "watched_at": at(10)},
    ]


def test_is_rewatch_opens_empty_session(api: Api) -> None:
    api.history({"shows": [show(status="completed", watched_at=at(0))]})
    api.history({"shows": [show(is_rewatch=True, watched_at=at(30))]}, rewatch=True)
    sessions = api.sessions(SHOW)
    assert len(sessions) == 1
    assert sessions[0]["watched_episodes_count"] == 0
    assert sessions[0]["last_watched_at"] == at(30)


def test_is_rewatch_keeps_ordinary_first(api: Api) -> None:
    body = api.history({"movies": [movie(at(0), is_rewatch=True)]}, rewatch=True)
    assert body["added"]["movies"] == 1
    assert api.sessions(MOVIE) == []
    assert api.rows(MOVIE)[0]["last_watched_at"] == at(0)


def test_is_rewatch_on_canonical_date_rejected(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    body = api.history({"movies": [movie(at(0), is_rewatch=True)]}, rewatch=True)
    assert body["added"]["movies"] == 0
    assert body["not_added"]["movies"] == [
        {
            "ids": {"simkl": MOVIE},
            "watched_at": at(0),
            "is_rewatch": True,
            "reason": "canonical_date",
        }
    ]
    assert api.sessions(MOVIE) == []


def test_plan_to_watch_cannot_be_rewatched(api: Api) -> None:
    api.history({"shows": [show(status="plantowatch")]})
    body = api.history({"shows": [show(is_rewatch=True)]}, rewatch=True)
    assert body["not_added"]["shows"] == [
        {"ids": {"simkl": SHOW}, "reason": "not_in_history"}
    ]
    assert api.sessions(SHOW) == []
    assert api.rows(SHOW)[0]["status"] == "plantowatch"


def test_item_not_in_history_cannot_be_rewatched(api: Api) -> None:
    body = api.history({"shows": [show(is_rewatch=True)]}, rewatch=True)
    assert body["added"]["shows"] == 0
    assert body["not_added"]["shows"][0]["reason"] == "not_in_history"
    assert api.all_items() == {}
