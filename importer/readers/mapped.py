"""The generic reader: CSV or JSON rows turned into events by a mapping."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from importer.dates import (
    DatePolicy,
    add_date_columns,
    date_columns,
    parse_date,
    parse_watched_at,
)
from importer.errors import ReadError
from importer.events import (
    RECORD_RATING,
    RECORD_WATCH,
    RECORD_WATCHLIST,
    conform,
    conform_skips,
)
from importer.readers.base import FileSummary, ReadOptions
from importer.readers.csvio import LINE_COLUMN
from importer.readers.mapping import (
    MEDIA_ANIME,
    MEDIA_EPISODE,
    MEDIA_EPISODE_BY_ID,
    MEDIA_IGNORE,
    MEDIA_MOVIE,
    MEDIA_SERIES,
    MEDIA_SHOW,
    RECORD_SKIP,
    Mapping,
)
from importer.readers.values import (
    Parse,
    by_distinct,
    count_parse,
    flag,
    imdb_id_parse,
    int_id_parse,
    text,
    with_parses,
    with_rating,
    with_year,
)

logger = logging.getLogger(__name__)

NOTE_FROM_RATING = "date_from_rating"
NOTE_BULK = "bulk_marked"

_INT_IDS = ("simkl", "tmdb", "tvdb", "mal", "anidb", "anilist", "kitsu", "trakt")
_EPISODE_INT_IDS = ("ep_tvdb", "ep_tmdb", "ep_trakt")
_STRING_IDS = ("trakt_slug", "letterboxd")
_NUMBERS = ("season", "episode", "episode_abs")


def json_records(data: bytes, mapping: Mapping, display: str) -> pl.DataFrame | None:
    """Return the rows of a JSON document as a flat frame, or None.

    The rows are the list at the first of `mapping.records_path` that contains
    a list of objects ("" is a top-level array). Nested objects become
    dotted column names (`ids.tmdb`), and `mapping.explode` names a list
    column that yields one row per element.
    """
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReadError(
            f"invalid JSON: {error}",
            file=display,
            hint="Export the file again; it may be cut short.",
        ) from error
    for path in mapping.records_path:
        items = _at_path(document, path)
        if not isinstance(items, list) or not items:
            continue
        if not all(isinstance(item, dict) for item in items):
            continue
        try:
            return _flatten(items, mapping)
        except (pl.exceptions.PolarsError, TypeError, ValueError) as error:
            logger.info("%s: items do not fit %s (%s)", display, mapping.name, error)
            return None
    return None


def _at_path(document: object, path: str) -> object:
    node = document
    for key in filter(None, path.split(".")):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _flatten(items: list[dict], mapping: Mapping) -> pl.DataFrame:
    frame = pl.json_normalize(items, separator=".", infer_schema_length=None)
    frame = frame.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(LINE_COLUMN)
    )
    explode = mapping.explode
    if explode and explode in frame.columns:
        frame = frame.explode(explode)
        if isinstance(frame.schema[explode], pl.Struct):
            frame = frame.with_columns(
                pl.col(explode).struct.unnest().name.prefix(f"{explode}.")
            )
    casts = [
        pl.col(name).cast(pl.String)
        for name, dtype in frame.schema.items()
        if name != LINE_COLUMN and not isinstance(dtype, pl.List | pl.Struct | pl.Array)
    ]
    return frame.with_columns(casts)


@dataclass
class MappedTable:
    """One file's rows as text columns, with the mapping that reads them.

    `take` hands the frame over once, so that the reader has the only
    reference and can free each source column as soon as it is parsed.
    """

    display: str
    mapping: Mapping
    frame: pl.DataFrame | None

    def take(self) -> pl.DataFrame:
        """Return the frame and forget it; raise ValueError on a second call."""
        frame, self.frame = self.frame, None
        if frame is None:
            raise ValueError(f"{self.display}: table already read")
        return frame


def read_mapped(
    table: MappedTable, options: ReadOptions, policy: DatePolicy
) -> tuple[pl.DataFrame, pl.DataFrame, FileSummary]:
    """Turn one file's rows into events and skips with its mapping.

    Raises ReadError when a column the mapping needs is missing.
    """
    mapping, display = table.mapping, table.display
    frame = table.take()
    headers = [c for c in frame.columns if c != LINE_COLUMN]
    columns = mapping.resolve(headers)
    as_watch = mapping.watch_when_rated and options.rated_as_watched
    _check_required(mapping, columns, headers, display, as_watch)
    _check_flat(frame, columns, display)
    # Only the mapped cells are kept, under names of their own, so that
    # each can be dropped once parsed and never collides with an output.
    work = frame.select(
        pl.lit(display).alias("source_file"),
        pl.col(LINE_COLUMN).alias("source_row"),
        *(pl.col(header).alias(_source(name)) for name, header in columns.items()),
    )
    del frame
    columns = {name: _source(name) for name in columns}
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Where the mapping sets one record kind for every row, the dates do
        # not wait for `_kinds`, so they are parsed beside the other values
        # (polars releases the GIL, and each parse mostly uses one core).
        # NOTE: the two parses overlap, so the read stage of a million-row
        # CSV peaks 30 to 60 MB higher. That is still below the plan stage's
        # peak, so the whole run's peak RSS did not change.
        early = None
        constant = "record" not in columns and mapping.record in _DATED
        if constant and "watched_at" in columns:
            when = work.select(_when(columns, pl.lit(mapping.record)))
            early = pool.submit(date_columns, when, "_when", policy)
        work = _values(work, columns, mapping)
        work = _drop_sources(work, columns, keep=_LATER_FIELDS)
        work = _kinds(work, columns, mapping, as_watch)
        parsed = (when, early.result()) if early is not None else None
    work = _dates(work, columns, mapping, options, policy, as_watch, parsed)
    work = _drop_sources(work, columns, keep=())
    return _split(work, mapping, display)


def _check_flat(frame: pl.DataFrame, columns: dict[str, str], display: str) -> None:
    """Raise ReadError if a mapped JSON key contains lists or objects."""
    for name, header in columns.items():
        if isinstance(frame.schema[header], (pl.List, pl.Array, pl.Struct)):
            raise ReadError(
                f"`{header}` contains lists or objects where {name} values "
                "were expected",
                file=display,
                hint="Give one value per key, or pass --mapping FILE that maps "
                "the nested keys.",
            )


# Records whose rows keep their date.
_DATED = [RECORD_WATCH, RECORD_RATING]

# Fields read after `_values`: by `_kinds` and `_dates`.
_LATER_FIELDS = ("media_type", "record", "row_key", "watched_at", "bulk_flag")


def _source(name: str) -> str:
    return f"_source_{name}"


def _drop_sources(
    work: pl.DataFrame, columns: dict[str, str], keep: tuple[str, ...]
) -> pl.DataFrame:
    """Drop the source cells of every field except those in `keep`."""
    return work.drop(
        [column for name, column in columns.items() if name not in keep],
        strict=False,
    )


def _check_required(
    mapping: Mapping,
    columns: dict[str, str],
    headers: list[str],
    display: str,
    as_watch: bool,
) -> None:
    needed = list(mapping.required)
    if (mapping.record == RECORD_WATCH or as_watch) and "watched_at" not in needed:
        needed.append("watched_at")
    missing = [name for name in needed if name not in columns]
    if not missing:
        return
    tried = "; ".join(
        f"{name}: {', '.join(mapping.columns.get(name, ())) or 'no alias'}"
        for name in missing
    )
    raise ReadError(
        f"missing column for {', '.join(missing)} in a {mapping.name} file "
        f"(headers seen: {', '.join(headers)}; aliases tried: {tried})",
        file=display,
        hint="Rename the column to one of the aliases, or pass --mapping FILE.",
    )


def _column(columns: dict[str, str], name: str) -> pl.Expr:
    if name in columns:
        return pl.col(columns[name])
    return pl.lit(None, dtype=pl.String)


def _values(
    work: pl.DataFrame, columns: dict[str, str], mapping: Mapping
) -> pl.DataFrame:
    """Parse titles, ids, numbers, ratings, flags and counts."""
    parses: dict[str, Parse] = {
        name: int_id_parse(_column(columns, name))
        for name in _INT_IDS + _EPISODE_INT_IDS
    }
    parses["imdb"] = imdb_id_parse(_column(columns, "imdb"))
    parses["ep_imdb"] = imdb_id_parse(_column(columns, "ep_imdb"))
    parses.update((name, count_parse(_column(columns, name))) for name in _NUMBERS)
    parses["_plays"] = count_parse(_column(columns, "play_count"))
    work = with_parses(work, parses)
    exprs = [text(_column(columns, "title")).alias("title")]
    exprs += [text(_column(columns, name)).alias(name) for name in _STRING_IDS]
    exprs.append(
        pl.max_horizontal(pl.col("_plays") - 1, pl.lit(0, dtype=pl.Int32)).alias(
            "extra_plays"
        )
    )
    exprs.append(parse_date(_column(columns, "release_date")).alias("release_date"))
    work = work.with_columns(
        *exprs,
        _column(columns, "year").alias("_year"),
        _column(columns, "rating").alias("_rating"),
    )
    if "rewatch" in columns:
        work = _with_distinct(
            work, columns, "rewatch", {"rewatch_hint": _rewatch(mapping)}
        )
    else:
        work = work.with_columns(
            pl.lit(mapping.rewatch, dtype=pl.Boolean).alias("rewatch_hint")
        )
    work = with_year(work, "_year")
    return with_rating(work, "_rating", mapping.rating_scale)


def _with_distinct(
    work: pl.DataFrame,
    columns: dict[str, str],
    name: str,
    builders: dict[str, Callable[[pl.Expr], pl.Expr]],
) -> pl.DataFrame:
    """Add columns derived from field `name`, computed per distinct value.

    Each builder gets the source column, or a null literal when the file
    lacks the field.
    """
    if name not in columns:
        absent = pl.lit(None, dtype=pl.String)
        return work.with_columns(
            build(absent).alias(alias) for alias, build in builders.items()
        )
    source = columns[name]
    exprs = {alias: build(pl.col(source)) for alias, build in builders.items()}
    return by_distinct(work, source, exprs)


def _rewatch(mapping: Mapping) -> Callable[[pl.Expr], pl.Expr]:
    if mapping.rewatch_pattern:
        pattern = mapping.rewatch_pattern
        return lambda source: text(source).str.contains(pattern)
    return flag


def _kinds(
    work: pl.DataFrame, columns: dict[str, str], mapping: Mapping, as_watch: bool
) -> pl.DataFrame:
    """Decide each row's media kind and record kind from the mapping's maps."""

    def media(source: pl.Expr) -> pl.Expr:
        return _mapped_value(
            source, mapping.media_types, mapping.default_media_type, MEDIA_IGNORE
        )

    def record(source: pl.Expr) -> pl.Expr:
        return _mapped_value(source, mapping.records, mapping.record, RECORD_SKIP)

    work = _with_distinct(
        work, columns, "media_type", {"_kind": media, "_media_text": text}
    )
    if "record" in columns:
        work = _with_distinct(
            work, columns, "record", {"record": record, "_record_text": text}
        )
    else:
        work = work.with_columns(
            pl.lit(mapping.record).alias("record"),
            pl.lit(None, dtype=pl.String).alias("_record_text"),
        )
    if as_watch:
        work = work.with_columns(
            pl.when(pl.col("record") == RECORD_RATING)
            .then(pl.lit(RECORD_WATCH))
            .otherwise(pl.col("record"))
            .alias("record")
        )
    if mapping.row_key_pattern and "row_key" in columns:
        keep = text(pl.col(columns["row_key"])).str.contains(mapping.row_key_pattern)
        work = work.with_columns(keep.fill_null(False).alias("_keep"))
    else:
        work = work.with_columns(pl.lit(True).alias("_keep"))
    return work.with_columns(_media_columns())


def _mapped_value(
    source: pl.Expr, values: dict[str, str], default: str, unknown: str
) -> pl.Expr:
    """Map the cells of `source` through `values` (keys in lower case).

    An empty cell or a missing column gets `default`. A value the map does
    not list gets `unknown`, so that the row is skipped with a reason.
    """
    raw = text(source).str.to_lowercase()
    mapped = raw.replace_strict(values, default=None, return_dtype=pl.String)
    return (
        pl.when(raw.is_null())
        .then(pl.lit(default))
        .otherwise(mapped.fill_null(unknown))
    )


def _media_columns() -> list[pl.Expr]:
    """Set media_type and move an episode's own IMDb id to ep_imdb."""
    kind = pl.col("_kind")
    by_id = kind == MEDIA_EPISODE_BY_ID
    media = (
        pl.when(kind == MEDIA_MOVIE)
        .then(pl.lit("movie"))
        .when(kind == MEDIA_ANIME)
        .then(pl.lit("anime"))
        .when(
            kind.is_in([MEDIA_SHOW, MEDIA_EPISODE, MEDIA_EPISODE_BY_ID, MEDIA_SERIES])
        )
        .then(pl.lit("show"))
        .otherwise(None)
    )
    return [
        media.alias("media_type"),
        pl.when(by_id)
        .then(pl.coalesce("ep_imdb", "imdb"))
        .otherwise(pl.col("ep_imdb"))
        .alias("ep_imdb"),
        pl.when(by_id).then(None).otherwise(pl.col("imdb")).alias("imdb"),
    ]


def _dates(
    work: pl.DataFrame,
    columns: dict[str, str],
    mapping: Mapping,
    options: ReadOptions,
    policy: DatePolicy,
    as_watch: bool,
    parsed: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Parse watched_at for viewings and rating rows; mark bulk timestamps.

    `parsed` is the `_when` column and the result of `date_columns` on it,
    when they were computed ahead.
    """
    is_watch = pl.col("record") == RECORD_WATCH
    if parsed is None:
        work = work.with_columns(_when(columns, pl.col("record")))
        work = parse_watched_at(work, "_when", policy)
    else:
        when, dates = parsed
        work = add_date_columns(work.hstack(when), dates)
    if as_watch:
        work = work.with_columns(
            pl.when(
                is_watch
                & pl.col("watched_at").is_not_null()
                & pl.col("date_note").is_null()
            )
            .then(pl.lit(NOTE_FROM_RATING))
            .otherwise(pl.col("date_note"))
            .alias("date_note")
        )
    if mapping.bulk_detect:
        work = _bulk(work, columns, options.bulk_threshold)
    return work


def _when(columns: dict[str, str], record: pl.Expr) -> pl.Expr:
    """Return the date text of rows of `record`, as `_when`.

    Viewings and rating rows are dated; a rating row's date is when the
    rating was given.
    """
    dated = record.is_in(_DATED)
    raw = pl.when(dated).then(_column(columns, "watched_at")).otherwise(None)
    return raw.alias("_when")


def _bulk(work: pl.DataFrame, columns: dict[str, str], threshold: int) -> pl.DataFrame:
    """Treat a timestamp shared by more than `threshold` rows as a bulk mark."""
    shared = pl.len().over("_when") > threshold
    bulk = pl.col("_when").is_not_null() & shared
    if "bulk_flag" in columns:
        bulk = bulk | text(pl.col(columns["bulk_flag"])).is_not_null()
    return work.with_columns(bulk.alias("_bulk")).with_columns(
        pl.when(pl.col("_bulk"))
        .then(None)
        .otherwise(pl.col("watched_at"))
        .alias("watched_at"),
        pl.when(pl.col("_bulk"))
        .then(pl.lit(NOTE_BULK))
        .otherwise(pl.col("date_note"))
        .alias("date_note"),
    )


def _skip_reasons() -> pl.Expr:
    kind = pl.col("_kind")
    watch = pl.col("record") == RECORD_WATCH
    no_episode = (
        pl.col("season").is_null()
        & pl.col("episode").is_null()
        & pl.col("episode_abs").is_null()
        & pl.col("ep_tvdb").is_null()
        & pl.col("ep_imdb").is_null()
        & pl.col("ep_tmdb").is_null()
        & pl.col("ep_trakt").is_null()
    )
    return (
        pl.when(~pl.col("_keep"))
        .then(pl.lit("not_a_watch_event"))
        .when(kind == MEDIA_IGNORE)
        .then(pl.lit("unsupported_type"))
        .when(pl.col("record") == RECORD_SKIP)
        .then(pl.lit("status_only"))
        .when(watch & (kind == MEDIA_SERIES))
        .then(pl.lit("not_a_watch_event"))
        .when(watch & kind.is_in([MEDIA_SHOW, MEDIA_ANIME, MEDIA_EPISODE]) & no_episode)
        .then(pl.lit("no_episode"))
        .otherwise(None)
    )


_DETAILS = {
    "not_a_watch_event": (
        "a series rating or a status row does not mark episodes watched"
    ),
    "unsupported_type": "type is not a movie, show or episode",
    "status_only": "status row without a viewing (watching, on hold, dropped)",
    "no_episode": (
        "a show row without season, episode or episode id cannot be placed, "
        "and episodes are not invented"
    ),
}


def _detail() -> pl.Expr:
    """Return the skip sentence, naming the cell value where one caused it."""
    reason = pl.col("_reason")
    general = reason.replace_strict(_DETAILS, default="skipped")
    value = pl.when(reason == "unsupported_type").then(pl.col("_media_text"))
    value = value.when(reason == "status_only").then(pl.col("_record_text"))
    named = pl.format("'{}': {}", value, general)
    return pl.when(value.is_not_null()).then(named).otherwise(general).alias("detail")


def _split(
    work: pl.DataFrame, mapping: Mapping, display: str
) -> tuple[pl.DataFrame, pl.DataFrame, FileSummary]:
    work = work.with_columns(_skip_reasons().alias("_reason"))
    skipped = work.filter(pl.col("_reason").is_not_null())
    events = work.filter(pl.col("_reason").is_null())
    skips = conform_skips(
        skipped.with_columns(pl.col("_reason").alias("reason"), _detail())
    )
    events = conform(events, {"source": mapping.name})
    counts = _counts(events, skips)
    return events, skips, FileSummary(display, mapping.name, work.height, counts)


def _counts(events: pl.DataFrame, skips: pl.DataFrame) -> dict[str, int]:
    records = events["record"]
    counts = {
        "viewings": int((records == RECORD_WATCH).sum()),
        "ratings": int((records == RECORD_RATING).sum()),
        "watchlist": int((records == RECORD_WATCHLIST).sum()),
    }
    notes = events["date_note"].value_counts()
    for note, number in zip(
        notes["date_note"].to_list(), notes["count"].to_list(), strict=True
    ):
        if note is not None:
            counts[note] = number
    reasons = skips["reason"].value_counts()
    for reason, number in zip(
        reasons["reason"].to_list(), reasons["count"].to_list(), strict=True
    ):
        counts[reason] = number
    return counts
