from __future__ import annotations

import gc
import math
from typing import Any

import cattrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwbatch_async import (
    BatchInferenceJob,
    BatchJob,
    BatchJobState,
    InferenceParameters,
    JobListPage,
    JobProgress,
    JobState,
    Lifecycle,
    LogEntry,
    LogPage,
    Placement,
    Precision,
    Status,
    Timestamp,
)
from fwbatch_async._core.convert import WireFormatError, converter, describe_error, strict_converter
from fwbatch_async._core.requests import Request
from fwbatch_async._core.responses import RawResponse, read_response

# Every field the seed page and fireworks-api.md §2 document, with realistic values.
FULL_JOB: dict[str, Any] = {
    "name": "accounts/acme/batchInferenceJobs/nightly-eval",
    "displayName": "Nightly eval",
    "createTime": "2026-11-22T03:00:00.123456789Z",
    "createdBy": "ops@acme.example",
    "state": "JOB_STATE_RUNNING",
    "status": {"code": "OK", "message": ""},
    "model": "accounts/fireworks/models/llama-v3p1-8b-instruct",
    "inputDatasetId": "eval-input",
    "outputDatasetId": "eval-output",
    "inferenceParameters": {
        "maxTokens": 512,
        "temperature": 0.7,
        "topP": 0.9,
        "n": 1,
        "extraBody": '{"stop": ["\\n"]}',
        "topK": 40,
    },
    "updateTime": "2026-11-22T03:10:00Z",
    "precision": "FP8",
    "jobProgress": {
        "percent": 42,
        "epoch": 1,
        "totalInputRequests": 1000,
        "totalProcessedRequests": "420",
        "successfullyProcessedRequests": "418",
        "failedRequests": 2,
        "outputRows": "418",
        "inputTokens": "12345678901234",
        "outputTokens": "9876543210",
        "cachedInputTokenCount": "0",
    },
    "continuedFromJobName": "accounts/acme/batchInferenceJobs/nightly-eval-0",
    "expireTime": "2026-11-23T03:00:00Z",
    "waitingOnCapacity": False,
    "maxJobDuration": "86400s",
}

EXPECTED_FULL_JOB = BatchInferenceJob(
    name="accounts/acme/batchInferenceJobs/nightly-eval",
    display_name="Nightly eval",
    create_time=Timestamp.parse("2026-11-22T03:00:00.123456789Z"),
    created_by="ops@acme.example",
    state=JobState.RUNNING,
    status=Status(code="OK", message=""),
    model="accounts/fireworks/models/llama-v3p1-8b-instruct",
    input_dataset_id="eval-input",
    output_dataset_id="eval-output",
    inference_parameters=InferenceParameters(
        max_tokens=512, temperature=0.7, top_p=0.9, n=1, extra_body='{"stop": ["\\n"]}', top_k=40
    ),
    update_time=Timestamp.parse("2026-11-22T03:10:00Z"),
    precision=Precision.FP8,
    job_progress=JobProgress(
        percent=42,
        epoch=1,
        total_input_requests=1000,
        total_processed_requests=420,
        successfully_processed_requests=418,
        failed_requests=2,
        output_rows=418,
        input_tokens=12_345_678_901_234,
        output_tokens=9_876_543_210,
        cached_input_token_count=0,
    ),
    continued_from_job_name="accounts/acme/batchInferenceJobs/nightly-eval-0",
    expire_time=Timestamp.parse("2026-11-23T03:00:00Z"),
    waiting_on_capacity=False,
    max_job_duration="86400s",
)


def test_every_documented_job_field_parses_under_the_strict_converter() -> None:
    job = strict_converter.structure(FULL_JOB, BatchInferenceJob)
    assert job == EXPECTED_FULL_JOB
    assert job.extra == {}
    assert (job.job_id, job.account_id) == ("nightly-eval", "acme")
    assert str(job.create_time) == "2026-11-22T03:00:00.123456789Z"


# A job as live Fireworks serves it while VALIDATING (fireworks-api.md §6): every default written out.
LIVE_VALIDATING_JOB: dict[str, Any] = {
    "name": "accounts/acme/batchInferenceJobs/nightly-eval",
    "displayName": "",
    "createTime": "2026-12-01T10:00:00.123456Z",
    "createdBy": "ops@acme.example",
    "state": "JOB_STATE_VALIDATING",
    "status": {"code": "OK", "message": ""},
    "model": "accounts/fireworks/models/llama-v3p1-8b-instruct",
    "inputDatasetId": "accounts/acme/datasets/eval-input",
    "outputDatasetId": "",
    "inferenceParameters": None,
    "updateTime": "2026-12-01T10:00:00.123456Z",
    "precision": "PRECISION_UNSPECIFIED",
    "jobProgress": None,
    "continuedFromJobName": "",
    "expireTime": "2026-12-02T10:00:00.123456Z",
    "maxJobDuration": None,
    "lifecycle": {"validatedTime": None, "runStartTime": None, "endTime": None},
    "placement": {"region": "", "multiRegion": "", "regions": []},
    "systemPrompt": "",
    "waitingOnCapacity": False,
}


def test_a_live_job_with_every_default_written_out_parses_under_the_strict_converter() -> None:
    job = strict_converter.structure(LIVE_VALIDATING_JOB, BatchInferenceJob)
    assert job.extra == {}
    assert (job.state, job.job_progress, job.inference_parameters) == (JobState.VALIDATING, None, None)
    assert job.lifecycle == Lifecycle()
    assert job.placement == Placement()
    assert (job.max_job_duration, job.system_prompt, job.requests_done) == ("", "", (0, 0))
    assert str(job.expire_time) == "2026-12-02T10:00:00.123456Z"


def test_the_newer_fields_are_typed() -> None:
    data = {
        "lifecycle": {"validatedTime": "2026-12-01T10:01:00Z", "runStartTime": "2026-12-01T11:00:00Z"},
        "placement": {"region": "US_IOWA_1", "multiRegion": "US", "regions": ["US_IOWA_1", "US_VIRGINIA_1"]},
        "systemPrompt": "Answer briefly.",
        "jobProgress": {"totalInputRequests": 100, "totalProcessedRequests": 104},
    }
    job = strict_converter.structure(data, BatchInferenceJob)
    assert job.lifecycle == Lifecycle(
        validated_time=Timestamp.parse("2026-12-01T10:01:00Z"), run_start_time=Timestamp.parse("2026-12-01T11:00:00Z")
    )
    assert job.placement == Placement(region="US_IOWA_1", multi_region="US", regions=("US_IOWA_1", "US_VIRGINIA_1"))
    assert job.system_prompt == "Answer briefly."
    assert job.requests_done == (104, 104)  # processing can pass the declared dataset size
    assert converter.structure(converter.unstructure(job), BatchInferenceJob) == job


def test_a_batch_job_parses_with_its_own_states() -> None:
    data = {
        "name": "accounts/acme/clusters/c-7/batchJobs/4711",
        "state": "RUNNING",
        "status": "",
        "numRanks": 4,
        "startTime": "2026-12-01T11:00:00Z",
        "endTime": None,
    }
    batch_job = strict_converter.structure(data, BatchJob)
    assert (batch_job.batch_job_id, batch_job.cluster_id, batch_job.account_id) == ("4711", "c-7", "acme")
    assert (batch_job.state, batch_job.num_ranks, batch_job.end_time) == (BatchJobState.RUNNING, 4, None)
    assert not batch_job.state.is_finished
    assert converter.structure({"state": "SUSPENDED"}, BatchJob).state.is_known is False


def test_the_seed_page_example_parses() -> None:
    # The example response of the seed page, with its placeholder values.
    seed = {
        "name": "<string>",
        "displayName": "<string>",
        "createTime": "2023-11-07T05:31:56Z",
        "createdBy": "<string>",
        "state": "JOB_STATE_UNSPECIFIED",
        "status": {"code": "OK", "message": "<string>"},
        "model": "<string>",
        "inputDatasetId": "<string>",
        "outputDatasetId": "<string>",
        "inferenceParameters": {
            "maxTokens": 123,
            "temperature": 123,
            "topP": 123,
            "n": 123,
            "extraBody": "<string>",
            "topK": 123,
        },
        "updateTime": "2023-11-07T05:31:56Z",
        "precision": "PRECISION_UNSPECIFIED",
        "jobProgress": dict.fromkeys(
            [
                "percent",
                "epoch",
                "totalInputRequests",
                "totalProcessedRequests",
                "successfullyProcessedRequests",
                "failedRequests",
                "outputRows",
                "inputTokens",
                "outputTokens",
                "cachedInputTokenCount",
            ],
            123,
        ),
        "continuedFromJobName": "<string>",
    }
    job = strict_converter.structure(seed, BatchInferenceJob)
    assert job.inference_parameters == InferenceParameters(
        max_tokens=123, temperature=123.0, top_p=123.0, n=123, extra_body="<string>", top_k=123
    )
    assert job.job_progress is not None
    assert job.job_progress.cached_input_token_count == 123
    assert job.job_id == "<string>"
    assert job.account_id == ""


def test_an_empty_object_is_a_job_with_proto3_defaults() -> None:
    job = converter.structure({}, BatchInferenceJob)
    assert job == BatchInferenceJob()
    assert job.state is JobState.UNSPECIFIED
    assert job.job_progress is None
    assert job.create_time is None


def test_null_means_the_default_for_every_kind_of_field() -> None:
    data = dict.fromkeys(FULL_JOB)
    assert converter.structure(data, BatchInferenceJob) == BatchInferenceJob()
    assert strict_converter.structure(data, BatchInferenceJob) == BatchInferenceJob()


def test_unknown_values_and_fields_are_kept_by_the_client_and_rejected_by_the_strict_converter() -> None:
    data = {
        **FULL_JOB,
        "state": "JOB_STATE_WARMING_UP",
        "precision": "FP2",
        "priority": {"tier": "gold"},
        "jobProgress": {**FULL_JOB["jobProgress"], "gpuSeconds": "123"},
        "status": {"code": "OK", "message": "", "retryable": True},
    }
    job = converter.structure(data, BatchInferenceJob)
    assert job.state.value == "JOB_STATE_WARMING_UP"
    assert not job.state.is_known
    assert not job.state.is_finished
    assert job.precision.value == "FP2"
    assert job.extra == {"priority": {"tier": "gold"}}
    assert job.job_progress is not None
    assert job.job_progress.extra == {"gpuSeconds": "123"}
    assert job.status is not None
    assert job.status.extra == {"retryable": True}
    with pytest.raises(cattrs.BaseValidationError) as raised:
        strict_converter.structure(data, BatchInferenceJob)
    assert "priority" in describe_error(raised.value)
    with pytest.raises(cattrs.BaseValidationError):
        strict_converter.structure({"state": "JOB_STATE_WARMING_UP"}, BatchInferenceJob)


@pytest.mark.parametrize(
    ("wire", "value"),
    [(7, 7), ("7", 7), ("-7", -7), ("+7", 7), ("9223372036854775807", 2**63 - 1), (7.0, 7)],
)
def test_integers_accept_json_numbers_and_decimal_strings(wire: object, value: int) -> None:
    progress = converter.structure({"inputTokens": wire}, JobProgress)
    assert progress.input_tokens == value
    assert type(progress.input_tokens) is int


@pytest.mark.parametrize("wire", ["12.5", "0x10", "1_000", " 7", "", "١٢", True, 7.5, [7], {"v": 7}, "9" * 30])
def test_integers_reject_anything_else(wire: object) -> None:
    with pytest.raises(cattrs.BaseValidationError) as raised:
        converter.structure({"inputTokens": wire}, JobProgress)
    assert "input_tokens" in describe_error(raised.value)


def test_the_strict_converter_refuses_floats_for_integers() -> None:
    with pytest.raises(cattrs.BaseValidationError):
        strict_converter.structure({"inputTokens": 7.0}, JobProgress)


@pytest.mark.parametrize(
    ("wire", "check"),
    [
        (0.5, lambda v: v == 0.5),
        (1, lambda v: v == 1.0),
        ("0.25", lambda v: v == 0.25),
        ("1e-3", lambda v: v == 0.001),
        ("NaN", math.isnan),
        ("Infinity", lambda v: v == math.inf),
        ("-Infinity", lambda v: v == -math.inf),
    ],
)
def test_floats_accept_numbers_and_proto3_strings(wire: object, check: Any) -> None:
    params = converter.structure({"temperature": wire}, InferenceParameters)
    assert params.temperature is not None
    assert check(params.temperature)


@pytest.mark.parametrize(
    ("field", "wire"),
    [
        ("state", 3),
        ("name", 42),
        ("createTime", 1700000000),
        ("createTime", "yesterday"),
        ("jobProgress", [1, 2]),
        ("status", "OK"),
        ("waitingOnCapacity", "yes"),
        ("temperature", "warm"),
    ],
)
def test_wrong_types_are_errors_that_name_the_field(field: str, wire: object) -> None:
    target: type[Any] = InferenceParameters if field == "temperature" else BatchInferenceJob
    with pytest.raises(cattrs.BaseValidationError) as raised:
        converter.structure({field: wire}, target)
    snake = {
        "createTime": "create_time",
        "jobProgress": "job_progress",
        "waitingOnCapacity": "waiting_on_capacity",
    }
    assert snake.get(field, field) in describe_error(raised.value)


def test_a_job_is_not_a_list() -> None:
    with pytest.raises(WireFormatError, match="expected a JSON object"):
        converter.structure([FULL_JOB], BatchInferenceJob)


def test_status_code_accepts_a_numeric_code_from_a_lenient_server() -> None:
    assert converter.structure({"code": 13, "message": "boom"}, Status) == Status("INTERNAL", "boom")
    with pytest.raises(cattrs.BaseValidationError):
        strict_converter.structure({"code": 13}, Status)


def test_unstructure_writes_the_wire_format_back_exactly() -> None:
    data = converter.unstructure(converter.structure({**FULL_JOB, "labels": {"team": "eval"}}, BatchInferenceJob))
    assert data["createTime"] == "2026-11-22T03:00:00.123456789Z"
    assert data["state"] == "JOB_STATE_RUNNING"
    assert data["jobProgress"]["inputTokens"] == 12_345_678_901_234
    assert data["labels"] == {"team": "eval"}
    assert "extra" not in data


_ints = st.integers(min_value=0, max_value=2**63 - 1)
_stamps = st.integers(min_value=0, max_value=2**62).map(Timestamp)
_texts = st.text(max_size=20)
_jobs = st.builds(
    BatchInferenceJob,
    name=_texts,
    display_name=_texts,
    create_time=st.none() | _stamps,
    state=st.sampled_from(list(JobState)) | st.just(JobState("JOB_STATE_FUTURE")),
    status=st.none() | st.builds(Status, code=st.sampled_from(["OK", "INTERNAL"]), message=_texts),
    precision=st.sampled_from(list(Precision)),
    job_progress=st.none() | st.builds(JobProgress, *[_ints] * 10),
    inference_parameters=st.none()
    | st.builds(
        InferenceParameters,
        max_tokens=st.none() | _ints,
        temperature=st.none() | st.floats(allow_nan=False),
        top_k=st.none() | _ints,
    ),
    waiting_on_capacity=st.booleans(),
)


@given(_jobs)
def test_jobs_round_trip_through_the_wire_format(job: BatchInferenceJob) -> None:
    assert converter.structure(converter.unstructure(job), BatchInferenceJob) == job


def test_job_list_pages_parse_and_normalise_the_empty_token() -> None:
    page = converter.structure(
        {"batchInferenceJobs": [FULL_JOB, {}], "nextPageToken": "", "totalSize": "2"}, JobListPage
    )
    assert page.jobs == (EXPECTED_FULL_JOB, BatchInferenceJob())
    assert page.next_page_token is None
    assert page.total_size == 2
    assert converter.structure({}, JobListPage) == JobListPage()


# --- log pages ---------------------------------------------------------------------------------------------------

T1 = "2026-11-22T04:00:00.000000001Z"


def test_log_entries_in_every_proto3_shape() -> None:
    page = converter.structure(
        {
            "entries": [
                {"logTime": T1, "rank": 3, "message": "step 1"},
                {"logTime": T1, "message": "rank zero is omitted"},
                {"logTime": T1, "rank": 2},
                {"logTime": T1, "rank": "5", "message": "rank as a string"},
                {"logTime": T1, "rank": None, "message": None},
                {"rank": 1, "message": "no time"},
                {"logTime": T1, "rank": 1, "message": "x", "severity": "WARNING"},
            ],
            "nextPageToken": "abc",
        },
        LogPage,
    )
    t1 = Timestamp.parse(T1)
    assert page.entries == (
        LogEntry(t1, 3, "step 1"),
        LogEntry(t1, 0, "rank zero is omitted"),
        LogEntry(t1, 2, ""),
        LogEntry(t1, 5, "rank as a string"),
        LogEntry(t1, 0, ""),
        LogEntry(Timestamp(0), 1, "no time"),
        LogEntry(t1, 1, "x", {"severity": "WARNING"}),
    )
    assert page.next_page_token == "abc"
    assert str(page.entries[0].log_time) == T1


@pytest.mark.parametrize(
    ("data", "entries", "token"),
    [
        ({}, (), None),
        ({"entries": []}, (), None),
        ({"nextPageToken": "t"}, (), "t"),
        ({"entries": None, "nextPageToken": ""}, (), None),
        ({"entries": [], "nextPageToken": None}, (), None),
    ],
)
def test_empty_pages_with_and_without_tokens(data: dict[str, Any], entries: tuple[()], token: str | None) -> None:
    page = converter.structure(data, LogPage)
    assert page.entries == entries
    assert page.next_page_token == token


def test_unknown_page_fields_are_kept() -> None:
    page = converter.structure({"entries": [], "totalSize": 3}, LogPage)
    assert page.extra == {"totalSize": 3}
    with pytest.raises(WireFormatError, match="unknown keys"):
        strict_converter.structure({"entries": [], "totalSize": 3}, LogPage)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "expected a JSON object"),
        ({"entries": {}}, "entries: expected a JSON array"),
        ({"entries": ["line"]}, r"entries\[0\]: expected a JSON object"),
        ({"entries": [{"logTime": T1}, {"logTime": 5}]}, r"entries\[1\]: expected an RFC 3339"),
        ({"entries": [{"logTime": T1}, {"logTime": "soon"}]}, r"entries\[1\]: not an RFC 3339 timestamp"),
        ({"entries": [{"logTime": T1, "rank": True}]}, r"entries\[0\]: expected an integer"),
        ({"entries": [{"logTime": T1, "rank": 1.5}]}, r"entries\[0\]: expected an integer"),
        ({"entries": [{"logTime": T1, "message": ["a"]}]}, r"entries\[0\]: expected a string"),
        ({"entries": [], "nextPageToken": 7}, "nextPageToken: expected a string"),
    ],
)
def test_malformed_log_pages_are_errors_naming_the_place(data: object, problem: str) -> None:
    with pytest.raises(WireFormatError, match=problem):
        converter.structure(data, LogPage)


def test_decoding_a_page_never_switches_the_garbage_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    """A library inside other people's services must not toggle a process-wide switch (issue 15)."""

    def switched() -> None:
        raise AssertionError("the garbage collector was switched")

    monkeypatch.setattr(gc, "disable", switched)
    monkeypatch.setattr(gc, "enable", switched)
    body = orjson.dumps({"entries": [{"logTime": T1, "rank": 1, "message": "m"}] * 1000})
    request = Request("getBatchJobLogs", "/v1/accounts/a/batchJobs/j:getLogs")
    page = read_response(request, RawResponse(200, {}, body, "u"), LogPage, now=0.0)
    assert len(page.entries) == 1000
    with pytest.raises(WireFormatError):
        converter.structure({"entries": [{"logTime": T1, "rank": 1, "message": "m"}, "line"]}, LogPage)


def test_the_strict_converter_validates_every_timestamp_eagerly() -> None:
    with pytest.raises(WireFormatError, match="entries"):
        strict_converter.structure({"entries": [{"logTime": "2026-02-30T00:00:00Z"}]}, LogPage)


_wire_entries = st.lists(
    st.fixed_dictionaries(
        {"logTime": st.integers(min_value=0, max_value=2**62).map(lambda ns: Timestamp(ns).rfc3339())},
        optional={
            "rank": st.integers(min_value=0, max_value=2**31 - 1) | st.integers(0, 99).map(str) | st.none(),
            "message": st.text(max_size=30) | st.none(),
            "severity": st.sampled_from(["INFO", "WARNING"]),
        },
    ),
    max_size=30,
)


@given(_wire_entries)
def test_the_fast_path_agrees_with_the_exact_path(raw: list[dict[str, Any]]) -> None:
    fast = converter.structure({"entries": raw}, LogPage).entries
    exact = tuple(
        LogEntry(
            Timestamp.parse(item["logTime"]),
            int(item.get("rank") or 0),
            item.get("message") or "",
            {"severity": item["severity"]} if "severity" in item else None,
        )
        for item in raw
    )
    assert fast == exact
    assert [entry.log_time.ns for entry in fast] == [entry.log_time.ns for entry in exact]


@given(_wire_entries)
def test_log_pages_round_trip(raw: list[dict[str, Any]]) -> None:
    page = converter.structure({"entries": raw, "nextPageToken": "next"}, LogPage)
    assert converter.structure(converter.unstructure(page), LogPage) == page


def test_sorting_entries_sorts_them_by_time_then_rank_then_message() -> None:
    late, early = Timestamp.parse("2026-11-22T04:00:01Z"), Timestamp.parse("2026-11-22T04:00:00.5Z")
    entries = [
        LogEntry(late, 0, "a"),
        LogEntry(early, 1, "b"),
        LogEntry(early, 0, "c"),
        LogEntry(early, 0, "b"),
    ]
    assert [e.message for e in sorted(entries)] == ["b", "c", "b", "a"]
