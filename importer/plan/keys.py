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

import numpy as np
import polars as pl

from importer.events import EPISODE_ID_COLUMNS, ITEM_ID_COLUMNS
from importer.plan.columns import null_counts

ID_PRIORITY = tuple(ITEM_ID_COLUMNS)
_SIGNATURE = ["_family", *ID_PRIORITY, "title", "year"]


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


def _signatures(
    frame: pl.DataFrame, from_source: bool, with_titles: bool
) -> pl.DataFrame:
    """Return each distinct id combination once, with the rows that have it.

    Rows are grouped on the raw columns first, and the family is then
    computed once per group, not once per row. Without `with_titles` the
    title and year are left out of the grouping and come back null.
    """
    nulls = null_counts(frame, ID_PRIORITY)
    present = [name for name in ID_PRIORITY if nulls[name] < frame.height]
    titles = ["title", "year"] if with_titles else []
    grouped = (
        frame.select("media_type", *present, *titles, "_order")
        .group_by(["media_type", *present, *titles])
        .agg(pl.col("_order"))
    )
    # Columns that were null throughout come back as nulls, in schema order.
    missing = [
        pl.lit(None, dtype=frame.schema[name]).alias(name)
        for name in (*ID_PRIORITY, "title", "year")
        if name not in present and name not in titles
    ]
    return grouped.with_columns(
        _family(), *missing, pl.lit(from_source).alias("_source")
    ).select(*_SIGNATURE, "_order", "_source")


def _token(name: str) -> pl.Expr:
    """Return the id token of column `name`, e.g. "tv:tvdb:81234"."""
    return pl.concat_str(
        pl.col("_family"), pl.lit(f":{name}:"), pl.col(name).cast(pl.String)
    )


def _edges(signatures: pl.DataFrame) -> pl.DataFrame:
    """Return one row per (signature, id token), with the token's priority."""
    parts = []
    for rank, name in enumerate(ID_PRIORITY):
        rows = signatures.filter(pl.col(name).is_not_null())
        if rows.height == 0:
            continue
        parts.append(
            rows.select("_sig", "_source", _token(name).alias("_token")).with_columns(
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
    labels = edges.select("_sig").unique().with_columns(pl.col("_sig").alias("_label"))
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
            return labels


def _present_ids(signatures: pl.DataFrame) -> list[str]:
    return [
        name
        for name in ID_PRIORITY
        if signatures[name].null_count() < signatures.height
    ]


def _own_key(present: list[str]) -> pl.Expr:
    """Return a signature's best id token: the one of its highest-priority id.

    Tokens of one signature differ in rank, so this is the smallest
    (rank, token) among the signature's own tokens.
    """
    tokens = [_token(name) for name in present]
    return pl.coalesce(tokens) if tokens else pl.lit(None, dtype=pl.String)


def _shares_an_id(present: list[str]) -> pl.Expr:
    """Return true for signatures with an id token that another one also has."""
    shared = [
        pl.col(name).is_not_null() & pl.struct("_family", name).is_duplicated()
        for name in present
    ]
    return pl.any_horizontal(shared) if shared else pl.lit(False)


def _merged_keys(signatures: pl.DataFrame) -> pl.DataFrame:
    """Return `_sig` -> `item_key` for signatures that share ids with others.

    The key of an item is its best id token found in source rows, so that it
    stays the same when the account's rows join the item; items only on the
    account take their best token of any row.
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
    return (
        labels.join(best_any, on="_label")
        .join(best_source, on="_label", how="left")
        .select("_sig", pl.coalesce("_best", "_any").alias("_merged"))
    )


def _keys_by_title(keys: pl.DataFrame) -> pl.Series:
    """Return every signature's key, filling those without ids by title and year.

    A signature without ids joins the one item with ids that has its family,
    title and year, or forms an item of its own.
    """
    title = ["_family", "_title"]
    if keys["item_key"].null_count() == 0:
        return keys["item_key"]
    keys = keys.with_columns(_title())
    keyless = keys.filter(pl.col("item_key").is_null())
    by_title = (
        keys.filter(pl.col("item_key").is_not_null())
        .join(keyless.select(title).unique(), on=title, how="semi")
        .group_by(title)
        .agg(pl.col("item_key").unique())
        .filter(pl.col("item_key").list.len() == 1)
        .select(*title, pl.col("item_key").list.first().alias("_by_title"))
    )
    own = pl.format("{}:title:{}", "_family", "_title")
    return keys.join(by_title, on=title, how="left", maintain_order="left").select(
        pl.coalesce("item_key", "_by_title", own).alias("item_key")
    )["item_key"]


def _keys_of_signatures(signatures: pl.DataFrame) -> pl.Series:
    """Return the `item_key` of every signature, in the order of `signatures`.

    Only signatures that share an id with another one go through the
    connected components. Every other signature is an item of its own and
    takes its own best token.
    """
    present = _present_ids(signatures)
    keys = signatures.select(
        "_sig",
        "_family",
        "title",
        "year",
        _own_key(present).alias("item_key"),
        _shares_an_id(present).alias("_shares"),
    )
    sharing = signatures.filter(keys["_shares"])
    if sharing.height:
        merged = _merged_keys(sharing)
        keys = keys.join(merged, on="_sig", how="left", maintain_order="left")
        keys = keys.with_columns(pl.coalesce("_merged", "item_key").alias("item_key"))
    return _keys_by_title(keys)


def _has_row_without_ids(frame: pl.DataFrame) -> bool:
    if 0 in null_counts(frame, ID_PRIORITY).values():
        return False
    no_ids = pl.all_horizontal(pl.col(name).is_null() for name in ID_PRIORITY)
    return bool(frame.select(no_ids.any()).item())


def assign_item_keys(
    source: pl.DataFrame, remote: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Add `item_id` to both frames so rows of one item share it.

    `source` must have `_order`, its row numbers 0..n-1. Returns the two
    frames and a table of `item_id` -> `item_key`; ids are numbered in key
    order from 0. The key is the highest-priority id token of the item's
    source rows (simkl, then imdb, tmdb, tvdb...), so it does not change
    when the account's rows join the item.
    """
    remote = remote.with_row_index("_order").with_columns(
        pl.col("_order").cast(pl.Int64)
    )
    # Titles only key rows without ids, so they are grouped on only when some
    # row of either frame has no id.
    with_titles = _has_row_without_ids(source) or _has_row_without_ids(remote)
    signatures = pl.concat(
        [
            _signatures(source, True, with_titles),
            _signatures(remote, False, with_titles),
        ]
    )
    signatures = signatures.with_row_index("_sig").with_columns(
        pl.col("_sig").cast(pl.Int64)
    )
    item_keys = _keys_of_signatures(signatures)
    signatures = signatures.select(
        "_source",
        "_order",
        (item_keys.rank("dense").cast(pl.Int64) - 1).alias("item_id"),
    )
    items = signatures.select("item_id", item_keys).unique("item_id").sort("item_id")

    def keyed(frame: pl.DataFrame, from_source: bool) -> pl.DataFrame:
        # Every row is in exactly one signature, so the scatter fills all.
        pairs = (
            signatures.filter(pl.col("_source") == from_source)
            .select("item_id", "_order")
            .explode("_order")
        )
        item_ids = np.empty(frame.height, dtype=np.int64)
        item_ids[pairs["_order"].to_numpy()] = pairs["item_id"].to_numpy()
        return frame.with_columns(pl.Series("item_id", item_ids))

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
    prefixes = {**{name: name for name in EPISODE_ID_COLUMNS}, "episode_abs": "abs"}
    return pl.coalesce(
        [
            pl.concat_str(pl.lit(f"{prefix}:"), pl.col(name).cast(pl.String))
            for name, prefix in prefixes.items()
        ]
    )


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
