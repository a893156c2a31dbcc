"""The planner: from valid watch events (and the account) to planned writes.

Steps, each a function below:
1. keys: which rows are the same item and the same movie or episode;
2. dates: undated rows and release-date holds, per the importer's defaults;
3. present: viewings within 48 hours of one the account already holds;
4. the 48-hour rule among the remaining viewings;
5. canonical or rewatch, and rewatch sessions per item with the cap;
6. the frames of writes, skipped rows and notes, and the summary.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from importer.events import (
    RECORD_WATCH,
    SKIP_SCHEMA,
    conform_remote,
    conform_skips,
    empty_remote,
)
from importer.plan import rules
from importer.plan.keys import assign_item_keys, unit_key
from importer.plan.model import WRITE_SCHEMA, Plan, PlanOptions
from importer.plan.sessions import assign_sessions
from importer.plan.summary import summarize

_SECONDS = pl.col("watched_at").dt.epoch("s")


def build_plan(
    events: pl.DataFrame,
    remote: pl.DataFrame | None = None,
    options: PlanOptions | None = None,
) -> Plan:
    """Plan the writes that bring the account to the source's history.

    `events` is a conformed events frame of valid rows (rows of other
    records than "watch" are ignored); `remote` is what the account holds
    (REMOTE_SCHEMA), or None for an empty account. The result is
    deterministic: the same input in any row order gives the same plan.
    """
    options = options or PlanOptions()
    remote = conform_remote(remote) if remote is not None else empty_remote()
    watches = events.filter(pl.col("record") == RECORD_WATCH)
    watches = watches.sort("source_file", "source_row", nulls_last=True)

    watches, remote = assign_item_keys(watches, remote)
    watches = watches.with_columns(unit_key().alias("unit_key"))
    remote = remote.with_columns(unit_key().alias("unit_key"))

    skipped: list[pl.DataFrame] = []
    notes: list[pl.DataFrame] = [_extra_play_notes(watches)]

    watches, held, release_notes = _hold_before_release(watches, options)
    skipped.append(held)
    notes.append(release_notes)

    dated, undated_skips = _undated_viewings(watches, options)
    skipped.append(undated_skips)

    dated, hint_notes = _sentinels_for_rewatch_marks(dated, remote, options)
    notes.append(hint_notes)

    dated, present = _mark_present(dated, remote)
    skipped.append(present)

    kept, collapsed = _apply_gap_rule(dated)
    skipped.append(collapsed)

    kept = _mark_canonical(kept, remote)
    kept, capped = assign_sessions(kept, remote)
    skipped.append(capped)

    if not options.rewatches:
        tier_skips = kept.filter(pl.col("kind") == rules.REWATCH)
        kept = kept.filter(pl.col("kind") == rules.CANONICAL)
        skipped.append(
            _skips(
                tier_skips,
                "rewatch_not_written_free_tier",
                pl.format(
                    "rewatch of {} not written: rewatch sessions need Simkl Pro or VIP",
                    pl.col("watched_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                ),
            )
        )

    writes = _write_frame(kept)
    skipped_frame = _sorted_skips(skipped)
    notes_frame = _sorted_skips(notes)
    summary = summarize(events, writes, skipped_frame, notes_frame)
    return Plan(writes=writes, skipped=skipped_frame, notes=notes_frame, summary=summary)


def _iso(column: str = "watched_at") -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _skips(frame: pl.DataFrame, reason: str, detail: pl.Expr) -> pl.DataFrame:
    return conform_skips(
        frame.with_columns(pl.lit(reason).alias("reason"), detail.alias("detail"))
    )


def _sorted_skips(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=SKIP_SCHEMA)
    return pl.concat(frames).sort("source_file", "source_row", "reason", nulls_last=True)


def _extra_play_notes(watches: pl.DataFrame) -> pl.DataFrame:
    rows = watches.filter(pl.col("extra_plays") > 0)
    return _skips(
        rows,
        "extra_plays",
        pl.format(
            "{} more plays counted without dates; not written, since their dates are unknown",
            pl.col("extra_plays"),
        ),
    )


def _hold_before_release(
    watches: pl.DataFrame, options: PlanOptions
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Hold viewings far before the release date; note those shortly before."""
    days_before = (pl.col("release_date") - pl.col("watched_at").dt.date()).dt.total_days()
    watches = watches.with_columns(days_before.alias("_days_before"))
    limit = options.hold_before_release_days
    if limit is None:
        held_mask = pl.lit(False)
    else:
        held_mask = pl.col("_days_before").fill_null(0) > limit
    held = watches.filter(held_mask)
    early = watches.filter(~held_mask & (pl.col("_days_before").fill_null(0) > 0))
    held_skips = _skips(
        held,
        "held_before_release",
        pl.format(
            "watched {} days before the release date {}: probably a wrong match; "
            "check the item and pass an override, or raise --hold-before-release-days",
            pl.col("_days_before"),
            pl.col("release_date"),
        ),
    )
    early_notes = _skips(
        early,
        "before_release",
        pl.format("watched {} days before the release date {}", pl.col("_days_before"), pl.col("release_date")),
    )
    return watches.filter(~held_mask).drop("_days_before"), held_skips, early_notes


def _undated_viewings(
    watches: pl.DataFrame, options: PlanOptions
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Turn the first undated row of each unit into the unknown-date viewing.

    Further undated rows of the unit are reported, not written. With the
    "skip" policy every undated row is reported.
    """
    undated = watches.filter(pl.col("watched_at").is_null())
    dated = watches.filter(pl.col("watched_at").is_not_null())
    if options.undated == "skip":
        return dated, _skips(
            undated,
            "undated",
            pl.lit("no watch date; not written (the undated policy is skip)"),
        )
    first = pl.int_range(pl.len()).over("unit_key") == 0
    undated = undated.with_columns(first.alias("_first"))
    sentinels = undated.filter(pl.col("_first")).drop("_first")
    sentinels = sentinels.with_columns(
        pl.lit(rules.UNKNOWN_DATE).dt.cast_time_unit("us").alias("watched_at"),
        pl.lit("unknown_date").alias("date_note"),
    )
    extras = undated.filter(~pl.col("_first"))
    extra_skips = _skips(
        extras,
        "undated_extra",
        pl.lit("another undated play of this movie or episode; only one unknown-date viewing is written"),
    )
    return pl.concat([dated, sentinels.select(dated.columns)]), extra_skips


def _sentinels_for_rewatch_marks(
    dated: pl.DataFrame, remote: pl.DataFrame, options: PlanOptions
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add an unknown-date first viewing where the first one is marked a rewatch.

    A row the source marks as a rewatch, with no earlier viewing of its
    movie or episode in any source or on the account, implies a first
    viewing whose date is unknown.
    """
    if options.rewatch_without_earlier != "sentinel":
        return dated, pl.DataFrame(schema=SKIP_SCHEMA)
    ordered = dated.sort("unit_key", "watched_at", "source_file", "source_row")
    firsts = ordered.group_by("unit_key", maintain_order=True).first()
    on_account = remote.select("unit_key").unique()
    marked = firsts.filter(pl.col("rewatch_hint").fill_null(False)).join(
        on_account, on="unit_key", how="anti"
    )
    sentinels = marked.with_columns(
        pl.lit(rules.UNKNOWN_DATE).dt.cast_time_unit("us").alias("watched_at"),
        pl.lit("unknown_date_for_rewatch").alias("date_note"),
        pl.lit(False).alias("rewatch_hint"),
    ).select(dated.columns)
    notes = _skips(
        marked,
        "rewatch_without_earlier",
        pl.lit("marked as a rewatch with no earlier viewing; an unknown-date first viewing is added"),
    )
    return pl.concat([dated, sentinels]), notes


def _mark_present(dated: pl.DataFrame, remote: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split off viewings within 48 hours of one the account already holds."""
    stored = (
        remote.filter(pl.col("watched_at").is_not_null())
        .select("unit_key", pl.col("watched_at").alias("_stored_at"), _SECONDS.alias("_stored_s"))
        .sort("_stored_s")
    )
    probe = dated.with_row_index("_i").with_columns(_SECONDS.alias("_s")).sort("_s")
    nearest = probe.join_asof(
        stored,
        left_on="_s",
        right_on="_stored_s",
        by="unit_key",
        strategy="nearest",
        check_sortedness=False,
    )
    close = (nearest["_s"] - nearest["_stored_s"]).abs() < rules.MIN_GAP_SECONDS
    nearest = nearest.with_columns(close.fill_null(False).alias("_present")).sort("_i")
    present = nearest.filter(pl.col("_present"))
    skips = _skips(
        present,
        "already_present",
        pl.format("already on Simkl (viewing at {})", _iso("_stored_at")),
    )
    kept = nearest.filter(~pl.col("_present")).drop("_i", "_s", "_stored_at", "_stored_s", "_present")
    return kept, skips


def _apply_gap_rule(dated: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keep viewings at least 48 hours after the previous kept one of the unit.

    The gap is anchored on kept viewings, not on collapsed ones: 0 h, 30 h
    and 60 h keep 0 h and 60 h. All units advance together: each pass finds,
    for every unit, the first viewing at least 48 hours after its last kept
    one, so the number of passes is the largest number of viewings kept for
    one unit.
    """
    ordered = dated.sort("unit_key", "watched_at", "source_file", "source_row", nulls_last=True)
    if ordered.height == 0:
        return ordered, pl.DataFrame(schema=SKIP_SCHEMA)
    unit_ids = ordered["unit_key"].rank("dense").to_numpy().astype(np.int64)
    seconds = ordered["watched_at"].dt.epoch("s").to_numpy().astype(np.int64)
    offset = seconds - seconds.min()
    combined = (unit_ids << 34) + offset

    kept = np.zeros(ordered.height, dtype=bool)
    starts = np.flatnonzero(np.r_[True, unit_ids[1:] != unit_ids[:-1]])
    current = starts
    while current.size:
        kept[current] = True
        following = np.searchsorted(combined, combined[current] + rules.MIN_GAP_SECONDS, "left")
        inside = following < ordered.height
        following = following[inside]
        same_unit = unit_ids[following] == unit_ids[current[inside]]
        current = following[same_unit]

    # The viewing each collapsed one joined: the last kept one before it.
    anchor = np.maximum.accumulate(np.where(kept, np.arange(ordered.height), 0))
    ordered = ordered.with_columns(
        pl.Series("_kept", kept),
        pl.Series("_anchor_at", ordered["watched_at"].to_numpy()[anchor]).dt.replace_time_zone("UTC"),
    )
    collapsed = _skips(
        ordered.filter(~pl.col("_kept")),
        "collapsed_48h",
        pl.format("within 48 hours of the viewing at {}; one viewing", _iso("_anchor_at")),
    )
    return ordered.filter(pl.col("_kept")).drop("_kept", "_anchor_at"), collapsed


def _mark_canonical(kept: pl.DataFrame, remote: pl.DataFrame) -> pl.DataFrame:
    """Make each unit's first kept viewing canonical unless the account has one."""
    on_account = remote.filter(~pl.col("is_rewatch")).select("unit_key").unique()
    kept = kept.sort("unit_key", "watched_at", "source_file", "source_row")
    kept = kept.join(
        on_account.with_columns(pl.lit(True).alias("_has_canonical")), on="unit_key", how="left"
    )
    first = pl.int_range(pl.len()).over("unit_key") == 0
    is_canonical = first & pl.col("_has_canonical").is_null()
    return kept.with_columns(
        pl.when(is_canonical).then(pl.lit(rules.CANONICAL)).otherwise(pl.lit(rules.REWATCH)).alias("kind")
    ).drop("_has_canonical")


def _write_frame(kept: pl.DataFrame) -> pl.DataFrame:
    frame = kept.with_columns(
        pl.format("{}@{}", pl.col("unit_key"), _iso()).alias("write_key"),
    )
    columns = [
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in WRITE_SCHEMA.items()
    ]
    return frame.select(columns).sort(
        "round", "item_key", "session", "watched_at", "unit_key", "source_file", "source_row"
    )
