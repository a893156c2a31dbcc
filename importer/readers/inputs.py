"""Expansion of user-given paths (files, ZIPs, folders) into input files."""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import polars as pl

from importer.errors import ReadError
from importer.readers.base import FileSummary

# Output of the Letterboxd and Trakt readers: events frames, skip frames and
# one summary per file read.
ReaderOutput = tuple[list[pl.DataFrame], list[pl.DataFrame], list[FileSummary]]

# Files that archivers and operating systems add, never export content.
_JUNK_PARTS = ("__MACOSX",)
_JUNK_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class InputFile:
    """One file to read: how it is shown to the user and how to load it.

    `member` is the path inside the ZIP or folder that was given (POSIX
    separators), or the file name for a single file. Readers use it to tell
    apart files with identical headers (Letterboxd's watched.csv and
    watchlist.csv) and sub-folders such as `deleted/`. `open`, where set,
    opens the same bytes as a binary stream, for readers that read a large
    file in parts.
    """

    display: str
    member: str
    load: Callable[[], bytes]
    open: Callable[[], IO[bytes]] | None = None

    @property
    def name(self) -> str:
        """Return the base name of the file."""
        return PurePosixPath(self.member).name

    @property
    def parts(self) -> tuple[str, ...]:
        """Return the lower-case folder names above the file."""
        return tuple(p.lower() for p in PurePosixPath(self.member).parts[:-1])


def expand_inputs(paths: Sequence[str | Path]) -> list[InputFile]:
    """Return the files under `paths`, in a stable order.

    Raises ReadError for a path that does not exist or a ZIP that is broken.
    """
    if not paths:
        raise ReadError(
            "no export given", hint="Pass an export file, a ZIP or a folder."
        )
    files: list[InputFile] = []
    for path in paths:
        files.extend(_expand_one(Path(path), str(path)))
    return files


def _expand_one(path: Path, display: str) -> list[InputFile]:
    if not path.exists():
        raise ReadError(
            "file not found",
            file=display,
            hint="Check the path, or pass the export's folder or ZIP.",
        )
    if path.is_dir():
        return _expand_folder(path, display)
    if zipfile.is_zipfile(path):
        return _expand_zip(path, display)
    return [InputFile(display, path.name, path.read_bytes, _file_opener(path))]


def _expand_folder(folder: Path, display: str) -> list[InputFile]:
    files: list[InputFile] = []
    found = [p for p in folder.rglob("*") if p.is_file()]
    for path in sorted(
        found, key=lambda p: natural_key(p.relative_to(folder).as_posix())
    ):
        relative = path.relative_to(folder)
        if _is_junk(relative.parts):
            continue
        display_path = str(Path(display) / relative)
        if zipfile.is_zipfile(path):
            files.extend(_expand_zip(path, display_path))
        else:
            member = relative.as_posix()
            opener = _file_opener(path)
            files.append(InputFile(display_path, member, path.read_bytes, opener))
    return files


def _expand_zip(path: Path, display: str) -> list[InputFile]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(
                (info.filename for info in archive.infolist() if not info.is_dir()),
                key=natural_key,
            )
    except (zipfile.BadZipFile, OSError) as error:
        raise ReadError(
            f"broken ZIP file: {error}",
            file=display,
            hint="Download the export again.",
        ) from error
    return [
        InputFile(
            f"{display}:{name}",
            name,
            _zip_loader(path, name, f"{display}:{name}"),
            _zip_opener(path, name),
        )
        for name in names
        if not _is_junk(PurePosixPath(name).parts)
    ]


def _zip_loader(path: Path, name: str, display: str) -> Callable[[], bytes]:
    def load() -> bytes:
        try:
            with zipfile.ZipFile(path) as archive:
                return archive.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise ReadError(
                f"broken ZIP member: {error}",
                file=display,
                hint="Download the export again.",
            ) from error
        # zipfile raises these for encrypted members and unknown compression.
        except (RuntimeError, NotImplementedError) as error:
            raise ReadError(
                f"cannot unpack the ZIP member: {error}",
                file=display,
                hint="Unpack the ZIP with another tool and pass its folder.",
            ) from error

    return load


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    def open_file() -> IO[bytes]:
        return path.open("rb")

    return open_file


def _zip_opener(path: Path, name: str) -> Callable[[], IO[bytes]]:
    def open_member() -> IO[bytes]:
        # The member stream keeps the archive's file open until it is
        # closed itself, after the archive object is closed.
        with zipfile.ZipFile(path) as archive:
            return archive.open(name)

    return open_member


def natural_key(name: str) -> list[object]:
    """Sort key that orders numbered pages numerically (page-2 before page-10)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _is_junk(parts: Sequence[str]) -> bool:
    if any(part in _JUNK_PARTS for part in parts):
        return True
    return parts[-1] in _JUNK_NAMES or parts[-1].startswith("._")
