"""Rewatch sessions: fields, one active per item, status changes, targeting."""

from __future__ import annotations

from typing import Any

from importer.emulator.testing import RunningEmulator

from .support import AIRING_SHOW, LONG_SHOW, MOVIE, SHOW, Api, at, movie, show


def _complete_long_show(api: Api) -> None:
    episodes = [(1, n, at(0, n)) for n in range(1, 11)]
    api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]})


def _session_id(body: dict[str, Any]) -> int:
    return body["added"]["statuses"][-1]["response"]["rewatch_id"]


def _stored_sessions(
    emu: RunningEmulator, api: Api, simkl: int
) -> list[dict[str, Any]]:
    items = emu.account(api.token)["items"]
    return next(item["sessions"] for item in items if item["simkl"] == simkl)


def test_session_records_start_count_and_last(emu: RunningEmulator, api: Api) -> None:
    _complete_long_show(api)
    episodes = [(1, 1, at(10)), (1, 2, at(11)), (1, 3, at(12))]
    body = api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]}, rewatch=True)
    [row] = api.sessions(LONG_SHOW)
    [stored] = _stored_sessions(emu, api, LONG_SHOW)
    assert row["rewatch_id"] == _session_id(body)
    assert row["watched_episodes_count"] == 3
    assert row["last_watched_at"] == at(12)
    assert row["rewatch_status"] == "active"
    assert stored["started_at"] == at(10)


def test_one_active_session_per_item(api: Api) -> None:
    _complete_long_show(api)
    first = api.history(
        {"shows": [show((1, 1, at(10)), simkl=LONG_SHOW)]}, rewatch=True
    )
    second = api.history(
        {"shows": [show((1, 1, at(20)), simkl=LONG_SHOW)]}, rewatch=True
    )
    reactivate = show(
        simkl=LONG_SHOW, rewatch_id=_session_id(first), rewatch_status="active"
    )
    api.history({"shows": [reactivate]}, rewatch=True)
    statuses = {s["rewatch_id"]: s["rewatch_status"] for s in api.sessions(LONG_SHOW)}
    assert statuses == {_session_id(first): "active", _session_id(second): "closed"}


def test_closed_session_keeps_count_and_cap_slot(api: Api) -> None:
    _complete_long_show(api)
    episodes = [(1, 1, at(10)), (1, 2, at(10, 1))]
    body = api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]}, rewatch=True)
    close = show(simkl=LONG_SHOW, rewatch_id=_session_id(body), rewatch_status="closed")
    api.history({"shows": [close]}, rewatch=True)
    [row] = api.sessions(LONG_SHOW)
    assert row["rewatch_status"] == "closed"
    assert row["watched_episodes_count"] == 2


def test_session_completes_at_aired_count(api: Api) -> None:
    api.history({"shows": [show(status="completed", watched_at=at(0))]})
    episodes = [(1, 1, at(10)), (1, 2, at(11))]
    api.history({"shows": [show(*episodes)]}, rewatch=True)
    assert api.sessions(SHOW)[0]["rewatch_status"] == "active"
    api.history({"shows": [show((1, 3, at(12)))]}, rewatch=True)
    assert api.sessions(SHOW)[0]["rewatch_status"] == "completed"


def test_not_aired_episodes_do_not_block_completion(api: Api) -> None:
    episodes = [(1, 1, at(0)), (1, 2, at(1))]
    api.history({"shows": [show(*episodes, simkl=AIRING_SHOW)]})
    assert api.rows(AIRING_SHOW)[0]["status"] == "completed"
    later = [(1, 1, at(10)), (1, 2, at(11))]
    api.history({"shows": [show(*later, simkl=AIRING_SHOW)]}, rewatch=True)
    [row] = api.sessions(AIRING_SHOW)
    assert row["rewatch_status"] == "completed"
    assert row["total_episodes_count"] == 4
    assert row["not_aired_episodes_count"] == 2


def test_movie_session_starts_completed(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    api.history({"movies": [movie(at(10))]}, rewatch=True)
    assert api.sessions(MOVIE)[0]["rewatch_status"] == "completed"


def test_rewatch_status_moves_any_direction(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    session_id = _session_id(api.history({"movies": [movie(at(10))]}, rewatch=True))
    seen = []
    for status in ("active", "closed", "completed", "closed", "active"):
        entry = movie(rewatch_id=session_id, rewatch_status=status)
        api.history({"movies": [entry]}, rewatch=True)
        seen.append(api.sessions(MOVIE)[0]["rewatch_status"])
    assert seen == ["active", "closed", "completed", "closed", "active"]
    assert len(api.sessions(MOVIE)) == 1


def test_rewatch_id_targets_that_session(api: Api) -> None:
    _complete_long_show(api)
    first = api.history(
        {"shows": [show((1, 1, at(10)), simkl=LONG_SHOW)]}, rewatch=True
    )
    api.history({"shows": [show((1, 1, at(20)), simkl=LONG_SHOW)]}, rewatch=True)
    pinned = show((1, 5, at(30)), simkl=LONG_SHOW, rewatch_id=_session_id(first))
    body = api.history({"shows": [pinned]}, rewatch=True)
    counts = {
        s["rewatch_id"]: s["watched_episodes_count"] for s in api.sessions(LONG_SHOW)
    }
    assert _session_id(body) == _session_id(first)
    assert counts[_session_id(first)] == 2
    assert sorted(counts.values()) == [1, 2]


def test_write_without_id_uses_active_session(api: Api) -> None:
    _complete_long_show(api)
    api.history({"shows": [show((1, 1, at(10)), simkl=LONG_SHOW)]}, rewatch=True)
    api.history({"shows": [show((1, 2, at(11)), simkl=LONG_SHOW)]}, rewatch=True)
    [row] = api.sessions(LONG_SHOW)
    assert row["watched_episodes_count"] == 2


def test_write_without_active_opens_new_session(api: Api) -> None:
    _complete_long_show(api)
    body = api.history({"shows": [show((1, 1, at(10)), simkl=LONG_SHOW)]}, rewatch=True)
    close = show(simkl=LONG_SHOW, rewatch_id=_session_id(body), rewatch_status="closed")
    api.history({"shows": [close]}, rewatch=True)
    api.history({"shows": [show((1, 2, at(11)), simkl=LONG_SHOW)]}, rewatch=True)
    assert [s["watched_episodes_count"] for s in api.sessions(LONG_SHOW)] == [1, 1]


def test_unknown_rewatch_id_is_not_added(api: Api) -> None:
    api.history({"movies": [movie(at(0))]})
    body = api.history({"movies": [movie(at(10), rewatch_id=999)]}, rewatch=True)
    assert body["not_added"]["movies"][0]["reason"] == "rewatch_id_not_found"
    assert api.sessions(MOVIE) == []


def test_sessions_never_change_canonical_row(api: Api) -> None:
    _complete_long_show(api)
    before = api.rows(LONG_SHOW)[0]
    episodes = [(1, n, at(40, n)) for n in range(1, 6)]
    api.history({"shows": [show(*episodes, simkl=LONG_SHOW)]}, rewatch=True)
    after = api.rows(LONG_SHOW)[0]
    assert after["watched_episodes_count"] == before["watched_episodes_count"] == 10
    assert after["last_watched_at"] == before["last_watched_at"] == at(0, 10)
    assert after["seasons"] == before["seasons"]


def test_pinned_write_keeps_closed_status(api: Api) -> None:
    _complete_long_show(api)
    body = api.history({"shows": [show((1, 1, at(10)), simkl=LONG_SHOW)]}, rewatch=True)
    session_id = _session_id(body)
    close = show(simkl=LONG_SHOW, rewatch_id=session_id, rewatch_status="closed")
    api.history({"shows": [close]}, rewatch=True)
    pinned = show((1, 2, at(11)), simkl=LONG_SHOW, rewatch_id=session_id)
    api.history({"shows": [pinned]}, rewatch=True)
    [row] = api.sessions(LONG_SHOW)
    assert row["rewatch_status"] == "closed"
    assert row["watched_episodes_count"] == 2
