"""The account's request cap: one token bucket over every endpoint, 429 with and without ``Retry-After`` (issue 19)."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from fwbatch_async.emulator import JobSpec, ManualClock, Scenario
from fwbatch_async.emulator.accountcap import AccountCap

from .conftest import Serve
from .test_faults import raw

SCENARIO = Scenario(account="test-account", jobs=[JobSpec(id="job-1", start_after=-100.0)])


async def test_the_cap_counts_every_endpoint_together_and_refuses_over_it(serve: Serve) -> None:
    api = await serve(SCENARIO, account_rpm=120.0)  # two a second
    paths = [api.job_path("job-1"), api.logs_path("job-1"), "/v1/accounts/test-account/batchInferenceJobs"]
    statuses: Counter[int] = Counter()
    retry_afters: list[str | None] = []
    for second in range(30):
        for path in paths * 2:  # six a second, over three endpoints
            status, headers, body = await raw(api, path)
            statuses[status] += 1
            if status == 429:
                assert b"RATE_LIMIT_EXCEEDED" in body
                retry_afters.append(headers.get("Retry-After"))
        api.emu.clock.advance(1.0)
        assert api.emu.stats.per_second[second] == 6
    assert statuses[200] == 2 + 2 * 29  # the first second's burst, then two a second
    assert statuses[429] == api.emu.stats.capped == 180 - statuses[200]
    assert sum(api.emu.stats.capped_per_second.values()) == api.emu.stats.capped
    waits = [value for value in retry_afters if value is not None]
    assert waits
    assert len(waits) < len(retry_afters)  # some say how long to wait, some do not
    assert {int(value) for value in waits} == {1}  # a token comes every half second: a wait of a second at most


async def test_a_cap_changed_while_running_applies_at_once(serve: Serve) -> None:
    api = await serve(SCENARIO, account_rpm=60.0)
    assert api.emu.account_cap is not None
    api.emu.account_cap.per_minute = 600.0  # ten a second
    api.emu.clock.advance(1.0)
    statuses = [(await raw(api, api.job_path("job-1")))[0] for _ in range(12)]
    assert statuses.count(200) == 10


async def test_without_a_cap_nothing_is_refused(serve: Serve) -> None:
    api = await serve(SCENARIO)
    assert api.emu.account_cap is None
    statuses = {(await raw(api, api.job_path("job-1")))[0] for _ in range(50)}
    assert statuses == {200}


def test_the_wait_named_is_the_time_until_a_request_would_pass() -> None:
    cap = AccountCap(per_minute=6.0, retry_after_share=1.0)  # one every ten seconds
    assert cap.admit(0.0) is None
    assert cap.admit(0.0) == 10
    assert cap.admit(7.5) == math.ceil(2.5)
    assert cap.admit(10.0) is None


@pytest.mark.parametrize("per_minute", [0.0, -1.0, math.inf, math.nan])
def test_a_cap_that_is_not_a_positive_rate_is_refused(per_minute: float) -> None:
    with pytest.raises(ValueError, match="positive number of requests a minute"):
        AccountCap(per_minute)
    cap = AccountCap(60.0)
    with pytest.raises(ValueError, match="positive number of requests a minute"):
        cap.per_minute = per_minute


class SpedUpClock(ManualClock):
    """A manual clock that says it runs 60 times faster than real time, as ``ScaledClock(speed=60)`` does."""

    speed = 60.0


async def test_the_cap_counts_real_time_on_a_sped_up_emulator(serve: Serve) -> None:
    """Speed is for the jobs' lives: a client sends in real time, and the account's cap counts in real time."""
    api = await serve(SCENARIO, account_rpm=60.0, clock=SpedUpClock())  # one a real second
    assert (await raw(api, api.job_path("job-1")))[0] == 200
    api.emu.clock.advance(30.0)  # half a real second
    assert (await raw(api, api.job_path("job-1")))[0] == 429
    api.emu.clock.advance(30.0)
    assert (await raw(api, api.job_path("job-1")))[0] == 200
    assert api.emu.stats.per_second == {0: 2, 1: 1}
