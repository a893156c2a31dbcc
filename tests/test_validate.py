from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from importer.events import conform
from importer.validate import validate_events

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _frame(*rows: dict) -> pl.DataFrame:
    base = {
        "source": "test",
        "source_file": "f.csv",
        "record": "watch",
        "media_type": "movie",
    }
    return conform(
        pl.DataFrame(
            [{**base, "source_row": i + 2, **row} for i, row in enumerate(rows)]
        )
    )


def _rejects_of(row: dict) -> list[dict]:
    result = validate_events(_frame(row), NOW)
    assert result.events.height == 0
    return result.rejects.to_dicts()


def test_valid_row_passes():
    result = validate_events(
        _frame(
            {"title": "A", "year": 2000, "watched_at": datetime(2020, 1, 1, tzinfo=UTC)}
        ),
        NOW,
    )
    assert result.events.height == 1
    assert result.rejects.height == 0


def test_future_date_rejected_with_value():
    (reject,) = _rejects_of(
        {"title": "A", "watched_at": datetime(2030, 1, 1, tzinfo=UTC)}
    )
    assert reject["column"] == "watched_at"
    assert reject["value"] == "2030-01-01T00:00:00Z"
    assert "future" in reject["reason"]
    assert reject["source_row"] == 2


def test_date_before_films_rejected():
    (reject,) = _rejects_of(
        {
            "title": "A",
            "watched_at": datetime(1, 1, 1, 12, tzinfo=UTC),
            "raw_watched_at": "0001-01-01",
        }
    )
    assert reject["column"] == "watched_at"
    assert reject["value"] == "0001-01-01"
    assert "date before 1870" in reject["reason"]


def test_raw_value_shown_for_future_date():
    (reject,) = _rejects_of(
        {
            "title": "A",
            "watched_at": datetime(2030, 1, 1, 12, tzinfo=UTC),
            "raw_watched_at": "2030-01-01",
        }
    )
    assert reject["value"] == "2030-01-01"


def test_episode_without_numbers_rejected():
    (reject,) = _rejects_of(
        {"media_type": "show", "title": "S", "tvdb": 5, "season": 1}
    )
    assert reject["column"] == "season"
    assert "episode without season or number" in reject["reason"]


def test_episode_zero_without_id_rejected():
    (reject,) = _rejects_of(
        {"media_type": "show", "title": "S", "tvdb": 5, "season": 1, "episode": 0}
    )
    assert reject["column"] == "episode"
    assert reject["value"] == "0"
    assert "episode number 0" in reject["reason"]


def test_episode_zero_with_id_passes():
    row = {"media_type": "show", "title": "S", "season": 1, "episode": 0}
    result = validate_events(_frame({**row, "ep_tvdb": 7}), NOW)
    assert result.events.height == 1


def test_episode_with_episode_id_only_passes():
    result = validate_events(
        _frame({"media_type": "show", "title": "S", "ep_imdb": "tt1"}), NOW
    )
    assert result.events.height == 1


def test_row_without_id_or_title_rejected():
    (reject,) = _rejects_of({"title": None})
    assert reject["column"] == "title"


def test_blank_title_without_id_rejected():
    (reject,) = _rejects_of({"title": "   "})
    assert reject["column"] == "title"


def test_rating_out_of_range_rejected():
    (reject,) = _rejects_of({"title": "A", "rating": 11})
    assert reject["column"] == "rating"
    assert reject["value"] == "11"


def test_year_out_of_range_rejected():
    (reject,) = _rejects_of({"title": "A", "year": 1200})
    assert reject["column"] == "year"


def test_reader_problems_split_per_column():
    rejects = _rejects_of(
        {
            "title": "Broken Row",
            "problem": "year='abc': not a year; "
            "watched_at='not-a-date': unparseable date",
        }
    )
    assert [(r["column"], r["value"]) for r in rejects] == [
        ("year", "abc"),
        ("watched_at", "not-a-date"),
    ]


def test_reject_skips_one_row_per_source_row():
    frame = _frame(
        {
            "title": "Broken Row",
            "problem": "year='abc': not a year; "
            "watched_at='not-a-date': unparseable date",
        },
        {"title": "Fine", "year": 2001},
    )
    result = validate_events(frame, NOW)
    skips = result.reject_skips(frame)
    assert skips.height == 1
    assert skips["reason"].to_list() == ["invalid"]
    assert (
        skips["detail"][0]
        == "year 'abc': not a year; watched_at 'not-a-date': unparseable date"
    )
    assert result.events["title"].to_list() == ["Fine"]


def test_other_rows_survive_rejects():
    frame = _frame(
        {"title": "A", "rating": 0}, {"title": "B"}, {"title": "C", "year": 3000}
    )
    result = validate_events(frame, NOW)
    assert result.events["title"].to_list() == ["B"]
    assert sorted(result.rejects["source_row"].to_list()) == [2, 4]


def test_episode_id_alone_identifies_row():
    result = validate_events(
        _frame({"media_type": "show", "title": None, "ep_tvdb": 4185813}), NOW
    )
    assert result.events.height == 1
    assert result.rejects.height == 0
