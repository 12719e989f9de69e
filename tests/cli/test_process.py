"""How the command ends as a process: a closed pipe, Ctrl-C, and the emulator it serves in the foreground."""

from __future__ import annotations

import asyncio
import json
import shlex
import signal
import subprocess
import sys

import pytest
from testkit import read_exports

from fwbatch_async.emulator import Emulator, ManualClock

from .clikit import DEADLINE, FWBATCH, Fwbatch

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("follow", [[], ["-f", "--lookback", "0.2"]])
async def test_a_closed_pipe_ends_it_quietly(fwbatch: Fwbatch, follow: list[str]) -> None:
    command = (
        f"{shlex.quote(str(FWBATCH))} logs done-job {' '.join(follow)} | head -n 1; echo $? ${{PIPESTATUS[0]}} >&2"
    )
    shell = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=fwbatch.env,
    )
    out, err = await asyncio.wait_for(shell.communicate(), DEADLINE)
    assert out.decode().startswith("[")
    assert out.count(b"\n") == 1
    assert err.decode() == "0 0\n"  # head's status, then fwbatch's: nothing else on stderr


async def test_ctrl_c_while_following_exits_130_without_a_traceback(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    fwbatch_emulator.clock.advance(120)
    process = await fwbatch.start("logs", "-f", "running-job")
    assert process.stdout is not None
    assert (await process.stdout.readline()).startswith(b"[")
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), DEADLINE)
    assert process.returncode == 130
    assert err == b""


async def test_the_emulator_command_serves_until_ctrl_c(fwbatch: Fwbatch) -> None:
    emulator = await fwbatch.start("emulator", "--port", "0", "--scenario", "small", "--api-key", "local-key")
    assert emulator.stdout is not None
    printed = [(await emulator.stdout.readline()).decode()]
    while not printed[-1].startswith("Press Ctrl-C"):
        printed.append((await emulator.stdout.readline()).decode())
    exports = read_exports(printed)
    try:
        status = await fwbatch.run("status", "job-1", "--json", **exports)
    finally:
        emulator.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(emulator.communicate(), DEADLINE)
    assert (status.code, status.err) == (0, "")
    assert json.loads(status.out)[0]["name"] == "accounts/test-account/batchInferenceJobs/job-1"
    assert (emulator.returncode, err) == (0, b"")


async def test_the_emulator_command_rejects_a_bad_fault_spec(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("emulator", "--port", "0", "--faults", "teapot=1")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert "teapot" in result.err


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["status", "--help"], ["logs", "--help"]])
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    """``fwbatch --help`` answers in well under 0.3 s: no HTTP stack, no rich, no emulator, no client (issue 18)."""
    heavy = ("aiohttp", "rich", "fwbatch_async.emulator", "fwbatch_async.client", "fwbatch_async._core.models")
    code = (
        "import sys\n"
        "from fwbatch_async.cli import main\n"
        f"try:\n    main({args!r}, prog_name='fwbatch')\nexcept SystemExit:\n    pass\n"
        f"print([name for name in {heavy!r} if name in sys.modules], file=sys.stderr)\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=DEADLINE)
    assert ran.stdout  # the help or the version
    assert ran.stderr == "[]\n"


async def test_the_emulator_help_names_every_built_in_scenario(fwbatch: Fwbatch) -> None:
    from fwbatch_async.emulator.named import NAMED_SCENARIOS  # noqa: PLC0415

    result = await fwbatch.run("emulator", "--help")
    assert f"({', '.join(sorted(NAMED_SCENARIOS))})" in " ".join(result.out.split())
