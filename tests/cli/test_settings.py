"""Global settings end to end: credentials from firectl's auth.ini (``--profile``), and ``--max-rate`` everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from .clikit import ACCOUNT, API_KEY, Fwbatch

pytestmark = pytest.mark.timeout(120)

# Every command that talks to the API, each ending on its own against the test emulator.
API_COMMANDS = [
    ["status", "done-job"],
    ["logs", "done-job", "-n", "1"],
    ["logs", "-f", "done-job", "--lookback", "0.2"],
    ["watch", "done-job"],
    ["follow", "done-job", "--lookback", "0.2"],
]


def without_credentials(fwbatch: Fwbatch) -> Fwbatch:
    """The command with the emulator's address but neither key nor account in its environment."""
    unset = ("FIREWORKS_API_KEY", "FIREWORKS_ACCOUNT_ID")
    return Fwbatch({name: value for name, value in fwbatch.env.items() if name not in unset})


def write_auth_ini(fwbatch: Fwbatch, text: str, profile: str | None = None) -> None:
    base = Path(fwbatch.env["HOME"]) / ".fireworks"
    path = base / "auth.ini" if profile is None else base / "profiles" / profile / "auth.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


async def test_key_and_account_come_from_auth_ini_when_no_flag_or_variable_gives_them(fwbatch: Fwbatch) -> None:
    write_auth_ini(fwbatch, f"# written by firectl\napi_key = {API_KEY}\naccount_id = {ACCOUNT}\n")
    bare = without_credentials(fwbatch)
    result = await bare.run("status", "done-job")
    assert (result.code, result.err) == (0, "")
    assert "done-job" in result.out
    keyed = await bare.run("status", "done-job", FIREWORKS_API_KEY=API_KEY)  # the account alone from the file
    assert keyed.code == 0


async def test_the_environment_and_flags_come_before_auth_ini(fwbatch: Fwbatch) -> None:
    write_auth_ini(fwbatch, f"api_key = fw-from-the-file\naccount_id = {ACCOUNT}\n")
    assert (await fwbatch.run("status", "done-job")).code == 0  # the environment's key, not the file's
    wrong = await fwbatch.run("status", "done-job", FIREWORKS_API_KEY="fw-wrong")
    assert wrong.code == 3
    flagged = await fwbatch.run("--api-key", API_KEY, "status", "done-job", FIREWORKS_API_KEY="fw-wrong")
    assert flagged.code == 0


async def test_a_profile_reads_its_own_auth_ini_by_flag_or_variable(fwbatch: Fwbatch) -> None:
    write_auth_ini(fwbatch, f"api_key = fw-default-profile\naccount_id = {ACCOUNT}\n")
    write_auth_ini(fwbatch, f"api_key = {API_KEY}\naccount_id = {ACCOUNT}\n", profile="staging")
    bare = without_credentials(fwbatch)
    assert (await bare.run("status", "done-job")).code == 3  # the default profile's key is not the emulator's
    assert (await bare.run("--profile", "staging", "status", "done-job")).code == 0
    assert (await bare.run("status", "done-job", FIREWORKS_PROFILE="staging")).code == 0


async def test_a_profile_that_does_not_exist_is_a_usage_error(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("--profile", "prod", "status", "done-job")
    assert result.code == 2
    assert "--profile prod: no such profile" in result.err
    assert ".fireworks/profiles/prod/auth.ini" in result.err


@pytest.mark.parametrize("command", API_COMMANDS)
async def test_every_command_gives_the_client_the_max_rate(fwbatch: Fwbatch, command: list[str]) -> None:
    capped = await fwbatch.run("-vv", "--max-rate", "2.5", *command)
    assert capped.code == 0
    assert "fwbatch: debug: requests: at most 2.5 a second (--max-rate)\n" in capped.err  # the client's own rate
    unlimited = await fwbatch.run("-vv", "--max-rate", "0", *command)
    assert unlimited.code == 0
    assert "fwbatch: debug: requests: no ceiling (--max-rate)\n" in unlimited.err
    default = await fwbatch.run("-vv", *command)
    assert "fwbatch: debug: requests: at most 10 a second (--max-rate)\n" in default.err


async def test_a_negative_max_rate_is_a_usage_error(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("--max-rate", "-1", "status", "done-job")
    assert result.code == 2
    assert "--max-rate" in result.err


async def test_the_demo_gives_its_client_the_max_rate(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("-vv", "--max-rate", "40", "demo", "--speed", "600")
    assert result.code == 0
    assert "fwbatch: debug: requests: at most 40 a second (--max-rate)\n" in result.err
    assert "each exactly once" in result.out
