"""Trakt JSON: API history, official export files and third-party backups.

Files are recognized by shape, not name. A JSON array of objects with
`watched_at` is per-play history. With `plays` it is an aggregate of
watched movies or shows, with `rated_at` ratings, and with `listed_at` a
watchlist (unless the file name marks a custom list or favourites). A
single object with a `history` key is a traktexport-style backup (its
`ratings` and `watchlist` lists are read too). Other Trakt files (playback,
hidden, profile, comments) are counted and ignored.

An aggregate gives one dated viewing (`last_watched_at`) and counts the
other plays in `extra_plays`, never inventing dates. When history and
aggregates are read together, aggregate rows already present in the history
are skipped, so plays are not counted twice.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

import polars as pl

from importer.dates import DatePolicy, parse_watched_at
from importer.errors import ReadError
from importer.events import (
    RECORD_RATING,
    RECORD_WATCH,
    RECORD_WATCHLIST,
    conform,
    conform_skips,
    empty_skips,
)
from importer.readers.base import FileSummary
from importer.readers.inputs import InputFile, ReaderOutput
from importer.readers.values import imdb_id_parse, with_parses, with_rating

logger = logging.getLogger(__name__)

FORMAT = "trakt"

HISTORY = "history"
AGGREGATE = "aggregate"
RATINGS = "ratings"
WATCHLIST = "watchlist"
IGNORED = "ignored"


@dataclass
class TraktTable:
    """One array of Trakt objects with its shape and origin.

    `frame` contains the objects as read. When `extracted` is true, it
    contains their event columns (`_event_columns`) instead, one row per
    object. History arrays are extracted block by block as they are read,
    so that their nested objects are never in memory whole.
    """

    source: InputFile
    frame: pl.DataFrame
    shape: str
    extracted: bool = False


def looks_like_trakt(data: bytes) -> bool:
    """Return True if the start of a JSON document has Trakt's shapes."""
    head = data[:65536]
    markers = (b'"watched_at"', b'"last_watched_at"', b'"rated_at"', b'"listed_at"')
    return b'"ids"' in head and any(m in head for m in markers)


def load_tables(source: InputFile, data: bytes) -> list[TraktTable]:
    """Parse one Trakt JSON file into arrays with their shapes.

    Raises ReadError when the file is not valid JSON.
    """
    stripped = data.lstrip()
    if stripped.startswith(b"["):
        if _is_history_head(stripped):
            frame = _history_in_blocks(stripped, io.BytesIO(), source.display)
            if frame is not None:
                return [TraktTable(source, frame, HISTORY, extracted=True)]
        frame = _array_frame(stripped, source.display)
        shape = _shape(frame)
        if shape == WATCHLIST and _is_other_list(source.name):
            shape = IGNORED
        return [TraktTable(source, frame, shape)]
    document = _json(stripped, source.display)
    if not isinstance(document, dict):
        return [TraktTable(source, pl.DataFrame(), IGNORED)]
    tables = []
    for key, shape in (
        ("history", HISTORY),
        ("ratings", RATINGS),
        ("watchlist", WATCHLIST),
    ):
        value = document.get(key)
        if isinstance(value, list) and value:
            frame = _frame_from_objects(value, source.display)
            tables.append(
                TraktTable(source, frame, _shape(frame) if frame.height else shape)
            )
    return tables or [TraktTable(source, pl.DataFrame(), IGNORED)]


def _is_other_list(name: str) -> bool:
    """Return True for custom lists and favourites, which share the watchlist shape."""
    lowered = name.lower()
    return "watchlist" not in lowered and ("list" in lowered or "favorite" in lowered)


def _json(data: bytes, display: str) -> object:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReadError(
            f"invalid JSON: {error}",
            file=display,
            hint="Download the export again; the file may be cut short.",
        ) from error


_IDS = pl.Struct(
    {
        "trakt": pl.Int64(),
        "slug": pl.String(),
        "imdb": pl.String(),
        "tmdb": pl.Int64(),
        "tvdb": pl.Int64(),
    }
)
_EPISODE_IDS = pl.Struct(
    {"trakt": pl.Int64(), "imdb": pl.String(), "tmdb": pl.Int64(), "tvdb": pl.Int64()}
)
# The fields of per-play history that the reader uses, given to polars so
# that it skips inferring a schema from every object (about half the read
# time of a large history). polars skips the fields left out (the play's
# `id` and `action`, episode titles), which parses about 5% faster.
_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "watched_at": pl.String(),
    "type": pl.String(),
    "movie": pl.Struct({"title": pl.String(), "year": pl.Int64(), "ids": _IDS}),
    "show": pl.Struct({"title": pl.String(), "year": pl.Int64(), "ids": _IDS}),
    "episode": pl.Struct(
        {
            "season": pl.Int64(),
            "number": pl.Int64(),
            "number_abs": pl.Int64(),
            "ids": _EPISODE_IDS,
        }
    ),
}


def _array_frame(data: bytes, display: str) -> pl.DataFrame:
    """Read a JSON array whole with polars, falling back to the json module.

    A history array that the block reader left alone is read with its known
    schema first. A file whose values do not fit the schema (an id written
    as text) is read again with inference.
    """
    if _is_history_head(data):
        try:
            return pl.read_json(data, schema=_HISTORY_SCHEMA)
        except pl.exceptions.PolarsError as error:
            logger.debug("%s: not the usual history schema (%s)", display, error)
    try:
        return pl.read_json(data, infer_schema_length=None)
    except pl.exceptions.PolarsError as error:
        logger.debug("%s: polars could not read the array (%s)", display, error)
    document = _json(data, display)
    return _frame_from_objects(document if isinstance(document, list) else [], display)


def _is_history_head(data: bytes) -> bool:
    """Return True if the array that starts `data` looks like per-play history."""
    head = data[:65536]
    return b'"watched_at"' in head and b'"action"' in head


def read_history_file(source: InputFile, *, forced: bool) -> TraktTable | None:
    """Read `source` as a history array in blocks straight from its file.

    Unlike `load_tables`, this never reads the whole file into memory. Return
    None unless the file is UTF-8 without a byte order mark, starts with an
    array of history objects (`forced` accepts it without Trakt's id keys),
    and every block parses. The caller then loads the whole file, which
    gives the same table or the same error.
    """
    if source.open is None:
        return None
    try:
        with source.open() as stream:
            head = stream.read(_HEAD_BYTES)
            stripped = head.lstrip()
            # The checks that Detector.classify and load_tables make on the
            # whole file. They look at its first 64 KiB, with and without
            # the leading whitespace, so both must be in the head.
            if (
                len(head) - len(stripped) > 4096
                or b"\x00" in head[:4096]
                or not stripped.startswith(b"[")
                or not (forced or looks_like_trakt(head))
                or not _is_history_head(stripped)
            ):
                return None
            frame = _history_in_blocks(stripped, stream, source.display)
    # Any failure to read (a ZIP member that is corrupt, encrypted or uses
    # an unknown compression method) falls back to loading the whole file,
    # which reports it as before.
    except Exception as error:
        logger.debug(
            "%s: reading in blocks failed, loading the whole file (%s)",
            source.display,
            error,
        )
        return None
    if frame is None:
        return None
    return TraktTable(source, frame, HISTORY, extracted=True)


# Bytes of a history array that one pl.read_json call parses. polars 2.1
# needs about ten times its input's size to read a JSON array, and more
# than linear time. On a 2-core AMD EPYC, a 370 MB history with 1M objects
# took 12 to 17 s and 3.9 GB peak RSS when read whole. Read in blocks of
# this size, it took 3 s of CPU time and 450 MB for the nested frame, and
# blocks of 64 KiB and 1 MiB were slower.
BLOCK_BYTES = 256 * 1024
# Bytes read from the start of a file to decide whether it is a history
# array: 64 KiB after at most 4 KiB of whitespace. Then the file is read
# _READ_BYTES at a time.
_HEAD_BYTES = 65536 + 4096
_READ_BYTES = 1 << 20
# Blocks whose frames are joined before their event columns are extracted.
# Each extraction spends a few milliseconds building and planning its
# expressions. On the same machine, extracting one block at a time took
# 7 ms per block. Groups of 64 blocks (16 MiB of JSON, about 45,000
# objects) took about a fifth less CPU time than groups of 32.
_BLOCKS_PER_CHUNK = 64

_JSON_WHITESPACE = b" \t\r\n"
# A place where one object of an array may end and the next begin. A match
# can also fall inside a string or a nested array, so every block cut there
# is checked by parsing it.
_OBJECT_BOUNDARY = re.compile(rb"\},[ \t\r\n]*\{")
# The start of an array whose first object begins a line, as in files
# written one object per line or indented. The group is the indent.
_FIRST_OBJECT_LINE = re.compile(rb"\[[ \t\r\n]*\n([ \t]*)\{")


class _UnendedArray(Exception):
    """The bytes after the last cut do not end with `]` and JSON whitespace."""


def _history_in_blocks(
    head: bytes, stream: IO[bytes], display: str
) -> pl.DataFrame | None:
    """Read a history array in blocks of whole objects with the history schema.

    The array starts `head` with its `[` and continues in `stream`. Blocks
    are parsed on a thread pool (pl.read_json releases the GIL), and the
    event columns of each _BLOCKS_PER_CHUNK of them are extracted as soon
    as they are parsed. Return the event columns of all blocks in order,
    or None when a block is not a valid JSON array that fits the schema or
    the array does not end with `]`. The caller then reads the whole file,
    which gives the same frame or the same error.

    Splitting is safe because JSON has no state beyond nesting and strings.
    If each block `[` body `]` parses, the bodies joined by the commas cut
    out between them form the original array. The block frames, joined in
    order, then equal the frame of the whole file, and so do their event
    columns. No body is empty, because each cut has `}` before it and `{`
    after it. polars 2.1 checks that its whole input is UTF-8, so a file
    that is not, which the caller reads as Windows-1252, fails here too.
    """
    workers = pl.thread_pool_size()
    pool = ThreadPoolExecutor(max_workers=workers)
    # Blocks parsed ahead of the one being collected. A bound keeps the
    # file from being read faster than the blocks are parsed.
    pending: deque[Future[pl.DataFrame]] = deque()
    chunks: list[pl.DataFrame] = []
    frames: list[pl.DataFrame] = []

    def collect(future: Future[pl.DataFrame]) -> None:
        frames.append(future.result())
        if len(frames) == _BLOCKS_PER_CHUNK:
            chunks.append(_event_columns(pl.concat(frames, rechunk=True)))
            frames.clear()

    def read(block: bytes) -> pl.DataFrame:
        return pl.read_json(block, schema=_HISTORY_SCHEMA)

    try:
        for block in _array_blocks(head, stream, BLOCK_BYTES):
            pending.append(pool.submit(read, block))
            if len(pending) > 2 * workers:
                collect(pending.popleft())
        while pending:
            collect(pending.popleft())
    except (pl.exceptions.PolarsError, _UnendedArray) as error:
        logger.debug(
            "%s: invalid history block, reading the file whole (%s)", display, error
        )
        return None
    finally:
        pool.shutdown(cancel_futures=True)
    if frames:
        chunks.append(_event_columns(pl.concat(frames, rechunk=True)))
    # One contiguous frame: read_trakt adds columns of one chunk to it,
    # which would copy every column of a frame of many chunks anyway.
    return pl.concat(chunks, rechunk=True)


def _array_blocks(head: bytes, stream: IO[bytes], block_bytes: int) -> Iterator[bytes]:
    """Yield the array that starts `head` and continues in `stream` as blocks.

    `head` must start with `[`. Each block is `[`, a body, `]`. A body is at
    least `block_bytes` long, except the last, and each body after the
    first starts just after a comma. Raise _UnendedArray unless the array
    ends with `]` and JSON whitespace.
    """
    boundary = _boundary_pattern(head)
    buffer = head
    start = 1
    scan = start + block_bytes
    while True:
        match = boundary.search(buffer, scan)
        if match is not None:
            comma = match.start() + 1
            yield b"".join((b"[", memoryview(buffer)[start:comma], b"]"))
            start = comma + 1
            scan = start + block_bytes
            continue
        scan = _resume_point(buffer, scan)
        chunk = stream.read(_READ_BYTES)
        if not chunk:
            break
        buffer = buffer[start:] + chunk
        scan -= start
        start = 0
    body = buffer[start:].rstrip(_JSON_WHITESPACE)
    if not body.endswith(b"]"):
        raise _UnendedArray(f"the array ends with {body[-20:]!r}")
    yield b"[" + body


def _resume_point(buffer: bytes, scan: int) -> int:
    """Return where a boundary that `buffer` ends inside of would start.

    A boundary is `}`, a comma and whitespace before `{`, so only a `}`
    followed by nothing or by a comma and whitespace can begin one that
    more bytes complete. Matches must start at `scan` or later.
    """
    brace = buffer.rfind(b"}", scan)
    if brace >= 0:
        tail = buffer[brace + 1 :]
        if tail[:1] in (b"", b",") and not tail[1:].lstrip(_JSON_WHITESPACE):
            return brace
    return max(scan, len(buffer))


def _boundary_pattern(data: bytes) -> re.Pattern[bytes]:
    """Return the pattern of places to cut the array in `data` into blocks.

    When the first object begins a line, a cut must be followed by a line
    break and the same indent. A valid JSON string never contains a raw
    line break, and indented files indent nested objects further, so in
    files written one object per line or indented the cuts fall between
    top-level objects. In other layouts a cut may fall inside a string or
    a nested object. Its block then fails to parse, and the file is read
    whole.
    """
    first = _FIRST_OBJECT_LINE.match(data)
    if first is None:
        return _OBJECT_BOUNDARY
    indent = re.escape(first.group(1))
    return re.compile(rb"\},[ \t\r]*\n" + indent + rb"\{")


def _frame_from_objects(objects: list, display: str) -> pl.DataFrame:
    rows = [obj for obj in objects if isinstance(obj, dict)]
    if not rows:
        return pl.DataFrame()
    try:
        return pl.from_dicts(rows, infer_schema_length=None, strict=False)
    except (pl.exceptions.PolarsError, TypeError, ValueError) as error:
        raise ReadError(
            f"unexpected Trakt JSON layout: {error}".splitlines()[0],
            file=display,
            hint="Pass the file as Trakt exported it.",
        ) from error


def _shape(frame: pl.DataFrame) -> str:
    columns = set(frame.columns)
    if "watched_at" in columns:
        return HISTORY
    if "plays" in columns:
        return AGGREGATE
    if "rated_at" in columns:
        return RATINGS
    if "listed_at" in columns:
        return WATCHLIST
    return IGNORED


def _get(frame: pl.DataFrame, *path: str) -> pl.Expr:
    """Return the nested field at `path`, or a null literal if it is absent."""
    dtype: object = frame.schema.get(path[0])
    if dtype is None:
        return pl.lit(None)
    expr = pl.col(path[0])
    for name in path[1:]:
        if not isinstance(dtype, pl.Struct):
            return pl.lit(None)
        fields = {f.name: f.dtype for f in dtype.fields}
        if name not in fields:
            return pl.lit(None)
        expr = expr.struct.field(name)
        dtype = fields[name]
    return expr


def _positive(expr: pl.Expr) -> pl.Expr:
    number = expr.cast(pl.Int64, strict=False)
    return pl.when(number > 0).then(number).otherwise(None)


def _item_columns(frame: pl.DataFrame) -> list[pl.Expr]:
    """Title, year and item ids from `movie` or `show`, whichever is set."""

    def pick(*path: str) -> pl.Expr:
        return pl.coalesce(_get(frame, "movie", *path), _get(frame, "show", *path))

    ids = ("ids",)
    return [
        pick("title").cast(pl.String).alias("title"),
        pick("year").cast(pl.Int32, strict=False).alias("year"),
        _positive(pick(*ids, "trakt")).alias("trakt"),
        pick(*ids, "slug").cast(pl.String).alias("trakt_slug"),
        # Parsed into an IMDb id by `_event_columns`.
        pick(*ids, "imdb").cast(pl.String).alias("imdb"),
        _positive(pick(*ids, "tmdb")).alias("tmdb"),
        _positive(pick(*ids, "tvdb")).alias("tvdb"),
        pl.when(_get(frame, "movie").is_not_null())
        .then(pl.lit("movie"))
        .when(_get(frame, "show").is_not_null())
        .then(pl.lit("show"))
        .otherwise(None)
        .alias("media_type"),
    ]


def _episode_columns(frame: pl.DataFrame) -> list[pl.Expr]:
    def episode(*path: str) -> pl.Expr:
        return _get(frame, "episode", *path)

    return [
        episode("season").cast(pl.Int32, strict=False).alias("season"),
        episode("number").cast(pl.Int32, strict=False).alias("episode"),
        episode("number_abs").cast(pl.Int32, strict=False).alias("episode_abs"),
        _positive(episode("ids", "tvdb")).alias("ep_tvdb"),
        episode("ids", "imdb").cast(pl.String).alias("ep_imdb"),
        _positive(episode("ids", "tmdb")).alias("ep_tmdb"),
        _positive(episode("ids", "trakt")).alias("ep_trakt"),
    ]


# Raw fields that the readers use after the common columns are extracted.
_PASSTHROUGH = (
    "watched_at",
    "last_watched_at",
    "rated_at",
    "plays",
    "seasons",
    "rating",
)


def _event_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Extract the events columns and drop the nested objects they came from.

    Every column depends on its own row only, so extracting blocks of rows
    and joining them gives the same frame as extracting all rows at once.
    """
    passthrough = [pl.col(name) for name in _PASSTHROUGH if name in frame.columns]
    columns = frame.select(
        *passthrough,
        _object_type(frame).alias("_type"),
        *_item_columns(frame),
        *_episode_columns(frame),
    )
    return with_parses(
        columns,
        {
            "imdb": imdb_id_parse(pl.col("imdb")),
            "ep_imdb": imdb_id_parse(pl.col("ep_imdb")),
        },
    )


def _base(table: TraktTable) -> pl.DataFrame:
    """Return the events columns of `table` with the file and row of each."""
    frame = table.frame if table.extracted else _event_columns(table.frame)
    passthrough = [name for name in _PASSTHROUGH if name in frame.columns]
    rest = [name for name in frame.columns if name not in passthrough]
    return frame.select(
        *passthrough,
        pl.lit(table.source.display).alias("source_file"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"),
        *rest,
    )


def _object_type(frame: pl.DataFrame) -> pl.Expr:
    """Return each object's `type`, or the kind of object it carries if unset."""
    carried = (
        pl.when(_get(frame, "episode").is_not_null())
        .then(pl.lit("episode"))
        .when(_get(frame, "season").is_not_null())
        .then(pl.lit("season"))
        .when(_get(frame, "movie").is_not_null())
        .then(pl.lit("movie"))
        .when(_get(frame, "show").is_not_null())
        .then(pl.lit("show"))
        .otherwise(pl.lit(""))
    )
    return pl.coalesce(_get(frame, "type").cast(pl.String), carried)


def read_trakt(tables: list[TraktTable], policy: DatePolicy) -> ReaderOutput:
    """Read Trakt arrays into events, skips and one summary per array.

    History is read first, so that aggregate rows it already covers are
    skipped instead of counted twice.
    """
    events: list[pl.DataFrame] = []
    skips: list[pl.DataFrame] = []
    summaries: list[FileSummary] = []

    def add(table: TraktTable, frame: pl.DataFrame, skipped: pl.DataFrame) -> None:
        record, label = _RECORDS[table.shape]
        events.append(conform(frame, {"source": FORMAT, "record": record}))
        skips.append(skipped)
        summaries.append(_summary(table, frame, skipped, label))

    history = [t for t in tables if t.shape == HISTORY]
    read_history = [(t, *_history(t, policy)) for t in history]
    # The keys only serve to skip aggregate rows that the history covers.
    keys = [frame.select(_KEY) for _, frame, _ in read_history]
    with_aggregates = any(t.shape == AGGREGATE for t in tables)
    seen = pl.concat(keys).unique() if keys and with_aggregates else None
    for table, frame, skipped in read_history:
        add(table, frame, skipped)
    for table in tables:
        if table.shape == AGGREGATE:
            add(table, *_aggregate(table, policy, seen))
        elif table.shape == RATINGS:
            add(table, *_ratings(table, policy))
        elif table.shape == WATCHLIST:
            add(table, *_watchlist(table))
        elif table.shape == IGNORED:
            rows = table.frame.height
            summaries.append(
                FileSummary(table.source.display, FORMAT, rows, {"ignored": rows})
            )
    return events, skips, summaries


# Record kind and count label of each readable shape.
_RECORDS = {
    HISTORY: (RECORD_WATCH, "viewings"),
    AGGREGATE: (RECORD_WATCH, "viewings"),
    RATINGS: (RECORD_RATING, "ratings"),
    WATCHLIST: (RECORD_WATCHLIST, "watchlist"),
}


def _summary(
    table: TraktTable, frame: pl.DataFrame, skipped: pl.DataFrame, label: str
) -> FileSummary:
    counts = {label: frame.height, **_reason_counts(skipped)}
    # An aggregate row of a show becomes one row per episode, so its rows
    # are the objects in the file.
    if table.shape == AGGREGATE:
        rows = table.frame.height
    else:
        rows = frame.height + skipped.height
    return FileSummary(table.source.display, FORMAT, rows, counts)


def _reason_counts(skipped: pl.DataFrame) -> dict[str, int]:
    if not skipped.height:
        return {}
    grouped = skipped.group_by("reason").len()
    return dict(zip(grouped["reason"].to_list(), grouped["len"].to_list(), strict=True))


_ROW_COLUMNS = (
    "source_file",
    "source_row",
    "media_type",
    "title",
    "year",
    "trakt",
    "trakt_slug",
    "imdb",
    "tmdb",
    "tvdb",
    "season",
    "episode",
    "episode_abs",
    "ep_tvdb",
    "ep_imdb",
    "ep_tmdb",
    "ep_trakt",
)
_KEY = ("media_type", "trakt", "imdb", "tmdb", "season", "episode")


def _history(
    table: TraktTable, policy: DatePolicy
) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = _base(table)
    frame = frame.with_columns(
        pl.when(pl.col("_type") == "episode")
        .then(pl.lit("show"))
        .otherwise(pl.col("media_type"))
        .alias("media_type")
    )
    placeable = pl.col("_type").is_in(["movie", "episode"])
    skipped = _skips(
        frame.filter(~placeable),
        "unsupported_type",
        "history entry that is not a movie or an episode",
    )
    frame = parse_watched_at(frame.filter(placeable), "watched_at", policy)
    return frame, skipped


def _aggregate(
    table: TraktTable, policy: DatePolicy, seen: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = _base(table)
    movies = frame.filter(pl.col("media_type") == "movie").with_columns(
        _extra(pl.col("plays")), pl.col("last_watched_at").alias("_when")
    )
    shows = frame.filter(pl.col("media_type") == "show")
    episodes, no_seasons = _explode_episodes(shows)
    skipped = [
        _skips(
            no_seasons,
            "no_episode_data",
            "show play count without seasons: no episode to place",
        )
    ]
    keep = [*_ROW_COLUMNS, "extra_plays", "_when"]
    parts = [part.select(keep) for part in (movies, episodes) if part.height]
    rows = pl.concat(parts, how="vertical_relaxed") if parts else movies.select(keep)
    rows = parse_watched_at(rows, "_when", policy)
    if seen is not None and rows.height:
        rows = rows.join(
            seen.with_columns(pl.lit(True).alias("_in_history")),
            on=list(_KEY),
            how="left",
            nulls_equal=True,
        )
        covered = pl.col("_in_history").fill_null(False)
        skipped.append(
            _skips(
                rows.filter(covered),
                "covered_by_history",
                "plays already read from the history",
            )
        )
        rows = rows.filter(~covered)
    return rows, pl.concat(skipped)


def _extra(plays: pl.Expr) -> pl.Expr:
    count = plays.cast(pl.Int32, strict=False).fill_null(1)
    return pl.max_horizontal(count - 1, pl.lit(0, dtype=pl.Int32)).alias("extra_plays")


def _explode_episodes(shows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return one row per watched episode, and the shows without seasons."""
    if "seasons" not in shows.columns or not shows.height:
        return pl.DataFrame(), shows
    has_seasons = pl.col("seasons").list.len().fill_null(0) > 0
    without = shows.filter(~has_seasons)
    seasons = (
        shows.filter(has_seasons)
        .drop("season", "episode", strict=False)
        .explode("seasons")
        .with_columns(
            pl.col("seasons").struct.field("number").cast(pl.Int32).alias("season"),
            pl.col("seasons").struct.field("episodes").alias("_episodes"),
        )
        .explode("_episodes")
        .filter(pl.col("_episodes").is_not_null())
    )
    episode = pl.col("_episodes").struct
    episodes = seasons.with_columns(
        episode.field("number").cast(pl.Int32).alias("episode"),
        _extra(episode.field("plays")),
        episode.field("last_watched_at").alias("_when"),
    )
    return episodes, without


def _ratings(
    table: TraktTable, policy: DatePolicy
) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = _base(table).with_columns(pl.col("rating").cast(pl.String).alias("_rating"))
    frame = with_rating(frame, "_rating")
    # A rating row's date is when it was rated, never a viewing.
    if "rated_at" in frame.columns:
        frame = parse_watched_at(frame, "rated_at", policy)
    frame = frame.with_columns(
        pl.when(pl.col("_type") == "episode")
        .then(pl.lit("show"))
        .otherwise(pl.col("media_type"))
        .alias("media_type")
    )
    supported = pl.col("_type").is_in(["movie", "show", "episode"])
    skipped = _skips(
        frame.filter(~supported),
        "unsupported_type",
        "season ratings have no Simkl equivalent",
    )
    return frame.filter(supported), skipped


def _watchlist(table: TraktTable) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = _base(table)
    supported = pl.col("_type").is_in(["movie", "show"])
    skipped = _skips(
        frame.filter(~supported),
        "unsupported_type",
        "watchlisted season or episode: Simkl's watchlist holds whole items",
    )
    return frame.filter(supported), skipped


def _skips(frame: pl.DataFrame, reason: str, detail: str) -> pl.DataFrame:
    if not frame.height:
        return empty_skips()
    columns = [
        c
        for c in (
            "source_file",
            "source_row",
            "media_type",
            "title",
            "year",
            "season",
            "episode",
        )
        if c in frame.columns
    ]
    return conform_skips(
        frame.select(columns).with_columns(
            pl.lit(reason).alias("reason"), pl.lit(detail).alias("detail")
        )
    )
