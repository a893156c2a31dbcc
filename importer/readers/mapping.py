"""Declarative mapping files (TOML) for CSV- and JSON-shaped exports.

A mapping names the columns of one export layout, how to recognize it and
how to turn its values into events; `mappings/README.md` documents the keys.
Built-in mappings live in the repository's `mappings/` folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import polars as pl

from importer.errors import MappingError
from importer.events import RECORDS
from importer.readers.values import RATING_SCALES

# The built-in mappings: mappings/ in the repository, which a wheel installs
# as the data package importer.builtin_mappings (see pyproject.toml).
MAPPINGS = "importer.builtin_mappings"

# Meanings of a value in the media type column.
MEDIA_MOVIE = "movie"
MEDIA_SHOW = "show"
MEDIA_ANIME = "anime"
# An episode row whose item ids are the show's, placed by season and number.
MEDIA_EPISODE = "episode"
# An episode row identified only by its own IMDb id (IMDb's TV Episode).
MEDIA_EPISODE_BY_ID = "episode_by_id"
# A whole series: it can be rated or watchlisted, but it is not a viewing.
MEDIA_SERIES = "series"
MEDIA_IGNORE = "ignore"
MEDIA_KINDS = (
    MEDIA_MOVIE,
    MEDIA_SHOW,
    MEDIA_ANIME,
    MEDIA_EPISODE,
    MEDIA_EPISODE_BY_ID,
    MEDIA_SERIES,
    MEDIA_IGNORE,
)
RECORD_SKIP = "skip"

FIELDS = (
    "title",
    "year",
    "media_type",
    "record",
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
    "season",
    "episode",
    "episode_abs",
    "ep_tvdb",
    "ep_imdb",
    "ep_tmdb",
    "ep_trakt",
    "watched_at",
    "rating",
    "rewatch",
    "play_count",
    "release_date",
    "bulk_flag",
    "row_key",
)


@dataclass(frozen=True)
class Mapping:
    """One export layout: its columns, detection rules and value maps."""

    name: str
    description: str
    path: Path
    kind: str = "csv"
    priority: int = 0
    record: str = "watch"
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    detect: tuple[tuple[str, ...], ...] = ()
    detect_any: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    default_media_type: str = MEDIA_MOVIE
    media_types: dict[str, str] = field(default_factory=dict)
    records: dict[str, str] = field(default_factory=dict)
    rating_scale: str = "10"
    rewatch_pattern: str | None = None
    rewatch: bool | None = None
    row_key_pattern: str | None = None
    bulk_detect: bool = False
    watch_when_rated: bool = False
    records_path: tuple[str, ...] = ("",)
    explode: str | None = None

    def resolve(self, headers: list[str]) -> dict[str, str]:
        """Return field -> header for each field with an alias in `headers`."""
        present = set(headers)
        found = {}
        for name, aliases in self.columns.items():
            header = next((a for a in aliases if a in present), None)
            if header is not None:
                found[name] = header
        return found

    def score(self, headers: list[str]) -> int | None:
        """Return how well `headers` fit this mapping, or None if they do not."""
        present = set(headers)
        if not all(any(a in present for a in group) for group in self.detect):
            return None
        resolved = self.resolve(headers)
        if self.detect_any and not any(f in resolved for f in self.detect_any):
            return None
        return self.priority * 100 + len(resolved)


def load_mapping(path: str | Path, *, check_patterns: bool = True) -> Mapping:
    """Load and check one mapping file. Raises MappingError when it is invalid.

    `check_patterns` compiles the regexes with polars, which starts polars'
    thread pool in this process.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise MappingError(
            "mapping file not found",
            file=str(path),
            hint="Check the path, or pass the name of a built-in mapping such as "
            "generic, imdb-ratings or tvtime-seen-2020.",
        ) from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MappingError(
            f"invalid TOML: {error}", file=str(path), hint="Fix the mapping file."
        ) from error
    try:
        mapping = _build(raw, path)
    except (TypeError, ValueError, AttributeError) as error:
        raise MappingError(
            f"invalid mapping: {error}",
            file=str(path),
            hint="Check the value types against mappings/README.md.",
        ) from error
    if check_patterns:
        for key in ("rewatch_pattern", "row_key_pattern"):
            if key in raw:
                _check_pattern(raw[key], key, str(path))
    return mapping


# Each key of a mapping file, with the type its value must have.
_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "description": (str,),
    "kind": (str,),
    "priority": (int,),
    "record": (str,),
    "default_media_type": (str,),
    "rating_scale": (str,),
    "watch_when_rated": (bool,),
    "bulk_detect": (bool,),
    "rewatch": (bool,),
    "rewatch_pattern": (str,),
    "row_key_pattern": (str,),
    "required": (list,),
    "detect": (dict,),
    "columns": (dict,),
    "media_types": (dict,),
    "records": (dict,),
    "json": (dict,),
}
_SECTION_KEYS = {
    "detect": ("headers", "any_field"),
    "json": ("records_path", "explode"),
}
_KINDS = ("csv", "json")
_TYPE_NAMES = {
    str: "a string",
    int: "a whole number",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


def _check_layout(raw: dict, display_path: str) -> None:
    """Raise MappingError for an unknown key or a value of the wrong type."""
    _check_keys(raw, display_path)
    _check_types(raw, display_path)
    _check_settings(raw, display_path)


def _check_keys(raw: dict, display_path: str) -> None:
    unknown = sorted(set(raw) - set(_KEY_TYPES))
    for section, keys in _SECTION_KEYS.items():
        table = raw.get(section)
        if isinstance(table, dict):
            unknown += [f"{section}.{key}" for key in sorted(set(table) - set(keys))]
    if unknown:
        raise MappingError(
            f"unknown key {', '.join(unknown)}",
            file=display_path,
            hint="Check the spelling against mappings/README.md.",
        )


def _check_types(raw: dict, display_path: str) -> None:
    for key, types in _KEY_TYPES.items():
        value = raw.get(key)
        # bool is an int in Python, but priority = true is a mistake.
        wrong = isinstance(value, bool) and bool not in types
        if value is not None and (wrong or not isinstance(value, types)):
            raise MappingError(
                f"`{key}` must be {_TYPE_NAMES[types[0]]}, not {value!r}",
                file=display_path,
                hint="Check the value types against mappings/README.md.",
            )
    for section, key in (("json", "records_path"), ("detect", "any_field")):
        value = raw.get(section, {}).get(key, [])
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise MappingError(
                f"`{section}.{key}` must be a list of strings, not {value!r}",
                file=display_path,
                hint="Check the value types against mappings/README.md.",
            )
    explode = raw.get("json", {}).get("explode")
    if explode is not None and not isinstance(explode, str):
        raise MappingError(
            f"`json.explode` must be a string, not {explode!r}",
            file=display_path,
            hint='Name the list column, such as explode = "watches".',
        )


def _check_settings(raw: dict, display_path: str) -> None:
    _check_values({"kind": raw.get("kind", "csv")}, _KINDS, "kind", display_path)
    scale = raw.get("rating_scale", "10")
    scales = tuple(RATING_SCALES)
    _check_values({"rating_scale": scale}, scales, "rating_scale", display_path)
    required = raw.get("required", [])
    _check_values(dict(enumerate(required)), FIELDS, "required", display_path)


def _check_pattern(pattern: str, key: str, display_path: str) -> None:
    """Raise MappingError unless polars accepts `pattern` as a regex."""
    try:
        pl.select(pl.lit("").str.contains(pattern))
    except pl.exceptions.PolarsError as error:
        raise MappingError(
            f"invalid regular expression in `{key}`: {pattern!r}",
            file=display_path,
            hint="Fix the pattern (Rust regex syntax, no look-around).",
        ) from error


def _build(raw: dict, path: Path) -> Mapping:
    display_path = str(path)
    _check_layout(raw, display_path)
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise MappingError(
            "missing `name`", file=display_path, hint='Add name = "...".'
        )
    columns = {
        key: _aliases(value, key, display_path)
        for key, value in raw.get("columns", {}).items()
    }
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise MappingError(
            f"unknown field {', '.join(unknown)} in [columns]",
            file=display_path,
            hint=f"Use fields from: {', '.join(FIELDS)}.",
        )

    detect = raw.get("detect", {})
    media = raw.get("media_types", {})
    records = raw.get("records", {})
    _check_values(media, MEDIA_KINDS, "media_types", display_path)
    _check_values(records, (*RECORDS, RECORD_SKIP), "records", display_path)
    record = raw.get("record", "watch")
    _check_values({"record": record}, RECORDS, "record", display_path)
    default_media = raw.get("default_media_type", MEDIA_MOVIE)
    _check_values(
        {"default_media_type": default_media},
        MEDIA_KINDS,
        "default_media_type",
        display_path,
    )
    json_section = raw.get("json", {})

    return Mapping(
        name=name,
        description=str(raw.get("description", "")),
        path=path,
        kind=raw.get("kind", "csv"),
        priority=int(raw.get("priority", 0)),
        record=record,
        columns=columns,
        detect=tuple(
            _aliases(group, "detect.headers", display_path)
            for group in detect.get("headers", [])
        ),
        detect_any=tuple(detect.get("any_field", [])),
        required=tuple(raw.get("required", [])),
        default_media_type=default_media,
        media_types={str(k).lower(): v for k, v in media.items()},
        records={str(k).lower(): v for k, v in records.items()},
        rating_scale=str(raw.get("rating_scale", "10")),
        rewatch_pattern=raw.get("rewatch_pattern"),
        rewatch=raw.get("rewatch"),
        row_key_pattern=raw.get("row_key_pattern"),
        bulk_detect=bool(raw.get("bulk_detect", False)),
        watch_when_rated=bool(raw.get("watch_when_rated", False)),
        records_path=tuple(json_section.get("records_path", [""])),
        explode=json_section.get("explode"),
    )


def _aliases(value: object, key: str, display_path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MappingError(
        f"`{key}` must be a header name or a list of header names",
        file=display_path,
        hint='Write it as key = ["Header", "Other Header"].',
    )


def _check_values(
    values: dict, allowed: tuple[str, ...], section: str, display_path: str
) -> None:
    bad = sorted({str(v) for v in values.values() if v not in allowed})
    if bad:
        raise MappingError(
            f"invalid value {', '.join(bad)} in `{section}`",
            file=display_path,
            hint=f"Use one of: {', '.join(allowed)}.",
        )


def _mappings_folder() -> Traversable:
    """Return the folder of the built-in mappings."""
    try:
        return resources.files(MAPPINGS)
    except ModuleNotFoundError:
        # A checkout or an editable install imports importer/ from the
        # repository, where the mappings are in mappings/ beside it.
        return Path(__file__).resolve().parents[2] / "mappings"


def builtin_mappings() -> dict[str, Mapping]:
    """Load every mapping shipped in `mappings/`, keyed by name."""
    found: dict[str, Mapping] = {}
    folder = _mappings_folder()
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if entry.name.endswith(".toml"):
            # Built-in mappings load when the package is imported, and a
            # process forked after polars started its thread pool (as
            # multiprocessing's forkserver does) can hang in polars. A test
            # checks their patterns instead.
            with resources.as_file(entry) as path:
                mapping = load_mapping(path, check_patterns=False)
            found[mapping.name] = mapping
    return found
