"""Rewatch sessions: how Simkl groups an item's later viewings.

A movie rewatch is a session of its own, completed at once. A show's
rewatched episodes join the item's current session in time order. A new
session starts when the current one already contains that episode (the
conflict split) or has completed (every aired episode watched, when the
aired count is known). The account's active session, if any, is the current one at the
start. Sessions past the cap are not created, and their viewings are
reported, the earliest kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from importer.plan import rules


@dataclass
class _Session:
    index: int
    rewatch_id: int | None
    units: set[int] = field(default_factory=set)
    completed: bool = False


@dataclass
class _AccountSessions:
    count: int = 0
    active: _Session | None = None
    aired: int | None = None


def _account_sessions(remote: pl.DataFrame) -> dict[int, _AccountSessions]:
    """Summarize each item's sessions on the account: count, active one, aired."""
    result: dict[int, _AccountSessions] = {}
    aired = remote.group_by("item_id").agg(pl.col("aired_episodes").max()).drop_nulls()
    for item_id, count in aired.iter_rows():
        # A count of 0 carries no information: no show completes at zero.
        if count > 0:
            result[item_id] = _AccountSessions(aired=count)
    sessions = (
        remote.filter(pl.col("is_rewatch") & pl.col("rewatch_id").is_not_null())
        .group_by("item_id", "rewatch_id")
        .agg(
            pl.col("watched_at").min().alias("start"),
            pl.col("session_status").first(),
            pl.col("unit_id").unique().alias("units"),
        )
        .sort("item_id", "start", "rewatch_id", nulls_last=True)
    )
    for item_id, rewatch_id, _start, status, units in sessions.iter_rows():
        entry = result.setdefault(item_id, _AccountSessions())
        entry.count += 1
        if status == rules.ACTIVE:
            entry.active = _Session(entry.count, rewatch_id, set(units))
    return result


def _chain_starts(items: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Mark the rows that open a session, for shows whose sessions never complete.

    Rows are one item's rewatches in time order, items contiguous. A session
    that starts at row s ends before the first row i > s whose episode
    already appeared at or after s. With prev(i) the previous row of i's
    episode, that row is min{i : prev(i) >= s}: a suffix minimum, so every
    item's chain advances together, one session per pass.
    """
    n = items.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.arange(n)
    # The previous row of the same episode: neighbours after a stable sort.
    by_unit = np.argsort(units, kind="stable")
    same = np.r_[False, units[by_unit][1:] == units[by_unit][:-1]]
    previous = np.full(n, -1, dtype=np.int64)
    previous[by_unit[same]] = by_unit[np.flatnonzero(same) - 1]
    has_previous = previous >= 0
    first_reuse = np.full(n + 1, n, dtype=np.int64)
    np.minimum.at(first_reuse, previous[has_previous], order[has_previous])
    next_start = np.minimum.accumulate(first_reuse[::-1])[::-1]

    starts = np.zeros(n, dtype=bool)
    current = np.flatnonzero(np.r_[True, items[1:] != items[:-1]])
    while current.size:
        starts[current] = True
        following = next_start[current]
        inside = following < n
        following = following[inside]
        current = following[items[following] == items[current[inside]]]
    return starts


def _simple_sessions(
    rows: pl.DataFrame, account: dict[int, _AccountSessions]
) -> pl.DataFrame:
    """Sessions of items with no active account session and no aired count."""
    items = rows["item_id"].to_numpy()
    movies = rows["_movie"].to_numpy()
    starts = movies | _chain_starts(items, rows["unit_id"].to_numpy())
    account_counts = {
        item: state.count for item, state in account.items() if state.count
    }
    counts = (
        rows["item_id"]
        .replace_strict(account_counts, default=0, return_dtype=pl.Int64)
        .to_numpy()
    )
    ordinal = pl.Series(starts).cast(pl.Int64).cum_sum().to_numpy()
    first_of_item = np.r_[True, items[1:] != items[:-1]]
    base = np.maximum.accumulate(np.where(first_of_item, ordinal - 1, 0))
    session = counts + ordinal - base
    return rows.with_columns(
        pl.Series("session", session, dtype=pl.Int32),
        pl.lit(None, dtype=pl.Int64).alias("rewatch_id"),
        pl.Series("_completed", movies, dtype=pl.Boolean),
    )


def _stateful_sessions(
    rows: pl.DataFrame, account: dict[int, _AccountSessions]
) -> pl.DataFrame:
    """Sessions of items whose account state matters, one row at a time."""
    sessions: list[int] = []
    rewatch_ids: list[int | None] = []
    completed: list[bool] = []
    previous_item = None
    state = _AccountSessions()
    current: _Session | None = None
    next_index = 1
    for item, unit, movie in rows.select("item_id", "unit_id", "_movie").iter_rows():
        if item != previous_item:
            previous_item = item
            state = account.get(item, _AccountSessions())
            current = state.active
            next_index = state.count + 1
        if movie or current is None or current.completed or unit in current.units:
            current = _Session(next_index, None)
            next_index += 1
        current.units.add(unit)
        if movie or (state.aired is not None and len(current.units) >= state.aired):
            current.completed = True
        sessions.append(current.index)
        rewatch_ids.append(current.rewatch_id)
        completed.append(current.completed)
    return rows.with_columns(
        pl.Series("session", sessions, dtype=pl.Int32),
        pl.Series("rewatch_id", rewatch_ids, dtype=pl.Int64),
        pl.Series("_completed", completed, dtype=pl.Boolean),
    )


def assign_sessions(
    kept: pl.DataFrame, stored: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add session, session_status, rewatch_id and round; split off capped rows.

    `kept` is the planner's narrow frame with `kind`; `stored` the account's
    rows with item and unit ids. Capped rows come back with their order
    number, time and the session number they would have had.
    """
    account = _account_sessions(stored)
    canonical = kept.filter(pl.col("kind") == rules.CANONICAL).with_columns(
        pl.lit(0, dtype=pl.Int32).alias("session"),
        pl.lit(None, dtype=pl.Int64).alias("rewatch_id"),
        pl.lit(None, dtype=pl.String).alias("session_status"),
        pl.lit(0, dtype=pl.Int32).alias("round"),
    )
    rewatch = kept.filter(pl.col("kind") == rules.REWATCH).sort(
        "item_id", "_t", "unit_id", "_order"
    )
    stateful_items = [
        item
        for item, state in account.items()
        if state.active is not None or state.aired is not None
    ]
    is_stateful = pl.col("item_id").is_in(stateful_items) & ~pl.col("_movie")
    parts = [
        _simple_sessions(rewatch.filter(~is_stateful), account),
        _stateful_sessions(rewatch.filter(is_stateful), account),
    ]
    rewatch = pl.concat(parts)
    capped = rewatch.filter(pl.col("session") > rules.MAX_SESSIONS)
    rewatch = _session_states(rewatch.filter(pl.col("session") <= rules.MAX_SESSIONS))
    # One chunk, because the gathers that build the writes from it cost
    # about a third more on the two chunks of the concatenation.
    kept = pl.concat([canonical, rewatch.select(canonical.columns)], rechunk=True)
    return kept, capped.select("_order", "_t", pl.col("session").alias("_session"))


def _session_states(rewatch: pl.DataFrame) -> pl.DataFrame:
    """Set each session's final state and the round it is posted in.

    A session that completed stays completed. Otherwise the item's last
    session stays active and every earlier one is closed, because Simkl
    keeps at most one active session per item. The round is the session's
    rank among the item's sessions that this plan writes to.

    Rows come sorted by item and time, and an item's session numbers never
    decrease with time, so each item and each session is a run of rows.
    """
    n = rewatch.height
    if n == 0:
        return rewatch.with_columns(
            pl.lit(None, dtype=pl.String).alias("session_status"),
            pl.lit(None, dtype=pl.Int32).alias("round"),
        ).drop("_completed")
    items = rewatch["item_id"].to_numpy()
    sessions = rewatch["session"].to_numpy()
    completed = rewatch["_completed"].to_numpy()
    new_item = np.r_[True, items[1:] != items[:-1]]
    new_session = new_item | np.r_[True, sessions[1:] != sessions[:-1]]

    item_run = np.cumsum(new_item) - 1
    session_run = np.cumsum(new_session) - 1
    last_session = np.maximum.reduceat(sessions, np.flatnonzero(new_item))[item_run]
    session_completed = np.logical_or.reduceat(completed, np.flatnonzero(new_session))[
        session_run
    ]
    sessions_before_item = (np.cumsum(new_session) - 1)[np.flatnonzero(new_item)][
        item_run
    ]
    round_number = session_run - sessions_before_item + 1

    state = np.where(session_completed, 2, np.where(sessions == last_session, 1, 0))
    status = (
        pl.when(pl.col("_state") == 2)
        .then(pl.lit(rules.COMPLETED))
        .when(pl.col("_state") == 1)
        .then(pl.lit(rules.ACTIVE))
        .otherwise(pl.lit(rules.CLOSED))
    )
    return (
        rewatch.with_columns(
            pl.Series("_state", state, dtype=pl.Int8),
            pl.Series("round", round_number, dtype=pl.Int32),
        )
        .with_columns(status.alias("session_status"))
        .drop("_completed", "_state")
    )
