"""Readers: export files, ZIPs and folders in, one normalized events frame out.

`read_exports` detects each file's format by content (`format=` forces
one), reads Letterboxd and Trakt exports with their own readers and every
other layout with the mapping-driven reader, and returns conformed events,
the rows skipped on purpose, a summary per file and warnings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from importer.dates import DatePolicy, check_policy, policy_from
from importer.errors import InputError, ReadError
from importer.events import concat_events, conform_skips, empty_skips
from importer.readers import letterboxd, trakt
from importer.readers.base import FileSummary, ReadOptions, ReadResult
from importer.readers.csvio import (
    decode_bytes,
    read_table,
    sniff_delimiter,
    split_header,
)
from importer.readers.inputs import InputFile, expand_inputs
from importer.readers.mapped import json_records, read_mapped
from importer.readers.mapping import Mapping, builtin_mappings, load_mapping

logger = logging.getLogger(__name__)

__all__ = ["FORMATS", "ReadOptions", "ReadResult", "FileSummary", "read_exports"]

FORMATS: tuple[str, ...] = (
    letterboxd.FORMAT,
    trakt.FORMAT,
    *sorted(builtin_mappings()),
)

IGNORED = "ignored"


@dataclass
class _Plan:
    """Files sorted by the reader that will read them."""

    letterboxd: list[letterboxd.LetterboxdFile] = field(default_factory=list)
    trakt: list[trakt.TraktTable] = field(default_factory=list)
    mapped: list[tuple[InputFile, pl.DataFrame, Mapping]] = field(default_factory=list)
    ignored: list[InputFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_exports(
    paths: Sequence[str | Path],
    *,
    format: str | None = None,
    mapping: str | Path | None = None,
    options: ReadOptions | None = None,
) -> ReadResult:
    """Read every export under `paths` into one ReadResult.

    `format` forces a format name from FORMATS for every file; `mapping` is
    a mapping file to use for CSV/JSON files instead of detection. Raises
    ReadError for a missing file, an unknown format, a file of another kind
    or a missing required column, and MappingError for a bad mapping file.
    """
    options = options or ReadOptions()
    policy = _policy(options)
    mappings = builtin_mappings()
    if format is not None and format not in FORMATS:
        raise ReadError(
            f"unknown format {format!r}",
            hint=f"Use one of: {', '.join(FORMATS)}, or --mapping FILE.",
        )
    custom = load_mapping(mapping) if mapping is not None else None
    plan = _Plan()
    for path in paths:
        direct = Path(path).is_file() and not _is_zip(Path(path))
        for source in expand_inputs([path]):
            _classify(source, plan, format, custom, mappings, direct)
    return _read(plan, options, policy, paths)


def _is_zip(path: Path) -> bool:
    import zipfile

    return zipfile.is_zipfile(path)


def _policy(options: ReadOptions) -> DatePolicy:
    policy = policy_from(options.timezone, options.date_anchor, options.now)
    try:
        check_policy(policy)
    except ValueError as error:
        raise InputError(str(error)) from error
    return policy


def _classify(source, plan: _Plan, format, custom, mappings, direct: bool) -> None:
    """Decide which reader reads `source`, or record it as ignored."""
    data = source.load()
    if not data.strip():
        _unknown(source, plan, direct, "empty file")
        return
    decoded = decode_bytes(data, source.display)
    plan.warnings.extend(decoded.warnings)
    if decoded.data.lstrip()[:1] in (b"[", b"{"):
        _classify_json(source, decoded.data, plan, format, custom, mappings, direct)
    else:
        _classify_csv(source, decoded, plan, format, custom, mappings, direct)


def _classify_json(source, data, plan, format, custom, mappings, direct) -> None:
    if custom is None and format in (None, trakt.FORMAT):
        if format == trakt.FORMAT or trakt.looks_like_trakt(data):
            plan.trakt.extend(trakt.load_tables(source, data))
            return
    candidates = _candidates(custom, format, mappings, "json")
    for candidate in candidates:
        frame = json_records(data, candidate, source.display)
        if frame is None:
            continue
        headers = [c for c in frame.columns if not c.startswith("_")]
        if candidate is custom or format or candidate.score(headers) is not None:
            plan.mapped.append((source, frame, candidate))
            return
    _unknown(source, plan, direct, "JSON of an unknown layout")


def _classify_csv(source, decoded, plan, format, custom, mappings, direct) -> None:
    lines = decoded.lines()
    first = lines[0] if lines else ""
    headers = split_header(first, sniff_delimiter(first))
    if custom is None and format in (None, letterboxd.FORMAT):
        kind = letterboxd.classify(source, headers, lines)
        if kind is not None:
            plan.letterboxd.append(letterboxd.LetterboxdFile(source, decoded, kind))
            return
        if format == letterboxd.FORMAT:
            raise ReadError(
                f"not a Letterboxd export file (columns: {', '.join(headers)})",
                file=source.display,
                hint="Pass diary.csv, reviews.csv, watched.csv, ratings.csv, "
                "watchlist.csv, a list file, or the export's folder or ZIP.",
            )
    if format == trakt.FORMAT:
        raise ReadError(
            "not a Trakt export: Trakt exports are JSON",
            file=source.display,
            hint="Pass the Trakt ZIP or its JSON files, or choose another --format.",
        )
    chosen = _choose_csv_mapping(headers, custom, format, mappings)
    if chosen is None:
        _unknown(
            source, plan, direct, f"unknown CSV layout (columns: {', '.join(headers)})"
        )
        return
    frame = read_table(decoded, source.display)
    plan.mapped.append((source, frame, chosen))


def _candidates(custom, format, mappings, kind: str) -> list[Mapping]:
    if custom is not None:
        return [custom]
    if format is not None:
        return [mappings[format]]
    found = [m for m in mappings.values() if m.kind == kind]
    return sorted(found, key=lambda m: -m.priority)


def _choose_csv_mapping(headers, custom, format, mappings) -> Mapping | None:
    if custom is not None:
        return custom
    if format is not None:
        return mappings[format]
    scored = [
        (score, m.name, m)
        for m in mappings.values()
        if m.kind == "csv" and (score := m.score(headers)) is not None
    ]
    if not scored:
        return None
    return max(scored, key=lambda item: (item[0], item[1]))[2]


def _unknown(source: InputFile, plan: _Plan, direct: bool, why: str) -> None:
    if direct:
        raise ReadError(
            f"{why}: not an export format this tool reads",
            file=source.display,
            hint=f"Pass --format ({', '.join(FORMATS)}) or --mapping FILE "
            "describing its columns.",
        )
    plan.ignored.append(source)
    plan.warnings.append(f"{source.display}: {why}, ignored")


def _read(plan: _Plan, options: ReadOptions, policy: DatePolicy, paths) -> ReadResult:
    events: list[pl.DataFrame] = []
    skips: list[pl.DataFrame] = []
    files: list[FileSummary] = []
    if plan.letterboxd:
        more = letterboxd.read_letterboxd(plan.letterboxd, policy)
        _extend(more, events, skips, files)
    if plan.trakt:
        _extend(trakt.read_trakt(plan.trakt, policy), events, skips, files)
    for source, frame, chosen in plan.mapped:
        found, skipped, summary = read_mapped(
            frame, chosen, source.display, options, policy
        )
        _extend(([found], [skipped], [summary]), events, skips, files)
    for source in plan.ignored:
        files.append(FileSummary(source.display, IGNORED, 0, {"ignored_files": 1}))
    if not any(f.format != IGNORED for f in files):
        raise ReadError(
            "no export file recognized",
            file=", ".join(str(p) for p in paths),
            hint="Pass a Letterboxd, Trakt, IMDb, TV Time or Simkl export, "
            "or --mapping FILE for another layout.",
        )
    skipped = [s for s in skips if s.height]
    return ReadResult(
        events=concat_events(events),
        skipped=conform_skips(pl.concat(skipped)) if skipped else empty_skips(),
        files=files,
        warnings=plan.warnings,
    )


def _extend(result, events, skips, files) -> None:
    found, skipped, summaries = result
    events.extend(found)
    skips.extend(skipped)
    files.extend(summaries)
