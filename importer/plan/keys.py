"""Identity of items and units: which rows are the same movie or episode.

An item is a movie or a show. Rows are the same item when they share any
external id of the same namespace and media family (movie, or tv for shows
and anime): ids are never compared across namespaces, so TVDB 81234 and
TMDB 81234 stay two items. Rows without any id are keyed by title and year,
and join an item with ids only when exactly one such item has that title
and year.

A unit is what the 48-hour rule and canonical history apply to: the movie
itself, or one episode of a show (by season and number, or by an
episode-level id when the source has no usable numbering).

The work is done once per distinct combination of ids, not per row. Rows
get integer ids (`item_id`, `unit_id`) so that later steps sort and group
on integers, and the readable keys are joined back only where needed.
"""

from __future__ import annotations

import polars as pl

from importer.events import EPISODE_ID_COLUMNS, ITEM_ID_COLUMNS

ID_PRIORITY = tuple(ITEM_ID_COLUMNS)
_SIGNATURE = ["_family", *ID_PRIORITY, "_title"]


def _family() -> pl.Expr:
    return (
        pl.when(pl.col("media_type") == "movie")
        .then(pl.lit("movie"))
        .otherwise(pl.lit("tv"))
        .alias("_family")
    )


def _title() -> pl.Expr:
    title = pl.col("title").str.to_lowercase().str.strip_chars().fill_null("")
    year = pl.col("year").cast(pl.String).fill_null("")
    return pl.format("{}|{}", title, year).alias("_title")


def _signatures(frame: pl.DataFrame, from_source: bool) -> pl.DataFrame:
    """Return each distinct id combination once, with the rows that have it.

    Rows are grouped on the raw columns first; the family and the
    normalized title are then computed once per group, not once per row.
    """
    present = [name for name in ID_PRIORITY if frame[name].null_count() < frame.height]
    grouped = (
        frame.select("media_type", *present, "title", "year", "_order")
        .group_by(["media_type", *present, "title", "year"])
        .agg(pl.col("_order"))
    )
    # Columns that were null throughout come back as nulls, in schema order.
    missing = [
        pl.lit(None, dtype=frame.schema[name]).alias(name)
        for name in ID_PRIORITY
        if name not in present
    ]
    return grouped.with_columns(
        _family(), _title(), *missing, pl.lit(from_source).alias("_source")
    ).select(*_SIGNATURE, "_order", "_source")


def _edges(signatures: pl.DataFrame) -> pl.DataFrame:
    """Return one row per (signature, id token), with the token's priority."""
    parts = []
    for rank, name in enumerate(ID_PRIORITY):
        rows = signatures.filter(pl.col(name).is_not_null())
        if rows.height == 0:
            continue
        token = pl.concat_str(
            pl.col("_family"), pl.lit(f":{name}:"), pl.col(name).cast(pl.String)
        )
        parts.append(
            rows.select("_sig", "_source", token.alias("_token")).with_columns(
                pl.lit(rank, dtype=pl.Int32).alias("_rank")
            )
        )
    if not parts:
        schema = {
            "_sig": pl.Int64,
            "_source": pl.Boolean,
            "_token": pl.String,
            "_rank": pl.Int32,
        }
        return pl.DataFrame(schema=schema)
    return pl.concat(parts)


def _components(edges: pl.DataFrame) -> pl.DataFrame:
    """Label each signature with the smallest signature it shares an id with.

    Connected components by label propagation: a token takes the smallest
    label of its signatures, a signature the smallest label of its tokens,
    until nothing changes (two or three passes for real exports).
    """
    all_labels = (
        edges.select("_sig").unique().with_columns(pl.col("_sig").alias("_label"))
    )
    # Only signatures that share a token with another one can merge; the
    # rest, usually nearly all, keep their own label without any pass.
    shared = edges.group_by("_token").agg(pl.col("_sig").n_unique().alias("_n"))
    shared = shared.filter(pl.col("_n") > 1).select("_token")
    if shared.height == 0:
        return all_labels
    involved = edges.join(shared, on="_token").select("_sig").unique()
    alone = all_labels.join(involved, on="_sig", how="anti")
    edges = edges.join(involved, on="_sig")
    labels = involved.with_columns(pl.col("_sig").alias("_label"))
    while True:
        by_token = (
            edges.join(labels, on="_sig").group_by("_token").agg(pl.col("_label").min())
        )
        updated = (
            edges.join(by_token, on="_token")
            .group_by("_sig")
            .agg(pl.col("_label").min())
            .join(labels.rename({"_label": "_old"}), on="_sig")
            .select("_sig", pl.min_horizontal("_label", "_old").alias("_label"))
        )
        changed = updated.join(labels, on=["_sig", "_label"], how="anti").height
        labels = updated
        if changed == 0:
            return pl.concat([alone, labels.select(alone.columns)])


def _keys_of_signatures(signatures: pl.DataFrame) -> pl.DataFrame:
    """Return `_sig` -> `item_key` for every signature.

    The key of an item is its best id token found in source rows, so that it
    stays the same when the account's rows join the item; items only on the
    account take their best token of any row. Rows without ids join the one
    item with ids that has their title and year, or form an item of their
    own.
    """
    edges = _edges(signatures)
    labels = _components(edges)
    ranked = edges.join(labels, on="_sig").sort("_rank", "_token")
    best_any = ranked.group_by("_label").agg(pl.col("_token").first().alias("_any"))
    best_source = (
        ranked.filter(pl.col("_source"))
        .group_by("_label")
        .agg(pl.col("_token").first().alias("_best"))
    )
    keyed = (
        labels.join(best_any, on="_label")
        .join(best_source, on="_label", how="left")
        .select("_sig", pl.coalesce("_best", "_any").alias("item_key"))
    )
    with_keys = signatures.select("_sig", "_family", "_title").join(
        keyed, on="_sig", how="left"
    )
    by_title = (
        with_keys.filter(pl.col("item_key").is_not_null())
        .group_by("_family", "_title")
        .agg(pl.col("item_key").unique())
        .filter(pl.col("item_key").list.len() == 1)
        .select("_family", "_title", pl.col("item_key").list.first().alias("_by_title"))
    )
    own = pl.format("{}:title:{}", "_family", "_title")
    return with_keys.join(by_title, on=["_family", "_title"], how="left").select(
        "_sig", pl.coalesce("item_key", "_by_title", own).alias("item_key")
    )


def assign_item_keys(
    source: pl.DataFrame, remote: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Add `item_id` to both frames so rows of one item share it.

    `source` must have `_order`, its row numbers 0..n-1. Returns the two
    frames and a table of `item_id` -> `item_key`; ids are numbered in key
    order. The key is the highest-priority id token of the item's source
    rows (simkl, then imdb, tmdb, tvdb...), so it does not change when the
    account's rows join the item.
    """
    remote = remote.with_row_index("_order").with_columns(
        pl.col("_order").cast(pl.Int64)
    )
    signatures = pl.concat([_signatures(source, True), _signatures(remote, False)])
    signatures = signatures.with_row_index("_sig").with_columns(
        pl.col("_sig").cast(pl.Int64)
    )
    signatures = signatures.join(_keys_of_signatures(signatures), on="_sig")
    items = (
        signatures.select("item_key")
        .unique()
        .sort("item_key")
        .with_row_index("item_id")
    ).with_columns(pl.col("item_id").cast(pl.Int64))
    signatures = signatures.join(items, on="item_key")

    def keyed(frame: pl.DataFrame, from_source: bool) -> pl.DataFrame:
        pairs = (
            signatures.filter(pl.col("_source") == from_source)
            .select("item_id", "_order")
            .explode("_order")
            .sort("_order")
        )
        return frame.with_columns(pairs["item_id"].alias("item_id"))

    return keyed(source, True), keyed(remote, False).drop("_order"), items


# A numbered episode's unit code packs the item, season and episode into one
# integer; these bounds keep the fields apart. Validation rejects numbers
# outside them.
MAX_SEASON = 0xFFFF
MAX_EPISODE = 0xFFFF


def film_like() -> pl.Expr:
    """Return true for rows that are one viewing of a whole item.

    Movies, and anime without any episode reference: an anime film.
    """
    unplaced = pl.all_horizontal(
        [
            pl.col(c).is_null()
            for c in ("season", "episode", "episode_abs", *EPISODE_ID_COLUMNS)
        ]
    )
    return (pl.col("media_type") == "movie") | (
        (pl.col("media_type") == "anime") & unplaced
    )


def _unit_code() -> pl.Expr:
    """Return a unit's integer code: the movie, or the item's season and episode.

    Episodes placed only by an episode-level id get null here and a code
    of their own in `assign_unit_ids`.
    """
    numbered = pl.col("season").is_between(0, MAX_SEASON) & pl.col(
        "episode"
    ).is_between(1, MAX_EPISODE)
    item = pl.col("item_id").cast(pl.Int64) * (1 << 32)
    return (
        pl.when(film_like())
        .then(item)
        .when(numbered)
        .then(
            item
            + pl.col("season").cast(pl.Int64) * (1 << 16)
            + pl.col("episode").cast(pl.Int64)
        )
        .otherwise(None)
    )


def _episode_id_token() -> pl.Expr:
    """Return "ep_tvdb:123" from the first episode-level id, else "abs:27"."""
    return pl.coalesce(
        [
            pl.when(pl.col(name).is_not_null()).then(
                pl.format("{}:{}", pl.lit(name), pl.col(name).cast(pl.String))
            )
            for name in (*EPISODE_ID_COLUMNS, "episode_abs")
        ]
    ).str.replace("^episode_abs:", "abs:")


def assign_unit_ids(
    source: pl.DataFrame, remote: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add `unit_id` to both frames: the same movie or episode, the same id.

    A unit is the movie, or one episode: by season and number when the
    episode number is at least 1, otherwise by its first episode-level id,
    otherwise by its absolute number.
    Ids of numbered units are codes of item, season and episode; episodes
    known only by an episode-level id get negative ids.
    """
    source = source.with_columns(_unit_code().alias("unit_id"))
    remote = remote.with_columns(_unit_code().alias("unit_id"))
    by_id = pl.col("unit_id").is_null()
    tokens = (
        pl.concat(
            [
                frame.filter(by_id).select(
                    "item_id", _episode_id_token().alias("_token")
                )
                for frame in (source, remote)
            ]
        )
        .unique()
        .sort("item_id", "_token")
        .with_row_index("_code")
    )
    # Negative ids that still ascend in (item, token) order.
    tokens = tokens.select(
        "item_id",
        "_token",
        (pl.col("_code").cast(pl.Int64) - tokens.height).alias("_by_id"),
    )

    def keyed(frame: pl.DataFrame) -> pl.DataFrame:
        if tokens.height == 0:
            return frame
        return (
            frame.with_columns(pl.when(by_id).then(_episode_id_token()).alias("_token"))
            .join(tokens, on=["item_id", "_token"], how="left", maintain_order="left")
            .with_columns(pl.coalesce("unit_id", "_by_id").alias("unit_id"))
            .drop("_token", "_by_id")
        )

    return keyed(source), keyed(remote)


def unit_key() -> pl.Expr:
    """Return the readable unit key of rows that have `item_key`."""
    return (
        pl.when(film_like())
        .then(pl.col("item_key"))
        .when(pl.col("unit_id") >= 0)
        .then(
            pl.format(
                "{}|s{}e{}", pl.col("item_key"), pl.col("season"), pl.col("episode")
            )
        )
        .otherwise(pl.format("{}|{}", pl.col("item_key"), _episode_id_token()))
    )
