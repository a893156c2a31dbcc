"""Readers: export files, ZIPs and folders in, one normalized events frame out.

`read_exports` detects each file's format by content, or takes the one that
`format=` forces. Letterboxd and Trakt exports have their own readers, and
every other layout goes through the mapping-driven reader. The result contains
conformed events, the rows skipped on purpose, a summary per file and
warnings.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from importer.dates import DatePolicy, check_policy, policy_from
from importer.errors import InputError, ReadError
from importer.events import concat_events, conform_skips, empty_skips
from importer.readers import letterboxd, trakt
from importer.readers.base import FileSummary, ReadOptions, ReadResult
from importer.readers.detect import IGNORED, DetectedFiles, Detector
from importer.readers.inputs import ReaderOutput, expand_inputs
from importer.readers.mapped import read_mapped
from importer.readers.mapping import Mapping, builtin_mappings, load_mapping

logger = logging.getLogger(__name__)

__all__ = ["FORMATS", "ReadOptions", "ReadResult", "FileSummary", "read_exports"]

FORMATS: tuple[str, ...] = (
    letterboxd.FORMAT,
    trakt.FORMAT,
    *sorted(builtin_mappings()),
)


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
    custom = _custom_mapping(mapping, mappings) if mapping is not None else None
    detector = Detector(mappings, format=format, custom=custom, formats=FORMATS)
    for path in paths:
        # A single file given by name must be readable; files found in a
        # folder or ZIP that are not exports are reported and skipped.
        direct = Path(path).is_file() and not zipfile.is_zipfile(path)
        for source in expand_inputs([path]):
            detector.classify(source, direct=direct)
    return _read(detector.detected, options, policy, paths)


def _custom_mapping(mapping: str | Path, builtin: dict[str, Mapping]) -> Mapping:
    """Return the mapping that `--mapping` names: a file, or a built-in name."""
    if str(mapping) in builtin and not Path(mapping).exists():
        return builtin[str(mapping)]
    return load_mapping(mapping)


def _policy(options: ReadOptions) -> DatePolicy:
    policy = policy_from(options.timezone, options.date_anchor, options.now)
    try:
        check_policy(policy)
    except ValueError as error:
        raise InputError(str(error)) from error
    return policy


def _read(
    detected: DetectedFiles,
    options: ReadOptions,
    policy: DatePolicy,
    paths: Sequence[str | Path],
) -> ReadResult:
    outputs: list[ReaderOutput] = []
    if detected.letterboxd:
        outputs.append(letterboxd.read_letterboxd(detected.letterboxd, policy))
    if detected.trakt:
        outputs.append(trakt.read_trakt(detected.trakt, policy))
    for table in detected.mapped:
        found, skipped, summary = read_mapped(table, options, policy)
        outputs.append(([found], [skipped], [summary]))
    events = [frame for output in outputs for frame in output[0]]
    skips = [frame for output in outputs for frame in output[1] if frame.height]
    files = [summary for output in outputs for summary in output[2]]
    for source in detected.ignored:
        files.append(FileSummary(source.display, IGNORED, 0, {"ignored_files": 1}))
    if all(f.format == IGNORED for f in files):
        raise ReadError(
            "no export file recognized",
            file=", ".join(str(p) for p in paths),
            hint="Pass a Letterboxd, Trakt, IMDb, TV Time or Simkl export, "
            "or --mapping FILE for another layout.",
        )
    return ReadResult(
        events=concat_events(events),
        skipped=conform_skips(pl.concat(skips)) if skips else empty_skips(),
        files=files,
        warnings=detected.warnings,
    )
