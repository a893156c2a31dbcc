"""The CSV layer shared by every CSV reader: encoding, dialect, line numbers.

Text is decoded by BOM (UTF-8, UTF-16 LE/BE), then as strict UTF-8, then as
Windows-1252 with a warning. The delimiter is sniffed from the header line
(comma, semicolon or tab). Parsing is polars' CSV reader, so quoted commas,
doubled quotes and newlines inside quoted fields are handled, and every
column is read as text. `_line` contains the line number where each record
starts, with the header on line 1 (or later when lines precede it).
"""

from __future__ import annotations

import codecs
import io
import logging
from dataclasses import dataclass, field

import polars as pl

from importer.errors import ReadError

logger = logging.getLogger(__name__)

LINE_COLUMN = "_line"
DELIMITERS = (",", ";", "\t")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass
class DecodedText:
    """A text file as UTF-8 bytes without BOM, with how it was decoded."""

    data: bytes
    encoding: str
    warnings: list[str] = field(default_factory=list)

    def lines(self, limit: int = 64) -> list[str]:
        """Return up to `limit` leading lines, for format detection."""
        head = self.data[: 256 * 1024].decode("utf-8", errors="replace")
        return head.splitlines()[:limit]


def decode_bytes(data: bytes, display: str) -> DecodedText:
    """Decode `data` as described in the module docstring.

    Raises ReadError when the bytes are not text in any supported encoding.
    """
    decoded = _decode(data, display)
    decoded.data = _with_line_feeds(decoded.data)
    return decoded


def _with_line_feeds(data: bytes) -> bytes:
    """Return `data` with lines that end in CR alone ending in LF.

    Classic Mac OS line breaks (a CSV saved for "Macintosh") are CR only,
    which the CSV parser would read as one long line.
    """
    if b"\n" not in data and b"\r" in data:
        return data.replace(b"\r", b"\n")
    return data


def _decode(data: bytes, display: str) -> DecodedText:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding.removesuffix("-sig"))
            except UnicodeDecodeError as error:
                raise ReadError(
                    f"invalid {encoding} text at byte {error.start}",
                    file=display,
                    hint="Save the file again as UTF-8 and retry.",
                ) from error
            if encoding == "utf-8-sig":
                return DecodedText(data[len(bom) :], "utf-8-sig")
            return DecodedText(text.encode("utf-8"), encoding)
    if b"\x00" in data[:4096]:
        raise ReadError(
            "binary file, not a CSV or JSON export",
            file=display,
            hint="Pass the export's CSV or JSON files, a ZIP of them or their folder.",
        )
    if not _is_utf8(data):
        text = data.decode("cp1252", errors="replace")
        message = (
            f"{display}: not valid UTF-8, read as Windows-1252; "
            "check non-ASCII titles in the plan"
        )
        logger.warning(message)
        return DecodedText(text.encode("utf-8"), "cp1252", [message])
    return DecodedText(data, "utf-8")


def _is_utf8(data: bytes, chunk: int = 1 << 16) -> bool:
    """Return True if `data` is valid UTF-8, decoding a chunk at a time.

    Decoding the whole file at once would hold a second copy of it as text.
    """
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), chunk):
            decoder.decode(view[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff_delimiter(header: str) -> str:
    """Return the delimiter that occurs most often outside quotes in `header`."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def split_header(line: str, delimiter: str) -> list[str]:
    """Split one header line into trimmed column names."""
    import csv

    row = next(csv.reader([line], delimiter=delimiter), [])
    return [name.strip() for name in row]


def read_table(
    decoded: DecodedText, display: str, *, header_line: int = 0
) -> pl.DataFrame:
    """Parse the CSV whose header is line `header_line` (0-based) of `decoded`.

    Returns every column as String with names trimmed, plus `_line`. Rows
    made only of empty cells (blank lines) are dropped.
    """
    data = decoded.data
    if header_line:
        data = _drop_lines(data, header_line)
    end = data.find(b"\n")
    first = data[: end if end >= 0 else len(data)].decode("utf-8", errors="replace")
    if not first.strip():
        raise ReadError(
            "empty file, no header line",
            file=display,
            hint="Export the file again; the first line must name the columns.",
        )
    delimiter = sniff_delimiter(first)
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            separator=delimiter,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, OSError) as error:
        raise ReadError(
            f"invalid CSV: {error}".splitlines()[0],
            file=display,
            hint="Check the file for an unterminated quote.",
        ) from error
    # polars renames a repeated header itself, so check the header line.
    names = split_header(first, delimiter)
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise ReadError(
            f"duplicate column {', '.join(repeated)} in the header",
            file=display,
            row=header_line + 1,
            hint="Rename or remove the repeated column and retry.",
        )
    frame = frame.rename({name: name.strip() for name in frame.columns})
    return _add_lines(frame, data, header_line + 1)


def _drop_lines(data: bytes, count: int) -> bytes:
    for _ in range(count):
        cut = data.find(b"\n")
        if cut < 0:
            return b""
        data = data[cut + 1 :]
    return data


def _add_lines(frame: pl.DataFrame, data: bytes, header_number: int) -> pl.DataFrame:
    """Add `_line` and drop blank rows.

    Each row starts one line after the previous row's start plus the line
    breaks inside its quoted fields. When the file has exactly one line per
    row (blank lines come back as empty rows), no field contains a line break
    and the counting is skipped.
    """
    columns = frame.columns
    if not columns:
        return frame.with_columns(pl.lit(None, dtype=pl.Int64).alias(LINE_COLUMN))
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    physical = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if physical > 1 + frame.height:
        breaks = pl.sum_horizontal(
            pl.col(name).str.count_matches("\n", literal=True).fill_null(0)
            for name in columns
        ).cast(pl.Int64)
        before = breaks.cum_sum() - breaks
        line = header_number + 1 + index + before
    else:
        line = header_number + 1 + index
    frame = frame.with_columns(line.alias(LINE_COLUMN))
    # A blank row is null in every column, so a column without nulls rules
    # them out without a scan.
    if any(frame.get_column(name).null_count() == 0 for name in columns):
        return frame
    blank = frame.select(
        pl.all_horizontal(pl.col(name).is_null() for name in columns)
    ).to_series()
    return frame.filter(~blank) if blank.any() else frame
