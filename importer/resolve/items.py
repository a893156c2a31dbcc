"""Source items: the rows of one movie or show, and the key that names them.

An item key is built from the source's own identity of the item, never from
a Simkl response: the namespace and value of its external ids, or the
source, title, year, type and Letterboxd slug. Cache entries and overrides
refer to items by this key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from importer.resolve.titles import letterboxd_slug, normalize_title

# Item-level ids that `/search/id` accepts, in the order they are tried.
SEARCH_ID_KEYS = ("imdb", "tmdb", "tvdb", "mal", "anidb", "anilist", "kitsu")
# Episode-level id columns and the `/search/id` key each one is sent as.
EPISODE_ID_KEYS = {"ep_imdb": "imdb", "ep_tvdb": "tvdb"}

KIND_SIMKL = "simkl"
KIND_IDS = "ids"
KIND_EPISODE_IDS = "episode_ids"
KIND_TITLE = "title"
KIND_NONE = "none"

Row = dict[str, Any]


@dataclass(frozen=True)
class Item:
    """The facts of one source item that the resolver uses, taken from its first row."""

    key: str
    kind: str
    source: str | None
    media_type: str | None
    title: str | None
    year: int | None
    ids: tuple[tuple[str, Any], ...] = ()
    slug: str | None = None
    simkl: int | None = None


def _present(value: object) -> bool:
    return value is not None and value != "" and value != 0


def _has_episode_data(row: Row) -> bool:
    episode_ids = ("ep_tvdb", "ep_imdb", "ep_tmdb", "ep_trakt")
    return (
        row.get("season") is not None
        or row.get("episode") is not None
        or row.get("episode_abs") is not None
        or any(_present(row.get(column)) for column in episode_ids)
    )


def correct_media_type(row: Row) -> None:
    """Set a "movie" row with episode numbers or episode ids to "show".

    Only the row's own columns decide. A search result never changes the
    type of a row.
    """
    if row.get("media_type") in (None, "movie") and _has_episode_data(row):
        row["media_type"] = "show"


def fill_letterboxd_slugs(rows: list[Row]) -> None:
    """Fill `letterboxd` from long film links and from sibling rows.

    A diary or review row of a recent export links to the viewing, so its
    film is found through rows of the same source with the same title and
    year that do carry a slug (watched.csv, ratings.csv, lists).
    """
    for row in rows:
        if not row.get("letterboxd"):
            row["letterboxd"] = letterboxd_slug(row.get("link"))

    slugs: dict[tuple[Any, str, Any], set[str]] = defaultdict(set)
    for row in rows:
        if row.get("letterboxd") and row.get("media_type") in (None, "movie"):
            slugs[_film_key(row)].add(row["letterboxd"])

    for row in rows:
        if row.get("letterboxd") or row.get("media_type") not in (None, "movie"):
            continue
        found = slugs.get(_film_key(row), set())
        if len(found) == 1:
            row["letterboxd"] = next(iter(found))


def _film_key(row: Row) -> tuple[Any, str, Any]:
    return (row.get("source"), normalize_title(row.get("title")), row.get("year"))


def item_for_row(row: Row) -> Item:
    """Return the item a row belongs to, with its key."""
    media_type = row.get("media_type")
    if _present(row.get("simkl")):
        key = f"simkl|{media_type}|{row['simkl']}"
        return _item(row, key, KIND_SIMKL, simkl=int(row["simkl"]))

    ids = tuple((k, row[k]) for k in SEARCH_ID_KEYS if _present(row.get(k)))
    if ids:
        key = f"ids|{media_type}|" + ",".join(f"{k}={v}" for k, v in ids)
        return _item(row, key, KIND_IDS, ids=ids)

    episode_ids = tuple(
        (column, row[column]) for column in EPISODE_ID_KEYS if _present(row.get(column))
    )
    if episode_ids and (row.get("season") is None or not row.get("title")):
        key = "episode_ids|" + ",".join(f"{k}={v}" for k, v in episode_ids)
        return _item(row, key, KIND_EPISODE_IDS, ids=episode_ids)

    if row.get("title"):
        slug = row.get("letterboxd")
        key = "|".join(
            [
                "title",
                str(row.get("source") or ""),
                str(media_type or ""),
                normalize_title(row["title"]),
                "" if row.get("year") is None else str(row["year"]),
                slug or "",
            ]
        )
        return _item(row, key, KIND_TITLE, slug=slug)

    key = f"none|{row.get('source_file')}|{row.get('source_row')}"
    return _item(row, key, KIND_NONE)


def _item(
    row: Row,
    key: str,
    kind: str,
    *,
    ids: tuple[tuple[str, Any], ...] = (),
    slug: str | None = None,
    simkl: int | None = None,
) -> Item:
    return Item(
        key=key,
        kind=kind,
        source=row.get("source"),
        media_type=row.get("media_type"),
        title=row.get("title"),
        year=row.get("year"),
        ids=ids,
        slug=slug,
        simkl=simkl,
    )
