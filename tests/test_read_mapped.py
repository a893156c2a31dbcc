"""Tests of the mapping-driven reader: generic, IMDb, TV Time, Simkl layouts."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from importer.errors import InputError, MappingError, ReadError
from importer.events import EVENT_SCHEMA
from importer.readers import FORMATS, ReadOptions, read_exports
from importer.readers.mapping import builtin_mappings, load_mapping

MAPPINGS_DIR = Path(__file__).resolve().parents[1] / "mappings"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CASES = SHARED / "cases"
IMDB = SHARED / "samples" / "imdb-2024" / "ratings.csv"
NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)


def options(**kwargs: object) -> ReadOptions:
    return ReadOptions(**{"timezone": "UTC", "now": NOW, **kwargs})


def read(*paths: Path, opts: ReadOptions | None = None, **kwargs: object):
    return read_exports([str(p) for p in paths], options=opts or options(), **kwargs)


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared file {path.name} not present")
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_formats_list_every_mapping() -> None:
    assert FORMATS[:2] == ("letterboxd", "trakt")
    assert set(FORMATS[2:]) == set(builtin_mappings())
    for name in (
        "generic",
        "generic-json",
        "imdb-ratings",
        "simkl-csv",
        "tvtime-episodes",
    ):
        assert name in FORMATS


# Failure cases.


def test_play_count_case() -> None:
    path = need(CASES / "B04_playcount_without_dates.csv")
    events = read(path, opts=options(timezone="Europe/Berlin")).events
    assert events.schema == pl.Schema(EVENT_SCHEMA)
    assert events["watched_at"].to_list() == [
        utc(2021, 8, 14, 20, 5),
        utc(2020, 1, 3, 18, 40),
    ]
    assert events["extra_plays"].to_list() == [3, 0]
    assert events["tmdb"].to_list() == [900201, 900202]
    assert events["source"].unique().to_list() == ["generic"]


def test_imdb_episode_case_ratings_mode() -> None:
    result = read(need(CASES / "B10_imdb_episode_matched_as_movie.csv"))
    events = result.events
    assert events["record"].to_list() == ["rating"] * 4
    assert events["media_type"].to_list() == ["show", "show", "movie", "show"]
    assert events["ep_imdb"].to_list() == ["tt9900601", None, None, "tt9900604"]
    assert events["imdb"].to_list() == [None, "tt9900602", "tt9900603", None]
    assert events["season"].null_count() == 4
    # A rating row's date is when it was rated, anchored like any date.
    assert events["watched_at"].to_list() == [
        utc(2019, 3, 2, 12),
        utc(2019, 3, 5, 12),
        utc(2019, 3, 6, 12),
        utc(2019, 3, 7, 12),
    ]


def test_imdb_episode_case_rated_as_watched() -> None:
    path = need(CASES / "B10_imdb_episode_matched_as_movie.csv")
    result = read(path, opts=options(rated_as_watched=True))
    events = result.events
    assert events["title"].to_list() == ["Homecoming", "Copper Tide", "Pilot"]
    assert events["record"].to_list() == ["watch"] * 3
    assert events["media_type"].to_list() == ["show", "movie", "show"]
    assert events["watched_at"].to_list() == [
        utc(2019, 3, 2, 12),
        utc(2019, 3, 6, 12),
        utc(2019, 3, 7, 12),
    ]
    assert events["date_note"].unique().to_list() == ["date_from_rating"]
    assert events["rating"].to_list() == [8, 9, 6]
    assert result.skipped["title"].to_list() == ["Lantern Street"]
    assert result.skipped["reason"].to_list() == ["not_a_watch_event"]
    assert result.files[0].rows == 4
    assert result.files[0].counts["not_a_watch_event"] == 1


def test_header_drift_and_clamp_case() -> None:
    path = need(CASES / "B16_imdb_header_drift_future.csv")
    now = utc(2024, 5, 6, 9)
    events = read(path, opts=options(rated_as_watched=True, now=now)).events
    assert events["watched_at"].to_list() == [now, utc(2023, 11, 30, 12)]
    assert events["date_note"].to_list() == ["clamped_to_now", "date_from_rating"]


@pytest.mark.parametrize("header", ["created", "Date Added"])
def test_imdb_date_aliases(tmp_path: Path, header: str) -> None:
    text = (
        f"Const,Your Rating,{header},Title,Title Type,Year\n"
        "tt9900603,9,2020-02-02,A,Movie,2011\n"
    )
    events = read(
        write(tmp_path / "r.csv", text), opts=options(rated_as_watched=True)
    ).events
    assert events["watched_at"].to_list() == [utc(2020, 2, 2, 12)]


def test_missing_date_column_lists_headers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ratings.csv",
        "Const,Your Rating,Rated On,Title\ntt1,9,2020-01-01,A\n",
    )
    with pytest.raises(ReadError) as caught:
        read(path, opts=options(rated_as_watched=True))
    message = str(caught.value)
    assert str(path) in message
    assert "headers seen: Const, Your Rating, Rated On, Title" in message
    assert "Date Rated, created, Date Added" in message


def test_missing_date_column_generic(tmp_path: Path) -> None:
    path = write(tmp_path / "history.csv", "title,year,tmdb_id\nA,2001,5\n")
    with pytest.raises(ReadError) as caught:
        read(path)
    assert "missing column for watched_at" in str(caught.value)
    assert "watched_at_utc" in str(caught.value)


def test_numbering_divergence_case() -> None:
    result = read(need(CASES / "B12_tvtime_numbering_divergence.csv"))
    events = result.events
    assert result.files[0].format == "tvtime-episodes"
    assert events["tvdb"].to_list() == [990001, 990001, 990002, 990002, 990003, 990003]
    assert events["ep_tvdb"].to_list() == [
        9900101,
        9900102,
        9900201,
        9900202,
        9900301,
        9900301,
    ]
    assert events["season"].to_list() == [2003, 2003, 0, 0, 1, 1]
    assert events["episode"].to_list() == [1, 2, 0, 0, 1, 1]
    assert events["media_type"].unique().to_list() == ["show"]
    assert events["watched_at"][0] == utc(2019, 2, 1, 20)


def test_release_date_case() -> None:
    events = read(need(CASES / "B25_watched_before_release.csv")).events
    assert events["release_date"].cast(pl.String).to_list() == [
        "2025-06-26",
        "2025-07-31",
        "2031-03-01",
        "2026-01-10",
    ]
    assert events["watched_at"][3] == utc(2026, 10, 1, 20)
    assert events["problem"].null_count() == 4


def test_broken_row_case() -> None:
    events = read(need(CASES / "B27_not_found_accounting.csv")).events
    broken = events.row(3, named=True)
    assert broken["source_row"] == 5
    assert broken["raw_year"] == "abc"
    assert broken["raw_watched_at"] == "not-a-date"
    assert (
        broken["problem"]
        == "year='abc': not a year; watched_at='not-a-date': unparseable date"
        " (use a form such as 2021-03-01 or 2021-03-01T20:00:00Z)"
    )
    assert events["problem"].null_count() == 3
    assert events["tmdb"].to_list() == [900101, 900102, None, None]


def test_generic_json_case() -> None:
    result = read(need(CASES / "B03_generic_json_multiple_watches.json"))
    events = result.events
    assert result.files[0].format == "generic-json"
    assert events["tmdb"].to_list() == [900101, 900101, 900101, 900102]
    assert events["watched_at"].to_list() == [
        utc(2012, 5, 1, 12),
        utc(2016, 11, 20, 12),
        utc(2022, 1, 3, 12),
        utc(2019, 9, 9, 12),
    ]
    assert events["source_row"].to_list() == [1, 1, 1, 2]


# The IMDb 2024 sample.


def test_imdb_sample_types() -> None:
    path = need(IMDB)
    raw = pl.read_csv(path, infer_schema=False)
    events = read(path).events
    assert events.height == raw.height
    assert events["record"].unique().to_list() == ["rating"]
    kinds = raw["Title Type"].to_list()
    episodes = events.filter(pl.Series([k == "TV Episode" for k in kinds]))
    assert episodes.height == kinds.count("TV Episode")
    assert episodes["media_type"].unique().to_list() == ["show"]
    assert episodes["imdb"].null_count() == episodes.height
    assert episodes["ep_imdb"].null_count() == 0
    movies = events.filter(pl.col("media_type") == "movie")
    assert movies["ep_imdb"].null_count() == movies.height
    assert events["rating"].min() >= 1
    # Original Title is preferred over the localised Title.
    assert "The Wild Robot" in events["title"].to_list()
    assert events["release_date"].null_count() < events.height


# TV Time exports written here.


def test_tvtime_2020_folder(tmp_path: Path) -> None:
    folder = tmp_path / "tvtime"
    folder.mkdir()
    bulk = "2015-10-07 12:25:38 +0000 UTC"
    rows = [f",42,{5000 + i},{bulk},{bulk}," for i in range(25)]
    rows += [",42,6001,2017-05-02 21:24:51 +0000 UTC,2017-05-02 21:24:51 +0000 UTC,"]
    write(
        folder / "seen_episode.csv",
        "tweet_id,user_id,episode_id,created_at,updated_at,fb_action_id\n"
        + "\n".join(rows)
        + "\n",
    )
    write(
        folder / "rewatched_episode.csv",
        "user_id,episode_id,cpt,created_at,updated_at\n"
        "42,6001,1,2018-01-01 20:00:00 +0000 UTC,2018-01-01 20:00:00 +0000 UTC\n",
    )
    write(
        folder / "user_tv_show_data.csv",
        "user_id,tv_show_id,is_followed,is_favorited,nb_episodes_seen\n42,70533,1,0,26\n",
    )

    result = read(folder)
    formats = {Path(f.path).name: f.format for f in result.files}
    assert formats == {
        "rewatched_episode.csv": "tvtime-rewatched",
        "seen_episode.csv": "tvtime-seen-2020",
        "user_tv_show_data.csv": "ignored",
    }

    seen = result.events.filter(pl.col("source") == "tvtime-seen-2020")
    assert seen.height == 26
    assert (seen["date_note"] == "bulk_marked").sum() == 25
    assert seen["watched_at"].null_count() == 25
    assert seen["watched_at"].drop_nulls().to_list() == [utc(2017, 5, 2, 21, 24, 51)]
    assert seen["rewatch_hint"].unique().to_list() == [False]

    rewatch = result.events.filter(pl.col("source") == "tvtime-rewatched")
    assert rewatch["ep_tvdb"].to_list() == [6001]
    assert rewatch["rewatch_hint"].to_list() == [True]
    assert any("user_tv_show_data.csv" in w for w in result.warnings)


def test_tvtime_bulk_threshold_option(tmp_path: Path) -> None:
    text = "tv_show_name,episode_season_number,episode_number,episode_id,created_at\n"
    text += "".join(f"Show,1,{i},{100 + i},2020-01-01 10:00:00\n" for i in range(1, 6))
    path = write(tmp_path / "seen_episode.csv", text)
    assert read(path).events["watched_at"].null_count() == 0
    strict = read(path, opts=options(bulk_threshold=4)).events
    assert strict["date_note"].to_list() == ["bulk_marked"] * 5


def test_tvtime_tracking_v2(tmp_path: Path) -> None:
    text = (
        "key,series_name,s_id,ep_id,season_number,episode_number,created_at,bulk_type\n"
        "watch-episode-1,Show A,10,101,1,1,2023-01-01 10:00:00,\n"
        "rewatch-episode-1,Show A,10,101,1,1,2023-02-01 10:00:00,\n"
        "watch-episode-2,Show A,10,102,1,2,2023-01-05 10:00:00,season\n"
        "user-series-10,Show A,10,,,,2023-01-01 09:00:00,\n"
    )
    result = read(write(tmp_path / "tracking-prod-records-v2.csv", text))
    events = result.events
    assert events["rewatch_hint"].to_list() == [False, True, False]
    assert events["date_note"].to_list() == [None, None, "bulk_marked"]
    assert events["ep_tvdb"].to_list() == [101, 101, 102]
    assert result.skipped["reason"].to_list() == ["not_a_watch_event"]


# Simkl CSV backup.


def test_simkl_csv_backup(tmp_path: Path) -> None:
    text = (
        "SIMKL_ID,Title,Type,Year,Watchlist,LastEpWatched,WatchedDate,Rating,Memo,TVDB,TMDB,IMDB\n"
        "1920321,Gran Turismo,movie,2023,completed,,04/11/2023 05:01,8,,,"
        "980489,tt4495098\n"
        "1920322,Old Film,movie,1950,completed,,,,,,980490,\n"
        "1920323,Future Film,movie,2027,plantowatch,,,,,,980491,\n"
        "1920324,Long Show,tv,2010,completed,S03E07,,9,,70001,,tt0000001\n"
        "1920325,Some Anime,anime,2015,watching,12,,,,,,\n"
    )
    result = read(write(tmp_path / "simkl_backup.csv", text))
    events = result.events
    assert result.files[0].format == "simkl-csv"
    assert events["title"].to_list() == ["Gran Turismo", "Old Film", "Future Film"]
    assert events["record"].to_list() == ["watch", "watch", "watchlist"]
    assert events["watched_at"].to_list() == [utc(2023, 11, 4, 5, 1), None, None]
    assert events["simkl"].to_list() == [1920321, 1920322, 1920323]
    assert events["rating"][0] == 8
    assert events["season"].null_count() == 3
    assert result.skipped["reason"].to_list() == ["no_episode", "status_only"]
    assert result.skipped["detail"][1].startswith("'watching': status row")


# Mapping files, formats and errors.


def test_custom_mapping_file(tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "mine.toml",
        'name = "mine"\nrecord = "watch"\nrating_scale = "5"\n'
        "[columns]\n"
        'title = ["Film"]\nwatched_at = ["Seen"]\nrating = ["Stars"]\n',
    )
    path = write(tmp_path / "log.csv", "Film,Seen,Stars\nA,2020-01-01,4.5\n")
    events = read(path, mapping=mapping).events
    assert events["title"].to_list() == ["A"]
    assert events["source"].to_list() == ["mine"]
    assert events["watched_at"].to_list() == [utc(2020, 1, 1, 12)]
    assert events["rating"].to_list() == [9]


@pytest.mark.parametrize(
    ("record", "header", "row"),
    [
        ("rating", "Film,Stars", "A,4"),
        ("rating", "Film,Stars,Seen", "A,4,2020-01-01"),
        ("watchlist", "Film,Stars,Seen", "A,4,2020-01-01"),
    ],
)
def test_mapping_record_without_dates(tmp_path, record, header, row) -> None:
    mapping = write(
        tmp_path / "mine.toml",
        f'name = "mine"\nrecord = "{record}"\nrating_scale = "5"\n'
        "[columns]\n"
        'title = ["Film"]\nwatched_at = ["Seen"]\nrating = ["Stars"]\n',
    )
    path = write(tmp_path / "list.csv", f"{header}\n{row}\nB,3{row[3:]}\n")
    events = read(path, mapping=mapping).events
    assert events["record"].to_list() == [record, record]
    assert events["rating"].to_list() == [8, 6]
    dated = record == "rating" and "Seen" in header
    expected = [utc(2020, 1, 1, 12)] * 2 if dated else [None, None]
    assert events["watched_at"].to_list() == expected


def test_forced_mapping_format(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.csv", "title,Date\nA,2020-01-01\n")
    result = read(path, format="generic")
    assert result.files[0].format == "generic"
    assert result.events["title"].to_list() == ["A"]


def test_mapping_by_builtin_name(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path / "odd.csv", "title,Date\nA,2020-01-01\n")
    result = read(path, mapping="generic")
    assert result.files[0].format == "generic"
    assert result.events["title"].to_list() == ["A"]
    # A file of that name in the working folder wins over the built-in.
    columns = '[columns]\ntitle = ["title"]\nwatched_at = ["Date"]\n'
    write(tmp_path / "generic", f'name = "mine"\nrecord = "watch"\n{columns}')
    monkeypatch.chdir(tmp_path)
    assert read(path, mapping="generic").files[0].format == "mine"


def test_unknown_mapping_name(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.csv", "title,Date\nA,2020-01-01\n")
    with pytest.raises(MappingError) as caught:
        read(path, mapping="nosuch")
    assert "mapping file not found" in str(caught.value)


MAPPING_MISTAKES = {
    '[colums]\ntitle = ["t"]\n': "unknown key colums",
    '[detect]\nheader = [["t"]]\n': "unknown key detect.header",
    'rewatch = "yes"\n': "`rewatch` must be true or false, not 'yes'",
    "priority = true\n": "`priority` must be a whole number, not True",
    'required = "title"\n': "`required` must be a list, not 'title'",
    'required = ["titel"]\n': "invalid value titel in `required`",
    'detect = "x"\n': "`detect` must be a table, not 'x'",
    'rating_scale = "7"\n': "invalid value 7 in `rating_scale`",
    'kind = "xml"\n': "invalid value xml in `kind`",
    'rewatch_pattern = "(["\n': "invalid regular expression in `rewatch_pattern`",
    'row_key_pattern = "(?=x)"\n': "invalid regular expression in `row_key_pattern`",
    "[json]\nrecords_path = [1]\n": "`json.records_path` must be a list of strings",
    "[json]\nexplode = 1\n": "`json.explode` must be a string, not 1",
}


@pytest.mark.parametrize("body", MAPPING_MISTAKES)
def test_mapping_mistake_named(tmp_path: Path, body: str) -> None:
    # Keys after a table header belong to that table, so they go first.
    name = 'name = "bad"\n'
    text = name + body if body.startswith("[") else body + name
    mapping = write(tmp_path / "bad.toml", text)
    path = write(tmp_path / "log.csv", "t,watched_at\nA,2020-01-01\n")
    with pytest.raises(MappingError) as caught:
        read(path, mapping=mapping)
    assert MAPPING_MISTAKES[body] in str(caught.value)
    assert str(mapping) in str(caught.value)


def test_invalid_mapping_file(tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "bad.toml", 'name = "bad"\n[columns]\nnonsense = ["x"]\n'
    )
    path = write(tmp_path / "log.csv", "x\n1\n")
    with pytest.raises(MappingError) as caught:
        read(path, mapping=mapping)
    assert "unknown field nonsense" in str(caught.value)
    assert str(mapping) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(ReadError) as caught:
        read(path)
    assert str(caught.value).startswith(f"{path}: file not found")


def test_unknown_format_name(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "title,watched_at\nA,2020-01-01\n")
    with pytest.raises(ReadError) as caught:
        read(path, format="netflix")
    assert "unknown format 'netflix'" in str(caught.value)


def test_unknown_layout_single_file(tmp_path: Path) -> None:
    path = write(tmp_path / "other.csv", "alpha,beta\n1,2\n")
    with pytest.raises(ReadError) as caught:
        read(path)
    message = str(caught.value)
    assert str(path) in message
    assert "unknown CSV layout (columns: alpha, beta)" in message
    assert "--mapping" in message


def test_folder_without_exports(tmp_path: Path) -> None:
    write(tmp_path / "notes.csv", "alpha,beta\n1,2\n")
    with pytest.raises(ReadError) as caught:
        read(tmp_path)
    assert "no export file recognized" in str(caught.value)


def test_invalid_timezone_option(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "title,watched_at\nA,2020-01-01\n")
    with pytest.raises(InputError) as caught:
        read(path, opts=options(timezone="Nowhere/Town"))
    assert "Nowhere/Town" in str(caught.value)


def test_letterboxd_import_layout(tmp_path: Path) -> None:
    text = (
        "imdbID,tmdbID,Title,Year,Directors,WatchedDate,Rating,Rewatch,Tags,Review\n"
        'tt9100101,900101,Copper Tide,2011,"Ann Example, Bo Example",'
        "2021-03-04,4.5,true,,\n"
    )
    result = read(write(tmp_path / "letterboxd-import.csv", text))
    events = result.events
    assert result.files[0].format == "letterboxd-import"
    assert events["rating"].to_list() == [9]
    assert events["rewatch_hint"].to_list() == [True]
    assert events["imdb"].to_list() == ["tt9100101"]
    assert events["watched_at"].to_list() == [utc(2021, 3, 4, 12)]


def test_imdb_watchlist_export(tmp_path: Path) -> None:
    text = (
        "Position,Const,Created,Modified,Description,Title,URL,Title Type,"
        "IMDb Rating,Runtime (mins),Year,Genres,Num Votes,Release Date,Directors\n"
        "1,tt9100101,2023-01-01,2023-01-01,,Copper Tide,"
        "https://www.imdb.com/title/tt9100101/,movie,7.0,100,2011,Drama,10,"
        "2011-04-08,Ann Example\n"
        "2,tt9600001,2023-01-02,2023-01-02,,Signal Harbor,"
        "https://www.imdb.com/title/tt9600001/,tvSeries,8.0,45,2019,Drama,10,,\n"
    )
    result = read(write(tmp_path / "WATCHLIST.csv", text))
    events = result.events
    assert result.files[0].format == "imdb-list"
    assert events["record"].to_list() == ["watchlist", "watchlist"]
    assert events["media_type"].to_list() == ["movie", "show"]
    assert events["imdb"].to_list() == ["tt9100101", "tt9600001"]
    assert events["watched_at"].null_count() == 2


def test_imdb_pre_2017_ratings(tmp_path: Path) -> None:
    text = (
        "position,const,created,modified,description,Title,Title type,"
        "Directors,You rated,IMDb Rating,Runtime (mins),Year,Genres\n"
        "1,tt9100101,2016-05-01,2016-05-01,,Copper Tide,Feature Film,"
        "Ann Example,7,7.0,100,2011,Drama\n"
    )
    result = read(write(tmp_path / "ratings.csv", text))
    assert result.files[0].format == "imdb-ratings"
    assert result.events["rating"].to_list() == [7]
    assert result.events["media_type"].to_list() == ["movie"]
    watched = read(
        write(tmp_path / "ratings.csv", text), opts=options(rated_as_watched=True)
    )
    assert watched.events["watched_at"].to_list() == [utc(2016, 5, 1, 12)]


def test_tvtime_tracking_movies(tmp_path: Path) -> None:
    text = (
        "entity_type,type,movie_name,release_date,uuid,rewatch_count,"
        "created_at,updated_at\n"
        "movie,watch,Copper Tide,2011-04-08,u1,,2020-01-01 20:00:00,\n"
        "movie,rewatch,Copper Tide,2011-04-08,u2,1,2021-01-01 20:00:00,\n"
        "movie,towatch,Glass Orchard,2008-09-12,u3,,2020-02-01 10:00:00,\n"
        "movie,follow,Glass Orchard,2008-09-12,u4,,2020-02-01 10:00:00,\n"
    )
    result = read(write(tmp_path / "tracking-prod-records.csv", text))
    events = result.events
    assert result.files[0].format == "tvtime-tracking-movies"
    assert events["record"].to_list() == ["watch", "watch", "watchlist"]
    assert events["rewatch_hint"].to_list() == [False, True, False]
    assert events["watched_at"].to_list() == [
        utc(2020, 1, 1, 20),
        utc(2021, 1, 1, 20),
        None,
    ]
    assert events["release_date"].cast(pl.String).to_list()[0] == "2011-04-08"
    assert result.skipped["reason"].to_list() == ["status_only"]


def test_unknown_type_value_skipped(tmp_path: Path) -> None:
    text = "title,type,watched_at\nA,documentary,2020-01-01\nB,movie,2020-01-02\n"
    result = read(write(tmp_path / "history.csv", text))
    assert result.events["title"].to_list() == ["B"]
    assert result.skipped["reason"].to_list() == ["unsupported_type"]
    assert result.skipped["detail"].to_list() == [
        "'documentary': type is not a movie, show or episode"
    ]
    assert result.skipped["source_row"].to_list() == [2]


def test_mapping_value_of_wrong_type(tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "bad.toml", 'name = "bad"\npriority = "high"\n[columns]\n'
    )
    path = write(tmp_path / "log.csv", "title,watched_at\nA,2020-01-01\n")
    with pytest.raises(MappingError) as caught:
        read(path, mapping=mapping)
    message = f"{mapping}: `priority` must be a whole number, not 'high'"
    assert str(caught.value).startswith(message)


def test_nested_dates_named(tmp_path: Path) -> None:
    item = {"type": "movie", "title": "A", "ids": {"tmdb": 1}}
    text = json.dumps({"media": [{**item, "watches": [["2012-05-01"]]}]})
    path = write(tmp_path / "history.json", text)
    with pytest.raises(ReadError) as caught:
        read(path)
    assert "`watches` contains lists or objects" in str(caught.value)
    assert str(path) in str(caught.value)


def test_invalid_generic_json(tmp_path: Path) -> None:
    path = write(tmp_path / "history.json", '{"media": [{"title": "A", ')
    with pytest.raises(ReadError) as caught:
        read(path)
    assert str(caught.value).startswith(f"{path}: invalid JSON")


def test_builtin_patterns_compile() -> None:
    # Built-in mappings load at import without the pattern check, so each
    # file is loaded here with it.
    for path in MAPPINGS_DIR.glob("*.toml"):
        assert load_mapping(path, check_patterns=True).name


def test_forked_after_import_can_read() -> None:
    # A process forked from a forkserver that imported the package (as the
    # killed-run tests do) must be able to use polars.
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "generic.csv"
    child = (
        f"from importer.pipeline import load_events\nload_events([{str(sample)!r}])\n"
    )
    code = (
        "import multiprocessing as mp\n"
        "if __name__ == '__main__':\n"
        "    context = mp.get_context('forkserver')\n"
        "    context.set_forkserver_preload(['importer.cli'])\n"
        f"    process = context.Process(target=exec, args=({child!r},))\n"
        "    process.start()\n"
        "    process.join(20)\n"
        "    process.kill()\n"
        "    raise SystemExit(0 if process.exitcode == 0 else 1)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=60, check=False)
    assert done.returncode == 0
