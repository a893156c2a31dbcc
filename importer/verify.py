"""Compare the viewings an import intends with what the account stores.

An intended viewing is present when the account stores exactly one event of
the same movie or episode less than 48 hours from it. Simkl merges events
closer than that into one viewing, so a second stored event in that window
is a duplicate and no stored event is a missing viewing. Events on the
account that no intended viewing matches are not differences, because an
account may contain more than one export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import polars as pl

from importer.events import EPISODE_ID_COLUMNS, ITEM_ID_COLUMNS, empty_skips

# Simkl's 48-hour rule: events of one movie or episode closer than this are
# one viewing.
SAME_VIEWING_WINDOW = timedelta(hours=48)

# The planner's date_note on the unknown-date first viewing it adds before a
# rewatch that has no earlier viewing.
FIRST_VIEWING_NOTE = "unknown_date_for_rewatch"

PAIR_COLUMNS = [
    "_row",
    "_stored",
    "watched_at",
    "_stored_at",
    "date_note",
    "is_rewatch",
]

DIFFERENCE_SCHEMA: dict[str, pl.DataType] = {
    "problem": pl.String(),
    "stored": pl.UInt32(),
    "media_type": pl.String(),
    "title": pl.String(),
    "year": pl.Int32(),
    "season": pl.Int32(),
    "episode": pl.Int32(),
    "watched_at": pl.Datetime("us", "UTC"),
    "kind": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
}


@dataclass
class VerifyResult:
    """The outcome of a verify run: counts and one row per difference."""

    checked: int
    differences: pl.DataFrame
    # Source rows no Simkl item was matched to (skip form): they were never
    # planned, so they cannot be on Simkl, and a person has to act on them.
    unmatched: pl.DataFrame = field(default_factory=empty_skips)

    @property
    def ok(self) -> bool:
        """True when every intended viewing is stored once and every row matched."""
        return self.differences.height == 0 and self.unmatched.height == 0


def compare(intended: pl.DataFrame, remote: pl.DataFrame) -> VerifyResult:
    """Check each intended viewing (WRITE_SCHEMA rows) against `remote`.

    `remote` is the account in REMOTE_SCHEMA form. A stored event is of the
    same movie or episode when it shares an external id of the same
    namespace and media family (movie, or tv for shows and anime) and the
    same season and episode, or an episode-level id. An intended row whose
    ids match nothing on the account matches by title and year instead.
    """
    if intended.height == 0:
        return VerifyResult(0, pl.DataFrame(schema=DIFFERENCE_SCHEMA))
    wanted = _with_unit_columns(intended).with_row_index("_row")
    stored = (
        _with_unit_columns(remote)
        .filter(pl.col("watched_at").is_not_null())
        .with_row_index("_stored")
    )
    counts = _count_stored_nearby(_matching_pairs(wanted, stored))
    checked = wanted.join(counts, on="_row", how="left").with_columns(
        pl.col("stored").fill_null(0)
    )
    differences = (
        checked.filter(pl.col("stored") != 1)
        .with_columns(
            pl.when(pl.col("stored") == 0)
            .then(pl.lit("missing"))
            .otherwise(pl.lit("duplicate"))
            .alias("problem")
        )
        .sort("source_file", "source_row", "watched_at", nulls_last=True)
        .select([pl.col(name).cast(dtype) for name, dtype in DIFFERENCE_SCHEMA.items()])
    )
    return VerifyResult(intended.height, differences)


def _with_unit_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the media family, the episode position and a folded title."""
    movie = pl.col("media_type") == "movie"
    numbered = pl.col("season").is_not_null() & pl.col("episode").is_not_null()
    return frame.with_columns(
        pl.when(movie).then(pl.lit("movie")).otherwise(pl.lit("tv")).alias("_family"),
        pl.when(~movie & numbered).then(pl.col("season")).alias("_season"),
        pl.when(~movie & numbered).then(pl.col("episode")).alias("_episode"),
        pl.col("title").str.to_lowercase().str.strip_chars().alias("_title"),
    )


def _matching_pairs(wanted: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """Return (wanted row, stored row) pairs of the same movie or episode.

    Rows whose ids match no stored event (no ids, or only ids such as a
    Letterboxd slug that Simkl does not return) fall back to title and year.
    """
    position = ["_family", "_season", "_episode"]
    by_id = [_join(wanted, stored, [name], position) for name in ITEM_ID_COLUMNS]
    by_id += [_join(wanted, stored, [name], ["_family"]) for name in EPISODE_ID_COLUMNS]
    pairs = pl.concat(by_id)
    unmatched = wanted.join(pairs.select("_row"), on="_row", how="anti")
    # A missing year matches a missing year only.
    by_title = _join(unmatched, stored, ["_title"], ["year", *position])
    return pl.concat([pairs, by_title]).unique(["_row", "_stored"])


def _join(
    wanted: pl.DataFrame, stored: pl.DataFrame, keys: list[str], context: list[str]
) -> pl.DataFrame:
    """Pair rows that have every key set and equal, within the same context."""
    present = pl.all_horizontal(pl.col(name).is_not_null() for name in keys)
    columns = [*keys, *context]
    left = wanted.filter(present).select("_row", "watched_at", "date_note", *columns)
    right = stored.filter(present).select(
        "_stored", pl.col("watched_at").alias("_stored_at"), "is_rewatch", *columns
    )
    matched = left.join(right, on=columns, nulls_equal=True)
    return matched.select(PAIR_COLUMNS)


def _count_stored_nearby(pairs: pl.DataFrame) -> pl.DataFrame:
    """Count each wanted row's stored events within the 48-hour window.

    The planner adds an unknown-date first viewing before a rewatch that has
    no earlier viewing. It does so only when the account has none either, so
    any canonical event of the unit satisfies it, whatever its date.
    """
    gap = (pl.col("_stored_at") - pl.col("watched_at")).abs()
    added_first = (pl.col("date_note") == FIRST_VIEWING_NOTE) & ~pl.col("is_rewatch")
    return (
        pairs.filter((gap < SAME_VIEWING_WINDOW) | added_first)
        .group_by("_row")
        .agg(pl.len().cast(pl.UInt32).alias("stored"))
    )


def describe(row: dict) -> str:
    """Format one difference as a line a person can act on."""
    title = row["title"] or "(untitled)"
    if row["year"] is not None:
        title += f" ({row['year']})"
    if row["season"] is not None and row["episode"] is not None:
        title += f" S{row['season']:02d}E{row['episode']:02d}"
    when = row["watched_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    where = f"{row['source_file']}, row {row['source_row']}"
    if row["problem"] == "missing":
        return f"missing: {title} watched {when} ({row['kind']}), from {where}"
    return (
        f"duplicate: {title} watched {when} is stored {row['stored']} times "
        f"within 48 hours, from {where}"
    )


def render(result: VerifyResult) -> list[str]:
    """Return the report lines: one per difference, then a summary line."""
    lines = [describe(row) for row in result.differences.iter_rows(named=True)]
    for row in result.unmatched.iter_rows(named=True):
        year = row["year"] if row["year"] is not None else "?"
        lines.append(
            f"not matched ({row['reason']}): {row['title']} ({year}), "
            f"{row['source_file']} row {row['source_row']}"
        )
    if result.unmatched.height:
        lines.append(
            f"{result.unmatched.height} rows were not matched to a Simkl item, "
            "so they are not on Simkl: run "
            "`simkl-import resolve EXPORT... -o review.csv`, fill in "
            "the ids and pass the file back with --overrides."
        )
    if result.ok:
        lines.append(
            f"verified: all {result.checked} intended viewings are on Simkl "
            "exactly once."
        )
        return lines
    if result.differences.height == 0:
        lines.append(
            f"all {result.checked} matched viewings are on Simkl exactly once."
        )
        return lines
    missing = result.differences.filter(pl.col("problem") == "missing").height
    duplicated = result.differences.height - missing
    lines.append(
        f"{result.differences.height} of {result.checked} intended viewings differ: "
        f"{missing} missing, {duplicated} stored more than once."
    )
    return lines


def result_document(result: VerifyResult) -> dict[str, Any]:
    """Return the machine-readable form of a verify result."""
    differences = result.differences.with_columns(
        pl.col("watched_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    unmatched = result.unmatched.with_columns(
        pl.col("watched_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    return {
        "checked": result.checked,
        "ok": result.ok,
        "differences": differences.to_dicts(),
        "unmatched": unmatched.to_dicts(),
    }
