"""The planner: from valid watch events (and the account) to planned writes.

Steps, each a function below:
1. keys: which rows are the same item and the same movie or episode;
2. dates: release-date holds and undated rows, per the importer's defaults;
3. present: viewings within 48 hours of one the account already holds;
4. the 48-hour rule among the remaining viewings;
5. canonical or rewatch, and rewatch sessions per item with the cap;
6. the frames of writes, skipped rows and notes, and the summary.

The rules run on a narrow frame of integers (row order, item, unit, epoch
seconds), which keeps sorting a million rows cheap. The wide source columns
are gathered back by row order only for the output.
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
from importer.plan.checks import check_plan
from importer.plan.columns import all_null, constant_columns, first_value, null_counts
from importer.plan.keys import assign_item_keys, assign_unit_ids, film_like, unit_key
from importer.plan.model import WRITE_SCHEMA, Plan, PlanOptions
from importer.plan.sessions import assign_sessions
from importer.plan.summary import summarize

_UNKNOWN_SECONDS = int(rules.UNKNOWN_DATE.timestamp())
_ISO = "%Y-%m-%dT%H:%M:%SZ"


def build_plan(
    events: pl.DataFrame,
    remote: pl.DataFrame | None = None,
    options: PlanOptions | None = None,
) -> Plan:
    """Plan the writes that bring the account to the source's history.

    `events` is a conformed events frame of valid rows (rows of other
    records than "watch" are ignored); `remote` is what the account contains
    (REMOTE_SCHEMA), or None for an empty account. The result is
    deterministic: the same input in any row order gives the same plan.
    """
    options = options or PlanOptions()
    remote = conform_remote(remote) if remote is not None else empty_remote()
    watches = _in_source_order(events.filter(pl.col("record") == RECORD_WATCH))

    watches, remote, items = assign_item_keys(watches, remote)
    watches, remote = assign_unit_ids(watches, remote)
    rows = _narrow(watches)
    stored = remote.select(
        "item_id",
        "unit_id",
        _seconds().alias("_t"),
        "is_rewatch",
        "rewatch_id",
        "session_status",
        "aired_episodes",
        "watched_at",
    )

    rows, held, early = _hold_before_release(rows, options)
    rows, undated = _undated_viewings(rows, options)
    rows, hinted = _sentinels_for_rewatch_marks(rows, stored, options)
    # Later steps sort and filter the rows, and no longer read these two.
    rows = rows.drop("_hint", "_days_before")
    rows, present = _mark_present(rows, stored)
    kept, collapsed = _apply_gap_rule(rows)
    # The gap rule returns sorted copies, so this frees the unsorted rows.
    del rows
    kept = _mark_canonical(kept, stored)
    kept, capped = assign_sessions(kept, stored)

    tier = kept.filter(pl.lit(False)).select("_order", "_t")
    if not options.rewatches:
        # On a free account no rewatch is written, whatever the cap would allow.
        tier = pl.concat(
            [
                kept.filter(pl.col("kind") == rules.REWATCH).select("_order", "_t"),
                capped.select("_order", "_t"),
            ]
        )
        kept = kept.filter(pl.col("kind") == rules.CANONICAL)
        capped = capped.filter(pl.lit(False))
    older = _older_than_account(kept, stored)
    check_plan(kept, stored)

    skipped = _skip_frames(
        watches, options, held, undated, present, collapsed, capped, tier
    )
    notes = _note_frames(watches, early, hinted, older)

    writes = _write_frame(watches, kept, items)
    skipped_frame = _sorted_skips(skipped)
    notes_frame = _sorted_skips(notes)
    summary = summarize(
        events,
        writes,
        skipped_frame,
        notes_frame,
        item_count=_count_items(kept, items),
    )
    return Plan(
        writes=writes, skipped=skipped_frame, notes=notes_frame, summary=summary
    )


def _skip_frames(
    watches: pl.DataFrame,
    options: PlanOptions,
    held: pl.DataFrame,
    undated: pl.DataFrame,
    present: pl.DataFrame,
    collapsed: pl.DataFrame,
    capped: pl.DataFrame,
    tier: pl.DataFrame,
) -> list[pl.DataFrame]:
    """Build the skip rows of every source row the plan does not write."""
    return [
        _skips(watches, held, "held_before_release", _held_detail()),
        _skips(watches, undated, *_undated_reason(options)),
        _skips(
            watches,
            present,
            "already_present",
            pl.format("already on Simkl (viewing at {})", _iso("_other_t")),
        ),
        _skips(
            watches,
            collapsed,
            "collapsed_48h",
            pl.format(
                "within 48 hours of the viewing at {}; one viewing", _iso("_other_t")
            ),
        ),
        _skips(watches, capped, "rewatch_cap", _cap_detail()),
        _skips(
            watches,
            tier,
            "rewatch_not_written_free_tier",
            pl.format(
                "rewatch of {} not written: rewatch sessions need Simkl Pro or VIP",
                _iso("_t"),
            ),
        ),
    ]


def _note_frames(
    watches: pl.DataFrame,
    early: pl.DataFrame,
    hinted: pl.DataFrame,
    older: pl.DataFrame,
) -> list[pl.DataFrame]:
    """Build the notes about rows that are written but deserve a remark."""
    return [
        _skips(
            watches,
            rows_with_extra_plays(watches),
            "extra_plays",
            pl.format(
                "{} more plays counted without dates; not written, since their "
                "dates are unknown",
                pl.col("extra_plays"),
            ),
        ),
        _skips(
            watches,
            early,
            "before_release",
            pl.format(
                "watched {} days before the release date {}",
                pl.col("_days_before"),
                pl.col("release_date"),
            ),
        ),
        _skips(
            watches,
            hinted,
            "rewatch_without_earlier",
            pl.lit(
                "marked as a rewatch with no earlier viewing; "
                "an unknown-date first viewing is added"
            ),
        ),
        _skips(
            watches,
            older,
            "older_than_account",
            pl.format(
                "earlier than the viewing already on Simkl ({}), which stays "
                "canonical; written as a rewatch",
                _iso("_other_t"),
            ),
        ),
    ]


def _count_items(kept: pl.DataFrame, items: pl.DataFrame) -> int:
    """Count the distinct items of `kept`, whose ids index `items`."""
    seen = np.zeros(items.height, dtype=bool)
    seen[kept["item_id"].to_numpy()] = True
    return int(seen.sum())


def _seconds() -> pl.Expr:
    return pl.col("watched_at").dt.epoch("s")


def _iso(column: str) -> pl.Expr:
    return pl.from_epoch(pl.col(column), time_unit="s").dt.strftime(_ISO)


def _in_source_order(watches: pl.DataFrame) -> pl.DataFrame:
    """Sort by file and row, and number the rows: `_order` is a row's identity."""
    # Comparing to the first name is cheaper than counting distinct names.
    single_file = watches.is_empty() or bool(
        watches.select(
            pl.col("source_file").eq_missing(pl.col("source_file").first()).all()
        ).item()
    )
    if not (single_file and watches["source_row"].is_sorted()):
        file_rank = pl.col("source_file").rank("dense")
        watches = watches.sort(file_rank, pl.col("source_row"), nulls_last=True)
    return watches.with_row_index("_order").with_columns(
        pl.col("_order").cast(pl.Int64)
    )


def _narrow(watches: pl.DataFrame) -> pl.DataFrame:
    days_before = (
        pl.col("release_date") - pl.col("watched_at").dt.date()
    ).dt.total_days()
    if all_null(watches, "release_date"):
        # Exports without release dates skip the date conversion of every row.
        days_before = pl.lit(None, dtype=pl.Int64)
    return watches.select(
        "_order",
        "item_id",
        "unit_id",
        _seconds().alias("_t"),
        film_like().alias("_movie"),
        pl.col("rewatch_hint").fill_null(False).alias("_hint"),
        days_before.alias("_days_before"),
        pl.lit(None, dtype=pl.String).alias("_note"),
    )


def rows_with_extra_plays(watches: pl.DataFrame) -> pl.DataFrame:
    """Return the order numbers of rows that counted plays without dates."""
    return watches.filter(pl.col("extra_plays") > 0).select("_order")


def _skips(
    watches: pl.DataFrame, rows: pl.DataFrame, reason: str, detail: pl.Expr
) -> pl.DataFrame:
    """Gather the source columns of `rows` and give each the reason and detail."""
    if rows.height == 0:
        return pl.DataFrame(schema=SKIP_SCHEMA)
    extra = [c for c in rows.columns if c.startswith("_") and c != "_order"]
    picked = watches.drop([c for c in extra if c in watches.columns])[rows["_order"]]
    picked = pl.concat([picked, rows.select(extra)], how="horizontal")
    if "_t" in extra:
        picked = picked.with_columns(
            pl.from_epoch("_t", time_unit="s")
            .dt.replace_time_zone("UTC")
            .alias("watched_at")
        )
    return conform_skips(
        picked.with_columns(pl.lit(reason).alias("reason"), detail.alias("detail"))
    )


def _sorted_skips(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=SKIP_SCHEMA)
    file_rank = pl.col("source_file").rank("dense")
    return pl.concat(frames).sort(file_rank, "source_row", "reason", nulls_last=True)


def _held_detail() -> pl.Expr:
    return pl.format(
        "watched {} days before the release date {}: probably a wrong match; "
        "check the item and pass an override, or raise --hold-before-release-days",
        pl.col("_days_before"),
        pl.col("release_date"),
    )


def _cap_detail() -> pl.Expr:
    return pl.format(
        "rewatch session {} of this item: Simkl keeps at most {} sessions, "
        "and the earliest viewings are kept",
        pl.col("_session"),
        pl.lit(rules.MAX_SESSIONS),
    )


def _undated_reason(options: PlanOptions) -> tuple[str, pl.Expr]:
    if options.undated == "skip":
        return "undated", pl.lit(
            "no watch date; not written (the undated policy is skip)"
        )
    return "undated_extra", pl.lit(
        "another undated play of this movie or episode; "
        "only one unknown-date viewing is written"
    )


def _hold_before_release(
    rows: pl.DataFrame, options: PlanOptions
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Hold viewings far before the release date; note those shortly before."""
    limit = options.hold_before_release_days
    days = pl.col("_days_before").fill_null(0)
    held_mask = pl.lit(False) if limit is None else days > limit
    held = rows.filter(held_mask).select("_order", "_days_before")
    early = rows.filter(~held_mask & (days > 0)).select("_order", "_days_before")
    return rows.filter(~held_mask), held, early


def _undated_viewings(
    rows: pl.DataFrame, options: PlanOptions
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Turn the first undated row of each unit into the unknown-date viewing.

    Further undated rows of the unit are reported, not written. With the
    "skip" policy every undated row is reported.
    """
    undated = rows.filter(pl.col("_t").is_null())
    dated = rows.filter(pl.col("_t").is_not_null())
    if options.undated == "skip":
        return dated, undated.select("_order")
    first = pl.int_range(pl.len()).over("unit_id") == 0
    undated = undated.sort("_order").with_columns(first.alias("_first"))
    sentinels = undated.filter(pl.col("_first")).with_columns(
        pl.lit(_UNKNOWN_SECONDS, dtype=pl.Int64).alias("_t"),
        pl.lit("unknown_date").alias("_note"),
    )
    extras = undated.filter(~pl.col("_first")).select("_order")
    return pl.concat([dated, sentinels.select(dated.columns)]), extras


def _sentinels_for_rewatch_marks(
    rows: pl.DataFrame, stored: pl.DataFrame, options: PlanOptions
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add an unknown-date first viewing where the first one is marked a rewatch.

    A row the source marks as a rewatch, with no earlier viewing of its
    movie or episode in any source or on the account, implies a first
    viewing whose date is unknown.
    """
    none = pl.DataFrame(schema={"_order": pl.Int64})
    if options.rewatch_without_earlier != "sentinel" or not rows["_hint"].any():
        return rows, none
    hinted_units = rows.filter(pl.col("_hint")).select("unit_id").unique()
    candidates = rows.join(hinted_units, on="unit_id")
    # At a tie, an unmarked row sorts first: it is the earlier viewing of a
    # marked row at the same instant, whatever the row order.
    firsts = candidates.sort("unit_id", "_t", "_hint", "_order").filter(
        pl.col("unit_id") != pl.col("unit_id").shift(1).fill_null(-(1 << 62))
    )
    # A first row that is already the unknown-date viewing needs no other.
    marked = firsts.filter(pl.col("_hint") & pl.col("_note").is_null()).join(
        stored.select("unit_id").unique(), on="unit_id", how="anti"
    )
    sentinels = marked.with_columns(
        pl.lit(_UNKNOWN_SECONDS, dtype=pl.Int64).alias("_t"),
        pl.lit("unknown_date_for_rewatch").alias("_note"),
        pl.lit(False).alias("_hint"),
    )
    return pl.concat([rows, sentinels]), marked.select("_order")


def _mark_present(
    rows: pl.DataFrame, stored: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split off viewings within 48 hours of one the account already holds."""
    if stored.height == 0:
        return rows, pl.DataFrame(schema={"_order": pl.Int64, "_other_t": pl.Int64})
    account = (
        stored.filter(pl.col("_t").is_not_null())
        .select("unit_id", pl.col("_t").alias("_other_t"))
        .sort("_other_t")
    )
    probe = rows.sort("_t").join_asof(
        account,
        left_on="_t",
        right_on="_other_t",
        by="unit_id",
        strategy="nearest",
        check_sortedness=False,
    )
    close = (
        (pl.col("_t") - pl.col("_other_t")).abs() < rules.MIN_GAP_SECONDS
    ).fill_null(False)
    probe = probe.with_columns(close.alias("_present"))
    present = probe.filter(pl.col("_present")).select("_order", "_other_t")
    kept = probe.filter(~pl.col("_present")).drop("_other_t", "_present")
    return kept, present


def _apply_gap_rule(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keep viewings at least 48 hours after the previous kept one of the unit.

    The gap is anchored on kept viewings, not on collapsed ones: 0 h, 30 h
    and 60 h keep 0 h and 60 h. All units advance together: each pass finds,
    for every unit, the first viewing at least 48 hours after its last kept
    one, so the number of passes is the largest number of viewings kept for
    one unit.
    """
    ordered = rows.sort("unit_id", "_t", "_order")
    if ordered.height == 0:
        return ordered, pl.DataFrame(schema={"_order": pl.Int64, "_other_t": pl.Int64})
    codes = ordered["unit_id"].to_numpy()
    unit_ids = np.cumsum(np.r_[False, codes[1:] != codes[:-1]]).astype(np.int64)
    seconds = ordered["_t"].to_numpy().astype(np.int64)
    # Unit in the high bits, time in the low 34 bits (seconds span 544 years).
    combined = (unit_ids << 34) + (seconds - seconds.min())

    kept = np.zeros(ordered.height, dtype=bool)
    current = np.flatnonzero(np.r_[True, unit_ids[1:] != unit_ids[:-1]])
    while current.size:
        kept[current] = True
        following = np.searchsorted(
            combined, combined[current] + rules.MIN_GAP_SECONDS, "left"
        )
        inside = following < ordered.height
        following = following[inside]
        current = following[unit_ids[following] == unit_ids[current[inside]]]

    # The viewing each collapsed one joined: the last kept one before it.
    anchor = np.maximum.accumulate(np.where(kept, np.arange(ordered.height), 0))
    ordered = ordered.with_columns(
        pl.Series("_kept", kept), pl.Series("_other_t", seconds[anchor])
    )
    collapsed = ordered.filter(~pl.col("_kept")).select("_order", "_other_t")
    return ordered.filter(pl.col("_kept")).drop("_kept", "_other_t"), collapsed


def _mark_canonical(kept: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """Make each unit's first kept viewing canonical unless the account has one.

    `kept` comes sorted by unit, time and row order from the gap rule.
    """
    first = pl.col("unit_id") != pl.col("unit_id").shift(1).fill_null(-(1 << 62))
    is_canonical = first
    if stored.height:
        on_account = stored.filter(~pl.col("is_rewatch")).select("unit_id").unique()
        is_canonical = first & ~pl.col("unit_id").is_in(on_account["unit_id"].implode())
    kind = (
        pl.when(is_canonical)
        .then(pl.lit(rules.CANONICAL))
        .otherwise(pl.lit(rules.REWATCH))
    )
    return kept.with_columns(kind.alias("kind"))


def _older_than_account(kept: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """Return rewatches dated before the account's canonical viewing of the unit."""
    if stored.height == 0:
        return pl.DataFrame(schema={"_order": pl.Int64, "_other_t": pl.Int64})
    canonical = (
        stored.filter(~pl.col("is_rewatch") & pl.col("_t").is_not_null())
        .group_by("unit_id")
        .agg(pl.col("_t").min().alias("_other_t"))
    )
    rewatches = kept.filter(pl.col("kind") == rules.REWATCH).select(
        "_order", "unit_id", "_t"
    )
    older = rewatches.join(canonical, on="unit_id").filter(
        pl.col("_t") < pl.col("_other_t")
    )
    return older.select("_order", "_other_t")


def _write_frame(
    watches: pl.DataFrame, kept: pl.DataFrame, items: pl.DataFrame
) -> pl.DataFrame:
    """Gather the source columns of kept viewings into the writes frame.

    `kept` is in a deterministic order already (canonical viewings by unit
    and time, then rewatches by item and time), so the writes keep it.
    `items` lists every item key at the position of its `item_id`. Unit
    keys are built per write, not per unit, because most units have one
    write (810k units for 979k writes in the generated 1M-row CSV file).
    """
    decided = kept.select(
        "unit_id",
        "_t",
        "_note",
        "kind",
        "session",
        "session_status",
        "rewatch_id",
        "round",
    )
    wanted = [
        c
        for c in watches.columns
        if (c in WRITE_SCHEMA or c == "date_note")
        and c not in (*decided.columns, "watched_at")
    ]
    # Columns that are null throughout (most id columns of one export) are
    # filled with nulls instead of gathered.
    nulls = null_counts(watches, wanted)
    filled = [c for c in wanted if nulls[c] == watches.height]
    # Columns with one value throughout (the source, and the file name of a
    # single export) become scalar columns. Polars 2.1 stores those as one value
    # until a caller reads them as a series, which saves 16 MB per string
    # column at a million writes.
    constant = constant_columns(watches, [c for c in wanted if c not in filled])
    gathered = [c for c in wanted if c not in filled and c not in constant]
    item_key = items["item_key"].gather(kept["item_id"])
    parts = [decided, item_key.to_frame()]
    if gathered:
        # A selection of no columns has height 0, so it cannot be gathered.
        parts.insert(0, watches.select(gathered)[kept["_order"]])
    frame = pl.concat(parts, how="horizontal")
    frame = frame.with_columns(
        pl.lit(first_value(watches, c), dtype=watches.schema[c]).alias(c)
        for c in constant
    )
    # Lazy, because polars 2.1 builds these string columns about three times
    # faster in one query than in eager steps. The query returns chunked
    # columns, so only the new columns go through it and are rechunked:
    # summarize takes about half the CPU time on contiguous columns.
    built = (
        frame.lazy()
        .with_columns(pl.lit(None, dtype=watches.schema[c]).alias(c) for c in filled)
        .with_columns(unit_key().alias("unit_key"))
        .select(
            "unit_key",
            pl.concat_str("unit_key", pl.lit("@"), pl.col("_t").cast(pl.String)).alias(
                "write_key"
            ),
            pl.from_epoch("_t", time_unit="s")
            .dt.replace_time_zone("UTC")
            .dt.cast_time_unit("us")
            .alias("watched_at"),
            pl.coalesce("_note", "date_note").alias("date_note"),
        )
        .collect()
    )
    frame = frame.drop("date_note", strict=False).hstack(_rechunked(built))
    columns = [
        (pl.col(name) if name in frame.columns else pl.lit(None))
        .cast(dtype)
        .alias(name)
        for name, dtype in WRITE_SCHEMA.items()
    ]
    return frame.select(columns)


def _rechunked(frame: pl.DataFrame) -> list[pl.Series]:
    """Return the columns of `frame` in one chunk each, emptying `frame`.

    Each column is removed from `frame` before it is copied, so its chunked
    original is freed right after the copy and the peak memory grows by one
    column, not by the whole frame.
    """
    columns = []
    for name in frame.columns:
        columns.append(frame.drop_in_place(name).rechunk())
    return columns
