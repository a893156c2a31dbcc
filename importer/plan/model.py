"""The plan: what the planner decided for every source row.

`Plan.writes` has one row per viewing to post, `Plan.skipped` one row per
source row that is not posted, with its reason. Both are polars frames with
fixed schemas, so the batcher, the report and the checks agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from importer.events import (
    EPISODE_ID_COLUMNS,
    ITEM_ID_COLUMNS,
    UTC_DATETIME,
    empty_skips,
)

WRITE_SCHEMA: dict[str, pl.DataType] = {
    # "<unit_key>@<watched_at in epoch seconds>": the same viewing gets the
    # same key on every run, so the journal can recognise it.
    "write_key": pl.String(),
    # The item (movie or show) and the unit (the movie, or one episode) the
    # 48-hour rule and the session cap apply to.
    "item_key": pl.String(),
    "unit_key": pl.String(),
    "source": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "media_type": pl.String(),
    "title": pl.String(),
    "year": pl.Int32(),
    **ITEM_ID_COLUMNS,
    "link": pl.String(),
    "season": pl.Int32(),
    "episode": pl.Int32(),
    "episode_abs": pl.Int32(),
    **EPISODE_ID_COLUMNS,
    "watched_at": UTC_DATETIME,
    "date_note": pl.String(),
    # "canonical" (the first viewing, ordinary history) or "rewatch".
    "kind": pl.String(),
    # 0 for canonical; the session's number on the item (1 to 50) otherwise,
    # counting sessions already on the account.
    "session": pl.Int32(),
    # The state the session ends in once the plan is applied: "completed",
    # "closed" (ended early because a later session began) or "active".
    "session_status": pl.String(),
    # The id of a session already on the account that this write continues.
    "rewatch_id": pl.Int64(),
    # Posting order: 0 for canonical writes, k for the k-th session of the
    # item that this plan writes to.
    "round": pl.Int32(),
}


def empty_writes() -> pl.DataFrame:
    """Return a writes frame with no rows."""
    return pl.DataFrame(schema=WRITE_SCHEMA)


@dataclass(frozen=True)
class PlanOptions:
    """The importer's defaults for situations the source leaves open.

    `undated`: "sentinel" writes one viewing at Simkl's unknown-date instant
    per movie or episode that has undated rows; "skip" writes none. Either
    way every affected row is reported.
    `rewatch_without_earlier`: for a row the source marks as a rewatch with
    no earlier viewing anywhere, "sentinel" adds an undated canonical viewing
    so the row becomes the first rewatch; "ignore" treats it as a first
    viewing.
    `rewatches`: False for a free-tier account, which keeps canonical
    history only; rewatch viewings are then reported, not written.
    `hold_before_release_days`: a viewing more than this many days before
    the item's release date is held for review as a probable wrong match
    (None turns the check off); a viewing closer to release is written with
    a note.
    """

    undated: str = "sentinel"
    rewatch_without_earlier: str = "sentinel"
    rewatches: bool = True
    hold_before_release_days: int | None = 365


@dataclass
class Plan:
    """The planner's result: writes, skipped rows, notes and summary counts.

    Every source watch row is in exactly one of `writes` and `skipped`,
    except that a write with date_note "unknown_date_for_rewatch" is added
    by the planner (it shares the source row of the rewatch it precedes).
    `notes` lists facts about rows that do not change their bucket: plays
    counted without dates, viewings shortly before release, rewatch marks
    without an earlier viewing. It has the skip columns.
    """

    writes: pl.DataFrame = field(default_factory=empty_writes)
    skipped: pl.DataFrame = field(default_factory=empty_skips)
    notes: pl.DataFrame = field(default_factory=empty_skips)
    summary: dict[str, Any] = field(default_factory=dict)
