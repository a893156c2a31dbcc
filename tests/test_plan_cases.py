"""Planner cases from real migrations, run on the reference and the real planner.

Each case reads a small export from the shared case folder, plans it on an
empty account, then plans it again against the account the first run left.
The second run must write nothing. Where a case's expected file differs from
the history rules (a rewatch mark without an earlier viewing), the rule wins.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from reference_planner import (
    UNKNOWN_DATE,
    parse_instant,
    read_generic_csv,
    read_trakt_history,
)
from test_plan_rules import PLANNERS, on_account, real_plan, reference_plan_from_rows

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "cases"

pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason="shared cases not present")


@pytest.fixture(params=sorted(PLANNERS))
def planner(request):
    return request.param


def plan_writes(planner: str, rows, remote=None, **options):
    """Return (writes, skips, notes) of one planner as lists of dicts."""
    if planner == "reference":
        from reference_planner import ReferenceOptions

        plan = reference_plan_from_rows(rows, remote, ReferenceOptions(**options))
        return plan.writes, plan.skipped, plan.notes
    plan = real_plan(rows, remote, **options)
    return plan.writes.to_dicts(), plan.skipped.to_dicts(), plan.notes.to_dicts()


def account_after(writes: list[dict], before: list[dict] | None = None) -> list[dict]:
    """Return the account rows that exist once `writes` are applied."""
    remote = list(before or [])
    for write in writes:
        rewatch_id = None
        if write["kind"] == "rewatch":
            rewatch_id = write["rewatch_id"] or 9000 + write["session"]
        remote.append(on_account(dict(write), rewatch_id, write["session_status"]))
    return remote


def summary(writes: list[dict]) -> list[tuple]:
    """Return (item id, season, episode, watched_at, kind) per write.

    The item id is the show's TVDB id for episodes and the TMDB id for movies.
    """
    rows = [
        (
            write.get("tvdb") if write.get("season") is not None else write.get("tmdb"),
            write.get("season"),
            write.get("episode"),
            write["watched_at"],
            write["kind"],
        )
        for write in writes
    ]
    return sorted(rows, key=str)


def reasons(skips: list[dict]) -> list[tuple]:
    return sorted((skip["source_row"], skip["reason"]) for skip in skips)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_trakt_rerun_writes_nothing(planner):
    rows = read_trakt_history(CASES / "B01_rerun_duplicates_trakt_episodes.json")
    writes, skips, _ = plan_writes(planner, rows)
    expected = [
        (60001, 1, 1, utc("2023-03-04T20:15:00Z"), "canonical"),
        (60001, 1, 2, utc("2023-03-05T20:10:00Z"), "canonical"),
        (60001, 1, 3, utc("2023-03-06T21:00:00Z"), "canonical"),
    ]
    assert summary(writes) == expected
    assert skips == []

    account = account_after(writes)
    again, skips_again, _ = plan_writes(planner, rows, account)
    assert again == []
    assert reasons(skips_again) == [
        (1, "already_present"),
        (2, "already_present"),
        (3, "already_present"),
    ]

    appended = dict(
        rows[-1], source_row=4, episode=4, watched_at=utc("2023-03-07T20:00:00Z")
    )
    third, _, _ = plan_writes(planner, [*rows, appended], account)
    assert summary(third) == [(60001, 1, 4, utc("2023-03-07T20:00:00Z"), "canonical")]


def letterboxd_rows(name: str, expected: dict) -> list[dict]:
    """Read a Letterboxd CSV and attach the tmdb ids the case's catalog gives."""
    rows = read_generic_csv(CASES / name)
    catalog = expected["resolver_fixture"]
    for row in rows:
        row["tmdb"] = catalog[f"{row['title']}|{row['year']}"]["tmdb"]
    return rows


def test_letterboxd_diary_rewatches(planner):
    expected = json.loads(
        (CASES / "B02_letterboxd_diary_rewatch.expected.json").read_text()
    )
    rows = letterboxd_rows("B02_letterboxd_diary_rewatch.csv", expected)
    before = [
        on_account(
            {
                "media_type": "movie",
                "tmdb": t["ids"]["tmdb"],
                "watched_at": utc(t["watched_at"]),
            }
        )
        for t in expected["target_before"]
    ]
    writes, skips, notes = plan_writes(planner, rows, before)

    # Lunar Ferry is marked as a rewatch with nothing earlier: by the history
    # rules it gets an unknown-date first viewing and this row as a rewatch.
    assert summary(writes) == [
        (900001, None, None, utc("2023-07-01T12:00:00Z"), "rewatch"),
        (900002, None, None, utc("2023-07-01T12:00:00Z"), "canonical"),
        (900003, None, None, UNKNOWN_DATE, "canonical"),
        (900003, None, None, utc("2024-01-05T12:00:00Z"), "rewatch"),
    ]
    assert reasons(skips) == [(2, "already_present")]
    assert [(n["source_row"], n["reason"]) for n in notes] == [
        (5, "rewatch_without_earlier")
    ]

    again, skips_again, _ = plan_writes(planner, rows, account_after(writes, before))
    assert again == []
    assert len(skips_again) == 4


def generic_json_rows(path: Path) -> list[dict]:
    """Turn a {"media": [{..., "watches": [dates]}]} file into one row per watch."""
    rows = []
    for item in json.loads(path.read_text())["media"]:
        for date_text in item["watches"]:
            rows.append(
                {
                    "source_file": path.name,
                    "source_row": len(rows) + 1,
                    "record": "watch",
                    "media_type": item["type"],
                    "title": item["title"],
                    "year": item["year"],
                    "tmdb": item["ids"]["tmdb"],
                    "watched_at": parse_instant(date_text),
                    "date_precision": "date",
                }
            )
    return rows


def test_generic_json_multiple_watches(planner):
    rows = generic_json_rows(CASES / "B03_generic_json_multiple_watches.json")
    writes, skips, _ = plan_writes(planner, rows)
    assert summary(writes) == [
        (900101, None, None, utc("2012-05-01T12:00:00Z"), "canonical"),
        (900101, None, None, utc("2016-11-20T12:00:00Z"), "rewatch"),
        (900101, None, None, utc("2022-01-03T12:00:00Z"), "rewatch"),
        (900102, None, None, utc("2019-09-09T12:00:00Z"), "canonical"),
    ]
    assert skips == []

    again, _, _ = plan_writes(planner, rows, account_after(writes))
    assert again == []


def test_generic_json_free_account(planner):
    rows = generic_json_rows(CASES / "B03_generic_json_multiple_watches.json")
    writes, skips, _ = plan_writes(planner, rows, rewatches=False)
    assert [w["kind"] for w in writes] == ["canonical", "canonical"]
    assert reasons(skips) == [
        (2, "rewatch_not_written_free_tier"),
        (3, "rewatch_not_written_free_tier"),
    ]


def test_play_count_without_dates(planner):
    berlin = ZoneInfo("Europe/Berlin")
    rows = []
    lines = (CASES / "B04_playcount_without_dates.csv").read_text().splitlines()[1:]
    for line_number, line in enumerate(lines, start=2):
        title, year, tmdb, plays, last_played = line.split(",")
        played = datetime.fromisoformat(last_played).replace(tzinfo=berlin)
        rows.append(
            {
                "source_file": "plays.csv",
                "source_row": line_number,
                "record": "watch",
                "media_type": "movie",
                "title": title,
                "year": int(year),
                "tmdb": int(tmdb),
                "watched_at": played.astimezone(UTC),
                "extra_plays": int(plays) - 1,
            }
        )
    writes, skips, notes = plan_writes(planner, rows)
    assert summary(writes) == [
        (900201, None, None, utc("2021-08-14T20:05:00Z"), "canonical"),
        (900202, None, None, utc("2020-01-03T18:40:00Z"), "canonical"),
    ]
    assert skips == []
    assert [(n["source_row"], n["reason"]) for n in notes] == [(2, "extra_plays")]


def test_trakt_unknown_dates(planner):
    rows = read_trakt_history(CASES / "B07_trakt_unknown_date_sentinel.json")
    writes, skips, _ = plan_writes(planner, rows)
    assert summary(writes) == [
        (900401, None, None, UNKNOWN_DATE, "canonical"),
        (900401, None, None, utc("2022-06-10T18:00:00Z"), "rewatch"),
        (900402, None, None, UNKNOWN_DATE, "canonical"),
    ]
    assert skips == []

    again, skips_again, _ = plan_writes(planner, rows, account_after(writes))
    assert again == []
    assert reasons(skips_again) == [
        (1, "already_present"),
        (2, "already_present"),
        (3, "already_present"),
    ]


def test_trakt_unknown_dates_skipped(planner):
    rows = read_trakt_history(CASES / "B07_trakt_unknown_date_sentinel.json")
    writes, skips, _ = plan_writes(planner, rows, undated="skip")
    assert summary(writes) == [
        (900401, None, None, utc("2022-06-10T18:00:00Z"), "canonical")
    ]
    assert reasons(skips) == [(1, "undated"), (2, "undated")]
