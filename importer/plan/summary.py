"""Counts that describe a plan, for the report and the JSON output."""

from __future__ import annotations

from typing import Any

import polars as pl

from importer.events import RECORD_RATING, RECORD_WATCH, RECORD_WATCHLIST
from importer.plan import rules


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    if frame.height == 0:
        return {}
    grouped = frame.group_by(column).len().sort(column, nulls_last=True)
    return {str(key): int(count) for key, count in grouped.iter_rows()}


def _counts_of(
    frame: pl.DataFrame, name: str, values: tuple[str, ...]
) -> dict[str, int]:
    # Through an expression, so that a one-value column (the record of an
    # export of viewings only) is not expanded; see importer.plan.columns.
    counts = frame.select(
        (pl.col(name) == value).sum().alias(str(i)) for i, value in enumerate(values)
    ).row(0)
    return {value: int(count) for value, count in zip(values, counts, strict=True)}


def summarize(
    events: pl.DataFrame,
    writes: pl.DataFrame,
    skipped: pl.DataFrame,
    notes: pl.DataFrame,
    *,
    item_count: int | None = None,
) -> dict[str, Any]:
    """Count rows, writes, sessions and skip reasons of a plan.

    `item_count` is the number of distinct items among the writes, for a
    caller that can count them on integer ids, which is cheaper than on the
    `item_key` strings.
    """
    # Only these records and kinds are reported, and comparing strings
    # costs less than grouping a million of them.
    records = _counts_of(
        events, "record", (RECORD_WATCH, RECORD_RATING, RECORD_WATCHLIST)
    )
    kinds = _counts_of(writes, "kind", (rules.CANONICAL, rules.REWATCH))
    rewatch = writes.lazy().filter(pl.col("kind") == rules.REWATCH)
    session_rows = (
        rewatch.select("media_type", "item_key", "session").unique().collect()
    )
    by_media: dict[str, dict[str, int]] = {}
    for media_type, kind, count in (
        writes.group_by("media_type", "kind")
        .len()
        .sort("media_type", "kind")
        .iter_rows()
    ):
        by_media.setdefault(media_type, {})[kind] = int(count)
    for media_type, count in _counts(session_rows, "media_type").items():
        by_media.setdefault(media_type, {})["rewatch_sessions"] = count
    undated_written = int((writes["watched_at"] == rules.UNKNOWN_DATE).sum())
    extra_plays = (
        events.lazy()
        .filter(pl.col("record") == RECORD_WATCH)
        .select(pl.col("extra_plays").sum())
    )
    return {
        "rows": events.height,
        "viewing_rows": records.get(RECORD_WATCH, 0),
        "rating_rows": records.get(RECORD_RATING, 0),
        "watchlist_rows": records.get(RECORD_WATCHLIST, 0),
        "writes": writes.height,
        "canonical": kinds.get(rules.CANONICAL, 0),
        "rewatch_writes": kinds.get(rules.REWATCH, 0),
        "rewatch_sessions": session_rows.height,
        "items": writes["item_key"].n_unique() if item_count is None else item_count,
        "undated_written": undated_written,
        "extra_plays_not_written": int(extra_plays.collect().item() or 0),
        "skipped": _counts(skipped, "reason"),
        "notes": _counts(notes, "reason"),
        "date_notes": _counts(
            writes.filter(pl.col("date_note").is_not_null()), "date_note"
        ),
        "by_media_type": by_media,
    }
