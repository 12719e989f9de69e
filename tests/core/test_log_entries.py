"""Log pages through the compiled decoder: entries mean what they meant, and every odd shape still reads (issue 17)."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwbatch_async import InvalidResponseError, LogEntry, LogPage, Timestamp, to_wire
from fwbatch_async._core.convert import converter
from fwbatch_async._core.logdecode import decode_log_page
from fwbatch_async._core.requests import log_query
from fwbatch_async._core.responses import RawResponse, read_response

LOGS = log_query("nightly", "acme").request()
TIME = "2026-11-22T04:00:00.123456789Z"


def page_of(body: Any) -> LogPage:
    """A log page as the client reads a 200 response."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return read_response(LOGS, RawResponse(200, {}, raw, "https://api.fireworks.ai/v1/logs"), LogPage, now=0.0)


def exact_path(body: dict[str, Any]) -> LogPage:
    """The same page through the exact (cattrs) path, which reads every form proto3 JSON allows."""
    return converter.structure(body, LogPage)


USUAL_ENTRIES: list[dict[str, Any]] = [
    {"logTime": TIME, "rank": 3, "message": "step 1"},
    {"logTime": "2026-11-22T04:00:01.5Z", "message": "rank 0: proto3 omits the zero"},
    {"logTime": TIME, "rank": 3, "message": "step 1"},  # a genuine repeat
]
USUAL = {"entries": USUAL_ENTRIES, "nextPageToken": "t1"}


def test_the_usual_page_takes_the_compiled_decoder_and_reads_as_the_exact_path_does() -> None:
    assert decode_log_page(json.dumps(USUAL).encode()) is not None
    page = page_of(USUAL)
    assert page == exact_path(USUAL)
    assert [(e.log_time.ns % 10**9, e.rank, e.message) for e in page.entries] == [
        (123_456_789, 3, "step 1"),
        (500_000_000, 0, "rank 0: proto3 omits the zero"),
        (123_456_789, 3, "step 1"),
    ]
    assert page.next_page_token == "t1"
    assert to_wire(page) == {**USUAL, "entries": [{"rank": 0, **e} for e in USUAL_ENTRIES]}


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ({"entries": [{"logTime": TIME, "rank": "3", "message": "m"}]}, lambda e: e.rank == 3),  # int64 as a string
        ({"entries": [{"logTime": TIME, "rank": None, "message": None}]}, lambda e: (e.rank, e.message) == (0, "")),
        ({"entries": [{"logTime": TIME, "severity": "INFO"}]}, lambda e: e.extra == {"severity": "INFO"}),
        ({"entries": [{"message": "no time"}]}, lambda e: e.log_time == Timestamp(0)),
    ],
    ids=["int64-string", "nulls", "unknown-field", "no-logTime"],
)
def test_shapes_the_compiled_decoder_does_not_take_are_read_exactly(body: dict[str, Any], check: Any) -> None:
    assert decode_log_page(json.dumps(body).encode()) is None
    (entry,) = page_of(body).entries
    assert check(entry)


def test_a_page_level_unknown_field_is_kept_and_an_empty_token_means_no_further_page() -> None:
    page = page_of({"entries": [], "nextPageToken": "", "totalSize": 5})
    assert page.next_page_token is None
    assert page.extra == {"totalSize": 5}
    assert page_of({}).entries == ()


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"entries": {}}'])
def test_a_body_that_is_not_a_log_page_is_an_invalid_response(body: bytes) -> None:
    with pytest.raises(InvalidResponseError):
        page_of(body)


def test_a_decoded_entry_equals_hashes_sorts_and_pickles_as_one_built_by_hand() -> None:
    (decoded,) = page_of({"entries": [{"logTime": TIME, "rank": 2, "message": "x"}]}).entries
    by_hand = LogEntry(Timestamp.parse("2026-11-22T05:00:00.123456789+01:00"), 2, "x")  # the same instant
    assert decoded == by_hand
    assert hash(decoded) == hash(by_hand)
    assert len({decoded, by_hand}) == 1
    assert pickle.loads(pickle.dumps(decoded)) == decoded
    assert copy.deepcopy(decoded) == decoded
    later = LogEntry(Timestamp.parse(TIME).shifted(1), 0, "a")
    assert sorted([later, decoded, LogEntry(Timestamp.parse(TIME), 2, "a")]) == [
        LogEntry(Timestamp.parse(TIME), 2, "a"),
        decoded,
        later,
    ]
    assert decoded != (decoded.log_time, 2, "x", None)
    assert repr(decoded) == f"LogEntry(log_time=Timestamp({TIME!r}), rank=2, message='x', extra=None)"
    assert str(decoded.log_time) == TIME  # the server's text, kept


def test_entries_are_frozen() -> None:
    (entry,) = page_of({"entries": [{"logTime": TIME}]}).entries
    with pytest.raises(AttributeError):
        entry.rank = 1  # type: ignore[misc]
    assert msgspec.structs.replace(entry, rank=1).rank == 1


def test_a_time_that_is_not_a_timestamp_fails_when_it_is_read() -> None:
    (entry,) = page_of({"entries": [{"logTime": "yesterday"}]}).entries
    with pytest.raises(ValueError, match="yesterday"):
        _ = entry.log_time.ns


_TEXTS = st.builds(
    lambda ns, digits: Timestamp(ns).rfc3339()[: 20 + digits].rstrip(".") + "Z",
    st.integers(0, 253_402_300_799 * 10**9),
    st.sampled_from([0, 3, 6, 9]),
)


@given(st.lists(st.tuples(_TEXTS, st.integers(0, 2**31), st.text(max_size=20)), max_size=8))
def test_any_page_of_usual_entries_reads_as_the_exact_path(entries: list[tuple[str, int, str]]) -> None:
    body = {"entries": [{"logTime": t, "rank": r, "message": m} for t, r, m in entries]}
    page = page_of(body)
    assert page == exact_path(body)
    assert [e.log_time.ns for e in page.entries] == [Timestamp.parse(t).ns for t, _, _ in entries]
