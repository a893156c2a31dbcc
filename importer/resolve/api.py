"""The part of the Simkl API the resolver uses, and parsers of its responses.

The resolver needs only GET requests. `SearchApi` is anything with a
`get(path, params)` method that returns decoded JSON, such as
`importer.client.SimklClient`; a plain callable with that signature works
too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from importer.errors import ApiError
from importer.resolve.model import Candidate

log = logging.getLogger(__name__)

Params = Mapping[str, object]


class SearchApi(Protocol):
    def get(self, path: str, params: Params) -> Any: ...


class CallableApi:
    """Adapt a callable `get(path, params) -> JSON` to `SearchApi`."""

    def __init__(self, function: Callable[[str, Params], Any]) -> None:
        self._function = function

    def get(self, path: str, params: Params) -> Any:
        return self._function(path, params)


def as_search_api(api: SearchApi | Callable[[str, Params], Any]) -> SearchApi:
    """Return `api` as an object with a `get` method."""
    if hasattr(api, "get"):
        return api  # type: ignore[return-value]
    return CallableApi(api)  # type: ignore[arg-type]


# Search responses name a type in "type" (movie, tv, anime, episode) or in
# "endpoint_type" (movies, tv, shows, anime).
_ENDPOINT_TYPES = {
    "movies": "movie",
    "movie": "movie",
    "tv": "tv",
    "show": "tv",
    "shows": "tv",
    "anime": "anime",
    "episode": "episode",
    "episodes": "episode",
}


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None


def simkl_id_of(obj: Mapping[str, Any]) -> int | None:
    """Return the Simkl id of a response object (`ids.simkl` or `ids.simkl_id`)."""
    ids = obj.get("ids") or {}
    return _int_or_none(ids.get("simkl", ids.get("simkl_id")))


def parse_candidate(
    obj: Mapping[str, Any], default_type: str | None = None
) -> Candidate | None:
    """Return the candidate a search result describes, or None if it has no id."""
    simkl = simkl_id_of(obj)
    if simkl is None:
        return None
    raw_type = obj.get("type") or obj.get("endpoint_type") or default_type or ""
    titles = obj.get("all_titles") or ()
    return Candidate(
        simkl=simkl,
        type=_ENDPOINT_TYPES.get(str(raw_type).lower(), str(raw_type).lower()),
        title=str(obj.get("title") or ""),
        year=_int_or_none(obj.get("year")),
        anime_type=obj.get("anime_type"),
        all_titles=tuple(str(t) for t in titles if t),
    )


def parse_candidates(payload: Any, default_type: str | None = None) -> list[Candidate]:
    """Return the distinct candidates of a search response (null counts as none)."""
    if not isinstance(payload, list):
        return []
    seen: set[int] = set()
    out: list[Candidate] = []
    for obj in payload:
        if not isinstance(obj, Mapping):
            continue
        candidate = parse_candidate(obj, default_type)
        if candidate is None or candidate.simkl in seen:
            continue
        seen.add(candidate.simkl)
        out.append(candidate)
    return out


@dataclass(frozen=True)
class EpisodeHit:
    """An episode that `/search/id` found by an episode-level id."""

    show: Candidate
    season: int
    episode: int


def parse_episode_hits(payload: Any) -> list[EpisodeHit]:
    """Return the episodes in a `/search/id` response for an episode id.

    Such a result has type "episode", the episode's `season` and `episode`
    (or `number`), either at the top or in an `episode` object, and the show
    in a `show` object.
    """
    if not isinstance(payload, list):
        return []
    hits: list[EpisodeHit] = []
    for obj in payload:
        if (
            not isinstance(obj, Mapping)
            or str(obj.get("type", "")).lower() != "episode"
        ):
            continue
        show_obj = obj.get("show")
        nested = obj.get("episode")
        episode_obj: Mapping[str, Any] = nested if isinstance(nested, Mapping) else obj
        if not isinstance(show_obj, Mapping):
            continue
        show = parse_candidate(show_obj, default_type="tv")
        season = _int_or_none(episode_obj.get("season"))
        number = _int_or_none(episode_obj.get("episode", episode_obj.get("number")))
        if show is None or season is None or number is None:
            continue
        hits.append(EpisodeHit(show=show, season=season, episode=number))
    return hits


@dataclass(frozen=True)
class TargetEpisode:
    """One episode of a show's episode list on Simkl."""

    season: int
    episode: int
    ids: tuple[tuple[str, str], ...] = ()
    absolute: int | None = None


def parse_episode_list(payload: Any) -> list[TargetEpisode]:
    """Return the episodes of a `/tv/episodes/{id}` or `/anime/episodes/{id}` response.

    Specials (type "special") without a season count as season 0. External
    ids are kept as strings so that ids of every namespace compare alike.
    """
    if not isinstance(payload, list):
        return []
    out: list[TargetEpisode] = []
    for obj in payload:
        if not isinstance(obj, Mapping):
            continue
        season = _int_or_none(obj.get("season"))
        if season is None and str(obj.get("type", "")).lower() == "special":
            season = 0
        number = _int_or_none(obj.get("episode", obj.get("number")))
        if season is None or number is None:
            continue
        raw_ids = obj.get("ids") or {}
        ids = tuple(
            sorted(
                (str(key), str(value))
                for key, value in raw_ids.items()
                if key in ("tvdb", "imdb", "tmdb") and value not in (None, "", 0)
            )
        )
        absolute = _int_or_none(
            obj.get("abs", obj.get("absolute", obj.get("number_abs")))
        )
        out.append(TargetEpisode(season, number, ids, absolute))
    return out


def get_or_empty(api: SearchApi, path: str, params: Params) -> Any:
    """GET `path`, treating 404 (unknown item) as an empty response."""
    try:
        return api.get(path, params)
    except ApiError as error:
        if error.status == 404:
            log.debug("GET %s %s: 404, treated as no result", path, dict(params))
            return None
        raise
