"""Resolver tests over HTTP against the emulator, with a catalog built here.

The catalog is seeded with the cases that make migrations go wrong: a
remake sharing its title, a year one off between databases, a title shared
by a film and a series, a film known under a non-Latin title, an id number
used by different items in different namespaces, episodes numbered
differently than in the source, and an anime with one long season.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from importer.client import SimklClient
from importer.emulator.testing import RunningEmulator, running_emulator
from importer.events import conform
from importer.resolve import Resolution, resolve_events

CATALOG: dict[str, list[dict[str, Any]]] = {
    "movies": [
        {"title": "Night Harbor", "year": 1979, "ids": {"simkl": 5001}},
        {"title": "Night Harbor", "year": 2014, "ids": {"simkl": 5002}},
        {"title": "Velvet Circuit", "year": 2020, "ids": {"simkl": 5003}},
        {"title": "Copper Tide", "year": 2011, "ids": {"simkl": 5004}},
        {
            "title": "The Lantern Girl",
            "year": 2003,
            "all_titles": ["灯籠の少女", "Tōrō no Shōjo"],
            "ids": {"simkl": 5005},
        },
        {
            "title": "Paper Moons",
            "year": 1988,
            "ids": {"simkl": 5006, "letterboxd": "paper-moons"},
        },
        {
            "title": "Ember Clock",
            "year": 2018,
            "ids": {"simkl": 5007, "imdb": "tt9800111", "tmdb": 81234},
        },
    ],
    "shows": [
        {
            "title": "Copper Tide",
            "year": 2011,
            "ids": {"simkl": 6001},
            "seasons": [{"number": 1, "aired": 8}],
        },
        {
            "title": "Harbor Patrol Weekly",
            "year": 2015,
            "ids": {"simkl": 6002, "tvdb": 81234},
            "seasons": [{"number": 1, "aired": 20}],
            "episodes": [{"season": 1, "number": 18, "ids": {"tvdb": 9811001}}],
        },
        {
            "title": "Kitchen Lab Myths",
            "year": 2003,
            "ids": {"simkl": 6003, "tvdb": 990001},
            "seasons": [{"number": 1, "aired": 2}],
            "episodes": [
                {"season": 1, "number": 1, "ids": {"tvdb": 9900101}},
                {"season": 1, "number": 2, "ids": {"tvdb": 9900102}},
            ],
        },
        {
            "title": "Office Hours US",
            "year": 2005,
            "ids": {"simkl": 6004, "tvdb": 990002},
            "seasons": [{"number": 0, "aired": 8}, {"number": 1, "aired": 6}],
            "episodes": [
                {"season": 0, "number": 3, "ids": {"tvdb": 9900201}},
                {"season": 0, "number": 7, "ids": {"tvdb": 9900202}},
            ],
        },
        {
            "title": "Deep Orbit Nine",
            "year": 1993,
            "ids": {"simkl": 6005, "tvdb": 990003},
            "seasons": [{"number": 1, "aired": 20}],
            "episodes": [
                {"season": 1, "number": 1, "ids": {"tvdb": 9900301}},
                {"season": 1, "number": 2, "ids": {"tvdb": 9900301}},
            ],
        },
    ],
    "anime": [
        {
            "title": "Starlit Courier",
            "year": 2021,
            "ids": {"simkl": 7001, "tvdb": 66001},
            "seasons": [{"number": 1, "aired": 50}],
        }
    ],
}


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with running_emulator(catalog=CATALOG, rate_limit=False) as running:
        yield running


@pytest.fixture
def client(emu: RunningEmulator) -> Iterator[SimklClient]:
    with SimklClient(emu.base_url, emu.client_id, max_get_rate=1000) as api:
        yield api


def events(*rows: dict[str, Any]) -> pl.DataFrame:
    base = {"source": "trakt", "source_file": "history.json", "record": "watch"}
    numbered = [{**base, "source_row": n, **row} for n, row in enumerate(rows, 1)]
    return conform(pl.DataFrame(numbered, infer_schema_length=None))


def resolve(client: SimklClient, frame: pl.DataFrame, tmp_path: Path) -> Resolution:
    return resolve_events(frame, client, cache_path=tmp_path / "cache.sqlite3")


def simkl_of(resolution: Resolution, title: str) -> int | None:
    found = resolution.matches.filter(pl.col("title") == title)["simkl"].to_list()
    assert len(found) == 1, resolution.matches
    return found[0]


def status_of(resolution: Resolution, title: str) -> str:
    return resolution.matches.filter(pl.col("title") == title)["status"][0]


def search_paths(emu: RunningEmulator, since: int) -> list[str]:
    return [r.path for r in emu.requests[since:] if r.path.startswith("/search")]


def test_movies_matched_or_reported(client: SimklClient, tmp_path: Path) -> None:
    frame = events(
        {"media_type": "movie", "title": "Night Harbor", "year": 2014},
        {"media_type": "movie", "title": "Night Harbor", "year": 1980},
        {"media_type": "movie", "title": "Velvet Circuit", "year": 2021},
        {"media_type": "movie", "title": "灯籠の少女", "year": 2003},
        {"media_type": "movie", "title": "Unknown Reel", "year": 2001},
    )
    res = resolve(client, frame, tmp_path)
    night = res.matches.filter(pl.col("title") == "Night Harbor").sort("year")
    assert night["status"].to_list() == ["ambiguous", "matched"]
    assert night["simkl"].to_list() == [None, 5002]
    assert simkl_of(res, "Velvet Circuit") == 5003
    assert (
        res.matches.filter(pl.col("title") == "Velvet Circuit")["confidence"][0]
        == "low"
    )
    assert simkl_of(res, "灯籠の少女") == 5005
    assert status_of(res, "Unknown Reel") == "not_found"
    assert sorted(res.unresolved["reason"].to_list()) == ["ambiguous", "not_found"]


def test_shared_title_film_and_series(client: SimklClient, tmp_path: Path) -> None:
    frame = events(
        {"media_type": "movie", "title": "Copper Tide", "year": 2011},
        {
            "media_type": "show",
            "title": "Copper Tide",
            "year": 2011,
            "season": 1,
            "episode": 3,
        },
    )
    res = resolve(client, frame, tmp_path)
    assert res.events.sort("media_type")["simkl"].to_list() == [5004, 6001]


def test_letterboxd_url_and_diary_row(client: SimklClient, tmp_path: Path) -> None:
    frame = events(
        {
            "source": "letterboxd",
            "source_file": "watched.csv",
            "media_type": "movie",
            "title": "Paper Moons",
            "year": 1988,
            "link": "https://letterboxd.com/film/paper-moons/",
        },
        {
            "source": "letterboxd",
            "source_file": "diary.csv",
            "media_type": "movie",
            "title": "Paper Moons",
            "year": 1988,
            "link": None,
        },
    )
    res = resolve(client, frame, tmp_path)
    assert res.events["simkl"].to_list() == [5006, 5006]
    assert res.matches["how"].to_list() == ["url"]


def test_id_kept_in_namespace(client: SimklClient, tmp_path: Path) -> None:
    frame = events(
        {
            "media_type": "show",
            "title": "Harbor Patrol Weekly",
            "tvdb": 81234,
            "season": 2023,
            "episode": 18,
            "ep_tvdb": 9811001,
        },
        {"media_type": "movie", "title": "Ember Clock", "tmdb": 81234},
        {"media_type": "show", "title": "Ember Clock", "tmdb": 81234},
    )
    res = resolve(client, frame, tmp_path)
    kept = res.events.select("media_type", "simkl", "season", "episode").to_dicts()
    assert {"media_type": "show", "simkl": 6002, "season": 1, "episode": 18} in kept
    assert {
        "media_type": "movie",
        "simkl": 5007,
        "season": None,
        "episode": None,
    } in kept
    assert res.unresolved["reason"].to_list() == ["not_found"]
    assert res.unresolved["media_type"].to_list() == ["show"]


def test_episodes_placed_by_episode_id(client: SimklClient, tmp_path: Path) -> None:
    def row(show: int, season: int, number: int, episode_id: int | None) -> dict:
        return {
            "media_type": "show",
            "tvdb": show,
            "season": season,
            "episode": number,
            "ep_tvdb": episode_id,
        }

    frame = events(
        row(990001, 2003, 1, 9900101),
        row(990001, 2003, 2, 9900102),
        row(990002, 0, 0, 9900201),
        row(990002, 0, 0, 9900202),
        row(990003, 1, 1, 9900301),
        row(990001, 2003, 3, 9900199),
    )
    res = resolve(client, frame, tmp_path)
    placed = res.events.select("simkl", "season", "episode", "source_row").rows()
    assert placed == [
        (6003, 1, 1, 1),
        (6003, 1, 2, 2),
        (6004, 0, 3, 3),
        (6004, 0, 7, 4),
        (6005, 1, 1, 5),
        (6005, 1, 2, 5),
    ]
    skip = res.unresolved.to_dicts()
    assert [(s["season"], s["episode"], s["reason"]) for s in skip] == [
        (2003, 3, "not_found")
    ]
    assert "9900199" in skip[0]["detail"]


def test_anime_absolute_numbers(client: SimklClient, tmp_path: Path) -> None:
    def row(season: int, number: int, absolute: int | None) -> dict:
        return {
            "media_type": "show",
            "title": "Starlit Courier",
            "tvdb": 66001,
            "season": season,
            "episode": number,
            "episode_abs": absolute,
        }

    both = resolve(client, events(row(2, 3, 27), row(2, 4, None)), tmp_path / "a")
    assert both.events.select("season", "episode").rows() == [(1, 27), (1, 28)]
    assert both.placements["via"].to_list() == ["absolute", "computed_absolute"]

    alone = resolve(client, events(row(2, 4, None)), tmp_path / "b")
    assert alone.events.height == 0
    assert "S02E04" in alone.unresolved["detail"][0]


def test_rerun_sends_no_search(
    emu: RunningEmulator, client: SimklClient, tmp_path: Path
) -> None:
    frame = events(
        {"media_type": "movie", "title": "Night Harbor", "year": 2014},
        {"media_type": "movie", "title": "Night Harbor"},
        {"media_type": "movie", "title": "Unknown Reel", "year": 2001},
        {
            "media_type": "show",
            "tvdb": 990003,
            "season": 1,
            "episode": 1,
            "ep_tvdb": 9900301,
        },
    )
    before = len(emu.requests)
    first = resolve(client, frame, tmp_path)
    assert search_paths(emu, before)
    middle = len(emu.requests)
    second = resolve(client, frame, tmp_path)
    assert emu.requests[middle:] == []
    assert second.events.equals(first.events)
    assert second.unresolved.equals(first.unresolved)
