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
    events: pl.DataFrame,
    writes: pl.DataFrame,
    skipped: pl.DataFrame,
    notes: pl.DataFrame,
) -> dict[str, Any]:
    """Count rows, writes, sessions and skip reasons of a plan."""
    records = _counts(events.select("record"), "record")
    kinds = _counts(writes.select("kind"), "kind")
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
        "items": writes["item_key"].n_unique(),
        "undated_written": undated_written,
        "extra_plays_not_written": int(extra_plays.collect().item() or 0),
        "skipped": _counts(skipped, "reason"),
        "notes": _counts(notes, "reason"),
        "date_notes": _counts(
            writes.filter(pl.col("date_note").is_not_null()), "date_note"
        ),
        "by_media_type": by_media,
    }
