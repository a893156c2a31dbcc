"""Tests of importer.dates: every date rule on small frames."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer.dates import DatePolicy, parse_watched_at, policy_from

NOW = datetime(2026, 9, 1, 12, 0, 0, tzinfo=UTC)

SUFFIX = " (use a form such as 2021-03-01 or 2021-03-01T20:00:00Z)"


def parse(values: list[str | None], **policy: object) -> pl.DataFrame:
    options = {"timezone": "UTC", "date_anchor": "utc-noon", "now": NOW, **policy}
    frame = pl.DataFrame({"when": values}, schema={"when": pl.String})
    return parse_watched_at(frame, "when", policy_from(**options))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_iso_instant_truncates_milliseconds() -> None:
    out = parse(["2014-03-31T09:28:53.987Z"])
    assert out["watched_at"][0] == utc(2014, 3, 31, 9, 28, 53)
    assert out["date_precision"][0] == "instant"
    assert out["problem"][0] is None


def test_offsets_convert_to_utc() -> None:
    out = parse(
        [
            "2020-01-01T10:00:00+05:30",
            "2020-01-01T10:00:00-0200",
            "2023-01-16 03:56:13+00:00",
            "2020-06-01T08:15Z",
        ]
    )
    assert out["watched_at"].to_list() == [
        utc(2020, 1, 1, 4, 30),
        utc(2020, 1, 1, 12, 0),
        utc(2023, 1, 16, 3, 56, 13),
        utc(2020, 6, 1, 8, 15),
    ]


def test_go_style_timestamp() -> None:
    out = parse(["2017-05-02 21:24:51 +0000 UTC"], timezone="Asia/Tokyo")
    assert out["watched_at"][0] == utc(2017, 5, 2, 21, 24, 51)
    assert out["date_precision"][0] == "instant"


def test_date_only_is_utc_noon() -> None:
    out = parse(["2024-07-20", "2024-12-31", "2024-02-29"], timezone="Pacific/Auckland")
    assert out["watched_at"].to_list() == [
        utc(2024, 7, 20, 12),
        utc(2024, 12, 31, 12),
        utc(2024, 2, 29, 12),
    ]
    assert out["date_precision"].to_list() == ["date"] * 3


def test_date_only_local_noon() -> None:
    out = parse(
        ["2024-07-20", "2024-12-31", "2024-02-29"],
        timezone="Pacific/Auckland",
        date_anchor="local-noon",
    )
    assert out["watched_at"].to_list() == [
        utc(2024, 7, 20, 0),
        utc(2024, 12, 30, 23),
        utc(2024, 2, 28, 23),
    ]


def test_naive_time_uses_zone_per_instant() -> None:
    out = parse(
        ["2021-08-14 22:05:00", "2020-01-03 19:40:00"], timezone="Europe/Berlin"
    )
    # Summer time (UTC+2) and winter time (UTC+1) in the same column.
    assert out["watched_at"].to_list() == [
        utc(2021, 8, 14, 20, 5),
        utc(2020, 1, 3, 18, 40),
    ]


def test_daylight_saving_gap_and_overlap() -> None:
    out = parse(
        ["2024-03-31 02:30:00", "2024-10-27 02:30:00"], timezone="Europe/Berlin"
    )
    # 02:30 does not exist on 31 March (moved one hour forward); on
    # 27 October it exists twice and the earlier instant (CEST) is used.
    assert out["watched_at"].to_list() == [
        utc(2024, 3, 31, 1, 30),
        utc(2024, 10, 27, 0, 30),
    ]


def test_day_first_simkl_formats() -> None:
    out = parse(["04/11/2023 05:01", "18-12-2023 21:50:41", "05.06.2022"])
    assert out["watched_at"].to_list() == [
        utc(2023, 11, 4, 5, 1),
        utc(2023, 12, 18, 21, 50, 41),
        utc(2022, 6, 5, 12),
    ]


@pytest.mark.parametrize(
    "value",
    [
        "1970-01-01T00:00:00.000Z",
        "1970-01-01T00:00:01Z",
        "1969-12-31T23:59:59Z",
        "1969-12-31",
        "1970-01-01",
    ],
)
def test_epoch_sentinels_are_unknown(value: str) -> None:
    out = parse([value])
    assert out["watched_at"][0] is None
    assert out["date_precision"][0] == "unknown"
    assert out["date_note"][0] == "sentinel"
    assert out["problem"][0] is None


@pytest.mark.parametrize("value", [None, "", "  ", "unknown", "NULL", "n/a"])
def test_empty_and_unknown_words(value: str | None) -> None:
    out = parse([value])
    assert out["watched_at"][0] is None
    assert out["date_precision"][0] == "unknown"
    assert out["problem"][0] is None
    assert out["raw_watched_at"][0] is None


@pytest.mark.parametrize("value", ["not-a-date", "2024-02-30", "2024-13-01 10:00"])
def test_unparseable_keeps_text(value: str) -> None:
    out = parse([value])
    assert out["watched_at"][0] is None
    assert out["raw_watched_at"][0] == value
    assert out["problem"][0] == f"watched_at='{value}': unparseable date" + SUFFIX


def test_problem_appends_to_existing() -> None:
    frame = pl.DataFrame({"when": ["junk"], "problem": ["year='abc': not a year"]})
    out = parse_watched_at(frame, "when", policy_from("UTC", "utc-noon", NOW))
    assert out["problem"][0] == (
        "year='abc': not a year; watched_at='junk': unparseable date" + SUFFIX
    )


def test_today_noon_after_now_is_clamped() -> None:
    now = utc(2024, 5, 6, 9)
    out = parse(["2024-05-06", "2023-11-30"], now=now)
    assert out["watched_at"].to_list() == [now, utc(2023, 11, 30, 12)]
    assert out["date_note"].to_list() == ["clamped_to_now", None]


def test_future_dates_are_parsed_not_clamped() -> None:
    out = parse(["2026-10-01T20:00:00Z", "2027-01-01"])
    assert out["watched_at"].to_list() == [utc(2026, 10, 1, 20), utc(2027, 1, 1, 12)]
    assert out["date_note"].to_list() == [None, None]


def test_order_kept_with_mixed_shapes() -> None:
    values = ["2020-01-01", "04/11/2023 05:01", "2020-01-02T00:00:00Z", "x", None]
    out = parse(values)
    assert out["when"].to_list() == values
    assert out["watched_at"].to_list() == [
        utc(2020, 1, 1, 12),
        utc(2023, 11, 4, 5, 1),
        utc(2020, 1, 2),
        None,
        None,
    ]


def test_invalid_policy_raises() -> None:
    frame = pl.DataFrame({"when": ["2020-01-01"]})
    with pytest.raises(ValueError, match="date anchor"):
        parse_watched_at(frame, "when", DatePolicy("UTC", "midnight", NOW))
    with pytest.raises(ValueError, match="not a known IANA zone"):
        parse_watched_at(frame, "when", DatePolicy("Mars/Olympus", "utc-noon", NOW))


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    )
)
def test_iso_round_trip(value: datetime) -> None:
    text = value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    out = parse([text])
    assert out["watched_at"][0] == value.replace(microsecond=0)


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=date(1971, 1, 1), max_value=date(2037, 12, 31)))
def test_local_noon_stays_on_day(day: date) -> None:
    out = parse(
        [day.isoformat()], timezone="America/Los_Angeles", date_anchor="local-noon"
    )
    local = out["watched_at"][0].astimezone(ZoneInfo("America/Los_Angeles"))
    assert local.date() == day
    assert local.hour == 12


@settings(max_examples=80, deadline=None)
@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2037, 12, 31)),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney"]),
)
@example(datetime(2024, 3, 31, 2, 30), "Europe/Berlin")
@example(datetime(2024, 10, 27, 2, 30), "Europe/Berlin")
@example(datetime(2024, 3, 10, 2, 30), "America/New_York")
@example(datetime(2024, 4, 7, 2, 30), "Australia/Sydney")
def test_naive_time_matches_zoneinfo(value: datetime, zone: str) -> None:
    value = value.replace(microsecond=0)
    out = parse([value.strftime("%Y-%m-%d %H:%M:%S")], timezone=zone)
    # zoneinfo with fold=0 takes the earlier instant of a repeated hour and
    # reads a skipped hour with the offset before the jump, as the parser does.
    expected = value.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assert out["watched_at"][0] == expected


def test_go_offsets_and_ctime_dates():
    frame = pl.DataFrame(
        {
            "d": [
                "2017-05-03 21:24:51 +0200 CEST",
                "2017-05-02 21:24:51 +0000 UTC m=+0.000000001",
                "Mon Mar 27 00:00:00 2006",
            ]
        }
    )
    policy = DatePolicy(timezone="UTC", now=datetime(2026, 1, 1, tzinfo=UTC))
    out = parse_watched_at(frame, "d", policy)
    assert out["watched_at"].to_list() == [
        datetime(2017, 5, 3, 19, 24, 51, tzinfo=UTC),
        datetime(2017, 5, 2, 21, 24, 51, tzinfo=UTC),
        datetime(2006, 3, 27, 0, 0, 0, tzinfo=UTC),
    ]
    assert out["problem"].null_count() == 3


def test_zone_name_without_offset_rejected():
    frame = pl.DataFrame({"d": ["2017-05-03 21:24:51 CEST"]})
    policy = DatePolicy(timezone="UTC", now=datetime(2026, 1, 1, tzinfo=UTC))
    out = parse_watched_at(frame, "d", policy)
    assert out["watched_at"].to_list() == [None]
    assert out["problem"][0].startswith("watched_at='2017-05-03 21:24:51 CEST'")


EXACT_FORM_MIXES = [
    # The first value picks the fixed form; the rest are other forms,
    # near misses and broken values in the same column.
    [
        "2021-03-01T20:00:00Z",
        "2021-03-01T20:00:00.999Z",
        "2021-3-01T20:00:00Z",
        "2016-12-31T23:59:60Z",
        "2021-02-30T20:00:00Z",
        "+999-03-01T20:00:00Z",
        "2021-03-01T20:00:00+00:00",
        "2021-03-01 20:00:00Z",
        "2021-03-01T20:00:00",
        "1970-01-01T00:00:00Z",
        "2026-09-01",
        None,
        "unknown",
        "2021-03-01T20:00:00Zx",
    ],
    [
        "2021-03-01T20:00:00.123Z",
        "2021-03-01T20:00:00Z",
        "2021-03-01T20:00:00.12Z",
        "2021-03-01T20:00:00.1234Z",
        "1969-12-31T23:59:59.000Z",
        "2021-13-01T20:00:00.000Z",
    ],
]


@pytest.mark.parametrize("values", EXACT_FORM_MIXES)
@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_fixed_form_matches_general_patterns(monkeypatch, values, zone):
    import importer.dates as dates

    fast = parse(values, timezone=zone)
    monkeypatch.setattr(dates, "_EXACT_UTC", {})
    general = parse(values, timezone=zone)
    assert fast.equals(general)
    assert fast["watched_at"][0] is not None
