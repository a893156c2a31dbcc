"""Responses of rewatch writes and the points the documentation leaves open."""

from __future__ import annotations

from .support import LONG_SHOW, MOVIE, Api, at, movie, show

UNKNOWN_DATE = "1970-01-01T00:00:01Z"


def test_response_reports_rewatch_id_and_status(api: Api) -> None:
    api.history({"shows": [show((1, 1, at(0)), simkl=LONG_SHOW)]})
    body = api.history({"shows": [show((1, 1, at(10)), simkl=LONG_SHOW)]}, rewatch=True)
    [status] = body["added"]["statuses"]
    assert status["request"]["type"] == "show"
    assert status["response"]["simkl_type"] == "tv"
    assert status["response"]["rewatch_status"] == "active"
    assert status["response"]["rewatch_id"] == api.sessions(LONG_SHOW)[0]["rewatch_id"]


def test_pinned_rewatch_id_continues_session(api: Api) -> None:
    api.history({"shows": [show((1, 1, at(0)), (1, 2, at(0, 1)), simkl=LONG_SHOW)]})
    body = api.history({"shows": [show((1, 1, at(10)), simkl=LONG_SHOW)]}, rewatch=True)
    session_id = body["added"]["statuses"][0]["response"]["rewatch_id"]
    pinned = show((1, 2, at(11)), simkl=LONG_SHOW, rewatch_id=session_id)
    api.history({"shows": [pinned]}, rewatch=True)
    [row] = api.sessions(LONG_SHOW)
    assert row["rewatch_id"] == session_id
    assert row["watched_episodes_count"] == 2


def test_rejected_date_reported_per_item(api: Api) -> None:
    api.history(
        {"movies": [movie(at(0)), {"ids": {"simkl": 102}, "watched_at": at(0)}]}
    )
    body = api.history(
        {"movies": [movie(at(0)), {"ids": {"simkl": 102}, "watched_at": at(9)}]},
        rewatch=True,
    )
    assert body["added"]["movies"] == 1
    assert [entry["reason"] for entry in body["not_added"]["movies"]] == [
        "canonical_date"
    ]
    assert body["not_added"]["movies"][0]["ids"] == {"simkl": MOVIE}


def test_rejected_episode_date_reported_per_episode(api: Api) -> None:
    api.history({"shows": [show((1, 1, at(0)), (1, 2, at(1)), simkl=LONG_SHOW)]})
    episodes = [(1, 1, at(0)), (1, 2, at(10))]
    body = api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]}, rewatch=True)
    assert body["added"]["episodes"] == 1
    assert body["not_added"]["shows"] == [
        {
            "ids": {"simkl": LONG_SHOW},
            "seasons": [
                {
                    "number": 1,
                    "episodes": [
                        {"number": 1, "watched_at": at(0), "reason": "canonical_date"}
                    ],
                }
            ],
        }
    ]


def test_unknown_date_sentinel_is_ordinary(api: Api) -> None:
    body = api.history({"movies": [movie(UNKNOWN_DATE)]})
    assert body["added"]["movies"] == 1
    again = api.history({"movies": [movie(UNKNOWN_DATE)]}, rewatch=True)
    assert again["not_added"]["movies"][0]["reason"] == "canonical_date"
    api.history({"movies": [movie(at(0))]}, rewatch=True)
    assert api.rows(MOVIE)[0]["last_watched_at"] == UNKNOWN_DATE
    assert api.sessions(MOVIE)[0]["last_watched_at"] == at(0)


def test_writes_apply_in_request_order(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    body = api.history({"movies": [movie(at(30)), movie(at(10))]}, rewatch=True)
    ids = [s["response"]["rewatch_id"] for s in body["added"]["statuses"]]
    rows = api.sessions(MOVIE)
    assert [row["rewatch_id"] for row in rows] == ids
    assert [row["last_watched_at"] for row in rows] == [at(30), at(10)]


def test_viewing_before_canonical_becomes_session(api: Api) -> None:
    api.history({"movies": [movie(at(100))]})
    api.history({"movies": [movie(at(0))]}, rewatch=True)
    assert api.rows(MOVIE)[0]["last_watched_at"] == at(100)
    assert api.sessions(MOVIE)[0]["last_watched_at"] == at(0)


def test_repeated_plain_write_changes_nothing(api: Api) -> None:
    body = {"shows": [show((1, 1, at(0)), simkl=LONG_SHOW)], "movies": [movie(at(0))]}
    api.history(body)
    before = api.client.get("/sync/activities").json()
    again = api.history(body)
    assert api.client.get("/sync/activities").json() == before
    counts = {k: again["added"][k] for k in ("movies", "shows", "episodes")}
    assert counts == {"movies": 0, "shows": 0, "episodes": 0}
    assert again["not_found"] == {"movies": [], "shows": [], "episodes": []}
    assert again["not_added"] == {"movies": [], "shows": [], "episodes": []}
