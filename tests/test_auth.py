"""Tests of the token store and the PIN flow (importer.auth)."""

from __future__ import annotations

import stat

import httpx
import pytest

from importer import auth
from importer.client import SimklClient
from importer.errors import AuthError, InputError

API = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    directory = tmp_path / "config"
    monkeypatch.setenv(auth.CONFIG_DIR_ENV, str(directory))
    monkeypatch.delenv(auth.TOKEN_ENV, raising=False)
    return directory


def test_token_saved_with_private_modes(config_dir):
    path = auth.save_token(API, "tok-1", "cid")
    assert path == config_dir / "token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert auth.load_token(API) == "tok-1"
    assert "tok-1" in path.read_text()


def test_token_kept_per_api_url():
    auth.save_token(API, "tok-local", "cid")
    auth.save_token("http://127.0.0.1:10/", "tok-other", "cid")
    assert auth.load_token(API + "/") == "tok-local"
    assert auth.load_token("http://127.0.0.1:10") == "tok-other"
    assert auth.load_token("http://127.0.0.1:11") is None


def test_env_token_overrides_file(monkeypatch):
    auth.save_token(API, "tok-file", "cid")
    monkeypatch.setenv(auth.TOKEN_ENV, "tok-env")
    assert auth.load_token(API) == "tok-env"


def test_delete_token_removes_file(config_dir):
    auth.save_token(API, "tok-1", "cid")
    auth.save_token("http://127.0.0.1:10", "tok-2", "cid")
    assert auth.delete_token(API) is True
    assert auth.load_token(API) is None
    assert auth.load_token("http://127.0.0.1:10") == "tok-2"
    assert auth.delete_token("http://127.0.0.1:10") is True
    assert not (config_dir / "token.json").exists()
    assert auth.delete_token(API) is False


def test_corrupt_token_file_is_input_error(config_dir):
    config_dir.mkdir()
    (config_dir / "token.json").write_text("{not json")
    with pytest.raises(InputError) as info:
        auth.load_token(API)
    assert "token.json" in str(info.value)
    assert "logout" in str(info.value)
    assert auth.delete_token(API) is True
    assert auth.load_token(API) is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


def pin_client(polls: list[dict]) -> tuple[SimklClient, list[httpx.Request]]:
    """Return a client whose /oauth/pin starts a flow and whose polls follow `polls`."""
    requests: list[httpx.Request] = []
    queue = list(polls)

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == "/oauth/pin":
            return httpx.Response(
                200,
                json={
                    "result": "OK",
                    "device_code": "DEVICE_CODE",
                    "user_code": "AB12C",
                    "verification_url": "https://simkl.com/pin",
                    "expires_in": 12,
                    "interval": 2,
                },
            )
        return httpx.Response(200, json=queue.pop(0))

    client = SimklClient(
        API,
        "cid",
        transport=httpx.MockTransport(handler),
        max_get_rate=1000.0,
        sleep=lambda seconds: None,
    )
    return client, requests


PENDING = {"result": "KO", "message": "Authorization pending"}


def test_pin_pending_then_approved():
    client, requests = pin_client(
        [PENDING, PENDING, {"result": "OK", "access_token": "t"}]
    )
    clock = FakeClock()
    shown: list[auth.PinCode] = []
    token = auth.pin_login(client, shown.append, sleep=clock.sleep, clock=clock.time)
    assert token == "t"
    assert [pin.user_code for pin in shown] == ["AB12C"]
    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert [r.url.path for r in requests][1:] == ["/oauth/pin/AB12C"] * 3
    assert requests[0].url.params["client_id"] == "cid"


def test_pin_code_gone_stops():
    gone = {"result": "OK", "device_code": "DEVICE_CODE", "user_code": "ZZ999"}
    client, requests = pin_client([PENDING, gone])
    clock = FakeClock()
    with pytest.raises(AuthError) as info:
        auth.pin_login(client, lambda pin: None, sleep=clock.sleep, clock=clock.time)
    assert "AB12C" in str(info.value)
    assert "expired or was already used" in str(info.value)
    assert len(requests) == 3


def test_pin_times_out_at_expiry():
    client, requests = pin_client([PENDING] * 10)
    clock = FakeClock()
    with pytest.raises(AuthError) as info:
        auth.pin_login(client, lambda pin: None, sleep=clock.sleep, clock=clock.time)
    assert "timed out" in str(info.value)
    assert clock.now <= 12
    assert len(requests) == 1 + 6


def test_pin_slow_down_widens_interval():
    slow = {"result": "KO", "message": "Slow down"}
    client, _ = pin_client([slow, {"result": "OK", "access_token": "t"}])
    clock = FakeClock()
    assert (
        auth.pin_login(client, lambda pin: None, sleep=clock.sleep, clock=clock.time)
        == "t"
    )
    assert clock.sleeps == [2.0, 7.0]
