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

import gc
import itertools
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
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
    if writes.is_empty():
        return []
    # A stable sort, so writes that tie keep the plan's deterministic order.
    rows = (
        writes.select(_ROW_COLUMNS)
        .sort("round", "item_key", "watched_at", maintain_order=True)
        .with_columns(_packing(batch_size))
    )
    entry_rows = _entry_rows(rows)
    with _collector_paused():
        entries = _entries(entry_rows, _viewings(rows))

    request_of_entry = entry_rows["_request"].to_numpy()
    starts = np.flatnonzero(np.r_[True, np.diff(request_of_entry) != 0])
    ends = np.r_[starts[1:], len(entries)]
    rounds = entry_rows["round"].to_list()
    return [
        Request(index, int(rounds[start]), tuple(entries[start:end]))
        for index, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building many objects.

    Viewings and entries hold no reference cycles, but creating a million
    of them triggers collections that scan all the objects made so far,
    which took about 2 s of 5 s at 1M writes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")


def _packing(batch_size: int) -> list[pl.Expr]:
    """Number the requests and entries of rows sorted by round and item.

    Within a round, each request takes the next `batch_size` rows, so a
    request starts at every multiple of `batch_size`. An entry is a run of
    one item's rows inside one request.
    """
    new_round = pl.col("round").ne_missing(pl.col("round").shift(1))
    position = pl.int_range(pl.len()).over("round")
    new_request = new_round | (position % batch_size == 0)
    new_item = new_round | pl.col("item_key").ne_missing(pl.col("item_key").shift(1))
    return [
        (new_request.cum_sum() - 1).alias("_request"),
        ((new_request | new_item).cum_sum() - 1).alias("_entry"),
        # An entry that starts inside its item continues it from the
        # previous request.
        (~new_item).alias("_continues"),
        new_item.shift(-1, fill_value=True).alias("_item_ends"),
        pl.any_horizontal(
            pl.col("episode", "episode_abs", *EPISODE_ID_KEYS).is_not_null()
        ).alias("_has_episode"),
    ]


def _entry_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Return one row per entry, in request order, with the fields of its Entry.

    Fields come from the entry's first write, except that the end of the
    item and the session status come from its last one, whether it has
    episodes from all of them, and each id from the first write with it.
    """
    firsts = [
        "item_key",
        "media_type",
        "title",
        "year",
        "session",
        "rewatch_id",
        "round",
        "_request",
        "_continues",
    ]
    entries = (
        rows.with_row_index("_row")
        .group_by("_entry", maintain_order=True)
        .agg(
            *(pl.col(c).first() for c in firsts),
            *(pl.col(c).last() for c in ("_item_ends", "session_status")),
            *(pl.col(c).drop_nulls().first() for c in ITEM_ID_KEYS),
            pl.col("_has_episode").any(),
            pl.col("_row").first().alias("_start"),
            (pl.col("_row").last() + 1).alias("_end"),
        )
    )
    rewatch = pl.col("round") > 0
    # NOTE: an anime row without any episode reference (an anime film) is
    # posted as a movie; Simkl files it under anime by its ids.
    section = (
        pl.when((pl.col("media_type") != "movie") & pl.col("_has_episode"))
        .then(pl.lit("shows"))
        .otherwise(pl.lit("movies"))
    )
    # The last write of a session sets its final state. A closed session is
    # closed explicitly. A completed show session is set completed too, in
    # case the server counts aired episodes differently and would leave it
    # active, which would draw the next session's writes into it. Movie
    # sessions start completed, so they need nothing.
    ends = rewatch & pl.col("_item_ends")
    status = pl.col("session_status")
    final_status = (
        pl.when(ends & (status == CLOSED))
        .then(pl.lit(CLOSED))
        .when(ends & (status == COMPLETED) & (pl.col("section") == "shows"))
        .then(pl.lit(COMPLETED))
    )
    return entries.with_columns(section.alias("section")).with_columns(
        final_status.alias("rewatch_status"),
        (pl.col("_continues") & rewatch & pl.col("rewatch_id").is_null()).alias(
            "pinned"
        ),
    )


def _entries(entry_rows: pl.DataFrame, viewings: list[Viewing]) -> list[Entry]:
    """Build the Entry of every entry row, with its slice of the viewings."""
    columns = {name: entry_rows[name].to_list() for name in entry_rows.columns}
    session_keys = [
        session_key(item_key, session) if round_number > 0 else None
        for item_key, session, round_number in zip(
            columns["item_key"], columns["session"], columns["round"], strict=True
        )
    ]
    entry_viewings = [
        tuple(viewings[start:end])
        for start, end in zip(columns["_start"], columns["_end"], strict=True)
    ]
    return list(
        map(
            Entry,
            columns["item_key"],
            columns["section"],
            columns["title"],
            columns["year"],
            _ids(entry_rows, ITEM_ID_KEYS),
            entry_viewings,
            session_keys,
            columns["rewatch_id"],
            columns["pinned"],
            columns["rewatch_status"],
        )
    )


def _viewings(rows: pl.DataFrame) -> list[Viewing]:
    """Return the viewing of every row, in row order."""
    # Episodes known only by absolute number send it as their number.
    episodes = rows.select(pl.coalesce("episode", "episode_abs")).to_series()
    return list(
        map(
            Viewing,
            rows["write_key"].to_list(),
            rows["watched_at"].to_list(),
            rows["season"].to_list(),
            episodes.to_list(),
            _ids(rows, EPISODE_ID_KEYS),
        )
    )


def _ids(
    frame: pl.DataFrame, keys: Mapping[str, str]
) -> list[tuple[tuple[str, int | str], ...]]:
    """Return each row's non-null id columns as (API key, value) pairs.

    Rows are handled in groups that have the same columns set, so the pairs
    are built by zipping whole columns rather than testing every value.
    """
    present = [column for column in keys if frame[column].null_count() < frame.height]
    ids: list[tuple[tuple[str, int | str], ...]] = [()] * frame.height
    if not present:
        return ids
    pattern = pl.sum_horizontal(
        pl.col(column).is_not_null().cast(pl.Int64) * (1 << bit)
        for bit, column in enumerate(present)
    )
    patterns = frame.select(pattern.alias("_pattern")).with_row_index("_index")
    for (code,), group in patterns.group_by("_pattern"):
        if code == 0:
            continue
        rows = group["_index"]
        columns = [c for bit, c in enumerate(present) if code & (1 << bit)]
        pairs = [
            zip(itertools.repeat(keys[c]), frame[c].gather(rows).to_list())
            for c in columns
        ]
        for index, row_ids in zip(
            rows.to_list(), zip(*pairs, strict=True), strict=True
        ):
            ids[index] = row_ids
    return ids


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
