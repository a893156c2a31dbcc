"""The pipeline from export files to a plan: read, validate, resolve, plan.

Commands call these functions; each stage is its own module. Nothing here
writes to Simkl.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from importer.events import RECORD_WATCH, concat_events, conform_skips, empty_skips
from importer.plan import Plan, PlanOptions, build_plan
from importer.readers.base import ReadOptions, ReadResult
from importer.validate import Validation, validate_events

log = logging.getLogger(__name__)

# Called with the name of each stage as it starts, so a command can show
# progress; the core never prints.
StageCallback = Callable[[str], None]


@dataclass
class Prepared:
    """Events ready to plan, with everything that was dropped on the way."""

    read: ReadResult
    validation: Validation
    events: pl.DataFrame
    # Reader skips and validation rejects, in skip form.
    skipped: pl.DataFrame = field(default_factory=empty_skips)
    # Counts and rows from id resolution, when it ran.
    resolution: dict[str, object] = field(default_factory=dict)


def load_events(
    paths: Sequence[str | Path],
    *,
    format: str | None = None,
    mapping: str | Path | None = None,
    read_options: ReadOptions | None = None,
    on_stage: StageCallback | None = None,
) -> Prepared:
    """Read every export and validate the rows; raise InputError on bad input."""
    from importer.readers import read_exports

    stage = on_stage or (lambda _name: None)
    options = read_options or ReadOptions()
    stage("read")
    read = read_exports(paths, format=format, mapping=mapping, options=options)
    stage("validate")
    validation = validate_events(read.events, options.now)
    skipped = pl.concat(
        [conform_skips(read.skipped), validation.reject_skips(read.events)]
    )
    log.info(
        "read %d rows from %d files, %d rejected",
        read.events.height,
        len(read.files),
        validation.rejects.select("source_file", "source_row").unique().height,
    )
    return Prepared(
        read=read, validation=validation, events=validation.events, skipped=skipped
    )


def resolve_prepared(
    prepared: Prepared,
    api: Any,
    *,
    cache_path: str | Path | None = None,
    overrides: str | Path | None = None,
    refresh: bool = False,
    on_stage: StageCallback | None = None,
) -> Prepared:
    """Match the prepared events to Simkl items, in place, and return them.

    With `api` None nothing is searched: the resolution records how many
    items lack an id Simkl accepts, so the report never hides them. Rows of
    ambiguous and unmatched items move to the skipped rows.
    """
    if api is None:
        prepared.resolution = _offline_resolution(prepared.events)
        return prepared
    from importer.resolve import ResolveOptions, resolve_events

    (on_stage or (lambda _name: None))("resolve")
    # Ratings and watchlist rows are read and counted but not imported yet,
    # so searching for them would only cost requests.
    is_watch = pl.col("record") == RECORD_WATCH
    others = prepared.events.filter(~is_watch)
    result = resolve_events(
        prepared.events.filter(is_watch),
        api,
        cache_path=cache_path,
        overrides=overrides,
        options=ResolveOptions(refresh=refresh),
    )
    prepared.events = concat_events([result.events, others])
    prepared.skipped = pl.concat([prepared.skipped, conform_skips(result.unresolved)])
    prepared.resolution = {
        "mode": "search",
        "by_source": result.summary,
        "placed_episodes": result.placements.height,
        "review_lines": result.review.height,
    }
    return prepared


def _offline_resolution(events: pl.DataFrame) -> dict[str, object]:
    """Count the items that only a search could match, per source."""
    from importer.events import ITEM_ID_COLUMNS

    watches = events.filter(pl.col("record") == RECORD_WATCH)
    no_id = ~pl.any_horizontal([pl.col(c).is_not_null() for c in ITEM_ID_COLUMNS])
    items = (
        watches.filter(no_id).select("source", "media_type", "title", "year").unique()
    )
    counts = items.group_by("source").len().sort("source")
    return {
        "mode": "offline",
        "items_without_ids": {source: int(n) for source, n in counts.iter_rows()},
    }


def plan_prepared(
    prepared: Prepared,
    *,
    remote: pl.DataFrame | None = None,
    options: PlanOptions | None = None,
    on_stage: StageCallback | None = None,
) -> Plan:
    """Plan the prepared events; fold reader skips and rejects into the plan."""
    stage = on_stage or (lambda _name: None)
    stage("plan")
    plan = build_plan(prepared.events, remote, options)
    plan.skipped = pl.concat([prepared.skipped, plan.skipped]).sort(
        "source_file", "source_row", "reason", nulls_last=True
    )
    reasons = plan.skipped.group_by("reason").len().sort("reason")
    plan.summary["rows"] = prepared.read.events.height
    plan.summary["skipped"] = {r: int(n) for r, n in reasons.iter_rows()}
    plan.summary["rejected"] = (
        prepared.validation.rejects.select("source_file", "source_row").unique().height
    )
    plan.summary["reject_reasons"] = _top_reasons(prepared.validation.rejects)
    return plan


def _top_reasons(rejects: pl.DataFrame, limit: int = 5) -> dict[str, int]:
    if rejects.height == 0:
        return {}
    counted = (
        rejects.group_by("column", "reason")
        .len()
        .sort(["len", "column", "reason"], descending=[True, False, False])
        .head(limit)
    )
    return {f"{column}: {reason}": int(n) for column, reason, n in counted.iter_rows()}
