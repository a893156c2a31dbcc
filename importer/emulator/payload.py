"""Parsing of `POST /sync/history` bodies into typed writes.

The whole body is checked before anything is applied, so a malformed
request changes nothing and gets one 400 envelope naming the bad field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from importer.emulator.account import LIST_STATUSES, SESSION_STATUSES, parse_time
from importer.emulator.catalog import normalize_ids

BUCKETS = ("movies", "shows", "anime", "episodes")


class ApiFailure(Exception):
    """An error response: HTTP status, Simkl error id and a message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        self.status = status
        self.error = error
        self.message = message
        super().__init__(message)

    def envelope(self) -> dict[str, Any]:
        return {"error": self.error, "code": self.status, "message": self.message}


def bad_request(message: str, error: str = "wrong_parameter") -> ApiFailure:
    return ApiFailure(400, error, message)


@dataclass
class EpisodeRef:
    """One episode of a write, by number, by episode ids, or both."""

    season: int | None
    number: int | None
    ids: dict[str, str]
    watched_at: datetime | None
    raw: dict[str, Any]


@dataclass
class SeasonRef:
    """One season of a show write; `episodes` None means the whole season."""

    number: int
    watched_at: datetime | None
    episodes: list[EpisodeRef] | None


@dataclass
class ItemWrite:
    """One entry of movies[], shows[], anime[] or episodes[]."""

    bucket: str
    raw: dict[str, Any]
    ids: dict[str, str]
    title: str | None
    year: int | None
    watched_at: datetime | None
    status: str | None
    seasons: list[SeasonRef] | None
    episodes: list[EpisodeRef] | None
    is_rewatch: bool
    rewatch_id: int | None
    rewatch_status: str | None
    rating: int | None

    @property
    def lists_episodes(self) -> bool:
        return self.seasons is not None or self.episodes is not None


def _integer(value: Any, where: str, *, optional: bool = True) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{where} must be an integer, got {value!r}")
    return value


def _instant(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{where} must be an ISO-8601 string, got {value!r}")
    try:
        return parse_time(value).replace(microsecond=0)
    except ValueError:
        raise bad_request(f"{where} is not an ISO-8601 date-time: {value!r}") from None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise bad_request(f"{where} must be a JSON array, got {type(value).__name__}")
    return value


def _ids(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    try:
        return normalize_ids(_object(value, where))
    except ValueError as error:
        raise bad_request(f"{where}: {error}") from None


def _episode(raw: Any, where: str, season: int | None) -> EpisodeRef:
    raw = _object(raw, where)
    number = _integer(raw.get("number", raw.get("episode")), f"{where}.number")
    ids = _ids(raw.get("ids"), f"{where}.ids")
    if number is None and not ids:
        raise bad_request(f"{where} needs a number or episode ids", "empty_field")
    watched_at = _instant(raw.get("watched_at"), f"{where}.watched_at")
    return EpisodeRef(season, number, ids, watched_at, raw)


def _season(raw: Any, where: str) -> SeasonRef:
    raw = _object(raw, where)
    number = _integer(raw.get("number"), f"{where}.number", optional=False)
    assert number is not None
    episodes = None
    if raw.get("episodes") is not None:
        episodes = [
            _episode(ep, f"{where}.episodes[{i}]", number)
            for i, ep in enumerate(_list(raw["episodes"], f"{where}.episodes"))
        ]
    return SeasonRef(
        number, _instant(raw.get("watched_at"), f"{where}.watched_at"), episodes
    )


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise bad_request(f"{where} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _rating(value: Any, where: str) -> int | None:
    rating = _integer(value, where)
    if rating is not None and not 0 <= rating <= 10:
        raise bad_request(f"{where} must be between 1 and 10, got {rating}")
    return rating or None


def _seasons(raw: dict[str, Any], where: str) -> list[SeasonRef] | None:
    if raw.get("seasons") is None:
        return None
    items = _list(raw["seasons"], f"{where}.seasons")
    return [_season(season, f"{where}.seasons[{i}]") for i, season in enumerate(items)]


def _flat_episodes(raw: dict[str, Any], where: str) -> list[EpisodeRef] | None:
    """Parse a show's flat `episodes[]`, which Simkl reads as season 1."""
    if raw.get("episodes") is None:
        return None
    items = _list(raw["episodes"], f"{where}.episodes")
    return [_episode(ep, f"{where}.episodes[{i}]", 1) for i, ep in enumerate(items)]


def _item(raw: Any, bucket: str, where: str) -> ItemWrite:
    raw = _object(raw, where)
    seasons = _seasons(raw, where)
    episodes = None if bucket == "episodes" else _flat_episodes(raw, where)

    is_rewatch = raw.get("is_rewatch", False)
    if not isinstance(is_rewatch, bool):
        raise bad_request(
            f"{where}.is_rewatch must be true or false, got {is_rewatch!r}"
        )
    title = raw.get("title")
    if title is not None and not isinstance(title, str):
        raise bad_request(f"{where}.title must be a string, got {title!r}")
    year = raw.get("year")
    year = year if isinstance(year, int) and not isinstance(year, bool) else None
    return ItemWrite(
        bucket=bucket,
        raw=raw,
        ids=_ids(raw.get("ids"), f"{where}.ids"),
        title=title,
        year=year,
        watched_at=_instant(raw.get("watched_at"), f"{where}.watched_at"),
        status=_choice(raw.get("status"), LIST_STATUSES, f"{where}.status"),
        seasons=seasons,
        episodes=episodes,
        is_rewatch=is_rewatch,
        rewatch_id=_integer(raw.get("rewatch_id"), f"{where}.rewatch_id"),
        rewatch_status=_choice(
            raw.get("rewatch_status"), SESSION_STATUSES, f"{where}.rewatch_status"
        ),
        rating=_rating(raw.get("rating"), f"{where}.rating"),
    )


def parse_history_body(body: Any) -> list[ItemWrite]:
    """Parse a history body into writes in the order they are applied.

    Raises ApiFailure (400) when the body or any entry has the wrong shape.
    """
    body = _object(body, "request body")
    if not any(body.get(bucket) for bucket in BUCKETS):
        raise bad_request(
            "request body has no movies, shows, anime or episodes to write",
            "empty_field",
        )
    writes: list[ItemWrite] = []
    for bucket in BUCKETS:
        if body.get(bucket) is None:
            continue
        for index, raw in enumerate(_list(body[bucket], bucket)):
            writes.append(_item(raw, bucket, f"{bucket}[{index}]"))
    return writes
