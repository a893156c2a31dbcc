"""The SQLite journal of every write posted to Simkl and its outcome.

A write is recorded as pending, in its own transaction, before its request
is sent, and updated once the response is read. A run killed at any point
therefore leaves every write it may have sent marked pending (or unknown),
and the next run settles those by reading the account back instead of
sending them again. Writes with a final outcome (not found, rejected,
capped) are never sent again, so a finished import repeated sends nothing.

One journal belongs to one Simkl account; opening it for another account
raises JournalError.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import platformdirs

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from importer.errors import JournalError

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "1"

# Write states. PENDING: recorded, its request may or may not have been sent.
# SENT: a 2xx response that did not confirm the write. UNKNOWN: the request
# failed in a way that may have applied it. The rest are final.
PENDING = "pending"
SENT = "sent"
UNKNOWN = "unknown"
CONFIRMED = "confirmed"
NOT_FOUND = "not_found"
REJECTED = "rejected"
CAPPED = "capped"
STATUSES = (PENDING, SENT, UNKNOWN, CONFIRMED, NOT_FOUND, REJECTED, CAPPED)
UNSETTLED = (PENDING, SENT, UNKNOWN)
FINAL_FAILURES = (NOT_FOUND, REJECTED, CAPPED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    request_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs (run_id),
    round INTEGER NOT NULL,
    allow_rewatch INTEGER NOT NULL,
    writes INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    http_status INTEGER,
    summary TEXT,
    sent_at TEXT NOT NULL,
    answered_at TEXT
);
CREATE TABLE IF NOT EXISTS writes (
    write_key TEXT PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (run_id),
    request_id INTEGER REFERENCES requests (request_id),
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    rewatch_id INTEGER,
    detail TEXT,
    title TEXT,
    year INTEGER,
    season INTEGER,
    episode INTEGER,
    watched_at TEXT,
    source_file TEXT,
    source_row INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS writes_status ON writes (status);
"""

_INFO_COLUMNS = (
    "title",
    "year",
    "season",
    "episode",
    "watched_at",
    "source_file",
    "source_row",
)


@dataclass(frozen=True)
class WriteRecord:
    """One journal row: a write, its latest status and where it came from."""

    write_key: str
    status: str
    attempts: int
    request_id: int | None
    rewatch_id: int | None
    detail: str | None
    title: str | None
    year: int | None
    season: int | None
    episode: int | None
    watched_at: str | None
    source_file: str | None
    source_row: int | None


@dataclass(frozen=True)
class Outcome:
    """The result of one write as read from a response or a read-back."""

    status: str
    rewatch_id: int | None = None
    detail: str | None = None


def default_journal_path(account: str) -> Path:
    """Return the journal file for `account` in the user's state directory."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", account).strip("_") or "account"
    state_dir = platformdirs.user_state_path("simkl-import", appauthor=False)
    return state_dir / f"journal-{safe}.sqlite3"


def _lock_run(path: Path, connection: sqlite3.Connection) -> IO[bytes] | None:
    """Hold an exclusive lock on "<journal>.lock" while the journal is open.

    Two runs posting from one journal could send the same write twice, so
    a second one raises JournalError. The operating system releases the
    lock when the process ends, even when it is killed.
    NOTE: without fcntl (Windows) no lock is taken.
    """
    if fcntl is None:
        return None
    lock_path = path.with_name(path.name + ".lock")
    # The file stays open, and locked, until Journal.close().
    lock_file = open(lock_path, "wb")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock_file.close()
        connection.close()
        raise JournalError(
            f"journal {path} is in use by another simkl-import run. Wait for "
            "it to finish, or pass --journal with another file."
        ) from None
    return lock_file


def _now() -> str:
    # The wall clock, not the pinned SIMKL_IMPORT_NOW: these stamps record
    # when a request really went out.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Journal:
    """An open journal file, bound to one account and one run at a time."""

    def __init__(self, connection: sqlite3.Connection, path: Path, account: str):
        self._db = connection
        self.path = path
        self.account = account
        self.run_id: int | None = None

    @classmethod
    def open(cls, path: Path | str, account: str) -> Journal:
        """Open or create the journal at `path` for `account`.

        Raises JournalError when the file is not a journal or belongs to
        another account.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None, timeout=10)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise JournalError(
                f"opening journal {path} failed: {error}. Pass --journal with a "
                "writable path to a new file."
            ) from None
        journal = cls(connection, path, account)
        journal._lock_file = _lock_run(path, connection)
        journal._bind_account()
        return journal

    def _bind_account(self) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        stored = meta.get("account")
        if stored is None:
            with self._transaction():
                self._db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("account", self.account), ("schema_version", SCHEMA_VERSION)],
                )
            return
        if stored != self.account:
            self.close()
            raise JournalError(
                f"journal {self.path} belongs to Simkl account {stored}, not "
                f"{self.account}. Pass --journal with another file to import "
                "into this account."
            )
        version = meta.get("schema_version")
        if version != SCHEMA_VERSION:
            self.close()
            raise JournalError(
                f"journal {self.path} has schema version {version}, expected "
                f"{SCHEMA_VERSION}. Pass --journal with a new file."
            )

    def close(self) -> None:
        """Close the database connection and release the run lock."""
        self._db.close()
        lock_file = getattr(self, "_lock_file", None)
        if lock_file is not None:
            lock_file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self.path)

    # -- runs ---------------------------------------------------------------

    def start_run(self) -> int:
        """Record the start of an apply run and return its id."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO runs (started_at, outcome) VALUES (?, 'running')",
                (_now(),),
            )
        self.run_id = int(cursor.lastrowid or 0)
        return self.run_id

    def finish_run(self, outcome: str) -> None:
        """Record how the current run ended (finished, interrupted, failed...)."""
        with self._transaction():
            self._db.execute(
                "UPDATE runs SET finished_at = ?, outcome = ? WHERE run_id = ?",
                (_now(), outcome, self._require_run()),
            )

    def _require_run(self) -> int:
        if self.run_id is None:
            raise JournalError("no run started; call start_run first")
        return self.run_id

    # -- writes -------------------------------------------------------------

    def record_request(
        self,
        *,
        round_number: int,
        allow_rewatch: bool,
        write_keys: list[str],
        info: Mapping[str, Mapping[str, Any]],
    ) -> int:
        """Record a request and its writes as pending before sending it.

        `info` maps each write key to its title, year, season, episode,
        watched_at, source_file and source_row, kept for the report.
        Returns the request id.
        """
        run_id = self._require_run()
        now = _now()
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO requests (run_id, round, allow_rewatch, writes, "
                "outcome, sent_at) VALUES (?, ?, ?, ?, 'pending', ?)",
                (run_id, round_number, int(allow_rewatch), len(write_keys), now),
            )
            request_id = int(cursor.lastrowid or 0)
            self._db.executemany(
                _UPSERT_PENDING,
                [
                    (
                        key,
                        run_id,
                        request_id,
                        PENDING,
                        *_info_values(info.get(key)),
                        now,
                        now,
                    )
                    for key in write_keys
                ],
            )
        return request_id

    def record_response(
        self,
        request_id: int,
        outcomes: Mapping[str, Outcome],
        *,
        request_outcome: str,
        http_status: int | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> None:
        """Store the outcome of each write of a request and of the request."""
        now = _now()
        with self._transaction():
            self._db.execute(
                "UPDATE requests SET outcome = ?, http_status = ?, summary = ?, "
                "answered_at = ? WHERE request_id = ?",
                (
                    request_outcome,
                    http_status,
                    json.dumps(summary, sort_keys=True) if summary else None,
                    now,
                    request_id,
                ),
            )
            self._update_writes(outcomes, now)

    def settle(self, outcomes: Mapping[str, Outcome]) -> None:
        """Store outcomes found by reading the account back."""
        if outcomes:
            with self._transaction():
                self._update_writes(outcomes, _now())

    def _update_writes(self, outcomes: Mapping[str, Outcome], now: str) -> None:
        for outcome in outcomes.values():
            if outcome.status not in STATUSES:
                raise ValueError(f"unknown write status {outcome.status!r}")
        self._db.executemany(
            "UPDATE writes SET status = ?, rewatch_id = COALESCE(?, rewatch_id), "
            "detail = ?, updated_at = ? WHERE write_key = ?",
            [
                (o.status, o.rewatch_id, o.detail, now, key)
                for key, o in outcomes.items()
            ],
        )

    # -- queries ------------------------------------------------------------

    def records(self, statuses: Iterable[str] | None = None) -> dict[str, WriteRecord]:
        """Return the journal's writes by key, optionally only some statuses."""
        query = "SELECT * FROM writes"
        params: tuple[str, ...] = ()
        if statuses is not None:
            params = tuple(statuses)
            query += f" WHERE status IN ({', '.join('?' * len(params))})"
        rows = self._db.execute(query, params).fetchall()
        return {row["write_key"]: _record(row) for row in rows}

    def unsettled(self) -> dict[str, WriteRecord]:
        """Return writes whose outcome is not known yet (pending, sent, unknown)."""
        return self.records(UNSETTLED)

    def status_counts(self) -> dict[str, int]:
        """Return the number of writes in each status."""
        rows = self._db.execute(
            "SELECT status, COUNT(*) FROM writes GROUP BY status"
        ).fetchall()
        return {status: count for status, count in rows}

    def request_count(self, run_id: int | None = None) -> int:
        """Return the number of requests recorded, in one run or in all."""
        if run_id is None:
            row = self._db.execute("SELECT COUNT(*) FROM requests").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM requests WHERE run_id = ?", (run_id,)
            ).fetchone()
        return int(row[0])


_UPSERT_PENDING = f"""
INSERT INTO writes (write_key, run_id, request_id, status, attempts,
    {", ".join(_INFO_COLUMNS)}, created_at, updated_at)
VALUES (?, ?, ?, ?, 1, {", ".join("?" * len(_INFO_COLUMNS))}, ?, ?)
ON CONFLICT (write_key) DO UPDATE SET
    run_id = excluded.run_id,
    request_id = excluded.request_id,
    status = excluded.status,
    attempts = writes.attempts + 1,
    detail = NULL,
    updated_at = excluded.updated_at
"""


def _info_values(info: Mapping[str, Any] | None) -> tuple[Any, ...]:
    info = info or {}
    values = []
    for column in _INFO_COLUMNS:
        value = info.get(column)
        if hasattr(value, "strftime"):
            value = value.strftime("%Y-%m-%dT%H:%M:%SZ")
        values.append(value)
    return tuple(values)


def _record(row: sqlite3.Row) -> WriteRecord:
    return WriteRecord(
        write_key=row["write_key"],
        status=row["status"],
        attempts=row["attempts"],
        request_id=row["request_id"],
        rewatch_id=row["rewatch_id"],
        detail=row["detail"],
        title=row["title"],
        year=row["year"],
        season=row["season"],
        episode=row["episode"],
        watched_at=row["watched_at"],
        source_file=row["source_file"],
        source_row=row["source_row"],
    )


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT on an autocommit connection.

    An error inside rolls the transaction back; an SQLite error becomes a
    JournalError naming the file.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self._path = path

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self._journal_error(error) from None
        return self._db

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if exc_type is not None:
            self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._journal_error(exc) from None
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            raise self._journal_error(error) from None

    def _journal_error(self, error: sqlite3.Error) -> JournalError:
        return JournalError(
            f"writing journal {self._path} failed: {error}. Check that the "
            "disk has space and no other simkl-import run uses this file."
        )
