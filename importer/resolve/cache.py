"""The SQLite cache of resolver decisions and Simkl episode lists.

Decisions are keyed by the source's identity of an item (see `items.py`),
so a re-run of the same export sends no search request. "Not found" and
"ambiguous" decisions are cached too. `ResolveOptions.refresh` sends the
searches again.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import platformdirs

from importer.errors import ResolveError
from importer.resolve.model import Decision

# Bump when the stored decision format changes; older caches are emptied.
CACHE_VERSION = 2

_TABLES = (
    "CREATE TABLE IF NOT EXISTS decisions ("
    " scope TEXT NOT NULL, item_key TEXT NOT NULL, answer TEXT NOT NULL,"
    " stored_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " PRIMARY KEY (scope, item_key))",
    "CREATE TABLE IF NOT EXISTS episode_lists ("
    " scope TEXT NOT NULL, path TEXT NOT NULL, answer TEXT NOT NULL,"
    " stored_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,"
    " PRIMARY KEY (scope, path))",
)


def default_cache_path() -> Path:
    """Return the cache file in the user's cache directory."""
    return platformdirs.user_cache_path("simkl-import") / "resolve.sqlite3"


class ResolveCache:
    """Stored decisions and episode lists, separated by `scope` (the API URL)."""

    def __init__(self, path: Path | str, scope: str = "") -> None:
        self.path = str(path)
        self.scope = scope
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path)
            self._prepare()
        except (sqlite3.DatabaseError, OSError) as error:
            raise ResolveError(
                f"cannot open the resolver cache {self.path}: {error}; "
                "delete the file or pass another cache path"
            ) from error

    def _prepare(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version != CACHE_VERSION:
            self._db.execute("DROP TABLE IF EXISTS decisions")
            self._db.execute("DROP TABLE IF EXISTS episode_lists")
            self._db.execute(f"PRAGMA user_version = {CACHE_VERSION}")
        for statement in _TABLES:
            self._db.execute(statement)
        self._db.commit()

    def get_decision(self, item_key: str) -> Decision | None:
        row = self._db.execute(
            "SELECT answer FROM decisions WHERE scope = ? AND item_key = ?",
            (self.scope, item_key),
        ).fetchone()
        return None if row is None else Decision.from_json(row[0])

    def put_decision(self, item_key: str, decision: Decision) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO decisions (scope, item_key, answer)"
            " VALUES (?, ?, ?)",
            (self.scope, item_key, decision.to_json()),
        )
        self._db.commit()

    def get_episode_list(self, path: str) -> Any | None:
        row = self._db.execute(
            "SELECT answer FROM episode_lists WHERE scope = ? AND path = ?",
            (self.scope, path),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def put_episode_list(self, path: str, payload: Any) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO episode_lists (scope, path, answer)"
            " VALUES (?, ?, ?)",
            (self.scope, path, json.dumps(payload)),
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResolveCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
