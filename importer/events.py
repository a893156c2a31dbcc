"""The normalized events frame: the contract between readers and the rest.

Every reader returns one polars frame with exactly these columns, one row per
source record (a viewing, a rating or a watchlist entry). Columns a source
does not have are null. `conform` adds missing columns and casts, so readers
only build what they know.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import polars as pl

from importer.errors import InputError

UTC_DATETIME = pl.Datetime("us", "UTC")

# Record kinds. Only "watch" rows are viewings; ratings and watchlist entries
# are read and counted so that nothing in an export goes unreported.
RECORD_WATCH = "watch"
RECORD_RATING = "rating"
RECORD_WATCHLIST = "watchlist"
RECORDS = (RECORD_WATCH, RECORD_RATING, RECORD_WATCHLIST)

MEDIA_TYPES = ("movie", "show", "anime")

# Precision of `watched_at`: "date" values were anchored by the date policy
# (noon), "unknown" rows have a null `watched_at`.
PRECISION_INSTANT = "instant"
PRECISION_DATE = "date"
PRECISION_UNKNOWN = "unknown"
PRECISIONS = (PRECISION_INSTANT, PRECISION_DATE, PRECISION_UNKNOWN)

# Item-level external ids, in the order the planner prefers them as the
# identity of an item. Letterboxd and Trakt slugs are strings.
ITEM_ID_COLUMNS: dict[str, pl.DataType] = {
    "simkl": pl.Int64(),
    "imdb": pl.String(),
    "tmdb": pl.Int64(),
    "tvdb": pl.Int64(),
    "mal": pl.Int64(),
    "anidb": pl.Int64(),
    "anilist": pl.Int64(),
    "kitsu": pl.Int64(),
    "trakt": pl.Int64(),
    "trakt_slug": pl.String(),
    "letterboxd": pl.String(),
}

# Episode-level external ids: they identify one episode on their own, which
# matters where the source numbering differs from Simkl's.
EPISODE_ID_COLUMNS: dict[str, pl.DataType] = {
    "ep_tvdb": pl.Int64(),
    "ep_imdb": pl.String(),
    "ep_tmdb": pl.Int64(),
    "ep_trakt": pl.Int64(),
}

EVENT_SCHEMA: dict[str, pl.DataType] = {
    # Where the row came from. `source_row` is what a person finds in the
    # file: the CSV line number where the record starts (the header is line
    # 1), or the 1-based position of the object in a JSON array.
    "source": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "record": pl.String(),
    # What was watched.
    "media_type": pl.String(),
    "title": pl.String(),
    "year": pl.Int32(),
    **ITEM_ID_COLUMNS,
    # A film link without any username in it (boxd.it short link of the
    # film, or https://letterboxd.com/film/<slug>/), used for search.
    "link": pl.String(),
    "season": pl.Int32(),
    "episode": pl.Int32(),
    "episode_abs": pl.Int32(),
    **EPISODE_ID_COLUMNS,
    # When. `watched_at` is UTC with whole seconds; null means unknown.
    "watched_at": UTC_DATETIME,
    "date_precision": pl.String(),
    # A short tag for how the date was obtained when it is not plain, e.g.
    # "date_from_rating", "bulk_marked", "clamped_to_now", "sentinel".
    "date_note": pl.String(),
    "rewatch_hint": pl.Boolean(),
    # Plays the source counted for this row beyond the dated one, with no
    # date of their own (Trakt aggregates, play-count CSVs). Never invented.
    "extra_plays": pl.Int32(),
    "rating": pl.Int8(),
    "release_date": pl.Date(),
    # The text of values as found in the file, kept for reject messages when
    # parsing failed (null when the cell was empty or parsed cleanly).
    "raw_watched_at": pl.String(),
    "raw_year": pl.String(),
    "raw_rating": pl.String(),
    # A reader-detected problem with the row ("column=value: reason"); a row
    # with a problem is rejected by validation.
    "problem": pl.String(),
}

EVENT_COLUMNS = tuple(EVENT_SCHEMA)


def empty_events() -> pl.DataFrame:
    """Return an events frame with no rows."""
    return pl.DataFrame(schema=EVENT_SCHEMA)


def conform(
    frame: pl.DataFrame, defaults: Mapping[str, object] | None = None
) -> pl.DataFrame:
    """Return `frame` with every events column, in order, cast to its dtype.

    Missing columns are filled from `defaults` (a literal per column) or null.
    Extra columns are dropped. `extra_plays` defaults to 0 and
    `date_precision` to "unknown" where `watched_at` is null.
    """
    defaults = dict(defaults or {})
    columns = []
    for name, dtype in EVENT_SCHEMA.items():
        if name in frame.columns:
            columns.append(pl.col(name).cast(dtype, strict=False))
        else:
            columns.append(pl.lit(defaults.get(name), dtype=dtype).alias(name))
    out = frame.select(columns)
    return out.with_columns(
        pl.col("extra_plays").fill_null(0),
        pl.when(pl.col("watched_at").is_null())
        .then(pl.lit(PRECISION_UNKNOWN))
        .otherwise(pl.col("date_precision").fill_null(PRECISION_INSTANT))
        .alias("date_precision"),
    )


def concat_events(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate conformed events frames, or return an empty one."""
    frames = [f for f in frames if f.height]
    if not frames:
        return empty_events()
    return pl.concat(frames, how="vertical")


def utc_now() -> datetime:
    """Return the clock the importer judges "future" against.

    The environment variable SIMKL_IMPORT_NOW (ISO-8601) pins it, so that
    tests and rehearsals of old cases are reproducible.
    """
    import os

    pinned = os.environ.get("SIMKL_IMPORT_NOW")
    if pinned:
        try:
            value = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(
                f"invalid SIMKL_IMPORT_NOW {pinned!r}",
                hint="Set it to an ISO-8601 time such as 2026-01-01T12:00:00Z, "
                "or unset it to use the clock.",
            ) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=0)
    return datetime.now(UTC).replace(microsecond=0)


# Rows that were read but do not become planned writes: reader skips
# (deleted/, covered by the diary), validation rejects and planner outcomes
# (collapsed, present, capped...). One frame shape for all of them, so the
# report can list every row that was not written, with its reason.
SKIP_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "media_type": pl.String(),
    "title": pl.String(),
    "year": pl.Int32(),
    "season": pl.Int32(),
    "episode": pl.Int32(),
    "watched_at": UTC_DATETIME,
    # A stable machine tag ("collapsed_48h", "invalid", "covered_by_diary"...)
    "reason": pl.String(),
    # The sentence a person reads: which column and value, and why.
    "detail": pl.String(),
}


def conform_skips(frame: pl.DataFrame) -> pl.DataFrame:
    """Return `frame` with exactly the skip columns, cast, in order."""
    columns = []
    for name, dtype in SKIP_SCHEMA.items():
        if name in frame.columns:
            columns.append(pl.col(name).cast(dtype, strict=False))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(columns)


def empty_skips() -> pl.DataFrame:
    """Return a skip frame with no rows."""
    return pl.DataFrame(schema=SKIP_SCHEMA)


# Extra columns of the remote frame: what the Simkl account already holds,
# read from /sync/all-items, in events form (source "simkl"). Canonical rows
# have is_rewatch false; each stored rewatch viewing is a row of its session.
REMOTE_EXTRA_SCHEMA: dict[str, pl.DataType] = {
    "is_rewatch": pl.Boolean(),
    "rewatch_id": pl.Int64(),
    "session_status": pl.String(),
    # Aired episodes of the show (total minus not aired), when known; it
    # decides when a rewatch session of a show completes.
    "aired_episodes": pl.Int32(),
}
REMOTE_SCHEMA: dict[str, pl.DataType] = {**EVENT_SCHEMA, **REMOTE_EXTRA_SCHEMA}


def conform_remote(frame: pl.DataFrame) -> pl.DataFrame:
    """Return `frame` with every remote column (events plus session facts)."""
    events = conform(frame, {"source": "simkl", "record": RECORD_WATCH})
    extras = [
        (
            pl.col(name).cast(dtype, strict=False)
            if name in frame.columns
            else pl.lit(None, dtype=dtype)
        ).alias(name)
        for name, dtype in REMOTE_EXTRA_SCHEMA.items()
    ]
    return pl.concat(
        [
            events,
            frame.select(extras)
            if frame.width
            else pl.DataFrame(schema=REMOTE_EXTRA_SCHEMA),
        ],
        how="horizontal",
    ).with_columns(pl.col("is_rewatch").fill_null(False))


def empty_remote() -> pl.DataFrame:
    """Return a remote frame with no rows."""
    return pl.DataFrame(schema=REMOTE_SCHEMA)
