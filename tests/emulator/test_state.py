"""Saved state across restarts, and the auto catalog for real exports."""

from __future__ import annotations

from pathlib import Path

import httpx

from importer.emulator.testing import running_emulator

from .support import CATALOG, MOVIE, Api, at, movie


def test_state_survives_restart(tmp_path: Path, http_client: httpx.Client) -> None:
    state = tmp_path / "account.json"
    with running_emulator(CATALOG, state_file=state) as emu:
        api = Api(emu, emu.issue_token(), http_client)
        api.history({"movies": [movie(at(0))]})
        first = api.history({"movies": [movie(at(10))]}, rewatch=True)
        token = api.token
    assert sorted(p.name for p in tmp_path.iterdir()) == ["account.json"]
    with running_emulator(CATALOG, state_file=state) as emu:
        api = Api(emu, token, http_client)
        second = api.history({"movies": [movie(at(20))]}, rewatch=True)
        rows = api.rows(MOVIE)
    first_id = first["added"]["statuses"][0]["response"]["rewatch_id"]
    second_id = second["added"]["statuses"][0]["response"]["rewatch_id"]
    assert rows[0]["last_watched_at"] == at(0)
    assert [row["rewatch_id"] for row in rows[1:]] == [first_id, second_id]
    assert second_id > first_id


def test_auto_catalog_accepts_any_id(http_client: httpx.Client) -> None:
    with running_emulator({}, auto_catalog=True) as emu:
        api = Api(emu, emu.issue_token(), http_client)
        body = api.history(
            {
                "movies": [{"title": "Real Film", "year": 1999, "ids": {"tmdb": 603}}],
                "shows": [
                    {
                        "ids": {"tvdb": 81189},
                        "seasons": [{"number": 9, "episodes": [{"number": 99}]}],
                    }
                ],
                "anime": [{"ids": {"mal": 1}, "episodes": [{"number": 1}]}],
            }
        )
        items = api.all_items()
    assert body["added"] == {**body["added"], "movies": 1, "shows": 2, "episodes": 2}
    assert body["not_found"] == {"movies": [], "shows": [], "episodes": []}
    assert items["movies"][0]["movie"]["title"] == "Real Film"
    assert items["anime"][0]["show"]["ids"]["mal"] == "1"


def test_auto_catalog_ids_are_stable(http_client: httpx.Client) -> None:
    found = []
    for _ in range(2):
        with running_emulator({}, auto_catalog=True) as emu:
            api = Api(emu, emu.issue_token(), http_client)
            [result] = api.client.get("/search/id", params={"imdb": "tt0133093"}).json()
            found.append(result["ids"]["simkl"])
    assert found[0] == found[1]


def test_auto_catalog_links_ids_of_one_item(http_client: httpx.Client) -> None:
    with running_emulator({}, auto_catalog=True) as emu:
        api = Api(emu, emu.issue_token(), http_client)
        api.history({"movies": [{"ids": {"tmdb": 603}, "watched_at": at(0)}]})
        both = {"ids": {"tmdb": 603, "imdb": "tt0133093"}, "watched_at": at(1)}
        api.history({"movies": [both]})
        body = api.history({"movies": [{"ids": {"imdb": "tt0133093"}}]})
        [row] = api.all_items()["movies"]
    assert body["added"]["movies"] == 0
    assert row["movie"]["ids"]["imdb"] == "tt0133093"
    assert row["last_watched_at"] == at(0)


def test_auto_items_survive_restart(tmp_path: Path, http_client: httpx.Client) -> None:
    state = tmp_path / "account.json"
    with running_emulator({}, auto_catalog=True, state_file=state) as emu:
        api = Api(emu, emu.issue_token(), http_client)
        api.history(
            {"movies": [{"title": "Kept", "ids": {"tmdb": 77}, "watched_at": at(0)}]}
        )
        token = api.token
    with running_emulator({}, auto_catalog=True, state_file=state) as emu:
        api = Api(emu, token, http_client)
        [row] = api.all_items()["movies"]
    assert row["movie"]["title"] == "Kept"
    assert row["movie"]["ids"]["tmdb"] == "77"
