"""The pytest plugin, run in a separate pytest process as a user would."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

USER_TESTS = """
import aiohttp
import pytest

from fwbatch_async.emulator import JobSpec, Scenario


async def test_default_fixture(fwbatch_emulator):
    emu = fwbatch_emulator
    assert emu.account_id == "test-account"
    emu.clock.advance(120)
    url = f"{emu.base_url}/v1/accounts/{emu.account_id}/batchInferenceJobs/job-1"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Authorization": f"Bearer {emu.api_key}"}) as reply:
            assert reply.status == 200
            assert (await reply.json())["state"] == "JOB_STATE_RUNNING"


def test_not_using_the_fixture():
    assert True
"""

OVERRIDE_TESTS = """
import pytest

from fwbatch_async.emulator import Faults, JobSpec, Scenario


@pytest.fixture
def fwbatch_emulator_scenario():
    return Scenario(account="acme", jobs=[JobSpec(id="nightly", outcome="FAILED", duration=10.0)])


@pytest.fixture
def fwbatch_emulator_options():
    return {"api_key": "secret", "faults": Faults(rate=1.0, kinds={"503": 1.0})}


async def test_overridden(fwbatch_emulator):
    assert fwbatch_emulator.account_id == "acme"
    assert fwbatch_emulator.api_key == "secret"
    assert fwbatch_emulator.faults.rate == 1.0
    fwbatch_emulator.clock.advance(11)
    assert fwbatch_emulator.job("nightly")["state"] == "JOB_STATE_FAILED"
"""


def run_pytest(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text(INI)
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    # Load the plugin by module name, and block the entry point in case the package is installed with it.
    args = ["-p", "no:cacheprovider", "-p", "no:fwbatch_emulator", "-p", "fwbatch_async.emulator.pytest_plugin"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_fixture_serves_and_can_be_customised(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, {"test_user.py": USER_TESTS, "test_override.py": OVERRIDE_TESTS})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_importing_the_plugin_does_not_import_the_emulator() -> None:
    code = (
        "import sys, fwbatch_async.emulator.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith('fwbatch_async.emulator.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "['fwbatch_async.emulator.pytest_plugin']"
