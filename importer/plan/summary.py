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


def summarize(
    events: pl.DataFrame, writes: pl.DataFrame, skipped: pl.DataFrame, notes: pl.DataFrame
) -> dict[str, Any]:
    """Count rows, writes, sessions and skip reasons of a plan."""
    watches = events.filter(pl.col("record") == RECORD_WATCH)
    canonical = writes.filter(pl.col("kind") == rules.CANONICAL)
    rewatch = writes.filter(pl.col("kind") == rules.REWATCH)
    sessions = rewatch.select("item_key", "session").unique().height
    by_media: dict[str, dict[str, int]] = {}
    for media_type, kind, count in (
        writes.group_by("media_type", "kind").len().sort("media_type", "kind").iter_rows()
    ):
        by_media.setdefault(media_type, {})[kind] = int(count)
    sessions_by_media = _counts(rewatch.select("media_type", "item_key", "session").unique(), "media_type")
    for media_type, count in sessions_by_media.items():
        by_media.setdefault(media_type, {})["rewatch_sessions"] = count
    undated_written = writes.filter(pl.col("watched_at") == rules.UNKNOWN_DATE).height
    return {
        "rows": events.height,
        "viewing_rows": watches.height,
        "rating_rows": events.filter(pl.col("record") == RECORD_RATING).height,
        "watchlist_rows": events.filter(pl.col("record") == RECORD_WATCHLIST).height,
        "writes": writes.height,
        "canonical": canonical.height,
        "rewatch_writes": rewatch.height,
        "rewatch_sessions": sessions,
        "items": writes["item_key"].n_unique(),
        "undated_written": undated_written,
        "extra_plays_not_written": int(watches["extra_plays"].sum() or 0),
        "skipped": _counts(skipped, "reason"),
        "notes": _counts(notes, "reason"),
        "date_notes": _counts(writes.filter(pl.col("date_note").is_not_null()), "date_note"),
        "by_media_type": by_media,
    }
