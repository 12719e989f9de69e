"""Relative times (``--since 2s``, AGE) count on the server's clock: the test emulator's stands months behind ours."""

from __future__ import annotations

import json

import pytest

from fwbatch_async.emulator import Emulator, ManualClock

from .clikit import Fwbatch

pytestmark = pytest.mark.timeout(120)

NS = 1_000_000_000


@pytest.mark.parametrize("command", [["logs", "done-job"], ["logs", "-f", "done-job"], ["follow", "done-job"]])
async def test_since_a_duration_counts_back_from_the_servers_now(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock], command: list[str]
) -> None:
    now = fwbatch_emulator.clock.time_ns()
    fwbatch_emulator.append_logs("done-job", [(now - 5 * NS, 0, "five seconds ago"), (now - NS, 1, "a second ago")])
    result = await fwbatch.run(*command, "--since", "3s", "--json", "--lookback", "0.2")
    assert (result.code, result.err) == (0, "")
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [line["message"] for line in lines if line.get("event", "log") == "log"] == ["a second ago"]


async def test_age_counts_on_the_servers_clock(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("status", "done-job")
    header, row = result.out.splitlines()
    assert header.split()[-2:] == ["AGE", "EXPIRES"]
    assert row.split()[-2] == "6m"  # created 401 s before the emulator's now
