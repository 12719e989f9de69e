"""Choosing and shaping log lines end to end: ``--tail`` with ``--since``, ``--include`` / ``--exclude``,
``--no-prefix`` and ``-o raw|json|template``, for ``logs``, ``logs -f`` and ``follow``."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from fwbatch_async import Timestamp
from fwbatch_async.emulator import Emulator, ManualClock

from .clikit import Fwbatch, Key, held

pytestmark = pytest.mark.timeout(120)

NS = 1_000_000_000
# The three ways to read lines; a follow of a finished job drains and ends.
COMMANDS = [
    ["logs", "done-job"],
    ["logs", "-f", "done-job", "--lookback", "0.2"],
    ["follow", "done-job", "--lookback", "0.2"],
]


def log_records(text: str) -> list[dict[str, Any]]:
    """The log lines of JSON output (``follow`` adds updates and ends)."""
    items = [json.loads(line) for line in text.splitlines()]
    return [item for item in items if item.get("event", "log") == "log"]


def keys(items: list[dict[str, Any]]) -> list[Key]:
    return [(Timestamp.parse(item["logTime"]).ns, item["rank"], item["message"]) for item in items]


@pytest.mark.parametrize("command", COMMANDS)
async def test_tail_with_since_is_the_last_n_of_the_lines_since_the_time(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock], command: list[str]
) -> None:
    now = fwbatch_emulator.clock.time_ns()
    recent = [(now - 5 * NS, 0, "five seconds ago"), (now - 2 * NS, 1, "two seconds ago"), (now - NS, 0, "one ago")]
    fwbatch_emulator.append_logs("done-job", recent)

    fewer = await fwbatch.run(*command, "--tail", "5", "--since", "3s", "--json")
    assert (fewer.code, fewer.err) == (0, "")
    assert [item["message"] for item in log_records(fewer.out)] == ["two seconds ago", "one ago"]  # all since 3s

    more = await fwbatch.run(*command, "-n", "1", "--since", "6s", "--json")
    assert [item["message"] for item in log_records(more.out)] == ["one ago"]  # the last 1 of the 3 since 6s

    everything = sorted(held(fwbatch_emulator, "done-job").elements())
    at = Timestamp(everything[-10][0]).rfc3339()
    timed = await fwbatch.run(*command, "--tail", "4", "--since", at, "--json")
    assert keys(log_records(timed.out)) == everything[-4:]


@pytest.mark.parametrize("command", COMMANDS)
async def test_include_and_exclude_choose_by_message_as_stern_does(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock], command: list[str]
) -> None:
    result = await fwbatch.run(
        *command, "--include", "^WARNING", "--include", "Heartbeat", "--exclude", "rank 1", "--json"
    )
    assert (result.code, result.err) == (0, "")

    def shown(message: str) -> bool:
        included = re.search("^WARNING", message) or re.search("Heartbeat", message)
        return bool(included) and not re.search("rank 1", message)

    expected = Counter(key for key in held(fwbatch_emulator, "done-job").elements() if shown(key[2]))
    assert Counter(keys(log_records(result.out))) == expected
    assert expected
    assert any("rank 1" in key[2] for key in held(fwbatch_emulator, "done-job"))  # the exclude had work to do


async def test_exclude_alone_keeps_the_rest_and_includes_come_after_the_tail(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    everything = sorted(held(fwbatch_emulator, "done-job").elements())
    rest = await fwbatch.run("logs", "done-job", "--exclude", "^Processed", "--json")
    assert keys(log_records(rest.out)) == [key for key in everything if not key[2].startswith("Processed")]

    tail = await fwbatch.run("logs", "done-job", "--tail", "50", "--include", "^Processed", "--json")
    assert keys(log_records(tail.out)) == [key for key in everything[-50:] if key[2].startswith("Processed")]


async def test_a_filtered_follow_of_a_running_job_still_delivers_every_chosen_line_once_and_ends(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    # The follower keeps its exactly-once bookkeeping over every line; only the printing is filtered.
    fwbatch_emulator.clock.advance(120)
    process = await fwbatch.start("logs", "-f", "running-job", "--exclude", "^Heartbeat", "--json", "--lookback", "0.2")
    assert process.stdout is not None
    seen = [json.loads(await process.stdout.readline())]
    for _ in range(10):  # the job moves on only after the command has printed what it had
        fwbatch_emulator.clock.advance(60)
        seen.append(json.loads(await process.stdout.readline()))
    fwbatch_emulator.clock.advance(600)
    out, err = await process.communicate()
    assert (process.returncode, err) == (0, b"")
    seen += log_records(out.decode())
    expected = Counter(key for key in held(fwbatch_emulator, "running-job").elements() if "Heartbeat" not in key[2])
    assert Counter(keys(seen)) == expected


@pytest.mark.parametrize(("option", "pattern"), [("--include", "("), ("--exclude", "[a-"), ("--include", "*")])
async def test_a_bad_regular_expression_is_a_usage_error(fwbatch: Fwbatch, option: str, pattern: str) -> None:
    result = await fwbatch.run("logs", "done-job", option, pattern)
    assert result.code == 2
    assert f"{option} {pattern!r} is not a regular expression" in result.err
    assert "Traceback" not in result.err


async def test_no_prefix_drops_the_rank_and_job_but_keeps_asked_for_times(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    last = sorted(held(fwbatch_emulator, "done-job").elements())[-3:]
    bare = await fwbatch.run("logs", "done-job", "-n", "3", "--no-prefix", FORCE_COLOR="1")
    assert bare.out == "".join(f"{message}\n" for _, _, message in last)  # no colour either: nothing to colour

    timed = await fwbatch.run("logs", "done-job", "-n", "3", "--no-prefix", "--timestamps")
    assert timed.out == "".join(f"{Timestamp(ns).rfc3339()} {message}\n" for ns, _, message in last)

    many = await fwbatch.run("follow", "done-job", "failed-job", "-n", "2", "--no-prefix", "--lookback", "0.2")
    assert many.code == 1
    assert sorted(many.out.splitlines()) == sorted(
        message
        for job in ("done-job", "failed-job")
        for _, _, message in sorted(held(fwbatch_emulator, job).elements())[-2:]
    )


async def test_raw_is_the_message_exactly_multi_line_ones_included(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock]
) -> None:
    stamp = fwbatch_emulator.clock.time_ns() - NS
    message = "Traceback (most recent call last):\n  boom\n\tValueError: [3] {x}"
    fwbatch_emulator.append_logs("done-job", [(stamp, 1, message)])
    for command in COMMANDS:
        result = await fwbatch.run(*command, "-n", "2", "-o", "raw", "--timestamps", FORCE_COLOR="1")
        assert result.code == 0
        previous = sorted(held(fwbatch_emulator, "done-job").elements())[-2][2]
        assert result.out == f"{previous}\n{message}\n"


async def test_json_output_is_the_entry_as_on_the_wire_with_its_job_and_json_is_its_alias(fwbatch: Fwbatch) -> None:
    long = await fwbatch.run("logs", "done-job", "-n", "3", "-o", "json")
    short = await fwbatch.run("logs", "done-job", "-n", "3", "--json")
    assert (long.code, long.out) == (0, short.out)
    for line in long.out.splitlines():
        assert list(json.loads(line)) == ["job", "logTime", "rank", "message"]
        assert json.loads(line)["job"] == "done-job"
    # Forced colour or not, JSON output is JSON alone: no status line, no state changes among the objects.
    events = await fwbatch.run("follow", "done-job", "-n", "1", "-o", "json", "--lookback", "0.2", FORCE_COLOR="1")
    assert {json.loads(line)["event"] for line in events.out.splitlines()} == {"log", "update", "end"}


@pytest.mark.parametrize("command", COMMANDS)
async def test_template_fills_in_time_rank_job_and_message(
    fwbatch: Fwbatch, fwbatch_emulator: Emulator[ManualClock], command: list[str]
) -> None:
    result = await fwbatch.run(*command, "-n", "3", "--template", "{time}|{rank:>3}|{job}|{message}")
    assert result.code == 0
    last = sorted(held(fwbatch_emulator, "done-job").elements())[-3:]
    assert result.out == "".join(
        f"{Timestamp(ns).rfc3339()}|{rank:>3}|done-job|{message}\n" for ns, rank, message in last
    )
    explicit = await fwbatch.run(
        *command, "-n", "3", "-o", "template", "--template", "{time}|{rank:>3}|{job}|{message}"
    )
    assert explicit.out == result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--template", "{time} {level}"],
            "--template: unknown field {level}; the fields are {time}, {rank}, {job}, {message}",
        ),
        (["--template", "{message.__class__}"], "unknown field {message.__class__}"),
        (["--template", "{}"], "unknown field {}"),
        (["--template", "{rank:q}"], "--template '{rank:q}': Unknown format code 'q'"),
        (["--template", "{message"], "--template '{message':"),
        (["-o", "template"], "-o template needs --template"),
        (["--json", "-o", "raw"], "give one output: -o json / -o raw (--json is -o json)"),
        (["-o", "raw", "--template", "{message}"], "give one output: -o raw / -o template"),
    ],
)
async def test_a_bad_template_or_output_is_a_usage_error(fwbatch: Fwbatch, args: list[str], message: str) -> None:
    result = await fwbatch.run("logs", "done-job", *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
