"""Letterboxd account exports: the ZIP, its folder, or any single CSV of it.

Viewings come from `diary.csv` and `reviews.csv`, dated by `Watched Date`
(the `Date` column is when the entry was logged, never a watch date). A
review of a diary entry (same link, or same name, year and watched date) is
merged into it. Films only in `watched.csv` become viewings with an unknown
date; `watched.csv` rows of films with a dated viewing are skipped. Ratings
are stars out of 5 in half steps, stored as round(stars * 2). Files under
`deleted/` and `orphaned/` are counted and skipped.

Links never keep a username: old exports link diary entries as
`https://letterboxd.com/<user>/film/<slug>/`, so only the film slug is kept,
and the link is rebuilt as `https://letterboxd.com/film/<slug>/`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

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
from importer.readers.csvio import LINE_COLUMN, DecodedText, read_table
from importer.readers.inputs import InputFile, ReaderOutput
from importer.readers.values import add_problem, flag, text, with_rating, with_year

logger = logging.getLogger(__name__)

FORMAT = "letterboxd"

DIARY = "diary"
REVIEWS = "reviews"
WATCHED = "watched"
RATINGS = "ratings"
WATCHLIST = "watchlist"
LIKES = "likes"
LIST = "list"
OTHER = "other"

FILM_COLUMNS = ("Date", "Name", "Year", "Letterboxd URI")
_REQUIRED = {
    DIARY: ("Name", "Year", "Letterboxd URI", "Watched Date"),
    REVIEWS: ("Name", "Year", "Letterboxd URI", "Watched Date"),
    WATCHED: ("Name", "Year", "Letterboxd URI"),
    RATINGS: ("Name", "Year", "Letterboxd URI", "Rating"),
    WATCHLIST: ("Name", "Year", "Letterboxd URI"),
    LIKES: ("Name", "Year", "Letterboxd URI"),
}
# Letterboxd files with no film rows: likes of lists and reviews,
# comments and the profile (which contains personal data).
_OTHER_HEADERS = (("Date", "Content"), ("Date", "Content", "Comment"))

_SLUG = r"letterboxd\.com/(?:[^/?#]+/)?film/([^/?#]+)"


@dataclass
class LetterboxdFile:
    """One Letterboxd CSV with its kind and decoded text."""

    source: InputFile
    decoded: DecodedText
    kind: str
    header_line: int = 0


# Loaded files by kind, read together because they refer to each other.
Tables = dict[str, list[tuple[LetterboxdFile, pl.DataFrame]]]


def classify(source: InputFile, headers: list[str], lines: list[str]) -> str | None:
    """Return the Letterboxd file kind of a CSV, or None if it is not one."""
    if _is_list(lines):
        return LIST
    if "Letterboxd URI" in headers and "Name" in headers:
        if "Watched Date" in headers or "Rewatch" in headers:
            return REVIEWS if "Review" in headers else DIARY
        if "Rating" in headers:
            return RATINGS
        name = source.name.lower()
        if "watchlist" in name:
            return WATCHLIST
        if "likes" in source.parts or name.startswith("like"):
            return LIKES
        return WATCHED
    if tuple(headers) in _OTHER_HEADERS or (headers[:2] == ["Date Joined", "Username"]):
        return OTHER
    return None


def _is_list(lines: list[str]) -> bool:
    head = [line.strip() for line in lines[:3]]
    if head and head[0].startswith("Letterboxd list export"):
        return True
    return len(head) > 1 and not head[0] and head[1].startswith("Date,Name,Tags,URL")


def read_letterboxd(files: list[LetterboxdFile], policy: DatePolicy) -> ReaderOutput:
    """Read a group of Letterboxd files together (they may cross-reference).

    Returns events frames, skip frames and one summary per file.
    """
    tables: Tables = {}
    summaries: list[FileSummary] = []
    skips: list[pl.DataFrame] = []
    for item in files:
        if _recycled_folder(item.source):
            frame, summary = _read_recycled(item)
            skips.append(frame)
            summaries.append(summary)
            continue
        if item.kind in (LIST, OTHER):
            summaries.append(_count_only(item))
            continue
        frame = _load(item)
        tables.setdefault(item.kind, []).append((item, frame))
    events, more_skips, more_summaries = _build(tables, policy)
    return events, skips + more_skips, summaries + more_summaries


def _load(item: LetterboxdFile) -> pl.DataFrame:
    frame = read_table(item.decoded, item.source.display)
    missing = [c for c in _REQUIRED[item.kind] if c not in frame.columns]
    if missing:
        seen = ", ".join(c for c in frame.columns if not c.startswith("_"))
        raise ReadError(
            f"missing column {', '.join(missing)} in a Letterboxd {item.kind} file "
            f"(columns: {seen})",
            file=item.source.display,
            hint="Pass the file exactly as Letterboxd exported it.",
        )
    frame = frame.with_columns(
        pl.lit(item.source.display).alias("source_file"),
        pl.col(LINE_COLUMN).alias("source_row"),
        text(pl.col("Name")).alias("title"),
        text(pl.col("Letterboxd URI")).alias("_uri"),
    )
    frame = with_year(frame, "Year")
    return _with_links(frame, item.kind)


def _with_links(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Add the film slug and a username-free film link."""
    uri = pl.col("_uri")
    slug = uri.str.extract(_SLUG)
    film_link = pl.format("https://letterboxd.com/film/{}/", slug)
    short = uri.str.contains(r"^https?://boxd\.it/")
    # Diary and review short links point to the viewing, not the film.
    points_to_film = kind not in (DIARY, REVIEWS)
    link = (
        pl.when(slug.is_not_null())
        .then(film_link)
        .when(short & pl.lit(points_to_film))
        .then(uri)
        .otherwise(None)
    )
    return frame.with_columns(slug.alias("letterboxd"), link.alias("link"))


def _build(tables: Tables, policy: DatePolicy) -> ReaderOutput:
    """Read viewings (diary, then reviews, then watched.csv), then the rest."""
    events: list[pl.DataFrame] = []
    skips: list[pl.DataFrame] = []
    summaries: list[FileSummary] = []
    diary_frames = [_viewings(frame, policy) for item, frame in tables.get(DIARY, [])]
    for (item, _), frame in zip(tables.get(DIARY, []), diary_frames, strict=True):
        events.append(_events(frame, RECORD_WATCH))
        summaries.append(_summary(item, frame.height, {"viewings": frame.height}))
    diary_all = pl.concat(diary_frames) if diary_frames else None
    review_views: list[pl.DataFrame] = []
    for item, frame in tables.get(REVIEWS, []):
        views, skipped, counts = _reviews(frame, diary_all, policy)
        review_views.append(views)
        events.append(_events(views, RECORD_WATCH))
        skips.append(skipped)
        summaries.append(_summary(item, frame.height, counts))
    dated = [f for f in diary_frames + review_views if f.height]
    for item, frame in tables.get(WATCHED, []):
        views, skipped, counts = _watched(frame, dated, policy)
        events.append(_events(views, RECORD_WATCH))
        skips.append(skipped)
        summaries.append(_summary(item, frame.height, counts))
    more_events, more_summaries = _build_lists(tables, policy)
    return events + more_events, skips, summaries + more_summaries


def _build_lists(
    tables: Tables, policy: DatePolicy
) -> tuple[list[pl.DataFrame], list[FileSummary]]:
    """Read ratings and watchlist rows, and count liked films.

    A rating row's `watched_at` is the date it was rated (the file's `Date`),
    never a viewing: rating rows are not planned as viewings.
    """
    events: list[pl.DataFrame] = []
    summaries: list[FileSummary] = []
    for item, frame in tables.get(RATINGS, []):
        rated = with_rating(frame, "Rating", "5", half_steps=True)
        rated = parse_watched_at(rated, "Date", policy)
        events.append(_events(rated, RECORD_RATING))
        summaries.append(_summary(item, frame.height, {"ratings": frame.height}))
    for item, frame in tables.get(WATCHLIST, []):
        events.append(_events(frame, RECORD_WATCHLIST))
        summaries.append(_summary(item, frame.height, {"watchlist": frame.height}))
    for item, frame in tables.get(LIKES, []):
        summaries.append(_summary(item, frame.height, {"likes": frame.height}))
    return events, summaries


def _viewings(frame: pl.DataFrame, policy: DatePolicy) -> pl.DataFrame:
    """Date the rows of a diary or reviews file by Watched Date."""
    frame = parse_watched_at(frame, "Watched Date", policy)
    if "Rating" in frame.columns:
        frame = with_rating(frame, "Rating", "5", half_steps=True)
    if "Rewatch" in frame.columns:
        frame = frame.with_columns(flag(pl.col("Rewatch")).alias("rewatch_hint"))
    missing_title = pl.col("title").is_null()
    return add_problem(
        frame, pl.when(missing_title).then(pl.lit("Name='': missing title"))
    )


def _reviews(
    frame: pl.DataFrame, diary: pl.DataFrame | None, policy: DatePolicy
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """Split reviews into new viewings, merged duplicates and undated ones."""
    views = _viewings(frame, policy).with_columns(
        text(pl.col("Watched Date")).alias("_watched_text")
    )

    undated = views.filter(pl.col("_watched_text").is_null())
    dated = views.filter(pl.col("_watched_text").is_not_null())
    merged = pl.lit(False)
    if diary is not None and diary.height:
        keys = diary.select(
            "_uri",
            "title",
            "year",
            text(pl.col("Watched Date")).alias("_watched_text"),
        )
        same_uri = pl.col("_uri").is_in(keys["_uri"].drop_nulls().implode())
        dated = dated.join(
            keys.select("title", "year", "_watched_text")
            .unique()
            .with_columns(pl.lit(True).alias("_same_viewing")),
            on=["title", "year", "_watched_text"],
            how="left",
            nulls_equal=True,
        )
        merged = same_uri | pl.col("_same_viewing").fill_null(False)

    dated = dated.with_columns(merged.alias("_merged"))
    duplicates = dated.filter(pl.col("_merged"))
    new = dated.filter(~pl.col("_merged"))
    skipped = pl.concat(
        [
            _skips(
                duplicates,
                "merged_with_diary",
                "review of a diary entry, read from diary.csv",
            ),
            _skips(
                undated,
                "review_without_date",
                "review without a Watched Date, so a rating or review only",
            ),
        ]
    )
    counts = {
        "viewings": new.height,
        "merged_with_diary": duplicates.height,
        "review_without_date": undated.height,
    }
    return new, skipped, counts


def _watched(
    frame: pl.DataFrame, dated: list[pl.DataFrame], policy: DatePolicy
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """Keep watched.csv films without a dated viewing, as undated viewings."""
    if dated:
        seen = (
            pl.concat([f.select("title", "year") for f in dated])
            .unique()
            .with_columns(pl.lit(True).alias("_covered"))
        )
        frame = frame.join(seen, on=["title", "year"], how="left", nulls_equal=True)
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("_covered"))
    covered = frame.filter(pl.col("_covered").fill_null(False))
    views = frame.filter(~pl.col("_covered").fill_null(False))
    views = views.with_columns(pl.lit(None, dtype=pl.String).alias("_no_date"))
    views = parse_watched_at(views, "_no_date", policy)
    skipped = _skips(
        covered, "covered_by_diary", "film has a dated viewing in the diary or reviews"
    )
    counts = {"viewings": views.height, "covered_by_diary": covered.height}
    return views, skipped, counts


def _events(frame: pl.DataFrame, record: str) -> pl.DataFrame:
    return conform(frame, {"source": FORMAT, "record": record, "media_type": "movie"})


def _skips(frame: pl.DataFrame, reason: str, detail: str) -> pl.DataFrame:
    columns = [
        c for c in ("source_file", "source_row", "title", "year") if c in frame.columns
    ]
    out = frame.select(columns).with_columns(
        pl.lit("movie").alias("media_type"),
        pl.lit(reason).alias("reason"),
        pl.lit(detail).alias("detail"),
    )
    if "watched_at" in frame.columns:
        out = out.with_columns(frame["watched_at"])
    return conform_skips(out)


def _summary(item: LetterboxdFile, rows: int, counts: dict[str, int]) -> FileSummary:
    return FileSummary(item.source.display, FORMAT, rows, counts)


def _read_recycled(item: LetterboxdFile) -> tuple[pl.DataFrame, FileSummary]:
    """Count rows under deleted/ or orphaned/ and skip them all."""
    folder = _recycled_folder(item.source) or "deleted"
    if item.kind in _REQUIRED:
        frame = _load(item)
        skipped = _skips(
            frame,
            f"{folder}_entry",
            f"entry in Letterboxd's {folder}/ folder, not imported",
        )
    else:
        skipped = empty_skips()
    rows = skipped.height
    summary = _summary(item, rows, {f"skipped_{folder}": rows})
    return skipped, summary


def _recycled_folder(source: InputFile) -> str | None:
    """Return "deleted" or "orphaned" for files in those folders, else None."""
    return next((p for p in source.parts if p in ("deleted", "orphaned")), None)


def _count_only(item: LetterboxdFile) -> FileSummary:
    """Count list entries (after the `Position,` header) or other rows."""
    if item.kind == LIST:
        lines = item.decoded.data.decode("utf-8", errors="replace").split("\n")
        start = next(
            (i for i, line in enumerate(lines) if line.startswith("Position,")), None
        )
        if start is None:
            return _summary(item, 0, {"list_entries": 0})
        frame = read_table(item.decoded, item.source.display, header_line=start)
        return _summary(item, frame.height, {"list_entries": frame.height})
    frame = read_table(item.decoded, item.source.display)
    return _summary(item, frame.height, {"ignored": frame.height})
