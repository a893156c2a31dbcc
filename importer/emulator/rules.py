"""Simkl's rewatch limits and the points its documentation leaves open.

Each constant or function here is the single place where the emulator
decides one of them, so that it can change when better evidence arrives.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

# Two events of one movie or one episode closer than this are one viewing.
REWATCH_GAP = timedelta(hours=48)

# Most rewatch sessions one item can have; the next one is not created.
SESSION_CAP = 50

# Reasons that a write is listed under `not_added` (the HTTP status stays 201).
REASON_CAP = "rewatch_limit"
REASON_CANONICAL_DATE = "canonical_date"
REASON_NOT_IN_HISTORY = "not_in_history"
REASON_UNKNOWN_REWATCH_ID = "rewatch_id_not_found"


def within_gap(first: datetime, second: datetime) -> bool:
    """Return True when two events are one viewing under the 48-hour rule."""
    return abs(first - second) < REWATCH_GAP


def nearest_within_gap(
    instant: datetime, stored: Iterable[tuple[object, datetime]]
) -> object | None:
    """Return the owner of the stored event nearest to `instant` within the gap.

    Gap anchoring: a new event is compared with the stored events of that
    movie or episode (canonical and each session's), never with earlier
    writes that collapsed, so events at 0 h, 30 h and 60 h are two viewings.
    """
    best: tuple[timedelta, object] | None = None
    for owner, when in stored:
        distance = abs(instant - when)
        if distance < REWATCH_GAP and (best is None or distance < best[0]):
            best = (distance, owner)
    return None if best is None else best[1]
