"""The emulator's catalog: the movies, shows and anime that ids resolve to.

A catalog file is JSON with three lists, `movies`, `shows` and `anime`. Each
entry has a type, title, year, alternative titles, ids, a release date and,
for shows and anime, seasons with aired and not-aired episode counts plus
optional per-episode ids and absolute numbers. docs/emulator.md describes
the format. In auto mode, any external id that the catalog lacks gets a new
item with a stable Simkl id derived from that id.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# External id keys in the order the resolver tries them. `simkl` always wins
# and is handled first.
ID_PRIORITY = (
    "imdb",
    "tmdb",
    "tvdb",
    "mal",
    "anidb",
    "anilist",
    "kitsu",
    "livechart",
    "anisearch",
    "animeplanet",
    "letterboxd",
    "traktslug",
    "trakt",
    "netflix",
    "slug",
)
EPISODE_ID_KEYS = ("simkl", "tvdb", "imdb", "tmdb", "trakt", "crunchyroll", "hulu")
ANIME_ID_KEYS = frozenset(
    {"mal", "anidb", "anilist", "kitsu", "livechart", "anisearch"}
)
KINDS = ("movie", "show", "anime")

_IMDB_PATTERN = re.compile(r"(tt\d+)")
_LETTERBOXD_FILM = re.compile(r"letterboxd\.com/film/([^/?#]+)")


class CatalogError(ValueError):
    """A catalog file or entry that does not follow the catalog format."""


def normalize_id(key: str, value: object) -> str | None:
    """Return the comparable text of one id value, or None when it is empty.

    Raises ValueError for values that cannot be an id (lists, objects, bools).
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"id {key!r} must be a string or an integer, got {value!r}")
    text = str(value).strip()
    if not text:
        return None
    if key == "imdb":
        match = _IMDB_PATTERN.search(text)
        return match.group(1) if match else text.lower()
    if key == "letterboxd":
        match = _LETTERBOXD_FILM.search(text)
        return (match.group(1) if match else text).strip("/").lower()
    if key in ("traktslug", "slug", "animeplanet"):
        return text.lower()
    if text.isdigit():
        return str(int(text))
    return text


def normalize_ids(ids: Mapping[str, object]) -> dict[str, str]:
    """Normalize every usable id of a request or catalog `ids` object."""
    result: dict[str, str] = {}
    for key, value in ids.items():
        text = normalize_id(str(key), value)
        if text is not None:
            result[str(key)] = text
    return result


def fold_title(text: str) -> str:
    """Fold a title for matching: NFKC, case-folded, punctuation as spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    cleaned = "".join(ch if ch.isalnum() else " " for ch in folded)
    return " ".join(cleaned.split())


@dataclass
class Episode:
    """One episode of a show or anime, as the catalog defines it."""

    season: int
    number: int
    aired: bool = True
    absolute: int | None = None
    title: str | None = None
    date: str | None = None
    ids: dict[str, str] = field(default_factory=dict)


@dataclass
class Season:
    """Episode counts of one season: episodes 1..aired have aired."""

    number: int
    aired: int
    not_aired: int = 0


@dataclass
class CatalogItem:
    """A movie, show or anime of the catalog."""

    simkl: int
    kind: str
    title: str
    year: int | None = None
    all_titles: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    release_date: str | None = None
    anime_type: str | None = None
    status: str | None = None
    seasons: dict[int, Season] = field(default_factory=dict)
    episodes: dict[tuple[int, int], Episode] = field(default_factory=dict)
    # Items made up in auto mode accept any season and episode number.
    open_ended: bool = False

    @property
    def simkl_type(self) -> str:
        return "tv" if self.kind == "show" else self.kind

    @property
    def slug(self) -> str:
        return self.ids.get("slug") or fold_title(self.title).replace(" ", "-")

    def has_episode(self, season: int, number: int) -> bool:
        if self.open_ended:
            return season >= 0 and number >= 1
        return (season, number) in self.episodes

    def season_episodes(self, season: int) -> list[tuple[int, int]]:
        """Return the aired episodes of one season, in order."""
        return sorted(
            key for key, ep in self.episodes.items() if key[0] == season and ep.aired
        )

    def aired_episodes(self) -> list[tuple[int, int]]:
        """Return every aired regular episode (season 1 and later), in order."""
        return sorted(
            key for key, ep in self.episodes.items() if key[0] >= 1 and ep.aired
        )

    @property
    def total_episodes(self) -> int:
        return sum(s.aired + s.not_aired for n, s in self.seasons.items() if n >= 1)

    @property
    def not_aired_episodes(self) -> int:
        return sum(s.not_aired for n, s in self.seasons.items() if n >= 1)

    @property
    def aired_count(self) -> int:
        """Aired regular episodes: total minus not aired (0 when open-ended)."""
        return self.total_episodes - self.not_aired_episodes

    def public_ids(self) -> dict[str, Any]:
        """Return ids as the sync endpoints show them: simkl int, others text."""
        ids: dict[str, Any] = {"simkl": self.simkl, "slug": self.slug}
        for key, value in self.ids.items():
            if key != "slug":
                ids[key] = value
        return ids

    def to_json(self) -> dict[str, Any]:
        """Return the catalog-file form of this item."""
        return {
            "type": self.kind,
            "title": self.title,
            "year": self.year,
            "all_titles": self.all_titles,
            "ids": {"simkl": self.simkl, **self.ids},
            "release_date": self.release_date,
            "anime_type": self.anime_type,
            "status": self.status,
            "open_ended": self.open_ended,
            "seasons": [
                {"number": s.number, "aired": s.aired, "not_aired": s.not_aired}
                for s in self.seasons.values()
            ],
        }


def _series_group(kind: str) -> str:
    # TMDB ids of movies and of TV series are separate namespaces, so the
    # index keeps movies apart from shows and anime.
    return "movie" if kind == "movie" else "series"


class Catalog:
    """An index of catalog items by Simkl id and by every external id."""

    def __init__(self, items: Iterable[CatalogItem] = (), *, auto: bool = False):
        self.auto = auto
        self.auto_created: set[int] = set()
        self.items: dict[int, CatalogItem] = {}
        self._by_id: dict[tuple[str, str, str], CatalogItem] = {}
        self._by_episode_id: dict[tuple[str, str], list[tuple[CatalogItem, Episode]]]
        self._by_episode_id = {}
        for item in items:
            self.add(item)

    def add(self, item: CatalogItem) -> None:
        if item.simkl in self.items:
            raise CatalogError(f"duplicate simkl id {item.simkl} in the catalog")
        self.items[item.simkl] = item
        self._index_item(item)

    def _index_item(self, item: CatalogItem) -> None:
        group = _series_group(item.kind)
        for key, value in item.ids.items():
            self._by_id.setdefault((group, key, value), item)
        for episode in item.episodes.values():
            for key, value in episode.ids.items():
                entries = self._by_episode_id.setdefault((key, value), [])
                entries.append((item, episode))

    def register_ids(self, item: CatalogItem, ids: Mapping[str, str]) -> None:
        """Add ids to an auto item so later requests with them find it."""
        group = _series_group(item.kind)
        for key, value in ids.items():
            if key == "simkl" or key in item.ids:
                continue
            if (group, key, value) not in self._by_id:
                item.ids[key] = value
                self._by_id[(group, key, value)] = item

    def by_simkl(self, simkl: int) -> CatalogItem | None:
        return self.items.get(simkl)

    def lookup(
        self, kinds: tuple[str, ...], ids: Mapping[str, str]
    ) -> CatalogItem | None:
        """Find the item of one of `kinds` that `ids` name, or None."""
        if "simkl" in ids:
            item = self.items.get(int(ids["simkl"])) if ids["simkl"].isdigit() else None
            return item if item is not None and item.kind in kinds else None
        groups = {_series_group(kind) for kind in kinds}
        for key in ID_PRIORITY:
            if key not in ids:
                continue
            for group in sorted(groups):
                item = self._by_id.get((group, key, ids[key]))
                if item is not None and item.kind in kinds:
                    return item
        return None

    def resolve(
        self,
        kinds: tuple[str, ...],
        ids: Mapping[str, str],
        *,
        title: str | None = None,
        year: int | None = None,
    ) -> CatalogItem | None:
        """Find the item that `ids` name; in auto mode, make one up if needed."""
        item = self.lookup(kinds, ids)
        if item is not None:
            if item.simkl in self.auto_created:
                self.register_ids(item, ids)
            return item
        if not self.auto:
            return None
        return self._auto_item(kinds, ids, title=title, year=year)

    def _auto_item(
        self,
        kinds: tuple[str, ...],
        ids: Mapping[str, str],
        *,
        title: str | None,
        year: int | None,
    ) -> CatalogItem | None:
        external = {k: v for k, v in ids.items() if k != "simkl"}
        if "simkl" in ids and ids["simkl"].isdigit():
            simkl = int(ids["simkl"])
            if simkl in self.items:
                return None
        elif external:
            simkl = self._stable_simkl_id(kinds, external)
        else:
            return None
        kind = kinds[0]
        if "anime" in kinds and ANIME_ID_KEYS & external.keys():
            kind = "anime"
        elif "show" in kinds and "tvdb" in external:
            # A lookup without a type: TVDB numbers name series, not films.
            kind = "show"
        item = CatalogItem(
            simkl=simkl,
            kind=kind,
            title=title or f"Unknown {kind} {simkl}",
            year=year,
            anime_type="tv" if kind == "anime" else None,
            open_ended=kind != "movie",
        )
        self.add(item)
        self.auto_created.add(simkl)
        self.register_ids(item, external)
        return item

    def _stable_simkl_id(self, kinds: tuple[str, ...], ids: Mapping[str, str]) -> int:
        key = next(k for k in (*ID_PRIORITY, *sorted(ids)) if k in ids)
        group = _series_group(kinds[0])
        digest = hashlib.sha256(f"{group}:{key}:{ids[key]}".encode()).hexdigest()
        simkl = 10_000_000 + int(digest[:12], 16) % 890_000_000
        while simkl in self.items:
            simkl += 1
        return simkl

    def episodes_by_id(
        self, ids: Mapping[str, str]
    ) -> list[tuple[CatalogItem, Episode]]:
        """Return the episodes that episode-level `ids` name (two for a double)."""
        for key in EPISODE_ID_KEYS:
            if key in ids:
                found = self._by_episode_id.get((key, ids[key]))
                if found:
                    return list(found)
        return []

    def search_title(self, kinds: tuple[str, ...], query: str) -> list[CatalogItem]:
        """Return items whose title or alternative title matches `query`."""
        folded = fold_title(query)
        if not folded:
            return []
        words = folded.split()
        year = (
            int(words[-1])
            if len(words) > 1 and re.fullmatch(r"\d{4}", words[-1])
            else None
        )
        without_year = " ".join(words[:-1]) if year is not None else None
        exact: list[CatalogItem] = []
        partial: list[CatalogItem] = []
        for item in self.items.values():
            if item.kind not in kinds:
                continue
            titles = [fold_title(t) for t in (item.title, *item.all_titles)]
            if folded in titles or (without_year in titles and item.year == year):
                exact.append(item)
            elif any(folded in t for t in titles):
                partial.append(item)
        return exact + partial

    def auto_items_json(self) -> list[dict[str, Any]]:
        """Return the items made up in auto mode, for saving with the state."""
        return [self.items[simkl].to_json() for simkl in sorted(self.auto_created)]

    def restore_auto_items(self, raw_items: Iterable[Mapping[str, Any]]) -> None:
        """Add items made up in an earlier run (read from the state file)."""
        for index, raw in enumerate(raw_items):
            item = item_from_json(raw, "movie", f"state auto item {index}")
            if item.simkl not in self.items:
                self.add(item)
                self.auto_created.add(item.simkl)


def _episode_from_json(raw: Mapping[str, Any], where: str) -> Episode:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: each episode must be a JSON object")
    season = raw.get("season")
    number = raw.get("number", raw.get("episode"))
    if not isinstance(season, int) or not isinstance(number, int):
        raise CatalogError(f"{where}: episode needs integer season and number")
    return Episode(
        season=season,
        number=number,
        aired=bool(raw.get("aired", True)),
        absolute=raw.get("absolute"),
        title=raw.get("title"),
        date=raw.get("date"),
        ids=normalize_ids(raw.get("ids") or {}),
    )


def _fill_episodes(item: CatalogItem, explicit: list[Episode]) -> None:
    for season in item.seasons.values():
        for number in range(1, season.aired + season.not_aired + 1):
            aired = number <= season.aired
            item.episodes[(season.number, number)] = Episode(
                season.number, number, aired
            )
    for episode in explicit:
        item.episodes[(episode.season, episode.number)] = episode
    absolute = 0
    for key in sorted(item.episodes):
        if key[0] < 1:
            continue
        absolute += 1
        if item.episodes[key].absolute is None:
            item.episodes[key].absolute = absolute


def _seasons_from_json(raw: Iterable[Any], where: str) -> dict[int, Season]:
    seasons: dict[int, Season] = {}
    for season in raw:
        if not isinstance(season, Mapping):
            raise CatalogError(f"{where}: each season must be a JSON object")
        number = season.get("number")
        aired = season.get("aired", season.get("episodes", 0))
        not_aired = season.get("not_aired", 0)
        integers = (isinstance(v, int) for v in (aired, not_aired))
        if not isinstance(number, int) or not all(integers):
            raise CatalogError(
                f"{where}: a season needs integer number, aired and not_aired"
            )
        seasons[number] = Season(number, aired, not_aired)
    return seasons


def item_from_json(
    raw: Mapping[str, Any], default_kind: str, where: str
) -> CatalogItem:
    """Build a catalog item from its JSON form; raise CatalogError if invalid."""
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: each entry must be a JSON object")
    kind = raw.get("type", default_kind)
    if kind == "tv":
        kind = "show"
    if kind not in KINDS:
        raise CatalogError(f"{where}: type {kind!r} is not one of movie, show, anime")

    try:
        ids = normalize_ids(raw.get("ids") or {})
    except ValueError as error:
        raise CatalogError(f"{where}: {error}") from error
    simkl = ids.pop("simkl", None)
    if simkl is None or not simkl.isdigit():
        raise CatalogError(f"{where}: ids.simkl must be an integer")
    title = raw.get("title")
    if not isinstance(title, str) or not title:
        raise CatalogError(f"{where}: title is missing")

    item = CatalogItem(
        simkl=int(simkl),
        kind=kind,
        title=title,
        year=raw.get("year"),
        all_titles=list(raw.get("all_titles") or []),
        ids=ids,
        release_date=raw.get("release_date"),
        anime_type=raw.get("anime_type") or ("tv" if kind == "anime" else None),
        status=raw.get("status"),
        seasons=_seasons_from_json(raw.get("seasons") or [], where),
        open_ended=bool(raw.get("open_ended", False)),
    )
    explicit = [_episode_from_json(ep, where) for ep in raw.get("episodes") or []]
    _fill_episodes(item, explicit)
    return item


def load_catalog(
    source: Mapping[str, Any] | str | Path | None, *, auto: bool = False
) -> Catalog:
    """Load a catalog from a dict or a JSON file; None gives an empty catalog."""
    if source is None:
        data: Mapping[str, Any] = {}
    elif isinstance(source, Mapping):
        data = source
    else:
        path = Path(source)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise CatalogError(f"cannot read catalog {path}: {error}") from error
        except json.JSONDecodeError as error:
            raise CatalogError(f"catalog {path} is not valid JSON: {error}") from error
        if not isinstance(data, Mapping):
            raise CatalogError(f"catalog {path} must be a JSON object")
    catalog = Catalog(auto=auto)
    for bucket, kind in (("movies", "movie"), ("shows", "show"), ("anime", "anime")):
        for index, raw in enumerate(data.get(bucket) or []):
            catalog.add(item_from_json(raw, kind, f"{bucket}[{index}]"))
    return catalog
