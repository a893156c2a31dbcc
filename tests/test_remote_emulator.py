"""read_account against the emulator: write history with sessions, read it back."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from importer.client import SimklClient
from importer.events import REMOTE_SCHEMA
from importer.remote import read_account

emulator_testing = pytest.importorskip("importer.emulator.testing")

CATALOG = {
    "movies": [{"title": "Heat", "year": 1995, "ids": {"simkl": 101, "tmdb": 949}}],
    "shows": [
        {
            "title": "Dark",
            "year": 2017,
            "ids": {"simkl": 201, "tvdb": 295779},
            "seasons": [{"number": 1, "aired": 2, "not_aired": 1}],
        }
    ],
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def episodes(*pairs: tuple[int, str]) -> list[dict]:
    return [{"number": number, "watched_at": when} for number, when in pairs]


def show_write(*pairs: tuple[int, str], **fields) -> dict:
    show = {
        "ids": {"tvdb": 295779},
        "seasons": [{"number": 1, "episodes": episodes(*pairs)}],
    }
    return {"shows": [{**show, **fields}]}


@pytest.fixture
def account():
    with emulator_testing.running_emulator(CATALOG) as emu:
        client = SimklClient(
            emu.base_url, None, emu.issue_token(), max_post_rate=1000.0
        )
        movie = {"ids": {"tmdb": 949}}
        client.add_history(
            {"movies": [{**movie, "watched_at": "2020-01-01T20:00:00Z"}]}, False
        )
        client.add_history(
            {"movies": [{**movie, "watched_at": "2021-01-01T20:00:00Z"}]}, True
        )
        client.add_history(
            show_write((1, "2020-02-01T20:00:00Z"), (2, "2020-02-02T20:00:00Z")), False
        )
        client.add_history(show_write((1, "2022-03-01T20:00:00Z")), True)
        yield read_account(client)


def test_round_trip_schema(account):
    assert account.schema == pl.Schema(REMOTE_SCHEMA)
    assert account.height == 5


def test_round_trip_movie_rows(account):
    movies = account.filter(pl.col("media_type") == "movie").sort("watched_at")
    assert movies["watched_at"].to_list() == [
        at("2020-01-01T20:00:00"),
        at("2021-01-01T20:00:00"),
    ]
    assert movies["is_rewatch"].to_list() == [False, True]
    assert movies["simkl"].to_list() == [101, 101]
    assert movies["tmdb"].to_list() == [949, 949]
    assert movies["rewatch_id"][0] is None
    assert movies["rewatch_id"][1] is not None
    assert movies["session_status"].to_list() == [None, "completed"]


def test_round_trip_episode_rows(account):
    shows = account.filter(pl.col("media_type") == "show").sort("is_rewatch", "episode")
    assert shows["episode"].to_list() == [1, 2, 1]
    assert shows["season"].to_list() == [1, 1, 1]
    assert shows["is_rewatch"].to_list() == [False, False, True]
    assert shows["tvdb"].to_list() == [295779] * 3
    assert shows["aired_episodes"].to_list() == [2, 2, 2]
    assert shows["watched_at"].to_list() == [
        at("2020-02-01T20:00:00"),
        at("2020-02-02T20:00:00"),
        at("2022-03-01T20:00:00"),
    ]
    session = shows.filter(pl.col("is_rewatch"))
    assert session["rewatch_id"][0] is not None
    assert session["session_status"].to_list() == ["active"]


def test_empty_account_reads_empty():
    with emulator_testing.running_emulator(CATALOG) as emu:
        client = SimklClient(emu.base_url, None, emu.issue_token())
        frame = read_account(client)
    assert frame.height == 0
    assert frame.schema == pl.Schema(REMOTE_SCHEMA)
