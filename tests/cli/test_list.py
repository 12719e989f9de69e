"""``fwbatch list`` end to end: which jobs, in which order, how many and in which form, against the emulator."""

from __future__ import annotations

import json

import pytest

from fwbatch_async.emulator import Emulator, ManualClock

from .clikit import Fwbatch

pytestmark = pytest.mark.timeout(120)

ALL_JOBS = ["done-job", "failed-job", "running-job"]


def ids_in_table(out: str) -> list[str]:
    header, *rows = out.splitlines()
    assert header.split()[:2] == ["JOB", "STATE"]
    return [row.split()[0] for row in rows]


def newest_first(emulator: Emulator[ManualClock], job_ids: list[str]) -> list[str]:
    return sorted(job_ids, key=lambda job_id: emulator.job(job_id)["createTime"], reverse=True)


async def test_list_shows_every_job_of_the_account_newest_first(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    result = await fwbatch.run("list")
    assert (result.code, result.err) == (0, "")
    assert ids_in_table(result.out) == newest_first(fwbatch_emulator, ALL_JOBS)
    states = {row.split()[0]: row.split()[1] for row in result.out.splitlines()[1:]}
    assert states["done-job"] == "COMPLETED"
    assert states["failed-job"] == "FAILED"
    assert "rank 1 ran out of memory" not in result.out  # why a job failed is for `status`
    assert (await fwbatch.run("ls")).out == result.out  # the alias


async def test_order_by_is_the_apis(fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]) -> None:
    result = await fwbatch.run("list", "--order-by", "create_time")
    assert result.code == 0
    assert ids_in_table(result.out) == newest_first(fwbatch_emulator, ALL_JOBS)[::-1]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["--state", "completed"], ["done-job"]),  # one state: the server's filter
        (["--state", "completed,FAILED"], ["done-job", "failed-job"]),
        (["--state", "JOB_STATE_FAILED", "--state", "Completed"], ["done-job", "failed-job"]),
        (["--filter", 'state = "JOB_STATE_FAILED"'], ["failed-job"]),
        (["--filter", 'state = "JOB_STATE_FAILED"', "--state", "failed,completed"], ["failed-job"]),
    ],
)
async def test_state_and_filter_choose_the_jobs(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock], states: list[str], expected: list[str]
) -> None:
    result = await fwbatch.run("list", *states)
    assert (result.code, result.err) == (0, "")
    assert ids_in_table(result.out) == newest_first(fwbatch_emulator, expected)


async def test_json_is_each_job_as_the_emulator_serves_it_and_wide_adds_tokens_and_model(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    result = await fwbatch.run("list", "-o", "json")
    assert (result.code, result.err) == (0, "")
    jobs = json.loads(result.out)
    by_id = {job["name"].rsplit("/", 1)[-1]: job for job in jobs}
    assert list(by_id) == newest_first(fwbatch_emulator, ALL_JOBS)
    for job_id, job in by_id.items():
        served = fwbatch_emulator.job(job_id)
        assert (job["name"], job["state"], job["model"]) == (served["name"], served["state"], served["model"])
    assert (await fwbatch.run("list", "--json")).out == result.out

    wide = await fwbatch.run("list", "-o", "wide")
    assert wide.out.splitlines()[0].split()[5:8] == ["TOKENS", "IN/OUT", "MODEL"]


async def test_limit_shows_the_newest_and_says_more_were_left_out(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    result = await fwbatch.run("list", "--limit", "2")
    assert result.code == 0
    assert ids_in_table(result.out) == newest_first(fwbatch_emulator, ALL_JOBS)[:2]
    assert result.err == "fwbatch: more jobs than the 2 shown: --limit N shows N, --limit 0 all\n"

    exact = await fwbatch.run("list", "--limit", "3")
    everything = await fwbatch.run("list", "--limit", "0")
    assert (exact.err, everything.err) == ("", "")
    assert ids_in_table(everything.out) == ids_in_table(exact.out) == newest_first(fwbatch_emulator, ALL_JOBS)


async def test_no_job_selected_is_said_on_stderr_and_is_an_empty_array_in_json(fwbatch: Fwbatch) -> None:
    table = await fwbatch.run("list", "--state", "expired")
    assert (table.code, table.out, table.err) == (0, "", "fwbatch: no jobs found\n")
    as_json = await fwbatch.run("list", "--state", "expired", "-o", "json")
    assert (as_json.code, json.loads(as_json.out), as_json.err) == (0, [], "")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["list", "--state", "bogus"], 2, "unknown job state 'bogus'"),
        (["list", "--limit", "-1"], 2, "--limit"),
        (["list", "-o", "yaml"], 2, "--output"),
        (["list", "--filter", "display_name = 'x'"], 3, "HTTP 400 INVALID_ARGUMENT"),  # the emulator's filters: state
        (["list", "--order-by", "name"], 3, "HTTP 400 INVALID_ARGUMENT"),
    ],
)
async def test_bad_usage_exits_2_and_a_filter_the_api_refuses_3(
    fwbatch: Fwbatch, args: list[str], code: int, message: str
) -> None:
    result = await fwbatch.run(*args)
    assert (result.code, result.out) == (code, "")
    assert message in result.err
    assert "Traceback" not in result.err


async def test_listing_needs_an_account(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("list", FIREWORKS_ACCOUNT_ID="")
    assert result.code == 2
    assert result.err == (
        "fwbatch: error: listing jobs needs an account: pass --account or set FIREWORKS_ACCOUNT_ID "
        "(or account_id in ~/.fireworks/auth.ini)\n"
    )
