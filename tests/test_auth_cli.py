"""CLI tests of login, logout and whoami that need no server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from importer import auth
from importer.cli import cli

API = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    directory = tmp_path / "config"
    monkeypatch.setenv(auth.CONFIG_DIR_ENV, str(directory))
    monkeypatch.delenv(auth.TOKEN_ENV, raising=False)
    monkeypatch.delenv("SIMKL_API_URL", raising=False)
    monkeypatch.delenv("SIMKL_CLIENT_ID", raising=False)
    return directory


def test_whoami_without_token_exits_2():
    result = CliRunner().invoke(cli, ["whoami", "--api-url", API])
    assert result.exit_code == 2
    assert "not signed in to http://127.0.0.1:9" in result.output
    assert "simkl-import login" in result.output
    assert "Traceback" not in result.output


def test_logout_when_signed_out():
    result = CliRunner().invoke(cli, ["logout", "--api-url", API])
    assert result.exit_code == 0
    assert "Not signed in" in result.output


def test_logout_removes_stored_token(config_dir):
    auth.save_token(API, "tok-1", "cid")
    result = CliRunner().invoke(cli, ["logout", "--api-url", API])
    assert result.exit_code == 0
    assert "Signed out" in result.output
    assert auth.load_token(API) is None
    assert not (config_dir / "token.json").exists()


def test_remote_plain_http_rejected():
    result = CliRunner().invoke(
        cli, ["whoami", "--api-url", "http://example.com"], env={auth.TOKEN_ENV: "t"}
    )
    assert result.exit_code == 2
    assert "plain http:// is allowed only for a local emulator" in result.output


def test_real_api_needs_client_id():
    # Only the client is built: the id check fails before any request.
    result = CliRunner().invoke(
        cli, ["whoami", "--api-url", "https://api.simkl.com"], env={auth.TOKEN_ENV: "t"}
    )
    assert result.exit_code == 2
    assert "SIMKL_CLIENT_ID" in result.output
