"""The `simkl-import emulator` command and the shared `emulator` fixture."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from importer.commands.emulator import emulator as emulator_command
from importer.emulator import DEFAULT_CLIENT_ID
from importer.emulator.testing import RunningEmulator
from importer.errors import InputError

REPO = Path(__file__).resolve().parents[2]


def test_help_lists_options() -> None:
    result = CliRunner().invoke(emulator_command, ["--help"])
    assert result.exit_code == 0
    for option in (
        "--port",
        "--catalog",
        "--auto-catalog",
        "--tier",
        "--state",
        "--faults",
        "--client-id",
        "--post-rate",
        "--no-rate-limit",
    ):
        assert option in result.output


def test_bad_fault_spec_is_input_error() -> None:
    result = CliRunner().invoke(emulator_command, ["--faults", "explode"])
    assert result.exit_code != 0
    assert "unknown fault 'explode'" in str(result.exception)


def test_busy_port_is_input_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = CliRunner().invoke(emulator_command, ["--port", port])
    assert isinstance(result.exception, InputError)
    assert f"cannot listen on 127.0.0.1:{port}" in str(result.exception)


def test_bad_state_file_is_input_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"not": "a state"}', encoding="utf-8")
    result = CliRunner().invoke(emulator_command, ["--state", str(state)])
    assert isinstance(result.exception, InputError)
    assert "is not an emulator state" in str(result.exception)


def test_foreground_server_answers(tmp_path: Path, http_client: httpx.Client) -> None:
    code = "from importer.commands.emulator import emulator; emulator()"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "--port",
            "0",
            "--no-rate-limit",
            "--state",
            str(tmp_path / "state.json"),
            "--tier",
            "vip",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base_url = banner.split()[3]
        assert base_url.startswith("http://127.0.0.1:")
        params = {"client_id": DEFAULT_CLIENT_ID}
        pin = None
        for _ in range(100):
            try:
                pin = http_client.get(f"{base_url}/oauth/pin", params=params).json()
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert pin is not None
        http_client.get(f"{base_url}/pin", params={"code": pin["user_code"]})
        poll = http_client.get(
            f"{base_url}/oauth/pin/{pin['user_code']}", params=params
        )
        token = poll.json()["access_token"]
        settings = http_client.get(
            f"{base_url}/users/settings",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert settings.json()["account"]["type"] == "vip"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "state.json").exists()


def test_shared_fixture_uses_sample_catalog(
    emulator: RunningEmulator, http_client: httpx.Client
) -> None:
    params = {"client_id": emulator.client_id, "tvdb": "67001"}
    response = http_client.get(f"{emulator.base_url}/search/id", params=params)
    [result] = response.json()
    assert result["title"] == "Ward Seven"
    assert emulator.emulator.config.rate_limit is False
