"""Conformance of GET batchJobs/{id}:getLogs, from fireworks-api.md section 1 and the seed page."""

from __future__ import annotations

from collections import Counter

import pytest

from fwbatch_async.emulator import JobSpec, LateLines, Realism, Scenario

from .conftest import Serve
from .helpers import Api, error_of, ns_of

T0 = 1_767_225_600 * 10**9  # 2026-01-01T00:00:00Z, the manual clock's default start
MS = 10**6
S = 10**9


def quiet(job_id: str = "job-1", **kw: object) -> JobSpec:
    """A job whose log holds only what a test appends."""
    return JobSpec(id=job_id, generate_logs=False, duration=600.0, **kw)  # type: ignore[arg-type]


def busy(job_id: str = "busy", **kw: object) -> JobSpec:
    """A job that finished before the emulator started, with thousands of generated lines."""
    options: dict[str, object] = {
        "duration": 100.0,
        "start_after": -200.0,
        "ranks": 4,
        "lines_per_second": 60.0,
        "late": LateLines(fraction=0.0, max_delay=0.0),
    }
    options.update(kw)
    return JobSpec(id=job_id, **options)  # type: ignore[arg-type]


async def manual_log(serve: Serve, lines: list[tuple[int, int, str]], realism: Realism | None = None) -> Api:
    api = await serve(Scenario(account="test-account", jobs=[quiet()]), realism=realism)
    api.emu.append_logs("job-1", lines)
    api.emu.clock.advance(3600)
    return api


async def test_default_order_is_newest_first_and_page_size_100(serve: Serve) -> None:
    api = await serve(Scenario(account="test-account", jobs=[busy()]))
    truth = api.emu.logs("busy")
    assert len(truth) > 200
    reply = await api.logs("busy")
    assert reply.status == 200
    assert reply.entries() == truth[::-1][:100]
    times = [ns_of(t) for t, _, _ in reply.entries()]
    assert times == sorted(times, reverse=True)
    assert reply.token is not None


async def test_backward_paging_continues_back_in_time(serve: Serve) -> None:
    api = await serve(Scenario(account="test-account", jobs=[busy()]))
    first = await api.logs("busy", {"pageSize": "50"})
    second = await api.logs("busy", {"pageSize": "50", "pageToken": first.token or ""})
    assert second.entries() == api.emu.logs("busy")[::-1][50:100]


async def test_start_from_head_reads_oldest_first_from_the_first_entry(serve: Serve) -> None:
    api = await serve(Scenario(account="test-account", jobs=[busy()]))
    reply = await api.logs("busy", {"startFromHead": "true", "pageSize": "30"})
    assert reply.entries() == api.emu.logs("busy")[:30]


@pytest.mark.parametrize("head", ["true", "false"])
async def test_start_time_is_an_inclusive_lower_bound(serve: Serve, head: str) -> None:
    at = T0 + 5 * S + 123_456_789
    lines = [(at - 1, 1, "before"), (at, 0, "on-the-bound-a"), (at, 2, "on-the-bound-b"), (at + 1, 1, "after")]
    api = await manual_log(serve, lines)
    reply = await api.logs("job-1", {"startTime": "2026-01-01T00:00:05.123456789Z", "startFromHead": head})
    messages = [m for _, _, m in reply.entries()]
    expected = ["on-the-bound-a", "on-the-bound-b", "after"]
    assert messages == (expected if head == "true" else expected[::-1])
    assert reply.token is None


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01T00:00:05Z",
        "2026-01-01T00:00:05.1Z",
        "2026-01-01T00:00:05.100Z",
        "2026-01-01T00:00:05.100000Z",
        "2026-01-01T00:00:05.100000000Z",
        "2026-01-01T01:00:05.1+01:00",
        "2025-12-31T23:30:05.1-00:30",
        "2026-01-01t00:00:05.1z",
    ],
)
async def test_start_time_accepts_rfc3339_forms(serve: Serve, text: str) -> None:
    lines = [(T0 + 5 * S, 0, "at-5.0"), (T0 + 5 * S + 100 * MS, 0, "at-5.1"), (T0 + 6 * S, 0, "at-6")]
    api = await manual_log(serve, lines)
    reply = await api.logs("job-1", {"startTime": text, "startFromHead": "true"})
    assert reply.status == 200
    expected = ["at-5.0", "at-5.1", "at-6"] if text.startswith("2026-01-01T00:00:05Z") else ["at-5.1", "at-6"]
    assert [m for _, _, m in reply.entries()] == expected


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "2026-01-01",
        "2026-01-01 00:00:05Z",
        "2026-13-01T00:00:05Z",
        "2026-02-30T00:00:05Z",
        "2026-01-01T24:00:05Z",
        "2026-01-01T00:00:05.1234567891Z",
        "2026-01-01T00:00:05",
        "2026-01-01T00:00:05.Z",
        "2026-01-01T00:00:05+0100",
    ],
)
async def test_malformed_start_time_is_400(serve: Serve, text: str) -> None:
    api = await manual_log(serve, [])
    reply = await api.logs("job-1", {"startTime": text})
    assert reply.status == 400
    assert error_of(reply)[0] == 3


async def test_page_size_is_coerced_to_10000(serve: Serve) -> None:
    api = await serve(Scenario(account="test-account", jobs=[busy(lines_per_second=150.0)]))
    total = len(api.emu.logs("busy"))
    assert total > 10_000
    for head in ("true", "false"):
        reply = await api.logs("busy", {"pageSize": "20000", "startFromHead": head})
        assert reply.status == 200
        assert len(reply.entries()) == 10_000
        assert reply.token is not None


@pytest.mark.parametrize(("size", "expected"), [("0", 100), ("", 100), ("7", 7), ("+7", 7), ("10000", 10_000)])
async def test_page_size_values(serve: Serve, size: str, expected: int) -> None:
    api = await serve(Scenario(account="test-account", jobs=[busy(lines_per_second=150.0)]))
    reply = await api.logs("busy", {"pageSize": size})
    assert len(reply.entries()) == expected


@pytest.mark.parametrize("size", ["-1", "abc", "1.5", "2147483648", "1e3", " 5"])
async def test_bad_page_size_is_400(serve: Serve, size: str) -> None:
    api = await manual_log(serve, [])
    reply = await api.logs("job-1", {"pageSize": size})
    assert reply.status == 400
    assert error_of(reply)[0] == 3


async def test_a_scalar_parameter_given_twice_is_400(serve: Serve) -> None:
    api = await manual_log(serve, [])
    assert (await api.logs("job-1", [("pageSize", "5"), ("pageSize", "6")])).status == 400
    assert (await api.logs("job-1", [("pageSize", "5"), ("page_size", "6")])).status == 400


async def test_snake_case_parameter_names_are_accepted(serve: Serve) -> None:
    lines = [(T0 + i * S, 0, f"line {i}") for i in range(10)]
    api = await manual_log(serve, lines)
    reply = await api.logs("job-1", {"page_size": "3", "start_from_head": "true", "start_time": "2026-01-01T00:00:02Z"})
    assert [m for _, _, m in reply.entries()] == ["line 2", "line 3", "line 4"]


async def test_ranks_filter_with_repeated_parameters(serve: Serve) -> None:
    api = await serve(Scenario(account="test-account", jobs=[busy(ranks=6)]))
    truth = api.emu.logs("busy")
    assert {rank for _, rank, _ in truth} == set(range(6))
    entries, _ = await api.read_all("busy", [("ranks", "0"), ("ranks", "3"), ("startFromHead", "true")])
    assert entries == [e for e in truth if e[1] in {0, 3}]
    single, _ = await api.read_all("busy", [("ranks", "5"), ("pageSize", "1000")])
    assert single == [e for e in truth if e[1] == 5][::-1]


@pytest.mark.parametrize("value", ["x", "1,2", "1.0", ""])
async def test_bad_rank_is_400(serve: Serve, value: str) -> None:
    api = await manual_log(serve, [])
    assert (await api.logs("job-1", [("ranks", value)])).status == 400


@pytest.mark.parametrize("value", ["yes", "2", "TRUE ", "on"])
async def test_bad_start_from_head_is_400(serve: Serve, value: str) -> None:
    api = await manual_log(serve, [])
    assert (await api.logs("job-1", {"startFromHead": value})).status == 400


@pytest.mark.parametrize(("value", "first"), [("1", "a"), ("t", "a"), ("True", "a"), ("0", "b"), ("F", "b")])
async def test_start_from_head_parses_like_go(serve: Serve, value: str, first: str) -> None:
    api = await manual_log(serve, [(T0 + S, 0, "a"), (T0 + 2 * S, 0, "b")])
    reply = await api.logs("job-1", {"startFromHead": value})
    assert reply.entries()[0][2] == first


async def test_filter_is_a_plain_case_sensitive_substring_of_the_message(serve: Serve) -> None:
    messages = [
        "plain text",
        'a "quoted" word',
        "back\\slash",
        "new\nline",
        "literal \\n not a newline",
        "ünïcödé ✓",
        "Plain Text",
    ]
    api = await manual_log(serve, [(T0 + i * S, i, m) for i, m in enumerate(messages)])

    async def matching(text: str) -> list[str]:
        entries, _ = await api.read_all("job-1", {"filter": text, "startFromHead": "true"})
        return [m for _, _, m in entries]

    assert await matching("plain") == ["plain text"]
    assert await matching('"quoted"') == ['a "quoted" word']
    assert await matching("\\") == ["back\\slash", "literal \\n not a newline"]
    assert await matching("\n") == ["new\nline"]
    assert await matching("\\n") == ["literal \\n not a newline"]
    assert await matching("✓") == ["ünïcödé ✓"]
    assert await matching("logTime") == []
    assert await matching("") == messages


async def test_read_mask_selects_entry_fields(serve: Serve) -> None:
    api = await manual_log(serve, [(T0 + S, 3, "hello"), (T0 + 2 * S, 0, "zero")])
    reply = await api.logs("job-1", {"readMask": "logTime,message", "startFromHead": "true"})
    assert reply.data["entries"] == [
        {"logTime": "2026-01-01T00:00:01.000000000Z", "message": "hello"},
        {"logTime": "2026-01-01T00:00:02.000000000Z", "message": "zero"},
    ]
    reply = await api.logs("job-1", {"readMask": "entries.rank", "startFromHead": "true"})
    assert reply.data["entries"] == [{"rank": 3}, {"rank": 0}]
    reply = await api.logs("job-1", {"readMask": "log_time", "startFromHead": "true"})
    assert [set(e) for e in reply.data["entries"]] == [{"logTime"}, {"logTime"}]
    full = await api.logs("job-1", {"readMask": "*", "startFromHead": "true"})
    assert full.data == (await api.logs("job-1", {"startFromHead": "true"})).data


@pytest.mark.parametrize("mask", ["severity", "logTime,bogus", "entries.logTime.nanos", "message.text"])
async def test_unknown_read_mask_path_is_400(serve: Serve, mask: str) -> None:
    api = await manual_log(serve, [])
    reply = await api.logs("job-1", {"readMask": mask})
    assert reply.status == 400
    assert error_of(reply)[0] == 3


async def test_defaults_are_written_out_as_live(serve: Serve) -> None:
    api = await manual_log(serve, [(T0 + S, 0, "from rank zero"), (T0 + 2 * S, 2, "")])
    reply = await api.logs("job-1", {"startFromHead": "true"})
    assert reply.body == (
        b'{"entries":[{"logTime":"2026-01-01T00:00:01.000000000Z","rank":0,"message":"from rank zero"},'
        b'{"logTime":"2026-01-01T00:00:02.000000000Z","rank":2,"message":""}],"nextPageToken":""}'
    )
    empty = await api.logs("job-1", {"filter": "no such text"})
    assert empty.status == 200
    assert empty.data == {"entries": [], "nextPageToken": ""}


async def test_omit_defaults_leaves_out_rank_zero_empty_messages_and_empty_pages(serve: Serve) -> None:
    api = await manual_log(serve, [(T0 + S, 0, "from rank zero"), (T0 + 2 * S, 2, "")], Realism(omit_defaults=True))
    reply = await api.logs("job-1", {"startFromHead": "true"})
    assert reply.data == {
        "entries": [
            {"logTime": "2026-01-01T00:00:01.000000000Z", "message": "from rank zero"},
            {"logTime": "2026-01-01T00:00:02.000000000Z", "rank": 2},
        ]
    }
    assert api.emu.logs("job-1") == [
        ("2026-01-01T00:00:01.000000000Z", 0, "from rank zero"),
        ("2026-01-01T00:00:02.000000000Z", 2, ""),
    ]
    empty = await api.logs("job-1", {"filter": "no such text"})
    assert empty.status == 200
    assert empty.data == {}


async def test_only_entries_already_logged_exist(serve: Serve) -> None:
    api = await serve(Scenario(account="test-account", jobs=[quiet()]))
    api.emu.append_logs("job-1", [(T0 + 10 * S, 0, "future")])
    assert (await api.logs("job-1")).data == {"entries": [], "nextPageToken": ""}
    api.emu.clock.advance(10)
    assert (await api.logs("job-1")).entries() == [("2026-01-01T00:00:10.000000000Z", 0, "future")]


@pytest.mark.parametrize(
    "change",
    [
        {"filter": "other"},
        {"ranks": "1"},
        {"startFromHead": "true"},
        {"startTime": "2026-01-01T00:00:00.5Z"},
        {"pageSize": "11"},
        {"readMask": "message"},
    ],
)
async def test_a_token_reused_with_another_parameter_changed_is_400(serve: Serve, change: dict[str, str]) -> None:
    lines = [(T0 + i * S, i % 3, f"line {i}") for i in range(50)]
    api = await manual_log(serve, lines)
    params = {"pageSize": "10", "filter": "line", "startTime": "2026-01-01T00:00:00Z"}
    first = await api.logs("job-1", params)
    assert first.token is not None
    same = await api.logs("job-1", {**params, "pageToken": first.token})
    assert same.status == 200
    changed = await api.logs("job-1", {**params, **change, "pageToken": first.token})
    assert changed.status == 400
    assert error_of(changed) == (3, "INVALID_PAGE_TOKEN")


async def test_a_token_of_another_job_or_garbage_is_400(serve: Serve) -> None:
    api = await serve(Scenario(account="test-account", jobs=[busy("a"), busy("b")]))
    token = (await api.logs("a")).token
    assert token is not None
    assert (await api.logs("b", {"pageToken": token})).status == 400
    for garbage in ["garbage", "e30", "WzEsImFiYyIsMSwyXQ", "!!!"]:
        reply = await api.logs("a", {"pageToken": garbage})
        assert reply.status == 400
        assert error_of(reply) == (3, "INVALID_PAGE_TOKEN")


@pytest.mark.parametrize(("head", "size"), [("true", "97"), ("false", "97"), ("true", "10000"), ("false", "1")])
async def test_paging_by_tokens_returns_the_whole_log_exactly_once(serve: Serve, head: str, size: str) -> None:
    api = await serve(Scenario(account="test-account", jobs=[busy(duplicates=0.1, lines_per_second=20.0)]))
    truth = api.emu.logs("busy")
    entries, pages = await api.read_all("busy", {"startFromHead": head, "pageSize": size})
    assert entries == (truth if head == "true" else truth[::-1])
    assert pages == -(-len(truth) // int(size))
    assert Counter(entries) == Counter(truth)


async def test_duplicates_are_identical_lines_at_identical_times(serve: Serve) -> None:
    api = await serve(Scenario(account="test-account", jobs=[busy(duplicates=0.2)]))
    entries, _ = await api.read_all("busy", {"pageSize": "1000"})
    repeated = [key for key, n in Counter(entries).items() if n > 1]
    assert len(repeated) > 0.1 * len(set(entries))
    assert Counter(entries) == Counter(api.emu.logs("busy"))


async def test_a_burst_of_more_than_a_page_at_one_timestamp_pages_correctly(serve: Serve) -> None:
    job = busy(burst_every=20.0, burst_size=250, duplicates=0.0)
    api = await serve(Scenario(account="test-account", jobs=[job]))
    truth = api.emu.logs("busy")
    per_time = Counter(t for t, _, _ in truth)
    burst_time, size = per_time.most_common(1)[0]
    assert size >= 250
    assert len({rank for t, rank, _ in truth if t == burst_time}) == 1
    for head in ("true", "false"):
        entries, _ = await api.read_all("busy", {"startFromHead": head, "pageSize": "100"})
        assert Counter(entries) == Counter(truth)
        assert entries == (truth if head == "true" else truth[::-1])
    from_burst, _ = await api.read_all("busy", {"startFromHead": "true", "startTime": burst_time, "pageSize": "100"})
    assert from_burst == [e for e in truth if ns_of(e[0]) >= ns_of(burst_time)]


async def test_late_entries_are_visible_only_after_their_delay(serve: Serve) -> None:
    api = await serve(Scenario(account="test-account", jobs=[quiet()]))
    api.emu.append_logs("job-1", [(T0 + 10 * S, 1, "on time")])
    api.emu.append_logs("job-1", [(T0 + 9 * S, 2, "late by 5s")], visible_after=5.0)
    api.emu.clock.advance(10)
    queries: list[dict[str, str]] = [{}, {"startFromHead": "true"}, {"filter": "e"}, {"ranks": "2"}, {"ranks": "1"}]

    async def seen() -> list[list[str]]:
        return [sorted(m for _, _, m in (await api.logs("job-1", q)).entries()) for q in queries]

    assert await seen() == [["on time"], ["on time"], ["on time"], [], ["on time"]]
    assert [m for _, _, m in api.emu.logs("job-1", include_pending=True)] == ["late by 5s", "on time"]
    api.emu.clock.advance(3.999)
    assert await seen() == [["on time"], ["on time"], ["on time"], [], ["on time"]]
    api.emu.clock.advance(0.001)
    both = ["late by 5s", "on time"]
    assert await seen() == [both, both, both, ["late by 5s"], ["on time"]]
    assert [m for _, _, m in (await api.logs("job-1")).entries()] == ["on time", "late by 5s"]


async def test_generated_late_lines_appear_later(serve: Serve) -> None:
    job = JobSpec(id="late", duration=100.0, lines_per_second=50.0, late=LateLines(fraction=0.3, max_delay=4.0))
    api = await serve(Scenario(account="test-account", jobs=[job]))
    api.emu.clock.advance(50)
    visible, pending = api.emu.logs("late"), api.emu.logs("late", include_pending=True)
    assert len(visible) < len(pending)
    for params in ({"pageSize": "500"}, {"pageSize": "500", "startFromHead": "true"}):
        entries, _ = await api.read_all("late", params)
        assert Counter(entries) == Counter(visible)
        some_ranks, _ = await api.read_all("late", {**params, "ranks": "1"})
        assert Counter(some_ranks) == Counter(e for e in visible if e[1] == 1)
        batches, _ = await api.read_all("late", {**params, "filter": "Processed batch"})
        assert Counter(batches) == Counter(e for e in visible if "Processed batch" in e[2])
    api.emu.clock.advance(4)
    assert Counter(pending) <= Counter(api.emu.logs("late"))


async def test_a_late_entry_behind_the_cursor_is_not_returned_by_that_query(serve: Serve) -> None:
    lines = [(T0 + i * S, 0, f"line {i}") for i in range(20)]
    api = await manual_log(serve, lines)
    first = await api.logs("job-1", {"startFromHead": "true", "pageSize": "10"})
    api.emu.append_logs("job-1", [(T0 + 2 * S + 1, 1, "arrived late")])
    rest, _ = await api.read_all("job-1", {"startFromHead": "true", "pageSize": "10", "pageToken": first.token or ""})
    seen = [m for _, _, m in first.entries() + rest]
    assert seen == [f"line {i}" for i in range(20)]
    fresh, _ = await api.read_all("job-1", {"startFromHead": "true", "pageSize": "10"})
    assert "arrived late" in [m for _, _, m in fresh]


async def test_entries_logged_after_a_forward_read_are_found_by_its_next_query(serve: Serve) -> None:
    api = await manual_log(serve, [(T0 + i * S, 0, f"line {i}") for i in range(5)])
    first, _ = await api.read_all("job-1", {"startFromHead": "true"})
    api.emu.append_logs("job-1", [(T0 + 3600 * S, 0, "new")])
    again = await api.logs("job-1", {"startFromHead": "true", "startTime": first[-1][0]})
    assert [m for _, _, m in again.entries()] == ["line 4", "new"]


async def test_equal_timestamps_keep_a_stable_order(serve: Serve) -> None:
    lines = [(T0 + S, r % 4, f"same time {r}") for r in range(40)]
    api = await manual_log(serve, lines)
    forward, _ = await api.read_all("job-1", {"startFromHead": "true", "pageSize": "7"})
    backward, _ = await api.read_all("job-1", {"pageSize": "7"})
    assert [m for _, _, m in forward] == [f"same time {r}" for r in range(40)]
    assert backward == forward[::-1]
