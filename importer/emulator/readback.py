"""Read endpoints: `/sync/all-items`, `/sync/activities` and the catalog ones.

Row shapes follow Simkl's: `ids.simkl` is an integer and external ids are
strings; seasons appear only with `extended=full`, per-episode `watched_at`
only with `episode_watched_at=yes` as well. With `allow_rewatch=yes` each
rewatch session adds one row beside the item's canonical row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from importer.emulator.account import (
    MOVIE_UNIT,
    Account,
    ItemState,
    Session,
    Unit,
    format_stamp,
    format_time,
)
from importer.emulator.catalog import Catalog, CatalogItem, fold_title

TYPE_PATHS = {"movies": "movie", "shows": "show", "anime": "anime"}
BUCKET_BY_KIND = {"movie": "movies", "show": "shows", "anime": "anime"}
ACTIVITY_KEYS = {
    "movies": (
        "all",
        "rated_at",
        "playback",
        "plantowatch",
        "completed",
        "dropped",
        "removed_from_list",
    ),
    "tv_shows": (
        "all",
        "rated_at",
        "playback",
        "plantowatch",
        "watching",
        "completed",
        "hold",
        "dropped",
        "removed_from_list",
    ),
}
ACTIVITY_KEYS["anime"] = ACTIVITY_KEYS["tv_shows"]


@dataclass(frozen=True)
class ReadOptions:
    """Query flags of an all-items read."""

    kind: str | None = None
    status: str | None = None
    date_from: datetime | None = None
    extended: str | None = None
    episode_watched_at: bool = False
    allow_rewatch: bool = False

    @property
    def full(self) -> bool:
        return self.extended in ("full", "full_anime_seasons")

    @property
    def ids_only(self) -> bool:
        return self.extended in ("ids_only", "simkl_ids_only")


def _episode_code(unit: Unit | None) -> str | None:
    if unit is None:
        return None
    return f"S{unit[0]:02d}E{unit[1]:02d}"


def _media(item: CatalogItem, options: ReadOptions) -> dict[str, Any]:
    ids = item.public_ids()
    if options.extended == "simkl_ids_only":
        return {"ids": {"simkl": item.simkl}}
    if options.ids_only:
        return {"ids": ids}
    return {
        "title": item.title,
        "poster": None,
        "year": item.year,
        "runtime": None,
        "ids": ids,
    }


def _seasons(events: dict[Unit, datetime], with_dates: bool) -> list[dict[str, Any]]:
    seasons: dict[int, list[dict[str, Any]]] = {}
    for unit in sorted(u for u in events if u != MOVIE_UNIT):
        episode: dict[str, Any] = {"number": unit[1]}
        if with_dates:
            episode["watched_at"] = format_time(events[unit])
        seasons.setdefault(unit[0], []).append(episode)
    return [{"number": n, "episodes": eps} for n, eps in seasons.items()]


def _next_to_watch(item: CatalogItem, events: dict[Unit, datetime]) -> Unit | None:
    return next((u for u in item.aired_episodes() if u not in events), None)


def _base_row(
    item: CatalogItem, state: ItemState, options: ReadOptions
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "added_to_watchlist_at": format_time(state.added_at),
        "last_watched_at": format_time(state.last_watched_at),
        "user_rated_at": format_time(state.rated_at),
        "user_rating": state.rating,
        "status": state.list_status,
    }
    if item.kind == "movie":
        row["movie"] = _media(item, options)
        return row
    if item.kind == "anime":
        row["anime_type"] = item.anime_type
    row["show"] = _media(item, options)
    return row


def _series_counts(
    item: CatalogItem, events: dict[Unit, datetime], row: dict[str, Any]
) -> None:
    watched = sorted(u for u in events if u != MOVIE_UNIT)
    row["last_watched"] = _episode_code(watched[-1] if watched else None)
    row["next_to_watch"] = _episode_code(_next_to_watch(item, events))
    row["watched_episodes_count"] = len(watched)
    row["total_episodes_count"] = max(item.total_episodes, 0)
    row["not_aired_episodes_count"] = item.not_aired_episodes


def canonical_row(
    item: CatalogItem, state: ItemState, options: ReadOptions
) -> dict[str, Any]:
    """Return the item's canonical row; it ignores every rewatch session."""
    row = _base_row(item, state, options)
    if item.kind != "movie":
        _series_counts(item, state.canonical, row)
        if options.full:
            row["seasons"] = _seasons(state.canonical, options.episode_watched_at)
    if options.allow_rewatch:
        row["is_rewatch"] = False
    return row


def session_row(
    item: CatalogItem, state: ItemState, session: Session, options: ReadOptions
) -> dict[str, Any]:
    """Return one rewatch session's row (summary only without extended=full)."""
    row = _base_row(item, state, options)
    row["last_watched_at"] = format_time(session.last_watched_at)
    row["is_rewatch"] = True
    row["rewatch_id"] = session.id
    row["rewatch_status"] = session.status
    if item.kind != "movie":
        _series_counts(item, session.events, row)
        if options.full:
            row["seasons"] = _seasons(session.events, options.episode_watched_at)
        else:
            # Simkl sends 0 as a sentinel when the session's episodes are not loaded.
            row["watched_episodes_count"] = 0
    return row


def all_items(
    account: Account, catalog: Catalog, options: ReadOptions
) -> dict[str, Any]:
    """Return the all-items body; an empty result is `{}`."""
    buckets: dict[str, list[dict[str, Any]]] = {}
    for state in account.items.values():
        item = catalog.by_simkl(state.simkl)
        if item is None or not _selected(state, options):
            continue
        rows = buckets.setdefault(BUCKET_BY_KIND[item.kind], [])
        rows.append(canonical_row(item, state, options))
        if options.allow_rewatch:
            rows.extend(session_row(item, state, s, options) for s in state.sessions)
    return buckets


def _selected(state: ItemState, options: ReadOptions) -> bool:
    if options.kind is not None and state.kind != options.kind:
        return False
    if options.status is not None and state.list_status != options.status:
        return False
    return options.date_from is None or state.updated_at > options.date_from


def activities(account: Account) -> dict[str, Any]:
    """Return the activities body: change timestamps, null where never changed."""
    body: dict[str, Any] = {
        "all": format_stamp(account.activities.get("all")),
        "settings": {"all": format_stamp(account.activities.get("settings.all"))},
    }
    for group, keys in ACTIVITY_KEYS.items():
        body[group] = {
            key: format_stamp(account.activities.get(f"{group}.{key}")) for key in keys
        }
    return body


# -- catalog endpoints ----------------------------------------------------

SEARCH_TYPES = {"movie": ("movie",), "tv": ("show",), "anime": ("anime",)}
ENDPOINT_TYPES = {"movie": "movies", "show": "tv", "anime": "anime"}


def lookup_result(item: CatalogItem) -> dict[str, Any]:
    """Return one `/search/id` result."""
    result: dict[str, Any] = {
        "type": item.simkl_type,
        "title": item.title,
        "poster": None,
        "year": item.year,
        "status": item.status,
        "ids": {"simkl": item.simkl, "slug": item.slug},
    }
    if item.kind != "movie":
        result["total_episodes"] = item.total_episodes
    return result


def search_result(item: CatalogItem, extended: bool) -> dict[str, Any]:
    """Return one `/search/{type}` result; note the `simkl_id` key."""
    ids: dict[str, Any] = {"simkl_id": item.simkl, "slug": item.slug}
    if "tmdb" in item.ids:
        ids["tmdb"] = item.ids["tmdb"]
    result: dict[str, Any] = {
        "title": item.title,
        "year": item.year,
        "type": item.simkl_type,
        "endpoint_type": ENDPOINT_TYPES[item.kind],
        "poster": None,
        "ids": ids,
    }
    if extended:
        result["all_titles"] = item.all_titles
        result["status"] = item.status
        result["url"] = f"/{ENDPOINT_TYPES[item.kind]}/{item.simkl}/{item.slug}"
        result["ep_count"] = item.total_episodes if item.kind != "movie" else None
    return result


def titles_matching(
    catalog: Catalog, title: str, year: int | None, kinds: tuple[str, ...]
) -> list[CatalogItem]:
    """Return items whose title or alternative title equals `title` exactly."""
    folded = fold_title(title)
    found = []
    for item in catalog.items.values():
        if item.kind not in kinds or (year is not None and item.year != year):
            continue
        if folded in {fold_title(t) for t in (item.title, *item.all_titles)}:
            found.append(item)
    return found


def episode_list(item: CatalogItem) -> list[dict[str, Any]]:
    """Return the episodes endpoint body: every catalog episode in order."""
    rows = []
    for (season, number), episode in sorted(item.episodes.items()):
        ids: dict[str, Any] = dict(episode.ids)
        simkl = ids.pop("simkl", None)
        if simkl is not None:
            ids = {"simkl_id": int(simkl), **ids}
        rows.append(
            {
                "title": episode.title or f"Episode {number}",
                "season": season,
                "episode": number,
                "absolute": episode.absolute,
                "type": "special" if season == 0 else "episode",
                "aired": episode.aired,
                "img": None,
                "date": episode.date,
                "ids": ids,
            }
        )
    return rows
