"""Turn the plan's writes into ordered `POST /sync/history` requests.

Requests are posted in rounds. Round 0 carries every canonical write and
needs no `allow_rewatch`. Round k (k >= 1) carries the k-th session that
the plan writes for every item, posted with `?allow_rewatch=yes`. Within a
round, different items share a request, and a session's writes go in time
order. A session whose writes do not fit in one request continues in the
next request of the same round, pinned to the `rewatch_id` that the
session's first request returned. The poster supplies that id through
`render_body`.

Because a new session is only opened when the item has no active session,
the last write of a session that the plan ends as "closed" or "completed"
sets that status explicitly (movie sessions start completed and need none).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import polars as pl

from importer.plan.rules import CLOSED, COMPLETED

DEFAULT_BATCH_SIZE = 100

# Events-frame id column -> key of `ids` in a Simkl request. Only keys that
# Simkl documents are sent; every id stays in its own namespace.
# NOTE: Simkl documents no numeric Trakt id key, so `trakt` and `ep_trakt`
# are not sent; the Trakt slug is sent as `traktslug`.
ITEM_ID_KEYS: dict[str, str] = {
    "simkl": "simkl",
    "imdb": "imdb",
    "tmdb": "tmdb",
    "tvdb": "tvdb",
    "mal": "mal",
    "anidb": "anidb",
    "anilist": "anilist",
    "kitsu": "kitsu",
    "trakt_slug": "traktslug",
    "letterboxd": "letterboxd",
}
EPISODE_ID_KEYS: dict[str, str] = {
    "ep_tvdb": "tvdb",
    "ep_imdb": "imdb",
    "ep_tmdb": "tmdb",
}

_ROW_COLUMNS = (
    "write_key",
    "item_key",
    "media_type",
    "title",
    "year",
    "season",
    "episode",
    "episode_abs",
    "watched_at",
    "session",
    "session_status",
    "rewatch_id",
    "round",
    *ITEM_ID_KEYS,
    *EPISODE_ID_KEYS,
)


class MissingRewatchId(KeyError):
    """A session continues from an earlier request whose rewatch_id is unknown."""


@dataclass(frozen=True)
class Viewing:
    """One write: a movie viewing, or one episode viewing of a show."""

    write_key: str
    watched_at: datetime
    season: int | None = None
    episode: int | None = None
    episode_ids: tuple[tuple[str, int | str], ...] = ()


@dataclass(frozen=True)
class Entry:
    """The writes of one item inside one request.

    `session_key` names the rewatch session the writes belong to (None in
    round 0). `rewatch_id` is the id of a session already on the account
    that the writes continue. `pinned` is true when the session was opened
    by an earlier request of this plan, so the writes must carry the
    rewatch_id that request returned. `rewatch_status` is set on the entry
    that contains the last write of a session that ends closed or completed.
    """

    item_key: str
    section: str
    title: str | None
    year: int | None
    ids: tuple[tuple[str, int | str], ...]
    viewings: tuple[Viewing, ...]
    session_key: str | None = None
    rewatch_id: int | None = None
    pinned: bool = False
    rewatch_status: str | None = None


@dataclass(frozen=True)
class Request:
    """One `POST /sync/history`: its position, round and item entries."""

    index: int
    round: int
    entries: tuple[Entry, ...]

    @property
    def allow_rewatch(self) -> bool:
        return self.round > 0

    @property
    def write_keys(self) -> list[str]:
        return [v.write_key for e in self.entries for v in e.viewings]

    @property
    def size(self) -> int:
        return sum(len(e.viewings) for e in self.entries)


def session_key(item_key: str, session: int) -> str:
    """Return the key naming session `session` of an item."""
    return f"{item_key}#{session}"


def min_requests(writes: pl.DataFrame, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Return the fewest POSTs the writes need: ceil(writes / size) per round."""
    _check_batch_size(batch_size)
    if writes.is_empty():
        return 0
    counts = writes.group_by("round").len()["len"].to_list()
    return sum(math.ceil(count / batch_size) for count in counts)


def build_requests(
    writes: pl.DataFrame, batch_size: int = DEFAULT_BATCH_SIZE
) -> list[Request]:
    """Pack the writes into requests, round by round, `batch_size` writes each.

    Packing is greedy in a fixed order (round, item_key, watched_at), so the
    number of requests equals `min_requests` and the same writes always give
    the same requests.
    """
    _check_batch_size(batch_size)
    requests: list[Request] = []
    if writes.is_empty():
        return requests
    # A stable sort, so writes that tie keep the plan's deterministic order.
    rows = writes.select(_ROW_COLUMNS).sort(
        "round", "item_key", "watched_at", maintain_order=True
    )
    for (round_number,), group in rows.group_by("round", maintain_order=True):
        for entries in _pack_round(group, batch_size):
            requests.append(Request(len(requests), int(round_number), entries))
    return requests


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")


def _pack_round(group: pl.DataFrame, batch_size: int) -> Iterator[tuple[Entry, ...]]:
    """Yield the entries of each request of one round."""
    current: list[Entry] = []
    room = batch_size
    # Rows are sorted by item within the round, so each item is one run;
    # converting the round once is far cheaper than a frame per item.
    for _, item_rows in itertools.groupby(group.to_dicts(), key=itemgetter("item_key")):
        records = list(item_rows)
        start = 0
        while start < len(records):
            take = min(room, len(records) - start)
            chunk = records[start : start + take]
            is_last = start + take == len(records)
            current.append(_entry(chunk, pinned=start > 0, is_last=is_last))
            start += take
            room -= take
            if room == 0:
                yield tuple(current)
                current, room = [], batch_size
    if current:
        yield tuple(current)


def _entry(records: list[dict[str, Any]], *, pinned: bool, is_last: bool) -> Entry:
    first = records[0]
    round_number = first["round"]
    section = _section(records)
    ends = round_number > 0 and is_last
    final_status = (
        _final_status(records[-1]["session_status"], section) if ends else None
    )
    return Entry(
        item_key=first["item_key"],
        section=section,
        title=first["title"],
        year=first["year"],
        ids=_ids(records, ITEM_ID_KEYS),
        viewings=tuple(_viewing(r) for r in records),
        session_key=session_key(first["item_key"], first["session"])
        if round_number > 0
        else None,
        rewatch_id=first["rewatch_id"],
        pinned=pinned and round_number > 0 and first["rewatch_id"] is None,
        rewatch_status=final_status,
    )


def _final_status(session_status: str | None, section: str) -> str | None:
    """Return the rewatch_status the last write of a session sets, if any.

    A closed session is closed explicitly. A completed show session is set
    completed too, in case the server counts aired episodes differently and
    would leave it active, which would draw the next session's writes into
    it. Movie sessions start completed, so they need nothing.
    """
    if session_status == CLOSED:
        return CLOSED
    if session_status == COMPLETED and section == "shows":
        return COMPLETED
    return None


def _section(records: list[dict[str, Any]]) -> str:
    """Return "movies" or "shows"; anime with episodes goes under shows."""
    if records[0]["media_type"] == "movie":
        return "movies"
    # NOTE: an anime row without any episode reference (an anime film) is
    # posted as a movie; Simkl files it under anime by its ids.
    has_episodes = any(
        r["episode"] is not None
        or r["episode_abs"] is not None
        or any(r[c] is not None for c in EPISODE_ID_KEYS)
        for r in records
    )
    return "shows" if has_episodes else "movies"


def _ids(
    records: list[dict[str, Any]], keys: Mapping[str, str]
) -> tuple[tuple[str, int | str], ...]:
    """Return the first non-null value of each id column, under its API key."""
    found: dict[str, int | str] = {}
    for column, key in keys.items():
        for record in records:
            if record[column] is not None:
                found[key] = record[column]
                break
    return tuple(found.items())


def _viewing(record: dict[str, Any]) -> Viewing:
    episode = record["episode"]
    if episode is None:
        episode = record["episode_abs"]
    return Viewing(
        write_key=record["write_key"],
        watched_at=record["watched_at"],
        season=record["season"],
        episode=episode,
        episode_ids=_ids([record], EPISODE_ID_KEYS),
    )


def format_instant(value: datetime) -> str:
    """Return `value` as Simkl's UTC form, e.g. 2014-09-01T09:10:11Z."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_body(
    request: Request, session_ids: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Return the JSON body of `request`.

    `session_ids` maps session keys to the rewatch_id that an earlier
    request returned. A pinned entry whose session has no id there raises
    MissingRewatchId, because sending it unpinned could open a new session.
    """
    session_ids = session_ids or {}
    body: dict[str, list[dict[str, Any]]] = {}
    for entry in request.entries:
        body.setdefault(entry.section, []).extend(_render_entry(entry, session_ids))
    return body


def _render_entry(entry: Entry, session_ids: Mapping[str, int]) -> list[dict[str, Any]]:
    item: dict[str, Any] = {"ids": dict(entry.ids)}
    if entry.title is not None:
        item["title"] = entry.title
    if entry.year is not None:
        item["year"] = entry.year

    rewatch_id = entry_rewatch_id(entry, session_ids)
    if rewatch_id is not None:
        item["rewatch_id"] = rewatch_id
    if entry.rewatch_status is not None:
        item["rewatch_status"] = entry.rewatch_status

    if entry.section == "shows":
        item.update(_render_episodes(entry.viewings))
        return [item]
    # A movie object carries one viewing. The planner gives a movie one
    # viewing per round, so a second one here is only a defensive case.
    movies = []
    for viewing in entry.viewings:
        movies.append({**item, "watched_at": format_instant(viewing.watched_at)})
    return movies


def entry_rewatch_id(entry: Entry, session_ids: Mapping[str, int]) -> int | None:
    """Return the rewatch_id an entry must carry, or None to open a session."""
    if entry.rewatch_id is not None:
        return entry.rewatch_id
    known = session_ids.get(entry.session_key) if entry.session_key else None
    if known is not None:
        return known
    if entry.pinned:
        raise MissingRewatchId(entry.session_key)
    return None


def _render_episodes(viewings: tuple[Viewing, ...]) -> dict[str, Any]:
    """Return `seasons[]` (and `episodes[]` for unnumbered seasons) in time order.

    Consecutive viewings of one season share a season block, so the order
    of the writes is kept exactly even when a session moves between seasons.
    """
    seasons: list[dict[str, Any]] = []
    flat: list[dict[str, Any]] = []
    for viewing in viewings:
        episode = _render_episode(viewing)
        if viewing.season is None:
            flat.append(episode)
        elif seasons and seasons[-1]["number"] == viewing.season:
            seasons[-1]["episodes"].append(episode)
        else:
            seasons.append({"number": viewing.season, "episodes": [episode]})
    rendered: dict[str, Any] = {}
    if seasons:
        rendered["seasons"] = seasons
    if flat:
        rendered["episodes"] = flat
    return rendered


def _render_episode(viewing: Viewing) -> dict[str, Any]:
    episode: dict[str, Any] = {}
    if viewing.episode is not None:
        episode["number"] = viewing.episode
    if viewing.episode_ids:
        episode["ids"] = dict(viewing.episode_ids)
    episode["watched_at"] = format_instant(viewing.watched_at)
    return episode
