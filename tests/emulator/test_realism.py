"""Every wire realism switch, observed over raw HTTP."""

from __future__ import annotations

import re
from collections import Counter

import jsonschema
import pytest

from fwbatch_async.emulator import JobSpec, LateLines, Realism, Scenario

from . import schemas
from .conftest import Serve
from .helpers import ns_of
from .test_jobs import distinct

FINISHED = JobSpec(id="done", duration=100.0, start_after=-150.0, lines_per_second=40.0, burst_every=30.0)


def scenario(*jobs: JobSpec) -> Scenario:
    return Scenario(account="test-account", seed=11, jobs=jobs or (FINISHED,))


async def test_int64_as_strings_is_a_hostile_switch(serve: Serve) -> None:
    api = await serve(scenario(), realism=Realism(int64_as_strings=True))
    progress = (await api.job("done")).data["jobProgress"]
    for name in schemas.INT64_PROGRESS:
        if name in progress:
            assert isinstance(progress[name], str)
            assert re.fullmatch(r"[0-9]+", progress[name])
    assert progress["totalInputRequests"] == "1000"
    assert progress["percent"] == 100
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate((await api.job("done")).data, schemas.job_schema(int64_strings=False))
    listed = (await api.list_jobs()).data["batchInferenceJobs"][0]
    assert listed["jobProgress"]["totalProcessedRequests"] == "1000"


async def test_int64_are_numbers_by_default(serve: Serve) -> None:
    api = await serve(scenario())
    progress = (await api.job("done")).data["jobProgress"]
    assert all(isinstance(value, int) for value in progress.values())


async def test_all_fraction_digit_counts_are_used_and_exact(serve: Serve) -> None:
    api = await serve(scenario(), realism=Realism(fraction_digits={0, 3, 6, 9}))
    entries, _ = await api.read_all("done", {"pageSize": "1000", "startFromHead": "true"})
    digits = Counter(len(m.group(1) or "") for t, _, _ in entries if (m := re.search(r"(?:\.(\d+))?Z$", t)))
    assert set(digits) == {0, 3, 6, 9}
    times = [ns_of(t) for t, _, _ in entries]
    assert times == sorted(times)
    truth = api.emu.logs("done")
    assert entries == truth
    # A time written with n digits is a whole multiple of 10**(9-n) ns: the text is the exact time.
    # Resuming from any entry's text therefore includes that entry and everything after it.
    for i in range(0, len(entries), 97):
        reply = await api.logs("done", {"startTime": entries[i][0], "startFromHead": "true", "pageSize": "10000"})
        got = reply.entries()
        first = next(j for j, e in enumerate(entries) if ns_of(e[0]) == ns_of(entries[i][0]))
        assert got == entries[first:]
    job = (await api.job("done")).data
    for field in ("createTime", "updateTime"):
        assert re.fullmatch(r".*:\d\d(\.(\d{3}|\d{6}|\d{9}))?Z", job[field])


async def test_fraction_digits_zero_writes_whole_seconds(serve: Serve) -> None:
    api = await serve(scenario(), realism=Realism(fraction_digits={0}))
    entries, _ = await api.read_all("done", {"pageSize": "10000"})
    assert entries
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) for t, _, _ in entries)
    assert re.fullmatch(r".*:\d\dZ", (await api.job("done")).data["createTime"])


async def test_unknown_fields_in_jobs_and_logs(serve: Serve) -> None:
    api = await serve(scenario(), realism=Realism(unknown_fields=True))
    job = (await api.job("done")).data
    known = set(schemas.job_schema()["properties"])
    assert set(job) - known
    assert set(job["jobProgress"]) - {"percent", "epoch", *schemas.INT64_PROGRESS}
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(job, schemas.job_schema(strict=True))
    page = (await api.logs("done")).data
    assert set(page) - {"entries", "nextPageToken"}
    assert all(set(entry) - {"logTime", "rank", "message"} for entry in page["entries"])
    listed = (await api.list_jobs()).data
    assert set(listed["batchInferenceJobs"][0]) - known


async def test_unknown_state_is_passed_through_before_running(serve: Serve) -> None:
    api = await serve(scenario(JobSpec(id="job-1", duration=1000.0)), realism=Realism(unknown_state=True))
    states = []
    listed_while_warming = []
    for _ in range(30):
        states.append((await api.job("job-1")).data["state"])
        if states[-1] == "JOB_STATE_WARMING_UP":
            listed = await api.list_jobs({"filter": 'state = "JOB_STATE_WARMING_UP"'})
            listed_while_warming.append(listed.data["totalSize"])
        api.emu.clock.advance(5)
    assert distinct(states) == [
        "JOB_STATE_VALIDATING",
        "JOB_STATE_PENDING",
        "JOB_STATE_CREATING",
        "JOB_STATE_WARMING_UP",
        "JOB_STATE_RUNNING",
    ]
    assert listed_while_warming
    assert set(listed_while_warming) == {1}


async def test_empty_pages_with_a_token_continue_the_query(serve: Serve) -> None:
    api = await serve(scenario(), realism=Realism(empty_pages_with_token=0.4))
    truth = api.emu.logs("done")
    for head in ("true", "false"):
        empty_with_token = 0
        entries = []
        params = {"startFromHead": head, "pageSize": "100"}
        token = None
        while True:
            reply = await api.logs("done", {**params, "pageToken": token} if token else params)
            entries += reply.entries()
            if not reply.entries() and reply.token:
                empty_with_token += 1
            token = reply.token
            if token is None:
                break
        assert empty_with_token > 0
        assert entries == (truth if head == "true" else truth[::-1])


async def test_repeat_end_token_at_the_end_of_a_forward_read(serve: Serve) -> None:
    job = JobSpec(id="live", duration=1000.0, lines_per_second=10.0, late=LateLines(fraction=0.0))
    api = await serve(scenario(job), realism=Realism(repeat_end_token=True))
    api.emu.clock.advance(200)
    params = {"startFromHead": "true", "pageSize": "10000"}
    first = await api.logs("live", params)
    assert first.entries() == api.emu.logs("live")
    assert first.token is not None
    caught_up = await api.logs("live", {**params, "pageToken": first.token})
    assert caught_up.data == {"entries": [], "nextPageToken": first.token}
    api.emu.clock.advance(10)
    more = await api.logs("live", {**params, "pageToken": first.token})
    assert more.entries() == api.emu.logs("live")[len(first.entries()) :]
    assert more.token not in (None, first.token)
    backward, _ = await api.read_all("live", {"pageSize": "500"})
    assert backward == api.emu.logs("live")[::-1]
    last = await api.logs("live", {"pageSize": "10000"})
    assert last.data["nextPageToken"] == ""


async def test_without_repeat_end_token_the_end_of_a_forward_read_has_no_token(serve: Serve) -> None:
    api = await serve(scenario())
    reply = await api.logs("done", {"startFromHead": "true", "pageSize": "10000"})
    assert reply.data["nextPageToken"] == ""
    assert reply.entries() == api.emu.logs("done")


async def test_realism_all_still_serves_the_exact_log(serve: Serve) -> None:
    api = await serve(scenario(), realism=Realism.all())
    for head in ("true", "false"):
        entries, _ = await api.read_all("done", {"startFromHead": head, "pageSize": "250"})
        assert entries == (api.emu.logs("done") if head == "true" else api.emu.logs("done")[::-1])


def test_realism_parse() -> None:
    assert Realism.parse("") == Realism()
    assert Realism.parse("none") == Realism()
    assert Realism.parse("all") == Realism.all()
    parsed = Realism.parse("int64_as_strings, fraction_digits=0/3+9, empty_pages_with_token=0.25, repeat_end_token")
    assert parsed == Realism(
        int64_as_strings=True, fraction_digits={0, 3, 9}, empty_pages_with_token=0.25, repeat_end_token=True
    )
    assert Realism.parse("omit_defaults,auth_401") == Realism(omit_defaults=True, auth_401=True)
    for bad in ("loud", "fraction_digits=5", "unknown_fields=yes", "empty_pages_with_token=2", "omit_defaults=1"):
        with pytest.raises(ValueError, match=r"."):
            Realism.parse(bad)


@pytest.mark.parametrize(
    "realism",
    [Realism(), Realism.all(), Realism(fraction_digits={9}), Realism(omit_defaults=True, empty_pages_with_token=0.3)],
)
def test_the_text_form_reads_back(realism: Realism) -> None:
    assert Realism.parse(realism.to_text()) == realism


def test_by_default_job_times_have_6_digits_and_log_times_9() -> None:
    assert (Realism().job_digits, Realism().log_digits) == (frozenset({6}), frozenset({9}))
    nine = Realism(fraction_digits={9})
    assert (nine.job_digits, nine.log_digits) == (frozenset({9}), frozenset({9}))


async def test_fraction_digits_9_writes_job_times_with_9_digits_as_before(serve: Serve) -> None:
    live = await serve(scenario())
    nine = await serve(scenario(), realism=Realism(fraction_digits={9}))
    for api, pattern in ((live, r"\.\d{6}Z"), (nine, r"\.\d{9}Z")):
        job = (await api.job("done")).data
        times = [job["createTime"], job["updateTime"], job["expireTime"], *job["lifecycle"].values()]
        assert all(re.search(pattern + "$", t) for t in times), times
        assert all(re.search(r"\.\d{9}Z$", t) for t, _, _ in (await api.logs("done")).entries())


async def test_omit_defaults_writes_jobs_as_proto3_without_defaults(serve: Serve) -> None:
    job = JobSpec(id="job-1", duration=1000.0, requests=50)
    api = await serve(scenario(job), realism=Realism(omit_defaults=True))
    validating = (await api.job("job-1")).data
    assert validating["status"] == {"code": "OK"}
    assert validating["lifecycle"] == {}
    for absent in ("jobProgress", "placement", "maxJobDuration", "systemPrompt", "waitingOnCapacity"):
        assert absent not in validating
    assert "continuedFromJobName" not in validating
    assert "extraBody" not in validating["inferenceParameters"]
    api.emu.clock.advance(100)
    running = (await api.job("job-1")).data
    assert running["state"] == "JOB_STATE_RUNNING"
    assert running["jobProgress"] == {"totalInputRequests": 50}
    assert set(running["lifecycle"]) == {"validatedTime", "runStartTime"}
    batch = (await api.batch_job("job-1")).data
    assert "endTime" not in batch
    assert "status" not in batch
    assert (await api.list_jobs({"filter": 'state = "JOB_STATE_PAUSED"'})).data == {}


@pytest.mark.parametrize(("step", "page_size"), [(0.05, 20), (0.5, 50), (3.0, 200)])
async def test_a_token_read_while_the_clock_moves_skips_only_lines_that_were_late_when_it_passed(
    serve: Serve, step: float, page_size: int
) -> None:
    """Issue 14, the emulator's side: a forward read that always carries a token, its pages served while the clock
    moves on. Its cursor is exact: no line twice, lines in order, and the only lines it leaves out are those still
    invisible when it passed them, each newer than that moment less the lag (what a follower's lookback covers)."""
    max_delay = 2.0
    job = JobSpec(
        id="live", duration=600.0, ranks=4, lines_per_second=30.0, late=LateLines(fraction=0.2, max_delay=max_delay)
    )
    api = await serve(scenario(job), realism=Realism(repeat_end_token=True))
    api.emu.clock.advance(300)
    began = api.emu.clock.time_ns()
    start = api.emu.logs("live")[0][0]
    params = {"startFromHead": "true", "pageSize": str(page_size), "startTime": start}
    got: list[tuple[str, int, str]] = []
    token: str | None = None
    for _ in range(1000):
        reply = await api.logs("live", {**params, "pageToken": token} if token else params)
        got += reply.entries()
        if reply.token == token:
            break
        token = reply.token
        api.emu.clock.advance(step)
    else:
        pytest.fail("the read never caught up")
    stored = Counter(api.emu.logs("live", include_pending=True))
    assert not Counter(got) - stored, "a line came twice"
    assert [ns_of(t) for t, _, _ in got] == sorted(ns_of(t) for t, _, _ in got)
    left_out = stored - Counter(got)
    assert left_out, "no line was late behind the cursor: the test shows nothing"
    assert all(ns_of(t) > began - round(max_delay * 1e9) for t, _, _ in left_out)
    # Once they are visible, a new query from the oldest line left out finds every one of them.
    api.emu.clock.advance(max_delay)
    oldest = min((t for t, _, _ in left_out), key=ns_of)
    again, _ = await api.read_all("live", {"startFromHead": "true", "pageSize": "500", "startTime": oldest})
    assert not left_out - Counter(again)
