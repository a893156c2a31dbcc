"""Vectorized parsing of watch dates into UTC instants.

Every reader passes its raw date column through `parse_watched_at`, which
returns the `watched_at`, `date_precision`, `date_note`, `raw_watched_at`
and `problem` columns of the events frame. The rules:

- an instant with `Z`, `UTC` or a numeric offset is that instant, truncated
  to whole seconds (Go-style `2017-05-02 21:24:51 +0000 UTC` included);
- a date and time without a zone is read in `timezone` (None: the machine's
  zone), converted per value so that daylight saving time is right;
- a date without a time is 12:00 UTC that day (`date_anchor="utc-noon"`)
  or 12:00 in `timezone` (`date_anchor="local-noon"`). When that anchor is
  later than `now` on the current day, it is clamped to `now`;
- day-first dates (`dd/mm/yyyy HH:MM`, `18-12-2023 21:50:41`, as in Simkl's
  CSV backup) are accepted;
- empty cells, "unknown", "null" and epoch placeholders (1970-01-01
  00:00:00 or 00:00:01 UTC, any time on 1969-12-31) mean an unknown date;
- anything else is unparseable: null `watched_at`, the text kept in
  `raw_watched_at` and a `problem` message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
import tzlocal

from importer.events import (
    PRECISION_DATE,
    PRECISION_INSTANT,
    PRECISION_UNKNOWN,
    UTC_DATETIME,
)

logger = logging.getLogger(__name__)

ANCHOR_UTC_NOON = "utc-noon"
ANCHOR_LOCAL_NOON = "local-noon"
DATE_ANCHORS = (ANCHOR_UTC_NOON, ANCHOR_LOCAL_NOON)

NOTE_SENTINEL = "sentinel"
NOTE_CLAMPED = "clamped_to_now"

# Values that stand for "no date" rather than a broken one.
UNKNOWN_WORDS = ("", "unknown", "null", "none", "n/a", "na", "-", "0")

# Year first: ISO 8601 and its common relatives (space or T separator,
# optional seconds and fraction, offset as Z, UTC, +hh:mm or +hhmm, and the
# Go time.String() form "+0200 CEST", with or without the monotonic clock
# reading " m=+0.001" Go appends). A zone name counts only after a numeric
# offset, because the offset is what says the instant.
_YEAR_FIRST = (
    r"^(?<y>\d{4})[-/.](?<m>\d{1,2})[-/.](?<d>\d{1,2})"
    r"(?:[T ]+(?<hh>\d{1,2}):(?<mi>\d{2})(?::(?<ss>\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?:(?<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})(?:\s*[A-Z]{2,5})?)?"
    r"(?:\s+m=[+-]?[\d.]+)?$"
)
# C's ctime form, as old IMDb exports wrote it: "Mon Mar 27 00:00:00 2006".
_CTIME = (
    r"^(?:[A-Za-z]{3},?\s+)?(?<mon>[A-Za-z]{3})\s+(?<d>\d{1,2})\s+"
    r"(?<hh>\d{1,2}):(?<mi>\d{2}):(?<ss>\d{2})\s+(?:(?<tz>UTC|GMT)\s+)?(?<y>\d{4})$"
)
_MONTHS = {
    name: str(number)
    for number, name in enumerate(
        (
            "jan",
            "feb",
            "mar",
            "apr",
            "may",
            "jun",
            "jul",
            "aug",
            "sep",
            "oct",
            "nov",
            "dec",
        ),
        start=1,
    )
}
# Day first, as Simkl's CSV backup writes it: 04/11/2023 05:01, 18-12-2023.
_DAY_FIRST = (
    r"^(?<d>\d{1,2})[-/.](?<m>\d{1,2})[-/.](?<y>\d{4})"
    r"(?:[T ]+(?<hh>\d{1,2}):(?<mi>\d{2})(?::(?<ss>\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?$"
)
_PARTS = ("y", "m", "d", "hh", "mi", "ss", "tz")

_EPOCH_LOW = datetime(1969, 12, 31, tzinfo=ZoneInfo("UTC"))
_EPOCH_HIGH = datetime(1970, 1, 1, 0, 0, 1, tzinfo=ZoneInfo("UTC"))


@dataclass(frozen=True)
class DatePolicy:
    """Rules for turning date strings into instants (see the module docstring)."""

    timezone: str | None = None
    date_anchor: str = ANCHOR_UTC_NOON
    now: datetime | None = None


def local_zone_name() -> str:
    """Return the IANA name of the machine's time zone, or "UTC" if unknown."""
    try:
        name = tzlocal.get_localzone_name()
    except Exception:  # noqa: BLE001 - any failure to detect means UTC
        name = None
    if name and _is_zone(name):
        return name
    logger.warning("could not detect the machine's time zone; using UTC")
    return "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_policy(policy: DatePolicy) -> str:
    """Return the zone name to use, or raise ValueError for a bad policy."""
    if policy.date_anchor not in DATE_ANCHORS:
        raise ValueError(
            f"date anchor {policy.date_anchor!r} is invalid; "
            f"use one of {', '.join(DATE_ANCHORS)}"
        )
    zone = policy.timezone or local_zone_name()
    if not _is_zone(zone):
        raise ValueError(
            f"time zone {zone!r} is not a known IANA zone; "
            "use a name such as Europe/Berlin or UTC"
        )
    return zone


def _extract(text: pl.Expr, pattern: str) -> pl.Expr:
    return text.str.extract_groups(pattern)


def _components(text: pl.Expr) -> list[pl.Expr]:
    """Return one expression per date part, from whichever pattern matched."""
    year_first = _extract(text, _YEAR_FIRST)
    day_first = _extract(text, _DAY_FIRST)
    ctime = _extract(text, _CTIME)
    parts = []
    for part in _PARTS:
        if part == "m":
            month_name = ctime.struct.field("mon").str.to_lowercase()
            from_ctime = month_name.replace_strict(
                _MONTHS, default=None, return_dtype=pl.String
            )
        else:
            from_ctime = ctime.struct.field(part)
        parts.append(
            pl.coalesce(
                year_first.struct.field(part), day_first.struct.field(part), from_ctime
            ).alias(f"_{part}")
        )
    return parts


def _pad(name: str, width: int) -> pl.Expr:
    return pl.col(name).str.zfill(width)


def _naive(hour: pl.Expr, minute: pl.Expr, second: pl.Expr) -> pl.Expr:
    """Build a naive datetime from the extracted parts (null when invalid)."""
    text = pl.concat_str(
        [
            _pad("_y", 4),
            pl.lit("-"),
            _pad("_m", 2),
            pl.lit("-"),
            _pad("_d", 2),
            pl.lit(" "),
            hour,
            pl.lit(":"),
            minute,
            pl.lit(":"),
            second,
        ]
    )
    return text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")


def _offset_minutes() -> pl.Expr:
    """Return the UTC offset in minutes (0 for Z/UTC/GMT, null when absent)."""
    tz = pl.col("_tz")
    digits = tz.str.replace(":", "", literal=True)
    hours = digits.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = digits.str.slice(3, 2).cast(pl.Int64, strict=False)
    sign = pl.when(digits.str.starts_with("-")).then(-1).otherwise(1)
    numeric = sign * (hours * 60 + minutes)
    return (
        pl.when(tz.is_in(["Z", "UTC", "GMT"]))
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise(numeric)
    )


def _localize(naive: pl.Expr, zone: str) -> pl.Expr:
    """Read a naive wall-clock time in `zone` and convert it to UTC.

    A time that does not exist (skipped by a daylight saving jump) is moved
    forward by one hour; an ambiguous one takes the earlier instant.
    """
    direct = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    shifted = (naive + pl.duration(hours=1)).dt.replace_time_zone(
        zone, ambiguous="earliest", non_existent="null"
    )
    return pl.coalesce(direct, shifted).dt.convert_time_zone("UTC")


_FAST_INSTANT = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]00:?00)?$"
_FAST_UTC = r"(?:Z|[+-]00:?00)$"
_FAST_DATE = r"^\d{4}-\d{2}-\d{2}$"
# The usual export forms by their length: whole seconds or milliseconds
# (see _parse_exact_utc).
_EXACT_UTC = {20: "%Y-%m-%dT%H:%M:%SZ", 24: "%Y-%m-%dT%H:%M:%S.%3fZ"}


def parse_watched_at(
    frame: pl.DataFrame, column: str, policy: DatePolicy, *, field: str = "watched_at"
) -> pl.DataFrame:
    """Parse `frame[column]` and add the events date columns to `frame`.

    Adds `watched_at`, `date_precision`, `date_note`, `raw_watched_at` and
    `problem` (appended to any existing problem). `field` names the value in
    problem messages. Raises ValueError for an invalid policy.
    """
    return add_date_columns(frame, date_columns(frame, column, policy, field=field))


def date_columns(
    frame: pl.DataFrame, column: str, policy: DatePolicy, *, field: str = "watched_at"
) -> pl.DataFrame:
    """Parse `frame[column]` into the date columns that `add_date_columns` adds.

    The result has one row per row of `frame`, in its order, and the problem
    of each date as `_problem`. Raises ValueError for an invalid policy.
    """
    zone = check_policy(policy)
    # Work on the date column alone: the fast path filters and re-sorts
    # rows, which would copy every other (possibly nested) column.
    text = pl.col(column).cast(pl.String).str.strip_chars()
    work = frame.select(
        text.alias("_text"), pl.int_range(pl.len(), dtype=pl.Int64).alias("_index")
    )
    work = _parse_exact_utc(work)
    fits = work.get_column("_fits")
    work = work.drop("_fits")
    if not fits.all():
        rest = _parse_general(
            work.filter(~fits).drop(_PARSED), zone, policy.date_anchor
        )
        work = pl.concat([work.filter(fits), rest], how="vertical_relaxed")
        work = work.sort("_index")
    return _finish(work, field, policy.now, zone, policy.date_anchor)


def add_date_columns(frame: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    """Add the columns of `date_columns` to `frame`, joining the problems."""
    existing = (
        pl.col("problem")
        if "problem" in frame.columns
        else pl.lit(None, dtype=pl.String)
    )
    out = frame.with_columns(
        dates.get_column(name)
        for name in ("watched_at", "date_precision", "date_note", "raw_watched_at")
    )
    return out.with_columns(
        join_problems(existing, pl.lit(dates.get_column("_problem"))).alias("problem")
    )


# The columns that `_parse_exact_utc` and `_parse_general` add.
_PARSED = ("_parsed", "_naive_day", "_precision")


def _parse_exact_utc(work: pl.DataFrame) -> pl.DataFrame:
    """Parse the rows in the usual export form; `_fits` marks the rows it read.

    Most exports write every date as `2021-03-01T20:00:00Z`, or every date
    with milliseconds, `2021-03-01T20:00:00.000Z`. One fixed-format parse
    reads them several times faster than the patterns. The other rows need
    `_parse_general`, which gives the same result for these forms. Empty
    cells count as read: they parse to nothing either way.
    """
    text = pl.col("_text")
    # One form per file is the norm, so the first date decides which to try.
    first = work.get_column("_text").drop_nulls().head(1).str.len_bytes().to_list()
    fmt = _EXACT_UTC.get(first[0]) if first else None
    if fmt is None:
        exact = pl.lit(None, dtype=pl.Datetime("us"))
        fits = pl.lit(False)
    else:
        exact = text.str.to_datetime(fmt, strict=False, time_unit="us", cache=False)
        fits = (
            (text.str.len_bytes() == first[0])
            & (text.str.starts_with("1") | text.str.starts_with("2"))
            & exact.is_not_null()
        ).fill_null(False)
    work = work.with_columns(exact.alias("_exact"))
    exact = pl.col("_exact")
    return work.select(
        "_text",
        "_index",
        exact.dt.replace_time_zone("UTC").dt.truncate("1s").alias("_parsed"),
        exact.dt.date().alias("_naive_day"),
        pl.when(exact.is_null())
        .then(pl.lit(PRECISION_DATE))
        .otherwise(pl.lit(PRECISION_INSTANT))
        .alias("_precision"),
        (fits | text.is_null()).alias("_fits"),
    )


def _parse_general(work: pl.DataFrame, zone: str, anchor: str) -> pl.DataFrame:
    """Add `_parsed`, `_naive_day` and `_precision` for any supported form."""
    work = _wall_clock(work)
    has_time = pl.col("_has_time")
    naive = pl.col("_naive")
    with_zone = (naive - pl.duration(minutes=pl.col("_offset"))).dt.replace_time_zone(
        "UTC"
    )
    if anchor == ANCHOR_LOCAL_NOON:
        noon = _localize(naive, zone)
    else:
        noon = naive.dt.replace_time_zone("UTC")
    parsed = (
        pl.when(has_time & pl.col("_offset").is_not_null())
        .then(with_zone)
        .when(has_time)
        .then(_localize(naive, zone))
        .otherwise(noon)
        .dt.cast_time_unit("us")
        .dt.truncate("1s")
    )
    return work.select(
        "_text",
        "_index",
        parsed.alias("_parsed"),
        naive.dt.date().alias("_naive_day"),
        pl.when(has_time)
        .then(pl.lit(PRECISION_INSTANT))
        .otherwise(pl.lit(PRECISION_DATE))
        .alias("_precision"),
    )


def _wall_clock(work: pl.DataFrame) -> pl.DataFrame:
    """Add `_naive` (wall-clock time, or noon for a date), `_has_time`, `_offset`.

    The common shapes (ISO date, ISO instant in UTC) take a fast path. Only
    the other rows go through the general patterns, and then the original
    row order is restored.
    """
    text = pl.col("_text")
    fast_instant = text.str.contains(_FAST_INSTANT)
    fast_date = text.str.contains(_FAST_DATE)
    work = work.with_columns(
        fast_instant.fill_null(False).alias("_fast_instant"),
        fast_date.fill_null(False).alias("_fast_date"),
    )
    fast = work.filter(pl.col("_fast_instant") | pl.col("_fast_date"))
    slow = work.filter(~(pl.col("_fast_instant") | pl.col("_fast_date")))
    wall = pl.col("_text").str.slice(0, 19).str.replace("T", " ", literal=True)
    fast = fast.with_columns(
        pl.when(pl.col("_fast_instant"))
        .then(wall.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"))
        .otherwise(
            pl.col("_text")
            .str.to_date("%Y-%m-%d", strict=False)
            .cast(pl.Datetime("us"))
            + pl.duration(hours=12)
        )
        .alias("_naive"),
        pl.col("_fast_instant").alias("_has_time"),
        pl.when(pl.col("_fast_instant") & pl.col("_text").str.contains(_FAST_UTC))
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise(pl.lit(None, dtype=pl.Int64))
        .alias("_offset"),
    )
    if slow.height:
        slow = _general_wall_clock(slow)
        fast = pl.concat([fast, slow], how="vertical_relaxed").sort("_index")
    return fast.drop("_fast_instant", "_fast_date")


def _general_wall_clock(slow: pl.DataFrame) -> pl.DataFrame:
    slow = slow.with_columns(_components(pl.col("_text")))
    has_time = pl.col("_hh").is_not_null()
    naive_time = _naive(_pad("_hh", 2), pl.col("_mi"), pl.col("_ss").fill_null("00"))
    naive_noon = _naive(pl.lit("12"), pl.lit("00"), pl.lit("00"))
    slow = slow.with_columns(
        pl.when(has_time).then(naive_time).otherwise(naive_noon).alias("_naive"),
        has_time.alias("_has_time"),
        _offset_minutes().alias("_offset"),
    )
    return slow.drop([f"_{part}" for part in _PARTS])


def _finish(
    work: pl.DataFrame,
    field: str,
    now: datetime | None,
    zone: str,
    anchor: str,
) -> pl.DataFrame:
    """Return the date columns, with the new problem messages in `_problem`."""
    parsed = pl.col("_parsed")
    # Only cells that did not parse can be placeholders or failures, so a
    # column that parsed whole skips the text checks.
    if work.get_column("_parsed").null_count():
        lowered = pl.col("_text").str.to_lowercase()
        empty = pl.col("_text").is_null() | lowered.is_in(list(UNKNOWN_WORDS))
    else:
        empty = pl.lit(False)
    if (work.get_column("_precision") == PRECISION_DATE).any():
        clamp = _clamp_condition(now, zone, anchor)
    else:
        clamp = pl.lit(False)
    epoch = parsed.is_between(
        pl.lit(_EPOCH_LOW, dtype=UTC_DATETIME), pl.lit(_EPOCH_HIGH, dtype=UTC_DATETIME)
    )
    epoch_day = (pl.col("_precision") == PRECISION_DATE) & pl.col("_naive_day").is_in(
        [_EPOCH_LOW.date(), _EPOCH_HIGH.date()]
    )
    work = work.with_columns(
        empty.alias("_empty"),
        (epoch | epoch_day).fill_null(False).alias("_sentinel"),
        clamp.alias("_clamp"),
    )
    work = work.with_columns(
        (~pl.col("_empty") & parsed.is_null()).alias("_failed"),
    )

    unknown = pl.col("_empty") | pl.col("_sentinel") | pl.col("_failed")
    watched_at = (
        pl.when(unknown)
        .then(pl.lit(None, dtype=UTC_DATETIME))
        .when(pl.col("_clamp"))
        .then(pl.lit(now, dtype=UTC_DATETIME))
        .otherwise(parsed)
    )
    note = (
        pl.when(pl.col("_sentinel"))
        .then(pl.lit(NOTE_SENTINEL))
        .when(~pl.col("_failed") & pl.col("_clamp"))
        .then(pl.lit(NOTE_CLAMPED))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    precision = (
        pl.when(unknown).then(pl.lit(PRECISION_UNKNOWN)).otherwise(pl.col("_precision"))
    )

    out = work.with_columns(
        watched_at.alias("watched_at"),
        precision.alias("date_precision"),
        note.alias("date_note"),
    )
    return _with_failures(out, field)


def _with_failures(out: pl.DataFrame, field: str) -> pl.DataFrame:
    """Keep the text of unparseable dates and build a problem for each."""
    if not out["_failed"].any():
        return out.with_columns(
            pl.lit(None, dtype=pl.String).alias("raw_watched_at"),
            pl.lit(None, dtype=pl.String).alias("_problem"),
        )
    failed = pl.col("_failed")
    message = pl.format(
        f"{field}='{{}}': unparseable date (use a form such as 2021-03-01 or "
        "2021-03-01T20:00:00Z)",
        pl.col("_text"),
    )
    return out.with_columns(
        pl.when(failed).then(pl.col("_text")).otherwise(None).alias("raw_watched_at"),
        pl.when(failed).then(message).otherwise(None).alias("_problem"),
    )


def _clamp_condition(now: datetime | None, zone: str, anchor: str) -> pl.Expr:
    """Return true for date-only values on today's date anchored after `now`."""
    if now is None:
        return pl.lit(False)
    anchor_zone = zone if anchor == ANCHOR_LOCAL_NOON else "UTC"
    today = now.astimezone(ZoneInfo(anchor_zone)).date()
    parsed = pl.col("_parsed")
    local_day = parsed.dt.convert_time_zone(anchor_zone).dt.date()
    return (
        (pl.col("_precision") == PRECISION_DATE)
        & (parsed > pl.lit(now, dtype=UTC_DATETIME))
        & (local_day == pl.lit(today))
    ).fill_null(False)


def join_problems(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """Join two nullable problem messages with "; ", keeping whichever exists."""
    return (
        pl.when(left.is_null())
        .then(right)
        .when(right.is_null())
        .then(left)
        .otherwise(pl.concat_str([left, pl.lit("; "), right]))
    )


def parse_date(text: pl.Expr) -> pl.Expr:
    """Parse a date-only column such as a release date (null when invalid)."""
    cleaned = text.cast(pl.String).str.strip_chars().str.slice(0, 10)
    return cleaned.str.to_date("%Y-%m-%d", strict=False)


def policy_from(
    timezone: str | None, date_anchor: str, now: datetime | None
) -> DatePolicy:
    """Build a DatePolicy; `now` is truncated to whole seconds."""
    if now is not None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=ZoneInfo("UTC"))
        now = now.astimezone(ZoneInfo("UTC")).replace(microsecond=0)
    return DatePolicy(timezone=timezone, date_anchor=date_anchor, now=now)
