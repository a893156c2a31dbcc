"""Tests of the Trakt reader: history, aggregates, ratings, watchlist, ZIPs."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from importer.errors import ReadError
from importer.events import EVENT_SCHEMA
from importer.readers import ReadOptions, read_exports

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
HISTORY = SHARED / "samples" / "trakt-history"
BACKUP = SHARED / "samples" / "trakt-api-backup"
CASES = SHARED / "cases"
OPTIONS = ReadOptions(timezone="UTC", now=datetime(2026, 9, 1, 12, tzinfo=UTC))


def read(*paths: Path, **kwargs: object):
    return read_exports([str(p) for p in paths], options=OPTIONS, **kwargs)


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared file {path.name} not present")
    return path


def movie(index: int, watched_at: str | None, **extra: object) -> dict:
    return {
        "id": 1000 + index,
        "watched_at": watched_at,
        "action": "watch",
        "type": "movie",
        "movie": {
            "title": f"Film {index}",
            "year": 2000 + index,
            "ids": {
                "trakt": 500 + index,
                "slug": f"film-{index}",
                "imdb": None,
                "tmdb": 900 + index,
            },
        },
        **extra,
    }


def episode(index: int, watched_at: str, season: int = 1) -> dict:
    return {
        "id": 2000 + index,
        "watched_at": watched_at,
        "action": "scrobble",
        "type": "episode",
        "episode": {
            "season": season,
            "number": index,
            "title": f"Part {index}",
            "ids": {"trakt": 700 + index, "tvdb": 800 + index, "imdb": None, "tmdb": 0},
        },
        "show": {
            "title": "Harbor Lights",
            "year": 2019,
            "ids": {
                "trakt": 77,
                "slug": "harbor-lights",
                "tvdb": 66,
                "imdb": "tt0000066",
                "tmdb": 55,
            },
        },
    }


def dump(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


# Real history files.


def test_history_samples() -> None:
    result = read(need(HISTORY))
    events = result.events
    assert events.schema == pl.Schema(EVENT_SCHEMA)
    assert events.height == 28
    assert [f.rows for f in result.files] == [6, 12, 10]
    assert events["record"].unique().to_list() == ["watch"]
    assert events["date_precision"].unique().to_list() == ["instant"]
    assert events["watched_at"].dt.microsecond().max() == 0


def test_history_episode_fields() -> None:
    result = read(need(HISTORY / "history-snapshot-2025-11.json"))
    first = result.events.row(0, named=True)
    assert first["media_type"] == "show"
    assert first["title"] == "South Park"
    assert (first["season"], first["episode"]) == (28, 4)
    assert (first["tvdb"], first["tmdb"], first["imdb"]) == (75897, 2190, "tt0121955")
    assert (first["ep_tvdb"], first["ep_tmdb"], first["ep_imdb"]) == (
        11256178,
        6606756,
        "tt38043393",
    )
    assert first["watched_at"] == datetime(2025, 11, 28, 5, 39, 45, tzinfo=UTC)


# Real aggregate, ratings and watchlist files.


def test_backup_watched_movies() -> None:
    path = need(BACKUP / "watched-movies.json")
    raw = json.loads(path.read_text())
    events = read(path).events
    assert events.height == len(raw)
    assert events["extra_plays"].to_list() == [
        max(item["plays"] - 1, 0) for item in raw
    ]
    assert events["watched_at"].null_count() == 0
    assert events["trakt_slug"][0] == raw[0]["movie"]["ids"]["slug"]


def test_backup_watched_shows() -> None:
    path = need(BACKUP / "watched-shows.json")
    raw = json.loads(path.read_text())
    expected = [
        (show["show"]["ids"]["trakt"], season["number"], ep["number"], ep["plays"] - 1)
        for show in raw
        for season in show.get("seasons") or []
        for ep in season["episodes"]
    ]
    events = read(path).events
    rows = events.select("trakt", "season", "episode", "extra_plays").rows()
    assert rows == expected
    assert 0 in events["season"].to_list()
    assert events["media_type"].unique().to_list() == ["show"]


def test_backup_episode_rating_ids() -> None:
    events = read(need(BACKUP / "ratings-episodes.json")).events
    row = events.row(0, named=True)
    assert row["record"] == "rating"
    assert row["rating"] == 6
    assert (row["season"], row["episode"]) == (0, 26)
    assert row["ep_tmdb"] is None
    assert row["ep_imdb"] is None
    assert row["ep_tvdb"] == 5008270


def test_backup_watchlist() -> None:
    path = need(BACKUP / "watchlist.json")
    raw = json.loads(path.read_text())
    events = read(path).events
    assert events.height == len(raw)
    assert events["record"].unique().to_list() == ["watchlist"]
    assert events["year"].null_count() >= 1
    assert events["watched_at"].null_count() == events.height


# Failure cases.


def test_unknown_date_sentinel_case() -> None:
    events = read(need(CASES / "B07_trakt_unknown_date_sentinel.json")).events
    assert events["watched_at"].to_list() == [
        None,
        None,
        datetime(2022, 6, 10, 18, tzinfo=UTC),
    ]
    assert events["date_precision"].to_list() == ["unknown", "unknown", "instant"]
    assert events["date_note"].to_list() == ["sentinel", None, None]
    assert events["problem"].null_count() == 3


def test_absolute_numbering_case() -> None:
    events = read(need(CASES / "B13_anime_absolute_numbering.json")).events
    assert events["episode_abs"].to_list() == [27, None]
    assert events["season"].to_list() == [2, 2]
    assert events["episode"].to_list() == [3, 4]
    assert events["media_type"].to_list() == ["show", "show"]


# Exports written here.


def test_official_zip_with_pages(tmp_path: Path) -> None:
    pages = {
        "watched-history-1.json": [movie(1, "2024-01-03T10:00:00.000Z")],
        "watched-history-2.json": [movie(2, "2024-01-02T10:00:00.000Z")],
        "watched-history-10.json": [episode(1, "2024-01-01T10:00:00.000Z")],
    }

    extra = {
        "ratings-movies.json": [
            {
                "rated_at": "2024-02-01T00:00:00.000Z",
                "rating": 8,
                "type": "movie",
                "movie": movie(1, None)["movie"],
            },
            {
                "rated_at": "2024-02-01T00:00:00.000Z",
                "rating": 7,
                "type": "season",
                "season": {"number": 1, "ids": {"trakt": 5}},
                "show": episode(1, "x")["show"],
            },
        ],
        "lists-watchlist.json": [
            {
                "rank": 1,
                "id": 9,
                "listed_at": "2024-03-01T00:00:00.000Z",
                "notes": None,
                "type": "show",
                "show": episode(1, "x")["show"],
            }
        ],
        "watched-movies.json": [
            {
                "plays": 2,
                "last_watched_at": "2024-01-03T10:00:00.000Z",
                "movie": movie(1, None)["movie"],
            },
            {
                "plays": 3,
                "last_watched_at": "2023-05-05T10:00:00.000Z",
                "movie": movie(3, None)["movie"],
            },
        ],
        "watched-shows.json": [
            {
                "plays": 4,
                "last_watched_at": "2024-01-01T10:00:00.000Z",
                "show": episode(1, "x")["show"],
            },
        ],
        "user-profile.json": {"username": "someone", "private": False},
        "lists-list-123-favourite-films.json": [
            {
                "rank": 1,
                "id": 10,
                "listed_at": "2024-03-01T00:00:00.000Z",
                "type": "movie",
                "movie": movie(2, None)["movie"],
            }
        ],
        "watched-playback.json": [
            {
                "progress": 10.5,
                "paused_at": "2024-01-01T00:00:00.000Z",
                "id": 1,
                "type": "movie",
                "movie": movie(4, None)["movie"],
            }
        ],
        "_errors.json": [
            {"endpoint": "users/me/stats", "error": "Unexpected end of JSON input"}
        ],
    }

    archive = tmp_path / "trakt-export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, data in {**pages, **extra}.items():
            zipped.writestr(f"export/{name}", json.dumps(data))

    result = read(archive)
    names = [f.path.rsplit("/", 1)[1] for f in result.files]
    history = [n for n in names if n.startswith("watched-history")]
    assert history == [
        "watched-history-1.json",
        "watched-history-2.json",
        "watched-history-10.json",
    ]

    events = result.events
    watches = events.filter(pl.col("record") == "watch")
    # The aggregate of Film 1 is already in the history; Film 3 is not.
    assert watches["title"].to_list() == ["Film 1", "Film 2", "Harbor Lights", "Film 3"]
    assert watches["extra_plays"].to_list() == [0, 0, 0, 2]
    assert events.filter(pl.col("record") == "rating")["rating"].to_list() == [8]
    assert events.filter(pl.col("record") == "watchlist")["title"].to_list() == [
        "Harbor Lights"
    ]
    reasons = sorted(result.skipped["reason"].to_list())
    assert reasons == ["covered_by_history", "no_episode_data", "unsupported_type"]
    ignored = [
        f
        for f in result.files
        if f.counts.get("ignored") is not None or f.format == "ignored"
    ]
    assert len(ignored) == 4
    assert result.events["source_file"].str.contains("someone").sum() == 0


def test_traktexport_single_object(tmp_path: Path) -> None:
    document = {
        "type": "full",
        "username": "someone",
        "profile": {"name": "Someone"},
        "history": [
            movie(1, "2022-01-01T10:00:00.000Z"),
            episode(2, "1970-01-01T00:00:00.000Z"),
        ],
        "ratings": [
            {
                "rated_at": "2022-01-02T00:00:00.000Z",
                "rating": 10,
                "type": "movie",
                "movie": movie(1, None)["movie"],
            }
        ],
        "watchlist": [],
    }
    result = read(dump(tmp_path / "traktexport.json", document))
    events = result.events
    assert events["record"].to_list() == ["watch", "watch", "rating"]
    assert events["watched_at"].to_list()[:2] == [
        datetime(2022, 1, 1, 10, tzinfo=UTC),
        None,
    ]
    assert events["date_note"][1] == "sentinel"
    assert events["ep_tmdb"][1] is None
    assert events["ep_tvdb"][1] == 802


def test_api_history_null_and_zero_ids(tmp_path: Path) -> None:
    entry = movie(1, "2023-03-03T03:03:03.000Z")
    entry["movie"]["ids"] = {"trakt": 0, "slug": None, "imdb": "", "tmdb": None}
    events = read(dump(tmp_path / "history.json", [entry])).events
    row = events.row(0, named=True)
    assert (row["trakt"], row["trakt_slug"], row["imdb"], row["tmdb"]) == (
        None,
        None,
        None,
        None,
    )
    assert row["source_row"] == 1


def test_invalid_json_names_file(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text('[{"watched_at": "2020-01-01T00:00:00Z", "ids": {}, ')
    with pytest.raises(ReadError) as caught:
        read(path)
    assert str(path) in str(caught.value)
    assert "invalid JSON" in str(caught.value)


def test_forced_trakt_on_csv(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text("title,watched_at\nA,2020-01-01\n")
    with pytest.raises(ReadError) as caught:
        read(path, format="trakt")
    assert "Trakt exports are JSON" in str(caught.value)


def test_history_ids_written_as_text(tmp_path: Path) -> None:
    entry = movie(1, "2023-03-03T03:03:03.000Z")
    entry["movie"]["ids"] = {"trakt": "501", "slug": "film-1", "tmdb": "901"}
    entry["movie"]["year"] = "2001"
    events = read(dump(tmp_path / "history.json", [entry])).events
    assert events["trakt"].to_list() == [501]
    assert events["tmdb"].to_list() == [901]
    assert events["year"].to_list() == [2001]


def test_history_without_type_field(tmp_path: Path) -> None:
    entries = [movie(1, "2023-03-03T03:03:03.000Z"), episode(2, "2023-03-04T04:04:04Z")]
    for entry in entries:
        del entry["type"]
    events = read(dump(tmp_path / "history.json", entries)).events
    assert events["media_type"].to_list() == ["movie", "show"]
    assert events["episode"].to_list() == [None, 2]
