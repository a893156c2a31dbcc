"""`simkl-import verify` against the emulator: exit codes and report lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from importer import auth
from importer.cli import cli
from importer.client import SimklClient

emulator_testing = pytest.importorskip("importer.emulator.testing")

CATALOG = {
    "movies": [
        {"title": "Heat", "year": 1995, "ids": {"simkl": 101, "tmdb": 949}},
        {"title": "Ronin", "year": 1998, "ids": {"simkl": 102, "tmdb": 8195}},
    ],
}

EXPORT = """title,year,type,tmdb_id,watched_at
Heat,1995,movie,949,2020-01-01T20:00:00Z
Heat,1995,movie,949,2021-01-01T20:00:00Z
Ronin,1998,movie,8195,2020-06-01T20:00:00Z
"""


@pytest.fixture(autouse=True)
def environment(tmp_path, monkeypatch):
    monkeypatch.setenv(auth.CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("SIMKL_IMPORT_NOW", "2026-09-01T12:00:00Z")
    monkeypatch.delenv("SIMKL_API_URL", raising=False)
    monkeypatch.delenv("SIMKL_CLIENT_ID", raising=False)


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return path


def write(client: SimklClient, tmdb: int, when: str, rewatch: bool) -> None:
    movie = {"ids": {"tmdb": tmdb}, "watched_at": when}
    if rewatch:
        movie["is_rewatch"] = True
    client.add_history({"movies": [movie]}, allow_rewatch=rewatch)


def run_verify(emu, token: str, export, *extra: str) -> object:
    args = ["verify", str(export), "--format", "generic", "--api-url", emu.base_url]
    return CliRunner().invoke(cli, [*args, "-q", *extra], env={auth.TOKEN_ENV: token})


def test_verify_all_present_exits_0(export):
    with emulator_testing.running_emulator(CATALOG) as emu:
        token = emu.issue_token()
        client = SimklClient(emu.base_url, None, token, max_post_rate=1000.0)
        write(client, 949, "2020-01-01T20:00:00Z", rewatch=False)
        write(client, 949, "2021-01-01T20:00:00Z", rewatch=True)
        write(client, 8195, "2020-06-01T20:00:00Z", rewatch=False)
        result = run_verify(emu, token, export)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        "verified: all 3 intended viewings are on Simkl exactly once."
    )


def test_verify_missing_rewatch_exits_1(export):
    with emulator_testing.running_emulator(CATALOG) as emu:
        token = emu.issue_token()
        client = SimklClient(emu.base_url, None, token, max_post_rate=1000.0)
        write(client, 949, "2020-01-01T20:00:00Z", rewatch=False)
        write(client, 8195, "2020-06-01T20:00:00Z", rewatch=False)
        result = run_verify(
            emu, token, export, "--json", str(export.with_suffix(".json"))
        )
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert any(
        line.startswith("missing: Heat (1995) watched 2021-01-01T20:00:00Z (rewatch)")
        and "row 3" in line
        for line in lines
    ), lines
    assert (
        lines[-1]
        == "1 of 3 intended viewings differ: 1 missing, 0 stored more than once."
    )
    document = json.loads(export.with_suffix(".json").read_text(encoding="utf-8"))
    assert document["checked"] == 3
    assert document["ok"] is False
    assert len(document["differences"]) == 1
    difference = document["differences"][0]
    assert difference["problem"] == "missing"
    assert difference["watched_at"] == "2021-01-01T20:00:00Z"
    assert difference["source_row"] == 3
    assert difference["kind"] == "rewatch"


def test_verify_free_tier_expects_canonical_only(export):
    with emulator_testing.running_emulator(CATALOG, tier="free") as emu:
        token = emu.issue_token()
        client = SimklClient(emu.base_url, None, token, max_post_rate=1000.0)
        write(client, 949, "2020-01-01T20:00:00Z", rewatch=False)
        write(client, 8195, "2020-06-01T20:00:00Z", rewatch=False)
        result = run_verify(emu, token, export)
    assert result.exit_code == 0, result.output
    assert "all 2 intended viewings" in result.output


def test_verify_bad_export_exits_2(tmp_path):
    missing = tmp_path / "nope.csv"
    result = CliRunner().invoke(
        cli, ["verify", str(missing), "--api-url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 2
    assert "nope.csv" in result.output
    assert "Traceback" not in result.output


def test_apply_then_verify_round_trip(export, tmp_path):
    apply_args = ["apply", str(export), "--format", "generic", "--yes", "-q"]
    apply_args += ["--journal", str(tmp_path / "journal.sqlite"), "--max-rate", "50"]
    with emulator_testing.running_emulator(CATALOG) as emu:
        token = emu.issue_token()
        env = {auth.TOKEN_ENV: token}
        applied = CliRunner().invoke(
            cli, [*apply_args, "--api-url", emu.base_url], env=env
        )
        clean = run_verify(emu, token, export)
        client = SimklClient(emu.base_url, None, token, max_post_rate=1000.0)
        client.post("/sync/history/remove", json={"movies": [{"ids": {"tmdb": 8195}}]})
        removed = run_verify(emu, token, export)
    assert applied.exit_code == 0, applied.output
    assert clean.exit_code == 0, clean.output
    assert "all 3 intended viewings" in clean.output
    assert removed.exit_code == 1, removed.output
    lines = removed.output.strip().splitlines()
    assert lines[0].startswith("missing: Ronin (1998) watched 2020-06-01T20:00:00Z")
    assert (
        lines[-1]
        == "1 of 3 intended viewings differ: 1 missing, 0 stored more than once."
    )


SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared samples not present")
def test_trakt_sample_round_trip(tmp_path):
    export = str(SAMPLES / "trakt-history")
    options = ["--timezone", "UTC", "-q"]
    with emulator_testing.running_emulator({}, auto_catalog=True) as emu:
        env = {auth.TOKEN_ENV: emu.issue_token()}
        url = ["--api-url", emu.base_url]
        journal = ["--journal", str(tmp_path / "journal.sqlite"), "--max-rate", "50"]
        applied = CliRunner().invoke(
            cli, ["apply", export, *url, *options, *journal, "--yes"], env=env
        )
        verified = CliRunner().invoke(cli, ["verify", export, *url, *options], env=env)
    assert applied.exit_code == 0, applied.output
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("verified: all ")


def test_unmatched_rows_fail_verify(tmp_path):
    path = tmp_path / "history.csv"
    unmatched = "Nowhere Film,1999,movie,,2020-03-01T20:00:00Z\n"
    path.write_text(EXPORT + unmatched, encoding="utf-8")
    with emulator_testing.running_emulator(CATALOG, rate_limit=False) as emu:
        token = emu.issue_token()
        client = SimklClient(emu.base_url, emu.client_id, token, max_post_rate=100)
        with client:
            write(client, 949, "2020-01-01T20:00:00Z", rewatch=False)
            write(client, 949, "2021-01-01T20:00:00Z", rewatch=True)
            write(client, 8195, "2020-06-01T20:00:00Z", rewatch=False)
        result = run_verify(emu, token, path)
    assert result.exit_code == 1
    assert "not matched (not_found): Nowhere Film (1999)" in result.stdout
    assert "all 3 matched viewings are on Simkl exactly once." in result.stdout
