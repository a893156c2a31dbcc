"""Plan reports: the terminal summary and the machine-readable JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

import polars as pl

from importer import __version__
from importer.events import EPISODE_ID_COLUMNS, ITEM_ID_COLUMNS
from importer.pipeline import Prepared
from importer.plan import Plan

_ISO = "%Y-%m-%dT%H:%M:%SZ"

# Labels of skip reasons in the terminal summary.
REASON_LABELS = {
    "already_present": "already on Simkl",
    "collapsed_48h": "collapsed: under 48 hours after another viewing",
    "rewatch_cap": "capped: past 50 rewatch sessions",
    "undated_extra": "undated plays beyond the one unknown-date viewing",
    "undated": "undated rows (undated policy: skip)",
    "held_before_release": "held: watched long before release",
    "rewatch_not_written_free_tier": "rewatches not written (free account)",
    "invalid": "rejected rows",
}


def _ids(
    row: dict[str, Any], columns: Mapping[str, object], prefix: str = ""
) -> dict[str, Any]:
    return {
        name[len(prefix) :]: row[name] for name in columns if row.get(name) is not None
    }


def _iso_frame(frame: pl.DataFrame, column: str = "watched_at") -> pl.DataFrame:
    return frame.with_columns(pl.col(column).dt.strftime(_ISO))


def write_entries(writes: pl.DataFrame) -> list[dict[str, Any]]:
    """Return one JSON object per planned write."""
    entries = []
    for row in _iso_frame(writes).iter_rows(named=True):
        entry = {
            "media_type": row["media_type"],
            "title": row["title"],
            "year": row["year"],
            "ids": _ids(row, ITEM_ID_COLUMNS),
            "season": row["season"],
            "episode": row["episode"],
            "watched_at": row["watched_at"],
            "kind": row["kind"],
            "session": row["session"],
            "session_status": row["session_status"],
            "source_file": row["source_file"],
            "source_row": row["source_row"],
            "write_key": row["write_key"],
        }
        episode_ids = _ids(row, EPISODE_ID_COLUMNS, prefix="ep_")
        if episode_ids:
            entry["episode_ids"] = episode_ids
        if row["episode_abs"] is not None:
            entry["episode_abs"] = row["episode_abs"]
        if row["date_note"]:
            entry["date_note"] = row["date_note"]
        if row["rewatch_id"] is not None:
            entry["rewatch_id"] = row["rewatch_id"]
        entries.append(entry)
    return entries


def skip_entries(skipped: pl.DataFrame) -> list[dict[str, Any]]:
    """Return one JSON object per skipped row, dropping empty fields."""
    return [
        {k: v for k, v in row.items() if v is not None}
        for row in _iso_frame(skipped).iter_rows(named=True)
    ]


def plan_document(
    prepared: Prepared, plan: Plan, options: dict[str, Any]
) -> dict[str, Any]:
    """Return the JSON plan document (see the README for its fields)."""
    return {
        "format": "simkl-import plan",
        "version": 1,
        "generated_by": f"simkl-import {__version__}",
        "options": options,
        "files": [
            {"path": f.path, "format": f.format, "rows": f.rows, "counts": f.counts}
            for f in prepared.read.files
        ],
        "warnings": list(prepared.read.warnings),
        "summary": plan.summary,
        "resolution": prepared.resolution,
        "writes": write_entries(plan.writes),
        "skipped": skip_entries(plan.skipped),
        "notes": skip_entries(plan.notes),
        "rejects": prepared.validation.rejects.to_dicts(),
        "ratings": rating_entries(prepared.events),
    }


def rating_entries(events: pl.DataFrame) -> list[dict[str, Any]]:
    """Return the valid rating rows (1 to 10), read now and imported later."""
    rows = events.filter(
        (pl.col("record") == "rating") & pl.col("rating").is_not_null()
    )
    entries = []
    for row in _iso_frame(rows).iter_rows(named=True):
        entries.append(
            {
                "media_type": row["media_type"],
                "title": row["title"],
                "year": row["year"],
                "ids": _ids(row, ITEM_ID_COLUMNS),
                "rating": row["rating"],
                "rated_at": row["watched_at"],
                "source_file": row["source_file"],
                "source_row": row["source_row"],
            }
        )
    return entries


def dump_json(document: dict[str, Any], stream: IO[str]) -> None:
    """Write `document` as stable, indented JSON."""
    json.dump(
        document, stream, indent=2, ensure_ascii=False, sort_keys=False, default=str
    )
    stream.write("\n")


def render_summary(prepared: Prepared, plan: Plan) -> str:
    """Return the terminal summary of a plan."""
    summary = plan.summary
    lines = ["Read"]
    for f in prepared.read.files:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(f.counts.items()) if v)
        lines.append(
            f"  {f.path} ({f.format}): {f.rows} rows"
            + (f"; {counts}" if counts else "")
        )
    for warning in prepared.read.warnings:
        lines.append(f"  warning: {warning}")
    lines.append(
        f"  ratings read {summary['rating_rows']}, "
        f"watchlist entries read {summary['watchlist_rows']} (not imported yet)"
    )

    rejected = summary.get("rejected", 0)
    lines.append(f"Rejected rows: {rejected}")
    for reason, count in summary.get("reject_reasons", {}).items():
        lines.append(f"  {count:>6}  {reason}")
    lines.extend(_reject_lines(prepared.validation.rejects))

    lines.extend(_resolution_lines(prepared.resolution))

    lines.append("Plan (nothing is written by plan)")
    lines.append(f"  {summary['canonical']:>6}  canonical viewings")
    lines.append(
        f"  {summary['rewatch_sessions']:>6}  rewatch sessions "
        f"({summary['rewatch_writes']} viewings)"
    )
    lines.append(
        f"  {summary['undated_written']:>6}  written at the unknown-date instant "
        "1970-01-01T00:00:01Z"
    )
    if summary["extra_plays_not_written"]:
        lines.append(
            f"  {summary['extra_plays_not_written']:>6}  "
            "plays counted without dates, not written"
        )
    for reason, count in summary.get("skipped", {}).items():
        label = REASON_LABELS.get(reason, reason.replace("_", " "))
        lines.append(f"  {count:>6}  {label}")
    for reason, count in summary.get("notes", {}).items():
        lines.append(f"  note: {count} rows {reason.replace('_', ' ')}")
    for note, count in summary.get("date_notes", {}).items():
        lines.append(f"  date: {count} writes {note.replace('_', ' ')}")

    lines.append("By media type")
    for media_type, counts in summary.get("by_media_type", {}).items():
        parts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
        lines.append(f"  {media_type}: {parts}")
    return "\n".join(lines)


def _resolution_lines(resolution: dict[str, Any]) -> list[str]:
    if not resolution:
        return []
    if resolution.get("mode") == "offline":
        missing = resolution.get("items_without_ids", {})
        total = sum(missing.values())
        lines = ["Matching: offline, by the ids in the export"]
        if total:
            lines.append(
                f"  {total:>6}  items have no id Simkl accepts and go by title "
                "and year; pass --api-url to match them through Simkl search"
            )
        return lines
    lines = ["Matching: through Simkl search"]
    for source, counts in sorted(resolution.get("by_source", {}).items()):
        parts = ", ".join(
            f"{name.replace('_', ' ')} {count}" for name, count in counts.items()
        )
        lines.append(f"  {source}: {parts}")
    if resolution.get("review_lines"):
        lines.append(
            f"  {resolution['review_lines']} items need review: "
            "run `simkl-import resolve` for the review CSV"
        )
    return lines


# Rejected rows named one by one in the terminal summary; --json has all.
MAX_LISTED_REJECTS = 10


def _reject_lines(rejects: pl.DataFrame) -> list[str]:
    lines = [
        f"  {row['source_file']}, row {row['source_row']}: {row['column']} "
        f"'{row['value'] or ''}': {row['reason']}"
        for row in rejects.head(MAX_LISTED_REJECTS).iter_rows(named=True)
    ]
    if rejects.height > MAX_LISTED_REJECTS:
        lines.append(
            f"  ... and {rejects.height - MAX_LISTED_REJECTS} more; "
            "--json lists them all"
        )
    return lines
