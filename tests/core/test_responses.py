from __future__ import annotations

import json

import pytest

from fwbatch_async import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BatchInferenceJob,
    ConflictError,
    InvalidResponseError,
    JobState,
    LogPage,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from fwbatch_async._core.errors import redact
from fwbatch_async._core.requests import job_request, log_query
from fwbatch_async._core.responses import RawResponse, read_response

JOB = job_request("nightly", "acme")
LOGS = log_query("nightly", "acme").request()
NOW = 1_795_320_000.0
URL = "https://api.fireworks.ai/v1/accounts/acme/batchInferenceJobs/nightly"


def response(status: int, body: bytes | str | object, **headers: str) -> RawResponse:
    raw = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    return RawResponse(status, {k.replace("_", "-"): v for k, v in headers.items()}, raw, URL)


def error_of(raw: RawResponse) -> APIStatusError:
    with pytest.raises(APIStatusError) as raised:
        read_response(JOB, raw, BatchInferenceJob, now=NOW)
    return raised.value


def test_a_2xx_body_becomes_the_model() -> None:
    job = read_response(JOB, response(200, {"name": URL, "state": "JOB_STATE_COMPLETED"}), BatchInferenceJob, now=NOW)
    assert job.state is JobState.COMPLETED
    page = read_response(LOGS, response(200, {"entries": [{"logTime": "2026-11-22T04:00:00Z"}]}), LogPage, now=NOW)
    assert len(page.entries) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (418, APIStatusError),
        (408, APIStatusError),
    ],
)
def test_each_status_gets_its_error_class(status: int, cls: type[APIStatusError]) -> None:
    error = error_of(response(status, {"code": 2, "message": "m"}))
    assert type(error) is cls
    assert error.status == status


def test_a_google_rpc_status_body_gives_code_name_message_details_and_reason() -> None:
    body = {
        "code": 5,
        "message": "batch inference job not found",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": "r"},
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "JOB_NOT_FOUND",
                "domain": "fireworks.ai",
                "metadata": {"job": "nightly"},
            },
        ],
    }
    error = error_of(response(404, body, x_request_id="req-123"))
    assert isinstance(error, NotFoundError)
    assert error.code == "NOT_FOUND"
    assert error.message == "batch inference job not found"
    assert error.reason == "JOB_NOT_FOUND"
    assert error.details[1]["metadata"] == {"job": "nightly"}
    assert error.request_id == "req-123"
    assert error.url == URL
    assert str(error) == (
        f"HTTP 404 NOT_FOUND: batch inference job not found (reason JOB_NOT_FOUND; request id req-123; {URL})"
    )


def test_a_wrapped_error_body() -> None:
    error = error_of(response(400, {"error": {"code": 3, "message": "invalid page token"}}))
    assert (error.code, error.message) == ("INVALID_ARGUMENT", "invalid page token")


def test_a_google_style_body_with_http_code_and_status_name() -> None:
    error = error_of(response(429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}))
    assert (error.code, error.message) == ("RESOURCE_EXHAUSTED", "quota")


LIVE_BAD_KEY = {
    "error": {"message": "Invalid API key provided", "param": None, "code": "UNAUTHORIZED", "type": "error"},
    "request_id": "req-live-1",
}


def test_a_403_that_says_the_key_is_invalid_is_an_authentication_error_with_the_bodys_request_id() -> None:
    error = error_of(response(403, LIVE_BAD_KEY))
    assert type(error) is AuthenticationError
    assert (error.status, error.code, error.request_id) == (403, "UNAUTHORIZED", "req-live-1")
    assert "Invalid API key provided" in str(error)
    assert "check FIREWORKS_API_KEY" in str(error)


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("The API key is invalid", AuthenticationError),
        ("invalid api key", AuthenticationError),
        ("this key may not read account acme", PermissionDeniedError),
        ("permission denied on resource", PermissionDeniedError),
    ],
)
def test_a_403_without_a_code_is_an_authentication_error_only_when_its_message_says_the_key_is_bad(
    message: str, cls: type[APIStatusError]
) -> None:
    assert type(error_of(response(403, {"code": 7, "message": message}))) is cls


def test_a_header_request_id_wins_over_the_bodys() -> None:
    assert error_of(response(403, LIVE_BAD_KEY, x_request_id="req-header")).request_id == "req-header"


def test_a_429_whose_error_is_a_plain_string() -> None:
    error = error_of(response(429, {"error": "Too Many Requests"}))
    assert type(error) is RateLimitError
    assert (error.code, error.message) == (None, "Too Many Requests")


def test_the_live_not_found_body() -> None:
    error = error_of(response(404, {"code": 5, "details": [], "message": "resource not found"}))
    assert (type(error), error.code, error.message) == (NotFoundError, "NOT_FOUND", "resource not found")


def test_an_unknown_numeric_code_is_kept_as_its_number() -> None:
    assert error_of(response(500, {"code": 99, "message": "m"})).code == "99"


def test_an_html_gateway_page_gives_its_title() -> None:
    html = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
    error = error_of(response(502, html, content_type="text/html"))
    assert isinstance(error, ServerError)
    assert error.code is None
    assert error.message == "502 Bad Gateway"
    assert error.details == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "(empty body)"),
        (b"upstream connect error or disconnect/reset before headers", "upstream connect error"),
        (b"\xff\xfe not utf-8", "not utf-8"),
        (b"[1, 2]", "[1, 2]"),
        (b'"just a string"', '"just a string"'),
        (b'{"code": "UNAVAILABLE"}', "(no message)"),
    ],
)
def test_bodies_that_are_not_a_status_still_give_a_readable_message(body: bytes, message: str) -> None:
    error = error_of(response(503, body))
    assert message in error.message
    assert len(error.message) <= 200


def test_a_very_long_body_is_cut_in_the_message() -> None:
    assert len(error_of(response(500, b"x" * 1_000_000)).message) == 200


def test_retry_after_is_read_from_error_responses() -> None:
    assert error_of(response(429, {"code": 8}, retry_after="7")).retry_after == 7.0
    assert error_of(response(503, {"code": 14})).retry_after is None


def test_a_2xx_body_that_is_not_json_is_a_transient_invalid_response() -> None:
    with pytest.raises(InvalidResponseError) as raised:
        read_response(LOGS, response(200, b'{"entries": [{"logTime": "2026-11'), LogPage, now=NOW)
    error = raised.value
    assert error.transient
    assert error.endpoint == "getBatchJobLogs"
    assert "invalid getBatchJobLogs response (HTTP 200): body is not JSON" in str(error)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"entries": "nope"}, "entries: expected a JSON array"),
        ([], "expected a JSON object"),
        ({"entries": [{"logTime": 12}]}, r"entries\[0\]"),
    ],
)
def test_a_2xx_body_of_the_wrong_shape_names_the_endpoint_and_is_not_transient(body: object, problem: str) -> None:
    with pytest.raises(InvalidResponseError, match=problem) as raised:
        read_response(LOGS, response(200, body), LogPage, now=NOW)
    assert not raised.value.transient
    assert raised.value.endpoint == "getBatchJobLogs"


def test_a_job_of_the_wrong_shape_names_the_field() -> None:
    with pytest.raises(InvalidResponseError, match="job_progress") as raised:
        read_response(JOB, response(200, {"jobProgress": {"percent": "lots"}}), BatchInferenceJob, now=NOW)
    assert raised.value.endpoint == "getBatchInferenceJob"


def test_deeply_nested_json_is_an_invalid_response_not_a_crash() -> None:
    body = b'{"extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(InvalidResponseError):
        read_response(JOB, response(200, body), BatchInferenceJob, now=NOW)


def test_redact_hides_a_secret_everywhere_in_an_error() -> None:
    secret = "fw-abc123"
    error = error_of(
        response(
            401,
            {
                "code": 16,
                "message": f"bad key {secret}",
                "details": [{"reason": secret, "metadata": {secret: [secret]}}],
            },
            x_request_id=f"id-{secret}",
        )
    )
    redact(error, secret)
    assert secret not in repr((str(error), repr(error), error.args, vars(error)))
    assert error.message == "bad key <hidden>"
    assert error.details == ({"reason": "<hidden>", "metadata": {"<hidden>": ["<hidden>"]}},)
    assert isinstance(error, AuthenticationError)
