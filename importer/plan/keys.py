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
"""

from __future__ import annotations

import polars as pl

from importer.events import EPISODE_ID_COLUMNS, ITEM_ID_COLUMNS

ID_PRIORITY = tuple(ITEM_ID_COLUMNS)


def _family() -> pl.Expr:
    return pl.when(pl.col("media_type") == "movie").then(pl.lit("movie")).otherwise(pl.lit("tv"))


def _id_tokens() -> pl.Expr:
    """Build the list of "family:namespace:value" tokens of a row's ids."""
    tokens = [
        pl.when(pl.col(name).is_not_null())
        .then(pl.format("{}:{}:{}", _family(), pl.lit(name), pl.col(name).cast(pl.String)))
        for name in ID_PRIORITY
    ]
    return pl.concat_list(tokens).list.drop_nulls()


def _title_token() -> pl.Expr:
    title = pl.col("title").str.to_lowercase().str.strip_chars().fill_null("")
    year = pl.col("year").cast(pl.String).fill_null("")
    return pl.format("{}:title:{}|{}", _family(), title, year)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, token: str) -> str:
        parent = self.parent.setdefault(token, token)
        if parent == token:
            return token
        root = self.find(parent)
        self.parent[token] = root
        return root

    def union(self, tokens: list[str]) -> None:
        roots = [self.find(t) for t in tokens]
        first = roots[0]
        for root in roots[1:]:
            if root != first:
                self.parent[root] = first


def _token_rank(token: str) -> tuple[int, str]:
    namespace = token.split(":", 2)[1]
    return (ID_PRIORITY.index(namespace), token)


def assign_item_keys(source: pl.DataFrame, remote: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add `item_key` to both frames so rows of one item share it.

    The key is the highest-priority id token found in the item's source
    rows (simkl, then imdb, tmdb, tvdb...), so it does not change when the
    account's rows join the item. Remote rows of items absent from the
    source get a key of their own.
    """
    source = source.with_columns(_id_tokens().alias("_tokens"), _title_token().alias("_title"))
    remote = remote.with_columns(_id_tokens().alias("_tokens"), _title_token().alias("_title"))

    signatures = pl.concat(
        [
            source.select("_tokens", pl.lit(True).alias("_source")),
            remote.select("_tokens", pl.lit(False).alias("_source")),
        ]
    ).filter(pl.col("_tokens").list.len() > 0)
    signatures = signatures.group_by("_tokens").agg(pl.col("_source").any())

    union = _UnionFind()
    for tokens in signatures["_tokens"].to_list():
        union.union(tokens)

    best: dict[str, str] = {}
    for tokens, from_source in signatures.iter_rows():
        root = union.find(tokens[0])
        candidates = tokens if from_source else []
        for token in candidates:
            current = best.get(root)
            if current is None or _token_rank(token) < _token_rank(current):
                best[root] = token
        if root not in best and not from_source:
            best.setdefault(root, min(tokens, key=_token_rank))

    def key_of(tokens: list[str]) -> str | None:
        if not tokens:
            return None
        return best[union.find(tokens[0])]

    lookup = {tuple(t): key_of(t) for t in signatures["_tokens"].to_list()}
    remote = _apply_keys(remote, None, lookup)
    source = _apply_keys(source, remote, lookup)
    return source.drop("_tokens", "_title"), remote.drop("_tokens", "_title")


def _apply_keys(
    frame: pl.DataFrame,
    remote: pl.DataFrame | None,
    lookup: dict[tuple[str, ...], str | None],
) -> pl.DataFrame:
    signature_keys = pl.DataFrame(
        {
            "_tokens": [list(k) for k in lookup],
            "item_key": [v for v in lookup.values()],
        },
        schema={"_tokens": pl.List(pl.String), "item_key": pl.String},
    )
    frame = frame.join(signature_keys, on="_tokens", how="left", nulls_equal=True)
    if remote is None:
        return frame.with_columns(pl.col("item_key").fill_null(pl.col("_title")))

    # Rows without ids join the one item with ids that has their title and
    # year; with none or several such items they form an item of their own.
    with_ids = pl.concat(
        [
            frame.filter(pl.col("item_key").is_not_null()).select("_title", "item_key"),
            remote.select("_title", "item_key"),
        ]
    )
    unique_titles = (
        with_ids.unique()
        .group_by("_title")
        .agg(pl.col("item_key").first(), pl.len().alias("_n"))
        .filter(pl.col("_n") == 1)
        .select("_title", pl.col("item_key").alias("_by_title"))
    )
    frame = frame.join(unique_titles, on="_title", how="left")
    return frame.with_columns(
        pl.coalesce("item_key", "_by_title", "_title").alias("item_key")
    ).drop("_by_title")


def unit_key() -> pl.Expr:
    """Return the expression of the unit key: the movie, or one episode."""
    numbered = (
        pl.col("season").is_not_null() & pl.col("episode").is_not_null() & (pl.col("episode") >= 1)
    )
    by_number = pl.format("{}|s{}e{}", pl.col("item_key"), pl.col("season"), pl.col("episode"))
    by_id = pl.coalesce(
        [
            pl.when(pl.col(name).is_not_null()).then(
                pl.format("{}|{}:{}", pl.col("item_key"), pl.lit(name), pl.col(name).cast(pl.String))
            )
            for name in EPISODE_ID_COLUMNS
        ]
    )
    return (
        pl.when(pl.col("media_type") == "movie")
        .then(pl.col("item_key"))
        .when(numbered)
        .then(by_number)
        .otherwise(by_id)
    )
