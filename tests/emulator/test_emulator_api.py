"""The Python side: lifecycle, ground truth, determinism, laziness and memory."""

from __future__ import annotations

import asyncio
import gc

import aiohttp
import pytest

from fwbatch_async.emulator import Emulator, Faults, JobSpec, LateLines, ManualClock, Realism, Scenario

T0 = 1_767_225_600 * 10**9
S = 10**9
DEMO_LIKE = Scenario(
    account="test-account",
    seed=42,
    jobs=[
        JobSpec(id="a", duration=300.0, lines_per_second=30.0, burst_every=50.0, duplicates=0.05),
        JobSpec(id="b", duration=200.0, outcome="FAILED", ranks=3, late=LateLines(fraction=0.2, max_delay=5.0)),
        JobSpec(id="c", duration=400.0, outcome="STUCK", start_after=20.0),
    ],
)


async def test_start_close_is_clean_and_idempotent() -> None:
    before = asyncio.all_tasks()
    emu = Emulator(DEMO_LIKE, clock=ManualClock())
    with pytest.raises(RuntimeError, match="not running"):
        _ = emu.base_url
    async with emu:
        assert emu.base_url == f"http://127.0.0.1:{emu.port}"
        assert emu.port > 0
        async with aiohttp.ClientSession() as session, session.get(emu.base_url + "/_emulator/stats") as reply:
            assert reply.status == 200
        with pytest.raises(RuntimeError, match="already running"):
            await emu.start()
    await emu.close()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{emu.port}/"):
            pass


async def test_close_with_a_keep_alive_connection_open() -> None:
    async with aiohttp.ClientSession() as session:
        async with Emulator(DEMO_LIKE, clock=ManualClock()) as emu, session.get(emu.base_url + "/x") as reply:
            assert reply.status == 404
        gc.collect()


def test_python_api_works_without_serving() -> None:
    clock = ManualClock()
    emu = Emulator(DEMO_LIKE, clock=clock, api_key="k")
    assert emu.account_id == "test-account"
    assert emu.api_key == "k"
    clock.advance(100)
    assert emu.job("a")["state"] == "JOB_STATE_RUNNING"
    assert emu.logs("a")
    later = Emulator(Scenario(jobs=[JobSpec(id="x", start_after=5.0)]), clock=ManualClock())
    with pytest.raises(ValueError, match="not created"):
        later.job("x")
    with pytest.raises(KeyError):
        emu.logs("nope")


def read_everything(clock_steps: list[float]) -> dict[str, list[tuple[str, int, str]]]:
    clock = ManualClock()
    emu = Emulator(DEMO_LIKE, clock=clock)
    for step in clock_steps:
        clock.advance(step)
        for job in ("a", "b"):
            emu.logs(job)
    return {job: emu.logs(job, include_pending=True) for job in ("a", "b", "c")}


def test_logs_depend_on_the_seed_not_on_how_the_clock_moved() -> None:
    one_jump = read_everything([500.0])
    small_steps = read_everything([0.37] * 200 + [7.3] * 50 + [500.0 - 0.37 * 200 - 7.3 * 50])
    assert one_jump == small_steps
    assert len(one_jump["a"]) > 5000
    other_seed = Emulator(Scenario(account="test-account", seed=43, jobs=DEMO_LIKE.jobs), clock=ManualClock())
    other_seed.clock.advance(500)
    assert other_seed.logs("a", include_pending=True) != one_jump["a"]


def test_logs_are_generated_lazily() -> None:
    clock = ManualClock()
    emu = Emulator(Scenario(jobs=[JobSpec(id="big", duration=10_000.0, lines_per_second=1000.0)]), clock=clock)
    assert emu.logs("big") == []
    clock.advance(1030)
    lines = emu.logs("big", include_pending=True)
    assert 0 < len(lines) < 40_000
    assert all(t <= "2026-01-01T00:17:10.000000000Z" for t, _, _ in lines)


def test_append_logs_in_any_order_and_visible_after() -> None:
    clock = ManualClock()
    emu = Emulator(Scenario(jobs=[JobSpec(id="j", generate_logs=False)]), clock=clock)
    emu.append_logs("j", [(T0 + 3 * S, 1, "third"), (T0 + 1 * S, 0, "first")])
    emu.append_logs("j", [(T0 + 2 * S, 2, "second")])
    emu.append_logs("j", [(T0 + 2 * S, 0, "second, later arrival")], visible_after=10.0)
    clock.advance(5)
    assert [m for _, _, m in emu.logs("j")] == ["first", "second", "third"]
    assert [m for _, _, m in emu.logs("j", include_pending=True)] == [
        "first",
        "second",
        "second, later arrival",
        "third",
    ]
    clock.advance(7)
    assert len(emu.logs("j")) == 4
    with pytest.raises(ValueError, match="negative"):
        emu.append_logs("j", [(T0, 0, "x")], visible_after=-1)


def test_append_logs_text_uses_the_fewest_allowed_digits() -> None:
    emu = Emulator(
        Scenario(jobs=[JobSpec(id="j", generate_logs=False)]),
        clock=ManualClock(),
        realism=Realism(fraction_digits={0, 3, 9}),
    )
    emu.append_logs("j", [(T0 - 3 * S, 0, "a"), (T0 - 2 * S + 5 * 10**6, 0, "b"), (T0 - S + 7, 0, "c")])
    assert [t for t, _, _ in emu.logs("j")] == [
        "2025-12-31T23:59:57Z",
        "2025-12-31T23:59:58.005Z",
        "2025-12-31T23:59:59.000000007Z",
    ]


def test_a_million_line_job_fits_in_little_memory() -> None:
    clock = ManualClock()
    job = JobSpec(id="big", duration=100.0, lines_per_second=2000.0, late=LateLines(fraction=0.0))
    emu = Emulator(Scenario(jobs=[job]), clock=clock)
    clock.advance(90)
    store = emu._simulation.find("big").store
    entries = emu.logs("big")
    assert len(entries) > 100_000
    message_bytes = sum(len(m.encode()) for _, _, m in entries) / len(entries)
    per_entry_beyond_message = store.nbytes() / len(store) - message_bytes
    assert per_entry_beyond_message < 120


async def test_an_emulator_can_be_started_again_after_closing() -> None:
    emu = Emulator(DEMO_LIKE, clock=ManualClock(), faults=Faults(slow_seconds=0.2))
    for _ in range(2):
        async with emu, aiohttp.ClientSession() as session:
            emu.faults.script("list", ["slow"])
            started = asyncio.get_running_loop().time()
            url = f"{emu.base_url}/v1/accounts/test-account/batchInferenceJobs"
            async with session.get(url, headers={"Authorization": "Bearer test-key"}) as reply:
                assert reply.status == 200
            assert asyncio.get_running_loop().time() - started >= 0.2
