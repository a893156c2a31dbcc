"""Rewatches of one movie or episode agree with a plain model of the gap rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import BASE, LONG_SHOW, MOVIE, Api, movie, show

GAP = timedelta(hours=48)


def _model(times: list[datetime], cap: int) -> tuple[list[datetime], list[str]]:
    """Return each session's last_watched_at and the not_added reasons.

    Written independently of the emulator. The first time is canonical and a
    later one equal to it is rejected. One within 48 hours of a stored event
    (the canonical one or a session's start) collapses into the nearest.
    Any other opens a session until the cap is reached.
    """
    canonical = times[0]
    starts: list[datetime] = []
    lasts: list[datetime] = []
    reasons: list[str] = []
    for when in times[1:]:
        if when == canonical:
            reasons.append("canonical_date")
            continue
        stored = [(abs(when - canonical), None)]
        stored += [(abs(when - start), index) for index, start in enumerate(starts)]
        near = [entry for entry in stored if entry[0] < GAP]
        if near:
            _, index = min(near, key=lambda entry: entry[0])
            if index is not None:
                lasts[index] = max(lasts[index], when)
            continue
        if len(starts) >= cap:
            reasons.append("rewatch_limit")
            continue
        starts.append(when)
        lasts.append(when)
    return lasts, reasons


def _text(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


HOURS = st.lists(st.integers(min_value=0, max_value=24 * 20), min_size=1, max_size=12)


def _entry(kind: str, when: datetime) -> dict:
    if kind == "movie":
        return {"movies": [movie(_text(when))]}
    return {"shows": [show((1, 1, _text(when)), simkl=LONG_SHOW)]}


def _post_all(api: Api, kind: str, times: list[datetime]) -> list[str]:
    """Write the first time plainly and the rest with rewatches in one request."""
    api.history(_entry(kind, times[0]))
    if len(times) == 1:
        return []
    bucket = "movies" if kind == "movie" else "shows"
    entries = [_entry(kind, when)[bucket][0] for when in times[1:]]
    body = api.history({bucket: entries}, rewatch=True)
    if kind == "movie":
        return [entry["reason"] for entry in body["not_added"]["movies"]]
    return [
        episode["reason"]
        for entry in body["not_added"]["shows"]
        for season in entry["seasons"]
        for episode in season["episodes"]
    ]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(hours=HOURS, kind=st.sampled_from(["movie", "show"]))
def test_sessions_match_model(api: Api, hours: list[int], kind: str) -> None:
    api.emu.reset()
    api.token = api.emu.issue_token()
    api.client.headers["Authorization"] = f"Bearer {api.token}"
    times = [BASE + timedelta(hours=h) for h in hours]
    reasons = _post_all(api, kind, times)
    lasts, expected_reasons = _model(times, cap=50)
    sessions = api.sessions(MOVIE if kind == "movie" else LONG_SHOW)
    statuses = [row["rewatch_status"] for row in sessions]
    assert [row["last_watched_at"] for row in sessions] == [_text(t) for t in lasts]
    assert reasons == expected_reasons
    if kind == "movie":
        assert statuses == ["completed"] * len(lasts)
    else:
        # Each later viewing of the same episode splits off a new session.
        assert statuses == ["closed"] * (len(lasts) - 1) + ["active"] * bool(lasts)
