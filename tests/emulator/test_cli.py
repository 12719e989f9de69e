"""``python -m fwbatch_async.emulator`` in a subprocess: prints how to connect, serves, exits quietly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from testkit import read_exports

from fwbatch_async.emulator import Emulator, Faults, JobSpec, ManualClock, Realism, Scenario
from fwbatch_async.emulator.cli import connection_text

from . import schemas


def start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "fwbatch_async.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    return process, read_exports(process.stdout)


def get(url: str, key: str | None, *, complete: bool = True) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, body = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        status, body = error.code, json.loads(error.read())
    if status != 200:
        schema = schemas.error_schema(status)
    elif url.endswith(":getLogs"):
        schema = schemas.logs_response_schema()
    elif url.endswith("/batchInferenceJobs"):
        schema = schemas.list_response_schema()
    else:
        schema = schemas.job_schema(int64_strings=True, complete=complete)
    schemas.validate(body, schema)
    return status, body


def test_serves_the_demo_and_exits_quietly_on_ctrl_c() -> None:
    process, exports = start("--scenario", "demo", "--speed", "60", "--api-key", "KEY", "--faults", "429=0.0")
    try:
        assert exports["FIREWORKS_API_KEY"] == "KEY"
        assert exports["FIREWORKS_ACCOUNT_ID"] == "demo-account"
        base = exports["FIREWORKS_BASE_URL"]
        assert base.startswith("http://127.0.0.1:")
        status, body = get(f"{base}/v1/accounts/demo-account/batchInferenceJobs", "KEY")
        assert status == 200
        assert body["totalSize"] == 3
        status, body = get(f"{base}/v1/accounts/demo-account/batchJobs/demo-summaries:getLogs", "KEY")
        assert status == 200
        assert get(f"{base}/v1/accounts/demo-account/batchInferenceJobs", None)[0] == 403
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert out == ""
    assert err == ""


def test_serves_a_scenario_file_and_stops_on_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps(Scenario(account="acme", jobs=[JobSpec(id="nightly")]).to_json()))
    process, exports = start("--scenario", str(path), "--realism", "int64_as_strings,omit_defaults,auth_401")
    try:
        url = exports["FIREWORKS_BASE_URL"] + "/v1/accounts/acme/batchInferenceJobs/nightly"
        status, body = get(url, "emulator-key", complete=False)
        assert status == 200
        assert body["name"] == "accounts/acme/batchInferenceJobs/nightly"
        assert "jobProgress" not in body  # omit_defaults: no null sub-object
        assert get(url, "wrong", complete=False)[0] == 401
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert err == ""


async def test_the_banner_says_which_wire_it_serves() -> None:
    async with (
        Emulator(clock=ManualClock()) as live,
        Emulator(clock=ManualClock(), realism=Realism.parse("all")) as odd,
    ):
        assert "  quirks:     none: the live wire\n  faults:     none\n  cap:        none\n" in connection_text(
            live, "x"
        )
        assert f"  quirks:     {Realism.all().to_text()} (--realism)\n" in connection_text(odd, "x")


async def test_the_banner_says_which_faults_and_which_cap_are_on() -> None:
    faults = Faults.parse("429=0.05,503=0.02,reset=0.01")
    async with Emulator(clock=ManualClock(), faults=faults, account_rpm=600) as emulator:
        text = connection_text(emulator, "x")
    assert "  faults:     429=0.05,503=0.02,reset=0.01 (--faults)\n" in text
    assert "  cap:        600 requests a minute (--account-rpm)\n" in text


def test_fwbatch_emulator_prints_the_banner_with_what_is_on() -> None:
    args = ["--faults", "429=0.05,reset=0.01", "--realism", "omit_defaults", "--account-rpm", "600"]
    process = subprocess.Popen(
        [sys.executable, "-m", "fwbatch_async.cli", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    banner: list[str] = []
    try:
        for line in process.stdout:  # up to the last line of the banner; the emulator serves on
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert process.returncode == 0
    assert banner[1:4] == [
        "  quirks:     omit_defaults (--realism)\n",
        "  faults:     429=0.05,reset=0.01 (--faults)\n",
        "  cap:        600 requests a minute (--account-rpm)\n",
    ]


@pytest.mark.parametrize("args", [["--scenario", "no-such-file.json"], ["--faults", "teapot=1"], ["--realism", "loud"]])
def test_bad_arguments_exit_2_with_a_message(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fwbatch_async.emulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert result.stdout == ""
