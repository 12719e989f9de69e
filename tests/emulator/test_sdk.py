"""The official ``fireworks-ai`` SDK, with strict response validation, reads every job the emulator serves (issue 16).

The SDK's generated models are the published schema: a field of the wrong type, or a state it does not list, fails
its validation. Each job is read at every phase of its life (every outcome, a wait on capacity, an expiry), the listing
once all have ended, and one job again after the SDK deleted it.
"""

from __future__ import annotations

import pytest
from fireworks import APIResponseValidationError, AsyncFireworks

from fwbatch_async.emulator import JobSpec, ManualClock, Realism, Scenario

from .conftest import Serve

OUTCOMES = ("COMPLETED", "FAILED", "EXPIRED", "CANCELLED", "STUCK", "VALIDATION_FAILED", "NO_CAPACITY")
DURATION = 100.0


@pytest.fixture
def scenario() -> Scenario:
    return Scenario(
        account="sdk-account",
        jobs=[
            *(JobSpec(id=f"job-{outcome.lower()}", outcome=outcome, duration=DURATION) for outcome in OUTCOMES),
            JobSpec(id="job-waits", duration=DURATION, capacity_wait=20.0, max_job_duration=90.0, system_prompt="Hi."),
        ],
    )


async def test_every_job_at_every_phase_passes_the_sdks_strict_validation(serve: Serve, scenario: Scenario) -> None:
    clock = ManualClock()
    api = await serve(scenario, clock=clock)
    emulator = api.emu
    seen_states: set[str] = set()
    async with AsyncFireworks(
        api_key="test-key", account_id=emulator.account_id, base_url=emulator.base_url, _strict_response_validation=True
    ) as sdk:
        for _ in range(24):  # every 5 % of a job's life, and past its end
            for spec in scenario.jobs:
                job = await sdk.batch_inference_jobs.get(spec.id)
                assert job.name == f"accounts/sdk-account/batchInferenceJobs/{spec.id}"
                seen_states.add(str(job.state))
            clock.advance(DURATION / 20)
        listed = [job.name async for job in sdk.batch_inference_jobs.list()]
        assert len(listed) == len(scenario.jobs)
        await sdk.batch_inference_jobs.delete("job-completed")  # the SDK reads the live answer, {}
        deleting = await sdk.batch_inference_jobs.get("job-completed")
        seen_states.add(str(deleting.state))
    assert {"JOB_STATE_RUNNING", "JOB_STATE_COMPLETED", "JOB_STATE_FAILED", "JOB_STATE_EXPIRED"} <= seen_states
    assert "JOB_STATE_DELETING_CLEANING_UP" in seen_states


async def test_the_validation_is_strict_a_state_the_sdk_does_not_list_fails_it(serve: Serve) -> None:
    clock = ManualClock()
    spec = JobSpec(id="job-1", duration=DURATION)
    api = await serve(Scenario(account="sdk-account", jobs=[spec]), clock=clock, realism=Realism(unknown_state=True))
    emulator = api.emu
    async with AsyncFireworks(
        api_key="test-key", account_id=emulator.account_id, base_url=emulator.base_url, _strict_response_validation=True
    ) as sdk:
        for _ in range(20):
            clock.advance(DURATION / 40)
            try:
                await sdk.batch_inference_jobs.get("job-1")
            except APIResponseValidationError:
                return
    pytest.fail("the SDK never refused JOB_STATE_WARMING_UP: its validation is not strict")
