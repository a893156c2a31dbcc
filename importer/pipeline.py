"""The pipeline from export files to a plan: read, validate, resolve, plan.

Commands call these functions; each stage is its own module. Nothing here
writes to Simkl.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from importer.events import conform_skips, empty_skips
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


def machine_timezone() -> str:
    """Return the IANA name of this machine's time zone (UTC if unknown)."""
    try:
        import tzlocal

        return tzlocal.get_localzone_name() or "UTC"
    except Exception:  # noqa: BLE001 - any failure to detect means UTC
        log.warning("could not detect the machine's time zone; using UTC")
        return "UTC"


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
    skipped = pl.concat([conform_skips(read.skipped), validation.reject_skips(read.events)])
    log.info(
        "read %d rows from %d files, %d rejected",
        read.events.height,
        len(read.files),
        validation.rejects.select("source_file", "source_row").unique().height,
    )
    return Prepared(read=read, validation=validation, events=validation.events, skipped=skipped)


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
    plan.skipped = (
        pl.concat([prepared.skipped, plan.skipped])
        .sort("source_file", "source_row", "reason", nulls_last=True)
    )
    reasons = plan.skipped.group_by("reason").len().sort("reason")
    plan.summary["rows"] = prepared.read.events.height
    plan.summary["skipped"] = {r: int(n) for r, n in reasons.iter_rows()}
    plan.summary["rejected"] = prepared.validation.rejects.select(
        "source_file", "source_row"
    ).unique().height
    plan.summary["reject_reasons"] = _top_reasons(prepared.validation.rejects)
    return plan


def _top_reasons(rejects: pl.DataFrame, limit: int = 5) -> dict[str, int]:
    if rejects.height == 0:
        return {}
    counted = (
        rejects.group_by("column", "reason").len()
        .sort(["len", "column", "reason"], descending=[True, False, False])
        .head(limit)
    )
    return {f"{column}: {reason}": int(n) for column, reason, n in counted.iter_rows()}

