"""Exact requests and retry behaviour of AsyncClient, against aioresponses (run under aiohttp<3.14, design §5)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from testkit import RecordingClock
from yarl import URL

import fwbatch_async as fw

BASE = "https://api.fireworks.example"
KEY = "fw-secret-key-123"
JOB_URL = f"{BASE}/v1/accounts/acme/batchInferenceJobs/nightly"
LOGS_URL = f"{BASE}/v1/accounts/acme/batchJobs/nightly:getLogs"
ANY = re.compile(r".*")
ENTRY = {"logTime": "2026-11-22T04:00:00.123456789Z", "rank": 1, "message": "hello"}


@pytest.fixture
async def client(clock: RecordingClock) -> AsyncIterator[fw.AsyncClient]:
    async with fw.AsyncClient(api_key=KEY, account_id="acme", base_url=BASE, clock=clock) as c:
        yield c


def calls(mock: Any) -> list[tuple[str, URL, dict[str, Any]]]:
    return [(method, url, call.kwargs) for (method, url), made in mock.requests.items() for call in made]


def sent_urls(mock: Any) -> list[URL]:
    return [url for _, url, _ in calls(mock)]


async def test_get_job_sends_one_exact_request(mocked: Any, client: fw.AsyncClient) -> None:
    mocked.get(f"{JOB_URL}?readMask=state,jobProgress", payload={"name": "x", "state": "JOB_STATE_RUNNING"})
    job = await client.get_batch_inference_job("nightly", read_mask=["state", "jobProgress"])
    assert job.state is fw.JobState.RUNNING
    [(method, url, kwargs)] = calls(mocked)
    assert method == "GET"
    assert url.path == "/v1/accounts/acme/batchInferenceJobs/nightly"
    assert url.query["readMask"] == "state,jobProgress"
    assert kwargs["headers"]["Authorization"] == f"Bearer {KEY}"
    assert kwargs["headers"]["Accept"] == "application/json"
    assert kwargs["headers"]["User-Agent"] == f"fwbatch-async/{fw.__version__}"
    assert kwargs["allow_redirects"] is False


@pytest.mark.parametrize(
    ("batch_job", "path"),
    [
        ("4711", "/v1/accounts/acme/batchJobs/4711"),
        ("accounts/acme/clusters/c-7/batchJobs/4711", "/v1/accounts/acme/clusters/c-7/batchJobs/4711"),
    ],
)
async def test_get_batch_job_sends_one_exact_request(
    mocked: Any, client: fw.AsyncClient, batch_job: str, path: str
) -> None:
    mocked.get(ANY, payload={"name": "accounts/acme/clusters/c-7/batchJobs/4711", "state": "RUNNING", "numRanks": 4})
    batch_job_read = await client.get_batch_job(batch_job)
    assert (batch_job_read.state, batch_job_read.num_ranks) == (fw.BatchJobState.RUNNING, 4)
    [(method, url, kwargs)] = calls(mocked)
    assert (method, url.path, url.query_string) == ("GET", path, "")
    assert kwargs["headers"]["Authorization"] == f"Bearer {KEY}"


async def test_a_live_bad_key_403_raises_authentication_error(mocked: Any, client: fw.AsyncClient) -> None:
    body = {
        "error": {"message": "Invalid API key", "param": None, "code": "UNAUTHORIZED", "type": "error"},
        "request_id": "req-9",
    }
    mocked.get(ANY, status=403, payload=body)
    with pytest.raises(fw.AuthenticationError) as raised:
        await client.get_batch_inference_job("nightly")
    assert (raised.value.status, raised.value.request_id) == (403, "req-9")
    assert len(calls(mocked)) == 1  # never retried


async def test_get_logs_explodes_ranks_and_sends_nine_digit_start(mocked: Any, client: fw.AsyncClient) -> None:
    mocked.get(ANY, payload={"entries": [ENTRY], "nextPageToken": "p2"})
    page = await client.get_batch_job_logs(
        "nightly",
        ranks=[0, 3],
        page_size=500,
        start_time="2026-11-22T04:00:00.000000001Z",
        filter="loss",
        start_from_head=True,
        page_token="p1",
    )
    assert page.next_page_token == "p2"
    assert page.entries[0].message == "hello"
    [url] = sent_urls(mocked)
    assert url.path == "/v1/accounts/acme/batchJobs/nightly:getLogs"
    assert url.query.getall("ranks") == ["0", "3"]
    assert url.query["pageSize"] == "500"
    assert url.query["startTime"] == "2026-11-22T04:00:00.000000001Z"
    assert url.query["filter"] == "loss"
    assert url.query["startFromHead"] == "true"
    assert url.query["pageToken"] == "p1"


async def test_ids_are_percent_encoded_in_the_path(mocked: Any, client: fw.AsyncClient) -> None:
    mocked.get(ANY, payload={})
    await client.get_batch_inference_job("accounts/other/batchInferenceJobs/job:v2+ü")
    [url] = sent_urls(mocked)
    assert url.raw_path == "/v1/accounts/other/batchInferenceJobs/job%3Av2%2B%C3%BC"


async def test_bad_arguments_raise_before_any_request(mocked: Any, client: fw.AsyncClient) -> None:
    with pytest.raises(ValueError, match="job_id"):
        await client.get_batch_inference_job("../etc")
    with pytest.raises(ValueError, match="page_size"):
        await client.get_batch_job_logs("nightly", page_size=10_001)
    with pytest.raises(ValueError, match="page_size"):
        client.list_batch_inference_jobs(page_size=0)
    assert calls(mocked) == []


async def test_transient_failures_are_retried_with_backoff(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock
) -> None:
    mocked.get(JOB_URL, status=500, payload={"code": 13, "message": "internal"})  # 503 would also lower the rate
    mocked.get(JOB_URL, exception=aiohttp.ServerDisconnectedError())
    mocked.get(JOB_URL, payload={"state": "JOB_STATE_COMPLETED"})
    job = await client.get_batch_inference_job("nightly")
    assert job.state is fw.JobState.COMPLETED
    assert len(calls(mocked)) == 3
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 0.5
    assert 0 <= clock.sleeps[1] <= 1.0


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, fw.BadRequestError),
        (401, fw.AuthenticationError),
        (403, fw.PermissionDeniedError),
        (404, fw.NotFoundError),
    ],
)
async def test_client_errors_are_never_retried(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock, status: int, error: type[Exception]
) -> None:
    mocked.get(JOB_URL, status=status, payload={"code": 5, "message": "nope"}, repeat=True)
    with pytest.raises(error):
        await client.get_batch_inference_job("nightly")
    assert len(calls(mocked)) == 1
    assert clock.sleeps == []


async def test_retry_after_is_honoured(mocked: Any, client: fw.AsyncClient, clock: RecordingClock) -> None:
    mocked.get(JOB_URL, status=429, payload={"code": 8, "message": "slow down"}, headers={"Retry-After": "7"})
    mocked.get(JOB_URL, payload={})
    await client.get_batch_inference_job("nightly")
    assert clock.sleeps == [7.0]


async def test_retries_stop_after_max_attempts_and_raise_the_last_error(mocked: Any, clock: RecordingClock) -> None:
    mocked.get(JOB_URL, status=500, payload={"code": 13, "message": "boom"}, repeat=True)
    policy = fw.RetryPolicy(max_attempts=4)
    async with fw.AsyncClient(api_key=KEY, account_id="acme", base_url=BASE, clock=clock, retry=policy) as c:
        with pytest.raises(fw.ServerError) as raised:
            await c.get_batch_inference_job("nightly")
    assert len(calls(mocked)) == 4
    assert len(clock.sleeps) == 3
    assert raised.value.__notes__ == ["getBatchInferenceJob: gave up after 4 attempts"]


async def test_retries_stop_when_the_time_budget_is_spent(mocked: Any, clock: RecordingClock) -> None:
    mocked.get(JOB_URL, status=429, payload={"code": 8}, headers={"Retry-After": "40"}, repeat=True)
    policy = fw.RetryPolicy(max_attempts=100, timeout=100.0)
    async with fw.AsyncClient(api_key=KEY, account_id="acme", base_url=BASE, clock=clock, retry=policy) as c:
        with pytest.raises(fw.RateLimitError):
            await c.get_batch_inference_job("nightly")
    assert clock.sleeps == [40.0, 40.0]


@pytest.mark.parametrize(
    ("exception", "error"),
    [
        (TimeoutError(), fw.APITimeoutError),
        (aiohttp.ServerTimeoutError("read timeout"), fw.APITimeoutError),
        (aiohttp.ClientConnectionError("refused"), fw.APIConnectionError),
        (aiohttp.ClientPayloadError("cut short"), fw.APIConnectionError),
        (aiohttp.ServerDisconnectedError(), fw.APIConnectionError),
    ],
)
async def test_transport_failures_become_our_errors(
    mocked: Any, clock: RecordingClock, exception: Exception, error: type[Exception]
) -> None:
    mocked.get(JOB_URL, exception=exception, repeat=True)
    async with fw.AsyncClient(
        api_key=KEY, account_id="acme", base_url=BASE, clock=clock, retry=fw.RetryPolicy(max_attempts=2)
    ) as c:
        with pytest.raises(error) as raised:
            await c.get_batch_inference_job("nightly")
    assert not isinstance(raised.value, aiohttp.ClientError)
    assert raised.value.__cause__ is exception  # mapped at one boundary, the cause kept (issue 15)
    assert len(calls(mocked)) == 2


async def test_a_truncated_2xx_body_is_retried_and_a_wrong_shape_is_not(
    mocked: Any, client: fw.AsyncClient, clock: RecordingClock
) -> None:
    mocked.get(ANY, body=b'{"entries": [{"logTi', status=200)
    mocked.get(ANY, payload={"entries": [ENTRY]})
    page = await client.get_batch_job_logs("nightly")
    assert len(page.entries) == 1
    mocked.get(ANY, payload={"entries": {"not": "a list"}}, repeat=True)
    with pytest.raises(fw.InvalidResponseError, match="getBatchJobLogs"):
        await client.get_batch_job_logs("nightly")
    assert len(calls(mocked)) == 3


async def test_list_pages_through_tokens_and_stops_on_a_repeated_token(mocked: Any, client: fw.AsyncClient) -> None:
    mocked.get(ANY, payload={"batchInferenceJobs": [{"name": "a"}, {"name": "b"}], "nextPageToken": "t1"})
    mocked.get(ANY, payload={"batchInferenceJobs": [], "nextPageToken": "t2"})
    mocked.get(ANY, payload={"batchInferenceJobs": [{"name": "c"}], "nextPageToken": "t2"})
    names = [job.name async for job in client.list_batch_inference_jobs(filter='state = "JOB_STATE_RUNNING"')]
    assert names == ["a", "b", "c"]
    urls = sent_urls(mocked)
    assert [url.query.get("pageToken") for url in urls] == [None, "t1", "t2"]
    assert all(url.query["filter"] == 'state = "JOB_STATE_RUNNING"' for url in urls)


# --- configuration, secrets and lifecycle ----------------------------------------------------------------------


def test_credentials_and_endpoint_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREWORKS_API_KEY", KEY)
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", "env-account")
    monkeypatch.setenv("FIREWORKS_BASE_URL", "https://gateway.example/fireworks/")
    client = fw.AsyncClient()
    assert client.account_id == "env-account"
    assert client.base_url == "https://gateway.example/fireworks"
    explicit = fw.AsyncClient(api_key="other", account_id="arg-account", base_url=BASE)
    assert (explicit.account_id, explicit.base_url) == ("arg-account", BASE)


def test_defaults_to_the_public_api() -> None:
    assert fw.AsyncClient(api_key=KEY).base_url == "https://api.fireworks.ai"


@pytest.mark.parametrize("key", [None, "", " fw-abc", "fw-abc\n", "fw ab", "fw-abc\x00"])
def test_a_missing_or_malformed_key_is_refused_without_echoing_it(key: str | None) -> None:
    with pytest.raises(ValueError, match=r"API key|api_key") as raised:
        fw.AsyncClient(api_key=key)
    if key:
        assert key.strip() not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.fireworks.ai", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
        ("http://api.fireworks.ai", False),
        ("http://10.0.0.5", False),
    ],
)
def test_plain_http_is_refused_for_non_loopback_hosts_unless_allowed(url: str, allowed: bool) -> None:
    if allowed:
        assert fw.AsyncClient(api_key=KEY, base_url=url).base_url == url
    else:
        with pytest.raises(ValueError, match="allow_insecure_http"):
            fw.AsyncClient(api_key=KEY, base_url=url)
        assert fw.AsyncClient(api_key=KEY, base_url=url, allow_insecure_http=True).base_url == url


@pytest.mark.parametrize("url", ["ftp://x", "api.fireworks.ai", "https://", "https://x/?q=1", "https://u:p@x"])
def test_malformed_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        fw.AsyncClient(api_key=KEY, base_url=url)


def test_other_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        fw.AsyncClient(api_key=KEY, max_in_flight=0)
    with pytest.raises(ValueError, match="timeout"):
        fw.AsyncClient(api_key=KEY, timeout=0)
    with pytest.raises(ValueError, match="account_id"):
        fw.AsyncClient(api_key=KEY, account_id="a/b")


async def test_the_key_never_appears_in_reprs_errors_or_debug_logs(
    mocked: Any, client: fw.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mocked.get(JOB_URL, status=503, payload={"code": 14, "message": "busy"})
    mocked.get(JOB_URL, status=401, payload={"code": 16, "message": f"invalid API key {KEY}"})
    with pytest.raises(fw.AuthenticationError) as raised:
        await client.get_batch_inference_job("nightly")
    assert "retrying" in caplog.text
    texts = [
        repr(client),
        str(client),
        str(raised.value),
        repr(raised.value),
        caplog.text,
        repr(vars(client)),
    ]
    assert [text for text in texts if KEY in text] == []
    assert "invalid API key <hidden>" in str(raised.value)


async def test_no_session_exists_until_the_first_request(mocked: Any) -> None:
    client = fw.AsyncClient(api_key=KEY, account_id="acme", base_url=BASE)
    assert client._sender.transport is None
    await client.aclose()
    assert calls(mocked) == []


async def test_a_closed_client_refuses_requests_and_closing_twice_is_fine(mocked: Any) -> None:
    mocked.get(ANY, payload={})
    client = fw.AsyncClient(api_key=KEY, account_id="acme", base_url=BASE)
    await client.get_batch_inference_job("nightly")
    await client.aclose()
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.get_batch_inference_job("nightly")


async def test_a_lent_session_is_used_and_left_open(mocked: Any) -> None:
    mocked.get(ANY, payload={})
    async with aiohttp.ClientSession() as session:
        async with fw.AsyncClient(api_key=KEY, account_id="acme", base_url=BASE, session=session) as client:
            await client.get_batch_inference_job("nightly")
        assert not session.closed
    assert len(calls(mocked)) == 1
