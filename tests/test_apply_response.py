from __future__ import annotations

from datetime import UTC, datetime

from importer.apply import interpret_response
from importer.batch import Entry, Request, Viewing
from importer.journal import CAPPED, CONFIRMED, NOT_FOUND, REJECTED, SENT, UNKNOWN

WHEN = datetime(2021, 3, 1, 20, tzinfo=UTC)


def movie(key: str, ids: dict, title: str = "Copper Tide", year: int = 2011) -> Entry:
    return Entry(
        item_key=key,
        section="movies",
        title=title,
        year=year,
        ids=tuple(ids.items()),
        viewings=(Viewing(write_key=f"{key}@w", watched_at=WHEN),),
    )


def show(key: str, episodes: list[int], session: str | None = None) -> Entry:
    return Entry(
        item_key=key,
        section="shows",
        title="Lantern Street",
        year=2022,
        ids=(("tvdb", 60001),),
        viewings=tuple(
            Viewing(write_key=f"{key}|e{n}", watched_at=WHEN, season=1, episode=n)
            for n in episodes
        ),
        session_key=session,
    )


def added(movies=0, shows=0, episodes=0, statuses=None) -> dict:
    return {
        "movies": movies,
        "shows": shows,
        "episodes": episodes,
        "statuses": statuses or [],
    }


def empty_buckets() -> dict:
    return {"movies": [], "shows": [], "episodes": []}


def test_all_added_confirmed():
    request = Request(0, 0, (movie("m1", {"tmdb": 1}), show("s", [1, 2])))
    response = {
        "added": added(movies=1, shows=1, episodes=2),
        "not_found": empty_buckets(),
        "not_added": empty_buckets(),
    }
    outcomes = interpret_response(request, response)
    assert {k: o.status for k, o in outcomes.items()} == {
        "m1@w": CONFIRMED,
        "s|e1": CONFIRMED,
        "s|e2": CONFIRMED,
    }


def test_not_found_movie_by_title():
    nowhere = movie("m2", {}, title="Nowhere Film", year=1999)
    request = Request(0, 0, (movie("m1", {"tmdb": 1}), nowhere))
    response = {
        "added": added(movies=1),
        "not_found": {
            "movies": [{"title": "Nowhere Film", "year": 1999}],
            "shows": [],
            "episodes": [],
        },
    }
    outcomes = interpret_response(request, response)
    assert outcomes["m1@w"].status == CONFIRMED
    assert outcomes["m2@w"].status == NOT_FOUND


def test_not_found_episode_only():
    request = Request(0, 0, (show("s", [1, 2, 9]),))
    echo = {
        "ids": {"tvdb": "60001"},
        "seasons": [{"number": 1, "episodes": [{"number": 9}]}],
    }
    response = {
        "added": added(shows=1, episodes=2),
        "not_found": {"movies": [], "shows": [], "episodes": [echo]},
    }
    outcomes = interpret_response(request, response)
    assert outcomes["s|e9"].status == NOT_FOUND
    assert outcomes["s|e1"].status == CONFIRMED
    assert outcomes["s|e2"].status == CONFIRMED


def test_zero_added_is_unconfirmed():
    request = Request(0, 0, (movie("m1", {"tmdb": 1}),))
    response = {"added": added(), "not_found": empty_buckets()}
    outcomes = interpret_response(request, response)
    assert outcomes["m1@w"].status == SENT


def test_non_object_body_is_unconfirmed():
    request = Request(0, 0, (movie("m1", {"tmdb": 1}),))
    assert interpret_response(request, None)["m1@w"].status == SENT


def test_not_added_reasons_per_episode():
    request = Request(1, 1, (show("s", [1, 2, 3], session="s#1"),))
    echo = {
        "ids": {"tvdb": 60001},
        "seasons": [
            {
                "number": 1,
                "episodes": [
                    {"number": 2, "reason": "rewatch_limit"},
                    {"number": 3, "reason": "canonical_date"},
                ],
            }
        ],
    }
    status = {
        "request": {"ids": {"tvdb": 60001}, "type": "show"},
        "response": {"rewatch_id": 31, "rewatch_status": "active"},
    }
    response = {
        "added": added(shows=1, episodes=1, statuses=[status]),
        "not_added": {"movies": [], "shows": [echo], "episodes": []},
    }
    outcomes = interpret_response(request, response)
    assert outcomes["s|e1"].status == CONFIRMED
    assert outcomes["s|e1"].rewatch_id == 31
    assert outcomes["s|e2"].status == CAPPED
    assert outcomes["s|e3"].status == REJECTED


def test_unknown_rewatch_id_needs_read_back():
    request = Request(1, 1, (show("s", [1], session="s#1"),))
    echo = {"ids": {"tvdb": 60001}, "reason": "rewatch_id_not_found"}
    response = {
        "added": added(),
        "not_added": {"movies": [], "shows": [echo], "episodes": []},
    }
    outcomes = interpret_response(request, response)
    assert outcomes["s|e1"].status == UNKNOWN


def test_rewatch_id_taken_from_status():
    first = show("s", [1, 2], session="s#1")
    other = Entry(
        item_key="m",
        section="movies",
        title="Glass Orchard",
        year=2008,
        ids=(("tmdb", 2),),
        viewings=(Viewing(write_key="m@w", watched_at=WHEN),),
        session_key="m#1",
    )
    request = Request(1, 1, (first, other))
    statuses = [
        {
            "request": {"ids": {"tvdb": 60001}, "type": "show"},
            "response": {"rewatch_id": 7482, "rewatch_status": "active"},
        },
        {
            "request": {"ids": {"tmdb": 2}, "type": "movie"},
            "response": {"rewatch_id": 7483, "rewatch_status": "completed"},
        },
    ]
    response = {"added": added(movies=1, shows=1, episodes=2, statuses=statuses)}
    outcomes = interpret_response(request, response)
    assert outcomes["s|e1"].rewatch_id == 7482
    assert outcomes["m@w"].rewatch_id == 7483


def test_rewatch_without_session_unconfirmed():
    request = Request(1, 1, (show("s", [1, 2], session="s#1"),))
    status = {
        "request": {"ids": {"tvdb": 60001}, "type": "show"},
        "response": {"rewatch_id": None, "rewatch_status": None},
    }
    response = {"added": added(shows=1, episodes=2, statuses=[status])}
    outcomes = interpret_response(request, response)
    assert outcomes["s|e1"].status == SENT
    assert outcomes["s|e2"].status == SENT
