"""``fwbatch status / logs / watch / follow`` end to end: output compared with what the emulator holds, exit codes."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from fwbatch_async import Timestamp
from fwbatch_async.emulator import Emulator, ManualClock

from .clikit import ACCOUNT, API_KEY, Fwbatch, Key, held

pytestmark = pytest.mark.timeout(120)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def lines_of(items: list[dict[str, Any]]) -> Counter[Key]:
    return Counter((Timestamp.parse(item["logTime"]).ns, item["rank"], item["message"]) for item in items)


async def test_status_json_is_each_job_as_the_emulator_serves_it(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    result = await fwbatch.run("status", "done-job", "failed-job", "--json")
    assert (result.code, result.err) == (0, "")
    jobs = json.loads(result.out)
    for job in jobs:
        served = fwbatch_emulator.job(job["name"].rsplit("/", 1)[-1])
        assert job["state"] == served["state"]
        assert job["status"]["message"] == served.get("status", {}).get("message", "")
        progress = served["jobProgress"]
        assert {k: int(v) for k, v in progress.items()} == {k: job["jobProgress"][k] for k in progress}
    assert [job["name"] for job in jobs] == [
        f"accounts/{ACCOUNT}/batchInferenceJobs/{j}" for j in ("done-job", "failed-job")
    ]


async def test_status_table_shows_state_and_progress(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("status", "done-job", "failed-job")
    assert result.code == 0
    header, done, failed, why = result.out.splitlines()
    assert header.split()[:4] == ["JOB", "STATE", "PROCESSED", "FAILED"]
    assert header.split()[-2:] == ["AGE", "EXPIRES"]
    assert done.split()[:3] == ["done-job", "COMPLETED", "400/400"]
    assert failed.split()[:2] == ["failed-job", "FAILED"]
    assert why == "failed-job FAILED (INTERNAL): rank 1 ran out of memory"  # the reason, under the table
    assert "\x1b[" not in result.out  # no colour in a pipe


async def test_status_wide_adds_tokens_and_model_and_json_is_also_o_json(fwbatch: Fwbatch) -> None:
    wide = await fwbatch.run("status", "done-job", "-o", "wide")
    assert wide.code == 0
    assert wide.out.splitlines()[0].split() == [
        "JOB", "STATE", "PROCESSED", "FAILED", "%", "TOKENS", "IN/OUT", "MODEL", "AGE", "EXPIRES"
    ]  # fmt: skip
    assert (await fwbatch.run("status", "done-job", "-o", "json")).out == (
        await fwbatch.run("status", "done-job", "--json")
    ).out


async def test_status_with_forced_colour_in_a_pipe_keeps_every_column_whole(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("status", "done-job", "failed-job", FORCE_COLOR="1", COLUMNS="80")
    assert result.code == 0
    assert "\x1b[" in result.out  # colour, as asked
    header, done, *_ = (ANSI.sub("", line) for line in result.out.splitlines())
    assert header.split() == ["JOB", "STATE", "PROCESSED", "FAILED", "%", "AGE", "EXPIRES"]
    assert done.split()[:3] == ["done-job", "COMPLETED", "400/400"]


async def test_an_unknown_job_is_one_line_on_stderr_and_exit_3_while_the_others_show(fwbatch: Fwbatch) -> None:
    result = await fwbatch.run("status", "done-job", "no-such-job")
    assert result.code == 3
    assert "done-job" in result.out
    assert result.err.count("\n") == 1
    assert "no-such-job" in result.err
    assert "not found" in result.err


async def test_logs_json_is_the_whole_log_oldest_first_with_nanosecond_times(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    result = await fwbatch.run("logs", "done-job", "--json")
    assert (result.code, result.err) == (0, "")
    items = records(result.out)
    assert lines_of(items) == held(fwbatch_emulator, "done-job")
    times = [Timestamp.parse(item["logTime"]).ns for item in items]
    assert times == sorted(times)
    assert all(len(item["logTime"]) == len("2026-01-01T00:00:00.123456789Z") for item in items)


async def test_logs_tail_rank_filter_and_since_select_what_the_server_holds(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    everything = sorted(held(fwbatch_emulator, "done-job").elements())
    tail = records((await fwbatch.run("logs", "done-job", "--tail", "7", "--json")).out)
    assert [(Timestamp.parse(i["logTime"]).ns, i["rank"], i["message"]) for i in tail] == everything[-7:]

    rank_one = records((await fwbatch.run("logs", "done-job", "--rank", "1", "--filter", "batch", "--json")).out)
    expected = Counter(key for key in everything if key[1] == 1 and "batch" in key[2])
    assert lines_of(rank_one) == expected
    assert expected

    middle = everything[len(everything) // 2][0]
    since = Timestamp(middle).rfc3339()
    later = records((await fwbatch.run("logs", "done-job", "--since", since, "--json")).out)
    assert lines_of(later) == Counter(key for key in everything if key[0] >= middle)


async def test_n_is_tail(fwbatch: Fwbatch) -> None:
    short = await fwbatch.run("logs", "done-job", "-n", "3")
    assert (short.code, short.out) == (0, (await fwbatch.run("logs", "done-job", "--tail", "3")).out)
    assert short.out.count("\n[") + short.out.startswith("[") == 3


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        (["--color", "always"], {}, True),
        (["--color", "always"], {"NO_COLOR": "1"}, True),
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        (["--color", "auto"], {"FORCE_COLOR": "1"}, True),
        ([], {}, False),  # a pipe
    ],
)
async def test_color_always_never_or_auto_wins_over_the_environment(
    fwbatch: Fwbatch, args: list[str], env: dict[str, str], coloured: bool
) -> None:
    for command in (["status", "done-job"], ["logs", "done-job", "-n", "2"]):
        result = await fwbatch.run(*args, *command, **env)
        assert result.code == 0
        assert ("\x1b[" in result.out) is coloured


async def test_logs_text_has_rank_prefixes_timestamps_and_multi_line_messages_whole(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    stamp = fwbatch_emulator.clock.time_ns() - 10**9
    fwbatch_emulator.append_logs("done-job", [(stamp, 1, "Traceback (most recent call last):\n  boom\nValueError")])
    result = await fwbatch.run("logs", "done-job", "--tail", "1", "--timestamps")
    assert result.out == f"{Timestamp(stamp).rfc3339()} [1] Traceback (most recent call last):\n  boom\nValueError\n"


async def test_follow_of_a_finished_job_prints_it_all_and_exits_with_its_outcome(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    done = await fwbatch.run("logs", "-f", "done-job", "--json", "--lookback", "0.2")
    assert (done.code, done.err) == (0, "")
    assert lines_of(records(done.out)) == held(fwbatch_emulator, "done-job")

    failed = await fwbatch.run("logs", "-f", "failed-job", "--lookback", "0.2")
    assert failed.code == 1
    assert failed.err == "fwbatch: job failed-job FAILED (INTERNAL): rank 1 ran out of memory\n"


async def test_following_a_job_that_ended_longer_than_the_lookback_ago_does_not_wait_the_lookback(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    # done-job ended 101 s ago on the emulator's clock, which stands still: waiting out 90 s would pass the deadline.
    for command in (["logs", "-f", "done-job"], ["follow", "done-job"]):
        result = await fwbatch.run(*command, "--json", "--lookback", "90")
        assert (result.code, result.err) == (0, "")
        lines = [item for item in records(result.out) if item.get("event", "log") == "log"]
        assert lines_of(lines) == held(fwbatch_emulator, "done-job")


async def test_following_a_running_job_delivers_every_line_once_and_exits_when_it_completes(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    fwbatch_emulator.clock.advance(120)  # running, with lines
    process = await fwbatch.start("logs", "-f", "running-job", "--json", "--lookback", "0.2")
    assert process.stdout is not None
    seen: list[dict[str, Any]] = [json.loads(await process.stdout.readline())]
    for _ in range(10):  # the job moves on only after the command has printed what it had
        fwbatch_emulator.clock.advance(60)
        seen.append(json.loads(await process.stdout.readline()))
    fwbatch_emulator.clock.advance(600)  # finished
    out, err = await process.communicate()
    assert (process.returncode, err) == (0, b"")
    seen += records(out.decode())
    assert lines_of(seen) == held(fwbatch_emulator, "running-job")


async def test_watch_without_a_terminal_prints_a_line_per_job_and_mirrors_outcomes(fwbatch: Fwbatch) -> None:
    completed = await fwbatch.run("watch", "done-job")
    assert completed.code == 0
    assert completed.out.splitlines()[-1] == "done-job ended COMPLETED"

    mixed = await fwbatch.run("watch", "done-job", "failed-job")
    assert mixed.code == 1
    assert "failed-job ended FAILED (INTERNAL): rank 1 ran out of memory" in mixed.out.splitlines()


async def test_follow_json_gives_every_jobs_lines_updates_and_ends(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    result = await fwbatch.run("follow", "done-job", "failed-job", "--json", "--lookback", "0.2")
    assert result.code == 1
    events = records(result.out)
    for job in ("done-job", "failed-job"):
        lines = [e for e in events if e["event"] == "log" and e["job"] == job]
        assert lines_of(lines) == held(fwbatch_emulator, job)
    ends = {e["job"]: e for e in events if e["event"] == "end"}
    assert ends["done-job"]["state"] == "JOB_STATE_COMPLETED"
    assert ends["failed-job"]["state"] == "JOB_STATE_FAILED"
    assert {e["job"] for e in events if e["event"] == "update"} == {"done-job", "failed-job"}


async def test_follow_text_prefixes_lines_with_job_and_rank_and_reports_states_on_stderr(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    result = await fwbatch.run("follow", "done-job", "failed-job", "--tail", "3", "--lookback", "0.2")
    assert result.code == 1
    for job in ("done-job", "failed-job"):
        for _, rank, message in sorted(held(fwbatch_emulator, job).elements())[-3:]:
            assert f"[{job}/{rank}] {message}\n" in result.out  # a multi-line message stays whole
    assert sum(line.startswith(("[done-job/", "[failed-job/")) for line in result.out.splitlines()) == 6
    assert "fwbatch: failed-job ended FAILED (INTERNAL): rank 1 ran out of memory" in result.err.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["logs", "done-job", "--from-start", "--since", "1m"], "--from-start cannot go with --tail or --since"),
        (["logs", "done-job", "--since", "yesterday"], "neither a duration"),
        (["logs", "done-job", "--rank", "-1"], "--rank"),
        (["status"], "Missing argument"),
        (["logs", "bad/../id"], "id"),
    ],
)
async def test_bad_usage_is_one_clear_message_and_exit_2(fwbatch: Fwbatch, args: list[str], message: str) -> None:
    result = await fwbatch.run(*args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


async def test_missing_credentials_and_a_wrong_key_are_one_line_each(fwbatch: Fwbatch) -> None:
    missing = await fwbatch.run("status", "done-job", FIREWORKS_API_KEY="")
    assert (missing.code, missing.err) == (
        2,
        "fwbatch: error: no API key: pass --api-key, set FIREWORKS_API_KEY, or put api_key in ~/.fireworks/auth.ini\n",
    )
    wrong = await fwbatch.run("--api-key", "fw-wrong", "status", "done-job")
    assert wrong.code == 3
    assert "check --api-key" in wrong.err
    assert wrong.err.count("\n") == 1


@pytest.mark.parametrize(
    "command", [["status", "done-job"], ["logs", "-f", "done-job"], ["watch", "done-job"], ["follow", "done-job"]]
)
async def test_an_unreachable_server_is_one_line_and_exit_3(
    fwbatch: Fwbatch, unused_tcp_port: int, command: list[str]
) -> None:
    # A follow waits out an outage once it runs; a wrong address before it starts is a mistake to report.
    result = await fwbatch.run("--base-url", f"http://127.0.0.1:{unused_tcp_port}", "--retries", "1", *command)
    assert result.code == 3
    assert result.err.count("\n") == 1
    assert "check --base-url" in result.err


async def test_the_key_never_appears_in_verbose_output(fwbatch: Fwbatch) -> None:
    runs = [
        await fwbatch.run("-vv", "status", "done-job", "nope"),
        await fwbatch.run("-vv", "logs", "-f", "failed-job", "--lookback", "0.2"),
        await fwbatch.run("-vv", "--base-url", "http://127.0.0.1:9", "--retries", "2", "status", "done-job"),
    ]
    assert any("GET /v1/accounts/" in run.err for run in runs)  # -vv shows every request
    for run in runs:
        assert API_KEY not in run.out + run.err


@pytest.mark.parametrize(
    "command",
    [[], ["status"], ["list"], ["ls"], ["logs"], ["watch"], ["follow"], ["completion"], ["emulator"], ["demo"]],
)
async def test_every_command_has_help_with_examples(fwbatch: Fwbatch, command: list[str]) -> None:
    result = await fwbatch.run(*command, "--help")
    assert result.code == 0
    assert "Example" in result.out or "Try it" in result.out
