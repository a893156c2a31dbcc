from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.batch import (
    MissingRewatchId,
    build_requests,
    min_requests,
    render_body,
    session_key,
)
from importer.plan.model import WRITE_SCHEMA

BASE = datetime(2023, 3, 4, 20, 0, tzinfo=UTC)


def write(
    item: str,
    *,
    media_type: str = "movie",
    days: float = 0,
    season: int | None = None,
    episode: int | None = None,
    session: int = 0,
    status: str | None = None,
    rewatch_id: int | None = None,
    round_number: int | None = None,
    **ids: object,
) -> dict[str, object]:
    watched_at = BASE + timedelta(days=days)
    unit = item if season is None else f"{item}|s{season}e{episode}"
    return {
        "write_key": f"{unit}@{watched_at.isoformat()}",
        "item_key": item,
        "unit_key": unit,
        "media_type": media_type,
        "title": f"Title {item}",
        "year": 2020,
        "season": season,
        "episode": episode,
        "watched_at": watched_at,
        "kind": "canonical" if session == 0 else "rewatch",
        "session": session,
        "session_status": status,
        "rewatch_id": rewatch_id,
        "round": session if round_number is None else round_number,
        **ids,
    }


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=WRITE_SCHEMA)


def test_canonical_movies_share_one_request():
    writes = frame([write("m1", tmdb=1), write("m2", imdb="tt2", days=1)])
    requests = build_requests(writes, batch_size=10)
    assert len(requests) == 1
    assert requests[0].allow_rewatch is False
    body = render_body(requests[0])
    assert body == {
        "movies": [
            {
                "ids": {"tmdb": 1},
                "title": "Title m1",
                "year": 2020,
                "watched_at": "2023-03-04T20:00:00Z",
            },
            {
                "ids": {"imdb": "tt2"},
                "title": "Title m2",
                "year": 2020,
                "watched_at": "2023-03-05T20:00:00Z",
            },
        ]
    }


def test_show_episodes_grouped_by_season():
    rows = [
        write("s", media_type="show", days=0, season=1, episode=1, tvdb=60001),
        write("s", media_type="show", days=1, season=1, episode=2, tvdb=60001),
        write("s", media_type="show", days=2, season=2, episode=1, ep_tvdb=7021),
    ]
    (request,) = build_requests(frame(rows))
    (show,) = render_body(request)["shows"]
    assert show["ids"] == {"tvdb": 60001}
    assert show["seasons"] == [
        {
            "number": 1,
            "episodes": [
                {"number": 1, "watched_at": "2023-03-04T20:00:00Z"},
                {"number": 2, "watched_at": "2023-03-05T20:00:00Z"},
            ],
        },
        {
            "number": 2,
            "episodes": [
                {
                    "number": 1,
                    "ids": {"tvdb": 7021},
                    "watched_at": "2023-03-06T20:00:00Z",
                }
            ],
        },
    ]


def test_ids_stay_in_their_namespace():
    rows = [write("s", media_type="show", season=1, episode=1, tvdb=5, tmdb=9, trakt=3)]
    (request,) = build_requests(frame(rows))
    (show,) = render_body(request)["shows"]
    assert show["ids"] == {"tmdb": 9, "tvdb": 5}


def test_trakt_slug_sent_as_traktslug():
    rows = [write("m", trakt_slug="copper-tide-2011")]
    (request,) = build_requests(frame(rows))
    (movie,) = render_body(request)["movies"]
    assert movie["ids"] == {"traktslug": "copper-tide-2011"}


def test_anime_episodes_go_under_shows():
    rows = [write("a", media_type="anime", season=1, episode=3, mal=16498)]
    (request,) = build_requests(frame(rows))
    body = render_body(request)
    assert list(body) == ["shows"]
    assert body["shows"][0]["ids"] == {"mal": 16498}


def test_unnumbered_episode_uses_flat_list():
    rows = [write("a", media_type="anime", season=None, episode=None, ep_tvdb=99)]
    rows[0]["episode_abs"] = 27
    (request,) = build_requests(frame(rows))
    (show,) = render_body(request)["shows"]
    assert "seasons" not in show
    assert show["episodes"] == [
        {"number": 27, "ids": {"tvdb": 99}, "watched_at": "2023-03-04T20:00:00Z"}
    ]


def test_rounds_posted_in_order():
    rows = [
        write("m1", tmdb=1),
        write("m1", tmdb=1, days=10, session=1, status="completed"),
        write("m1", tmdb=1, days=20, session=2, status="completed"),
        write("m2", tmdb=2),
        write("m2", tmdb=2, days=5, session=1, status="completed"),
    ]
    requests = build_requests(frame(rows), batch_size=10)
    assert [r.round for r in requests] == [0, 1, 2]
    assert [r.allow_rewatch for r in requests] == [False, True, True]
    assert [r.size for r in requests] == [2, 2, 1]
    assert min_requests(frame(rows), 10) == 3


def test_session_split_across_requests_is_pinned():
    rows = [
        write(
            "s",
            media_type="show",
            days=d,
            season=1,
            episode=d + 1,
            session=1,
            status="active",
            tvdb=1,
        )
        for d in range(5)
    ]
    requests = build_requests(frame(rows), batch_size=3)
    assert [r.size for r in requests] == [3, 2]
    first, second = requests
    assert "rewatch_id" not in render_body(first)["shows"][0]
    with pytest.raises(MissingRewatchId):
        render_body(second)
    pinned = render_body(second, {session_key("s", 1): 7482})
    assert pinned["shows"][0]["rewatch_id"] == 7482


def test_existing_session_carries_its_id():
    rows = [
        write(
            "s",
            media_type="show",
            days=0,
            season=1,
            episode=4,
            session=3,
            status="active",
            rewatch_id=555,
            round_number=1,
            tvdb=1,
        ),
    ]
    (request,) = build_requests(frame(rows))
    (show,) = render_body(request)["shows"]
    assert show["rewatch_id"] == 555


def test_closed_session_closed_on_last_write():
    rows = [
        write(
            "s",
            media_type="show",
            days=d,
            season=1,
            episode=d + 1,
            session=1,
            status="closed",
            tvdb=1,
        )
        for d in range(4)
    ]
    first, second = build_requests(frame(rows), batch_size=2)
    assert "rewatch_status" not in render_body(first)["shows"][0]
    show = render_body(second, {session_key("s", 1): 1})["shows"][0]
    assert show["rewatch_status"] == "closed"


def test_completed_session_not_closed():
    rows = [write("m", tmdb=1, days=3, session=1, status="completed")]
    (request,) = build_requests(frame(rows))
    assert "rewatch_status" not in render_body(request)["movies"][0]


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError):
        build_requests(frame([write("m", tmdb=1)]), batch_size=0)


def test_no_writes_no_requests():
    assert build_requests(frame([])) == []
    assert min_requests(frame([])) == 0


@st.composite
def plans(draw):
    rows = []
    for item in range(draw(st.integers(1, 6))):
        key = f"i{item}"
        if draw(st.booleans()):
            for session in range(draw(st.integers(0, 3)) + 1):
                rows.append(
                    write(
                        key,
                        tmdb=item,
                        days=session * 3,
                        session=session,
                        status="completed",
                    )
                )
        else:
            sessions = draw(st.integers(1, 3))
            for session in range(sessions):
                status = "active" if session == sessions - 1 else "closed"
                for episode in range(draw(st.integers(1, 7))):
                    rows.append(
                        write(
                            key,
                            media_type="show",
                            tvdb=item,
                            days=session * 30 + episode,
                            season=1,
                            episode=episode + 1,
                            session=session,
                            status=status,
                        )
                    )
    return frame(rows)


@given(writes=plans(), batch_size=st.integers(1, 8))
@settings(max_examples=60, deadline=None)
def test_packing_properties(writes, batch_size):
    requests = build_requests(writes, batch_size)
    assert len(requests) == min_requests(writes, batch_size)

    sent = [key for r in requests for key in r.write_keys]
    assert sorted(sent) == sorted(writes["write_key"].to_list())
    assert all(r.size <= batch_size for r in requests)

    rounds = [r.round for r in requests]
    assert rounds == sorted(rounds)

    by_key = {row["write_key"]: row for row in writes.to_dicts()}
    opened: set[str] = set()
    for request in requests:
        for entry in request.entries:
            times = [by_key[v.write_key]["watched_at"] for v in entry.viewings]
            assert times == sorted(times)
            if entry.session_key is None:
                continue
            assert entry.pinned == (entry.session_key in opened)
            opened.add(entry.session_key)


def test_completed_show_session_set_completed():
    rows = [
        write(
            "s",
            media_type="show",
            days=d,
            season=1,
            episode=d + 1,
            session=1,
            status="completed",
            tvdb=1,
        )
        for d in range(3)
    ]
    (request,) = build_requests(frame(rows))
    assert render_body(request)["shows"][0]["rewatch_status"] == "completed"


def test_entry_ids_from_its_own_writes():
    rows = [
        write("s", media_type="show", days=0, season=1, episode=1, tvdb=5),
        write("s", media_type="show", days=1, season=1, episode=2, tvdb=5, tmdb=9),
        write("s", media_type="show", days=2, season=1, episode=3, imdb="tt7"),
    ]
    first, second = build_requests(frame(rows), batch_size=2)
    assert first.entries[0].ids == (("tmdb", 9), ("tvdb", 5))
    assert second.entries[0].ids == (("imdb", "tt7"),)


def test_entry_section_from_its_own_writes():
    rows = [
        write("a", media_type="anime", days=0, mal=1),
        write("a", media_type="anime", days=1, mal=1),
        write("a", media_type="anime", days=2, season=1, episode=1, mal=1),
    ]
    first, second = build_requests(frame(rows), batch_size=2)
    assert first.entries[0].section == "movies"
    assert second.entries[0].section == "shows"
    assert second.entries[0].pinned is False
