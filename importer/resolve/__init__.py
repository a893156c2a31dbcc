"""Matching source rows to Simkl items: ids, Letterboxd links, titles, episodes.

Every result is cached in SQLite by the source's identity of the item, can
be corrected with an overrides file, and every row that is not matched is
reported with its reason and candidates.
"""

from importer.resolve.cache import ResolveCache, default_cache_path
from importer.resolve.core import resolve_events
from importer.resolve.model import (
    MATCH_SCHEMA,
    PLACEMENT_SCHEMA,
    REVIEW_SCHEMA,
    Candidate,
    Decision,
    Resolution,
    ResolveOptions,
)
from importer.resolve.overrides import Overrides, load_overrides, write_review_csv

__all__ = [
    "MATCH_SCHEMA",
    "PLACEMENT_SCHEMA",
    "REVIEW_SCHEMA",
    "Candidate",
    "Decision",
    "Overrides",
    "Resolution",
    "ResolveCache",
    "ResolveOptions",
    "default_cache_path",
    "load_overrides",
    "resolve_events",
    "write_review_csv",
]
