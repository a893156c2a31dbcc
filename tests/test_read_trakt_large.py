"""Tests of reading Trakt history arrays in blocks.

Large history files are parsed in blocks of whole objects, and the event
columns of each group of blocks are extracted as it is parsed. Most tests
read the same bytes in blocks of one object (BLOCK_BYTES = 1) and whole
(one block as large as the file), and the two must give the same event
columns, or the same error. Files on disk are read from a stream without
loading them whole, and must give what loading them whole gives.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from importer.errors import ReadError
from importer.readers import ReadOptions, read_exports, trakt
from importer.readers.inputs import InputFile

OPTIONS = ReadOptions(timezone="UTC", now=datetime(2026, 9, 1, 12, tzinfo=UTC))

# Text that a naive split of the array on `},{` or on lines would break.
AWKWARD_TITLES = (
    'Say "Hi" \\ Bye',
    "a},{b",
    'x},\n{"id": 1}',
    "[{]}",
    "Café Señor 東京 🎬",
    "",
    "tab\tand\rreturn",
)


def movie(index: int) -> dict:
    return {
        "id": 1000 + index,
        "watched_at": f"2023-03-{index % 28 + 1:02d}T03:03:03.000Z",
        "action": "watch",
        "type": "movie",
        "movie": {
            "title": AWKWARD_TITLES[index % len(AWKWARD_TITLES)],
            "year": 2000 + index,
            "ids": {
                "trakt": 500 + index,
                "slug": f"film-{index}",
                "imdb": f"tt{index:07d}",
                "tmdb": 900 + index,
            },
        },
    }


def episode(index: int) -> dict:
    return {
        "id": 2000 + index,
        "watched_at": None,
        "action": "scrobble",
        "type": "episode",
        "episode": {
            "season": 1,
            "number": index,
            "title": None,
            "ids": {"trakt": 700 + index, "tvdb": 800 + index, "tvrage": None},
        },
        "show": {
            "title": f"Show {index}",
            "year": None,
            "ids": {"trakt": 600 + index, "slug": f"show-{index}"},
        },
    }


def sparse(index: int) -> dict:
    """An entry with keys missing, an unknown key and a nested array."""
    return {
        "watched_at": "2024-01-01T00:00:00Z",
        "action": "checkin",
        "movie": {"title": "Sparse", "ids": {}},
        "sharing": [{"service": "x"}, {"service": "y"}],
        "unknown": index,
    }


def entries(count: int = 30) -> list[dict]:
    makers = (movie, episode, movie, sparse)
    return [makers[index % len(makers)](index) for index in range(count)]


def one_per_line(objects: list[dict], newline: str = "\n") -> bytes:
    lines = ",\n".join(json.dumps(obj, ensure_ascii=False) for obj in objects)
    return f"[\n{lines}\n]".replace("\n", newline).encode()


def load_table(data: bytes) -> trakt.TraktTable:
    source = InputFile("history.json", "history.json", lambda: data)
    (table,) = trakt.load_tables(source, data)
    return table


def load(data: bytes) -> pl.DataFrame:
    """Return the event columns of the history array in `data`."""
    table = load_table(data)
    if table.extracted:
        return table.frame
    return trakt._event_columns(table.frame)


def reference(data: bytes) -> pl.DataFrame:
    """Return the event columns of `data` parsed whole with the history schema."""
    return trakt._event_columns(pl.read_json(data, schema=trakt._HISTORY_SCHEMA))


def read_both(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return the event columns of `data` read in one-object blocks and whole."""
    monkeypatch.setattr(trakt, "BLOCK_BYTES", len(data))
    whole = load(data)
    monkeypatch.setattr(trakt, "BLOCK_BYTES", 1)
    blocks = load(data)
    return blocks, whole


def read_in_blocks(data: bytes, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame | None:
    """Return the block reader's frame, or None where it leaves the file whole."""
    monkeypatch.setattr(trakt, "BLOCK_BYTES", 1)
    return trakt._history_in_blocks(data.lstrip(), io.BytesIO(), "history.json")


def errors_of_both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    messages = []
    for block_bytes in (len(data), 1):
        monkeypatch.setattr(trakt, "BLOCK_BYTES", block_bytes)
        with pytest.raises(ReadError) as caught:
            load(data)
        messages.append(str(caught.value))
    return messages


LAYOUTS = {
    "one per line": one_per_line(entries()),
    "CRLF": one_per_line(entries(), "\r\n"),
    "one long line": json.dumps(entries(), ensure_ascii=False).encode(),
    "compact": json.dumps(entries(), separators=(",", ":")).encode(),
    "indent 2": json.dumps(entries(), indent=2).encode(),
    "indent tab": json.dumps(entries(), indent="\t", ensure_ascii=False).encode(),
    "surrounding whitespace": b" \r\n\t" + one_per_line(entries()) + b" \r\n\n\t ",
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_blocks_match_whole(layout: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = LAYOUTS[layout]
    blocks, whole = read_both(data, monkeypatch)
    assert_frame_equal(blocks, whole)
    assert_frame_equal(whole, reference(data))
    assert whole.height == 30
    monkeypatch.setattr(trakt, "BLOCK_BYTES", len(data))
    assert load_table(data).extracted


@pytest.mark.parametrize("layout", LAYOUTS)
def test_blocks_path_is_taken(layout: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = LAYOUTS[layout]
    # A single-line file has no line breaks to cut at, so a cut falls at
    # the title "a},{b" inside a string, and the file is read whole.
    single_line = layout in ("one long line", "compact")
    frame = read_in_blocks(data, monkeypatch)
    assert (frame is None) == single_line


@pytest.mark.parametrize("blocks_per_chunk", [1, 3, 32])
def test_blocks_merged_in_order(
    blocks_per_chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100 one-object blocks are joined in groups of _BLOCKS_PER_CHUNK.
    monkeypatch.setattr(trakt, "_BLOCKS_PER_CHUNK", blocks_per_chunk)
    data = one_per_line([movie(index) for index in range(100)])
    frame = read_in_blocks(data, monkeypatch)
    assert isinstance(frame, pl.DataFrame)
    assert frame["trakt"].to_list() == list(range(500, 600))
    assert frame.n_chunks() == 1
    assert_frame_equal(frame, reference(data))


def test_blocks_at_default_size() -> None:
    data = one_per_line([movie(index) for index in range(4000)])
    assert len(data) > 3 * trakt.BLOCK_BYTES
    frame = trakt._history_in_blocks(data, io.BytesIO(), "history.json")
    assert isinstance(frame, pl.DataFrame)
    assert_frame_equal(frame, reference(data))


def test_imdb_urls_parsed_per_block(monkeypatch: pytest.MonkeyPatch) -> None:
    # A block whose IMDb ids are all plain takes the cheap parse, and one
    # with a URL the full parse. Both must give what the whole file gives.
    objects = [movie(index) for index in range(12)]
    objects[5]["movie"]["ids"]["imdb"] = "https://www.imdb.com/title/TT0000005/"
    objects[7]["movie"]["ids"]["imdb"] = "nm0000007"
    data = one_per_line(objects)
    blocks, whole = read_both(data, monkeypatch)
    assert_frame_equal(blocks, whole)
    assert whole["imdb"][4] == "tt0000004"
    assert whole["imdb"][5] == "tt0000005"
    assert whole["imdb"][7] is None


def test_ids_as_text_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    objects = entries()
    objects[20]["movie"]["ids"]["trakt"] = "520"
    data = one_per_line(objects)
    assert read_in_blocks(data, monkeypatch) is None
    blocks, whole = read_both(data, monkeypatch)
    assert_frame_equal(blocks, whole)
    table = load_table(data)
    assert not table.extracted
    ids = table.frame["movie"].struct.field("ids")
    assert ids.struct.field("trakt")[20] == "520"
    assert whole["trakt"][20] == 520


def test_nested_arrays_of_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    objects = [{**movie(index), "seasons": [{"n": 1}, {"n": 2}]} for index in range(9)]
    for data in (
        json.dumps(objects, indent=2).encode(),
        json.dumps(objects).encode(),
        one_per_line(objects),
    ):
        blocks, whole = read_both(data, monkeypatch)
        assert_frame_equal(blocks, whole)


@pytest.mark.parametrize(
    "data",
    [
        b"[]",
        b"[ ]",
        b"[\n]\n",
        b'[{"watched_at": null, "action": "watch", "ids": {}}]',
    ],
)
def test_tiny_arrays(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks, whole = read_both(data, monkeypatch)
    assert_frame_equal(blocks, whole)


def test_non_object_element(monkeypatch: pytest.MonkeyPatch) -> None:
    objects: list = entries(6)
    objects.insert(3, 5)
    data = one_per_line(objects)
    assert read_in_blocks(data, monkeypatch) is None
    blocks, whole = read_both(data, monkeypatch)
    assert_frame_equal(blocks, whole)
    assert whole.height == 6


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda text: text[:-2] + ",\n]", id="trailing comma"),
        pytest.param(
            lambda text: text.replace("},\n{", "},\n,\n{", 1), id="two commas"
        ),
        pytest.param(lambda text: text.replace("},\n{", "}\n{", 1), id="no comma"),
        pytest.param(lambda text: text + "]", id="extra bracket"),
        pytest.param(lambda text: text[:-1], id="no closing bracket"),
        pytest.param(lambda text: text[:-400] + "]", id="cut inside an object"),
    ],
)
def test_invalid_array_same_error(edit, monkeypatch: pytest.MonkeyPatch) -> None:
    data = edit(one_per_line(entries()).decode()).encode()
    first, second = errors_of_both(data, monkeypatch)
    assert first == second
    assert "invalid JSON" in first


def test_truncated_file_same_error(monkeypatch: pytest.MonkeyPatch) -> None:
    data = one_per_line(entries(8))
    for length in range(len(data) - 1, len(data) // 2, -37):
        first, second = errors_of_both(data[:length], monkeypatch)
        assert first == second, length
        assert "invalid JSON" in first, length


def test_truncated_file_names_file(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    data = one_per_line(entries())
    path.write_bytes(data[: len(data) - 50])
    with pytest.raises(ReadError) as caught:
        read_exports([str(path)], options=OPTIONS)
    assert str(path) in str(caught.value)
    assert "invalid JSON" in str(caught.value)


def test_events_match_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(one_per_line(entries(60)))
    whole = read_exports([str(path)], options=OPTIONS)
    monkeypatch.setattr(trakt, "BLOCK_BYTES", 1)
    blocks = read_exports([str(path)], options=OPTIONS)
    assert_frame_equal(blocks.events, whole.events)
    assert_frame_equal(blocks.skipped, whole.skipped)
    assert blocks.files == whole.files
    assert whole.events.height > 0


# Strings with the characters that matter to splitting: brackets, braces,
# commas, quotes, backslashes and line breaks (escaped by json.dumps).
AWKWARD_TEXT = st.text(alphabet='ab{}[],:"\\\n\r\t é東🎬', max_size=12)
IDS = st.fixed_dictionaries(
    {},
    optional={
        "trakt": st.integers(0, 10**9) | st.none(),
        "slug": AWKWARD_TEXT | st.none(),
        "imdb": AWKWARD_TEXT | st.none(),
        "tmdb": st.integers(0, 10**9) | st.none(),
    },
)
ITEM = st.fixed_dictionaries(
    {},
    optional={
        "title": AWKWARD_TEXT | st.none(),
        "year": st.integers(1900, 2030) | st.none(),
        "ids": IDS,
    },
)
ENTRY = st.fixed_dictionaries(
    {"watched_at": AWKWARD_TEXT | st.none(), "action": st.just("watch")},
    optional={
        "id": st.integers(0, 2**62),
        "type": st.sampled_from(["movie", "episode", "season"]),
        "movie": ITEM,
        "show": ITEM,
        "note": st.lists(st.fixed_dictionaries({"k": AWKWARD_TEXT}), max_size=2),
    },
)
LAYOUT = st.sampled_from(["one per line", "CRLF", "one line", "indent"])


def render(objects: list[dict], layout: str) -> bytes:
    if layout == "one per line":
        return one_per_line(objects)
    if layout == "CRLF":
        return one_per_line(objects, "\r\n")
    if layout == "one line":
        return json.dumps(objects, ensure_ascii=False).encode()
    return json.dumps(objects, indent=2).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objects=st.lists(ENTRY, max_size=12), layout=LAYOUT, block=st.integers(1, 300))
def test_blocks_match_whole_property(
    objects: list[dict], layout: str, block: int
) -> None:
    data = render(objects, layout)
    saved = trakt.BLOCK_BYTES
    try:
        trakt.BLOCK_BYTES = len(data)
        whole = load(data)
        trakt.BLOCK_BYTES = block
        blocks = load(data)
    finally:
        trakt.BLOCK_BYTES = saved
    assert_frame_equal(blocks, whole)


# Reading from a stream: the file arrives _READ_BYTES at a time, so a
# boundary between objects can be split across two reads.


def blocks_of(data: bytes, head_bytes: int) -> list[bytes]:
    """Return the blocks of `data`, given `head_bytes` of it first as the head."""
    stripped = data.lstrip()
    head = stripped[:head_bytes]
    return list(trakt._array_blocks(head, io.BytesIO(stripped[head_bytes:]), 40))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("read_bytes", [1, 2, 3, 7, 64, 1 << 20])
def test_stream_cuts_match_memory(
    layout: str, read_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = LAYOUTS[layout]
    in_memory = blocks_of(data, len(data))
    monkeypatch.setattr(trakt, "_READ_BYTES", read_bytes)
    # The head must show how the first object starts its line.
    for head_bytes in (20, 21, 50, 1000):
        assert blocks_of(data, head_bytes) == in_memory, head_bytes
    assert len(in_memory) > 10


@pytest.mark.parametrize(
    ("tail", "resume"),
    [
        (b"", None),
        (b" ", None),
        (b"}", 0),
        (b"},", 0),
        (b"}, \n\t", 0),
        (b"}\n", None),
        (b"}}", 1),
        (b"},,", None),
        (b"}, x", None),
    ],
)
def test_resume_point(tail: bytes, resume: int | None) -> None:
    # A boundary that more bytes could complete starts at the last `}`,
    # when at most a comma and whitespace follow it. Otherwise none can
    # start before the end of the buffer.
    buffer = b'[{"a": 1' + tail
    point = trakt._resume_point(buffer, 1)
    expected = len(buffer) if resume is None else len(buffer) - len(tail) + resume
    assert point == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    objects=st.lists(ENTRY, max_size=12),
    layout=LAYOUT,
    block=st.integers(1, 300),
    read_bytes=st.integers(1, 50),
)
def test_stream_cuts_property(
    objects: list[dict], layout: str, block: int, read_bytes: int
) -> None:
    data = render(objects, layout).lstrip()
    # The head reaches the first object, so the layout is known from it.
    head_bytes = data.find(b"{") + 1 or len(data)
    in_memory = list(trakt._array_blocks(data, io.BytesIO(), block))
    saved = trakt._READ_BYTES
    try:
        trakt._READ_BYTES = read_bytes
        rest = io.BytesIO(data[head_bytes:])
        streamed = list(trakt._array_blocks(data[:head_bytes], rest, block))
    finally:
        trakt._READ_BYTES = saved
    assert streamed == in_memory


# Entries whose file is larger than the head that read_history_file reads
# to decide whether a file is a history array.
LARGE = 1200


def file_source(path: Path) -> InputFile:
    return InputFile(str(path), path.name, path.read_bytes, lambda: path.open("rb"))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def read_twice(
    paths: list[Path], monkeypatch: pytest.MonkeyPatch, **kwargs: object
) -> tuple[object, object]:
    """Return read_exports of `paths` read from a stream and loaded whole.

    Each result is the ReadResult, or the exception it raised.
    """
    results = []
    for stream in (True, False):
        with monkeypatch.context() as patch:
            if not stream:
                patch.setattr(trakt, "read_history_file", lambda *a, **k: None)
            try:
                results.append(
                    read_exports([str(p) for p in paths], options=OPTIONS, **kwargs)
                )
            except Exception as error:  # noqa: BLE001
                results.append(error)
    return results[0], results[1]


def assert_same_result(streamed: object, loaded: object) -> None:
    if isinstance(loaded, Exception):
        assert type(streamed) is type(loaded)
        assert str(streamed) == str(loaded)
        return
    assert not isinstance(streamed, Exception), streamed
    assert_frame_equal(streamed.events, loaded.events)
    assert_frame_equal(streamed.skipped, loaded.skipped)
    assert streamed.files == loaded.files
    assert streamed.warnings == loaded.warnings


def test_stream_file_matches_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trakt, "BLOCK_BYTES", 3000)
    monkeypatch.setattr(trakt, "_READ_BYTES", 777)
    objects = entries(LARGE)
    files = {
        "one per line": one_per_line(objects),
        "CRLF": one_per_line(objects, "\r\n"),
        "indent 2": json.dumps(objects, indent=2).encode(),
        "one long line": json.dumps(objects).encode(),
    }
    for name, data in files.items():
        assert len(data) > trakt._HEAD_BYTES, name
        path = write(tmp_path / "history.json", data)
        streamed, loaded = read_twice([path], monkeypatch)
        assert_same_result(streamed, loaded)
        assert loaded.events.height > 0, name


def test_stream_reads_history(tmp_path: Path) -> None:
    path = write(tmp_path / "history.json", one_per_line(entries(LARGE)))
    source = file_source(path)
    table = trakt.read_history_file(source, forced=False)
    assert table is not None
    assert table.extracted
    assert table.shape == trakt.HISTORY
    assert_frame_equal(table.frame, load(path.read_bytes()))


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_stream_zip_member(
    compression: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trakt, "BLOCK_BYTES", 3000)
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("history.json", one_per_line(entries(LARGE)))
        archive.writestr("other.json", one_per_line(entries(10)))
    streamed, loaded = read_twice([path], monkeypatch)
    assert_same_result(streamed, loaded)
    assert len(loaded.files) == 2


def test_stream_corrupt_zip_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A changed byte near the end of a stored member fails its CRC check
    # only when the stream reaches the end.
    data = one_per_line(entries(LARGE))
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("history.json", data)
    raw = bytearray(path.read_bytes())
    at = raw.rindex(b"Show ")
    raw[at] = ord("X")
    path.write_bytes(bytes(raw))
    streamed, loaded = read_twice([path], monkeypatch)
    assert isinstance(loaded, ReadError)
    assert "broken ZIP member: Bad CRC-32" in str(loaded)
    assert f"{path}:history.json" in str(loaded)
    assert_same_result(streamed, loaded)


FALLBACKS = {
    "UTF-8 byte order mark": b"\xef\xbb\xbf" + one_per_line(entries(LARGE)),
    # A Windows-1252 é is not UTF-8, so the file is read as Windows-1252.
    "not UTF-8": one_per_line(entries(LARGE))
    .replace(b"Caf\xc3\xa9", b"Caf\xe9")
    .replace(b"\\u00e9", b"\xe9"),
    "NUL in the head": b"[\n" + b"\x00" + one_per_line(entries(LARGE))[2:],
    "id as text": one_per_line(entries(LARGE - 1) + [movie(5)]).replace(
        b'"trakt": 505', b'"trakt": "505"'
    ),
    "cut short": one_per_line(entries(LARGE))[:-300],
    "much leading whitespace": b" " * 5000 + one_per_line(entries(LARGE)),
    "extra bracket": one_per_line(entries(LARGE)) + b"]",
}


@pytest.mark.parametrize("name", FALLBACKS)
def test_stream_falls_back(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trakt, "BLOCK_BYTES", 3000)
    path = write(tmp_path / "history.json", FALLBACKS[name])
    source = file_source(path)
    assert trakt.read_history_file(source, forced=False) is None
    for paths in ([path], [tmp_path]):
        streamed, loaded = read_twice(paths, monkeypatch)
        assert_same_result(streamed, loaded)


def test_stream_not_utf8_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "history.json", FALLBACKS["not UTF-8"])
    result = read_exports([str(path)], options=OPTIONS)
    assert any("not valid UTF-8" in warning for warning in result.warnings)


def test_stream_forced_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without Trakt's id keys in the head, only --format trakt reads it.
    objects = [
        {"watched_at": "2024-01-01T00:00:00Z", "action": "watch", "x": index}
        for index in range(4000)
    ]
    path = write(tmp_path / "history.json", one_per_line(objects))
    source = file_source(path)
    assert trakt.read_history_file(source, forced=False) is None
    assert trakt.read_history_file(source, forced=True) is not None
    for fmt in (None, "trakt"):
        streamed, loaded = read_twice([path], monkeypatch, format=fmt)
        assert_same_result(streamed, loaded)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"  \n",
        b"title,year\nHeat,1995\n",
        b'{"history": []}',
        json.dumps([{"plays": 2, "last_watched_at": None, "ids": {}}]).encode(),
    ],
)
def test_stream_skips_other_files(data: bytes, tmp_path: Path) -> None:
    path = write(tmp_path / "export.json", data)
    source = file_source(path)
    assert trakt.read_history_file(source, forced=False) is None
    assert trakt.read_history_file(source, forced=True) is None


class FailingStream(io.BytesIO):
    """A stream that raises `error` once `limit` bytes have been read."""

    def __init__(self, data: bytes, limit: int, error: Exception) -> None:
        super().__init__(data)
        self.limit = limit
        self.error = error

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.limit:
            raise self.error
        return super().read(size)


@pytest.mark.parametrize(
    "error",
    [
        OSError(5, "Input/output error"),
        zipfile.BadZipFile("Bad CRC-32 for file 'history.json'"),
        EOFError("Compressed file ended before the end-of-stream marker"),
    ],
)
def test_stream_read_error_falls_back(error: Exception) -> None:
    data = one_per_line(entries(LARGE))

    def open_stream() -> io.BytesIO:
        return FailingStream(data, len(data) // 2, error)

    source = InputFile("history.json", "history.json", lambda: data, open_stream)
    assert trakt.read_history_file(source, forced=False) is None


def test_stream_open_error_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    source = file_source(path)
    assert trakt.read_history_file(source, forced=False) is None
