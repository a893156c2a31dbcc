"""End-to-end tests of `simkl-import apply` against the emulator on loopback."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import apply_runs
import pytest
from apply_runs import apply_args, isolate_user_dirs, user_dirs
from click.testing import CliRunner

from importer.apply import ApplyOptions, Progress, account_identity, apply_import
from importer.cli import cli
from importer.client import SimklClient
from importer.emulator.faults import Fault
from importer.emulator.testing import running_emulator
from importer.errors import ApiError
from importer.journal import NOT_FOUND, REJECTED, Journal
from importer.pipeline import load_events
from importer.readers.base import ReadOptions

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
NOW = "2026-09-01T12:00:00Z"
HISTORY = "/sync/history"
# A scripted fault placeholder that only history POSTs consume.
PASS = Fault.none(method="POST", path=HISTORY)
# A history POST that takes 20 ms, so that a kill can land while it is sent.
SLOW = Fault.delay(0.02, method="POST", path=HISTORY)

CATALOG = {
    "movies": [
        {
            "title": "Copper Tide",
            "year": 2011,
            "ids": {"simkl": 500101, "imdb": "tt9100101", "tmdb": 900101},
        },
        {
            "title": "Glass Orchard",
            "year": 2008,
            "ids": {"simkl": 500102, "imdb": "tt9100102", "tmdb": 900102},
        },
        {
            "title": "Harbor Lights",
            "year": 1999,
            "ids": {"simkl": 500103, "imdb": "tt9100103", "tmdb": 900103},
        },
    ],
    "shows": [
        {
            "title": "Lantern Street",
            "year": 2022,
            "ids": {"simkl": 600001, "tvdb": 60001, "imdb": "tt9900000"},
            "seasons": [{"number": 1, "aired": 6}],
        },
        {
            "title": "Paper Kites",
            "year": 2019,
            "ids": {"simkl": 600002, "tvdb": 60002},
            "seasons": [{"number": 1, "aired": 3}],
        },
    ],
}


def movie_play(play_id: int, when: str, tmdb: int | None, title: str, year: int):
    ids = {"trakt": play_id} if tmdb is None else {"tmdb": tmdb}
    return {
        "id": play_id,
        "watched_at": when,
        "action": "watch",
        "type": "movie",
        "movie": {"title": title, "year": year, "ids": ids},
    }


def episode_play(play_id: int, when: str, tvdb: int, title: str, season, number):
    return {
        "id": play_id,
        "watched_at": when,
        "action": "watch",
        "type": "episode",
        "episode": {"season": season, "number": number, "ids": {}},
        "show": {"title": title, "year": 2022, "ids": {"tvdb": tvdb}},
    }


def mixed_history() -> list[dict]:
    """Return plays with movie rewatches, a 48-hour duplicate and show sessions.

    The show sessions end closed, active and completed.
    """
    plays = [
        movie_play(1, "2012-05-01T12:00:00.000Z", 900101, "Copper Tide", 2011),
        movie_play(2, "2016-11-20T12:00:00.000Z", 900101, "Copper Tide", 2011),
        movie_play(3, "2022-01-03T12:00:00.000Z", 900101, "Copper Tide", 2011),
        movie_play(4, "2019-09-09T12:00:00.000Z", 900102, "Glass Orchard", 2008),
        movie_play(5, "2019-09-10T08:00:00.000Z", 900102, "Glass Orchard", 2008),
    ]
    play_id = 10
    # Lantern Street: watched through, then twice more in part.
    for start, count in (("2023-03-0", 4), ("2024-01-1", 3), ("2025-02-1", 2)):
        for number in range(1, count + 1):
            when = f"{start}{number}T20:00:00.000Z"
            plays.append(
                episode_play(play_id, when, 60001, "Lantern Street", 1, number)
            )
            play_id += 1
    # Paper Kites: all three aired episodes, then all three again, which
    # completes the rewatch session.
    for month in ("2021-06", "2022-02"):
        for number in range(1, 4):
            when = f"{month}-0{number}T21:00:00.000Z"
            plays.append(episode_play(play_id, when, 60002, "Paper Kites", 1, number))
            play_id += 1
    return plays


def write_export(path: Path, plays: list[dict]) -> Path:
    path.write_text(json.dumps(plays, indent=1), encoding="utf-8")
    return path


def run_apply(emu, token, export, journal, *extra: str):
    """Run `simkl-import apply` in this process; return the click result."""
    return apply_runs.run_apply(emu, token, export, journal, *extra, now=NOW)


def history_posts(emu, since: int = 0) -> list:
    return [r for r in emu.requests[since:] if r.method == "POST" and r.path == HISTORY]


def history_state(emu, token) -> dict:
    """Return the account's viewings and sessions, without session ids."""
    state = {}
    for item in emu.account(token)["items"]:
        sessions = [
            (s["started_at"], s["status"], sorted(s["events"].items()))
            for s in item["sessions"]
        ]
        state[item["simkl"]] = {
            "canonical": sorted(item["canonical"].items()),
            "sessions": sorted(sessions),
            "list_status": item["list_status"],
        }
    return state


@pytest.fixture
def emu():
    with running_emulator(CATALOG) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Keep token, cache and state files of the run inside the test folder."""
    isolate_user_dirs(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def reference_state(tmp_path_factory):
    """Return the final state of an uninterrupted import of `mixed_history`."""
    folder = tmp_path_factory.mktemp("reference")
    export = write_export(folder / "history.json", mixed_history())
    with pytest.MonkeyPatch.context() as patch:
        isolate_user_dirs(patch, folder)
        with running_emulator(CATALOG) as emulator:
            token = emulator.issue_token()
            journal = folder / "j.sqlite3"
            result = run_apply(emulator, token, export, journal, "--batch-size", "2")
            assert result.exit_code == 0, result.output
            return history_state(emulator, token)


# -- a whole import -----------------------------------------------------------


def test_apply_writes_canonical_and_sessions(emu, tmp_path):
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    result = run_apply(emu, token, export, tmp_path / "j.sqlite3")
    assert result.exit_code == 0, result.output
    assert "Import complete" in result.output

    state = history_state(emu, token)
    copper = state[500101]
    assert copper["canonical"] == [("0:0", "2012-05-01T12:00:00Z")]
    assert [s[0] for s in copper["sessions"]] == [
        "2016-11-20T12:00:00Z",
        "2022-01-03T12:00:00Z",
    ]
    orchard = state[500102]
    assert orchard["canonical"] == [("0:0", "2019-09-09T12:00:00Z")]
    assert orchard["sessions"] == []

    lantern = state[600001]
    assert len(lantern["canonical"]) == 4
    assert [len(s[2]) for s in lantern["sessions"]] == [3, 2]
    statuses = [s[1] for s in lantern["sessions"]]
    assert statuses == ["closed", "active"]
    kites = state[600002]
    assert len(kites["canonical"]) == 3
    assert [(s[1], len(s[2])) for s in kites["sessions"]] == [("completed", 3)]


def test_apply_uses_fewest_posts(emu, tmp_path):
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    result = run_apply(emu, token, export, tmp_path / "j.sqlite3", "--json", "-")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout[result.stdout.index("{") :])
    posts = history_posts(emu)
    assert document["posts"] == len(posts)
    assert document["posts"] == document["min_posts"]
    # Round 0 (canonical), round 1 and round 2 (the sessions).
    assert len(posts) == 3
    assert [p.query.get("allow_rewatch") for p in posts] == [None, "yes", "yes"]
    reads = [r for r in emu.requests if r.path == "/sync/all-items"]
    assert len(reads) == 1, "every write was confirmed by its response"


def test_second_apply_sends_nothing(emu, tmp_path):
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    journal = tmp_path / "j.sqlite3"
    assert run_apply(emu, token, export, journal).exit_code == 0
    before = history_state(emu, token)
    seen = len(emu.requests)

    result = run_apply(emu, token, export, journal)
    assert result.exit_code == 0, result.output
    assert history_posts(emu, seen) == []
    assert history_state(emu, token) == before
    assert "POSTs used: 0 for 0 requests" in result.output


def test_split_session_pinned_to_rewatch_id(emu, tmp_path, reference_state):
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    result = run_apply(emu, token, export, tmp_path / "j.sqlite3", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert history_state(emu, token) == reference_state
    pinned = [
        show
        for post in history_posts(emu)
        for show in post.json.get("shows", [])
        if "rewatch_id" in show
    ]
    assert pinned, "a session split over two requests must pin its rewatch_id"
    statuses = [
        show.get("rewatch_status")
        for post in history_posts(emu)
        for show in post.json.get("shows", [])
    ]
    assert statuses.count("closed") == 1


# -- re-runs ------------------------------------------------------------------


def test_rerun_writes_only_appended_row(emu, tmp_path):
    token = emu.issue_token()
    plays = [
        episode_play(
            n, f"2023-03-0{n + 3}T20:00:00.000Z", 60001, "Lantern Street", 1, n
        )
        for n in (1, 2, 3)
    ]
    export = write_export(tmp_path / "history.json", plays)
    journal = tmp_path / "j.sqlite3"
    assert run_apply(emu, token, export, journal).exit_code == 0
    assert len(history_posts(emu)) == 1

    seen = len(emu.requests)
    assert run_apply(emu, token, export, journal).exit_code == 0
    assert history_posts(emu, seen) == []

    plays.append(
        episode_play(4, "2023-03-07T20:00:00.000Z", 60001, "Lantern Street", 1, 4)
    )
    write_export(export, plays)
    seen = len(emu.requests)
    result = run_apply(emu, token, export, journal)
    assert result.exit_code == 0, result.output
    (post,) = history_posts(emu, seen)
    (show,) = post.json["shows"]
    assert show["seasons"] == [
        {"number": 1, "episodes": [{"number": 4, "watched_at": "2023-03-07T20:00:00Z"}]}
    ]
    canonical = history_state(emu, token)[600001]["canonical"]
    assert len(canonical) == 4


def test_account_state_not_rewritten(emu, tmp_path):
    """Viewings already on the account are reported present, not posted."""
    token = emu.issue_token()
    first = write_export(tmp_path / "a.json", mixed_history()[:3])
    assert run_apply(emu, token, first, tmp_path / "a.sqlite3").exit_code == 0
    before = history_state(emu, token)[500101]

    # Another journal: only the account itself shows what is there.
    seen = len(emu.requests)
    result = run_apply(emu, token, first, tmp_path / "b.sqlite3")
    assert result.exit_code == 0, result.output
    assert history_posts(emu, seen) == []
    assert history_state(emu, token)[500101] == before
    assert "3  viewings already on Simkl" in result.output


# -- failures -----------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault.apply_then_error(500, method="POST", path=HISTORY),
        Fault.apply_then_drop(method="POST", path=HISTORY),
    ],
    ids=["500_after_apply", "drop_after_apply"],
)
def test_unknown_outcome_settled_by_read_back(emu, tmp_path, reference_state, fault):
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    emu.faults.script([PASS, fault])
    result = run_apply(emu, token, export, tmp_path / "j.sqlite3", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert history_state(emu, token) == reference_state
    reads = [r for r in emu.requests if r.path == "/sync/all-items"]
    assert len(reads) == 2, "one read to plan, one to settle the unknown outcome"
    assert "confirmed by reading back after an unknown outcome" in result.output

    bodies = [json.dumps(p.json, sort_keys=True) for p in history_posts(emu)]
    assert len(bodies) == len(set(bodies)), "a request was sent again blindly"


def test_unknown_outcome_at_every_request(tmp_path, monkeypatch, reference_state):
    """A 502 after the write applied, at each request in turn, changes nothing."""
    monkeypatch.setenv("SIMKL_IMPORT_NOW", NOW)
    export = write_export(tmp_path / "history.json", mixed_history())
    options = ApplyOptions(batch_size=2)
    position = 0
    while True:
        journal = tmp_path / f"j{position}.sqlite3"
        with running_emulator(CATALOG) as emu:
            token = emu.issue_token()
            fault = Fault.apply_then_error(502, method="POST", path=HISTORY)
            emu.faults.script([PASS] * position + [fault])
            result = apply_core(emu, token, export, journal, options=options)
            assert result.finished, f"fault at request {position}"
            state = history_state(emu, token)
            assert state == reference_state, f"fault at request {position}"
            if emu.faults.pending:
                break
            assert result.read_backs == 1
        position += 1
    assert position >= 6, "the fault reached every request of the import"


def test_5xx_before_apply_resent_once(emu, tmp_path, reference_state):
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    emu.faults.script([Fault.respond(503, method="POST", path=HISTORY)])
    result = run_apply(emu, token, export, tmp_path / "j.sqlite3", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert history_state(emu, token) == reference_state
    statuses = [p.status for p in history_posts(emu)]
    assert statuses[0] == 503
    assert statuses.count(503) == 1


def test_429_storm_same_final_state(emu, tmp_path, monkeypatch, reference_state):
    """429s are resent after Retry-After, with no extra session."""
    monkeypatch.setenv("SIMKL_IMPORT_NOW", NOW)
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    storm = Fault.respond(429, retry_after=3, method="POST", path=HISTORY)
    emu.faults.script([PASS, storm, storm, storm, PASS, storm])
    waits: list[float] = []
    options = ApplyOptions(batch_size=2)
    result = apply_core(
        emu, token, export, tmp_path / "j.sqlite3", options=options, sleep=waits.append
    )
    assert result.finished
    assert history_state(emu, token) == reference_state
    statuses = [p.status for p in history_posts(emu)]
    assert statuses.count(429) == 4
    assert result.posts == len(statuses)
    assert sorted(waits)[-4:] == [3.0, 3.0, 3.0, 3.0], "Retry-After is honoured"


def test_rate_limited_run_resumes(emu, tmp_path, monkeypatch, reference_state):
    """A run stopped by 429s after every retry resumes from the journal."""
    monkeypatch.setenv("SIMKL_IMPORT_NOW", NOW)
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    journal = tmp_path / "j.sqlite3"
    storm = Fault.respond(429, retry_after=1, method="POST", path=HISTORY)
    emu.faults.script([PASS, PASS] + [storm] * 5)
    options = ApplyOptions(batch_size=2)
    with pytest.raises(ApiError) as caught:
        apply_core(emu, token, export, journal, options=options, sleep=lambda _: None)
    assert caught.value.status == 429
    sent_first = [p for p in history_posts(emu) if p.status == 201]
    assert len(sent_first) == 2

    seen = len(emu.requests)
    result = apply_core(emu, token, export, journal, options=options)
    assert result.finished
    assert history_state(emu, token) == reference_state
    first_bodies = {json.dumps(p.json, sort_keys=True) for p in sent_first}
    for post in history_posts(emu, seen):
        assert json.dumps(post.json, sort_keys=True) not in first_bodies


def test_real_rate_limit_paced(tmp_path, reference_state):
    with running_emulator(CATALOG, rate_limit=True, post_rate=2.0) as emu:
        token = emu.issue_token()
        export = write_export(tmp_path / "history.json", mixed_history())
        result = run_apply(
            emu, token, export, tmp_path / "j.sqlite3", "--batch-size", "4"
        )
        assert result.exit_code == 0, result.output
        assert history_state(emu, token) == reference_state
        assert any(p.status == 429 for p in history_posts(emu))


# -- reporting ----------------------------------------------------------------


def test_not_found_listed_with_source_row(emu, tmp_path):
    token = emu.issue_token()
    plays = [
        movie_play(1, "2021-03-01T20:00:00.000Z", 900101, "Copper Tide", 2011),
        movie_play(2, "2021-03-02T20:00:00.000Z", 900102, "Glass Orchard", 2008),
        movie_play(3, "2021-03-03T20:00:00.000Z", 999999, "Nowhere Film", 1999),
        episode_play(4, "2021-03-04T20:00:00.000Z", 60002, "Paper Kites", 1, 9),
    ]
    export = write_export(tmp_path / "history.json", plays)
    journal = tmp_path / "j.sqlite3"
    report = tmp_path / "r.json"
    result = run_apply(emu, token, export, journal, "--json", str(report))
    assert result.exit_code == 0, result.output
    assert "Not found on Simkl:" in result.output
    assert "row 3: Nowhere Film (1999) watched 2021-03-03T20:00:00Z" in result.output
    assert "row 4: Paper Kites (2022) S01E09" in result.output

    document = json.loads(report.read_text())
    assert document["confirmed"] == 2
    failed = sum(len(records) for records in document["failures"].values())
    skipped = len(document["skipped"])
    assert document["confirmed"] + failed + skipped == document["plan_summary"]["rows"]
    listed_rows = {
        entry["source_row"]
        for entry in document["skipped"] + document["failures"]["not_found"]
    }
    assert listed_rows == {3, 4}

    seen = len(emu.requests)
    result = run_apply(emu, token, export, journal)
    assert result.exit_code == 0, result.output
    assert history_posts(emu, seen) == []
    assert "row 3: Nowhere Film (1999)" in result.output
    assert "row 4: Paper Kites (2022) S01E09" in result.output


def apply_core(
    emu, token, export, journal_path, max_attempts=5, sleep=time.sleep, **kwargs
):
    """Run apply_import without the command and its matching step.

    `sleep` replaces the client's waits (pacing and Retry-After).
    """
    prepared = load_events([export], read_options=ReadOptions(timezone="UTC"))
    client = SimklClient(
        emu.base_url,
        token=token,
        max_post_rate=1000,
        max_attempts=max_attempts,
        sleep=sleep,
    )
    with client:
        account = account_identity(client, client.settings())
        with Journal.open(journal_path, account) as journal:
            return apply_import(prepared, client, journal, **kwargs)


def test_not_found_by_server_journaled(emu, tmp_path, monkeypatch):
    """An episode the server does not know is journaled and never resent."""
    monkeypatch.setenv("SIMKL_IMPORT_NOW", NOW)
    token = emu.issue_token()
    plays = [
        episode_play(1, "2021-03-04T20:00:00.000Z", 60002, "Paper Kites", 1, 1),
        episode_play(2, "2021-03-05T20:00:00.000Z", 60002, "Paper Kites", 7, 1),
    ]
    export = write_export(tmp_path / "history.json", plays)
    journal = tmp_path / "j.sqlite3"
    result = apply_core(emu, token, export, journal)
    assert result.finished
    assert result.confirmed == 1
    (missing,) = result.failures[NOT_FOUND]
    assert missing.source_row == 2
    assert (missing.season, missing.episode) == (7, 1)
    assert missing.title == "Paper Kites"

    seen = len(emu.requests)
    again = apply_core(emu, token, export, journal)
    assert history_posts(emu, seen) == []
    assert again.posts == 0
    assert [r.source_row for r in again.failures[NOT_FOUND]] == [2]


def test_stop_between_requests(emu, tmp_path, monkeypatch, reference_state):
    monkeypatch.setenv("SIMKL_IMPORT_NOW", NOW)
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    journal = tmp_path / "j.sqlite3"
    events: list[Progress] = []

    def stop_after_two() -> bool:
        return len(history_posts(emu)) >= 2

    options = ApplyOptions(batch_size=2)
    result = apply_core(
        emu,
        token,
        export,
        journal,
        options=options,
        on_progress=events.append,
        should_stop=stop_after_two,
    )
    assert result.stopped == "interrupted"
    assert result.remaining > 0
    assert result.posts == 2
    assert events[0] == Progress(done=0, total=result.min_posts, posts=0)
    assert events[-1].done == 2

    result = apply_core(emu, token, export, journal, options=options)
    assert result.finished
    assert history_state(emu, token) == reference_state


def test_free_tier_keeps_canonical_only(tmp_path):
    with running_emulator(CATALOG, tier="free") as emu:
        token = emu.issue_token()
        export = write_export(tmp_path / "history.json", mixed_history())
        result = run_apply(emu, token, export, tmp_path / "j.sqlite3")
        assert result.exit_code == 0, result.output
        state = history_state(emu, token)
        assert all(item["sessions"] == [] for item in state.values())
        assert len(state[600001]["canonical"]) == 4
        assert "Rewatches not written (Simkl Pro or VIP needed):" in result.output
        assert all(p.query.get("allow_rewatch") is None for p in history_posts(emu))


def test_limit_stops_and_resumes(emu, tmp_path, reference_state):
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history())
    journal = tmp_path / "j.sqlite3"
    result = run_apply(emu, token, export, journal, "--batch-size", "2", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert len(history_posts(emu)) == 2
    assert "Run the same command to resume" in result.output

    result = run_apply(emu, token, export, journal, "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert history_state(emu, token) == reference_state


def test_journal_of_other_account_rejected(emu, tmp_path):
    token = emu.issue_token()
    export = write_export(tmp_path / "history.json", mixed_history()[:1])
    journal = tmp_path / "j.sqlite3"
    assert run_apply(emu, token, export, journal).exit_code == 0
    with sqlite3.connect(journal) as connection:
        connection.execute(
            "UPDATE meta SET value = 'someone@else' WHERE key = 'account'"
        )
    result = run_apply(emu, token, export, journal)
    assert result.exit_code == 1
    assert "belongs to Simkl account someone@else" in result.output


# -- a real export ------------------------------------------------------------


def test_real_trakt_history_imported(tmp_path):
    folder = SHARED / "samples" / "trakt-history"
    if not folder.is_dir():
        pytest.skip("the shared Trakt history samples are not available")
    with running_emulator({}, auto_catalog=True) as emu:
        token = emu.issue_token()
        journal = tmp_path / "j.sqlite3"
        report = tmp_path / "r.json"
        result = run_apply(emu, token, folder, journal, "--json", str(report))
        assert result.exit_code == 0, result.output
        document = json.loads(report.read_text())
        assert document["finished"] is True
        assert document["confirmed"] > 0
        failed = sum(len(records) for records in document["failures"].values())
        buckets = document["confirmed"] + failed + len(document["skipped"])
        assert buckets == document["plan_summary"]["rows"]
        before = history_state(emu, token)

        # Reading back: every planned viewing is on the account exactly once.
        env = {"SIMKL_ACCESS_TOKEN": token, "SIMKL_IMPORT_NOW": NOW}
        args = ["verify", str(folder), "--timezone", "UTC", "--api-url", emu.base_url]
        verified = CliRunner().invoke(cli, args, env=env)
        assert verified.exit_code == 0, verified.output

        # A fresh journal: the plan against the account has nothing to write.
        seen = len(emu.requests)
        second = tmp_path / "r2.json"
        journal = tmp_path / "other.sqlite3"
        result = run_apply(emu, token, folder, journal, "--json", str(second))
        assert result.exit_code == 0, result.output
        assert history_posts(emu, seen) == []
        again = json.loads(second.read_text())
        assert again["confirmed"] == 0
        # Rows that collapsed under the 48-hour rule are now present too.
        assert again["already_present"] >= document["confirmed"]
        assert history_state(emu, token) == before


# -- killed runs --------------------------------------------------------------


def _apply_argv(emu, export: Path, journal: Path) -> list[str]:
    extra = ("--batch-size", "2", "--quiet")
    return ["simkl-import", *apply_args(emu, export, journal, *extra)]


def _child_env(token: str, folder: Path) -> dict[str, str]:
    return {"SIMKL_ACCESS_TOKEN": token, "SIMKL_IMPORT_NOW": NOW, **user_dirs(folder)}


def _start_subprocess(argv: list[str], env: dict[str, str]):
    """Start apply as a fresh Python interpreter (the console script's path)."""
    full_env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "importer.cli"]
    return subprocess.Popen(
        command + argv[1:],
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class _ForkedApply:
    """Apply in a process forked from a server that has the package imported.

    A fresh interpreter spends seconds importing polars and the package, so
    most trials fork from a multiprocessing forkserver instead. The child is
    still its own process, killed with SIGKILL like the subprocess trial.
    """

    def __init__(self, context, argv: list[str], env: dict[str, str]) -> None:
        code = (
            "import os, sys\n"
            f"os.environ.update({env!r})\n"
            f"sys.argv = {argv!r}\n"
            "from importer.cli import main\n"
            "main()\n"
        )
        self._process = context.Process(target=exec, args=(code,))
        self._process.start()

    def poll(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, number: int) -> None:
        os.kill(self._process.pid, number)

    def wait(self, timeout: float) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode


def _kill_after_posts(process, emu, posts: int, delay: float) -> None:
    """SIGKILL `process` `delay` seconds after the emulator saw `posts` POSTs."""
    deadline = time.monotonic() + 30
    while len(history_posts(emu)) < posts and process.poll() is None:
        if time.monotonic() > deadline:
            break
        time.sleep(0.002)
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def forkserver():
    os.environ.setdefault("PYTHONPATH", str(REPO))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["importer.cli"])
    return context


def test_killed_runs_end_in_same_state(tmp_path, reference_state, forkserver):
    """Kill apply with SIGKILL at random points; the next run finishes the job.

    The first trial runs a fresh interpreter, the others fork from the
    forkserver. Kill points are drawn from a seeded generator: after 0 to 4
    history POSTs, plus up to 40 ms, while each history POST takes 20 ms.
    """
    export = write_export(tmp_path / "history.json", mixed_history())
    chooser = random.Random(20261204)
    killed = 0
    in_flight = 0
    for trial in range(10):
        journal = tmp_path / f"j{trial}.sqlite3"
        with running_emulator(CATALOG) as emu:
            emu.faults.script([SLOW] * 20)
            token = emu.issue_token()
            argv = _apply_argv(emu, export, journal)
            env = _child_env(token, tmp_path)
            if trial == 0:
                process = _start_subprocess(argv, env)
                posts = 1
            else:
                process = _ForkedApply(forkserver, argv, env)
                posts = chooser.randint(0, 4)
            _kill_after_posts(process, emu, posts, chooser.uniform(0, 0.04))
            killed += process.returncode == -signal.SIGKILL
            in_flight += _unsettled_writes(journal) > 0

            emu.faults.clear()
            result = run_apply(emu, token, export, journal, "--batch-size", "2")
            assert result.exit_code == 0, result.output
            assert history_state(emu, token) == reference_state, f"trial {trial}"
    assert killed >= 5, "most trials must kill the run before it finishes"
    assert in_flight >= 1, "some kill must land while writes are unsettled"


def _unsettled_writes(journal: Path) -> int:
    if not journal.exists():
        return 0
    with sqlite3.connect(journal) as connection:
        (count,) = connection.execute(
            "SELECT COUNT(*) FROM writes WHERE status IN ('pending', 'sent', 'unknown')"
        ).fetchone()
    return count


def test_ctrl_c_stops_between_requests(tmp_path, reference_state, forkserver):
    """The first SIGINT lets the request in flight finish, then stops."""
    export = write_export(tmp_path / "history.json", mixed_history())
    journal = tmp_path / "j.sqlite3"
    report = tmp_path / "r.json"
    with running_emulator(CATALOG) as emu:
        emu.faults.script([SLOW] * 20)
        token = emu.issue_token()
        argv = _apply_argv(emu, export, journal) + ["--json", str(report)]
        process = _ForkedApply(forkserver, argv, _child_env(token, tmp_path))
        deadline = time.monotonic() + 30
        while not history_posts(emu) and time.monotonic() < deadline:
            time.sleep(0.002)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130

        document = json.loads(report.read_text())
        assert document["stopped"] == "interrupted"
        assert document["remaining"] > 0
        assert _unsettled_writes(journal) == 0, "the request in flight finished"

        emu.faults.clear()
        result = run_apply(emu, token, export, journal, "--batch-size", "2")
        assert result.exit_code == 0, result.output
        assert history_state(emu, token) == reference_state


def test_unstored_rewatches_reported_rejected(tmp_path, monkeypatch):
    """Rewatches a free account ignores with 2xx are read back and reported.

    The run gets tier "pro" while the account is free, as when the tier
    changes after it was read, so it posts rewatches the server drops.
    """
    monkeypatch.setenv("SIMKL_IMPORT_NOW", NOW)
    export = write_export(tmp_path / "history.json", mixed_history()[:3])
    journal = tmp_path / "j.sqlite3"
    with running_emulator(CATALOG, tier="free") as emu:
        token = emu.issue_token()
        result = apply_core(emu, token, export, journal, tier="pro")
        assert result.finished
        assert result.confirmed == 1
        rejected = result.failures[REJECTED]
        assert [r.watched_at for r in rejected] == [
            "2016-11-20T12:00:00Z",
            "2022-01-03T12:00:00Z",
        ]
        assert all("did not store" in (r.detail or "") for r in rejected)
        # One read to plan, then one after each unconfirmed request.
        reads = [r for r in emu.requests if r.path == "/sync/all-items"]
        assert len(reads) == 1 + len(rejected)

        seen = len(emu.requests)
        again = apply_core(emu, token, export, journal, tier="pro")
        assert again.posts == 0
        assert history_posts(emu, seen) == []
