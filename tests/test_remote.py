"""Tests of reading the account back into the remote frame."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import polars as pl
import pytest

from importer.client import SimklClient
from importer.events import REMOTE_SCHEMA
from importer.remote import parse_ids, read_account, remote_frame


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


MOVIE = {"title": "Moneyball", "year": 2011, "ids": {"simkl": 55328, "tmdb": "60308"}}
SHOW = {"title": "Dark", "year": 2017, "ids": {"simkl": 583436, "tvdb": "295779"}}

BODY = {
    "movies": [
        {
            "last_watched_at": "2014-08-09T07:25:55.000Z",
            "status": "completed",
            "movie": MOVIE,
        },
        {
            "last_watched_at": "2016-01-02T20:00:00Z",
            "is_rewatch": True,
            "rewatch_id": 71,
            "rewatch_status": "completed",
            "movie": MOVIE,
        },
        {
            "last_watched_at": None,
            "status": "plantowatch",
            "movie": {"ids": {"simkl": 1}},
        },
    ],
    "shows": [
        {
            "status": "watching",
            "total_episodes_count": 10,
            "not_aired_episodes_count": 2,
            "show": SHOW,
            "seasons": [
                {
                    "number": 1,
                    "episodes": [
                        {"number": 1, "watched_at": "2020-01-01T20:00:00Z"},
                        {"number": 2, "watched_at": "1970-01-01T00:00:01Z"},
                    ],
                }
            ],
        },
        {
            "is_rewatch": True,
            "rewatch_id": 72,
            "rewatch_status": "active",
            "last_watched_at": "2021-05-01T20:00:00Z",
            "total_episodes_count": 10,
            "not_aired_episodes_count": 2,
            "show": SHOW,
            "seasons": [
                {
                    "number": 1,
                    "episodes": [{"number": 1, "watched_at": "2021-05-01T20:00:00Z"}],
                }
            ],
        },
        {
            "is_rewatch": True,
            "rewatch_id": 73,
            "rewatch_status": "closed",
            "last_watched_at": "2019-01-01T20:00:00Z",
            "show": SHOW,
            "seasons": [],
        },
    ],
    "anime": [
        {
            "anime_type": "tv",
            "show": {
                "title": "Mushishi",
                "year": 2005,
                "ids": {"simkl": 39000, "mal": "457"},
            },
            "seasons": [{"number": 1, "episodes": [{"number": 3, "watched_at": None}]}],
        }
    ],
}


def test_frame_has_remote_schema():
    frame = remote_frame(BODY)
    assert frame.schema == pl.Schema(REMOTE_SCHEMA)
    assert frame.height == 7


def test_movie_canonical_and_session_rows():
    movies = (
        remote_frame(BODY).filter(pl.col("media_type") == "movie").sort("watched_at")
    )
    assert movies["simkl"].to_list() == [55328, 55328]
    assert movies["tmdb"].to_list() == [60308, 60308]
    assert movies["watched_at"].to_list() == [
        at("2014-08-09T07:25:55Z"),
        at("2016-01-02T20:00:00Z"),
    ]
    assert movies["is_rewatch"].to_list() == [False, True]
    assert movies["rewatch_id"].to_list() == [None, 71]
    assert movies["session_status"].to_list() == [None, "completed"]


def test_show_episode_rows():
    shows = remote_frame(BODY).filter(pl.col("media_type") == "show")
    canonical = shows.filter(~pl.col("is_rewatch")).sort("episode")
    assert canonical["episode"].to_list() == [1, 2]
    assert canonical["season"].to_list() == [1, 1]
    assert canonical["tvdb"].to_list() == [295779, 295779]
    assert canonical["aired_episodes"].to_list() == [8, 8]
    assert canonical["watched_at"][0] == at("2020-01-01T20:00:00Z")
    assert canonical["date_note"].to_list() == [None, "sentinel"]


def test_show_sessions_including_empty_one():
    sessions = remote_frame(BODY).filter(
        pl.col("is_rewatch") & (pl.col("media_type") == "show")
    )
    active = sessions.filter(pl.col("rewatch_id") == 72)
    assert active["episode"].to_list() == [1]
    assert active["session_status"].to_list() == ["active"]
    assert active["watched_at"].to_list() == [at("2021-05-01T20:00:00Z")]
    empty = sessions.filter(pl.col("rewatch_id") == 73)
    assert empty.height == 1
    assert empty["episode"].to_list() == [None]
    assert empty["session_status"].to_list() == ["closed"]


def test_anime_rows_and_unknown_dates():
    anime = remote_frame(BODY).filter(pl.col("media_type") == "anime")
    assert anime["mal"].to_list() == [457]
    assert anime["episode"].to_list() == [3]
    assert anime["watched_at"].to_list() == [None]
    assert anime["date_precision"].to_list() == ["unknown"]


@pytest.mark.parametrize(
    "body", [None, {}, {"movies": None, "shows": [], "anime": None}]
)
def test_empty_library(body):
    frame = remote_frame(body)
    assert frame.height == 0
    assert frame.schema == pl.Schema(REMOTE_SCHEMA)


def test_parse_ids_strings_and_slugs():
    ids = parse_ids(
        {
            "simkl": "5",
            "tvdb": "some-slug",
            "imdb": "tt1",
            "traktslug": "x-2020",
            "slug": "x",
        }
    )
    assert ids == {"simkl": 5, "imdb": "tt1", "trakt_slug": "x-2020"}


def test_read_account_sends_full_read():
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=b"null")

    client = SimklClient(
        "http://127.0.0.1:9", "cid", "tok", transport=httpx.MockTransport(handler)
    )
    frame = read_account(client)
    assert frame.height == 0
    assert len(requests) == 1
    params = requests[0].url.params
    assert requests[0].url.path == "/sync/all-items"
    assert params["allow_rewatch"] == "yes"
    assert params["extended"] == "full"
    assert params["episode_watched_at"] == "yes"


def test_anime_film_read_as_movie():
    body = {
        "anime": [
            {
                "anime_type": "movie",
                "last_watched_at": "2022-03-04T20:00:00Z",
                "show": {
                    "title": "Akira",
                    "year": 1988,
                    "ids": {"simkl": 7, "mal": "47"},
                },
                "seasons": [],
            }
        ]
    }
    frame = remote_frame(body)
    assert frame["media_type"].to_list() == ["movie"]
    assert frame["mal"].to_list() == [47]
    assert frame["episode"].to_list() == [None]
    assert frame["watched_at"].to_list() == [at("2022-03-04T20:00:00Z")]
