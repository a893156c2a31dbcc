"""Validation of the events frame with pandera: rejects rows, never files.

Each rule is a pandera check. A row that fails any check is removed from the
events and reported as a reject that keeps its file, row, column, value and
a plain reason. The other rows go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from importer.events import (
    EPISODE_ID_COLUMNS,
    EVENT_SCHEMA,
    ITEM_ID_COLUMNS,
    MEDIA_TYPES,
    RECORD_WATCH,
    RECORDS,
    conform_skips,
    utc_now,
)

# The earliest year a film or show can have; anything before is a typo.
MIN_YEAR = 1870

# The error of the pandera check that applies every row rule; pandera
# reports it in the `check` column of the failure cases.
ROW_RULES = "row breaks an events rule"

REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "column": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
}


@dataclass
class Validation:
    """Valid events and one reject row per failed check of a row."""

    events: pl.DataFrame
    rejects: pl.DataFrame

    def reject_skips(self, events: pl.DataFrame) -> pl.DataFrame:
        """Return the rejected rows in skip form, one row per source row."""
        if self.rejects.height == 0:
            return conform_skips(pl.DataFrame(schema=REJECT_SCHEMA))
        grouped = self.rejects.group_by(
            "source_file", "source_row", maintain_order=True
        ).agg(
            pl.format("{} '{}': {}", "column", pl.col("value").fill_null(""), "reason")
            .str.join("; ")
            .alias("detail")
        )
        facts = events.select(
            "source_file",
            "source_row",
            "media_type",
            "title",
            "year",
            "season",
            "episode",
        )
        rows = grouped.join(
            facts.unique(["source_file", "source_row"]),
            on=["source_file", "source_row"],
            how="left",
        )
        return conform_skips(rows.with_columns(pl.lit("invalid").alias("reason")))


def _row_check(expression: pl.Expr, name: str, reason: str) -> pa.Check:
    def check(data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(expression.fill_null(True))

    return pa.Check(check, name=name, error=reason)


def _has_any_id() -> pl.Expr:
    return pl.any_horizontal([pl.col(c).is_not_null() for c in ITEM_ID_COLUMNS])


def _has_episode_id() -> pl.Expr:
    return pl.any_horizontal([pl.col(c).is_not_null() for c in EPISODE_ID_COLUMNS])


# (name, column the reject names, reason, expression that is true for valid rows)
def _rules(now: datetime) -> list[tuple[str, str, str, pl.Expr]]:
    episode_row = (pl.col("record") == RECORD_WATCH) & (pl.col("media_type") != "movie")
    by_id = _has_episode_id() | pl.col("episode_abs").is_not_null()
    placed = (pl.col("season").is_not_null() & pl.col("episode").is_not_null()) | by_id
    # Episodes are numbered from 1, so an episode 0 is placed only by an id.
    zero = (pl.col("season").is_not_null() & (pl.col("episode") == 0)).fill_null(False)
    # An anime row without any episode reference is an anime film.
    anime_film = (pl.col("media_type") == "anime") & pl.all_horizontal(
        [pl.col(c).is_null() for c in ("season", "episode")]
    )
    return [
        (
            "reader_problem",
            "problem",
            "rejected by the reader",
            pl.col("problem").is_null(),
        ),
        ("record", "record", "unknown record kind", pl.col("record").is_in(RECORDS)),
        (
            "media_type",
            "media_type",
            "unknown media type; expected movie, show or anime",
            pl.col("media_type").is_in(MEDIA_TYPES),
        ),
        (
            "future_date",
            "watched_at",
            f"date is in the future (after {now:%Y-%m-%dT%H:%M:%SZ}); "
            "fix the date or the --timezone",
            pl.col("watched_at") <= pl.lit(now),
        ),
        (
            "early_date",
            "watched_at",
            f"date before {MIN_YEAR}, earlier than any film; fix the date",
            pl.col("watched_at").dt.year() >= MIN_YEAR,
        ),
        (
            "rating_range",
            "rating",
            "rating out of range; expected 1 to 10",
            pl.col("rating").is_between(1, 10),
        ),
        (
            "year_range",
            "year",
            f"year out of range; expected {MIN_YEAR} to {now.year + 10}",
            pl.col("year").is_between(MIN_YEAR, now.year + 10),
        ),
        ("season_range", "season", "negative season number", pl.col("season") >= 0),
        ("episode_range", "episode", "negative episode number", pl.col("episode") >= 0),
        (
            "episode_zero",
            "episode",
            "episode number 0 and no episode id to place it; "
            "use the episode's number (from 1) or add its id",
            ~episode_row | ~zero | by_id,
        ),
        (
            "episode_placed",
            "season",
            "episode without season or number, and no episode id to place it",
            ~episode_row | placed | anime_film,
        ),
        (
            "identified",
            "title",
            "row with neither an id nor a title; add one of them",
            _has_any_id()
            | _has_episode_id()
            | (pl.col("title").fill_null("").str.strip_chars().str.len_chars() > 0),
        ),
    ]


def events_schema(now: datetime) -> pa.DataFrameSchema:
    """Return the pandera schema of the events frame, with row rules for `now`."""
    columns = {
        name: pa.Column(dtype, nullable=True) for name, dtype in EVENT_SCHEMA.items()
    }
    # One check over every rule reads the frame once. It fails few rows, and
    # `_split` finds the rules that each of them breaks.
    valid = pl.all_horizontal(expr.fill_null(True) for *_names, expr in _rules(now))
    checks = [_row_check(valid, "row_rules", ROW_RULES)]
    return pa.DataFrameSchema(
        columns=columns, checks=checks, strict=True, ordered=True, name="events"
    )


def _value_text(column: str) -> pl.Expr:
    if column == "watched_at":
        return pl.coalesce(
            pl.col("raw_watched_at"),
            pl.col("watched_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    if column == "year":
        return pl.coalesce(pl.col("raw_year"), pl.col("year").cast(pl.String))
    if column == "rating":
        return pl.coalesce(pl.col("raw_rating"), pl.col("rating").cast(pl.String))
    return pl.col(column).cast(pl.String)


def validate_events(events: pl.DataFrame, now: datetime | None = None) -> Validation:
    """Check every row of `events`; return the valid rows and the rejects."""
    now = now or utc_now()
    schema = events_schema(now)
    try:
        schema.validate(events, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _split(events, errors.failure_cases, now)
    return Validation(events=events, rejects=pl.DataFrame(schema=REJECT_SCHEMA))


def _split(events: pl.DataFrame, failures: pl.DataFrame, now: datetime) -> Validation:
    failures = failures.filter(pl.col("index").is_not_null())
    structural = failures.filter(pl.col("check") != ROW_RULES)
    if structural.height:
        # Column dtypes are fixed by conform(); a mismatch is a reader bug.
        raise TypeError(f"events frame does not match its schema: {structural.head(5)}")
    indexed = events.with_row_index("_index")
    failed = failures["index"].cast(pl.UInt32).unique()
    picked = indexed.filter(pl.col("_index").is_in(failed.implode()))
    parts = []
    for _name, column, reason, expr in _rules(now):
        broken = picked.filter(~expr.fill_null(True))
        if broken.height == 0:
            continue
        if column == "problem":
            parts.append(_reader_problems(broken))
            continue
        parts.append(
            broken.select(
                "_index",
                "source_file",
                "source_row",
                pl.lit(column).alias("column"),
                _value_text(column).alias("value"),
                pl.lit(reason).alias("reason"),
            )
        )
    rejects = pl.concat(parts).sort("_index", maintain_order=True)
    bad = rejects["_index"].unique()
    valid = indexed.filter(~pl.col("_index").is_in(bad.implode())).drop("_index")
    return Validation(
        events=valid,
        rejects=rejects.drop("_index").select(
            [pl.col(name).cast(dtype) for name, dtype in REJECT_SCHEMA.items()]
        ),
    )


# Readers write problems as "column='value': reason", several joined by "; ".
_PROBLEM = r"^(\w+)='(.*)': (.*)$"


def _reader_problems(picked: pl.DataFrame) -> pl.DataFrame:
    exploded = picked.select(
        "_index", "source_file", "source_row", pl.col("problem").str.split("; ")
    ).explode("problem")
    return exploded.select(
        "_index",
        "source_file",
        "source_row",
        pl.col("problem").str.extract(_PROBLEM, 1).fill_null("row").alias("column"),
        pl.col("problem").str.extract(_PROBLEM, 2).alias("value"),
        pl.coalesce(
            pl.col("problem").str.extract(_PROBLEM, 3), pl.col("problem")
        ).alias("reason"),
    )
