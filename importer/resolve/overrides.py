"""User corrections of matches (overrides) and the review file they start from.

`simkl-import resolve` writes a review CSV with one line per item it could
not match. The user fills `simkl_id` (or `imdb`, `tmdb`, `tvdb`) on the
lines they want fixed and passes the file back with `--overrides`. An
override wins over the cache and every search, and applies on each run
for as long as the file is passed. An override names a whole item (a movie
or a show), so it cannot renumber a single episode.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from importer.errors import InputError
from importer.events import MEDIA_TYPES
from importer.resolve.items import Item
from importer.resolve.model import REVIEW_SCHEMA
from importer.resolve.titles import normalize_title

OVERRIDE_ID_COLUMNS = ("simkl_id", "imdb", "tmdb", "tvdb")

_IMDB_ID = re.compile(r"(tt\d{5,})")


@dataclass(frozen=True)
class Override:
    """A user's correction for one item: a Simkl id, external ids, or both."""

    simkl: int | None
    ids: tuple[tuple[str, Any], ...]
    file: str
    row: int

    def label(self) -> str:
        return f"override in {self.file}, row {self.row}"


@dataclass
class Overrides:
    """Overrides by item key, and by type, title and year for hand-written lines."""

    by_key: dict[str, Override] = field(default_factory=dict)
    by_title: dict[tuple[str | None, str, int | None], Override] = field(
        default_factory=dict
    )

    def __len__(self) -> int:
        return len(self.by_key) + len(self.by_title)

    def find(self, item: Item) -> Override | None:
        """Return the override for `item`, by its key first, then by title."""
        found = self.by_key.get(item.key)
        if found is not None:
            return found
        title = normalize_title(item.title)
        return self.by_title.get(
            (item.media_type, title, item.year)
        ) or self.by_title.get((None, title, item.year))


def write_review_csv(review: pl.DataFrame, path: Path | str) -> None:
    """Write the review lines with empty override columns for the user."""
    frame = review.select(
        [pl.col(name).cast(dtype) for name, dtype in REVIEW_SCHEMA.items()]
    )
    frame.write_csv(path)


def load_overrides(path: Path | str) -> Overrides:
    """Read an overrides CSV (a filled-in review file).

    Lines with every id column empty are ignored. Raises InputError naming
    the file, row and value of the first invalid line.
    """
    name = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return _parse(csv.DictReader(handle), name)
    except FileNotFoundError as error:
        raise InputError(
            "overrides file not found", file=name, hint="Check the --overrides path."
        ) from error
    except UnicodeDecodeError as error:
        raise InputError(
            "overrides file is not UTF-8 text", file=name, hint="Save it as UTF-8 CSV."
        ) from error


def _parse(reader: csv.DictReader[str], name: str) -> Overrides:
    columns = set(reader.fieldnames or ())
    if not columns & set(OVERRIDE_ID_COLUMNS) or not columns & {"item_key", "title"}:
        raise InputError(
            f"overrides header lacks the key or id columns: {sorted(columns)}",
            file=name,
            row=1,
            hint="Use the CSV that `simkl-import resolve --output` writes: it needs "
            "item_key (or title) and simkl_id, imdb, tmdb or tvdb.",
        )
    overrides = Overrides()
    line = 1
    for record in reader:
        line += 1
        cells = {key: (value or "").strip() for key, value in record.items() if key}
        if not any(cells.get(column) for column in OVERRIDE_ID_COLUMNS):
            line = reader.line_num
            continue
        override = _parse_line(cells, name, line)
        _store(overrides, cells, override, name, line)
        line = reader.line_num
    return overrides


def _parse_line(cells: dict[str, str], name: str, line: int) -> Override:
    simkl = _positive_int(cells, "simkl_id", name, line)
    ids: list[tuple[str, Any]] = []
    imdb = cells.get("imdb")
    if imdb:
        found = _IMDB_ID.search(imdb)
        if not found:
            raise InputError(
                f"invalid imdb id {imdb!r}",
                file=name,
                row=line,
                value=imdb,
                hint="Write the id as tt followed by digits, e.g. tt0133093.",
            )
        ids.append(("imdb", found.group(1)))
    for column in ("tmdb", "tvdb"):
        number = _positive_int(cells, column, name, line)
        if number is not None:
            ids.append((column, number))
    return Override(simkl=simkl, ids=tuple(ids), file=name, row=line)


def _positive_int(
    cells: dict[str, str], column: str, name: str, line: int
) -> int | None:
    text = cells.get(column)
    if not text:
        return None
    if not text.isdigit() or int(text) <= 0:
        raise InputError(
            f"invalid {column} {text!r}",
            file=name,
            row=line,
            value=text,
            hint=f"Write {column} as a positive whole number, or leave it empty.",
        )
    return int(text)


def _store(
    overrides: Overrides,
    cells: dict[str, str],
    override: Override,
    name: str,
    line: int,
) -> None:
    media_type = cells.get("type") or None
    if media_type is not None and media_type not in MEDIA_TYPES:
        raise InputError(
            f"invalid type {media_type!r}",
            file=name,
            row=line,
            value=media_type,
            hint=f"Use one of {', '.join(MEDIA_TYPES)}, or leave it empty.",
        )
    key = cells.get("item_key")
    if key:
        _put(overrides.by_key, key, override, name, line)
        return
    title = normalize_title(cells.get("title"))
    if not title:
        raise InputError(
            "override line has neither item_key nor title",
            file=name,
            row=line,
            hint="Copy the item_key or title of the item the ids belong to.",
        )
    year_text = cells.get("year")
    if year_text and not year_text.isdigit():
        raise InputError(
            f"invalid year {year_text!r}",
            file=name,
            row=line,
            value=year_text,
            hint="Write the year as four digits, or leave it empty.",
        )
    year = int(year_text) if year_text else None
    _put(overrides.by_title, (media_type, title, year), override, name, line)


def _put(
    table: dict[Any, Override], key: Any, override: Override, name: str, line: int
) -> None:
    earlier = table.get(key)
    if earlier is not None and (earlier.simkl, earlier.ids) != (
        override.simkl,
        override.ids,
    ):
        raise InputError(
            f"override conflicts with row {earlier.row} for the same item",
            file=name,
            row=line,
            value=key,
            hint="Keep one answer per item.",
        )
    table[key] = override
