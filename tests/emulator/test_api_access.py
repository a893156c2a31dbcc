"""Identification, tokens, PIN sign-in and the user settings."""

from __future__ import annotations

import httpx
import pytest

from importer.emulator.testing import RunningEmulator

from .support import Api


def _raw(emu: RunningEmulator, client: httpx.Client) -> httpx.Client:
    client.base_url = httpx.URL(emu.base_url)
    client.params = httpx.QueryParams()
    client.headers.pop("Authorization", None)
    return client


def test_missing_client_id_is_412(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    client = _raw(emu, http_client)
    response = client.get("/oauth/pin")
    assert response.status_code == 412
    assert response.json() == {
        "error": "client_id_failed",
        "code": 412,
        "message": "Your client_id is wrong. Try another one",
    }


def test_unknown_client_id_is_412(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    response = _raw(emu, http_client).get("/oauth/pin", params={"client_id": "other"})
    assert response.status_code == 412
    assert response.json()["error"] == "client_id_failed"


def test_client_id_header_is_accepted(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    client = _raw(emu, http_client)
    response = client.get("/oauth/pin", headers={"simkl-api-key": emu.client_id})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/sync/history"),
        ("POST", "/sync/history/remove"),
        ("GET", "/sync/all-items"),
        ("GET", "/sync/activities"),
        ("GET", "/users/settings"),
        ("POST", "/users/settings"),
    ],
)
def test_user_routes_need_bearer_token(
    emu: RunningEmulator, http_client: httpx.Client, method: str, path: str
) -> None:
    client = _raw(emu, http_client)
    params = {"client_id": emu.client_id}
    missing = client.request(method, path, params=params, json={"movies": []})
    wrong = client.request(
        method, path, params=params, headers={"Authorization": "Bearer nope"}, json={}
    )
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"] == "user_token_failed"
        assert response.json()["code"] == 401


def test_pin_flow_issues_working_token(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    client = _raw(emu, http_client)
    params = {"client_id": emu.client_id}
    start = client.get("/oauth/pin", params=params).json()
    code = start["user_code"]
    assert start["verification_url"] == f"{emu.base_url}/pin"
    assert start["verification_uri"] == start["verification_url"]
    assert (start["expires_in"], start["interval"]) == (900, 5)
    pending = client.get(f"/oauth/pin/{code}", params=params).json()
    assert pending == {"result": "KO", "message": "Authorization pending"}
    assert emu.approve_pin(code)
    done = client.get(f"/oauth/pin/{code}", params=params).json()
    assert done["result"] == "OK"
    auth = {"Authorization": f"Bearer {done['access_token']}"}
    assert client.get("/users/settings", params=params, headers=auth).status_code == 200
    again = client.get(f"/oauth/pin/{code}", params=params).json()
    assert again["user_code"] != code
    assert "device_code" in again


def test_expired_pin_returns_new_code(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    emu.reset(pin_expires_in=0, pin_interval=1)
    client = _raw(emu, http_client)
    params = {"client_id": emu.client_id}
    code = client.get("/oauth/pin", params=params).json()["user_code"]
    assert not emu.approve_pin(code)
    poll = client.get(f"/oauth/pin/{code}", params=params).json()
    assert poll["result"] == "OK"
    assert poll["user_code"] != code
    assert poll["interval"] == 1


def test_pin_page_and_approve_endpoint(
    emu: RunningEmulator, http_client: httpx.Client
) -> None:
    client = _raw(emu, http_client)
    params = {"client_id": emu.client_id}
    first = client.get("/oauth/pin", params=params).json()["user_code"]
    second = client.get("/oauth/pin", params=params).json()["user_code"]
    page = client.get("/pin", params={"code": first})
    posted = client.post("/emulator/approve", json={"user_code": second})
    unknown = client.post("/emulator/approve", json={"user_code": "ZZZZZZ"})
    assert page.status_code == 200
    assert "approved" in page.text
    assert posted.json() == {"result": "OK", "user_code": second}
    assert unknown.status_code == 404
    for code in (first, second):
        poll = client.get(f"/oauth/pin/{code}", params=params).json()
        assert poll["result"] == "OK"
        assert "access_token" in poll


@pytest.mark.parametrize("tier", ["free", "pro", "vip"])
def test_settings_report_account_tier(
    emu: RunningEmulator, http_client: httpx.Client, tier: str
) -> None:
    emu.reset(tier=tier)
    api = Api(emu, emu.issue_token(), http_client)
    for method in ("GET", "POST"):
        response = api.client.request(method, "/users/settings")
        assert response.status_code == 200
        assert response.json()["account"]["type"] == tier
