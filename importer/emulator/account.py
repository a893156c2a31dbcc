"""The emulated user's account: list entries, canonical history, sessions.

One emulator serves one account. Every access token it issues signs in to
that account. The whole account can be saved to a JSON file (written
atomically) and loaded again, so a rehearsal survives restarts.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# A unit of viewing: (season, episode) of a show or anime; movies use
# MOVIE_UNIT, which no real episode can have because episodes start at 1.
Unit = tuple[int, int]
MOVIE_UNIT: Unit = (0, 0)

TIERS = ("free", "pro", "vip")
LIST_STATUSES = ("watching", "plantowatch", "completed", "hold", "dropped")
SESSION_STATUSES = ("active", "completed", "closed")


def format_time(value: datetime | None) -> str | None:
    """Format an instant as Simkl does: ISO-8601 UTC with a Z, whole seconds."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_stamp(value: datetime | None) -> str | None:
    """Format a change timestamp with milliseconds, so each write moves it."""
    if value is None:
        return None
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[:-3] + "Z"


def parse_time(text: str) -> datetime:
    """Parse an ISO-8601 instant; a value without a zone is read as UTC.

    Raises ValueError when `text` is not an ISO-8601 date or date-time.
    """
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _unit_text(unit: Unit) -> str:
    return f"{unit[0]}:{unit[1]}"


def _unit_from_text(text: str) -> Unit:
    season, episode = text.split(":")
    return int(season), int(episode)


@dataclass
class Session:
    """One rewatch session of an item."""

    id: int
    started_at: datetime
    status: str
    last_watched_at: datetime
    events: dict[Unit, datetime] = field(default_factory=dict)

    @property
    def episode_count(self) -> int:
        return sum(1 for unit in self.events if unit != MOVIE_UNIT)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": format_time(self.started_at),
            "status": self.status,
            "last_watched_at": format_time(self.last_watched_at),
            "events": {_unit_text(u): format_time(t) for u, t in self.events.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Session:
        return cls(
            id=raw["id"],
            started_at=parse_time(raw["started_at"]),
            status=raw["status"],
            last_watched_at=parse_time(raw["last_watched_at"]),
            events={
                _unit_from_text(u): parse_time(t) for u, t in raw["events"].items()
            },
        )


@dataclass
class ItemState:
    """The account's entry for one catalog item."""

    simkl: int
    kind: str
    list_status: str | None
    added_at: datetime
    updated_at: datetime
    canonical: dict[Unit, datetime] = field(default_factory=dict)
    sessions: list[Session] = field(default_factory=list)
    rating: int | None = None
    rated_at: datetime | None = None

    def session(self, rewatch_id: int) -> Session | None:
        return next((s for s in self.sessions if s.id == rewatch_id), None)

    def active_session(self) -> Session | None:
        return next((s for s in self.sessions if s.status == "active"), None)

    @property
    def in_history(self) -> bool:
        """Whether the item can be rewatched: watched and not plan-to-watch."""
        return bool(self.canonical) and self.list_status != "plantowatch"

    @property
    def last_watched_at(self) -> datetime | None:
        return max(self.canonical.values(), default=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "simkl": self.simkl,
            "kind": self.kind,
            "list_status": self.list_status,
            "added_at": format_stamp(self.added_at),
            "updated_at": format_stamp(self.updated_at),
            "canonical": {
                _unit_text(u): format_time(t) for u, t in self.canonical.items()
            },
            "sessions": [s.to_json() for s in self.sessions],
            "rating": self.rating,
            "rated_at": format_time(self.rated_at),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ItemState:
        return cls(
            simkl=raw["simkl"],
            kind=raw["kind"],
            list_status=raw["list_status"],
            added_at=parse_time(raw["added_at"]),
            updated_at=parse_time(raw["updated_at"]),
            canonical={
                _unit_from_text(u): parse_time(t) for u, t in raw["canonical"].items()
            },
            sessions=[Session.from_json(s) for s in raw["sessions"]],
            rating=raw.get("rating"),
            rated_at=parse_time(raw["rated_at"]) if raw.get("rated_at") else None,
        )


ACTIVITY_GROUPS = {"movie": "movies", "show": "tv_shows", "anime": "anime"}


@dataclass
class Account:
    """Everything the emulator stores for its one user."""

    tier: str = "pro"
    items: dict[int, ItemState] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    next_session_id: int = 1
    # Change timestamps by "group.key", e.g. "movies.completed", "all".
    activities: dict[str, datetime] = field(default_factory=dict)
    last_stamp: datetime | None = None

    def stamp(self) -> datetime:
        """Return a change timestamp later than every earlier one."""
        now = datetime.now(UTC)
        # Whole milliseconds, as formatted, so a timestamp read back from
        # /sync/activities compares equal to the stored one.
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self.last_stamp is not None and now <= self.last_stamp:
            now = self.last_stamp + timedelta(milliseconds=1)
        self.last_stamp = now
        return now

    def touch(self, state: ItemState, *keys: str) -> None:
        """Record a change of `state` in its timestamps and the activities."""
        now = self.stamp()
        state.updated_at = now
        group = ACTIVITY_GROUPS[state.kind]
        self.activities["all"] = now
        self.activities[f"{group}.all"] = now
        for key in keys:
            self.activities[f"{group}.{key}"] = now

    def new_session_id(self) -> int:
        session_id = self.next_session_id
        self.next_session_id += 1
        return session_id

    def to_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "items": [state.to_json() for state in self.items.values()],
            "tokens": sorted(self.tokens),
            "next_session_id": self.next_session_id,
            "activities": {k: format_stamp(v) for k, v in self.activities.items()},
            "last_stamp": format_stamp(self.last_stamp),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Account:
        items = [ItemState.from_json(item) for item in raw.get("items", [])]
        last = raw.get("last_stamp")
        return cls(
            tier=raw.get("tier", "pro"),
            items={item.simkl: item for item in items},
            tokens=set(raw.get("tokens", [])),
            next_session_id=raw.get("next_session_id", 1),
            activities={k: parse_time(v) for k, v in raw.get("activities", {}).items()},
            last_stamp=parse_time(last) if last else None,
        )


def save_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write `data` to `path` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1, sort_keys=True)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
