"""Types of the resolver: options, per-item decisions and the result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from importer.events import empty_events, empty_skips

# Match methods of an item; "none" means it was not matched.
HOW_OVERRIDE = "override"
HOW_ID = "id"
HOW_URL = "url"
HOW_TITLE_YEAR = "title_year"
HOW_TEXT = "text"
HOW_NONE = "none"

STATUS_MATCHED = "matched"
STATUS_AMBIGUOUS = "ambiguous"
STATUS_NOT_FOUND = "not_found"

# Confidence of a match, best first. "user" is an override.
CONFIDENCE_USER = "user"
CONFIDENCE_HIGH = "high"
CONFIDENCE_MEDIUM = "medium"
CONFIDENCE_LOW = "low"

# Reasons in the skip frame for rows the resolver leaves out of the events.
REASON_AMBIGUOUS = "ambiguous"
REASON_NOT_FOUND = "not_found"
# Only in the review CSV: a match worth a look (a year one off, no year).
REASON_LOW_CONFIDENCE = "low_confidence"

MATCH_SCHEMA: dict[str, pl.DataType] = {
    # The source's own identity of the item, also the cache and override key.
    "item_key": pl.String(),
    "source": pl.String(),
    # The first source row of the item, and how many rows it has.
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "rows": pl.Int64(),
    "media_type": pl.String(),
    "title": pl.String(),
    "year": pl.Int32(),
    "how": pl.String(),
    "status": pl.String(),
    "confidence": pl.String(),
    "simkl": pl.Int64(),
    # Simkl's type of the matched item: movie, tv or anime.
    "simkl_type": pl.String(),
    # Candidates of an ambiguous or unmatched item, "Title (year) simkl=ID"
    # joined by " | ".
    "candidates": pl.String(),
    "detail": pl.String(),
}

# Episode rows whose season and episode the resolver changed, and why.
PLACEMENT_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "title": pl.String(),
    "source_season": pl.Int32(),
    "source_episode": pl.Int32(),
    "season": pl.Int32(),
    "episode": pl.Int32(),
    # episode_id, absolute or computed_absolute
    "via": pl.String(),
    "confidence": pl.String(),
}


# Lines of the review CSV: one per unmatched item or unplaced episode row,
# with empty id columns for the user to fill in and pass back as overrides.
REVIEW_SCHEMA: dict[str, pl.DataType] = {
    "item_key": pl.String(),
    "reason": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "rows": pl.Int64(),
    "title": pl.String(),
    "year": pl.Int32(),
    "type": pl.String(),
    "season": pl.Int32(),
    "episode": pl.Int32(),
    "candidates": pl.String(),
    "detail": pl.String(),
    # Left empty for the user to fill in.
    "simkl_id": pl.Int64(),
    "imdb": pl.String(),
    "tmdb": pl.Int64(),
    "tvdb": pl.Int64(),
}


@dataclass(frozen=True)
class ResolveOptions:
    """How the resolver searches and caches.

    `cache_scope` separates cached results of different servers (pass the
    API base URL). `refresh` ignores cached results and stores new ones.
    `text_limit` is the number of text search results read per query
    (Simkl returns at most 50 per page).
    """

    cache_scope: str = ""
    refresh: bool = False
    text_limit: int = 50


@dataclass(frozen=True)
class Candidate:
    """One Simkl item a search returned."""

    simkl: int
    type: str
    title: str
    year: int | None = None
    anime_type: str | None = None
    all_titles: tuple[str, ...] = ()

    def label(self) -> str:
        """Return "Title (year) simkl=ID" for reports."""
        year = "?" if self.year is None else str(self.year)
        return f"{self.title} ({year}) simkl={self.simkl}"

    def to_json(self) -> dict[str, Any]:
        return {
            "simkl": self.simkl,
            "type": self.type,
            "title": self.title,
            "year": self.year,
            "anime_type": self.anime_type,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            simkl=int(data["simkl"]),
            type=str(data["type"]),
            title=str(data["title"]),
            year=data.get("year"),
            anime_type=data.get("anime_type"),
        )


@dataclass(frozen=True)
class Decision:
    """The resolver's result for one source item: matched, ambiguous or not found.

    `episodes` is set only when an episode-level id was looked up on its own
    (an IMDb "TV Episode" row): its (season, episode) pairs place the row in
    the show that `simkl` names, two pairs for an episode Simkl splits.
    `ids` contains external ids an override sets on the item's rows in place
    of the source's ids.
    """

    how: str
    status: str
    simkl: int | None = None
    simkl_type: str | None = None
    confidence: str | None = None
    candidates: tuple[Candidate, ...] = ()
    detail: str = ""
    episodes: tuple[tuple[int, int], ...] = ()
    ids: tuple[tuple[str, Any], ...] = ()

    @property
    def matched(self) -> bool:
        return self.status == STATUS_MATCHED

    def with_detail(self, detail: str) -> Decision:
        return replace(self, detail=detail)

    def candidates_text(self) -> str | None:
        if not self.candidates:
            return None
        return " | ".join(candidate.label() for candidate in self.candidates)

    def to_json(self) -> str:
        data = {
            "how": self.how,
            "status": self.status,
            "simkl": self.simkl,
            "simkl_type": self.simkl_type,
            "confidence": self.confidence,
            "candidates": [c.to_json() for c in self.candidates],
            "detail": self.detail,
            "episodes": [list(pair) for pair in self.episodes],
            "ids": [list(pair) for pair in self.ids],
        }
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Decision:
        data = json.loads(text)
        return cls(
            how=data["how"],
            status=data["status"],
            simkl=data.get("simkl"),
            simkl_type=data.get("simkl_type"),
            confidence=data.get("confidence"),
            candidates=tuple(Candidate.from_json(c) for c in data["candidates"]),
            detail=data.get("detail", ""),
            episodes=tuple((s, e) for s, e in data.get("episodes", [])),
            ids=tuple((key, value) for key, value in data.get("ids", [])),
        )


def not_found(detail: str, candidates: tuple[Candidate, ...] = ()) -> Decision:
    """Return a "not found" decision with the reason and any near misses."""
    return Decision(
        how=HOW_NONE, status=STATUS_NOT_FOUND, candidates=candidates, detail=detail
    )


def ambiguous(detail: str, candidates: tuple[Candidate, ...]) -> Decision:
    """Return an "ambiguous" decision listing every candidate."""
    return Decision(
        how=HOW_NONE, status=STATUS_AMBIGUOUS, candidates=candidates, detail=detail
    )


def matched(
    how: str, candidate: Candidate, confidence: str, detail: str = ""
) -> Decision:
    """Return a match on `candidate`."""
    return Decision(
        how=how,
        status=STATUS_MATCHED,
        simkl=candidate.simkl,
        simkl_type=candidate.type,
        confidence=confidence,
        detail=detail,
    )


@dataclass
class Resolution:
    """What `resolve_events` found.

    `events` contains the matched rows with `simkl` filled, `matches` one row
    per source item, `unresolved` the rows left out (skip frame shape),
    `placements` the episode rows whose numbering changed, `summary`
    item counts per source ("matched", "ambiguous", "unmatched") plus
    "unplaced_episodes" rows, and `review` the lines of the review CSV.
    """

    events: pl.DataFrame = field(default_factory=empty_events)
    matches: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=MATCH_SCHEMA)
    )
    unresolved: pl.DataFrame = field(default_factory=empty_skips)
    placements: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=PLACEMENT_SCHEMA)
    )
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    review: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=REVIEW_SCHEMA)
    )
