"""A plain reference implementation of the planner, standard library only.

It applies Simkl's history rules to a list of event rows with ordinary loops,
independently of the polars planner in `importer.plan`, so that property tests
can compare the two and a benchmark can time them on the same input.

The rules it applies, per movie and per episode (a "unit") and per item:

- Two viewings of one unit less than 48 hours apart are one viewing. The gap
  is measured against stored viewings (the account's and those kept so far),
  so 0 h, 30 h and 60 h give two viewings, 0 h and 60 h. A viewing within 48
  hours of one the account stores is already present.
- The first kept viewing of a unit is canonical unless the account already
  stores a canonical one. Then every kept viewing is a rewatch (append only),
  and a written one older than the stored canonical viewing gets a note.
- Rows are one item when they share an id of the same name (see
  assign_item_keys).
- Movie rewatches get one completed session each. Show rewatches are grouped
  in time order into the item's current session. A new session starts when
  the episode is already in the current one (conflict split), or when the
  current one is completed because every aired episode was watched in it
  (only when the aired count is known). The account's active session is
  continued first.
- An item has at most 50 sessions, counting the account's. Past the cap the
  earliest viewings are kept and the rest are reported.
- Rows without a date give one viewing at the unknown-date instant per unit,
  and further undated rows are reported. A row marked as a rewatch with no earlier
  viewing anywhere gets an undated canonical viewing before it.
- A viewing more than `hold_before_release_days` before the row's release
  date is held for review.
"""

from __future__ import annotations

import bisect
import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

MIN_GAP = timedelta(hours=48)
MAX_SESSIONS = 50
UNKNOWN_DATE = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)

CANONICAL = "canonical"
REWATCH = "rewatch"
ACTIVE = "active"
COMPLETED = "completed"
CLOSED = "closed"

# Skip reasons, the same tags the real planner reports.
ALREADY_PRESENT = "already_present"
COLLAPSED_48H = "collapsed_48h"
REWATCH_CAP = "rewatch_cap"
UNDATED_EXTRA = "undated_extra"
UNDATED_SKIPPED = "undated"
HELD_BEFORE_RELEASE = "held_before_release"
FREE_TIER = "rewatch_not_written_free_tier"

# Note tags: facts about rows that are written or skipped for another reason.
EXTRA_PLAYS = "extra_plays"
BEFORE_RELEASE = "before_release"
REWATCH_WITHOUT_EARLIER = "rewatch_without_earlier"
OLDER_THAN_ACCOUNT = "older_than_account"

# `date_note` of the unknown-date viewing of undated rows, and of the one
# added before a row marked as a rewatch that has no earlier viewing.
NOTE_UNKNOWN_DATE = "unknown_date"
NOTE_UNKNOWN_DATE_FOR_REWATCH = "unknown_date_for_rewatch"

# Item-level ids in the order that picks an item's identity.
ITEM_ID_NAMES = (
    "simkl",
    "imdb",
    "tmdb",
    "tvdb",
    "mal",
    "anidb",
    "anilist",
    "kitsu",
    "trakt",
    "trakt_slug",
    "letterboxd",
)
EPISODE_ID_NAMES = ("ep_tvdb", "ep_imdb", "ep_tmdb", "ep_trakt")

# Columns copied from the source row onto each write and skip.
COPIED_COLUMNS = (
    "source",
    "source_file",
    "source_row",
    "media_type",
    "title",
    "year",
    *ITEM_ID_NAMES,
    "link",
    "season",
    "episode",
    "episode_abs",
    *EPISODE_ID_NAMES,
)


@dataclass(frozen=True)
class ReferenceOptions:
    """The planner defaults, with the same names and values as `PlanOptions`."""

    undated: str = "sentinel"
    rewatch_without_earlier: str = "sentinel"
    rewatches: bool = True
    hold_before_release_days: int | None = 365


@dataclass
class ReferencePlan:
    """Writes, skipped rows and notes as lists of plain dicts.

    Every source watch row is in exactly one of `writes` and `skipped`, except
    that an added unknown-date viewing shares the source row of the rewatch it
    precedes. `notes` has the skip fields and lists facts that do not change
    where a row goes.
    """

    writes: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Viewing:
    """One viewing of a unit, from a source row or from the account."""

    row: dict[str, Any]
    item_key: str
    unit_key: str
    watched_at: datetime
    date_note: str | None = None
    # True for the undated canonical viewing added before a rewatch-marked row.
    synthetic: bool = False
    # The account's canonical viewing when this one is older than it.
    account_canonical_at: datetime | None = None
    kind: str = CANONICAL
    session: int = 0
    session_status: str | None = None
    rewatch_id: int | None = None
    round: int = 0

    def order_key(self) -> tuple[Any, ...]:
        # Viewings at one instant go in episode order, then in file order.
        return (
            self.watched_at,
            not self.synthetic,
            self.row.get("season") or 0,
            self.row.get("episode") or 0,
            self.row.get("episode_abs") or 0,
            str(self.row.get("source_file") or ""),
            self.row.get("source_row") or 0,
            self.unit_key,
        )


@dataclass
class PlannedSession:
    """A rewatch session this plan writes to, new or the account's active one."""

    viewings: list[Viewing]
    units: set[str] = field(default_factory=set)
    rewatch_id: int | None = None
    number: int = 0
    status: str = COMPLETED


@dataclass
class RemoteSession:
    """A rewatch session the account already stores."""

    rewatch_id: int
    number: int
    status: str
    units: set[str]


@dataclass
class RemoteItem:
    """What the account stores for one item."""

    times_by_unit: dict[str, list[datetime]] = field(
        default_factory=lambda: defaultdict(list)
    )
    canonical_units: set[str] = field(default_factory=set)
    canonical_at: dict[str, datetime] = field(default_factory=dict)
    sessions: list[RemoteSession] = field(default_factory=list)
    aired: int | None = None


def parse_instant(value: Any) -> datetime | None:
    """Return `value` as an aware UTC datetime with whole seconds, or None.

    Accepts datetimes (naive ones are read as UTC) and ISO-8601 strings; a
    date without a time becomes 12:00 UTC on that date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is UTC and value.microsecond == 0:
            return value
        instant = value
    elif isinstance(value, date):
        instant = datetime(value.year, value.month, value.day, 12, tzinfo=UTC)
    else:
        text = str(value).strip()
        if not text:
            return None
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(hour=12, tzinfo=UTC)
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).replace(microsecond=0)


def parse_date(value: Any) -> date | None:
    """Return `value` as a date, or None when it is empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def family_of(row: Mapping[str, Any]) -> str:
    """Return "movie" for movies and "tv" for shows and anime."""
    return "movie" if (row.get("media_type") or "movie") == "movie" else "tv"


def id_tokens(row: Mapping[str, Any]) -> list[str]:
    family = family_of(row)
    return [
        f"{family}:{name}:{row[name]}"
        for name in ITEM_ID_NAMES
        if row.get(name) is not None and row.get(name) != ""
    ]


def title_token(row: Mapping[str, Any]) -> str:
    title = str(row.get("title") or "").strip().casefold()
    year = "" if row.get("year") is None else str(row["year"])
    return f"{family_of(row)}:title:{title}|{year}"


def find_root(parents: dict[str, str], token: str) -> str:
    while parents.setdefault(token, token) != token:
        token = parents[token]
    return token


def assign_item_keys(rows: list[dict[str, Any]]) -> None:
    """Store in each row's "item_key" the item it belongs to.

    Rows are one item when they share an id of the same name within the same
    family, so a TVDB id never matches a TMDB id. A row without ids joins the
    item with ids that has its title and year when exactly one such item
    exists, else it is keyed by title and year.
    """
    parents: dict[str, str] = {}
    tokens_of_row = [id_tokens(row) for row in rows]
    for tokens in tokens_of_row:
        for token in tokens[1:]:
            first, other = find_root(parents, tokens[0]), find_root(parents, token)
            if first != other:
                parents[other] = first
        if tokens:
            find_root(parents, tokens[0])

    members: dict[str, list[str]] = defaultdict(list)
    for token in parents:
        members[find_root(parents, token)].append(token)
    # The key of an item is its highest-priority id, so it reads well.
    key_of_root = {
        root: min(tokens, key=lambda t: (ITEM_ID_NAMES.index(t.split(":")[1]), t))
        for root, tokens in members.items()
    }

    items_by_title: dict[str, set[str]] = defaultdict(set)
    for row, tokens in zip(rows, tokens_of_row, strict=True):
        if tokens:
            row["item_key"] = key_of_root[find_root(parents, tokens[0])]
            items_by_title[title_token(row)].add(row["item_key"])
    for row, tokens in zip(rows, tokens_of_row, strict=True):
        if tokens:
            continue
        matches = items_by_title.get(title_token(row), set())
        row["item_key"] = next(iter(matches)) if len(matches) == 1 else title_token(row)


def item_key_of(row: Mapping[str, Any]) -> str:
    """Return the item key that assign_item_keys stored in the row."""
    return row["item_key"]


def unit_key_of(row: Mapping[str, Any], item_key: str) -> str:
    """Return the unit identity: the item itself, or one of its episodes."""
    if row.get("season") is not None and row.get("episode") is not None:
        return f"{item_key}:S{row['season']}E{row['episode']}"
    if row.get("episode_abs") is not None:
        return f"{item_key}:A{row['episode_abs']}"
    for name in EPISODE_ID_NAMES:
        if row.get(name) is not None:
            return f"{item_key}:{name}:{row[name]}"
    return item_key


def is_episode_unit(item_key: str, unit_key: str) -> bool:
    return unit_key != item_key


def make_skip(row: Mapping[str, Any], reason: str, detail: str) -> dict[str, Any]:
    return {
        "source_file": row.get("source_file"),
        "source_row": row.get("source_row"),
        "media_type": row.get("media_type"),
        "title": row.get("title"),
        "year": row.get("year"),
        "season": row.get("season"),
        "episode": row.get("episode"),
        "watched_at": parse_instant(row.get("watched_at")),
        "reason": reason,
        "detail": detail,
    }


def make_write(viewing: Viewing) -> dict[str, Any]:
    write = {name: viewing.row.get(name) for name in COPIED_COLUMNS}
    write.update(
        item_key=viewing.item_key,
        unit_key=viewing.unit_key,
        watched_at=viewing.watched_at,
        date_note=viewing.date_note,
        kind=viewing.kind,
        session=viewing.session,
        session_status=viewing.session_status,
        rewatch_id=viewing.rewatch_id,
        round=viewing.round,
    )
    return write


def describe(row: Mapping[str, Any]) -> str:
    text = str(row.get("title") or "untitled")
    if row.get("season") is not None and row.get("episode") is not None:
        text += f" S{int(row['season']):02d}E{int(row['episode']):02d}"
    return text


def read_options(options: Any) -> ReferenceOptions:
    """Return ReferenceOptions from None, a ReferenceOptions or a PlanOptions."""
    if options is None:
        return ReferenceOptions()
    if isinstance(options, ReferenceOptions):
        return options
    return ReferenceOptions(
        undated=options.undated,
        rewatch_without_earlier=options.rewatch_without_earlier,
        rewatches=options.rewatches,
        hold_before_release_days=options.hold_before_release_days,
    )


def collect_remote(rows: Iterable[Mapping[str, Any]]) -> dict[str, RemoteItem]:
    """Group the account's viewings and sessions by item."""
    items: dict[str, RemoteItem] = defaultdict(RemoteItem)
    sessions: dict[str, dict[int, RemoteSession]] = defaultdict(dict)
    for row in rows:
        if row.get("record") not in (None, "watch"):
            continue
        item_key = item_key_of(row)
        unit_key = unit_key_of(row, item_key)
        remote = items[item_key]
        if row.get("aired_episodes") is not None:
            remote.aired = int(row["aired_episodes"])
        instant = parse_instant(row.get("watched_at"))
        if instant is None:
            instant = UNKNOWN_DATE
        remote.times_by_unit[unit_key].append(instant)
        if not row.get("is_rewatch"):
            remote.canonical_units.add(unit_key)
            earliest = remote.canonical_at.get(unit_key, instant)
            remote.canonical_at[unit_key] = min(earliest, instant)
            continue
        rewatch_id = int(row["rewatch_id"])
        session = sessions[item_key].get(rewatch_id)
        if session is None:
            status = row.get("session_status") or COMPLETED
            session = RemoteSession(rewatch_id, 0, status, set())
            sessions[item_key][rewatch_id] = session
        session.units.add(unit_key)
    for item_key, by_id in sessions.items():
        # NOTE: the account's sessions are numbered in rewatch_id order, on the
        # assumption that Simkl hands out ids in creation order.
        ordered = [by_id[rewatch_id] for rewatch_id in sorted(by_id)]
        for number, session in enumerate(ordered, start=1):
            session.number = number
        items[item_key].sessions = ordered
    for remote in items.values():
        for times in remote.times_by_unit.values():
            times.sort()
    return items


def within_gap(instant: datetime, sorted_times: list[datetime]) -> bool:
    """Return True when a time in `sorted_times` is less than 48 hours away."""
    index = bisect.bisect_left(sorted_times, instant)
    for neighbour in sorted_times[max(index - 1, 0) : index + 1]:
        if abs(neighbour - instant) < MIN_GAP:
            return True
    return False


class ReferencePlanner:
    """Build a plan from plain rows. One instance plans one input."""

    def __init__(
        self,
        options: ReferenceOptions,
        remote: dict[str, RemoteItem],
        aired: Mapping[str, int] | None,
    ) -> None:
        self.options = options
        self.remote = remote
        self.aired = dict(aired or {})
        self.plan = ReferencePlan()

    def skip(self, row: Mapping[str, Any], reason: str, detail: str) -> None:
        self.plan.skipped.append(make_skip(row, reason, detail))

    def note(self, row: Mapping[str, Any], tag: str, detail: str) -> None:
        self.plan.notes.append(make_skip(row, tag, detail))

    def run(self, rows: Iterable[Mapping[str, Any]]) -> ReferencePlan:
        units: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for source in rows:
            row = dict(source)
            if row.get("record") not in (None, "watch"):
                continue
            self.report_extra_plays(row)
            if self.is_held(row):
                continue
            item_key = item_key_of(row)
            units[(item_key, unit_key_of(row, item_key))].append(row)

        kept_by_item: dict[str, list[Viewing]] = defaultdict(list)
        for (item_key, unit_key), unit_rows in units.items():
            kept = self.plan_unit(item_key, unit_key, unit_rows)
            kept_by_item[item_key].extend(kept)

        for item_key, kept in kept_by_item.items():
            self.plan_item(item_key, kept)

        self.plan.writes.sort(key=write_order)
        self.plan.skipped.sort(key=skip_order)
        self.plan.notes.sort(key=skip_order)
        return self.plan

    def report_extra_plays(self, row: Mapping[str, Any]) -> None:
        extra = row.get("extra_plays") or 0
        if extra > 0:
            self.note(
                row,
                EXTRA_PLAYS,
                f"{describe(row)}: {extra} more plays without a date, not created",
            )

    def is_held(self, row: Mapping[str, Any]) -> bool:
        """Hold a viewing far before its release, note one shortly before.

        With the hold turned off (None) every viewing before release is noted.
        """
        days = self.options.hold_before_release_days
        release = parse_date(row.get("release_date"))
        instant = parse_instant(row.get("watched_at"))
        if release is None or instant is None:
            return False
        early = (release - instant.date()).days
        if early <= 0:
            return False
        if days is None or early <= days:
            self.note(
                row,
                BEFORE_RELEASE,
                f"{describe(row)}: watched {early} days before its release "
                f"{release.isoformat()}",
            )
            return False
        self.skip(
            row,
            HELD_BEFORE_RELEASE,
            f"{describe(row)}: watched {early} days before its release "
            f"{release.isoformat()}, probably a wrong match",
        )
        return True

    def plan_unit(
        self, item_key: str, unit_key: str, rows: list[dict[str, Any]]
    ) -> list[Viewing]:
        """Apply the undated policy and the 48-hour rule to one unit."""
        remote = self.remote.get(item_key)
        remote_times = remote.times_by_unit.get(unit_key, []) if remote else []
        has_remote_canonical = remote is not None and unit_key in remote.canonical_units

        viewings = self.undated_viewings(item_key, unit_key, rows)
        for row in rows:
            instant = parse_instant(row.get("watched_at"))
            if instant is not None:
                note = row.get("date_note")
                viewings.append(Viewing(row, item_key, unit_key, instant, note))
        viewings.sort(key=Viewing.order_key)

        earliest = viewings[0] if viewings else None
        if earliest is not None:
            # A viewing without the rewatch mark at the first instant is the
            # earlier viewing of a marked one at the same instant.
            tied = [v for v in viewings if v.watched_at == earliest.watched_at]
            earliest = min(tied, key=lambda v: bool(v.row.get("rewatch_hint")))
        if (
            earliest is not None
            and self.options.rewatch_without_earlier == "sentinel"
            and earliest.row.get("rewatch_hint")
            and not has_remote_canonical
            and not (remote_times and remote_times[0] <= earliest.watched_at)
            and earliest.watched_at != UNKNOWN_DATE
        ):
            sentinel_row = dict(earliest.row, rewatch_hint=False)
            sentinel = Viewing(
                sentinel_row,
                item_key,
                unit_key,
                UNKNOWN_DATE,
                NOTE_UNKNOWN_DATE_FOR_REWATCH,
                True,
            )
            viewings.insert(0, sentinel)
            self.note(
                earliest.row,
                REWATCH_WITHOUT_EARLIER,
                f"{describe(earliest.row)}: marked as a rewatch with no earlier "
                "viewing, so a viewing with an unknown date is added before it",
            )

        kept: list[Viewing] = []
        for viewing in viewings:
            if within_gap(viewing.watched_at, remote_times):
                if not viewing.synthetic:
                    self.skip(
                        viewing.row,
                        ALREADY_PRESENT,
                        f"{describe(viewing.row)}: Simkl already holds a viewing "
                        f"within 48 hours of {viewing.watched_at.isoformat()}",
                    )
                continue
            if kept and viewing.watched_at - kept[-1].watched_at < MIN_GAP:
                if not viewing.synthetic:
                    self.skip(
                        viewing.row,
                        COLLAPSED_48H,
                        f"{describe(viewing.row)}: within 48 hours of the viewing "
                        f"at {kept[-1].watched_at.isoformat()}, the same viewing",
                    )
                continue
            kept.append(viewing)

        for index, viewing in enumerate(kept):
            first = index == 0 and not has_remote_canonical
            viewing.kind = CANONICAL if first else REWATCH
        if has_remote_canonical:
            canonical_at = remote.canonical_at[unit_key]
            for viewing in kept:
                if viewing.watched_at < canonical_at and not viewing.synthetic:
                    viewing.account_canonical_at = canonical_at
        return kept

    def undated_viewings(
        self, item_key: str, unit_key: str, rows: list[dict[str, Any]]
    ) -> list[Viewing]:
        """Turn the unit's undated rows into at most one sentinel viewing."""
        undated = [row for row in rows if parse_instant(row.get("watched_at")) is None]
        undated.sort(key=row_order)
        if not undated:
            return []
        if self.options.undated != "sentinel":
            for row in undated:
                self.skip(row, UNDATED_SKIPPED, f"{describe(row)}: no watch date")
            return []
        for row in undated[1:]:
            self.skip(
                row,
                UNDATED_EXTRA,
                f"{describe(row)}: another play without a date; one undated "
                "viewing is written per movie or episode",
            )
        first = undated[0]
        return [Viewing(first, item_key, unit_key, UNKNOWN_DATE, NOTE_UNKNOWN_DATE)]

    def plan_item(self, item_key: str, kept: list[Viewing]) -> None:
        """Write canonical viewings and place rewatches into sessions."""
        kept.sort(key=Viewing.order_key)
        rewatches = [viewing for viewing in kept if viewing.kind == REWATCH]
        for viewing in kept:
            if viewing.kind == CANONICAL:
                self.plan.writes.append(make_write(viewing))
        if not rewatches:
            return
        if not self.options.rewatches:
            for viewing in rewatches:
                self.skip(
                    viewing.row,
                    FREE_TIER,
                    f"{describe(viewing.row)}: rewatch at "
                    f"{viewing.watched_at.isoformat()} not written, because "
                    "rewatches need Simkl Pro or VIP",
                )
            return
        remote = self.remote.get(item_key) or RemoteItem()
        episodic = any(is_episode_unit(item_key, v.unit_key) for v in kept)
        if episodic:
            sessions = self.group_show_sessions(item_key, rewatches, remote)
        else:
            sessions = [PlannedSession([viewing]) for viewing in rewatches]
        self.write_sessions(sessions, remote, episodic)

    def group_show_sessions(
        self, item_key: str, rewatches: list[Viewing], remote: RemoteItem
    ) -> list[PlannedSession]:
        """Group a show's rewatch viewings into sessions in time order."""
        aired = self.aired.get(item_key, remote.aired)
        active = next((s for s in remote.sessions if s.status == ACTIVE), None)
        current: PlannedSession | None = None
        if active is not None:
            current = PlannedSession([], set(active.units), active.rewatch_id)
        sessions: list[PlannedSession] = []
        for viewing in rewatches:
            full = (
                aired is not None
                and current is not None
                and len(current.units) >= aired
            )
            if current is None or full or viewing.unit_key in current.units:
                current = PlannedSession([])
            if not current.viewings:
                sessions.append(current)
            current.viewings.append(viewing)
            current.units.add(viewing.unit_key)
        for session in sessions:
            done = aired is not None and len(session.units) >= aired
            session.status = COMPLETED if done else CLOSED
        return sessions

    def write_sessions(
        self, sessions: list[PlannedSession], remote: RemoteItem, episodic: bool
    ) -> None:
        """Number new sessions after the account's, cap them, emit the writes."""
        numbers = {s.rewatch_id: s.number for s in remote.sessions}
        next_number = len(remote.sessions) + 1
        kept: list[PlannedSession] = []
        for session in sessions:
            if session.rewatch_id is not None:
                session.number = numbers[session.rewatch_id]
            else:
                session.number = next_number
                next_number += 1
            if session.number > MAX_SESSIONS:
                self.skip_capped(session)
            else:
                kept.append(session)
        if episodic and kept and kept[-1].status == CLOSED:
            kept[-1].status = ACTIVE
        for round_number, session in enumerate(kept, start=1):
            for viewing in session.viewings:
                viewing.session = session.number
                viewing.session_status = session.status
                viewing.rewatch_id = session.rewatch_id
                viewing.round = round_number
                self.plan.writes.append(make_write(viewing))
                self.note_older_than_account(viewing)

    def note_older_than_account(self, viewing: Viewing) -> None:
        """Note a rewatch written because the account has a later canonical one."""
        canonical_at = viewing.account_canonical_at
        if canonical_at is None:
            return
        self.note(
            viewing.row,
            OLDER_THAN_ACCOUNT,
            f"{describe(viewing.row)}: watched before the viewing Simkl stores at "
            f"{canonical_at.isoformat()}, so it is added as a rewatch and the "
            "stored one stays",
        )

    def skip_capped(self, session: PlannedSession) -> None:
        for viewing in session.viewings:
            self.skip(
                viewing.row,
                REWATCH_CAP,
                f"{describe(viewing.row)}: rewatch at "
                f"{viewing.watched_at.isoformat()} not written, because the "
                f"item already has {MAX_SESSIONS} rewatch sessions",
            )


def row_order(row: Mapping[str, Any]) -> tuple[str, int]:
    return (str(row.get("source_file") or ""), row.get("source_row") or 0)


def write_order(write: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        write["item_key"],
        write["round"],
        write["watched_at"],
        write["unit_key"],
        str(write.get("source_file") or ""),
        write.get("source_row") or 0,
    )


def skip_order(skip: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        str(skip.get("source_file") or ""),
        skip.get("source_row") or 0,
        skip["reason"],
    )


def reference_plan_from_rows(
    rows: Iterable[Mapping[str, Any]],
    remote: Iterable[Mapping[str, Any]] | None = None,
    options: Any = None,
    aired: Mapping[str, int] | None = None,
) -> ReferencePlan:
    """Plan `rows` (events-frame rows as dicts) against the account's `remote` rows.

    `options` is a ReferenceOptions, a PlanOptions or None for the defaults.
    `aired` maps an item key of this module to its aired episode count.
    """
    source_rows = [dict(row) for row in rows]
    remote_rows = [dict(row) for row in remote or []]
    for row in source_rows:
        row["watched_at"] = parse_instant(row.get("watched_at"))
    assign_item_keys(source_rows + remote_rows)
    planner = ReferencePlanner(
        read_options(options), collect_remote(remote_rows), aired
    )
    return planner.run(source_rows)


# Column names a generic CSV may use for each events column.
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "media_type": ("media_type", "type"),
    "title": ("title", "name"),
    "year": ("year",),
    "simkl": ("simkl", "simkl_id"),
    "imdb": ("imdb", "imdb_id"),
    "tmdb": ("tmdb", "tmdb_id"),
    "tvdb": ("tvdb", "tvdb_id"),
    "season": ("season", "season_number"),
    "episode": ("episode", "episode_number"),
    "watched_at": ("watched_at", "watched_at_utc", "watched_date", "date"),
    "rewatch_hint": ("rewatch", "rewatch_hint"),
    "release_date": ("release_date",),
}
INTEGER_COLUMNS = ("year", "simkl", "tmdb", "tvdb", "season", "episode")
TRUE_WORDS = ("yes", "true", "1")


def reference_plan_file(path: str | Path, options: Any = None) -> ReferencePlan:
    """Read a Trakt history JSON file or a generic CSV file and plan it.

    A generic CSV needs a header with at least a title or an id column; the
    accepted names are in CSV_ALIASES. Nothing is on the account.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        rows = read_trakt_history(path)
    else:
        rows = read_generic_csv(path)
    return reference_plan_from_rows(rows, options=options)


def read_trakt_history(path: Path) -> list[dict[str, Any]]:
    """Turn a Trakt history array (one object per play) into event rows."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for position, entry in enumerate(entries, start=1):
        row: dict[str, Any] = {"source": "trakt", "source_file": path.name}
        row["source_row"] = position
        row["record"] = "watch"
        if entry.get("type") == "episode":
            media = entry.get("show") or {}
            episode = entry.get("episode") or {}
            row["media_type"] = "show"
            row["season"] = episode.get("season")
            row["episode"] = episode.get("number")
            episode_ids = episode.get("ids") or {}
            for name in ("tvdb", "imdb", "tmdb", "trakt"):
                row[f"ep_{name}"] = episode_ids.get(name) or None
        else:
            media = entry.get("movie") or {}
            row["media_type"] = "movie"
        row["title"] = media.get("title")
        row["year"] = media.get("year")
        ids = media.get("ids") or {}
        for name in ("simkl", "imdb", "tmdb", "tvdb", "trakt"):
            row[name] = ids.get(name) or None
        row["trakt_slug"] = ids.get("slug") or None
        instant = parse_instant(entry.get("watched_at"))
        # Trakt writes an unknown date as the Unix epoch.
        if instant is not None and instant.year == 1970:
            instant = None
        row["watched_at"] = instant
        rows.append(row)
    return rows


def read_generic_csv(path: Path) -> list[dict[str, Any]]:
    """Turn a CSV with one play per line into event rows."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = {
            name.strip().casefold().replace(" ", "_"): name
            for name in reader.fieldnames or []
        }
        rows = []
        for record in reader:
            row: dict[str, Any] = {"source": "csv", "source_file": path.name}
            # The header is line 1, so the first record starts on line 2.
            row["source_row"] = reader.line_num
            row["record"] = "watch"
            for column, aliases in CSV_ALIASES.items():
                found = next((header[a] for a in aliases if a in header), None)
                value = (record.get(found) or "").strip() if found else ""
                row[column] = value or None
            convert_csv_values(row)
            rows.append(row)
    return rows


def convert_csv_values(row: dict[str, Any]) -> None:
    for column in INTEGER_COLUMNS:
        if row[column] is not None:
            row[column] = int(row[column])
    hint = row["rewatch_hint"]
    row["rewatch_hint"] = hint is not None and hint.casefold() in TRUE_WORDS
    media = (row["media_type"] or "").casefold()
    if media in ("episode", "tv", "show"):
        row["media_type"] = "show"
    elif media != "anime":
        row["media_type"] = "movie"
    row["watched_at"] = parse_instant(row["watched_at"])
