"""Read what a Simkl account stores into the remote frame (REMOTE_SCHEMA).

One GET /sync/all-items with `allow_rewatch=yes`, `extended=full` and
`episode_watched_at=yes` returns every item of the account once as its
canonical row and once more per rewatch session. This module flattens that
into one row per stored viewing: a movie, or one episode of a show or anime.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import polars as pl

from importer.client import SimklClient
from importer.events import ITEM_ID_COLUMNS, conform_remote, empty_remote

logger = logging.getLogger(__name__)

# Response list key -> (media_type, key of the item object inside an entry).
SECTIONS = {
    "movies": ("movie", "movie"),
    "shows": ("show", "show"),
    "anime": ("anime", "show"),
}

# Simkl's "watched, date unknown" instant.
UNKNOWN_DATE_SENTINEL = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)

# Id keys in Simkl responses whose events-frame column has another name.
ID_KEY_ALIASES = {"traktslug": "trakt_slug"}

EPISODE_ID_KEYS = {"tvdb": "ep_tvdb", "imdb": "ep_imdb", "tmdb": "ep_tmdb"}


def read_account(client: SimklClient) -> pl.DataFrame:
    """Read every stored viewing of the account into a REMOTE_SCHEMA frame."""
    body = client.all_items(
        extended="full", episode_watched_at=True, allow_rewatch=True
    )
    frame = remote_frame(body)
    logger.info("read %d stored viewings from the account", frame.height)
    return frame


def remote_frame(body: Mapping[str, Any] | None) -> pl.DataFrame:
    """Flatten a /sync/all-items response into a REMOTE_SCHEMA frame."""
    rows = list(_rows(body or {}))
    if not rows:
        return empty_remote()
    return conform_remote(pl.DataFrame(rows, infer_schema_length=None))


def _rows(body: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for section, (section_type, object_key) in SECTIONS.items():
        for entry in body.get(section) or []:
            if not isinstance(entry, dict):
                continue
            media_type = section_type
            if entry.get("anime_type") == "movie":
                # Simkl files anime films under anime; exports list them as
                # movies, so they are read as movies to match by id.
                media_type = "movie"
            base = _item_fields(entry, media_type, object_key)
            if media_type == "movie":
                yield from _movie_rows(entry, base)
            else:
                yield from _episode_rows(entry, base)


def _item_fields(entry: dict[str, Any], media_type: str, object_key: str) -> dict:
    item = entry.get(object_key) or {}
    is_rewatch = bool(entry.get("is_rewatch"))
    fields: dict[str, Any] = {
        "source": "simkl",
        "record": "watch",
        "media_type": media_type,
        "title": item.get("title"),
        "year": _to_int(item.get("year")),
        **parse_ids(item.get("ids") or {}),
        "is_rewatch": is_rewatch,
        "rewatch_id": _to_int(entry.get("rewatch_id")) if is_rewatch else None,
        "session_status": entry.get("rewatch_status") if is_rewatch else None,
        "aired_episodes": _aired(entry),
    }
    return fields


def _movie_rows(entry: dict[str, Any], base: dict) -> Iterator[dict[str, Any]]:
    watched_at = parse_instant(entry.get("last_watched_at"))
    # A movie on the plan-to-watch list has no viewing, unless it is a session.
    if watched_at is None and not base["is_rewatch"]:
        return
    yield {**base, **_when(watched_at)}


def _episode_rows(entry: dict[str, Any], base: dict) -> Iterator[dict[str, Any]]:
    found = False
    for season in entry.get("seasons") or []:
        season_number = _to_int(season.get("number"))
        for episode in season.get("episodes") or []:
            found = True
            yield {
                **base,
                "season": season_number,
                "episode": _to_int(episode.get("number")),
                **_episode_ids(episode.get("ids") or {}),
                **_when(parse_instant(episode.get("watched_at"))),
            }
    if found:
        return
    if base["is_rewatch"]:
        # A session without episodes still counts toward the 50-session cap
        # and may be the active one, so it stays visible as one row.
        yield {**base, **_when(parse_instant(entry.get("last_watched_at")))}


def _when(watched_at: datetime | None) -> dict[str, Any]:
    note = "sentinel" if watched_at == UNKNOWN_DATE_SENTINEL else None
    return {"watched_at": watched_at, "date_note": note}


def parse_ids(ids: Mapping[str, Any]) -> dict[str, Any]:
    """Map Simkl `ids` onto events-frame id columns, as ints where numeric.

    Simkl often returns numeric ids as strings ("tmdb": "1771"); a value
    that is not a number in an integer column (a TVDB slug) is dropped.
    """
    parsed: dict[str, Any] = {}
    for key, value in ids.items():
        column = ID_KEY_ALIASES.get(key, key)
        if column not in ITEM_ID_COLUMNS or value in (None, ""):
            continue
        if ITEM_ID_COLUMNS[column] == pl.Int64():
            number = _to_int(value)
            if number is not None:
                parsed[column] = number
        else:
            parsed[column] = str(value)
    return parsed


def _episode_ids(ids: Mapping[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, column in EPISODE_ID_KEYS.items():
        value = ids.get(key)
        if value in (None, ""):
            continue
        parsed[column] = str(value) if column == "ep_imdb" else _to_int(value)
    return parsed


def _aired(entry: Mapping[str, Any]) -> int | None:
    """Return the aired episode count, or None when Simkl does not know it.

    A total of 0 means unknown (an item with no episode list yet), not a
    show with nothing aired; treating it as 0 would complete every session
    after its first episode.
    """
    total = _to_int(entry.get("total_episodes_count"))
    if not total:
        return None
    not_aired = _to_int(entry.get("not_aired_episodes_count")) or 0
    return max(total - not_aired, 0)


def parse_instant(value: object) -> datetime | None:
    """Parse a Simkl ISO-8601 timestamp to UTC with whole seconds."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        logger.warning("invalid timestamp %r in the account data, ignored", value)
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)


def _to_int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None
