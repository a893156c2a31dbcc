"""Column checks of the planner, and that they leave one-value columns alone."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from importer.pipeline import load_events
from importer.plan import build_plan
from importer.plan.columns import all_null, constant_columns, first_value, null_counts
from importer.readers.base import ReadOptions

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def _frame(rows: int = 1000) -> pl.DataFrame:
    # `file` and `missing` are one-value columns, as readers build them.
    return pl.DataFrame({"n": range(rows)}).with_columns(
        pl.lit("export.csv").alias("file"),
        pl.lit(None, dtype=pl.Int64).alias("missing"),
        (pl.col("n") % 2).alias("parity"),
        # Equal first and last values, different ones between.
        pl.when(pl.col("n") == rows // 2).then(1).otherwise(0).alias("ends_equal"),
    )


def test_null_counts_and_all_null():
    frame = _frame().with_columns(
        pl.when(pl.col("n") < 3).then(None).otherwise(pl.col("n")).alias("some")
    )
    assert null_counts(frame, ["n", "missing", "some"]) == {
        "n": 0,
        "missing": 1000,
        "some": 3,
    }
    assert null_counts(frame, []) == {}
    assert all_null(frame, "missing")
    assert not all_null(frame, "some")
    assert all_null(frame.clear(), "n")


def test_constant_columns():
    frame = _frame()
    names = ["n", "file", "missing", "parity", "ends_equal"]
    assert constant_columns(frame, names) == ["file"]
    assert constant_columns(frame.head(1), names) == [
        "n",
        "file",
        "parity",
        "ends_equal",
    ]
    assert constant_columns(frame.clear(), names) == []
    assert first_value(frame, "file") == "export.csv"


def test_checks_leave_columns_unexpanded():
    frame = _frame(100_000)
    size = frame.estimated_size()
    null_counts(frame, frame.columns)
    constant_columns(frame, frame.columns)
    first_value(frame, "file")
    assert frame.estimated_size() == size
    # Reading a column as a Series is what expands it.
    assert frame["missing"].null_count() == frame.height
    assert frame.estimated_size() > size


def test_plan_leaves_events_unexpanded():
    prepared = load_events(
        [SAMPLE / "generic.csv"], read_options=ReadOptions(timezone="UTC")
    )
    # One file of viewings, as a large export is: the readers give such
    # columns one value, and ids the file lacks are null throughout.
    events = prepared.events.filter(pl.col("record") == "watch").with_columns(
        pl.lit("watch").alias("record"),
        pl.lit("generic.csv").alias("source_file"),
        pl.lit(None, dtype=pl.Int64).alias("mal"),
    )
    size = events.estimated_size()
    plan = build_plan(events)
    assert plan.writes.height
    assert events.estimated_size() == size
