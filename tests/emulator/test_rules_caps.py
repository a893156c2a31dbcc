"""The 50-session cap and account tiers."""

from __future__ import annotations

import httpx

from importer.emulator.testing import RunningEmulator

from .support import LONG_SHOW, MOVIE, Api, at, movie, show


def test_fifty_first_movie_session_not_added(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    viewings = [movie(at(3 * n)) for n in range(1, 52)]
    body = api.history({"movies": viewings}, rewatch=True)
    assert body["added"]["movies"] == 50
    assert body["not_added"]["movies"] == [{**viewings[-1], "reason": "rewatch_limit"}]
    assert len(api.sessions(MOVIE)) == 50


def test_cap_holds_on_later_requests(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    api.history({"movies": [movie(at(3 * n)) for n in range(1, 51)]}, rewatch=True)
    # Nothing is created, so the status is 200 rather than 201.
    body = api.history({"movies": [movie(at(400))]}, rewatch=True, expect=200)
    assert body["added"]["movies"] == 0
    assert body["not_added"]["movies"][0]["reason"] == "rewatch_limit"


def test_fifty_first_show_session_not_added(api: Api) -> None:
    api.history({"shows": [show((1, 1, at(0)), simkl=LONG_SHOW)]})
    episodes = [(1, 1, at(3 * n)) for n in range(1, 52)]
    body = api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]}, rewatch=True)
    assert body["added"]["episodes"] == 50
    assert body["not_added"]["shows"] == [
        {
            "ids": {"simkl": LONG_SHOW},
            "seasons": [
                {
                    "number": 1,
                    "episodes": [
                        {"number": 1, "watched_at": at(153), "reason": "rewatch_limit"}
                    ],
                }
            ],
        }
    ]
    assert len(api.sessions(LONG_SHOW)) == 50


def test_empty_session_at_cap_not_added(api: Api) -> None:
    api.history(
        {"shows": [show(status="completed", watched_at=at(0), simkl=LONG_SHOW)]}
    )
    for n in range(50):
        entry = show(simkl=LONG_SHOW, is_rewatch=True, watched_at=at(n))
        close = {**entry, "rewatch_status": "closed"}
        api.history({"shows": [close]}, rewatch=True)
    body = api.history(
        {"shows": [show(simkl=LONG_SHOW, is_rewatch=True)]}, rewatch=True, expect=200
    )
    assert body["not_added"]["shows"] == [
        {"ids": {"simkl": LONG_SHOW}, "reason": "rewatch_limit"}
    ]
    assert len(api.sessions(LONG_SHOW)) == 50


def test_free_tier_rewatch_is_silent_noop(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    emu.reset(tier="free")
    api = Api(emu, emu.issue_token(), http_client)
    api.history({"movies": [movie(at(0))]})
    body = api.history({"movies": [movie(at(10))]}, rewatch=True, expect=200)
    assert {k: body["added"][k] for k in ("movies", "shows", "episodes")} == {
        "movies": 0,
        "shows": 0,
        "episodes": 0,
    }
    assert body["not_added"] == {"movies": [], "shows": [], "episodes": []}
    assert api.sessions(MOVIE) == []


def test_free_tier_still_writes_canonical(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    emu.reset(tier="free")
    api = Api(emu, emu.issue_token(), http_client)
    body = api.history({"movies": [movie(at(0))]}, rewatch=True, expect=200)
    assert body["added"]["movies"] == 1
    assert api.rows(MOVIE)[0]["last_watched_at"] == at(0)
