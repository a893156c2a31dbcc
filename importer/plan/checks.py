"""Invariants every plan must keep, checked with pandera on every plan.

- no two viewings of one movie or episode less than 48 hours apart, among
  the planned writes and against what the account already has;
- at most 50 rewatch sessions per item;
- at most one active session per item.

A failure is a bug in the planner, not bad input: `check_plan` raises
PlanError and nothing is written.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from importer.errors import PlanError
from importer.plan import rules

_NONE = -(1 << 62)


def _gap_kept(data: PolarsData) -> pl.LazyFrame:
    """Flag rows closer than 48 hours to the previous viewing of their unit.

    Pairs of two account rows are not the plan's doing and pass.
    """
    rows = _by_unit_and_time(data.lazyframe.select("unit_id", "time", "planned"))
    previous_unit = pl.col("unit_id").shift(1).fill_null(_NONE)
    gap = pl.col("time") - pl.col("time").shift(1)
    planned_pair = pl.col("planned") | pl.col("planned").shift(1).fill_null(False)
    too_close = (
        (pl.col("unit_id") == previous_unit)
        & (gap < rules.MIN_GAP_SECONDS)
        & planned_pair
    )
    return rows.lazy().select((~too_close).alias("ok"))


def _by_unit_and_time(rows: pl.LazyFrame) -> pl.DataFrame:
    """Sort rows by unit and time.

    The planner emits each unit's viewings in time order, so without
    account rows a stable sort by unit alone is enough, at a fifth of the
    cost of a sort by both keys. The result is checked, and rows out of
    time order fall back to the full sort.
    """
    frame = rows.collect()
    by_unit = frame.sort("unit_id", maintain_order=True)
    backwards = (pl.col("unit_id") == pl.col("unit_id").shift(1)) & (
        pl.col("time") < pl.col("time").shift(1)
    )
    if by_unit.select(backwards.any()).item():
        return frame.sort("unit_id", "time")
    return by_unit


def _sessions_capped(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col("session").fill_null(0) <= rules.MAX_SESSIONS)


def _one_active(data: PolarsData) -> pl.LazyFrame:
    """Flag every row of an item with more than one active session.

    Only the active rows are grouped, because a window over every row cost
    about 0.1 s at 1M planned viewings.
    """
    crowded = (
        data.lazyframe.filter(
            (pl.col("status") == rules.ACTIVE) & pl.col("session").is_not_null()
        )
        .group_by("item_id")
        .agg(pl.col("session").n_unique())
        .filter(pl.col("session") > 1)
        .collect()
    )
    return data.lazyframe.select(~pl.col("item_id").is_in(crowded["item_id"].implode()))


PLAN_SCHEMA = pa.DataFrameSchema(
    columns={
        "item_id": pa.Column(pl.Int64),
        "unit_id": pa.Column(pl.Int64),
        "time": pa.Column(pl.Int64),
        "session": pa.Column(pl.Int32, nullable=True),
        "status": pa.Column(pl.String, nullable=True),
        "planned": pa.Column(pl.Boolean),
    },
    checks=[
        pa.Check(
            _gap_kept,
            name="gap",
            error="two viewings of one movie or episode under 48 hours apart",
        ),
        pa.Check(
            _sessions_capped,
            name="cap",
            error="more than 50 rewatch sessions on one item",
        ),
        pa.Check(
            _one_active, name="active", error="more than one active session on one item"
        ),
    ],
    name="plan",
)


def check_plan(kept: pl.DataFrame, stored: pl.DataFrame) -> None:
    """Raise PlanError when the planned viewings break a plan invariant.

    `kept` is the planner's narrow frame of writes (item_id, unit_id, _t,
    session, session_status); `stored` the account's rows with unit ids.
    """
    planned = kept.select(
        "item_id",
        "unit_id",
        pl.col("_t").alias("time"),
        pl.col("session").cast(pl.Int32),
        pl.col("session_status").alias("status"),
        pl.lit(True).alias("planned"),
    )
    account = stored.filter(pl.col("_t").is_not_null()).select(
        pl.col("item_id").cast(pl.Int64),
        pl.col("unit_id").cast(pl.Int64),
        pl.col("_t").alias("time"),
        pl.lit(None, dtype=pl.Int32).alias("session"),
        pl.lit(None, dtype=pl.String).alias("status"),
        pl.lit(False).alias("planned"),
    )
    try:
        PLAN_SCHEMA.validate(pl.concat([planned, account]), lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
        checks = sorted(set(failures["check"].drop_nulls().to_list()))
        raise PlanError(
            "the plan breaks its own rules ("
            + "; ".join(checks)
            + f", {failures.height} rows); nothing was written. This is a bug: "
            "please report it with the export that caused it."
        ) from None
