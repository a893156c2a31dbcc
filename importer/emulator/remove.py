"""`POST /sync/history/remove`: the same body shapes, taking history away."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from importer.emulator.account import MOVIE_UNIT, Account, ItemState, Unit
from importer.emulator.catalog import Catalog
from importer.emulator.history import KINDS_BY_BUCKET, HistoryWriter, empty_buckets
from importer.emulator.payload import ItemWrite


def _drop_units(state: ItemState, units: list[Unit]) -> int:
    """Remove units from canonical history and every session; return the count."""
    removed = 0
    for unit in units:
        if state.canonical.pop(unit, None) is not None:
            removed += 1
        for session in state.sessions:
            session.events.pop(unit, None)
    return removed


def remove_history(
    account: Account, catalog: Catalog, writes: list[ItemWrite], *, now: datetime
) -> dict[str, Any]:
    """Remove what each write names; return the `deleted`/`not_found` body.

    A movie, or a show without seasons or episodes, leaves the library with
    its sessions. Listed seasons or episodes leave canonical history and
    every session; an item left with no canonical event leaves the library.
    """
    writer = HistoryWriter(account, catalog, allow_rewatch=False, now=now)
    deleted = {"movies": 0, "shows": 0, "episodes": 0}
    not_found = empty_buckets()
    for write in writes:
        if write.bucket == "episodes":
            matches = catalog.episodes_by_id(write.ids)
            item = matches[0][0] if matches else None
            units = [(ep.season, ep.number) for owner, ep in matches if owner is item]
        else:
            kinds = KINDS_BY_BUCKET[write.bucket]
            item = catalog.lookup(kinds, write.ids)
            units = (
                []
                if item is None
                else [u for u, _ in writer.listed_units(item, write)[0]]
            )
        state = None if item is None else account.items.get(item.simkl)
        if item is None or state is None:
            bucket = "movies" if write.bucket == "movies" else "shows"
            not_found["episodes" if write.bucket == "episodes" else bucket].append(
                write.raw
            )
            continue
        whole = item.kind == "movie" or not write.lists_episodes
        if whole:
            deleted["episodes"] += sum(1 for u in state.canonical if u != MOVIE_UNIT)
            state.canonical.clear()
        else:
            deleted["episodes"] += _drop_units(state, units)
        if not state.canonical:
            del account.items[item.simkl]
            deleted["movies" if item.kind == "movie" else "shows"] += 1
            account.touch(state, "removed_from_list")
        else:
            state.list_status = writer.list_status_for(item, state, None)
            account.touch(state, state.list_status)
    return {"deleted": deleted, "not_found": not_found}
