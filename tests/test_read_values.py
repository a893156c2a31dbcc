"""Tests of the cell parsers: cheap forms on clean columns, full forms on others."""

from __future__ import annotations

import polars as pl
import pytest

from importer.readers.values import (
    by_distinct,
    count_parse,
    imdb_id_parse,
    int_id_parse,
    text,
    with_parses,
    with_rating,
    with_year,
)

CLEAN_AND_DIRTY = {
    "ids": (["12", "7", None], ["12", " 12.0", "0", "-4", "abc", "1e3", None]),
    "imdb": (
        ["tt0111161", None, "tt1234567"],
        ["tt0111161", "https://www.imdb.com/title/tt0068646/", "TT0071562", "x", None],
    ),
    "counts": (["1", "2", None], ["1", "2.0", " 3 ", "", "99999999999", None]),
}
PARSERS = {"ids": int_id_parse, "imdb": imdb_id_parse, "counts": count_parse}


@pytest.mark.parametrize("kind", sorted(CLEAN_AND_DIRTY))
@pytest.mark.parametrize("which", [0, 1])
def test_parse_matches_full_form(kind, which):
    values = CLEAN_AND_DIRTY[kind][which]
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    parse = PARSERS[kind](pl.col("raw"))
    chosen = with_parses(frame, {"out": parse})["out"]
    full = frame.select(parse.full.alias("out"))["out"]
    assert chosen.equals(full)


def test_dirty_column_takes_full_form():
    frame = pl.DataFrame({"raw": ["12", " 12.0", "tt"]})
    out = with_parses(frame, {"out": int_id_parse(pl.col("raw"))})
    assert out["out"].to_list() == [12, 12, None]


def test_year_and_rating_read_loose_forms():
    frame = pl.DataFrame({"y": ["1999", " 2001.0", "soon"], "r": ["8", "7,5", "x"]})
    out = with_rating(with_year(frame, "y"), "r")
    assert out["year"].to_list() == [1999, 2001, None]
    assert out["raw_year"].to_list() == [None, None, "soon"]
    assert out["rating"].to_list() == [8, 8, None]
    assert out["raw_rating"].to_list() == [None, None, "x"]


def test_by_distinct_keeps_order_and_nulls():
    frame = pl.DataFrame({"type": ["Movie", None, " show ", "Movie", "movie"]})
    out = by_distinct(frame, "type", {"kind": text(pl.col("type")).str.to_lowercase()})
    assert out["type"].to_list() == frame["type"].to_list()
    assert out["kind"].to_list() == ["movie", None, "show", "movie", "movie"]


def test_by_distinct_replaces_key_column():
    frame = pl.DataFrame({"record": ["Rated", "Watched", None], "n": [1, 2, 3]})
    out = by_distinct(frame, "record", {"record": pl.col("record").str.to_lowercase()})
    assert out.columns == ["record", "n"]
    assert out["record"].to_list() == ["rated", "watched", None]


def test_by_distinct_above_limit():
    frame = pl.DataFrame({"v": [str(n) for n in range(50)]})
    out = by_distinct(frame, "v", {"w": pl.col("v") + "!"}, limit=10)
    assert out["w"].to_list() == [f"{n}!" for n in range(50)]


def test_mapped_table_taken_once():
    from importer.readers.mapped import MappedTable
    from importer.readers.mapping import builtin_mappings

    frame = pl.DataFrame({"title": ["A"]})
    table = MappedTable("list.csv", builtin_mappings()["generic"], frame)
    assert table.take() is frame
    assert table.frame is None
    with pytest.raises(ValueError, match="list.csv: table already read"):
        table.take()
