"""Bad requests get Simkl's error envelope with a 4xx code, never a 500."""

from __future__ import annotations

import pytest

from .support import Api

BAD_HISTORY_BODIES = [
    b"{not json",
    b"",
    b"[1, 2]",
    b'"movies"',
    b'{"movies": "x"}',
    b'{"movies": [1]}',
    b'{"nothing": []}',
    b'{"movies": [{"ids": [1, 2]}]}',
    b'{"movies": [{"ids": {"tmdb": {"a": 1}}}]}',
    b'{"movies": [{"ids": {"simkl": 101}, "watched_at": "yesterday"}]}',
    b'{"movies": [{"ids": {"simkl": 101}, "watched_at": 12}]}',
    b'{"movies": [{"ids": {"simkl": 101}, "is_rewatch": "yes"}]}',
    b'{"movies": [{"ids": {"simkl": 101}, "rewatch_status": "paused"}]}',
    b'{"movies": [{"ids": {"simkl": 101}, "rewatch_id": "7"}]}',
    b'{"movies": [{"ids": {"simkl": 101}, "status": "finished"}]}',
    b'{"movies": [{"ids": {"simkl": 101}, "rating": 11}]}',
    b'{"shows": [{"ids": {"simkl": 201}, "seasons": {"number": 1}}]}',
    b'{"shows": [{"ids": {"simkl": 201}, "seasons": [{"number": "1"}]}]}',
    (
        b'{"shows": [{"ids": {"simkl": 201}, '
        b'"seasons": [{"number": 1, "episodes": [{}]}]}]}'
    ),
    b'{"shows": [{"ids": {"simkl": 201}, "episodes": [{"number": true}]}]}',
    b"\xff\xfe\x00",
]


@pytest.mark.parametrize("body", BAD_HISTORY_BODIES)
def test_bad_history_body_is_400(api: Api, body: bytes) -> None:
    for path in ("/sync/history", "/sync/history/remove"):
        response = api.client.post(path, content=body)
        assert response.status_code == 400, (path, body, response.text)
        envelope = response.json()
        assert set(envelope) == {"error", "code", "message"}
        assert envelope["code"] == 400
    assert api.all_items() == {}


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("GET", "/nowhere", {}, 404),
        ("GET", "/sync/history", {}, 405),
        ("DELETE", "/sync/all-items", {}, 405),
        ("GET", "/sync/all-items/films", {}, 400),
        ("GET", "/sync/all-items/shows/finished", {}, 400),
        ("GET", "/sync/all-items", {"date_from": "last week"}, 400),
        ("GET", "/search/id", {}, 400),
        ("GET", "/search/id", {"tmdb": "1", "type": "film"}, 400),
        ("GET", "/search/movie", {}, 400),
        ("GET", "/search/people", {"q": "x"}, 404),
    ],
)
def test_bad_route_or_query_gets_envelope(
    api: Api, method: str, path: str, params: dict[str, str], status: int
) -> None:
    response = api.client.request(method, path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["code"] == status
    assert isinstance(response.json()["error"], str)


def test_approve_needs_user_code(api: Api) -> None:
    for body in (b"{}", b"[]", b"nope"):
        response = api.client.post("/emulator/approve", content=body)
        assert response.status_code == 400
        assert response.json()["code"] == 400
