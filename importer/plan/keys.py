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

The work is done once per distinct combination of ids, not per row, and
rows get integer ids (`item_id`, `unit_id`) so that later steps sort and
group on integers; the readable keys are joined back only where needed.
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


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, token: str) -> str:
        root = token
        while (parent := self.parent.setdefault(root, root)) != root:
            root = parent
        while token != root:
            token, self.parent[token] = self.parent[token], root
        return root

    def union(self, tokens: list[str]) -> None:
        first = self.find(tokens[0])
        for token in tokens[1:]:
            root = self.find(token)
            if root != first:
                self.parent[root] = first


def _tokens(row: dict[str, object]) -> list[str]:
    family = row["_family"]
    return [f"{family}:{name}:{row[name]}" for name in ID_PRIORITY if row[name] is not None]


def _rank(token: str) -> tuple[int, str]:
    return (ID_PRIORITY.index(token.split(":", 2)[1]), token)


def _signatures(frame: pl.DataFrame, from_source: bool) -> pl.DataFrame:
    """Return each distinct id combination once, with the rows that have it."""
    return (
        frame.select(_family(), *ID_PRIORITY, _title(), "_order")
        .group_by(_SIGNATURE)
        .agg(pl.col("_order"))
        .with_columns(pl.lit(from_source).alias("_source"))
    )


def _keys_of_signatures(signatures: pl.DataFrame) -> list[str]:
    """Return the item key of every signature row, in order."""
    rows = signatures.to_dicts()
    union = _UnionFind()
    tokens = [_tokens(row) for row in rows]
    for row_tokens in tokens:
        if row_tokens:
            union.union(row_tokens)

    # The key of an item is its best id token found in source rows, so that
    # it stays the same when the account's rows join the item. Items only
    # on the account take their best token of any row.
    best_source: dict[str, str] = {}
    best_any: dict[str, str] = {}
    for row, row_tokens in zip(rows, tokens, strict=True):
        if not row_tokens:
            continue
        root = union.find(row_tokens[0])
        token = min(row_tokens, key=_rank)
        if root not in best_any or _rank(token) < _rank(best_any[root]):
            best_any[root] = token
        if row["_source"] and (root not in best_source or _rank(token) < _rank(best_source[root])):
            best_source[root] = token
    keys: list[str | None] = []
    for row_tokens in tokens:
        if not row_tokens:
            keys.append(None)
            continue
        root = union.find(row_tokens[0])
        keys.append(best_source.get(root) or best_any[root])
    return _keys_for_titles(rows, keys)


def _keys_for_titles(rows: list[dict[str, object]], keys: list[str | None]) -> list[str]:
    """Give rows without ids the one item with ids that has their title and year."""
    by_title: dict[tuple[object, object], set[str]] = {}
    for row, key in zip(rows, keys, strict=True):
        if key is not None:
            by_title.setdefault((row["_family"], row["_title"]), set()).add(key)
    result = []
    for row, key in zip(rows, keys, strict=True):
        if key is None:
            matches = by_title.get((row["_family"], row["_title"]), set())
            key = next(iter(matches)) if len(matches) == 1 else f"{row['_family']}:title:{row['_title']}"
        result.append(key)
    return result


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
    remote = remote.with_row_index("_order").with_columns(pl.col("_order").cast(pl.Int64))
    signatures = pl.concat([_signatures(source, True), _signatures(remote, False)]).sort(
        [*_SIGNATURE, "_source"], nulls_last=True
    )
    keys = _keys_of_signatures(signatures.drop("_order"))
    signatures = signatures.with_columns(pl.Series("item_key", keys, dtype=pl.String))
    items = (
        signatures.select("item_key").unique().sort("item_key").with_row_index("item_id")
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
        [pl.col(c).is_null() for c in ("season", "episode", "episode_abs", *EPISODE_ID_COLUMNS)]
    )
    return (pl.col("media_type") == "movie") | ((pl.col("media_type") == "anime") & unplaced)


def _unit_code() -> pl.Expr:
    """Return a unit's integer code: the movie, or the item's season and episode.

    Episodes placed only by an episode-level id get null here and a code
    of their own in `assign_unit_ids`.
    """
    numbered = (
        pl.col("season").is_between(0, MAX_SEASON)
        & pl.col("episode").is_between(1, MAX_EPISODE)
    )
    item = pl.col("item_id").cast(pl.Int64) * (1 << 32)
    return (
        pl.when(film_like())
        .then(item)
        .when(numbered)
        .then(item + pl.col("season").cast(pl.Int64) * (1 << 16) + pl.col("episode").cast(pl.Int64))
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
                frame.filter(by_id).select("item_id", _episode_id_token().alias("_token"))
                for frame in (source, remote)
            ]
        )
        .unique()
        .sort("item_id", "_token")
        .with_row_index("_code")
        .select("item_id", "_token", (-1 - pl.col("_code").cast(pl.Int64)).alias("_by_id"))
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
        .then(pl.format("{}|s{}e{}", pl.col("item_key"), pl.col("season"), pl.col("episode")))
        .otherwise(pl.format("{}|{}", pl.col("item_key"), _episode_id_token()))
    )
