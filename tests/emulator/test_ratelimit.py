"""Rate limits: 1 POST and 10 GET per second per token, then 429."""

from __future__ import annotations

import httpx

from importer.emulator.ratelimit import RateLimiter
from importer.emulator.testing import RunningEmulator

from .support import Api, at, movie


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _limit(
    emu: RunningEmulator, *, post_rate: float = 1.0, get_rate: float = 10.0
) -> None:
    """Turn rate limits on with a stopped clock, so slow test machines pass."""
    emu.reset(rate_limit=True)
    limiter = RateLimiter(post_rate=post_rate, get_rate=get_rate, clock=FakeClock())
    emu.emulator.limiter = limiter


def test_second_post_within_second_is_429(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    _limit(emu)
    api = Api(emu, emu.issue_token(), http_client)
    first = api.client.post("/sync/history", json={"movies": [movie(at(0))]})
    second = api.client.post("/sync/history", json={"movies": [movie(at(5))]})
    assert first.status_code == 201
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "1"
    assert second.json()["error"] == "rate_limit"
    assert api.rows(101)[0]["last_watched_at"] == at(0)


def test_eleventh_get_within_second_is_429(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    _limit(emu)
    api = Api(emu, emu.issue_token(), http_client)
    statuses = [api.client.get("/sync/activities").status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_tokens_have_separate_buckets(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    _limit(emu)
    first = Api(emu, emu.issue_token(), http_client)
    assert (
        first.client.post("/sync/history", json={"movies": [movie(at(0))]}).status_code
        == 201
    )
    second = Api(emu, emu.issue_token(), http_client)
    assert (
        second.client.post("/sync/history", json={"movies": [movie(at(0))]}).status_code
        == 201
    )


def test_unauthenticated_calls_limited_per_client_id(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    _limit(emu, get_rate=2.0)
    http_client.base_url = httpx.URL(emu.base_url)
    http_client.headers.pop("Authorization", None)
    params = {"client_id": emu.client_id}
    statuses = [
        http_client.get("/oauth/pin", params=params).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_window_slides_after_one_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(post_rate=1.0, get_rate=10.0, clock=clock)
    assert limiter.check("token:a", "POST") is None
    assert limiter.check("token:a", "POST") == 1
    clock.now += 1.0
    assert limiter.check("token:a", "POST") is None


def test_slow_rate_waits_longer() -> None:
    clock = FakeClock()
    limiter = RateLimiter(post_rate=0.25, clock=clock)
    assert limiter.check("k", "POST") is None
    clock.now += 1.5
    assert limiter.check("k", "POST") == 3


def test_disabled_limiter_allows_all() -> None:
    limiter = RateLimiter(enabled=False)
    assert all(limiter.check("k", "POST") is None for _ in range(100))


def test_configured_rate_reaches_server(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    # A 20-second window keeps this real-clock test stable on a slow machine.
    emu.reset(rate_limit=True, post_rate=0.05)
    api = Api(emu, emu.issue_token(), http_client)
    first = api.client.post("/sync/history", json={"movies": [movie(at(0))]})
    second = api.client.post("/sync/history", json={"movies": [movie(at(5))]})
    assert first.status_code == 201
    assert second.status_code == 429
    assert 1 <= int(second.headers["Retry-After"]) <= 20
