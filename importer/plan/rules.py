"""Simkl's history rules as the planner applies them, each in one named place.

The values restate how Simkl stores watch history and rewatch sessions; the
emulator enforces the same values. Change a rule here and both sides follow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Two viewings of the same movie or episode less than this apart are one
# viewing: the later one collapses into the earlier. The gap is measured
# against stored viewings (canonical and every session), not against writes
# that collapsed, so 0 h, 30 h, 60 h give two viewings (0 h and 60 h).
MIN_GAP = timedelta(hours=48)
MIN_GAP_SECONDS = int(MIN_GAP.total_seconds())

# An item has at most this many rewatch sessions, and the 51st is not created.
# Past the cap the planner keeps the earliest viewings in time order, so new
# plays added later never change which old ones were kept.
MAX_SESSIONS = 50

# Simkl's "watched, date unknown" instant. At most one per movie or episode.
UNKNOWN_DATE = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)

# Session states.
ACTIVE = "active"
COMPLETED = "completed"
CLOSED = "closed"

# Write kinds.
CANONICAL = "canonical"
REWATCH = "rewatch"
