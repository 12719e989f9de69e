from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, unquote

import pytest

from fwbatch_async import Timestamp
from fwbatch_async._core.requests import batch_job_request, job_list_request, job_request, log_query


def query_pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))


# --- ids and resource names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "path"),
    [
        ("nightly", "/v1/accounts/acme/batchInferenceJobs/nightly"),
        ("12345", "/v1/accounts/acme/batchInferenceJobs/12345"),
        ("accounts/other/batchInferenceJobs/j-1", "/v1/accounts/other/batchInferenceJobs/j-1"),
        ("job:v2", "/v1/accounts/acme/batchInferenceJobs/job%3Av2"),
        ("tâche", "/v1/accounts/acme/batchInferenceJobs/t%C3%A2che"),
        ("a+b=c&d", "/v1/accounts/acme/batchInferenceJobs/a%2Bb%3Dc%26d"),
    ],
)
def test_job_ids_and_names_become_encoded_paths(job: str, path: str) -> None:
    request = job_request(job, "acme")
    assert request.path == path
    assert request.query == ""
    assert request.endpoint == "getBatchInferenceJob"


@pytest.mark.parametrize(
    ("job", "problem"),
    [
        ("", "job_id must not be empty"),
        ("../x", "contains '/'"),
        ("..", "is not an id"),
        (".", "is not an id"),
        ("a/b", "contains '/'"),
        ("a?b", "contains '\\?'"),
        ("a#b", "contains '#'"),
        ("a b", "contains ' '"),
        ("a\tb", "contains '\\\\t'"),
        ("a\nb", "contains '\\\\n'"),
        ("a\x00b", "contains '\\\\x00'"),
        ("a\x7fb", "contains '\\\\x7f'"),
        ("a%2Fb", "contains '%'"),
        ("a\\b", "contains"),
        ("x" * 1000, "1000 characters long"),
        ("x" * 10_240, "10240 characters long"),
        (
            "accounts/acme/batchJobs/x",
            "not a resource name of the form accounts/{account}/batchInferenceJobs/{id}",
        ),
        ("accounts/acme/batchInferenceJobs", "not a resource name"),
        ("accounts/acme/batchInferenceJobs/x/y", "not a resource name"),
        ("accounts//batchInferenceJobs/x", "account id in job_id must not be empty"),
        ("accounts/a b/batchInferenceJobs/x", "account id in job_id 'a b' contains ' '"),
    ],
)
def test_bad_job_ids_are_refused_with_a_message_naming_the_argument(job: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as raised:
        job_request(job, "acme")
    assert "job_id" in str(raised.value)


def test_ids_must_be_strings() -> None:
    with pytest.raises(TypeError, match="job_id must be a str"):
        job_request(42, "acme")  # type: ignore[arg-type]


def test_a_bare_id_needs_an_account_and_says_how_to_give_one() -> None:
    with pytest.raises(ValueError, match="FIREWORKS_ACCOUNT_ID"):
        job_request("nightly", None)
    assert job_request("accounts/acme/batchInferenceJobs/nightly", None).path.endswith("/nightly")


@pytest.mark.parametrize("account", ["", "a/b", "..", "a?b"])
def test_bad_account_ids_are_refused(account: str) -> None:
    with pytest.raises(ValueError, match="account_id"):
        job_request("nightly", account)


def test_logs_accept_a_batch_job_name_or_an_inference_job_name() -> None:
    assert log_query("accounts/a/batchJobs/77", None).path == "/v1/accounts/a/batchJobs/77:getLogs"
    assert log_query("accounts/a/batchInferenceJobs/j", None).path == "/v1/accounts/a/batchJobs/j:getLogs"
    assert log_query("j", "a").path == "/v1/accounts/a/batchJobs/j:getLogs"
    with pytest.raises(ValueError, match="batch_job_id"):
        log_query("a/b", "a")


# --- getLogs parameters -----------------------------------------------------------------------------------------


def test_log_query_with_every_parameter() -> None:
    query = log_query(
        "j",
        "a",
        ranks=[0, 3],
        page_size=10_000,
        start_time="2026-11-22T05:00:00.000000001+01:00",
        filter="loss=0.5 & step?",
        start_from_head=True,
        read_mask=["logTime", "message"],
    )
    request = query.request("tok/en+=")
    assert request.endpoint == "getBatchJobLogs"
    assert query_pairs(request.query) == [
        ("ranks", "0"),
        ("ranks", "3"),
        ("filter", "loss=0.5 & step?"),
        ("pageSize", "10000"),
        ("startFromHead", "true"),
        ("readMask", "logTime,message"),
        ("startTime", "2026-11-22T04:00:00.000000001Z"),
        ("pageToken", "tok/en+="),
    ]
    # Reserved characters are percent-encoded, never left raw.
    assert "tok%2Fen%2B%3D" in request.query
    assert "startTime=2026-11-22T04%3A00%3A00.000000001Z" in request.query


def test_log_query_defaults_send_nothing_optional() -> None:
    request = log_query("j", "a").request()
    assert request.query == ""
    assert request.target == "/v1/accounts/a/batchJobs/j:getLogs"


def test_only_the_token_varies_while_paging() -> None:
    query = log_query("j", "a", ranks=[1], filter="x", start_time="2026-11-22T04:00:00Z")
    first, second = query.request(), query.request("next")
    assert second.query == first.query + "&pageToken=next"


@pytest.mark.parametrize(
    "start",
    [
        Timestamp.parse("2026-11-22T04:00:00.123456789Z"),
        "2026-11-22T04:00:00.123456789Z",
        "2026-11-22T06:00:00.123456789+02:00",
    ],
)
def test_start_time_is_sent_with_all_nine_digits(start: Timestamp | str) -> None:
    request = log_query("j", "a", start_time=start).request()
    assert unquote(request.query) == "startTime=2026-11-22T04:00:00.123456789Z"


def test_start_time_from_an_aware_datetime_and_never_from_a_naive_one() -> None:
    aware = datetime(2026, 11, 22, 5, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert unquote(log_query("j", "a", start_time=aware).request().query) == (
        "startTime=2026-11-22T04:00:00.000005000Z"
    )
    with pytest.raises(ValueError, match="start_time: naive datetime"):
        log_query("j", "a", start_time=datetime(2026, 11, 22))
    with pytest.raises(ValueError, match="start_time: not an RFC 3339"):
        log_query("j", "a", start_time="yesterday")
    with pytest.raises(TypeError, match="start_time must be"):
        log_query("j", "a", start_time=1_700_000_000)  # type: ignore[arg-type]


def test_timestamps_are_floored_never_rounded_up() -> None:
    # 999 ns after a microsecond boundary must stay, not become the next microsecond.
    start = Timestamp.parse("2026-11-22T04:00:00.000000999Z")
    assert unquote(log_query("j", "a", start_time=start).request().query).endswith(".000000999Z")
    assert start.to_datetime() == datetime(2026, 11, 22, 4, tzinfo=UTC)


@pytest.mark.parametrize(("page_size", "error"), [(0, ValueError), (-1, ValueError), (10_001, ValueError)])
def test_page_size_outside_1_to_10000_is_refused(page_size: int, error: type[Exception]) -> None:
    with pytest.raises(error, match=f"page_size must be between 1 and 10000, got {page_size}"):
        log_query("j", "a", page_size=page_size)


def test_page_size_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="page_size must be an int"):
        log_query("j", "a", page_size=True)
    with pytest.raises(TypeError, match="page_size must be an int"):
        log_query("j", "a", page_size=10.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ranks", "error", "problem"),
    [
        ([], ValueError, "ranks must not be empty"),
        ([-1], ValueError, "ranks must be between 0"),
        ([2**31], ValueError, "ranks must be between 0"),
        ([1.0], TypeError, "ranks must be ints"),
        (["1"], TypeError, "ranks must be ints"),
        ([True], TypeError, "ranks must be ints"),
        ("01", TypeError, "not a string"),
    ],
)
def test_bad_ranks_are_refused(ranks: object, error: type[Exception], problem: str) -> None:
    with pytest.raises(error, match=problem):
        log_query("j", "a", ranks=ranks)  # type: ignore[arg-type]


def test_ranks_accept_any_iterable_and_are_exploded() -> None:
    request = log_query("j", "a", ranks=range(3)).request()
    assert request.query == "ranks=0&ranks=1&ranks=2"


def test_read_mask_takes_a_string_or_paths() -> None:
    assert job_request("j", "a", read_mask="state,jobProgress").query == "readMask=state%2CjobProgress"
    assert job_request("j", "a", read_mask=["state", "jobProgress.percent"]).query == (
        "readMask=state%2CjobProgress.percent"
    )
    with pytest.raises(ValueError, match="read_mask"):
        job_request("j", "a", read_mask=["state", ""])


# --- listing ------------------------------------------------------------------------------------------------------


def test_job_list_request() -> None:
    request = job_list_request(
        "acme",
        page_size=200,
        page_token="t",
        filter='state = "JOB_STATE_RUNNING"',
        order_by="create_time desc",
    )
    assert request.path == "/v1/accounts/acme/batchInferenceJobs"
    assert query_pairs(request.query) == [
        ("pageSize", "200"),
        ("pageToken", "t"),
        ("filter", 'state = "JOB_STATE_RUNNING"'),
        ("orderBy", "create_time desc"),
    ]
    with pytest.raises(ValueError, match="page_size must be between 1 and 200"):
        job_list_request("acme", page_size=201)
    with pytest.raises(ValueError, match="needs an account"):
        job_list_request(None)


# --- issue 16: the batch job behind the logs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("batch_job", "path"),
    [
        ("1234", "/v1/accounts/acme/batchJobs/1234"),
        ("accounts/other/batchJobs/1234", "/v1/accounts/other/batchJobs/1234"),
        ("accounts/acme/batchInferenceJobs/nightly", "/v1/accounts/acme/batchJobs/nightly"),
        ("accounts/acme/clusters/c-7/batchJobs/1234", "/v1/accounts/acme/clusters/c-7/batchJobs/1234"),
    ],
)
def test_a_batch_job_is_read_by_id_or_by_either_of_its_names(batch_job: str, path: str) -> None:
    assert batch_job_request(batch_job, "acme").target == path


def test_logs_of_a_batch_job_named_with_its_cluster_are_read_under_the_documented_path() -> None:
    query = log_query("accounts/acme/clusters/c-7/batchJobs/1234", None)
    assert query.path == "/v1/accounts/acme/batchJobs/1234:getLogs"


@pytest.mark.parametrize(
    "name",
    [
        "accounts/acme/clusters/c-7/batchInferenceJobs/1234",
        "accounts/acme/regions/c-7/batchJobs/1234",
        "accounts/acme/clusters/c-7/batchJobs/12/34",
    ],
)
def test_malformed_cluster_names_are_refused_naming_the_forms(name: str) -> None:
    with pytest.raises(ValueError, match=r"clusters/\{cluster\}/batchJobs"):
        batch_job_request(name, "acme")


def test_an_empty_cluster_is_refused() -> None:
    with pytest.raises(ValueError, match="cluster in batch_job_id must not be empty"):
        batch_job_request("accounts/acme/clusters//batchJobs/1234", "acme")


def test_a_job_is_never_addressed_by_a_batch_jobs_cluster_name() -> None:
    with pytest.raises(ValueError, match="batchInferenceJobs"):
        job_request("accounts/acme/clusters/c-7/batchJobs/1234", "acme")
