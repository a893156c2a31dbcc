"""Tests of the Letterboxd reader on real, shared and hand-written exports."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from importer.errors import ReadError
from importer.events import EVENT_SCHEMA, SKIP_SCHEMA
from importer.readers import ReadOptions, read_exports

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLE = SHARED / "samples" / "letterboxd-2024"
CASES = SHARED / "cases"
OPTIONS = ReadOptions(timezone="UTC", now=datetime(2026, 9, 1, 12, tzinfo=UTC))

HEADER_DIARY = "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n"
HEADER_REVIEWS = (
    "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Review,Tags,Watched Date\n"
)
HEADER_FILM = "Date,Name,Year,Letterboxd URI\n"
USER = "secretuser"


def read(*paths: Path, **kwargs: object):
    return read_exports(
        [str(p) for p in paths], options=kwargs.pop("options", OPTIONS), **kwargs
    )


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared file {path.name} not present")
    return path


def noon(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def summary(result, name: str):
    return next(f for f in result.files if f.path.endswith(name))


# The 2024 export (real data).


@pytest.fixture(scope="module")
def sample():
    return read(need(SAMPLE))


def test_sample_schema_exact(sample) -> None:
    assert sample.events.schema == pl.Schema(EVENT_SCHEMA)
    assert sample.skipped.schema == pl.Schema(SKIP_SCHEMA)


def test_sample_diary_counts(sample) -> None:
    diary = sample.events.filter(pl.col("source_file").str.ends_with("diary.csv"))
    assert diary.height == 317
    assert summary(sample, "diary.csv").rows == 317
    assert diary["watched_at"].null_count() == 0
    assert diary["date_precision"].unique().to_list() == ["date"]
    assert diary["rewatch_hint"].sum() == 107
    repeated = diary.group_by("title", "year").len().filter(pl.col("len") > 1)
    assert repeated.height == 23


def test_sample_diary_uses_watched_date(sample) -> None:
    first = sample.events.filter(
        pl.col("source_file").str.ends_with("diary.csv") & (pl.col("source_row") == 2)
    )
    assert first["title"][0] == "The Spirit of St. Louis"
    # Logged 2023-08-06, watched 2001-01-27.
    assert first["watched_at"][0] == noon(2001, 1, 27)


def test_sample_empty_year(sample) -> None:
    row = sample.events.filter(pl.col("title") == "One of the Roughs, a Kosmos")
    assert row.height >= 1
    assert row["year"].null_count() == row.height
    assert row["problem"].null_count() == row.height


def test_sample_diary_links_not_kept(sample) -> None:
    diary = sample.events.filter(pl.col("source_file").str.ends_with("diary.csv"))
    # Diary short links point to the viewing, so they are not film links.
    assert diary["link"].null_count() == diary.height
    watched = sample.events.filter(pl.col("source_file").str.ends_with("watched.csv"))
    assert watched["link"].str.starts_with("https://boxd.it/").all()


def test_sample_ratings_scale(sample) -> None:
    ratings = sample.events.filter(pl.col("record") == "rating")
    assert ratings.height == 233
    assert ratings["rating"].min() >= 1
    assert ratings["rating"].max() <= 10
    assert ratings["problem"].null_count() == 233
    la_la = ratings.filter(pl.col("title") == "La La Land")
    assert la_la["rating"].to_list() == [7]
    ready = sample.events.filter(pl.col("title") == "Ready Player One")
    # The diary keeps each entry's rating, and ratings.csv contains the
    # current one.
    diary = ready.filter(pl.col("record") == "watch")
    assert diary["rating"].to_list() == [1, 8]
    assert ready.filter(pl.col("record") == "rating")["rating"].to_list() == [8]


def test_sample_watched_overlap(sample) -> None:
    counts = summary(sample, "watched.csv").counts
    assert summary(sample, "watched.csv").rows == 408
    assert counts == {"viewings": 115, "covered_by_diary": 293}
    undated = sample.events.filter(pl.col("source_file").str.ends_with("watched.csv"))
    assert undated["watched_at"].null_count() == 115
    assert undated["date_precision"].unique().to_list() == ["unknown"]
    assert (sample.skipped["reason"] == "covered_by_diary").sum() == 293


def test_sample_watchlist_and_list(sample) -> None:
    watchlist = sample.events.filter(pl.col("record") == "watchlist")
    assert watchlist.height == 113
    assert summary(sample, "media-meta.csv").counts == {"list_entries": 7}


# Failure cases.


def test_diary_rewatch_case() -> None:
    result = read(need(CASES / "B02_letterboxd_diary_rewatch.csv"))
    events = result.events
    assert events.height == 4
    assert events["watched_at"].to_list() == [
        noon(2021, 2, 9),
        noon(2023, 7, 1),
        noon(2023, 7, 1),
        noon(2024, 1, 5),
    ]
    assert events["rewatch_hint"].to_list() == [None, True, None, True]
    assert events["rating"].to_list() == [8, 9, 6, 7]


def test_watched_overlap_case() -> None:
    result = read(
        need(CASES / "B08_letterboxd_watched_csv_overlap.csv"),
        need(CASES / "B02_letterboxd_diary_rewatch.csv"),
    )
    watched = result.events.filter(pl.col("source_file").str.contains("B08"))
    assert watched["title"].to_list() == ["Velvet Causeway", "Orchid Semaphore"]
    assert watched["watched_at"].null_count() == 2
    assert result.skipped["title"].to_list() == ["Paper Orchard", "Quiet Meridian"]
    assert result.skipped["reason"].to_list() == ["covered_by_diary"] * 2
    counts = summary(result, "B08_letterboxd_watched_csv_overlap.csv").counts
    assert counts == {"viewings": 2, "covered_by_diary": 2}


def test_quoted_titles_case() -> None:
    result = read(need(CASES / "B17_csv_quoted_titles.csv"))
    assert result.events["title"].to_list() == [
        "Goodbye, Lantern",
        'The "Blue" Ferry',
        "Line One\nLine Two",
        "夜の港",
        "Гавань",
    ]
    assert result.events["year"].to_list() == [2009, 1961, 2020, 2016, 2003]
    assert result.events["source_row"].to_list() == [2, 3, 4, 6, 7]


def test_rating_scale_case() -> None:
    result = read(need(CASES / "B19_letterboxd_rating_scale.csv"))
    ratings = dict(zip(result.events["title"], result.events["rating"], strict=True))
    assert ratings == {
        "Copper Tide": 1,
        "Glass Orchard": 2,
        "Paper Orchard": 5,
        "Quiet Meridian": 7,
        "Lunar Ferry": 10,
        "Velvet Causeway": None,
    }
    assert result.events["problem"].null_count() == 6
    assert result.events["record"].unique().to_list() == ["rating"]


def test_date_only_timezone_case() -> None:
    path = need(CASES / "B05_letterboxd_date_only_timezone.csv")
    plain = read(path, options=ReadOptions(timezone="America/Los_Angeles"))
    assert plain.events["watched_at"].to_list() == [
        noon(2024, 7, 20),
        noon(2024, 12, 31),
        noon(2024, 2, 29),
    ]
    local = ReadOptions(timezone="Pacific/Auckland", date_anchor="local-noon")
    auckland = read(path, options=local)
    assert auckland.events["watched_at"].to_list() == [
        datetime(2024, 7, 20, 0, tzinfo=UTC),
        datetime(2024, 12, 30, 23, tzinfo=UTC),
        datetime(2024, 2, 28, 23, tzinfo=UTC),
    ]


def test_invalid_star_values(tmp_path: Path) -> None:
    text = (
        "Date,Name,Year,Letterboxd URI,Rating\n2021-01-01,A,2001,https://boxd.it/a,0\n"
    )
    text += "2021-01-01,B,2002,https://boxd.it/b,3.3\n2021-01-01,C,2003,https://boxd.it/c,7\n"
    path = tmp_path / "ratings.csv"
    path.write_text(text)
    events = read(path).events
    assert events["rating"].to_list() == [None, None, None]
    assert events["raw_rating"].to_list() == ["0", "3.3", "7"]
    assert events["problem"].str.contains("rating=").all()


# A 2019-era export: long links with the username, written here.


def write_2019_export(folder: Path) -> Path:
    folder.mkdir()
    base = f"https://letterboxd.com/{USER}/film"
    (folder / "diary.csv").write_text(
        HEADER_DIARY
        + f"2019-01-05,Paper Orchard,2015,{base}/paper-orchard/,4,,,2019-01-04\n"
        + f"2019-06-02,Paper Orchard,2015,{base}/paper-orchard/1/,4.5,Yes,,2019-06-01\n"
        + f"2019-07-02,Numbered Film,1961,{base}/film:20134/,3,No,,2019-07-01\n"
    )

    (folder / "reviews.csv").write_text(
        HEADER_REVIEWS
        + f"2019-01-05,Paper Orchard,2015,{base}/paper-orchard/,4,,Fine.,,2019-01-04\n"
        + f"2019-07-03,Numbered Film,1961,{base}/film:20134/2/,3,,"
        + '"Two\nlines",,2019-07-01\n'
        + f"2019-08-01,Glass Orchard,2008,{base}/glass-orchard/,5,,Great,,2019-07-30\n"
        + f"2019-09-01,Quiet Meridian,2019,{base}/quiet-meridian/,2,,Meh,,\n"
    )

    (folder / "watched.csv").write_text(
        HEADER_FILM
        + "2019-01-05,Paper Orchard,2015,https://letterboxd.com/film/paper-orchard/\n"
        + "2019-01-05,Velvet Causeway,1987,https://letterboxd.com/film/velvet-causeway/\n"
        + "2019-01-05,Quiet Meridian,2019,https://letterboxd.com/film/quiet-meridian/\n"
    )
    (folder / "ratings.csv").write_text(
        "Date,Name,Year,Letterboxd URI,Rating\n"
        + "2019-01-05,Paper Orchard,2015,https://letterboxd.com/film/paper-orchard/,4.5\n"
    )
    (folder / "watchlist.csv").write_text(
        HEADER_FILM
        + "2019-02-01,Lunar Ferry,2018,https://letterboxd.com/film/lunar-ferry/\n"
    )
    (folder / "profile.csv").write_text(
        "Date Joined,Username,Given Name,Family Name,Email Address\n"
        f"2018-01-01,{USER},Ann,Example,ann@example.invalid\n"
    )

    deleted = folder / "deleted"
    deleted.mkdir()
    (deleted / "diary.csv").write_text(
        HEADER_DIARY
        + f"2019-03-01,Lunar Ferry,2018,{base}/lunar-ferry/,2,,,2019-02-28\n"
    )
    orphaned = folder / "orphaned"
    orphaned.mkdir()
    (orphaned / "diary.csv").write_text(HEADER_DIARY)

    lists = folder / "lists"
    lists.mkdir()
    (lists / "favourites.csv").write_text(
        "\nDate,Name,Tags,URL,Description\n"
        f'2019-01-01,Favourites,,https://letterboxd.com/{USER}/list/favourites/,"Multi\nline"\n'
        "\nPosition,Name,Year,URL,Description\n"
        "1,Paper Orchard,2015,https://letterboxd.com/film/paper-orchard/,\n"
        "2,Lunar Ferry,2018,https://letterboxd.com/film/lunar-ferry/,\n"
    )
    return folder


def check_2019(result) -> None:
    events = result.events
    viewings = events.filter(pl.col("record") == "watch")
    assert viewings.select("title", "watched_at").rows() == [
        ("Paper Orchard", noon(2019, 1, 4)),
        ("Paper Orchard", noon(2019, 6, 1)),
        ("Numbered Film", noon(2019, 7, 1)),
        ("Glass Orchard", noon(2019, 7, 30)),
        ("Velvet Causeway", None),
        ("Quiet Meridian", None),
    ]
    assert viewings["letterboxd"].to_list() == [
        "paper-orchard",
        "paper-orchard",
        "film:20134",
        "glass-orchard",
        "velvet-causeway",
        "quiet-meridian",
    ]
    assert viewings["link"][2] == "https://letterboxd.com/film/film:20134/"
    assert viewings["rewatch_hint"].to_list() == [None, True, False, None, None, None]

    for frame in (events, result.skipped):
        for name, dtype in frame.schema.items():
            if dtype == pl.String:
                assert not frame[name].str.contains(USER).any(), name

    reasons = result.skipped["reason"].value_counts().sort("reason")
    assert dict(reasons.rows()) == {
        "covered_by_diary": 1,
        "deleted_entry": 1,
        "merged_with_diary": 2,
        "review_without_date": 1,
    }
    assert events.filter(pl.col("record") == "rating")["rating"].to_list() == [9]
    assert events.filter(pl.col("record") == "watchlist")["title"].to_list() == [
        "Lunar Ferry"
    ]
    counts = {
        Path(f.path).name + str(Path(f.path).parent.name): f.counts
        for f in result.files
    }
    assert {"skipped_deleted": 1} in counts.values()
    assert {"skipped_orphaned": 0} in counts.values()
    assert {"list_entries": 2} in counts.values()
    assert {"ignored": 1} in counts.values()


def test_2019_export_folder(tmp_path: Path) -> None:
    folder = write_2019_export(tmp_path / "letterboxd-export")
    check_2019(read(folder))


def test_2019_export_zip(tmp_path: Path) -> None:
    folder = write_2019_export(tmp_path / "letterboxd-export")
    archive = tmp_path / "letterboxd-user-2019-11-01-10-00-utc.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(folder.rglob("*.csv")):
            zipped.write(path, path.relative_to(folder).as_posix())
    result = read(archive)
    check_2019(result)
    assert all(f.path.startswith(f"{archive}:") for f in result.files)


def test_review_rows_without_diary(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(
        HEADER_REVIEWS
        + "2024-01-02,Solo Review,2010,https://boxd.it/r1,4,,Text,,2024-01-01\n"
        + "2024-01-03,Undated Review,2011,https://boxd.it/r2,3,,Text,,\n"
    )
    result = read(path)
    assert result.events["title"].to_list() == ["Solo Review"]
    assert result.skipped["reason"].to_list() == ["review_without_date"]
    assert result.files[0].counts == {
        "viewings": 1,
        "merged_with_diary": 0,
        "review_without_date": 1,
    }


def test_missing_column_names_file(tmp_path: Path) -> None:
    path = tmp_path / "diary.csv"
    path.write_text("Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags\n")
    with pytest.raises(ReadError) as caught:
        read(path)
    message = str(caught.value)
    assert str(path) in message
    assert "Watched Date" in message


def test_forced_format_on_other_file(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text("title,watched_at\nA,2020-01-01\n")
    with pytest.raises(ReadError) as caught:
        read(path, format="letterboxd")
    assert "not a Letterboxd export file" in str(caught.value)
    assert str(path) in str(caught.value)


def test_forced_format_on_json(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text('[{"title": "A", "watched_at": "2020-01-01"}]')
    with pytest.raises(ReadError) as caught:
        read(path, format="letterboxd")
    assert "Letterboxd exports are CSV" in str(caught.value)
    assert str(path) in str(caught.value)
