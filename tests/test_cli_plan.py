"""The plan command end to end: real samples, failure cases and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer.cli import cli

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "samples"
CASES = SHARED / "cases"

needs_shared = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason="shared samples not present"
)


def run_plan(*args: str, now: str = "2026-09-01T12:00:00Z") -> dict:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["plan", "-q", *args, "--json", "-"], env={"SIMKL_IMPORT_NOW": now}
    )
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def writes_by_title(document: dict) -> dict[str, list[tuple[str, str, int]]]:
    found: dict[str, list[tuple[str, str, int]]] = {}
    for write in document["writes"]:
        found.setdefault(write["title"], []).append(
            (write["watched_at"], write["kind"], write["session"])
        )
    return {title: sorted(entries) for title, entries in found.items()}


@needs_shared
def test_letterboxd_sample_counts():
    document = run_plan(str(SAMPLES / "letterboxd-2024"))
    summary = document["summary"]
    # 317 diary rows of 293 films; 115 films only in watched.csv; 83 films
    # whose first diary entry is marked as a rewatch get an undated first
    # viewing; 24 later diary entries plus those 83 are rewatch sessions.
    assert summary["viewing_rows"] == 317 + 115
    assert summary["canonical"] == 293 + 115
    assert summary["rewatch_sessions"] == 24 + 83
    assert summary["undated_written"] == 115 + 83
    assert summary["skipped"] == {"covered_by_diary": 293}
    assert summary["rating_rows"] == 233
    assert summary["watchlist_rows"] == 113


@needs_shared
def test_letterboxd_sample_uses_watched_date():
    document = run_plan(str(SAMPLES / "letterboxd-2024" / "diary.csv"))
    spirit = [w for w in document["writes"] if w["title"] == "The Spirit of St. Louis"]
    # Logged 2023-08-06 and 2023-08-09; watched 2001-01-27 and 2023-08-06.
    assert sorted(w["watched_at"] for w in spirit) == [
        "2001-01-27T12:00:00Z",
        "2023-08-06T12:00:00Z",
    ]


@needs_shared
def test_trakt_history_sample_collapses_duplicates():
    document = run_plan(str(SAMPLES / "trakt-history"))
    summary = document["summary"]
    assert summary["viewing_rows"] == 28
    assert summary["canonical"] == 23
    assert summary["skipped"] == {"collapsed_48h": 5}
    assert summary["by_media_type"]["movie"]["canonical"] == 7
    assert summary["by_media_type"]["show"]["canonical"] == 16


@needs_shared
def test_trakt_aggregates_report_undated_plays():
    document = run_plan(str(SAMPLES / "trakt-api-backup"))
    summary = document["summary"]
    assert summary["canonical"] == 19 + 392
    assert summary["extra_plays_not_written"] == 30
    assert summary["rewatch_writes"] == 0


@needs_shared
def test_imdb_ratings_are_not_viewings_by_default():
    document = run_plan(str(SAMPLES / "imdb-2024"))
    assert document["summary"]["rating_rows"] == 999
    assert document["writes"] == []


@needs_shared
def test_imdb_episodes_never_become_movies():
    document = run_plan(str(SAMPLES / "imdb-2024"), "--rated-as-watched")
    dexter = [w for w in document["writes"] if w["title"].startswith("Dexter")]
    assert dexter
    assert {w["media_type"] for w in dexter} == {"show"}
    assert all(w["episode_ids"]["imdb"].startswith("tt") for w in dexter)


@needs_shared
def test_plan_is_byte_identical_on_rerun():
    runner = CliRunner()
    args = [
        "plan",
        "-q",
        str(SAMPLES / "letterboxd-2024"),
        str(SAMPLES / "trakt-history"),
        "--json",
        "-",
    ]
    env = {"SIMKL_IMPORT_NOW": "2026-09-01T12:00:00Z"}
    first = runner.invoke(cli, args, env=env)
    second = runner.invoke(cli, args, env=env)
    assert first.exit_code == 0
    assert first.stdout == second.stdout


@needs_shared
def test_diary_rewatch_and_first_viewing_dates():
    document = run_plan(str(CASES / "B02_letterboxd_diary_rewatch.csv"))
    found = writes_by_title(document)
    assert found["Paper Orchard"] == [
        ("2021-02-09T12:00:00Z", "canonical", 0),
        ("2023-07-01T12:00:00Z", "rewatch", 1),
    ]
    assert found["Quiet Meridian"] == [("2023-07-01T12:00:00Z", "canonical", 0)]
    # A rewatch mark without an earlier entry: an undated first viewing,
    # then this entry as the first rewatch.
    assert found["Lunar Ferry"] == [
        ("1970-01-01T00:00:01Z", "canonical", 0),
        ("2024-01-05T12:00:00Z", "rewatch", 1),
    ]


@needs_shared
def test_generic_json_watches_become_sessions():
    document = run_plan(str(CASES / "B03_generic_json_multiple_watches.json"))
    found = writes_by_title(document)
    assert found["Copper Tide"] == [
        ("2012-05-01T12:00:00Z", "canonical", 0),
        ("2016-11-20T12:00:00Z", "rewatch", 1),
        ("2022-01-03T12:00:00Z", "rewatch", 2),
    ]
    assert found["Glass Orchard"] == [("2019-09-09T12:00:00Z", "canonical", 0)]


@needs_shared
def test_play_count_without_dates_not_invented():
    document = run_plan(
        str(CASES / "B04_playcount_without_dates.csv"), "--timezone", "Europe/Berlin"
    )
    found = writes_by_title(document)
    assert found["Iron Lantern"] == [("2021-08-14T20:05:00Z", "canonical", 0)]
    assert found["Northbound Static"] == [("2020-01-03T18:40:00Z", "canonical", 0)]
    assert document["summary"]["extra_plays_not_written"] == 3
    (note,) = document["notes"]
    assert note["title"] == "Iron Lantern"
    assert note["reason"] == "extra_plays"


@needs_shared
def test_date_only_is_noon_utc_whatever_the_zone():
    for zone in ("UTC", "Pacific/Auckland", "Pacific/Honolulu"):
        document = run_plan(
            str(CASES / "B05_letterboxd_date_only_timezone.csv"), "--timezone", zone
        )
        found = writes_by_title(document)
        assert found["Harbor Kites"] == [("2024-12-31T12:00:00Z", "canonical", 0)]
        assert found["Ninth Lamp"] == [("2024-02-29T12:00:00Z", "canonical", 0)]


@needs_shared
def test_local_noon_anchor_uses_the_zone():
    document = run_plan(
        str(CASES / "B05_letterboxd_date_only_timezone.csv"),
        "--timezone",
        "Pacific/Auckland",
        "--date-anchor",
        "local-noon",
    )
    found = writes_by_title(document)
    assert found["Salt Meridian"] == [("2024-07-20T00:00:00Z", "canonical", 0)]
    assert found["Harbor Kites"] == [("2024-12-30T23:00:00Z", "canonical", 0)]


@needs_shared
def test_unknown_dates_use_sentinel_once():
    document = run_plan(str(CASES / "B07_trakt_unknown_date_sentinel.json"))
    found = writes_by_title(document)
    assert found["Lamplighter's Wake"] == [
        ("1970-01-01T00:00:01Z", "canonical", 0),
        ("2022-06-10T18:00:00Z", "rewatch", 1),
    ]
    assert found["Bramble Court"] == [("1970-01-01T00:00:01Z", "canonical", 0)]


@needs_shared
def test_watched_csv_adds_only_films_missing_from_diary(tmp_path: Path):
    export = tmp_path / "letterboxd"
    export.mkdir()
    (export / "diary.csv").write_bytes(
        (CASES / "B02_letterboxd_diary_rewatch.csv").read_bytes()
    )
    (export / "watched.csv").write_bytes(
        (CASES / "B08_letterboxd_watched_csv_overlap.csv").read_bytes()
    )
    document = run_plan(str(export))
    found = writes_by_title(document)
    assert found["Velvet Causeway"] == [("1970-01-01T00:00:01Z", "canonical", 0)]
    assert found["Orchid Semaphore"] == [("1970-01-01T00:00:01Z", "canonical", 0)]
    assert len(found["Paper Orchard"]) == 2
    covered = [
        s["title"] for s in document["skipped"] if s["reason"] == "covered_by_diary"
    ]
    assert sorted(covered) == ["Paper Orchard", "Quiet Meridian"]


@needs_shared
def test_imdb_series_rating_is_not_a_viewing():
    document = run_plan(
        str(CASES / "B10_imdb_episode_matched_as_movie.csv"), "--rated-as-watched"
    )
    types = {w["title"]: w["media_type"] for w in document["writes"]}
    assert types == {"Homecoming": "show", "Copper Tide": "movie", "Pilot": "show"}
    skipped = {s["title"]: s["reason"] for s in document["skipped"]}
    assert skipped == {"Lantern Street": "not_a_watch_event"}


@needs_shared
def test_specials_with_distinct_episode_ids_stay_apart():
    document = run_plan(
        str(CASES / "B12_tvtime_numbering_divergence.csv"), "--timezone", "UTC"
    )
    office = [w for w in document["writes"] if w["title"] == "Office Hours US"]
    assert [w["episode_ids"]["tvdb"] for w in office] == [9900201, 9900202]
    assert {w["kind"] for w in office} == {"canonical"}


@needs_shared
def test_rating_date_today_clamped_to_clock():
    document = run_plan(
        str(CASES / "B16_imdb_header_drift_future.csv"),
        "--rated-as-watched",
        now="2024-05-06T09:00:00Z",
    )
    found = writes_by_title(document)
    assert found["Copper Tide"] == [("2024-05-06T09:00:00Z", "canonical", 0)]
    assert found["Glass Orchard"] == [("2023-11-30T12:00:00Z", "canonical", 0)]


@needs_shared
def test_quoted_titles_arrive_intact():
    document = run_plan(str(CASES / "B17_csv_quoted_titles.csv"))
    titles = sorted(w["title"] for w in document["writes"])
    assert titles == sorted(
        [
            "Goodbye, Lantern",
            'The "Blue" Ferry',
            "Line One\nLine Two",
            "夜の港",
            "Гавань",
        ]
    )


@needs_shared
@pytest.mark.parametrize(
    "name", ["B18_encoding_utf16le_bom.csv", "B18_encoding_utf8_bom_semicolon.csv"]
)
def test_encodings_and_delimiters(name: str):
    document = run_plan(str(CASES / name), "--format", "generic")
    found = writes_by_title(document)
    assert found["Ánimas: Season 1: Part 1"] == [
        ("2022-03-01T12:00:00Z", "canonical", 0)
    ]
    assert found["Café Lumière Street"] == [("2022-03-02T12:00:00Z", "canonical", 0)]


@needs_shared
def test_letterboxd_half_stars_double():
    document = run_plan(str(CASES / "B19_letterboxd_rating_scale.csv"))
    rated_at = {r["title"]: r["rated_at"] for r in document["ratings"]}
    assert rated_at["Copper Tide"] == "2021-05-01T12:00:00Z"
    ratings = {r["title"]: r["rating"] for r in document["ratings"]}
    assert ratings == {
        "Copper Tide": 1,
        "Glass Orchard": 2,
        "Paper Orchard": 5,
        "Quiet Meridian": 7,
        "Lunar Ferry": 10,
    }


@needs_shared
def test_single_finale_play_writes_one_episode():
    document = run_plan(
        str(CASES / "B24_fabricated_completion.json"), now="2026-09-14T16:00:00Z"
    )
    assert [
        (w["season"], w["episode"], w["watched_at"]) for w in document["writes"]
    ] == [(7, 22, "2019-05-20T21:00:00Z")]


@needs_shared
def test_watch_before_release_written_or_held():
    document = run_plan(str(CASES / "B25_watched_before_release.csv"))
    written = sorted(w["title"] for w in document["writes"])
    assert written == ["Bright Tunnel", "Supernova Court"]
    reasons = {s["title"]: s["reason"] for s in document["skipped"]}
    assert reasons == {"Distant Signal": "held_before_release", "Late Bloom": "invalid"}
    assert sorted(n["title"] for n in document["notes"]) == [
        "Bright Tunnel",
        "Supernova Court",
    ]


@needs_shared
def test_every_row_in_exactly_one_bucket():
    document = run_plan(str(CASES / "B27_not_found_accounting.csv"))
    rows = {(w["source_file"], w["source_row"]) for w in document["writes"]}
    skipped = {(s["source_file"], s["source_row"]) for s in document["skipped"]}
    assert rows.isdisjoint(skipped)
    assert len(rows) + len(skipped) == document["summary"]["rows"] == 4
    (invalid,) = [s for s in document["skipped"] if s["reason"] == "invalid"]
    assert invalid["source_row"] == 5
    assert invalid["detail"] == (
        "year 'abc': not a year; watched_at 'not-a-date': unparseable date"
        " (use a form such as 2021-03-01 or 2021-03-01T20:00:00Z)"
    )


def test_missing_file_is_one_line_exit_2(tmp_path: Path):
    result = CliRunner().invoke(cli, ["plan", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "nope.csv" in result.stderr
    assert "Traceback" not in result.output + result.stderr


EXPORT = Path(__file__).resolve().parents[1] / "sample_data" / "generic.csv"


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("plan", "--json"),
        ("verify", "--json"),
        ("apply", "--json"),
        ("resolve", "--output"),
    ],
)
@pytest.mark.parametrize("target", ["missing/out.json", "."])
def test_unwritable_output_exit_2(tmp_path: Path, command, option, target):
    # Checked before any work: apply and verify would reach the API first.
    args = [command, str(EXPORT), option, str(tmp_path / target)]
    result = CliRunner().invoke(cli, [*args, "--api-url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert f"cannot write {option}" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert list(tmp_path.iterdir()) == []


def test_invalid_pinned_clock_exit_2():
    env = {"SIMKL_IMPORT_NOW": "yesterday"}
    result = CliRunner().invoke(cli, ["plan", str(EXPORT)], env=env)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "invalid SIMKL_IMPORT_NOW 'yesterday'" in result.stderr


def test_unknown_format_exit_2(tmp_path: Path):
    export = tmp_path / "export.csv"
    export.write_text("foo,bar\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", str(export)])
    assert result.exit_code == 2
    assert "export.csv" in result.stderr
    assert result.stderr.count("\n") == 1


def test_bad_timezone_exit_2(tmp_path: Path):
    export = tmp_path / "diary.csv"
    export.write_text(
        "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Tags,Watched Date\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["plan", str(export), "--timezone", "Mars/Olympus"]
    )
    assert result.exit_code == 2
    assert "Mars/Olympus" in result.stderr


def test_json_file_written_only_on_success(tmp_path: Path):
    target = tmp_path / "plan.json"
    result = CliRunner().invoke(
        cli, ["plan", str(tmp_path / "missing.csv"), "--json", str(target)]
    )
    assert result.exit_code == 2
    assert not target.exists()


def test_plan_json_fields(tmp_path: Path):
    export = tmp_path / "history.json"
    export.write_text(
        json.dumps(
            [
                {
                    "id": 1,
                    "watched_at": "2020-01-01T20:00:00.000Z",
                    "action": "watch",
                    "type": "movie",
                    "movie": {
                        "title": "Copper Tide",
                        "year": 2011,
                        "ids": {"trakt": 1, "tmdb": 900101},
                    },
                },
                {
                    "id": 2,
                    "watched_at": "2021-01-01T20:00:00.000Z",
                    "action": "watch",
                    "type": "movie",
                    "movie": {
                        "title": "Copper Tide",
                        "year": 2011,
                        "ids": {"trakt": 1, "tmdb": 900101},
                    },
                },
            ]
        ),
        encoding="utf-8",
    )
    document = run_plan(str(export))
    first, second = document["writes"]
    assert first["ids"] == {"tmdb": 900101, "trakt": 1}
    assert first["watched_at"] == "2020-01-01T20:00:00Z"
    assert (first["kind"], first["session"]) == ("canonical", 0)
    assert (second["kind"], second["session"]) == ("rewatch", 1)
    assert second["source_row"] == 2
    assert document["summary"]["canonical"] == 1
    assert document["options"]["undated"] == "sentinel"


def test_plan_matches_through_search_once(tmp_path: Path, emulator):
    export = tmp_path / "history.csv"
    export.write_text(
        "title,year,tmdb_id,watched_at\n"
        "Copper Tide,2011,,2020-01-01T20:00:00Z\n"
        "Twin Gates,2010,,2020-02-01T20:00:00Z\n"
        "Nowhere Film,1999,,2020-03-01T20:00:00Z\n"
        "Glass Orchard,2008,900102,2020-04-01T20:00:00Z\n",
        encoding="utf-8",
    )
    args = [
        str(export),
        "--api-url",
        emulator.base_url,
        "--match-cache",
        str(tmp_path / "cache.sqlite"),
    ]
    document = run_plan(*args)
    written = {w["title"]: w["ids"].get("simkl") for w in document["writes"]}
    assert written == {"Copper Tide": 500101, "Glass Orchard": 500102}
    reasons = {s["title"]: s["reason"] for s in document["skipped"]}
    assert reasons == {"Twin Gates": "ambiguous", "Nowhere Film": "not_found"}
    assert document["resolution"]["mode"] == "search"

    searches = len(emulator.requests)
    again = run_plan(*args)
    assert again["writes"] == document["writes"]
    assert len(emulator.requests) == searches


B10_CATALOG = {
    "movies": [
        {
            "title": "Copper Tide",
            "year": 2011,
            "ids": {"simkl": 510001, "imdb": "tt9900603", "tmdb": 900101},
        }
    ],
    "shows": [
        {
            "title": "Homecoming Street",
            "year": 2016,
            "ids": {"simkl": 610700, "imdb": "tt9900700"},
            "seasons": [{"number": 1, "aired": 10}],
            "episodes": [{"season": 1, "number": 5, "ids": {"imdb": "tt9900601"}}],
        },
        {
            "title": "Lantern Street",
            "year": 2022,
            "ids": {"simkl": 610602, "imdb": "tt9900602"},
            "seasons": [{"number": 1, "aired": 8}],
        },
    ],
}


@needs_shared
def test_imdb_episode_placed_by_its_own_id(tmp_path: Path):
    from importer.emulator.testing import running_emulator

    with running_emulator(B10_CATALOG, rate_limit=False) as emu:
        document = run_plan(
            str(CASES / "B10_imdb_episode_matched_as_movie.csv"),
            "--rated-as-watched",
            "--api-url",
            emu.base_url,
            "--match-cache",
            str(tmp_path / "cache.sqlite"),
        )
    written = {
        (
            w["title"],
            w["media_type"],
            w["ids"].get("simkl"),
            w["season"],
            w["episode"],
            w["watched_at"],
        )
        for w in document["writes"]
    }
    assert ("Homecoming", "show", 610700, 1, 5, "2019-03-02T12:00:00Z") in written
    assert (
        "Copper Tide",
        "movie",
        510001,
        None,
        None,
        "2019-03-06T12:00:00Z",
    ) in written
    assert len(written) == 2
    reasons = {s["title"]: s["reason"] for s in document["skipped"]}
    assert reasons["Lantern Street"] == "not_a_watch_event"
    assert reasons["Pilot"] == "not_found"


@needs_shared
def test_trakt_rating_keeps_rated_at():
    document = run_plan(str(SAMPLES / "trakt-api-backup" / "ratings-episodes.json"))
    (rating,) = document["ratings"]
    assert rating["rating"] == 6
    assert rating["rated_at"] == "2016-04-10T15:34:18Z"
