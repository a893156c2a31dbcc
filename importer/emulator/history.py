"""`POST /sync/history` and its remove twin, rule for rule.

The ordinary (canonical) write is always tried first. A write becomes a
rewatch only with `?allow_rewatch=yes` and when the item is already
completed and the ordinary write changes nothing, when every listed episode
is already canonical, or when the item carries `is_rewatch: true`. The
48-hour rule, the session cap and the other open points live in
`importer.emulator.rules`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from importer.emulator import rules
from importer.emulator.account import (
    MOVIE_UNIT,
    Account,
    ItemState,
    Session,
    Unit,
    format_time,
)
from importer.emulator.catalog import Catalog, CatalogItem
from importer.emulator.payload import EpisodeRef, ItemWrite

logger = logging.getLogger(__name__)

SERIES_KINDS = ("show", "anime")
KINDS_BY_BUCKET = {
    "movies": ("movie",),
    "shows": SERIES_KINDS,
    "anime": ("anime", "show"),
    "episodes": SERIES_KINDS,
}
# Timed units of one item write: (unit, watched_at) in request order.
Timed = list[tuple[Unit, datetime]]


def empty_buckets() -> dict[str, list[Any]]:
    return {"movies": [], "shows": [], "episodes": []}


def _echo_item(write: ItemWrite) -> dict[str, Any]:
    keys = ("title", "year", "ids")
    return {key: write.raw[key] for key in keys if key in write.raw}


@dataclass
class HistoryResult:
    """The body of a history response, built up item by item."""

    added: dict[str, int] = field(
        default_factory=lambda: {"movies": 0, "shows": 0, "episodes": 0}
    )
    statuses: list[dict[str, Any]] = field(default_factory=list)
    not_found: dict[str, list[Any]] = field(default_factory=empty_buckets)
    not_added: dict[str, list[Any]] = field(default_factory=empty_buckets)

    def only_capped(self) -> bool:
        """Return True when nothing was added and every write hit the cap.

        Simkl responds to such a request with 200 OK (nothing created) rather
        than 201; the capped writes are listed under `not_added`.
        """
        if any(self.added.values()) or any(self.not_found.values()):
            return False
        reasons = list(_reasons(self.not_added))
        return bool(reasons) and all(r == "rewatch_limit" for r in reasons)

    def body(self) -> dict[str, Any]:
        return {
            "added": {**self.added, "statuses": self.statuses},
            "not_found": self.not_found,
            "not_added": self.not_added,
        }


def _reasons(value: Any) -> Any:
    """Yield every "reason" value nested in a not_added structure."""
    if isinstance(value, dict):
        if "reason" in value:
            yield value["reason"]
        for item in value.values():
            yield from _reasons(item)
    elif isinstance(value, list):
        for item in value:
            yield from _reasons(item)


@dataclass
class ItemOutcome:
    """Counts, rejected units and the session used by one item write."""

    episodes: int = 0
    movie: bool = False
    touched: bool = False
    session: Session | None = None
    rejected: list[tuple[Unit, datetime | None, str]] = field(default_factory=list)
    item_reason: str | None = None


class HistoryWriter:
    """Applies parsed history writes to one account, in order."""

    def __init__(
        self,
        account: Account,
        catalog: Catalog,
        *,
        allow_rewatch: bool,
        now: datetime,
    ) -> None:
        self.account = account
        self.catalog = catalog
        self.allow_rewatch = allow_rewatch
        self.now = now
        self.result = HistoryResult()
        # Free accounts get rewatch writes as silent no-ops.
        self.rewatch_enabled = allow_rewatch and account.tier != "free"

    def apply(self, writes: list[ItemWrite]) -> HistoryResult:
        for write in writes:
            if write.bucket == "movies":
                self._apply_movie(write)
            elif write.bucket == "episodes":
                self._apply_loose_episode(write)
            else:
                self._apply_series(write)
        return self.result

    # -- movies -----------------------------------------------------------

    def _apply_movie(self, write: ItemWrite) -> None:
        item = self.catalog.resolve(
            ("movie",), write.ids, title=write.title, year=write.year
        )
        if item is None:
            self.result.not_found["movies"].append(write.raw)
            return
        state = self._state(item)
        outcome = ItemOutcome()
        watched = state is not None and MOVIE_UNIT in state.canonical
        if write.status in ("plantowatch", "hold", "dropped") and not watched:
            state = self._list_only(item, state, write.status)
        elif not watched:
            state = self._ordinary(
                item, state, [(MOVIE_UNIT, self._when(write))], write
            )
            outcome.movie = True
        elif self.allow_rewatch and state is not None:
            units = (
                [] if self._status_only(write) else [(MOVIE_UNIT, self._when(write))]
            )
            outcome = self._rewatch(item, state, write, units)
        if state is not None:
            self._rate(state, write)
        if outcome.movie:
            self.result.added["movies"] += 1
        if outcome.rejected or outcome.item_reason:
            self._report_not_added_movie(write, outcome)
        self._status(write, item, outcome)

    def _status_only(self, write: ItemWrite) -> bool:
        # A write that pins a session and carries no date only changes that
        # session's status, so it records no new viewing.
        return write.rewatch_id is not None and write.watched_at is None

    # -- shows and anime --------------------------------------------------

    def _apply_series(self, write: ItemWrite) -> None:
        kinds = KINDS_BY_BUCKET[write.bucket]
        item = self.catalog.resolve(
            kinds, write.ids, title=write.title, year=write.year
        )
        if item is None:
            self.result.not_found["shows"].append(write.raw)
            return
        units, missing = self.listed_units(item, write)
        if missing:
            self.result.not_found["episodes"].append(self._show_echo(write, missing))
        self._apply_units(item, write, units, echo_bucket="shows")

    def _apply_loose_episode(self, write: ItemWrite) -> None:
        matches = self.catalog.episodes_by_id(write.ids)
        if not matches:
            self.result.not_found["episodes"].append(write.raw)
            return
        item = matches[0][0]
        when = self._when(write)
        units = [
            ((ep.season, ep.number), when) for owner, ep in matches if owner is item
        ]
        self._apply_units(item, write, units, echo_bucket="episodes")

    def _apply_units(
        self, item: CatalogItem, write: ItemWrite, units: Timed, echo_bucket: str
    ) -> None:
        state = self._state(item)
        if write.status == "completed" and not write.lists_episodes:
            when = self._when(write)
            units = [(unit, when) for unit in item.aired_episodes()]
        has_new = state is None or any(u not in state.canonical for u, _ in units)
        outcome = ItemOutcome()
        if write.lists_episodes and not units:
            # Every listed episode was not found: the write changes nothing,
            # not even the list the show is on.
            pass
        elif units and has_new:
            before = 0 if state is None else len(state.canonical)
            state = self._ordinary(item, state, units, write)
            outcome.episodes = len(state.canonical) - before
            outcome.touched = True
        elif self._wants_rewatch(state, write, units):
            outcome = self._rewatch(item, state, write, units)
        elif not units:
            outcome.touched = state is None
            state = self._ordinary(item, state, [], write)
        if state is not None:
            self._rate(state, write)
        self.result.added["episodes"] += outcome.episodes
        if outcome.episodes or outcome.touched:
            self.result.added["shows"] += 1
        if outcome.rejected or outcome.item_reason:
            self._report_not_added_series(write, outcome, echo_bucket)
        self._status(write, item, outcome)

    def _wants_rewatch(
        self, state: ItemState | None, write: ItemWrite, units: Timed
    ) -> bool:
        if not self.allow_rewatch:
            return False
        if units:
            # Reached only when every listed unit is already canonical.
            return state is not None
        completed = state is not None and state.list_status == "completed"
        return completed or write.is_rewatch or write.rewatch_id is not None

    def listed_units(
        self, item: CatalogItem, write: ItemWrite
    ) -> tuple[Timed, list[tuple[int, EpisodeRef | None]]]:
        """Return the units a show write lists, and the listed ones not found."""
        units: Timed = []
        missing: list[tuple[int, EpisodeRef | None]] = []
        for season in write.seasons or []:
            season_when = season.watched_at or write.watched_at
            if season.episodes is None:
                whole = item.season_episodes(season.number)
                if not whole:
                    missing.append((season.number, None))
                when = season_when or self.now
                units.extend((unit, when) for unit in whole)
                continue
            for episode in season.episodes:
                placed = self._place(item, episode, season.number)
                when = episode.watched_at or season_when or self.now
                if not placed:
                    missing.append((season.number, episode))
                units.extend((unit, when) for unit in placed)
        for episode in write.episodes or []:
            placed = self._place(item, episode, 1)
            if not placed:
                missing.append((1, episode))
            when = episode.watched_at or write.watched_at or self.now
            units.extend((unit, when) for unit in placed)
        return units, missing

    def _place(self, item: CatalogItem, episode: EpisodeRef, season: int) -> list[Unit]:
        """Return the units an episode names: by episode ids first, else number.

        One source episode id may name two catalog episodes (a double
        episode). Both are returned and both get written.
        """
        if episode.ids:
            by_id = [
                (ep.season, ep.number)
                for owner, ep in self.catalog.episodes_by_id(episode.ids)
                if owner is item
            ]
            if by_id:
                return by_id
        if episode.number is not None and item.has_episode(season, episode.number):
            return [(season, episode.number)]
        return []

    # -- the ordinary write -----------------------------------------------

    def _ordinary(
        self,
        item: CatalogItem,
        state: ItemState | None,
        units: Timed,
        write: ItemWrite,
    ) -> ItemState:
        """Add new units to canonical history and update the list status.

        The item's change timestamps move only when something changed.
        """
        changed = state is None
        state = state or self._new_state(item)
        for unit, when in units:
            if unit not in state.canonical:
                state.canonical[unit] = when
                changed = True
        status = self.list_status_for(item, state, write.status)
        if changed or status != state.list_status:
            state.list_status = status
            self.account.touch(state, status)
        return state

    def list_status_for(
        self, item: CatalogItem, state: ItemState, requested: str | None
    ) -> str:
        if item.kind == "movie":
            return (
                "completed"
                if MOVIE_UNIT in state.canonical
                else requested or "plantowatch"
            )
        if requested in ("plantowatch", "hold", "dropped"):
            return requested
        if item.open_ended:
            return "completed" if requested == "completed" else "watching"
        aired = item.aired_episodes()
        watched = sum(1 for unit in aired if unit in state.canonical)
        if aired and watched >= len(aired):
            return "completed"
        return "watching"

    def _list_only(
        self, item: CatalogItem, state: ItemState | None, status: str
    ) -> ItemState:
        state = state or self._new_state(item)
        state.list_status = status
        self.account.touch(state, status)
        return state

    def _new_state(self, item: CatalogItem) -> ItemState:
        now = self.account.stamp()
        state = ItemState(item.simkl, item.kind, None, added_at=now, updated_at=now)
        self.account.items[item.simkl] = state
        return state

    # -- rewatch sessions -------------------------------------------------

    def _rewatch(
        self,
        item: CatalogItem,
        state: ItemState | None,
        write: ItemWrite,
        units: Timed,
    ) -> ItemOutcome:
        outcome = ItemOutcome()
        if not self.rewatch_enabled:
            logger.info("rewatch write for simkl %s ignored: free tier", item.simkl)
            return outcome
        if state is None or not state.in_history:
            outcome.item_reason = rules.REASON_NOT_IN_HISTORY
            return outcome
        target: Session | None = None
        if write.rewatch_id is not None:
            target = state.session(write.rewatch_id)
            if target is None:
                outcome.item_reason = rules.REASON_UNKNOWN_REWATCH_ID
                return outcome
        if not units:
            target = target or state.active_session()
            target = target or self._open_session(
                item, state, self._when(write), outcome
            )
            if target is None:
                outcome.item_reason = rules.REASON_CAP
        for unit, when in units:
            target = self._rewatch_unit(item, state, target, unit, when, outcome)
        if target is not None and write.rewatch_status is not None:
            self._set_session_status(state, target, write.rewatch_status)
            outcome.touched = True
        outcome.session = target
        if outcome.touched:
            self.account.touch(state, state.list_status or "all")
        return outcome

    def _rewatch_unit(
        self,
        item: CatalogItem,
        state: ItemState,
        target: Session | None,
        unit: Unit,
        when: datetime,
        outcome: ItemOutcome,
    ) -> Session | None:
        """Write one event into a session; return the session later units use."""
        if state.canonical.get(unit) == when:
            outcome.rejected.append((unit, when, rules.REASON_CANONICAL_DATE))
            return target
        if self._collapse(state, unit, when, outcome):
            return target

        session = self._session_for(item, state, target, unit, when, outcome)
        if session is None:
            outcome.rejected.append((unit, when, rules.REASON_CAP))
            return target

        session.events[unit] = when
        session.last_watched_at = max(session.last_watched_at, when)
        outcome.touched = True
        if unit == MOVIE_UNIT:
            outcome.movie = True
        else:
            outcome.episodes += 1
            self._auto_complete(item, session)
        return session

    def _collapse(
        self, state: ItemState, unit: Unit, when: datetime, outcome: ItemOutcome
    ) -> bool:
        """Apply the 48-hour rule; return True when the event is a stored viewing.

        Near a session's event, that session's last_watched_at moves to the
        later instant. Near the canonical event, nothing changes.
        """
        stored: list[tuple[object, datetime]] = []
        if unit in state.canonical:
            stored.append((state, state.canonical[unit]))
        stored.extend((s, s.events[unit]) for s in state.sessions if unit in s.events)
        anchor = rules.nearest_within_gap(when, stored)
        if isinstance(anchor, Session):
            anchor.last_watched_at = max(anchor.last_watched_at, when)
            outcome.touched = True
        return anchor is not None

    def _session_for(
        self,
        item: CatalogItem,
        state: ItemState,
        target: Session | None,
        unit: Unit,
        when: datetime,
        outcome: ItemOutcome,
    ) -> Session | None:
        """Return the session that takes a new event; None past the cap.

        The pinned or active session takes it unless that session already
        contains the unit. Then the conflict split closes it (when active)
        and a new session takes the event.
        """
        session = target or state.active_session()
        if session is not None and unit in session.events:
            if session.status == "active":
                session.status = "closed"
            session = None
        if session is None:
            session = self._open_session(item, state, when, outcome)
        return session

    def _open_session(
        self,
        item: CatalogItem,
        state: ItemState,
        when: datetime,
        outcome: ItemOutcome,
    ) -> Session | None:
        if len(state.sessions) >= rules.SESSION_CAP:
            return None
        status = "completed" if item.kind == "movie" else "active"
        session = Session(self.account.new_session_id(), when, status, when)
        if status == "active":
            self._set_session_status(state, session, "active")
        state.sessions.append(session)
        outcome.touched = True
        return session

    def _set_session_status(
        self, state: ItemState, session: Session, status: str
    ) -> None:
        """Set a session's status; activating one closes the item's other active one."""
        if status == "active":
            for other in state.sessions:
                if other is not session and other.status == "active":
                    other.status = "closed"
        session.status = status

    def _auto_complete(self, item: CatalogItem, session: Session) -> None:
        # NOTE: Simkl's documentation does not say whether writing into a
        # closed session through rewatch_id reopens it; here only an active
        # session changes status by itself.
        aired = item.aired_count
        if session.status == "active" and aired > 0 and session.episode_count >= aired:
            session.status = "completed"

    # -- helpers ----------------------------------------------------------

    def _state(self, item: CatalogItem) -> ItemState | None:
        return self.account.items.get(item.simkl)

    def _when(self, write: ItemWrite) -> datetime:
        return write.watched_at or self.now

    def _rate(self, state: ItemState, write: ItemWrite) -> None:
        if write.rating is not None and write.rating != state.rating:
            state.rating = write.rating
            state.rated_at = self.now
            self.account.touch(state, "rated_at")

    def _status(
        self, write: ItemWrite, item: CatalogItem, outcome: ItemOutcome
    ) -> None:
        state = self._state(item)
        request = dict(write.raw)
        request["type"] = "movie" if item.kind == "movie" else "show"
        request.setdefault("rating", None)
        session = outcome.session
        self.result.statuses.append(
            {
                "request": request,
                "response": {
                    "status": None if state is None else state.list_status,
                    "simkl_type": item.simkl_type,
                    "anime_type": item.anime_type,
                    "rewatch_id": None if session is None else session.id,
                    "rewatch_status": None if session is None else session.status,
                },
            }
        )

    def _report_not_added_movie(self, write: ItemWrite, outcome: ItemOutcome) -> None:
        reason = outcome.item_reason or outcome.rejected[0][2]
        self.result.not_added["movies"].append({**write.raw, "reason": reason})

    def _report_not_added_series(
        self, write: ItemWrite, outcome: ItemOutcome, echo_bucket: str
    ) -> None:
        if echo_bucket == "episodes":
            reason = outcome.item_reason or outcome.rejected[0][2]
            self.result.not_added["episodes"].append({**write.raw, "reason": reason})
            return
        entry = _echo_item(write)
        if outcome.item_reason is not None:
            entry["reason"] = outcome.item_reason
        seasons: dict[int, list[dict[str, Any]]] = {}
        for (season, number), when, reason in outcome.rejected:
            seasons.setdefault(season, []).append(
                {"number": number, "watched_at": format_time(when), "reason": reason}
            )
        if seasons:
            entry["seasons"] = [
                {"number": number, "episodes": episodes}
                for number, episodes in seasons.items()
            ]
        self.result.not_added["shows"].append(entry)

    def _show_echo(
        self, write: ItemWrite, missing: list[tuple[int, EpisodeRef | None]]
    ) -> dict[str, Any]:
        entry = _echo_item(write)
        seasons: dict[int, list[dict[str, Any]]] = {}
        for season, episode in missing:
            episodes = seasons.setdefault(season, [])
            if episode is not None:
                episodes.append(episode.raw)
        entry["seasons"] = [
            {"number": number, "episodes": episodes}
            for number, episodes in seasons.items()
        ]
        return entry


def apply_history(
    account: Account,
    catalog: Catalog,
    writes: list[ItemWrite],
    *,
    allow_rewatch: bool,
    now: datetime,
) -> HistoryResult:
    """Apply history writes to `account` in order; return the response body."""
    writer = HistoryWriter(account, catalog, allow_rewatch=allow_rewatch, now=now)
    return writer.apply(writes)
