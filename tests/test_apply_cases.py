"""Apply on failure cases from real migrations, against the sample catalog."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from apply_runs import isolate_user_dirs, run_apply
from click.testing import CliRunner

from importer.cli import cli
from importer.emulator.testing import Fault, running_emulator

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "cases"
HISTORY = "/sync/history"

# The show of the re-run case as its ids describe it, with the TVDB ids of
# its episodes so that matching places them.
LANTERN_STREET = {
    "shows": [
        {
            "title": "Lantern Street",
            "year": 2022,
            "ids": {"simkl": 610001, "tvdb": 60001, "tmdb": 70001, "imdb": "tt9900000"},
            "seasons": [{"number": 1, "aired": 8}],
            "episodes": [
                {"season": 1, "number": n, "ids": {"tvdb": 700000 + n}}
                for n in range(1, 9)
            ],
        }
    ]
}


def case(name: str) -> Path:
    path = CASES / name
    if not path.exists():
        pytest.skip(f"case file {name} is not available")
    return path


def expected(name: str) -> dict:
    return json.loads(case(name).read_text(encoding="utf-8"))


def apply(emu, token, export: Path, journal: Path, now: str, *extra: str):
    return run_apply(emu, token, export, journal, *extra, now=now)


def posted_writes(emu, since: int = 0) -> list[tuple]:
    """Return (kind, watched_at) of every viewing in history POSTs."""
    writes = []
    for record in emu.requests[since:]:
        if record.method != "POST" or record.path != HISTORY:
            continue
        for movie in record.json.get("movies", []):
            writes.append(("movie", movie["watched_at"]))
        for show in record.json.get("shows", []):
            for season in show.get("seasons", []):
                for episode in season["episodes"]:
                    key = (season["number"], episode["number"])
                    writes.append(("episode", key, episode["watched_at"]))
    return writes


def expected_writes(writes: list[dict]) -> list[tuple]:
    result = []
    for write in writes:
        if write["type"] == "movie":
            result.append(("movie", write["watched_at"]))
        else:
            key = (write["season"], write["episode"])
            result.append(("episode", key, write["watched_at"]))
    return result


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    isolate_user_dirs(monkeypatch, tmp_path)


def test_rerun_case_writes_once(tmp_path):
    """Run 2 of the same file writes nothing; run 3 only the appended row."""
    spec = expected("B01_rerun_duplicates_trakt_episodes.expected.json")
    plays = json.loads(case("B01_rerun_duplicates_trakt_episodes.json").read_text())
    export = tmp_path / "history.json"
    export.write_text(json.dumps(plays), encoding="utf-8")
    journal = tmp_path / "j.sqlite3"
    with running_emulator(LANTERN_STREET) as emu:
        token = emu.issue_token()
        result = apply(emu, token, export, journal, spec["clock"])
        assert result.exit_code == 0, result.output
        run_1 = expected_writes(spec["run_1"]["writes"])
        assert sorted(posted_writes(emu)) == sorted(run_1)

        seen = len(emu.requests)
        result = apply(emu, token, export, journal, spec["clock"])
        assert result.exit_code == 0, result.output
        assert posted_writes(emu, seen) == []
        present = spec["run_2_same_file"]["report"]["skipped_existing"]
        assert f"{present}  viewings already on Simkl" in result.output

        appended = dict(plays[-1])
        appended["id"] = plays[-1]["id"] + 1
        appended["watched_at"] = "2023-03-07T20:00:00.000Z"
        appended["episode"] = {
            **plays[-1]["episode"],
            "number": 4,
            "ids": {"tvdb": 700004},
        }
        export.write_text(json.dumps([*plays, appended]), encoding="utf-8")
        seen = len(emu.requests)
        result = apply(emu, token, export, journal, spec["clock"])
        assert result.exit_code == 0, result.output
        run_3 = expected_writes(spec["run_3_file_plus_one_new_row"]["writes"])
        assert posted_writes(emu, seen) == run_3


def test_multiple_watches_case(tmp_path):
    """Later dated viewings become rewatch sessions; run 2 writes nothing."""
    spec = expected("B03_generic_json_multiple_watches.expected.json")
    export = case("B03_generic_json_multiple_watches.json")
    journal = tmp_path / "j.sqlite3"
    with running_emulator() as emu:
        token = emu.issue_token()
        result = apply(emu, token, export, journal, spec["clock"])
        assert result.exit_code == 0, result.output
        run_1 = expected_writes(spec["run_1"]["writes"])
        assert sorted(posted_writes(emu)) == sorted(run_1)
        rewatch_posts = [
            r
            for r in emu.requests
            if r.path == HISTORY and r.query.get("allow_rewatch") == "yes"
        ]
        assert rewatch_posts

        seen = len(emu.requests)
        result = apply(emu, token, export, journal, spec["clock"])
        assert result.exit_code == 0, result.output
        assert posted_writes(emu, seen) == []


def test_multiple_watches_free_account(tmp_path):
    """A free account gets first viewings only; the rewatches are listed."""
    spec = expected("B03_generic_json_multiple_watches.expected.json")
    export = case("B03_generic_json_multiple_watches.json")
    with running_emulator(tier="free") as emu:
        token = emu.issue_token()
        result = apply(emu, token, export, tmp_path / "j.sqlite3", spec["clock"])
        assert result.exit_code == 0, result.output
        first = [w for w in spec["run_1"]["writes"] if w["session"] == "first"]
        assert sorted(posted_writes(emu)) == sorted(expected_writes(first))
        assert "Rewatches not written (Simkl Pro or VIP needed):" in result.output
        assert "2  Rewatches not written" in result.output


def test_not_found_accounting_case(tmp_path):
    """Every row lands in one bucket, and each row not written is listed."""
    spec = expected("B27_not_found_accounting.expected.json")
    export = case("B27_not_found_accounting.csv")
    report = tmp_path / "r.json"
    with running_emulator() as emu:
        token = emu.issue_token()
        now = "2026-09-01T12:00:00Z"
        journal = tmp_path / "j.sqlite3"
        result = apply(emu, token, export, journal, now, "--json", str(report))
        assert result.exit_code == 0, result.output
    assert "row 4: Nowhere Film (1999)" in result.output
    assert "Invalid rows (fix them in the export):" in result.output
    assert "row 5: Broken Row" in result.output

    document = json.loads(report.read_text())
    assert document["confirmed"] == spec["report"]["added"]
    failed = sum(len(records) for records in document["failures"].values())
    buckets = document["confirmed"] + failed + len(document["skipped"])
    assert buckets == spec["report"]["rows"]


def accepted_movies(emu, since: int = 0) -> list[tuple]:
    """Return (tmdb id, watched_at) of movies in history POSTs that got a 2xx."""
    found = []
    for record in emu.requests[since:]:
        if record.method != "POST" or record.path != HISTORY or record.status >= 300:
            continue
        for movie in record.json.get("movies", []):
            found.append((movie["ids"].get("tmdb"), movie["watched_at"]))
    return found


def test_rate_limited_import_resumes(tmp_path):
    """429s are waited out; a run cut off halfway resumes from the journal."""
    spec = expected("B20_rate_limit_partial_import.expected.json")
    export = case("B20_rate_limit_partial_import.json")
    journal = tmp_path / "j.sqlite3"
    now = "2026-09-01T12:00:00Z"
    with running_emulator(auto_catalog=True) as emu:
        token = emu.issue_token()
        emu.faults.script(
            [
                Fault.none(method="POST", path=HISTORY),
                Fault.none(method="POST", path=HISTORY),
                Fault.respond(429, retry_after=1, method="POST", path=HISTORY),
                Fault.respond(429, retry_after=1, method="POST", path=HISTORY),
            ]
        )
        # Three batches of 25 land, then the run stops (as a killed one would).
        result = apply(
            emu, token, export, journal, now, "--batch-size", "25", "--limit", "3"
        )
        assert result.exit_code == 0, result.output
        first_run = accepted_movies(emu)
        assert len(first_run) == spec["run_2_resume"]["skipped_existing"]
        assert len([r for r in emu.requests if r.status == 429]) == 2

        seen = len(emu.requests)
        result = apply(emu, token, export, journal, now, "--batch-size", "25")
        assert result.exit_code == 0, result.output
        second_run = accepted_movies(emu, seen)
        assert len(second_run) == spec["run_2_resume"]["writes"]
        assert set(second_run).isdisjoint(first_run)
        assert len(set(first_run) | set(second_run)) == spec["final_target_events"]
        assert len(first_run) + len(second_run) == spec["final_target_events"]


def test_server_error_after_apply_is_read_back(tmp_path):
    """A 500 after the write applied is settled by reading back, not resent."""
    spec = expected("B21_server_error_after_apply.expected.json")
    export = case("B21_server_error_after_apply.json")
    journal = tmp_path / "j.sqlite3"
    now = "2026-09-01T12:00:00Z"
    with running_emulator(auto_catalog=True) as emu:
        token = emu.issue_token()
        emu.faults.script([Fault.apply_then_error(500, method="POST", path=HISTORY)])
        result = apply(emu, token, export, journal, now)
        assert result.exit_code == 0, result.output
        posts = [r for r in emu.requests if r.method == "POST" and r.path == HISTORY]
        assert len(posts) == 1
        reads = [
            r
            for r in emu.requests
            if r.method == "GET" and r.path.startswith("/sync/all-items")
        ]
        assert len(reads) >= 2
        assert len(set(posted_writes(emu))) == spec["final_target_events"]

        seen = len(emu.requests)
        result = apply(emu, token, export, journal, now)
        assert result.exit_code == 0, result.output
        assert posted_writes(emu, seen) == []


def test_apply_without_terminal_needs_yes(tmp_path):
    export = case("B03_generic_json_multiple_watches.json")
    with running_emulator() as emu:
        token = emu.issue_token()
        args = [
            "apply",
            str(export),
            "--api-url",
            emu.base_url,
            "--journal",
            str(tmp_path / "j"),
        ]
        result = CliRunner().invoke(cli, args, env={"SIMKL_ACCESS_TOKEN": token})
        assert result.exit_code == 2
        assert "--yes" in result.stderr
        assert result.stderr.count("\n") == 1
        assert [r for r in emu.requests if r.path.startswith("/search")] == []


def test_show_sessions_survive_read_back(tmp_path):
    """A read-back after a fault must not split a rewatch pass per episode.

    The auto catalog has no episode counts; an unknown count must not
    complete every session after one episode.
    """
    show = {"title": "Ep Show", "year": 2019, "ids": {"tvdb": 9100, "tmdb": 9100}}
    plays = [
        (1, "2021-01-01T20:00:00.000Z"),
        (2, "2021-01-01T21:00:00.000Z"),
        (1, "2021-06-01T20:00:00.000Z"),
        (2, "2021-06-02T20:00:00.000Z"),
        (1, "2021-06-03T20:00:00.000Z"),
    ]
    history = [
        {
            "id": n,
            "watched_at": at,
            "action": "watch",
            "type": "episode",
            "show": show,
            "episode": {"season": 1, "number": ep, "ids": {"tvdb": 9100 + ep}},
        }
        for n, (ep, at) in enumerate(plays, start=1)
    ]
    export = tmp_path / "history.json"
    export.write_text(json.dumps(history), encoding="utf-8")
    with running_emulator(auto_catalog=True) as emu:
        token = emu.issue_token()
        emu.faults.script([Fault.apply_then_error(500, method="POST", path=HISTORY)])
        result = apply(
            emu, token, export, tmp_path / "j.sqlite3", "2026-09-01T12:00:00Z"
        )
        assert result.exit_code == 0, result.output
        from importer.client import SimklClient
        from importer.remote import read_account

        with SimklClient(emu.base_url, emu.client_id, token) as client:
            account = read_account(client)
    sessions = account.filter(pl.col("is_rewatch"))["rewatch_id"].n_unique()
    assert sessions == 2
