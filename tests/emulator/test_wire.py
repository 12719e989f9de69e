"""The emulator's own timestamp, duration, default and error writing (unit tests; conformance is over HTTP)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwbatch_async.emulator.wire import (
    GRPC_CODES,
    error_body,
    format_duration,
    format_timestamp,
    http_date,
    omit_defaults,
    parse_timestamp,
)

from . import schemas
from .helpers import ns_of

times = st.integers(0, 253_402_300_799 * 10**9 + 999_999_999)


@given(times, st.sampled_from([0, 3, 6, 9]))
def test_format_then_parse_is_exact_at_the_digits_written(time_ns: int, digits: int) -> None:
    text = format_timestamp(time_ns, digits)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d" + (rf"\.\d{{{digits}}}" if digits else "") + "Z", text)
    floored = time_ns - time_ns % 10 ** (9 - digits)
    assert parse_timestamp(text) == floored
    assert ns_of(text) == floored


@given(times)
def test_format_matches_datetime_to_the_second(time_ns: int) -> None:
    expected = datetime.fromtimestamp(time_ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert format_timestamp(time_ns, 0) == expected + "Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000000001Z", 1),
        ("1970-01-01T01:00:00+01:00", 0),
        ("1969-12-31T23:59:59.5-00:00", -500_000_000),
        ("2024-02-29T12:00:00.25z", 1_709_208_000_250_000_000),
    ],
)
def test_parse_known_values(text: str, expected: int) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["2023-02-29T00:00:00Z", "2024-01-01T00:00:60Z", "2024-01-01T00:00:00+24:00", ""])
def test_parse_rejects_invalid(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_timestamp(text)


@pytest.mark.parametrize("name", sorted(set(GRPC_CODES) - {"OK", "NOT_FOUND"}))
def test_error_bodies_are_google_rpc_status(name: str) -> None:
    body = orjson.loads(error_body(name, "message", "SOME_REASON"))
    schemas.validate(body, schemas.ERROR_SCHEMA)
    assert body["code"] == GRPC_CODES[name][0]


def test_not_found_is_written_as_captured_live() -> None:
    body = error_body("NOT_FOUND", "resource not found", "NOT_FOUND")
    assert body == b'{"code":5,"details":[],"message":"resource not found"}'


@pytest.mark.parametrize(
    ("seconds", "text"), [(86400, "86400s"), (1.5, "1.500s"), (0.000_001, "0.000001s"), (2.000_000_001, "2.000000001s")]
)
def test_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_omit_defaults_drops_what_proto3_leaves_out_and_keeps_set_sub_objects() -> None:
    resource = {
        "zero": 0,
        "zero_float": 0.0,
        "empty": "",
        "false": False,
        "none": None,
        "list": [],
        "true": True,
        "one": 1,
        "enum": "OK",
        "nested": {"percent": 0, "total": 3, "inner": {"x": 0}},
        "empty_nested": {"a": None},
    }
    assert omit_defaults(resource) == {
        "true": True,
        "one": 1,
        "enum": "OK",
        "nested": {"total": 3, "inner": {}},
        "empty_nested": {},
    }


def test_http_date() -> None:
    assert http_date(1_767_225_600 * 10**9 + 999) == "Thu, 01 Jan 2026 00:00:00 GMT"
