"""Hostile bodies: whatever a server or a gateway sends, reading it gives a model or the documented error.

A 2xx body either parses or raises :class:`InvalidResponseError`; any other status raises its
:class:`APIStatusError` subclass. Nothing else may escape (no ``TypeError``, ``KeyError``, ``RecursionError``,
``UnicodeDecodeError``, ``OverflowError``...), and an error's ``str`` must stay printable and bounded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fwbatch_async import APIStatusError, BatchInferenceJob, InvalidResponseError, JobListPage, LogPage
from fwbatch_async._core.requests import job_list_request, job_request, log_query
from fwbatch_async._core.responses import RawResponse, read_response

NOW = 1_795_320_000.0
URL = "https://api.fireworks.ai/v1/accounts/acme/batchInferenceJobs/nightly"
ENDPOINTS = [
    (job_request("nightly", "acme"), BatchInferenceJob),
    (log_query("nightly", "acme").request(), LogPage),
    (job_list_request("acme"), JobListPage),
]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

huge_ints = st.one_of(st.integers(), st.integers(min_value=2**63 - 2, max_value=2**70), st.integers(max_value=-(2**63)))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    huge_ints,
    huge_ints.map(str),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["2026-11-22T04:00:00.123456789Z", "2026-13-45T99:00:00Z", "JOB_STATE_RUNNING", "NaN", "1e999"]),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
)
JOB_FIELDS = [
    "name",
    "displayName",
    "createTime",
    "updateTime",
    "state",
    "status",
    "model",
    "precision",
    "jobProgress",
    "inferenceParameters",
    "continuedFromJobName",
]
PROGRESS_FIELDS = ["percent", "totalInputRequests", "totalProcessedRequests", "failedRequests", "inputTokens"]
ENTRY_FIELDS = ["logTime", "rank", "message"]


def shaped(fields: list[str], value: st.SearchStrategy[Any] = json_values) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the documented field names (any subset), each holding any JSON value."""
    return st.dictionaries(st.sampled_from(fields), value, max_size=len(fields))


entries = st.one_of(shaped(ENTRY_FIELDS), json_values)
job_bodies = st.one_of(
    shaped(JOB_FIELDS),
    shaped(JOB_FIELDS).map(lambda job: {**job, "jobProgress": job.get("jobProgress", {})}),
    st.builds(lambda progress: {"state": "JOB_STATE_RUNNING", "jobProgress": progress}, shaped(PROGRESS_FIELDS)),
)
log_bodies = st.one_of(
    st.builds(lambda items, token: {"entries": items, "nextPageToken": token}, st.lists(entries, max_size=5), scalars),
    st.builds(lambda items: {"entries": items}, json_values),
)
list_bodies = st.builds(
    lambda jobs, token, total: {"batchInferenceJobs": jobs, "nextPageToken": token, "totalSize": total},
    st.lists(st.one_of(shaped(JOB_FIELDS), json_values), max_size=3),
    scalars,
    scalars,
)
error_bodies = st.one_of(
    shaped(["code", "message", "status", "details"]),
    shaped(["code", "message", "status", "details"]).map(lambda status: {"error": status}),
    st.builds(lambda details: {"code": 3, "message": "bad", "details": details}, json_values),
)


def encoded(value: Any) -> bytes:
    return json.dumps(value).encode()


def deep(depth: int, *, key: str = "x") -> bytes:
    """``depth`` nested arrays (or objects under ``key``): more than any recursive parser's stack."""
    return (f'{{"{key}":' * depth + "1" + "}" * depth).encode() if key else b"[" * depth + b"]" * depth


bodies = st.one_of(
    job_bodies.map(encoded),
    log_bodies.map(encoded),
    list_bodies.map(encoded),
    error_bodies.map(encoded),
    json_values.map(encoded),  # any top level: array, string, number, null
    st.binary(max_size=64),  # not JSON, invalid UTF-8
    st.builds(lambda body, junk: body[: len(body) // 2] + junk, log_bodies.map(encoded), st.binary(max_size=4)),
    st.sampled_from(
        [
            b"",
            b"null",
            b"<html><title>502 Bad Gateway</title></html>",
            b'{"entries": [{"logTime": "2026-11-22T04:00:00Z", "rank": 1, "message": "\xff\xfe"}]}',
            b'{"message": "\xc3\x28", "code": 3}',
            b'{"entries": "\xed\xa0\x80"}',
            b'{"rank": 1e400}',
            deep(10_000, key=""),
            deep(10_000, key="jobProgress"),
            deep(200, key="entries"),
            b'{"entries": [{"logTime": "2026-11-22T04:00:00Z", "rank": 0, "message": "' + b"m" * 2_000_000 + b'"}]}',
            b'{"code": 8, "message": "' + b"slow down " * 200_000 + b'"}',
            b'{"code": 99999999999999999999999, "message": null, "details": {"@type": 1}}',
            b'{"error": {"code": "3", "status": 5, "details": [null, 1, {"@type": "x", "reason": 1}]}}',
        ]
    ),
)
statuses = st.sampled_from([200, 201, 204, 299, 301, 400, 401, 403, 404, 409, 418, 429, 499, 500, 502, 503, 599])


def read(status: int, body: bytes, endpoint: int) -> object:
    request, model = ENDPOINTS[endpoint]
    headers = {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT", "x-request-id": body[:20].decode("utf-8", "replace")}
    return read_response(request, RawResponse(status, headers, body, URL), model, now=NOW)


@FUZZ
@given(status=statuses, body=bodies, endpoint=st.integers(0, len(ENDPOINTS) - 1))
@example(status=200, body=deep(100_000, key=""), endpoint=0)
@example(status=200, body=b'{"jobProgress": {"totalProcessedRequests": "99999999999999999999999999"}}', endpoint=0)
@example(status=200, body=b'{"entries": [{"logTime": "2026-11-22T04:00:00Z", "rank": 1e308}]}', endpoint=1)
def test_any_body_parses_or_raises_the_documented_error(status: int, body: bytes, endpoint: int) -> None:
    try:
        result: object = read(status, body, endpoint)
    except (APIStatusError, InvalidResponseError) as error:  # anything else fails the test
        result = error
    if 200 <= status < 300:
        assert isinstance(result, (ENDPOINTS[endpoint][1], InvalidResponseError))
    else:
        assert isinstance(result, APIStatusError)
        assert result.status == status
    assert len(str(result)) < 5_000 or not isinstance(result, Exception)  # printing an error stays sane


@pytest.mark.parametrize("endpoint", range(len(ENDPOINTS)))
@pytest.mark.parametrize(
    "body", [b"[]", b"1", b'"s"', b"null", b"true", b"\xff", b"{", b'{"a":' * 5000], ids=lambda b: repr(b[:12])
)
def test_a_success_that_is_not_an_object_is_an_invalid_response(endpoint: int, body: bytes) -> None:
    with pytest.raises(InvalidResponseError):
        read(200, body, endpoint)


HOSTILE_ERRORS = {
    "huge message": b'{"code": 8, "message": "' + b"slow down " * 200_000 + b'"}',
    "huge html page": b"<html>" + b"x" * 3_000_000,
    "terminal escapes": b'{"code": 3, "message": "\\u001b[2J\\u001b]0;owned\\u0007 gone", "details": []}',
    "invalid utf-8": b'{"code": 3, "message": "\xc3\x28 \xff"}',
    "huge code": b'{"code": 99999999999999999999999, "message": null, "details": {"@type": 1}}',
    "deep": deep(100_000, key="error"),
    "wrong types": b'{"error": {"code": "3", "status": 5, "details": [null, 1, {"@type": "x", "reason": 1}]}}',
}


@pytest.mark.parametrize("status", [400, 429, 500, 502])
@pytest.mark.parametrize("body", HOSTILE_ERRORS.values(), ids=HOSTILE_ERRORS.keys())
def test_hostile_error_bodies_become_a_printable_bounded_status_error(status: int, body: bytes) -> None:
    with pytest.raises(APIStatusError) as raised:
        read(status, body, 0)
    shown = str(raised.value)
    assert raised.value.status == status
    assert len(shown) < 2_000
    assert not [ch for ch in shown if ord(ch) < 32 or 127 <= ord(ch) < 160]
    if body.startswith(b'{"code": 8'):
        assert raised.value.message == "slow down " * 200_000  # kept whole for who needs it
