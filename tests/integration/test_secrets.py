"""The API key never leaves the client except in the ``Authorization`` header to the API's own origin.

A full verbose run against the emulator with every fault on is searched for the key: reprs, every exception with
its whole chain (``__cause__`` and ``__context__``, suppressed or not), DEBUG logs of every logger, and warnings.
Redirects are checked with two real servers on 127.0.0.1; plain ``http://`` to other hosts needs an opt-in.
"""

from __future__ import annotations

import logging
import traceback
import warnings
from collections.abc import Iterator

import pytest
from aiohttp import web
from testkit import Serve

import fwbatch_async as fw
from fwbatch_async.emulator import Emulator, Faults, JobSpec, ManualClock, Scenario
from fwbatch_async.emulator.faults import FAULT_KINDS

KEY = "fw-SECRET-0123456789abcdef"


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and contexts (suppressed ones too) and members of exception groups, each once."""
    pending, seen = [error], set[int]()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        if isinstance(current, BaseExceptionGroup):
            pending += current.exceptions


def texts_of(error: BaseException) -> list[str]:
    """Everything a user could print about ``error``: traceback, and str/repr/args/notes of the whole chain."""
    texts = ["".join(traceback.format_exception(error))]
    for link in exception_chain(error):
        texts += [str(link), repr(link), repr(link.args), repr(getattr(link, "__notes__", []))]
        texts.append(repr({name: value for name, value in vars(link).items() if not name.startswith("__")}))
    return texts


class Everything(logging.Handler):
    """Keeps every formatted record, from any logger, at any level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.exc_info and record.exc_info[1] is not None:
            self.lines += texts_of(record.exc_info[1])


@pytest.fixture
def every_log_line() -> Iterator[list[str]]:
    handler = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def test_a_full_verbose_run_through_faults_never_shows_the_key(every_log_line: list[str]) -> None:
    world = Scenario(account="acct", seed=5, jobs=[JobSpec(id="job-1", duration=20.0, lines_per_second=50.0)])
    faults = Faults(rate=0.3, seed=3)  # every fault kind: 429s, 5xx, HTML 502s, resets, truncated bodies
    clock = ManualClock()
    outputs: list[str] = []
    errors: list[BaseException] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with Emulator(world, clock=clock, api_key=KEY, faults=faults) as emu:
            client = fw.AsyncClient(
                api_key=KEY, account_id="acct", base_url=emu.base_url, clock=clock, retry=fw.RetryPolicy(max_attempts=2)
            )
            async with client:
                outputs += [repr(client), str(client), repr(vars(client)), repr(client._config.headers)]
                async with client.follow_job("job-1", from_start=True) as events:
                    outputs += [repr(event) async for event in events]
                for call in (
                    lambda: client.get_batch_inference_job("no-such-job"),
                    lambda: client.get_batch_job_logs("job-1", page_token="forged-token"),
                    lambda: client.wait_for_jobs(["job-1", "missing-1", "missing-2"]),
                ):
                    try:
                        outputs.append(repr(await call()))
                    except (fw.FwBatchError, ExceptionGroup) as error:
                        errors.append(error)
            async with fw.AsyncClient(
                api_key=KEY, account_id="acct", base_url=emu.base_url, clock=clock, retry=fw.RetryPolicy(max_attempts=3)
            ) as failing:
                # Each fault kind on every attempt until the retries give up: scripted, so that every kind is met
                # whatever the random faults before drew (a seeded draw here left out resets one run in three).
                for kind in FAULT_KINDS:
                    if kind == "slow":
                        continue
                    faults.script("job", [kind] * 3)
                    with pytest.raises(fw.FwBatchError) as raised:
                        await failing.get_batch_inference_job("job-1")
                    errors.append(raised.value)
            faults.rate = 0.0
            async with fw.AsyncClient(api_key="fw-wrong-key", account_id="acct", base_url=emu.base_url) as wrong:
                with pytest.raises(fw.AuthenticationError) as denied:
                    await wrong.get_batch_inference_job("job-1")
                errors.append(denied.value)
        assert sum(emu.stats.faults.values()) > 0
    kinds = {type(link).__name__ for error in errors for link in exception_chain(error)}
    assert {"NotFoundError", "APIConnectionError", "AuthenticationError"} <= kinds
    assert any("retrying" in line for line in every_log_line)
    everything = outputs + every_log_line + [str(w.message) for w in caught]
    everything += [text for error in errors for text in texts_of(error)]
    assert [text for text in everything if KEY in text] == []


async def test_a_server_message_that_echoes_the_key_is_redacted(serve: Serve) -> None:
    async def echo(request: web.Request) -> web.StreamResponse:
        sent = request.headers.get("Authorization", "")
        return web.json_response({"code": 16, "message": f"bad key {sent}", "details": [{"k": sent}]}, status=401)

    async with fw.AsyncClient(api_key=KEY, account_id="acct", base_url=await serve(echo)) as client:
        with pytest.raises(fw.AuthenticationError) as raised:
            await client.get_batch_inference_job("job-1")
    assert [text for text in texts_of(raised.value) if KEY in text] == []
    assert "<hidden>" in str(raised.value)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_to_another_port_reaches_it_without_the_key(serve: Serve, status: int) -> None:
    received: list[dict[str, str]] = []

    async def elsewhere(request: web.Request) -> web.StreamResponse:
        received.append(dict(request.headers))
        return web.json_response({"name": "accounts/acct/batchInferenceJobs/moved"})

    other = await serve(elsewhere)

    async def redirect(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": f"{other}/v1/accounts/acct/batchInferenceJobs/moved"})

    async with fw.AsyncClient(api_key=KEY, account_id="acct", base_url=await serve(redirect)) as client:
        job = await client.get_batch_inference_job("job-1")
    assert job.job_id == "moved"
    [headers] = received
    assert [value for value in headers.values() if KEY in value] == []
    assert "Authorization" not in headers
    assert headers["Accept"] == "application/json"


@pytest.mark.parametrize(
    ("base_url", "refused"),
    [
        ("http://localhost", False),
        ("http://localhost:8080", False),
        ("http://127.0.0.1", False),
        ("http://127.8.9.10:1", False),
        ("http://[::1]", False),
        ("http://[::1]:8080", False),
        ("http://example.com", True),
        ("http://example.com:443", True),
        ("http://localhost.example.com", True),
        ("http://127.0.0.1.example.com", True),
        ("http://[::2]", True),
        ("http://0.0.0.0", True),
        ("http://192.168.1.1", True),
        ("https://example.com", False),
    ],
)
def test_plain_http_needs_an_opt_in_except_to_this_machine(base_url: str, refused: bool) -> None:
    if refused:
        with pytest.raises(ValueError, match="allow_insecure_http") as raised:
            fw.AsyncClient(api_key=KEY, base_url=base_url)
        assert KEY not in str(raised.value)
    else:
        assert fw.AsyncClient(api_key=KEY, base_url=base_url).base_url == base_url
    assert fw.AsyncClient(api_key=KEY, base_url=base_url, allow_insecure_http=True).base_url == base_url
