from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest

from importer.errors import JournalError
from importer.journal import (
    CAPPED,
    CONFIRMED,
    NOT_FOUND,
    PENDING,
    UNKNOWN,
    Journal,
    Outcome,
    default_journal_path,
)

INFO = {
    "m1@x": {
        "title": "Copper Tide",
        "year": 2011,
        "watched_at": datetime(2021, 3, 1, 20, tzinfo=UTC),
        "source_file": "history.csv",
        "source_row": 2,
    },
    "m2@x": {"title": "Glass Orchard", "year": 2008, "source_row": 3},
}


@pytest.fixture
def journal(tmp_path):
    with Journal.open(tmp_path / "journal.sqlite3", "user1@127.0.0.1") as journal:
        journal.start_run()
        yield journal


def test_request_recorded_pending(journal):
    journal.record_request(
        round_number=0, allow_rewatch=False, write_keys=["m1@x", "m2@x"], info=INFO
    )
    records = journal.records()
    assert set(records) == {"m1@x", "m2@x"}
    assert records["m1@x"].status == PENDING
    assert records["m1@x"].title == "Copper Tide"
    assert records["m1@x"].watched_at == "2021-03-01T20:00:00Z"
    assert records["m1@x"].source_row == 2
    assert set(journal.unsettled()) == {"m1@x", "m2@x"}


def test_response_updates_each_write(journal):
    request_id = journal.record_request(
        round_number=1, allow_rewatch=True, write_keys=["m1@x", "m2@x"], info=INFO
    )
    journal.record_response(
        request_id,
        {
            "m1@x": Outcome(CONFIRMED, rewatch_id=42),
            "m2@x": Outcome(NOT_FOUND, detail="not found by tmdb"),
        },
        request_outcome="answered",
        http_status=201,
        summary={"added": 1},
    )
    records = journal.records()
    assert records["m1@x"].status == CONFIRMED
    assert records["m1@x"].rewatch_id == 42
    assert records["m2@x"].status == NOT_FOUND
    assert records["m2@x"].detail == "not found by tmdb"
    assert journal.unsettled() == {}
    assert journal.status_counts() == {CONFIRMED: 1, NOT_FOUND: 1}


def test_resend_counts_attempts(journal):
    first = journal.record_request(
        round_number=0, allow_rewatch=False, write_keys=["m1@x"], info=INFO
    )
    journal.record_response(
        first, {"m1@x": Outcome(UNKNOWN)}, request_outcome="unknown", http_status=500
    )
    journal.record_request(
        round_number=0, allow_rewatch=False, write_keys=["m1@x"], info=INFO
    )
    record = journal.records()["m1@x"]
    assert record.attempts == 2
    assert record.status == PENDING
    assert journal.request_count() == 2


def test_records_filtered_by_status(journal):
    request_id = journal.record_request(
        round_number=0, allow_rewatch=False, write_keys=["m1@x", "m2@x"], info=INFO
    )
    journal.record_response(
        request_id,
        {"m1@x": Outcome(CAPPED), "m2@x": Outcome(CONFIRMED)},
        request_outcome="answered",
    )
    assert list(journal.records([CAPPED])) == ["m1@x"]


def test_settle_keeps_rewatch_id(journal):
    request_id = journal.record_request(
        round_number=1, allow_rewatch=True, write_keys=["m1@x"], info=INFO
    )
    journal.record_response(
        request_id, {"m1@x": Outcome(UNKNOWN, rewatch_id=9)}, request_outcome="unknown"
    )
    journal.settle({"m1@x": Outcome(CONFIRMED, detail="read back")})
    record = journal.records()["m1@x"]
    assert record.status == CONFIRMED
    assert record.rewatch_id == 9


def test_unknown_status_raises(journal):
    request_id = journal.record_request(
        round_number=0, allow_rewatch=False, write_keys=["m1@x"], info=INFO
    )
    with pytest.raises(ValueError):
        journal.record_response(
            request_id, {"m1@x": Outcome("done")}, request_outcome="answered"
        )
    assert journal.records()["m1@x"].status == PENDING


def test_other_account_rejected(tmp_path):
    path = tmp_path / "journal.sqlite3"
    Journal.open(path, "user1@127.0.0.1").close()
    with pytest.raises(JournalError) as caught:
        Journal.open(path, "user2@127.0.0.1")
    message = str(caught.value)
    assert "user1@127.0.0.1" in message
    assert "--journal" in message


def test_same_account_reopens(tmp_path):
    path = tmp_path / "journal.sqlite3"
    with Journal.open(path, "user1@127.0.0.1") as journal:
        journal.start_run()
        journal.record_request(
            round_number=0, allow_rewatch=False, write_keys=["m1@x"], info=INFO
        )
    with Journal.open(path, "user1@127.0.0.1") as journal:
        assert list(journal.unsettled()) == ["m1@x"]


def test_not_a_database_rejected(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_text("this is not sqlite\n" * 100)
    with pytest.raises(JournalError) as caught:
        Journal.open(path, "user1@127.0.0.1")
    assert str(path) in str(caught.value)


def test_wal_mode(tmp_path):
    path = tmp_path / "journal.sqlite3"
    Journal.open(path, "user1@127.0.0.1").close()
    with sqlite3.connect(path) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


def test_pending_survives_kill(tmp_path):
    path = tmp_path / "journal.sqlite3"
    script = textwrap.dedent(
        f"""
        import os, signal
        from importer.journal import Journal
        journal = Journal.open({str(path)!r}, "user1@127.0.0.1")
        journal.start_run()
        journal.record_request(
            round_number=0, allow_rewatch=False, write_keys=["m1@x"], info={{}}
        )
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], env=_env(), check=False)
    assert result.returncode == -9
    with Journal.open(path, "user1@127.0.0.1") as journal:
        assert journal.unsettled()["m1@x"].status == PENDING


def test_default_path_names_account():
    path = default_journal_path("user 1@api.simkl.com")
    assert path.name == "journal-user_1_api.simkl.com.sqlite3"


def _env():
    import os
    from pathlib import Path

    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return env


def test_second_open_rejected_while_locked(tmp_path):
    path = tmp_path / "journal.sqlite3"
    with Journal.open(path, "user1@127.0.0.1"):
        with pytest.raises(JournalError) as caught:
            Journal.open(path, "user1@127.0.0.1")
        assert "in use by another simkl-import run" in str(caught.value)
    Journal.open(path, "user1@127.0.0.1").close()
