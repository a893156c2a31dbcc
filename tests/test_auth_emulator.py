"""PIN sign-in, whoami and logout against the bundled emulator."""

from __future__ import annotations

import stat
import threading
import time

import pytest
from click.testing import CliRunner

from importer import auth
from importer.cli import cli
from importer.client import SimklClient
from importer.errors import AuthError

emulator_testing = pytest.importorskip("importer.emulator.testing")


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    directory = tmp_path / "config"
    monkeypatch.setenv(auth.CONFIG_DIR_ENV, str(directory))
    monkeypatch.delenv(auth.TOKEN_ENV, raising=False)
    monkeypatch.delenv("SIMKL_API_URL", raising=False)
    monkeypatch.delenv("SIMKL_CLIENT_ID", raising=False)
    return directory


def approve_when_requested(emu, approved: list[str]) -> threading.Thread:
    """Approve the first PIN the emulator issues, as the user would."""

    def run() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with emu.emulator.lock:
                codes = list(emu.emulator.pins)
            if codes:
                approved.append(codes[0])
                emu.approve_pin(codes[0])
                return
            time.sleep(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_login_whoami_logout(config_dir):
    with emulator_testing.running_emulator({}, pin_interval=1, tier="vip") as emu:
        approved: list[str] = []
        thread = approve_when_requested(emu, approved)
        runner = CliRunner()
        login = runner.invoke(cli, ["login", "--api-url", emu.base_url])
        thread.join()
        whoami = runner.invoke(cli, ["whoami", "--api-url", emu.base_url])
        logout = runner.invoke(cli, ["logout", "--api-url", emu.base_url])
        after = runner.invoke(cli, ["whoami", "--api-url", emu.base_url])

    assert login.exit_code == 0, login.output
    assert f"enter the code {approved[0]}" in login.output
    assert f"{emu.base_url}/pin" in login.output
    assert "(valid for 15 min)" in login.output
    assert "Signed in" in login.output
    assert whoami.exit_code == 0, whoami.output
    assert whoami.output.strip() == "Emulator User (vip)"
    assert logout.exit_code == 0
    assert "Signed out" in logout.output
    assert after.exit_code == 2
    assert "not signed in" in after.output


def test_login_stores_private_token_file(config_dir):
    with emulator_testing.running_emulator({}, pin_interval=1) as emu:
        thread = approve_when_requested(emu, [])
        result = CliRunner().invoke(cli, ["login", "--api-url", emu.base_url])
        thread.join()
        token = auth.load_token(emu.base_url)
    assert result.exit_code == 0, result.output
    path = config_dir / "token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert token
    assert token not in result.output


def test_env_token_used_by_whoami():
    with emulator_testing.running_emulator({}, tier="free") as emu:
        token = emu.issue_token()
        result = CliRunner().invoke(
            cli, ["whoami", "--api-url", emu.base_url], env={auth.TOKEN_ENV: token}
        )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Emulator User (free)"


def test_revoked_token_asks_for_login():
    with emulator_testing.running_emulator({}) as emu:
        result = CliRunner().invoke(
            cli,
            ["whoami", "--api-url", emu.base_url],
            env={auth.TOKEN_ENV: "revoked-token-123"},
        )
    assert result.exit_code == 2
    assert "simkl-import login" in result.output
    assert "revoked-token-123" not in result.output


def test_pin_expires_without_approval():
    with emulator_testing.running_emulator({}, pin_interval=1, pin_expires_in=2) as emu:
        client = SimklClient(emu.base_url, None)
        with pytest.raises(AuthError) as info:
            auth.pin_login(client, lambda pin: None)
    assert "timed out" in str(info.value) or "expired" in str(info.value)
    assert "simkl-import login" in str(info.value)


def test_pin_code_gone_after_use():
    with emulator_testing.running_emulator({}, pin_interval=1) as emu:
        client = SimklClient(emu.base_url, None)
        pin = auth.request_pin(client)
        emu.approve_pin(pin.user_code)
        token = auth.wait_for_token(client, pin)
        # The code was consumed; polling it again starts a new flow.
        with pytest.raises(AuthError) as info:
            auth.wait_for_token(client, pin)
    assert token
    assert "expired or was already used" in str(info.value)


def test_wrong_client_id_from_env():
    with emulator_testing.running_emulator({}) as emu:
        env = {auth.TOKEN_ENV: emu.issue_token(), "SIMKL_CLIENT_ID": "wrong-id"}
        result = CliRunner().invoke(cli, ["whoami", "--api-url", emu.base_url], env=env)
        # The emulator logs a request just after sending its response.
        deadline = time.monotonic() + 2
        while not emu.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        sent = emu.requests
    assert result.exit_code == 1
    assert "client_id_failed" in result.output
    assert "SIMKL_CLIENT_ID" in result.output
    assert sent[0].query["client_id"] == "wrong-id"
