"""Place episode rows on Simkl's own numbering, through the show's episode list.

Sources and Simkl number episodes differently (DVD order, absolute anime
numbering, specials). An episode-level id is the most reliable guide, then
an absolute number, then the source's season and episode. A row that none
of them places is reported with its raw season and episode, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from importer.resolve.api import TargetEpisode
from importer.resolve.model import CONFIDENCE_HIGH, CONFIDENCE_LOW, CONFIDENCE_MEDIUM

# Episode id columns of the events frame and the key Simkl lists them under.
EPISODE_ID_NAMESPACES = (("ep_tvdb", "tvdb"), ("ep_imdb", "imdb"), ("ep_tmdb", "tmdb"))

VIA_EPISODE_ID = "episode_id"
VIA_ABSOLUTE = "absolute"
VIA_COMPUTED_ABSOLUTE = "computed_absolute"

Position = tuple[int, int]


@dataclass
class EpisodeIndex:
    """Lookups over one show's episode list on Simkl."""

    by_id: dict[tuple[str, str], list[Position]] = field(default_factory=dict)
    namespaces: set[str] = field(default_factory=set)
    # The id namespaces each episode carries.
    namespaces_at: dict[Position, set[str]] = field(default_factory=dict)
    positions: set[Position] = field(default_factory=set)
    by_absolute: dict[int, Position] = field(default_factory=dict)
    # True when Simkl gave the absolute numbers; False when they were counted
    # from the order of regular episodes.
    server_absolute: bool = False

    @classmethod
    def build(cls, episodes: list[TargetEpisode]) -> EpisodeIndex:
        index = cls()
        by_id: dict[tuple[str, str], list[Position]] = defaultdict(list)
        for ep in episodes:
            position = (ep.season, ep.episode)
            index.positions.add(position)
            index.namespaces_at[position] = {namespace for namespace, _ in ep.ids}
            for namespace, value in ep.ids:
                index.namespaces.add(namespace)
                if position not in by_id[(namespace, value)]:
                    by_id[(namespace, value)].append(position)
        index.by_id = dict(by_id)

        given = {ep.absolute: (ep.season, ep.episode) for ep in episodes if ep.absolute}
        if given:
            index.by_absolute = given
            index.server_absolute = True
        else:
            regular = sorted(
                (ep.season, ep.episode) for ep in episodes if ep.season > 0
            )
            index.by_absolute = {n: pos for n, pos in enumerate(regular, start=1)}
        return index


@dataclass(frozen=True)
class Placement:
    """The Simkl episodes a source episode lands on, or why it cannot be placed."""

    targets: tuple[Position, ...] = ()
    via: str | None = None
    confidence: str | None = None
    problem: str | None = None

    @property
    def unchanged(self) -> bool:
        return self.problem is None and self.via is None


KEEP = Placement()


def episode_label(season: int | None, episode: int | None) -> str:
    """Return "S01E05", with "?" for an unknown part."""
    s = "?" if season is None else f"{season:02d}"
    e = "?" if episode is None else f"{episode:02d}"
    return f"S{s}E{e}"


def season_offsets(rows: list[dict[str, Any]]) -> dict[int, int]:
    """Return, per source season, the absolute number of its episode 0.

    Rows of one show that carry both an episode number and an absolute
    number give the offset of their season (absolute 27 for S02E03 means
    the earlier seasons hold 24 episodes). Seasons whose rows disagree get
    no offset.
    """
    found: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        season, episode, absolute = (
            row.get("season"),
            row.get("episode"),
            row.get("episode_abs"),
        )
        if season is not None and episode is not None and absolute is not None:
            found[season].add(absolute - episode)
    return {
        season: next(iter(values))
        for season, values in found.items()
        if len(values) == 1
    }


def place_episode(
    row: dict[str, Any], index: EpisodeIndex, offsets: dict[int, int], show: str
) -> Placement:
    """Return where `row` lands in the show whose episode list is `index`."""
    season, episode = row.get("season"), row.get("episode")
    label = episode_label(season, episode)

    for column, namespace in EPISODE_ID_NAMESPACES:
        value = row.get(column)
        if value in (None, "", 0) or namespace not in index.namespaces:
            continue
        targets = index.by_id.get((namespace, str(value)))
        if targets:
            if targets == [(season, episode)]:
                return KEEP
            return Placement(tuple(targets), VIA_EPISODE_ID, CONFIDENCE_HIGH)
        # An absolute number from the source can still place the row. So can
        # its season and episode, but only where Simkl's episode there has no
        # id of this namespace that would contradict the row's id.
        by_absolute = _place_by_given_absolute(row, index)
        if by_absolute is not None:
            return by_absolute
        here = None
        if season is not None and episode is not None:
            here = index.namespaces_at.get((season, episode))
        if here is not None and namespace not in here:
            return KEEP
        return Placement(
            problem=f"episode {namespace} id {value} (source {label}) is not in "
            f"the Simkl episode list of {show}"
        )

    if not index.positions or episode is None:
        return KEEP
    return _place_by_number(row, index, offsets, show, label)


def _place_by_given_absolute(
    row: dict[str, Any], index: EpisodeIndex
) -> Placement | None:
    absolute = row.get("episode_abs")
    target = index.by_absolute.get(absolute) if absolute is not None else None
    if target is None:
        return None
    confidence = CONFIDENCE_HIGH if index.server_absolute else CONFIDENCE_MEDIUM
    return Placement((target,), VIA_ABSOLUTE, confidence)


def _place_by_number(
    row: dict[str, Any],
    index: EpisodeIndex,
    offsets: dict[int, int],
    show: str,
    label: str,
) -> Placement:
    season, episode, absolute = (
        row.get("season"),
        row["episode"],
        row.get("episode_abs"),
    )
    present = (season, episode) in index.positions

    if absolute is not None:
        target = index.by_absolute.get(absolute)
        # Absolute numbers counted from Simkl's episode order shift when an
        # episode is missing there, so they only move rows that Simkl's own
        # layout cannot place.
        if target is not None and (index.server_absolute or not present):
            if target == (season, episode):
                return KEEP
            confidence = CONFIDENCE_HIGH if index.server_absolute else CONFIDENCE_MEDIUM
            return Placement((target,), VIA_ABSOLUTE, confidence)
    if present:
        return KEEP

    offset = offsets.get(season) if season is not None else None
    if absolute is None and offset is not None:
        target = index.by_absolute.get(offset + episode)
        if target is not None:
            return Placement((target,), VIA_COMPUTED_ABSOLUTE, CONFIDENCE_LOW)

    if absolute is not None:
        reason = f"absolute number {absolute} is not in the Simkl episode list"
    else:
        reason = "no absolute number, and the season layout on Simkl differs"
    return Placement(problem=f"{show} {label}: {reason}")
