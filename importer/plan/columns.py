"""Checks on a frame's columns that leave one-value columns as they are.

Polars 2.1 stores a column that has one value throughout (the file name
of a single export, or nulls for an id namespace that the export lacks) as
that value and a length. Reading such a column as a Series expands it to
a full column, which the frame then keeps beside the value: 4 to 30 MB per
column at a million rows. These checks go through expressions, which
leave the column as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl


def null_counts(frame: pl.DataFrame, names: Iterable[str]) -> dict[str, int]:
    """Return the number of nulls in each of the columns `names`."""
    names = list(names)
    if not names:
        return {}
    return frame.select(pl.col(name).null_count() for name in names).row(0, named=True)


def all_null(frame: pl.DataFrame, name: str) -> bool:
    """Return true if column `name` contains only nulls (or no rows)."""
    return null_counts(frame, [name])[name] == frame.height


def constant_columns(frame: pl.DataFrame, names: Iterable[str]) -> list[str]:
    """Return those of `names` that have one value throughout and no null."""
    names = list(names)
    if frame.is_empty() or not names:
        return []
    numbered = list(enumerate(names))
    ends = frame.select(
        *(pl.col(name).null_count().alias(f"{i}_nulls") for i, name in numbered),
        *(pl.col(name).first().alias(f"{i}_first") for i, name in numbered),
        *(pl.col(name).last().alias(f"{i}_last") for i, name in numbered),
    ).row(0, named=True)
    # Comparing the last value to the first rejects most columns without a
    # scan of their rows.
    candidates = [
        name
        for i, name in numbered
        if ends[f"{i}_nulls"] == 0 and ends[f"{i}_last"] == ends[f"{i}_first"]
    ]
    if not candidates:
        return []
    same = frame.select(
        (pl.col(name) == pl.col(name).first()).all().alias(name) for name in candidates
    ).row(0, named=True)
    return [name for name in candidates if same[name]]


def first_value(frame: pl.DataFrame, name: str) -> object:
    """Return the value of column `name` in the first row."""
    return frame.select(pl.col(name).first()).item()
