"""What live jobs do, against the emulator's live defaults (issue 16): wait for capacity, get deleted, run on a batch
job of their own. Over real HTTP, in virtual time (see jobworld.py)."""

from __future__ import annotations

import asyncio

import pytest
from jobworld import job, world

import fwbatch_async as fw


async def test_a_pending_timeout_gives_up_on_a_job_that_never_gets_capacity() -> None:
    async with world([job("j", "NO_CAPACITY")]) as (_, client):
        with pytest.raises(fw.PendingTimeoutError) as raised:
            await client.wait_for_job("j", pending_timeout=600, timeout=3600)
    assert raised.value.job is not None
    assert (raised.value.job.state, raised.value.job.waiting_on_capacity) == (fw.JobState.PENDING, True)
    assert "waiting on capacity" in str(raised.value)


async def test_a_pending_timeout_does_not_cut_a_job_that_got_capacity_in_time_and_runs_longer() -> None:
    async with world([job("j", capacity_wait=300.0, duration=900.0)]) as (_, client):
        finished = await client.wait_for_job("j", pending_timeout=600, stall_after=120)
    assert finished.state is fw.JobState.COMPLETED


async def test_a_watch_reports_the_wait_for_capacity_and_never_calls_it_a_stall() -> None:
    async with world([job("j", capacity_wait=600.0)]) as (_, client):
        updates = [update async for update in client.watch_job("j", stall_after=60)]
    assert updates[-1].state is fw.JobState.COMPLETED
    waiting = [update for update in updates if update.job.waiting_on_capacity]
    assert waiting
    assert all(fw.Change.STALLED not in update.changes for update in updates)
    assert any(fw.Change.CAPACITY in update.changes for update in updates)


async def test_a_job_deleted_while_followed_ends_deleted_and_its_log_stream_ends_without_an_error() -> None:
    async with world([job("j", duration=600.0)]) as (emu, client), client.follow_job("j", from_start=True) as events:
        ends, lines = [], 0
        async for event in events:
            if isinstance(event, fw.LogLine):
                lines += 1
                if lines == 50:
                    emu.delete_job("j")
            elif isinstance(event, fw.JobEnded):
                ends.append(event)
    [end] = ends
    assert end.error is None
    assert end.job is not None
    assert end.job.state in {fw.JobState.DELETING_CLEANING_UP, fw.JobState.DELETED}
    assert lines >= 50


async def test_a_wait_for_a_job_deleted_meanwhile_returns_it_deleted() -> None:
    async with world([job("j", duration=600.0)]) as (emu, client):
        waiting = asyncio.ensure_future(client.wait_for_job("j", raise_on_failure=False))
        await client.get_batch_inference_job("j")  # it exists
        emu.delete_job("j")
        finished = await waiting
    assert finished.state.is_gone


async def test_a_job_gone_between_two_reads_of_a_watch_ends_it_deleted_with_the_servers_message() -> None:
    async with world([job("j", duration=600.0)]) as (emu, client):
        updates = []
        async for update in client.watch_job("j"):
            updates.append(update)
            if len(updates) == 1:
                emu.delete_job("j")
                await emu.clock.sleep(30.0)  # the watch reads nothing meanwhile: the cleanup is over by its next read
    assert [update.state for update in updates] == [fw.JobState.VALIDATING, fw.JobState.DELETED]
    assert updates[-1].job.status == fw.Status("NOT_FOUND", "resource not found")


async def test_the_batch_job_behind_the_logs_is_read_by_either_name() -> None:
    async with world([job("j")]) as (emu, client):
        by_id = await client.get_batch_job("j")
        by_name = await client.get_batch_job(by_id.name)
        page = await client.get_batch_job_logs(by_id.name, page_size=5)
    assert by_id == by_name
    assert by_id.name == emu.batch_job("j")["name"]
    assert by_id.cluster_id
    assert by_id.num_ranks == 4
    assert len(page.entries) <= 5


async def test_a_pending_timeout_met_by_every_job_does_not_hold_a_wait_for_many_past_it() -> None:
    jobs = [job(f"j{n}", duration=600.0) for n in range(40)]  # 40 jobs at 10 requests/s: turns to send are waited for
    async with world(jobs) as (_, client):
        # Before the fix, the pending deadline stayed the turn's deadline after the jobs ran: the wait never ended.
        finished = await client.wait_for_jobs([spec.id for spec in jobs], pending_timeout=300)
    assert {job.state for job in finished.values()} == {fw.JobState.COMPLETED}
