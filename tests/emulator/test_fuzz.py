"""Random history bodies never make the emulator fail with a 5xx."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import Api

KEYS = [
    "ids",
    "simkl",
    "tmdb",
    "imdb",
    "tvdb",
    "mal",
    "title",
    "year",
    "watched_at",
    "seasons",
    "episodes",
    "number",
    "status",
    "rating",
    "is_rewatch",
    "rewatch_id",
    "rewatch_status",
    "letterboxd",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=210),
    st.sampled_from(
        [
            "2020-01-01T00:00:00Z",
            "1970-01-01T00:00:01Z",
            "x",
            "",
            "completed",
            "active",
            "closed",
            "tt0000101",
            "copper-tide",
            "101",
        ]
    ),
    st.floats(allow_nan=False, allow_infinity=False),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    ),
    max_leaves=12,
)
BODIES = st.dictionaries(
    st.sampled_from(["movies", "shows", "anime", "episodes", "other"]),
    st.one_of(st.lists(JSON, max_size=3), JSON),
    max_size=3,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=BODIES, rewatch=st.booleans())
def test_random_bodies_never_fail_server(api: Api, body: Any, rewatch: bool) -> None:
    params = {"allow_rewatch": "yes"} if rewatch else {}
    for path in ("/sync/history", "/sync/history/remove"):
        response = api.client.post(path, json=body, params=params)
        assert response.status_code in (200, 201, 400), response.text
        assert isinstance(response.json(), dict)
    read = api.client.get(
        "/sync/all-items", params={"allow_rewatch": "yes", "extended": "full"}
    )
    assert read.status_code == 200
