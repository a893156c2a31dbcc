"""A small catalog, time helpers and a signed-in HTTP helper for emulator tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from importer.emulator.testing import RunningEmulator

MOVIE = 101
SHOW = 201  # one season of three aired episodes
LONG_SHOW = 202  # two seasons of ten aired episodes
AIRING_SHOW = 203  # two aired and two not-aired episodes
DOUBLE_SHOW = 204  # one TVDB episode id names S01E02 and S01E03
ANIME = 301

CATALOG: dict[str, Any] = {
    "movies": [
        {
            "title": "Copper Tide",
            "year": 2011,
            "all_titles": ["Marea de cobre", "銅の潮"],
            "ids": {
                "simkl": MOVIE,
                "imdb": "tt0000101",
                "tmdb": 901,
                "letterboxd": "copper-tide",
            },
        },
        {"title": "Glass Orchard", "year": 2008, "ids": {"simkl": 102, "tmdb": 902}},
        {"title": "Twin Gates", "year": 2010, "ids": {"simkl": 103, "tmdb": 903}},
        {"title": "Twin Gates", "year": 2010, "ids": {"simkl": 104, "tmdb": 904}},
    ],
    "shows": [
        {
            "title": "Tiny Town",
            "year": 2020,
            "ids": {"simkl": SHOW, "tvdb": 7001, "tmdb": 901},
            "seasons": [{"number": 1, "aired": 3}],
            "episodes": [
                {"season": 1, "number": 1, "ids": {"tvdb": 71001, "imdb": "tt0071001"}}
            ],
        },
        {
            "title": "Long Haul",
            "year": 2015,
            "ids": {"simkl": LONG_SHOW, "tvdb": 7002},
            "seasons": [{"number": 1, "aired": 10}, {"number": 2, "aired": 10}],
        },
        {
            "title": "Lantern Road",
            "year": 2026,
            "ids": {"simkl": AIRING_SHOW, "tvdb": 7003},
            "seasons": [{"number": 1, "aired": 2, "not_aired": 2}],
        },
        {
            "title": "Double Feature",
            "year": 2018,
            "ids": {"simkl": DOUBLE_SHOW, "tvdb": 7004},
            "seasons": [{"number": 1, "aired": 4}],
            "episodes": [
                {"season": 1, "number": 2, "ids": {"tvdb": 74099}},
                {"season": 1, "number": 3, "ids": {"tvdb": 74099}},
            ],
        },
    ],
    "anime": [
        {
            "title": "Starfall",
            "year": 2021,
            "all_titles": ["星降り"],
            "ids": {"simkl": ANIME, "mal": 5001, "anidb": 6001},
            "seasons": [{"number": 1, "aired": 2}],
        }
    ],
}

BASE = datetime(2020, 1, 1, tzinfo=UTC)


def at(days: float, hours: float = 0) -> str:
    """Return the instant `days` and `hours` after 2020-01-01 as Simkl text."""
    moment = BASE + timedelta(days=days, hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def movie(when: str | None = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"ids": {"simkl": MOVIE}, **extra}
    if when is not None:
        entry["watched_at"] = when
    return entry


def show(
    *episodes: tuple[int, int, str], simkl: int = SHOW, **extra: Any
) -> dict[str, Any]:
    """Build a shows[] entry listing (season, episode, watched_at) triples."""
    seasons: dict[int, list[dict[str, Any]]] = {}
    for season, number, when in episodes:
        seasons.setdefault(season, []).append({"number": number, "watched_at": when})
    entry: dict[str, Any] = {"ids": {"simkl": simkl}, **extra}
    if seasons:
        entry["seasons"] = [{"number": n, "episodes": e} for n, e in seasons.items()]
    return entry


class Api:
    """A signed-in httpx client for the emulator, with short helpers."""

    def __init__(
        self, emu: RunningEmulator, token: str, client: httpx.Client | None = None
    ) -> None:
        self.emu = emu
        self.token = token
        self.client = client or httpx.Client(timeout=5)
        self.client.base_url = httpx.URL(emu.base_url)
        self.client.params = httpx.QueryParams({"client_id": emu.client_id})
        self.client.headers["Authorization"] = f"Bearer {token}"

    def history(
        self, body: dict[str, Any], *, rewatch: bool = False, expect: int = 201
    ) -> dict[str, Any]:
        params = {"allow_rewatch": "yes"} if rewatch else {}
        response = self.client.post("/sync/history", json=body, params=params)
        assert response.status_code == expect, response.text
        return response.json()

    def all_items(self, path: str = "", **params: str) -> Any:
        response = self.client.get(f"/sync/all-items{path}", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def rows(self, simkl: int, **params: str) -> list[dict[str, Any]]:
        """Return every all-items row of one item, canonical row first."""
        query = {
            "allow_rewatch": "yes",
            "extended": "full",
            "episode_watched_at": "yes",
        }
        query.update(params)
        body = self.all_items(**query)
        found = []
        for rows in body.values():
            for row in rows:
                media = row.get("movie") or row.get("show")
                if media["ids"]["simkl"] == simkl:
                    found.append(row)
        return found

    def sessions(self, simkl: int) -> list[dict[str, Any]]:
        return [row for row in self.rows(simkl) if row["is_rewatch"]]
