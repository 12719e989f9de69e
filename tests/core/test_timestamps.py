from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwbatch_async import Timestamp
from fwbatch_async._core.timestamps import wire_timestamp

MIN_NS = Timestamp.parse("0001-01-01T00:00:00Z").ns
MAX_NS = Timestamp.parse("9999-12-31T23:59:59.999999999Z").ns


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000000001Z", 1),
        ("1969-12-31T23:59:59.999999999Z", -1),
        ("2026-11-22T04:00:00Z", 1_795_320_000_000_000_000),
        ("2026-11-22T04:00:00.1Z", 1_795_320_000_100_000_000),
        ("2026-11-22T04:00:00.123Z", 1_795_320_000_123_000_000),
        ("2026-11-22T04:00:00.123456Z", 1_795_320_000_123_456_000),
        ("2026-11-22T04:00:00.123456789Z", 1_795_320_000_123_456_789),
        ("2026-11-22T05:30:00.123456789+01:30", 1_795_320_000_123_456_789),
        ("2026-11-21T23:00:00.000000001-05:00", 1_795_320_000_000_000_001),
        ("2026-11-22t04:00:00z", 1_795_320_000_000_000_000),
        ("2024-02-29T23:59:59.999999999Z", 1_709_251_199_999_999_999),
        ("2000-02-29T00:00:00Z", 951_782_400_000_000_000),
        ("2026-12-31T23:59:59.999999999Z", 1_798_761_599_999_999_999),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000_000_000),
    ],
)
def test_parses_every_fraction_length_and_offset_to_utc_nanoseconds(text: str, ns: int) -> None:
    stamp = Timestamp.parse(text)
    assert stamp.ns == ns
    assert str(stamp) == text
    assert wire_timestamp(text).ns == ns


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-11-22",
        "2026-11-22T04:00:00",  # no zone
        "2026-11-22 04:00:00Z",  # space instead of T
        "2026-11-22T04:00:00.Z",  # dot without digits
        "2026-11-22T04:00:00.1234567890Z",  # ten digits
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-02-29T00:00:00Z",  # not a leap year
        "1900-02-29T00:00:00Z",  # centuries are not leap years unless divisible by 400
        "2026-04-31T00:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T23:60:00Z",
        "2026-11-22T23:59:60Z",  # leap seconds are not representable in google.protobuf.Timestamp
        "2026-11-22T04:00:00+24:00",
        "2026-11-22T04:00:00+05:60",
        "0000-01-01T00:00:00Z",
        "2026-11-22T04:00:00.12345678٩Z",  # a non-ASCII digit
        "2026-11-22T04:00:00.1_3456789Z",  # int() would accept the underscore
        "2026-11-22T04:00:00.+23456789Z",
        "x026-11-22T04:00:00.123456789Z",
        " 2026-11-22T04:00:00Z",
        "2026-11-22T04:00:00Z ",
    ],
)
def test_rejects_malformed_text_eagerly_and_on_first_use_of_a_wire_timestamp(text: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        Timestamp.parse(text)
    lazy = wire_timestamp(text)
    assert str(lazy) == text  # the text is there without parsing
    with pytest.raises(ValueError, match="timestamp"):
        _ = lazy.ns


def test_a_cached_prefix_does_not_let_a_bad_fraction_through() -> None:
    Timestamp.parse("2026-11-22T04:00:00.000000000Z")
    with pytest.raises(ValueError, match="timestamp"):
        Timestamp.parse("2026-11-22T04:00:00.00000000xZ")


@given(st.integers(min_value=MIN_NS, max_value=MAX_NS))
def test_nine_digit_form_round_trips_every_nanosecond(ns: int) -> None:
    text = Timestamp(ns).rfc3339()
    assert len(text) == 30
    assert text.endswith("Z")
    assert Timestamp.parse(text).ns == ns
    assert text == Timestamp(ns).text


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.integers(min_value=0, max_value=999_999_999),
    st.sampled_from([0, 3, 6, 9]),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
def test_agrees_with_datetime_arithmetic(moment: datetime, fraction: int, digits: int, offset: int) -> None:
    local = moment.astimezone(timezone(timedelta(minutes=offset)))
    zone = "Z" if offset == 0 else local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    kept = str(fraction).zfill(9)[:digits]
    clock = f"{local.year:04d}-{local.month:02d}-{local.day:02d}T{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    text = clock + (f".{kept}" if digits else "") + zone
    whole_seconds = (moment.replace(microsecond=0) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    assert Timestamp.parse(text).ns == whole_seconds * 1_000_000_000 + int(kept.ljust(9, "0"))


def test_equality_ordering_and_hash_follow_the_instant_not_the_text() -> None:
    utc = Timestamp.parse("2026-11-22T04:00:00Z")
    offset = Timestamp.parse("2026-11-22T05:00:00.000+01:00")
    later = Timestamp.parse("2026-11-22T04:00:00.000000001Z")
    assert utc == offset
    assert hash(utc) == hash(offset)
    assert str(utc) != str(offset)
    assert utc < later
    assert later > offset
    assert utc <= offset
    assert utc >= offset
    assert sorted([later, utc]) == [utc, later]
    assert len({utc, offset, later}) == 2
    assert utc != "2026-11-22T04:00:00Z"
    with pytest.raises(TypeError):
        _ = utc < 5  # type: ignore[operator]


def test_datetime_conversion_is_aware_only_and_truncates_to_microseconds() -> None:
    stamp = Timestamp.parse("2026-11-22T04:00:00.123456789Z")
    assert stamp.to_datetime() == datetime(2026, 11, 22, 4, 0, 0, 123456, tzinfo=UTC)
    aware = datetime(2026, 11, 22, 5, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert Timestamp.from_datetime(aware) == Timestamp.parse("2026-11-22T04:00:00.123456Z")
    with pytest.raises(ValueError, match="naive datetime"):
        Timestamp.from_datetime(datetime(2026, 11, 22, 4))
    before_epoch = datetime(1960, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert Timestamp.from_datetime(before_epoch).to_datetime() == before_epoch


def test_rfc3339_always_gives_nine_utc_digits_from_any_input_form() -> None:
    assert Timestamp.parse("2026-11-22T05:00:00+01:00").rfc3339() == "2026-11-22T04:00:00.000000000Z"
    assert Timestamp.parse("2026-11-22T04:00:00.5Z").rfc3339() == "2026-11-22T04:00:00.500000000Z"


def test_shifted_moves_by_nanoseconds() -> None:
    stamp = Timestamp.parse("2026-11-22T04:00:00Z")
    assert stamp.shifted(-1).text == "2026-11-22T03:59:59.999999999Z"
    assert stamp.shifted(1_500_000_000).text == "2026-11-22T04:00:01.500000000Z"


def test_constructor_takes_only_int_nanoseconds() -> None:
    with pytest.raises(TypeError, match="int of nanoseconds"):
        Timestamp(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a str"):
        Timestamp.parse(b"2026-11-22T04:00:00Z")  # type: ignore[arg-type]


def test_repr_pickle_and_lazy_forms_preserve_the_exact_text() -> None:
    text = "2026-11-22T05:00:00.120+01:00"
    for stamp in (Timestamp.parse(text), wire_timestamp(text)):
        assert repr(stamp) == f"Timestamp({text!r})"
        copy = pickle.loads(pickle.dumps(stamp))
        assert str(copy) == text
        assert copy == stamp
