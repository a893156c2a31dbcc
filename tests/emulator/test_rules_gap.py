"""The 48-hour rule, its anchoring on stored events, and the conflict split."""

from __future__ import annotations

from .support import LONG_SHOW, MOVIE, Api, at, movie, show


def _watch_long_show(api: Api) -> None:
    episodes = [(1, n, at(0, n)) for n in range(1, 4)]
    api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]})


def test_gap_collapses_into_session(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    api.history({"movies": [movie(at(10))]}, rewatch=True)
    body = api.history({"movies": [movie(at(10, 30))]}, rewatch=True)
    [row] = api.sessions(MOVIE)
    assert body["added"]["movies"] == 0
    assert row["last_watched_at"] == at(10, 30)


def test_gap_collapses_into_canonical(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    body = api.history({"movies": [movie(at(0, 47))]}, rewatch=True)
    assert body["added"]["movies"] == 0
    assert body["not_added"]["movies"] == []
    assert api.sessions(MOVIE) == []


def test_gap_of_exactly_48h_is_new_viewing(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    body = api.history({"movies": [movie(at(2))]}, rewatch=True)
    assert body["added"]["movies"] == 1
    assert len(api.sessions(MOVIE)) == 1


def test_gap_is_per_episode_not_per_show(api: Api) -> None:
    _watch_long_show(api)
    episodes = [(1, 1, at(10)), (1, 2, at(10, 5))]
    body = api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]}, rewatch=True)
    [row] = api.sessions(LONG_SHOW)
    assert body["added"]["episodes"] == 2
    assert row["watched_episodes_count"] == 2


def test_gap_anchors_on_stored_events(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    for hours in (0, 30, 60):
        api.history({"movies": [movie(at(10, hours))]}, rewatch=True)
    rows = api.sessions(MOVIE)
    assert [row["last_watched_at"] for row in rows] == [at(10, 30), at(10, 60)]


def test_gap_anchors_for_episodes_too(api: Api) -> None:
    _watch_long_show(api)
    for hours in (0, 30, 60):
        entry = show((1, 1, at(10, hours)), simkl=LONG_SHOW)
        api.history({"shows": [entry]}, rewatch=True)
    rows = api.sessions(LONG_SHOW)
    assert [row["last_watched_at"] for row in rows] == [at(10, 30), at(10, 60)]
    assert [row["watched_episodes_count"] for row in rows] == [1, 1]


def test_conflict_split_closes_active_session(api: Api) -> None:
    _watch_long_show(api)
    first = [(1, 1, at(10)), (1, 2, at(10, 1))]
    api.history({"shows": [show(*first, simkl=LONG_SHOW)]}, rewatch=True)
    body = api.history({"shows": [show((1, 1, at(20)), simkl=LONG_SHOW)]}, rewatch=True)
    old, new = api.sessions(LONG_SHOW)
    assert (old["rewatch_status"], old["watched_episodes_count"]) == ("closed", 2)
    assert (new["rewatch_status"], new["watched_episodes_count"]) == ("active", 1)
    assert new["seasons"][0]["episodes"] == [{"number": 1, "watched_at": at(20)}]
    assert body["added"]["statuses"][0]["response"]["rewatch_id"] == new["rewatch_id"]


def test_conflict_split_inside_one_request(api: Api) -> None:
    _watch_long_show(api)
    episodes = [(1, 1, at(10)), (1, 2, at(10, 1)), (1, 1, at(20))]
    api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]}, rewatch=True)
    counts = [row["watched_episodes_count"] for row in api.sessions(LONG_SHOW)]
    assert counts == [2, 1]
