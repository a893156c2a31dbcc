"""Resolver tests on failure cases from real migrations, read by the readers.

Each case file goes through `load_events` and is resolved against the
emulator with a catalog built here from the case's expected layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from importer.client import SimklClient
from importer.emulator.testing import running_emulator
from importer.pipeline import load_events
from importer.resolve import Resolution, resolve_events

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "cases"

CATALOG: dict[str, list[dict[str, Any]]] = {
    "movies": [
        {
            "title": "Copper Tide",
            "year": 2011,
            "ids": {"simkl": 8101, "imdb": "tt9900603"},
        },
        {"title": "Homecoming", "year": 2016, "ids": {"simkl": 8102}},
        {"title": "Pilot", "year": 2005, "ids": {"simkl": 8103}},
        {
            "title": "Ember Clock",
            "year": 2018,
            "ids": {"simkl": 8104, "imdb": "tt9800111", "tmdb": 81234},
        },
    ],
    "shows": [
        {
            "title": "Lantern Street",
            "year": 2022,
            "ids": {"simkl": 8201, "imdb": "tt9900602"},
            "seasons": [{"number": 1, "aired": 10}],
        },
        {
            "title": "Harbor Patrol Weekly",
            "year": 2015,
            "ids": {"simkl": 8202, "tvdb": 81234},
            "seasons": [{"number": 1, "aired": 20}],
        },
        {
            "title": "Kitchen Lab Myths",
            "year": 2003,
            "ids": {"simkl": 8203, "tvdb": 990001},
            "seasons": [{"number": 1, "aired": 10}],
            "episodes": [
                {"season": 1, "number": 1, "ids": {"tvdb": 9900101}},
                {"season": 1, "number": 2, "ids": {"tvdb": 9900102}},
            ],
        },
        {
            "title": "Office Hours US",
            "year": 2005,
            "ids": {"simkl": 8204, "tvdb": 990002},
            "seasons": [{"number": 0, "aired": 9}, {"number": 1, "aired": 6}],
            "episodes": [
                {"season": 0, "number": 3, "ids": {"tvdb": 9900201}},
                {"season": 0, "number": 7, "ids": {"tvdb": 9900202}},
            ],
        },
        {
            "title": "Deep Orbit Nine",
            "year": 1993,
            "ids": {"simkl": 8205, "tvdb": 990003},
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
            "ids": {"simkl": 8301, "tvdb": 66001},
            "seasons": [{"number": 1, "aired": 50}],
        }
    ],
}

pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason="shared cases not present")


@pytest.fixture(scope="module")
def client() -> Iterator[SimklClient]:
    with running_emulator(catalog=CATALOG, rate_limit=False) as emu:
        with SimklClient(emu.base_url, emu.client_id, max_get_rate=1000) as api:
            yield api


def resolve_case(name: str, client: SimklClient, tmp_path: Path) -> Resolution:
    prepared = load_events([CASES / name])
    return resolve_events(
        prepared.events, client, cache_path=tmp_path / "cache.sqlite3"
    )


def test_imdb_episode_rows_never_movies(client: SimklClient, tmp_path: Path) -> None:
    res = resolve_case("B10_imdb_episode_matched_as_movie.csv", client, tmp_path)
    kept = res.events.select("title", "media_type", "simkl").rows()
    assert ("Copper Tide", "movie", 8101) in kept
    assert ("Lantern Street", "show", 8201) in kept
    assert 8102 not in res.events["simkl"].to_list()
    assert 8103 not in res.events["simkl"].to_list()
    pilot = res.unresolved.filter(pl.col("title") == "Pilot").to_dicts()
    assert [row["reason"] for row in pilot] == ["not_found"]
    assert "not searched as a movie title" in pilot[0]["detail"]


def test_namespace_collision_kept_apart(client: SimklClient, tmp_path: Path) -> None:
    res = resolve_case("B11_id_namespace_collision.json", client, tmp_path)
    assert res.events.select("title", "simkl").rows() == [("Ember Clock", 8104)]
    show = res.unresolved.to_dicts()
    assert [(row["title"], row["season"], row["episode"]) for row in show] == [
        ("Harbor Patrol Weekly", 2023, 18)
    ]
    assert res.matches.filter(pl.col("title") == "Harbor Patrol Weekly")[
        "simkl"
    ].to_list() == [8202]


def test_tvtime_episodes_placed_by_id(client: SimklClient, tmp_path: Path) -> None:
    res = resolve_case("B12_tvtime_numbering_divergence.csv", client, tmp_path)
    placed = res.events.select("simkl", "season", "episode").rows()
    assert placed == [
        (8203, 1, 1),
        (8203, 1, 2),
        (8204, 0, 3),
        (8204, 0, 7),
        (8205, 1, 1),
        (8205, 1, 2),
        (8205, 1, 1),
        (8205, 1, 2),
    ]
    assert res.unresolved.height == 0


def test_anime_absolute_numbering(client: SimklClient, tmp_path: Path) -> None:
    res = resolve_case("B13_anime_absolute_numbering.json", client, tmp_path)
    placed = res.events.select("simkl", "season", "episode").rows()
    assert placed == [(8301, 1, 27), (8301, 1, 28)]
    assert res.placements["via"].to_list() == ["absolute", "computed_absolute"]
    assert res.placements["confidence"].to_list() == ["high", "low"]
