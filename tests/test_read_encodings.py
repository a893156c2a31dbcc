"""Tests of the shared CSV layer: encodings, delimiters, quoting, line numbers."""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.errors import ReadError
from importer.readers import ReadOptions, read_exports

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CASES = SHARED / "cases"
OPTIONS = ReadOptions(timezone="UTC", now=datetime(2026, 9, 1, 12, tzinfo=UTC))

TITLES = ["Ánimas: Season 1: Part 1", "Café Lumière Street"]


def read(*paths: Path, **kwargs: object):
    return read_exports([str(p) for p in paths], options=OPTIONS, **kwargs)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "name", ["B18_encoding_utf8_bom_semicolon.csv", "B18_encoding_utf16le_bom.csv"]
)
def test_shared_encoding_cases(name: str) -> None:
    path = CASES / name
    if not path.exists():
        pytest.skip("shared failure cases not present")
    result = read(path)
    assert result.events["title"].to_list() == TITLES
    assert result.events["watched_at"].to_list() == [
        datetime(2022, 3, 1, 12, tzinfo=UTC),
        datetime(2022, 3, 2, 12, tzinfo=UTC),
    ]
    assert result.warnings == []


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-8", b""),
    ],
)
def test_bom_encodings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = "Title,Date\r\n" + "".join(
        f"{t},2022-03-0{i}\r\n" for i, t in enumerate(TITLES, 1)
    )
    path = write(tmp_path / "export.csv", bom + text.encode(encoding))
    result = read(path)
    assert result.events["title"].to_list() == TITLES
    assert result.events["source_row"].to_list() == [2, 3]


def test_tab_delimited(tmp_path: Path) -> None:
    text = "title\tyear\ttmdb_id\twatched_at\nComma, Inside\t2001\t42\t2020-05-05\n"
    result = read(write(tmp_path / "history.tsv", text.encode()))
    assert result.events["title"].to_list() == ["Comma, Inside"]
    assert result.events["tmdb"].to_list() == [42]


def test_semicolon_with_quoted_semicolon(tmp_path: Path) -> None:
    text = 'title;year;watched_at\n"A; B";1999;2020-01-01\n'
    result = read(write(tmp_path / "history.csv", text.encode()))
    assert result.events["title"].to_list() == ["A; B"]
    assert result.events["year"].to_list() == [1999]


def test_header_whitespace_trimmed(tmp_path: Path) -> None:
    text = " title , watched_at \nPadded,2020-01-01\n"
    result = read(write(tmp_path / "history.csv", text.encode()))
    assert result.events["title"].to_list() == ["Padded"]


def test_cp1252_imdb_old_headers(tmp_path: Path) -> None:
    header = (
        "Const,Your Rating,Date Rated,Title,URL,Title Type,IMDb Rating,"
        "Runtime (mins),Year,Genres,Num Votes,Release Date,Directors\n"
    )
    rows = (
        "tt0110413,9,2021-01-02,Léon,https://www.imdb.com/title/tt0110413/,movie,"
        '8.5,110,1994,"Action, Crime",1000,1994-09-14,Luc Besson\n'
        "tt0133093,8,2021-01-03,Kurôzu zero,https://www.imdb.com/title/tt0133093/,"
        "movie,7.0,130,2007,Action,900,,Takashi Miike\n"
    )
    path = write(tmp_path / "ratings.csv", (header + rows).encode("cp1252"))
    result = read(path)
    assert result.events["title"].to_list() == ["Léon", "Kurôzu zero"]
    assert result.events["record"].to_list() == ["rating", "rating"]
    assert result.events["rating"].to_list() == [9, 8]
    assert result.events["imdb"].to_list() == ["tt0110413", "tt0133093"]
    assert len(result.warnings) == 1
    assert "Windows-1252" in result.warnings[0]
    assert str(path) in result.warnings[0]


def test_line_numbers_with_newlines_and_blanks(tmp_path: Path) -> None:
    text = (
        "title,year,watched_at\r\n"
        '"Two\r\nLines",2001,2020-01-01\r\n'
        "\r\n"
        "Plain,2002,2020-01-02\r\n"
        '"Three\nLine\nTitle",2003,2020-01-03\r\n'
        "Last,2004,2020-01-04\r\n"
    )
    result = read(write(tmp_path / "history.csv", text.encode()))
    assert result.events["title"].to_list() == [
        "Two\r\nLines",
        "Plain",
        "Three\nLine\nTitle",
        "Last",
    ]
    assert result.events["source_row"].to_list() == [2, 5, 6, 9]


def test_classic_mac_line_breaks(tmp_path: Path) -> None:
    text = "title,year,watched_at\rAlpha,2001,2020-01-01\rBeta,2002,2020-01-02\r"
    result = read(write(tmp_path / "history.csv", text.encode()))
    assert result.events["title"].to_list() == ["Alpha", "Beta"]
    assert result.events["source_row"].to_list() == [2, 3]


def test_ragged_row_does_not_fail_file(tmp_path: Path) -> None:
    text = (
        "title,year,watched_at\n"
        "Short,2001\n"
        "Full,2002,2020-01-02\n"
        "Long,2003,2020-01-03,x\n"
    )
    result = read(write(tmp_path / "history.csv", text.encode()))
    assert result.events["title"].to_list() == ["Short", "Full", "Long"]
    assert result.events["watched_at"][0] is None
    assert result.events["source_row"].to_list() == [2, 3, 4]


def test_binary_file_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "poster.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ReadError) as caught:
        read(path)
    assert str(path) in str(caught.value)
    assert "binary file" in str(caught.value)


def test_empty_file_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.csv", b"")
    with pytest.raises(ReadError) as caught:
        read(path)
    assert str(path) in str(caught.value)


TITLE_TEXT = st.text(
    alphabet=st.sampled_from(list('abcXYZ é夜,;"\n\t')), min_size=1, max_size=12
).filter(lambda t: t.strip() == t and t.strip())


@settings(max_examples=40, deadline=None)
@given(titles=st.lists(TITLE_TEXT, min_size=1, max_size=8))
def test_csv_round_trip_titles_and_lines(titles: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["title", "watched_at"])
    starts = []
    line = 2
    for title in titles:
        starts.append(line)
        writer.writerow([title, "2020-01-01"])
        line += 1 + title.count("\n")
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "history.csv", buffer.getvalue().encode())
        result = read(path)
    assert result.events["title"].to_list() == titles
    assert result.events["source_row"].to_list() == starts


@pytest.mark.parametrize(
    "header", [b"title,title ,watched_at", b"title,title,watched_at"]
)
def test_duplicate_header_rejected(tmp_path: Path, header: bytes) -> None:
    path = write(tmp_path / "history.csv", header + b"\nA,B,2020-01-01\n")
    with pytest.raises(ReadError) as caught:
        read(path)
    assert str(caught.value).startswith(f"{path}, row 1: duplicate column title")


def test_binary_file_in_folder_ignored(tmp_path: Path) -> None:
    write(tmp_path / "cover.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path / "history.csv", b"title,watched_at\nA,2020-01-01\n")
    result = read(tmp_path)
    assert result.events["title"].to_list() == ["A"]
    formats = {Path(f.path).name: f.format for f in result.files}
    assert formats == {"cover.png": "ignored", "history.csv": "generic"}
    assert result.warnings == [f"{tmp_path / 'cover.png'}: binary file, ignored"]


def test_utf8_check_across_chunk_edges():
    from importer.readers.csvio import _is_utf8

    text = ("é" * 5 + "a").encode("utf-8") * 3
    for chunk in (1, 2, 3, 7):
        assert _is_utf8(text, chunk)
    assert not _is_utf8(text + b"\xe9", 4)
    assert not _is_utf8(b"caf\xe9 au lait", 2)
    assert not _is_utf8(text[:-2] + b"\xc3", 3)
