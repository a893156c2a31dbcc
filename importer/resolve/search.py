"""Decide which Simkl item a source item is, through the search endpoints.

A Simkl id in the row is taken as is. External ids are looked up in their
own namespace only, and the result must be of the row's media type. An
item without accepted ids is looked up by its Letterboxd film URL, then by
title, year and type, then by text search filtered by type and year. An
item with ids is never searched by title.
"""

from __future__ import annotations

import logging

from importer.resolve.api import (
    EpisodeHit,
    SearchApi,
    parse_candidates,
    parse_episode_hits,
)
from importer.resolve.items import (
    EPISODE_ID_KEYS,
    KIND_EPISODE_IDS,
    KIND_IDS,
    KIND_SIMKL,
    KIND_TITLE,
    Item,
)
from importer.resolve.model import (
    CONFIDENCE_HIGH,
    CONFIDENCE_LOW,
    CONFIDENCE_MEDIUM,
    HOW_ID,
    HOW_TEXT,
    HOW_TITLE_YEAR,
    HOW_URL,
    STATUS_MATCHED,
    Candidate,
    Decision,
    ResolveOptions,
    ambiguous,
    matched,
    not_found,
)
from importer.resolve.titles import letterboxd_film_url, normalize_title

log = logging.getLogger(__name__)

# The `type` parameter of `/search/id` for each media type of the events.
# A TMDB id needs it because TMDB numbers movies and TV shows separately.
SEARCH_ID_TYPES = {"movie": "movie", "show": "show", "anime": "anime"}
TMDB_TYPES = {"movie": "movie", "show": "show", "anime": "show"}
# Text search endpoints for each media type, in the order they are tried.
TEXT_KINDS: dict[str | None, tuple[str, ...]] = {
    "movie": ("movie",),
    "show": ("tv", "anime"),
    "anime": ("anime",),
    None: ("movie", "tv", "anime"),
}
# Unmatched items list at most this many near misses.
MAX_NEAR_MISSES = 5


def is_compatible(media_type: str | None, candidate: Candidate) -> bool:
    """Return whether a Simkl item of `candidate.type` can be a row of `media_type`.

    Simkl files anime films and series under "anime", and its `anime_type`
    distinguishes them.
    """
    is_anime_movie = candidate.type == "anime" and candidate.anime_type == "movie"
    if media_type == "movie":
        return candidate.type == "movie" or is_anime_movie
    if media_type == "show":
        return candidate.type == "tv" or (
            candidate.type == "anime" and not is_anime_movie
        )
    if media_type == "anime":
        return candidate.type == "anime"
    return candidate.type in ("movie", "tv", "anime")


def title_matches(title: str, candidate: Candidate) -> bool:
    """Return whether `title` equals the candidate's title or an alternative one."""
    wanted = normalize_title(title)
    names = (candidate.title, *candidate.all_titles)
    return any(normalize_title(name) == wanted for name in names)


class Searcher:
    """Turn items into decisions with as few requests as the order allows."""

    def __init__(self, api: SearchApi, options: ResolveOptions) -> None:
        self.api = api
        self.options = options

    def decide(self, item: Item) -> Decision:
        if item.kind == KIND_SIMKL:
            return Decision(
                how=HOW_ID,
                status=STATUS_MATCHED,
                simkl=item.simkl,
                confidence=CONFIDENCE_HIGH,
                detail="Simkl id in the source",
            )
        if item.kind == KIND_IDS:
            return self.by_ids(item)
        if item.kind == KIND_EPISODE_IDS:
            return self.by_episode_ids(item)
        if item.kind == KIND_TITLE:
            return self.by_title(item)
        return not_found("the row has no title and no id that Simkl accepts")

    def by_ids(self, item: Item) -> Decision:
        """Look up each id in its own namespace and keep results of the row's type."""
        mismatches: list[str] = []
        for key, value in item.ids:
            params: dict[str, object] = {key: value}
            if key == "tmdb":
                if item.media_type not in TMDB_TYPES:
                    mismatches.append(
                        f"tmdb {value} skipped: the row has no media type"
                    )
                    continue
                params["type"] = TMDB_TYPES[item.media_type]
            payload = self.api.get("/search/id", params)

            hits = parse_episode_hits(payload)
            if hits and item.media_type in ("show", "anime", None):
                return _episode_decision(hits, f"{key} {value}")

            found = parse_candidates(payload)
            fits = [c for c in found if is_compatible(item.media_type, c)]
            if len(fits) == 1:
                return matched(HOW_ID, fits[0], CONFIDENCE_HIGH, f"{key} {value}")
            if len(fits) > 1:
                detail = f"{key} {value} matches {len(fits)} Simkl items"
                return ambiguous(detail, tuple(fits))
            mismatches.extend(
                f"{key} {value} is a {c.type} on Simkl ({c.label()})" for c in found
            )

        ids_text = ", ".join(f"{key} {value}" for key, value in item.ids)
        detail = f"no Simkl {item.media_type or 'item'} has {ids_text}"
        if mismatches:
            detail += "; " + "; ".join(mismatches)
        return not_found(detail + "; not searched by title")

    def by_episode_ids(self, item: Item) -> Decision:
        """Find a show and episode from episode-level ids alone."""
        # NOTE: the Simkl docs do not show `/search/id` resolving episode ids,
        # and the emulator does not resolve them, so there such rows are
        # reported as not found. The parser accepts a result of type "episode"
        # with `show` and `episode` objects.
        for column, value in item.ids:
            key = EPISODE_ID_KEYS[column]
            payload = self.api.get("/search/id", {key: value})
            hits = parse_episode_hits(payload)
            if hits:
                return _episode_decision(hits, f"episode {key} {value}")
            others = parse_candidates(payload)
            if others:
                labels = ", ".join(f"{c.type} {c.label()}" for c in others)
                log.info(
                    "episode %s %s is not an episode on Simkl: %s", key, value, labels
                )

        ids_text = ", ".join(f"{EPISODE_ID_KEYS[k]} {v}" for k, v in item.ids)
        return not_found(
            f"no Simkl episode has {ids_text}; not searched as a movie title"
        )

    def by_title(self, item: Item) -> Decision:
        """Match by Letterboxd URL, then title and year, then text search."""
        assert item.title is not None
        if item.slug and item.media_type in (None, "movie"):
            url = letterboxd_film_url(item.slug)
            payload = self.api.get("/search/movie", {"q": url})
            fits = [c for c in parse_candidates(payload) if is_compatible("movie", c)]
            if len(fits) == 1:
                return matched(HOW_URL, fits[0], CONFIDENCE_HIGH, url)

        if item.year is not None and item.media_type in SEARCH_ID_TYPES:
            params = {
                "title": item.title,
                "year": item.year,
                "type": SEARCH_ID_TYPES[item.media_type],
            }
            payload = self.api.get("/search/id", params)
            fits = [
                c
                for c in parse_candidates(payload)
                if is_compatible(item.media_type, c) and c.year in (None, item.year)
            ]
            if len(fits) == 1:
                detail = f"title and year {item.year}"
                return matched(HOW_TITLE_YEAR, fits[0], CONFIDENCE_HIGH, detail)

        return self.by_text(item)

    def by_text(self, item: Item) -> Decision:
        """Search the title as text and keep results of the row's type."""
        assert item.title is not None
        hits: list[Candidate] = []
        misses: list[Candidate] = []
        # NOTE: only the first page of results is read, so a title with more
        # than `text_limit` partial matches may miss its exact match.
        for kind in TEXT_KINDS.get(item.media_type, TEXT_KINDS[None]):
            params = {
                "q": item.title,
                "extended": "full",
                "limit": self.options.text_limit,
            }
            payload = self.api.get(f"/search/{kind}", params)
            for candidate in parse_candidates(payload, default_type=kind):
                fits = is_compatible(item.media_type, candidate)
                if fits and title_matches(item.title, candidate):
                    hits.append(candidate)
                else:
                    misses.append(candidate)
            if hits:
                break
        return choose_by_year(item, _unique(hits), _unique(misses))


def choose_by_year(
    item: Item, hits: list[Candidate], misses: list[Candidate]
) -> Decision:
    """Pick the one title match of the row's year, or report why none was picked.

    A year one off is accepted, at low confidence, only when it belongs to
    the only item with the title. With more items, the item is ambiguous.
    """
    kind = item.media_type or "item"
    quoted = f'"{item.title}"'
    if not hits:
        near_misses = tuple(misses[:MAX_NEAR_MISSES])
        return not_found(f"no Simkl {kind} titled {quoted}", near_misses)

    if item.year is None:
        if len(hits) == 1:
            detail = "title only: the row has no year"
            return matched(HOW_TEXT, hits[0], CONFIDENCE_LOW, detail)
        detail = f"{len(hits)} Simkl {kind}s titled {quoted} and the row has no year"
        return ambiguous(detail, tuple(hits))

    exact = [c for c in hits if c.year == item.year]
    if len(exact) == 1:
        return matched(
            HOW_TEXT, exact[0], CONFIDENCE_MEDIUM, f"title and year {item.year}"
        )
    if len(exact) > 1:
        detail = f"{len(exact)} Simkl {kind}s titled {quoted} from {item.year}"
        return ambiguous(detail, tuple(exact))

    near = [c for c in hits if c.year is not None and abs(c.year - item.year) == 1]
    if near and len(hits) == 1:
        detail = f"year {near[0].year} on Simkl, {item.year} in the source"
        return matched(HOW_TEXT, near[0], CONFIDENCE_LOW, detail)
    if near:
        detail = (
            f"no {quoted} from {item.year}; {len(hits)} Simkl {kind}s share the title"
        )
        return ambiguous(detail, tuple(hits))
    detail = f"no Simkl {kind} titled {quoted} from {item.year} or a year next to it"
    return not_found(detail, tuple(hits[:MAX_NEAR_MISSES]))


def _episode_decision(hits: list[EpisodeHit], label: str) -> Decision:
    shows = {hit.show.simkl for hit in hits}
    if len(shows) > 1:
        return ambiguous(
            f"{label} matches episodes of {len(shows)} shows",
            tuple(h.show for h in hits),
        )
    show = hits[0].show
    positions = tuple(sorted({(hit.season, hit.episode) for hit in hits}))
    codes = " and ".join(f"S{s:02d}E{e:02d}" for s, e in positions)
    return Decision(
        how=HOW_ID,
        status=STATUS_MATCHED,
        simkl=show.simkl,
        simkl_type=show.type,
        confidence=CONFIDENCE_HIGH,
        detail=f"{label} is {codes} of {show.label()}",
        episodes=positions,
    )


def _unique(candidates: list[Candidate]) -> list[Candidate]:
    seen: set[int] = set()
    out = []
    for candidate in candidates:
        if candidate.simkl not in seen:
            seen.add(candidate.simkl)
            out.append(candidate)
    return out
