"""Format detection: which reader reads each input file, decided by content."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from importer.errors import ReadError
from importer.readers import letterboxd, trakt
from importer.readers.csvio import (
    DecodedText,
    decode_bytes,
    read_table,
    sniff_delimiter,
    split_header,
)
from importer.readers.inputs import InputFile
from importer.readers.mapped import MappedTable, json_records
from importer.readers.mapping import Mapping

logger = logging.getLogger(__name__)

IGNORED = "ignored"


@dataclass
class DetectedFiles:
    """Input files grouped by the reader that reads them."""

    letterboxd: list[letterboxd.LetterboxdFile] = field(default_factory=list)
    trakt: list[trakt.TraktTable] = field(default_factory=list)
    mapped: list[MappedTable] = field(default_factory=list)
    ignored: list[InputFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Detector:
    """Sorter of input files into DetectedFiles.

    `format` forces a format name for every file, and `custom` a mapping
    file. Without either, Letterboxd and Trakt files are recognized first,
    and every other file gets the built-in mapping that fits its headers
    best.
    """

    mappings: dict[str, Mapping]
    format: str | None = None
    custom: Mapping | None = None
    formats: tuple[str, ...] = ()
    detected: DetectedFiles = field(default_factory=DetectedFiles)

    def classify(self, source: InputFile, *, direct: bool) -> None:
        """Decide which reader reads `source`, or record it as ignored.

        `direct` marks a file the user named, which raises ReadError when it
        is not an export instead of being ignored.
        """
        if self.custom is None and self.format in (None, trakt.FORMAT):
            # A Trakt history is read from its file in blocks, without
            # loading it whole. Every other file is loaded below.
            forced = self.format == trakt.FORMAT
            table = trakt.read_history_file(source, forced=forced)
            if table is not None:
                self.detected.trakt.append(table)
                return
        try:
            data = source.load()
        except OSError as error:
            raise ReadError(
                f"cannot read the file: {error.strerror or error}",
                file=source.display,
                hint="Check that the file exists and is readable.",
            ) from error
        if not data or data.isspace():
            self._unknown(source, direct, "empty file")
            return
        try:
            decoded = decode_bytes(data, source.display)
        except ReadError:
            if direct:
                raise
            self._unknown(source, direct, "binary file")
            return
        self.detected.warnings.extend(decoded.warnings)
        if decoded.data.lstrip()[:1] in (b"[", b"{"):
            self._classify_json(source, decoded.data, direct)
        else:
            self._classify_csv(source, decoded, direct)

    def _classify_json(self, source: InputFile, data: bytes, direct: bool) -> None:
        if self.format == letterboxd.FORMAT:
            raise ReadError(
                "not a Letterboxd export: Letterboxd exports are CSV",
                file=source.display,
                hint="Pass the Letterboxd ZIP or its CSV files, or choose another "
                "--format.",
            )
        if self.custom is None and self.format in (None, trakt.FORMAT):
            if self.format == trakt.FORMAT or trakt.looks_like_trakt(data):
                tables = trakt.load_tables(source, data)
                # Generic layouts share Trakt's key names; a document with
                # no Trakt array in it is left to the mappings.
                usable = any(t.shape != trakt.IGNORED for t in tables)
                if usable or self.format == trakt.FORMAT:
                    self.detected.trakt.extend(tables)
                    return
        for candidate in self._json_candidates():
            frame = json_records(data, candidate, source.display)
            if frame is None:
                continue
            headers = [c for c in frame.columns if not c.startswith("_")]
            forced = candidate is self.custom or self.format is not None
            if forced or candidate.score(headers) is not None:
                self.detected.mapped.append(
                    MappedTable(source.display, candidate, frame)
                )
                return
        self._unknown(source, direct, "JSON of an unknown layout")

    def _classify_csv(
        self, source: InputFile, decoded: DecodedText, direct: bool
    ) -> None:
        lines = decoded.lines()
        first = lines[0] if lines else ""
        headers = split_header(first, sniff_delimiter(first))
        if self.custom is None and self.format in (None, letterboxd.FORMAT):
            kind = letterboxd.classify(source, headers, lines)
            if kind is not None:
                item = letterboxd.LetterboxdFile(source, decoded, kind)
                self.detected.letterboxd.append(item)
                return
            if self.format == letterboxd.FORMAT:
                raise ReadError(
                    f"not a Letterboxd export file (columns: {', '.join(headers)})",
                    file=source.display,
                    hint="Pass diary.csv, reviews.csv, watched.csv, ratings.csv, "
                    "watchlist.csv, a list file, or the export's folder or ZIP.",
                )
        if self.format == trakt.FORMAT:
            raise ReadError(
                "not a Trakt export: Trakt exports are JSON",
                file=source.display,
                hint="Pass the Trakt ZIP or its JSON files, or choose another "
                "--format.",
            )
        chosen = self._csv_mapping(headers)
        if chosen is None:
            why = f"unknown CSV layout (columns: {', '.join(headers)})"
            self._unknown(source, direct, why)
            return
        frame = read_table(decoded, source.display)
        self.detected.mapped.append(MappedTable(source.display, chosen, frame))

    def _json_candidates(self) -> list[Mapping]:
        if self.custom is not None:
            return [self.custom]
        if self.format is not None:
            return [self.mappings[self.format]]
        found = [m for m in self.mappings.values() if m.kind == "json"]
        return sorted(found, key=lambda m: -m.priority)

    def _csv_mapping(self, headers: list[str]) -> Mapping | None:
        """Return the forced mapping, or the best-scoring one for `headers`."""
        if self.custom is not None:
            return self.custom
        if self.format is not None:
            return self.mappings[self.format]
        scored = [
            (score, m.name, m)
            for m in self.mappings.values()
            if m.kind == "csv" and (score := m.score(headers)) is not None
        ]
        if not scored:
            return None
        return max(scored, key=lambda item: (item[0], item[1]))[2]

    def _unknown(self, source: InputFile, direct: bool, why: str) -> None:
        if direct:
            raise ReadError(
                f"{why}: not an export format this tool reads",
                file=source.display,
                hint=f"Pass --format ({', '.join(self.formats)}) or --mapping "
                "FILE describing its columns.",
            )
        logger.info("%s: %s, ignored", source.display, why)
        self.detected.ignored.append(source)
        self.detected.warnings.append(f"{source.display}: {why}, ignored")
