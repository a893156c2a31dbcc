"""SimklClient against the bundled emulator over loopback."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from importer import __version__
from importer.client import LOCAL_CLIENT_ID, OutcomeUnknownError, SimklClient
from importer.errors import ApiError, AuthError

emulator_testing = pytest.importorskip("importer.emulator.testing")
Fault = emulator_testing.Fault

CATALOG = {
    "movies": [
        {"title": "Heat", "year": 1995, "ids": {"simkl": 101, "tmdb": 949}},
        {"title": "Ronin", "year": 1998, "ids": {"simkl": 102, "tmdb": 8195}},
    ],
}
HEAT = {"movies": [{"ids": {"tmdb": 949}, "watched_at": "2020-01-01T20:00:00Z"}]}


@pytest.fixture
def emu():
    with emulator_testing.running_emulator(CATALOG) as running:
        yield running


def connect(emu, token: str | None = None, **kwargs) -> tuple[SimklClient, list[float]]:
    sleeps: list[float] = []
    kwargs.setdefault("max_post_rate", 1000.0)
    kwargs.setdefault("max_get_rate", 1000.0)
    kwargs.setdefault("sleep", sleeps.append)
    token = token if token is not None else emu.issue_token()
    client = SimklClient(emu.base_url, None, token, **kwargs)
    return client, sleeps


def recorded(emu, count: int) -> list:
    """Return the emulator's request log once it has `count` entries.

    The emulator logs a request after sending its response, so the log can
    trail the client by a moment.
    """
    deadline = time.monotonic() + 2.0
    while len(emu.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return emu.requests


def posts(emu, count: int) -> list:
    history = [r for r in recorded(emu, count) if r.path == "/sync/history"]
    return [r for r in history if r.method == "POST"]


def test_local_client_id_matches_emulator(emu):
    from importer.emulator import DEFAULT_CLIENT_ID

    assert LOCAL_CLIENT_ID == DEFAULT_CLIENT_ID
    assert emu.client_id == LOCAL_CLIENT_ID


def test_identification_reaches_emulator(emu):
    client, _ = connect(emu)
    client.activities()
    query = recorded(emu, 1)[-1].query
    assert query["client_id"] == LOCAL_CLIENT_ID
    assert query["app-name"] == "simkl-import"
    assert query["app-version"] == __version__


def test_tier_read_from_settings(emu):
    client, _ = connect(emu)
    assert client.account_tier() == "pro"
    emu.set_tier("free")
    assert client.account_tier() == "free"


def test_bad_token_is_auth_error(emu):
    client, _ = connect(emu, token="not-a-token")
    with pytest.raises(AuthError) as info:
        client.all_items()
    assert "simkl-import login" in str(info.value)
    assert "not-a-token" not in str(info.value)


def test_get_429_waits_retry_after(emu):
    emu.faults.script([Fault.respond(429, retry_after=3)])
    client, sleeps = connect(emu)
    assert isinstance(client.activities(), dict)
    assert 3.0 in sleeps
    assert [r.status for r in recorded(emu, 2)] == [429, 200]


def test_post_429_resent_once_applied_once(emu):
    token = emu.issue_token()
    emu.faults.script([Fault.respond(429, retry_after=2, method="POST")])
    client, sleeps = connect(emu, token)
    body = client.add_history(HEAT, allow_rewatch=False)
    assert body["added"]["movies"] == 1
    assert 2.0 in sleeps
    assert [r.status for r in posts(emu, 2)] == [429, 201]
    movies = client.all_items(type="movies")["movies"]
    assert len(movies) == 1


@pytest.mark.parametrize(
    "fault", [Fault.apply_then_error(502), Fault.apply_then_drop()]
)
def test_post_failure_after_apply_not_resent(emu, fault):
    emu.faults.script([fault])
    client, _ = connect(emu)
    with pytest.raises(OutcomeUnknownError) as info:
        client.add_history(HEAT, allow_rewatch=False)
    assert info.value.outcome_unknown is True
    assert len(posts(emu, 1)) == 1
    # The write landed, which is why the client must not resend it.
    movies = client.all_items(type="movies")["movies"]
    assert [m["movie"]["ids"]["simkl"] for m in movies] == [101]


def test_post_503_before_apply_is_outcome_unknown(emu):
    emu.faults.script([Fault.respond(503, method="POST")])
    client, _ = connect(emu)
    with pytest.raises(OutcomeUnknownError):
        client.add_history(HEAT, allow_rewatch=False)
    assert len(posts(emu, 1)) == 1
    assert client.all_items(type="movies") == {}


def test_get_5xx_retried(emu):
    emu.faults.script([Fault.respond(503), Fault.respond(500)])
    client, _ = connect(emu, backoff=0.01)
    assert isinstance(client.activities(), dict)
    assert [r.status for r in recorded(emu, 3)] == [503, 500, 200]


def test_refused_connection_is_retryable_error():
    # A port that was just free on loopback has no listener.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = SimklClient(
        f"http://127.0.0.1:{port}", None, "t", max_attempts=2, backoff=0.01
    )
    with pytest.raises(ApiError) as info:
        client.get("/sync/activities")
    assert info.value.retryable is True
    assert info.value.status is None
    assert client.request_counts["GET"] == 2


def test_paced_posts_pass_emulator_limit():
    with emulator_testing.running_emulator(CATALOG, rate_limit=True) as emu:
        client = SimklClient(emu.base_url, None, emu.issue_token())
        started = time.monotonic()
        for tmdb in (949, 8195, 949):
            movie = {"ids": {"tmdb": tmdb}, "watched_at": "2020-01-01T20:00:00Z"}
            client.add_history({"movies": [movie]}, allow_rewatch=False)
        elapsed = time.monotonic() - started
        statuses = [r.status for r in posts(emu, 3)]
    assert statuses == [201, 201, 201]
    assert elapsed >= 2.0


def test_token_absent_from_debug_logs(emu, caplog):
    token = emu.issue_token()
    caplog.set_level(logging.DEBUG)
    emu.faults.script(
        [Fault.respond(429, retry_after=1), Fault.apply_then_error(500, method="POST")]
    )
    client, _ = connect(emu, token)
    client.activities()
    with pytest.raises(OutcomeUnknownError) as info:
        client.add_history(HEAT, allow_rewatch=True)
    client.all_items()
    assert "GET /sync/activities -> 429" in caplog.text
    assert "POST /sync/history -> 500" in caplog.text
    assert token not in caplog.text
    assert token not in str(info.value)
    assert token not in repr(client)


def test_emulator_throttle_waited_out():
    # Pacing is off on the client side, so the emulator's own limit sends 429.
    with emulator_testing.running_emulator(CATALOG, rate_limit=True) as emu:
        client = SimklClient(
            emu.base_url, None, emu.issue_token(), max_post_rate=1000.0
        )
        started = time.monotonic()
        for tmdb in (949, 8195):
            movie = {"ids": {"tmdb": tmdb}, "watched_at": "2020-01-01T20:00:00Z"}
            client.add_history({"movies": [movie]}, allow_rewatch=False)
        elapsed = time.monotonic() - started
        statuses = [r.status for r in posts(emu, 3)]
    assert statuses == [201, 429, 201]
    assert elapsed >= 1.0
