"""Vectorized parsing of common cell values: years, ratings, ids, flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from importer.dates import join_problems

TRUE_WORDS = ("yes", "y", "true", "t", "1", "x")
FALSE_WORDS = ("no", "n", "false", "f", "0")

# Rating scales a source may use, as the factor that maps it onto 1..10.
RATING_SCALES = {"10": 1.0, "5": 2.0, "100": 0.1}


def text(expr: pl.Expr) -> pl.Expr:
    """Return `expr` as trimmed text, with empty strings as null."""
    stripped = expr.cast(pl.String).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


@dataclass(frozen=True)
class Parse:
    """A column parse with a cheaper form that gives the same values on clean cells.

    `exact` is true on each row where `cheap` equals `full`. `with_parses`
    uses `cheap` for a column only when `exact` is true on every row, so
    clean million-row files skip the costly forms.
    """

    full: pl.Expr
    cheap: pl.Expr
    exact: pl.Expr


def with_parses(frame: pl.DataFrame, parses: Mapping[str, Parse]) -> pl.DataFrame:
    """Add one column per entry of `parses`, named by its key."""
    if not parses:
        return frame
    checks = frame.select(
        parse.exact.fill_null(False).all().alias(name) for name, parse in parses.items()
    ).row(0, named=True)
    return frame.with_columns(
        (parse.cheap if checks[name] else parse.full).alias(name)
        for name, parse in parses.items()
    )


def by_distinct(
    frame: pl.DataFrame, column: str, exprs: Mapping[str, pl.Expr], limit: int = 10_000
) -> pl.DataFrame:
    """Add `exprs`, computed once per distinct value of `column`.

    Type, status and flag columns contain a handful of values, so string work
    on them is cheaper once per value and joined back. A column with more
    than `limit` distinct values is computed row by row.
    """
    values = frame.get_column(column).unique()
    if values.len() > limit:
        return frame.with_columns(expr.alias(name) for name, expr in exprs.items())
    # Temporary names keep the join key apart from outputs that share its name.
    temporary = {name: f"_distinct_{index}" for index, name in enumerate(exprs)}
    table = values.to_frame().with_columns(
        expr.alias(temporary[name]) for name, expr in exprs.items()
    )
    joined = frame.join(
        table, on=column, how="left", nulls_equal=True, maintain_order="left"
    )
    return joined.with_columns(
        pl.col(temporary[name]).alias(name) for name in exprs
    ).drop(temporary.values())


def add_problem(frame: pl.DataFrame, problem: pl.Expr) -> pl.DataFrame:
    """Append `problem` (null where there is none) to the `problem` column."""
    existing = (
        pl.col("problem")
        if "problem" in frame.columns
        else pl.lit(None, dtype=pl.String)
    )
    return frame.with_columns(join_problems(existing, problem).alias("problem"))


def with_year(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Parse `column` into `year`; keep unparseable text in `raw_year`."""
    frame = frame.with_columns(text(pl.col(column)).alias("_raw_year"))
    raw = pl.col("_raw_year")
    frame = with_parses(frame, {"_year_number": _integer_parse(raw, pl.Int32())})
    number = pl.col("_year_number")
    frame = frame.with_columns(
        pl.when(number.is_between(1000, 9999))
        .then(number)
        .otherwise(None)
        .alias("year")
    ).drop("_year_number")
    failed = raw.is_not_null() & pl.col("year").is_null()
    message = pl.format("year='{}': not a year", raw)
    frame = with_failures(frame, failed, raw, "raw_year", message)
    return frame.drop("_raw_year")


def with_failures(
    frame: pl.DataFrame,
    failed: pl.Expr,
    raw: pl.Expr,
    raw_column: str,
    message: pl.Expr,
) -> pl.DataFrame:
    """Set `raw_column` and a problem on the rows where `failed` is true.

    The message is only built when some row failed, which keeps clean
    million-row files fast.
    """
    mask = frame.select(failed.fill_null(False)).to_series()
    if not mask.any():
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias(raw_column))
    frame = frame.with_columns(mask.alias("_failed"))
    frame = frame.with_columns(
        pl.when(pl.col("_failed")).then(raw).otherwise(None).alias(raw_column)
    )
    problem = pl.when(pl.col("_failed")).then(message).otherwise(None)
    return add_problem(frame, problem).drop("_failed")


def with_rating(
    frame: pl.DataFrame, column: str, scale: str = "10", *, half_steps: bool = False
) -> pl.DataFrame:
    """Parse `column` into `rating` on Simkl's 1..10 scale.

    The value is multiplied by the scale's factor and rounded. An empty cell
    is no rating (never 0). A value outside 1..10 after scaling, or not a
    number, keeps its text in `raw_rating` and sets a problem. With
    `half_steps`, a value that is not a multiple of 0.5 is a problem too
    (Letterboxd stars).
    """
    factor = RATING_SCALES[scale]
    frame = frame.with_columns(text(pl.col(column)).alias("_raw_rating"))
    raw = pl.col("_raw_rating")
    plain = raw.cast(pl.Float64, strict=False)
    comma = raw.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    number_parse = Parse(
        pl.coalesce(plain, comma), plain, raw.is_null() | plain.is_not_null()
    )
    frame = with_parses(frame, {"_number": number_parse})
    number = pl.col("_number")
    rounded = (number * factor).round(0)
    invalid = number.is_null() | (rounded < 1) | (rounded > 10)
    if half_steps:
        invalid = invalid | ((number * 2).round(0) != number * 2)
    frame = frame.with_columns((raw.is_not_null() & invalid).alias("_invalid"))
    frame = frame.with_columns(
        pl.when(pl.col("_invalid") | raw.is_null())
        .then(None)
        .otherwise(rounded)
        .cast(pl.Int8)
        .alias("rating")
    )
    message = pl.format(f"rating='{{}}': not a rating on a 1-{scale} scale", raw)
    frame = with_failures(frame, pl.col("_invalid"), raw, "raw_rating", message)
    return frame.drop("_raw_rating", "_number", "_invalid")


def int_id(expr: pl.Expr) -> pl.Expr:
    """Parse a numeric id; empty, 0, negative or non-numeric values are null."""
    return int_id_parse(expr).full


def int_id_parse(expr: pl.Expr) -> Parse:
    """Return the Parse of `int_id`."""
    number = _integer_parse(expr, pl.Int64())

    def positive(value: pl.Expr) -> pl.Expr:
        return pl.when(value > 0).then(value).otherwise(None)

    return Parse(positive(number.full), positive(number.cheap), number.exact)


def _integer(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Cast text to an integer, also reading spreadsheet forms like " 12.0"."""
    return _integer_parse(expr, dtype).full


def _integer_parse(expr: pl.Expr, dtype: pl.DataType) -> Parse:
    raw = expr.cast(pl.String)
    plain = raw.cast(dtype, strict=False)
    loose = raw.str.strip_chars().cast(pl.Float64, strict=False)
    full = pl.coalesce(plain, loose.cast(dtype, strict=False))
    return Parse(full, plain, raw.is_null() | plain.is_not_null())


def imdb_id(expr: pl.Expr) -> pl.Expr:
    """Extract an IMDb id (`tt` and digits) from an id or an IMDb URL."""
    return imdb_id_parse(expr).full


def imdb_id_parse(expr: pl.Expr) -> Parse:
    """Return the Parse of `imdb_id`: a cell that is only an id is kept as is."""
    raw = expr.cast(pl.String)
    found = raw.str.extract(r"(?i)(?:^|[^a-z])(tt\d{5,})").str.to_lowercase()
    return Parse(found, raw, raw.is_null() | raw.str.contains(r"^tt\d{5,}$"))


def flag(expr: pl.Expr) -> pl.Expr:
    """Parse yes/no style text into a Boolean (null when empty or unknown)."""
    lowered = expr.cast(pl.String).str.strip_chars().str.to_lowercase()
    return (
        pl.when(lowered.is_in(TRUE_WORDS))
        .then(True)
        .when(lowered.is_in(FALSE_WORDS))
        .then(False)
        .otherwise(None)
    )


def count(expr: pl.Expr) -> pl.Expr:
    """Parse a play count or a season or episode number (null when not a number)."""
    return count_parse(expr).full


def count_parse(expr: pl.Expr) -> Parse:
    """Return the Parse of `count`."""
    return _integer_parse(expr, pl.Int32())
