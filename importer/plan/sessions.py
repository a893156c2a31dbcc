"""Rewatch sessions: how Simkl groups an item's later viewings.

A movie rewatch is a session of its own, completed at once. A show's
rewatched episodes join the item's current session in time order; a new
session starts when the current one already holds that episode (the conflict
split) or has completed (every aired episode watched, when the aired count is
known). The account's active session, if any, is the current one at the
start. Sessions past the cap are not created, and their viewings are
reported, the earliest kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from importer.events import conform_skips
from importer.plan import rules


@dataclass
class _Session:
    index: int
    rewatch_id: int | None
    units: set[str] = field(default_factory=set)
    completed: bool = False


@dataclass
class _AccountSessions:
    count: int
    active: _Session | None
    aired: int | None


def _account_sessions(remote: pl.DataFrame) -> dict[str, _AccountSessions]:
    """Summarize each item's sessions on the account: count, active one, aired."""
    aired = (
        remote.group_by("item_key")
        .agg(pl.col("aired_episodes").max())
        .filter(pl.col("aired_episodes").is_not_null())
    )
    aired_by_item = dict(aired.iter_rows())
    rows = remote.filter(pl.col("is_rewatch") & pl.col("rewatch_id").is_not_null())
    sessions = (
        rows.group_by("item_key", "rewatch_id")
        .agg(
            pl.col("watched_at").min().alias("start"),
            pl.col("session_status").first(),
            pl.col("unit_key").unique().alias("units"),
        )
        .sort("item_key", "start", "rewatch_id", nulls_last=True)
    )
    result: dict[str, _AccountSessions] = {}
    for item_key, rewatch_id, _start, status, units in sessions.iter_rows():
        entry = result.setdefault(item_key, _AccountSessions(0, None, aired_by_item.get(item_key)))
        entry.count += 1
        if status == rules.ACTIVE:
            entry.active = _Session(entry.count, rewatch_id, set(units))
    for item_key, count in aired_by_item.items():
        result.setdefault(item_key, _AccountSessions(0, None, count))
    return result


def assign_sessions(kept: pl.DataFrame, remote: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add session, session_status, rewatch_id and round; split off capped rows."""
    account = _account_sessions(remote)
    kept = kept.sort("item_key", "watched_at", "unit_key", "source_file", "source_row")
    items = kept["item_key"].to_list()
    units = kept["unit_key"].to_list()
    kinds = kept["kind"].to_list()
    movies = (kept["media_type"] == "movie").to_list()

    sessions: list[int] = [0] * kept.height
    rewatch_ids: list[int | None] = [None] * kept.height
    completed_flags: list[bool] = [False] * kept.height

    previous_item = None
    state: _AccountSessions | None = None
    current: _Session | None = None
    next_index = 1
    for row, item in enumerate(items):
        if item != previous_item:
            previous_item = item
            state = account.get(item, _AccountSessions(0, None, None))
            current = state.active
            next_index = state.count + 1
        if kinds[row] != rules.REWATCH:
            continue
        assert state is not None
        unit = units[row]
        if movies[row] or current is None or current.completed or unit in current.units:
            current = _Session(next_index, None)
            next_index += 1
        current.units.add(unit)
        if movies[row] or (state.aired is not None and len(current.units) >= state.aired):
            current.completed = True
        sessions[row] = current.index
        rewatch_ids[row] = current.rewatch_id
        completed_flags[row] = current.completed

    kept = kept.with_columns(
        pl.Series("session", sessions, dtype=pl.Int32),
        pl.Series("rewatch_id", rewatch_ids, dtype=pl.Int64),
        pl.Series("_completed", completed_flags, dtype=pl.Boolean),
    )
    capped = kept.filter(pl.col("session") > rules.MAX_SESSIONS)
    kept = kept.filter(pl.col("session") <= rules.MAX_SESSIONS)
    kept = _session_states(kept)
    capped_skips = conform_skips(
        capped.with_columns(
            pl.lit("rewatch_cap").alias("reason"),
            pl.format(
                "rewatch session {} of this item: Simkl keeps at most {} sessions, "
                "and the earliest viewings are kept",
                pl.col("session"),
                pl.lit(rules.MAX_SESSIONS),
            ).alias("detail"),
        )
    )
    return kept, capped_skips


def _session_states(kept: pl.DataFrame) -> pl.DataFrame:
    """Set each session's final state and the round it is posted in.

    A session that completed stays completed; otherwise the item's last
    session stays active and every earlier one is closed, because Simkl
    keeps at most one active session per item.
    """
    rewatch = pl.col("kind") == rules.REWATCH
    last_session = pl.col("session").max().over("item_key")
    completed = pl.col("_completed").any().over("item_key", "session")
    status = (
        pl.when(~rewatch)
        .then(pl.lit(None, dtype=pl.String))
        .when(completed)
        .then(pl.lit(rules.COMPLETED))
        .when(pl.col("session") == last_session)
        .then(pl.lit(rules.ACTIVE))
        .otherwise(pl.lit(rules.CLOSED))
    )
    round_number = (
        pl.when(rewatch)
        .then(pl.col("session").rank("dense").over("item_key", "kind"))
        .otherwise(0)
        .cast(pl.Int32)
    )
    return kept.with_columns(status.alias("session_status"), round_number.alias("round")).drop(
        "_completed"
    )
