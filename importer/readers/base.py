"""Types shared by every reader: options in, events and skips out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from importer.events import empty_events, empty_skips, utc_now


@dataclass(frozen=True)
class ReadOptions:
    """How readers turn source values into events.

    `timezone` is the IANA zone for dates with a time but no zone (None: the
    machine's zone). `date_anchor` decides where a date without a time lands:
    "utc-noon" (12:00 UTC, the default) or "local-noon" (12:00 in
    `timezone`). `rated_as_watched` turns IMDb-style rating rows into
    viewings dated by the rating date. `bulk_threshold` is the number of
    episodes sharing one timestamp above which the timestamp is treated as a
    bulk mark, not a viewing date.
    """

    timezone: str | None = None
    date_anchor: str = "utc-noon"
    rated_as_watched: bool = False
    bulk_threshold: int = 20
    now: datetime = field(default_factory=utc_now)


@dataclass
class FileSummary:
    """What one input file contributed: its format and row counts."""

    path: str
    format: str
    rows: int
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class ReadResult:
    """Events from all inputs, the rows deliberately skipped, and per-file facts."""

    events: pl.DataFrame = field(default_factory=empty_events)
    skipped: pl.DataFrame = field(default_factory=empty_skips)
    files: list[FileSummary] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
