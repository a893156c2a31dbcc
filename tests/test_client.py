"""Tests of SimklClient against httpx.MockTransport handlers."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from importer import __version__
from importer.client import (
    LOCAL_CLIENT_ID,
    OutcomeUnknownError,
    RateLimiter,
    SimklClient,
    check_api_url,
    resolve_client_id,
)
from importer.errors import ApiError, AuthError, InputError

TOKEN = "tok-SECRET-1234567890"
API = "http://127.0.0.1:9"


def make_client(handler, **kwargs) -> tuple[SimklClient, list[float]]:
    sleeps: list[float] = []
    kwargs.setdefault("max_post_rate", 1000.0)
    kwargs.setdefault("max_get_rate", 1000.0)
    client = SimklClient(
        API,
        "cid-1",
        TOKEN,
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        **kwargs,
    )
    return client, sleeps


def test_identification_sent_on_every_call():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    client, _ = make_client(handler)
    client.get("/sync/activities", {"x": "1"})
    client.post("/sync/history", json={"movies": []})
    assert len(seen) == 2
    for request in seen:
        assert request.url.params["client_id"] == "cid-1"
        assert request.url.params["app-name"] == "simkl-import"
        assert request.url.params["app-version"] == __version__
        assert request.headers["simkl-api-key"] == "cid-1"
        assert request.headers["user-agent"] == f"simkl-import/{__version__}"
        assert request.headers["accept"] == "application/json"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen[0].url.params["x"] == "1"
    assert json.loads(seen[1].content) == {"movies": []}
    assert seen[1].headers["content-type"] == "application/json"


def test_no_authorization_without_token():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    client = SimklClient(API, "cid", transport=httpx.MockTransport(handler))
    client.search_id(imdb="tt0000001")
    assert "authorization" not in seen[0].headers
    assert seen[0].url.params["imdb"] == "tt0000001"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:5",
        "http://127.5.0.1",
    ],
)
def test_http_allowed_for_loopback(url):
    assert check_api_url(url).scheme == "http"


@pytest.mark.parametrize(
    "url", ["http://api.simkl.com", "http://10.0.0.1", "ftp://127.0.0.1", "nonsense"]
)
def test_http_rejected_for_other_hosts(url):
    with pytest.raises(InputError) as info:
        SimklClient(url, "cid")
    assert "http" in str(info.value)


def test_https_remote_accepted_without_sending():
    # Building a client sends nothing; the URL is only parsed.
    assert check_api_url("https://api.simkl.com").host == "api.simkl.com"


def test_client_id_defaults_on_loopback_only():
    assert resolve_client_id("http://127.0.0.1:5000", None) == LOCAL_CLIENT_ID
    assert resolve_client_id("https://api.simkl.com", "abc") == "abc"
    with pytest.raises(InputError) as info:
        resolve_client_id("https://api.simkl.com", None)
    assert "SIMKL_CLIENT_ID" in str(info.value)


def test_token_redacted_in_repr_errors_and_logs(caplog):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": "bad", "message": f"token {TOKEN} is odd"}
        )

    client, _ = make_client(handler)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ApiError) as info:
        client.get("/sync/activities")
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(client)
    assert TOKEN not in caplog.text
    assert "GET /sync/activities -> 400" in caplog.text


def test_error_envelope_mapped():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            412, json={"error": "client_id_failed", "code": 412, "message": "wrong"}
        )

    client, sleeps = make_client(handler)
    with pytest.raises(ApiError) as info:
        client.get("/sync/activities")
    assert info.value.status == 412
    assert info.value.error == "client_id_failed"
    assert info.value.retryable is False
    assert "wrong" in str(info.value)
    assert client.request_counts["GET"] == 1
    assert sleeps == []


def test_401_raises_auth_error_with_fix():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "user_token_failed"})

    client, _ = make_client(handler)
    with pytest.raises(AuthError) as info:
        client.post("/sync/history", json={})
    assert "simkl-import login" in str(info.value)
    assert client.request_counts["POST"] == 1


def scripted(*responses):
    """Return a handler that returns `responses` in turn, and its request list."""
    calls: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler, calls


def test_get_429_honours_retry_after():
    handler, calls = scripted(
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(200, json={"all": "x"}),
    )
    client, sleeps = make_client(handler)
    assert client.activities() == {"all": "x"}
    assert len(calls) == 2
    assert 3.0 in sleeps


def test_post_429_resent_after_retry_after():
    handler, calls = scripted(
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(201, json={"added": {"movies": 1}}),
    )
    client, sleeps = make_client(handler)
    body = client.add_history({"movies": [{"ids": {"simkl": 1}}]}, allow_rewatch=True)
    assert body == {"added": {"movies": 1}}
    assert len(calls) == 2
    assert 2.0 in sleeps
    assert calls[0].url.params["allow_rewatch"] == "yes"


def test_get_retries_5xx_and_transport_errors():
    handler, calls = scripted(
        httpx.Response(503),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"movies": []}),
    )
    client, sleeps = make_client(handler)
    assert client.all_items() == {"movies": []}
    assert len(calls) == 3
    # Pacing waits are tiny here; the backoff waits double from 1 second.
    assert [s for s in sleeps if s >= 0.5] == [1.0, 2.0]


def test_get_attempts_bounded():
    handler, calls = scripted(*[httpx.Response(500)] * 3)
    client, _ = make_client(handler, max_attempts=3)
    with pytest.raises(ApiError) as info:
        client.get("/sync/activities")
    assert info.value.status == 500
    assert info.value.retryable is True
    assert len(calls) == 3


def test_post_5xx_is_outcome_unknown_and_not_resent():
    handler, calls = scripted(httpx.Response(502), httpx.Response(201, json={}))
    client, _ = make_client(handler)
    with pytest.raises(OutcomeUnknownError) as info:
        client.add_history({"movies": []}, allow_rewatch=False)
    assert info.value.outcome_unknown is True
    assert info.value.retryable is True
    assert info.value.status == 502
    assert len(calls) == 1


def test_post_read_timeout_is_outcome_unknown():
    handler, calls = scripted(httpx.ReadTimeout("no answer"))
    client, _ = make_client(handler)
    with pytest.raises(OutcomeUnknownError) as info:
        client.post("/sync/history", json={})
    assert info.value.outcome_unknown is True
    assert info.value.status is None
    assert len(calls) == 1


def test_post_connect_error_is_known_not_applied():
    handler, calls = scripted(httpx.ConnectError("refused"))
    client, _ = make_client(handler)
    with pytest.raises(ApiError) as info:
        client.post("/sync/history", json={})
    assert not isinstance(info.value, OutcomeUnknownError)
    assert info.value.outcome_unknown is False
    assert info.value.retryable is True
    assert len(calls) == 1


def test_all_items_params_and_empty_library():
    handler, calls = scripted(httpx.Response(200, content=b"null"))
    client, _ = make_client(handler)
    assert client.all_items(type="movies", date_from="2026-01-01T00:00:00Z") == {}
    params = calls[0].url.params
    assert calls[0].url.path == "/sync/all-items/movies"
    assert params["extended"] == "full"
    assert params["episode_watched_at"] == "yes"
    assert params["allow_rewatch"] == "yes"
    assert params["date_from"] == "2026-01-01T00:00:00Z"


def test_account_tier_from_settings():
    handler, calls = scripted(
        httpx.Response(200, json={"user": {"name": "a"}, "account": {"type": "VIP"}}),
        httpx.Response(200, json={"account": {"type": "mystery"}}),
    )
    client, _ = make_client(handler)
    assert client.account_tier() == "vip"
    assert client.account_tier() == "free"
    assert calls[0].url.path == "/users/settings"


def test_on_request_hook_counts_posts():
    seen: list[tuple[str, str, int | None]] = []
    handler, _ = scripted(
        httpx.Response(429), httpx.Response(201, json={}), httpx.Response(200, json=[])
    )
    client, _ = make_client(handler, on_request=lambda *a: seen.append(a))
    client.post("/sync/history", json={})
    client.search_text("movie", "john wick 2014")
    assert seen == [
        ("POST", "/sync/history", 429),
        ("POST", "/sync/history", 201),
        ("GET", "/search/movie", 200),
    ]
    assert client.request_counts == {"POST": 2, "GET": 1}


def test_rate_limiter_spaces_calls():
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.acquire()
    assert waits == [pytest.approx(0.5), pytest.approx(0.5)]


def test_post_pacing_uses_post_rate():
    handler, _ = scripted(*[httpx.Response(201, json={})] * 3)
    client, sleeps = make_client(handler, max_post_rate=1.0)
    for _ in range(3):
        client.post("/sync/history", json={})
    # The fake sleep does not advance the clock, so the waits add up.
    assert len(sleeps) == 2
    assert sleeps[0] == pytest.approx(1.0, abs=0.05)


def test_post_unreadable_body_is_outcome_unknown():
    handler, calls = scripted(httpx.Response(201, content=b"<html>oops"))
    client, _ = make_client(handler)
    with pytest.raises(OutcomeUnknownError) as info:
        client.add_history({"movies": []}, allow_rewatch=False)
    assert info.value.outcome_unknown is True
    assert info.value.status == 201
    assert len(calls) == 1


def test_get_unreadable_body_is_api_error():
    handler, calls = scripted(httpx.Response(200, content=b"<html>oops"))
    client, _ = make_client(handler)
    with pytest.raises(ApiError) as info:
        client.get("/sync/activities")
    assert not isinstance(info.value, OutcomeUnknownError)
    assert "invalid JSON" in str(info.value)
    assert len(calls) == 1


def test_rate_limiter_restart_counts_from_now():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(1.0, clock=lambda: now[0], sleep=sleep)
    limiter.acquire()
    now[0] += 0.4  # the request takes 0.4 s
    limiter.restart()
    limiter.acquire()
    assert waits == [pytest.approx(1.0)]
    assert now[0] == pytest.approx(1.4)


def test_412_names_client_id_fix():
    handler, _ = scripted(
        httpx.Response(412, json={"error": "client_id_failed", "message": "wrong"})
    )
    client, _ = make_client(handler)
    with pytest.raises(ApiError) as info:
        client.get("/search/id", {"imdb": "tt1"})
    assert info.value.error == "client_id_failed"
    assert "SIMKL_CLIENT_ID" in str(info.value)
