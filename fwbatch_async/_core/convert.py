"""The one cattrs converter between wire JSON (camelCase, proto3 JSON mapping) and the models (snake_case).

:func:`make_converter` builds it in two strengths. The lenient one, which the client uses, accepts everything a
proto3 JSON server may send: int64 as decimal strings, ``null`` for defaults, enum values it does not know, and
fields it does not know (kept in ``extra``). The strict one rejects unknown fields and enum values; our own
fixture tests use it so the models cannot silently fall behind the documented wire format.

Log pages do not go through cattrs' generated code: a page holds up to 10,000 entries and is decoded by a
hand-written loop that costs about as much as building the tuples (design §4).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from enum import Enum
from typing import Any, Final

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .enums import BatchJobState, JobState, Precision
from .errors import GRPC_CODE_NAMES
from .models import (
    BatchInferenceJob,
    BatchJob,
    InferenceParameters,
    JobListPage,
    JobProgress,
    Lifecycle,
    LogEntry,
    LogPage,
    Placement,
    Status,
)
from .timestamps import Timestamp, wire_timestamp

__all__ = [
    "WireFormatError",
    "converter",
    "describe_error",
    "make_converter",
    "strict_converter",
    "to_wire",
]


class WireFormatError(ValueError):
    """JSON that does not have the shape the wire format documents."""


_DECIMAL: Final = re.compile(r"[+-]?\d{1,20}", re.ASCII)
_FLOAT: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_FLOAT_WORDS: Final = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_WIRE_NAME_OVERRIDES: Final[dict[tuple[type, str], str]] = {(JobListPage, "jobs"): "batchInferenceJobs"}
_EPOCH: Final = Timestamp(0)
_ENTRY_KEYS: Final = frozenset({"logTime", "rank", "message"})
_PAGE_KEYS: Final = frozenset({"entries", "nextPageToken"})
_MODELS: Final = (
    Status,
    InferenceParameters,
    JobProgress,
    Lifecycle,
    Placement,
    BatchInferenceJob,
    JobListPage,
    BatchJob,
)


def _preview(value: object) -> str:
    """A short repr for error messages: hostile bodies can hold megabyte strings."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."  # noqa: PLR2004


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _wire_name(cls: type, field: str) -> str:
    return _WIRE_NAME_OVERRIDES.get((cls, field), _camel(field))


def _make_int_hook(*, strict: bool) -> Callable[[Any, Any], int]:
    def structure_int(value: Any, _: Any) -> int:
        if type(value) is int:
            return value
        if type(value) is str and _DECIMAL.fullmatch(value):
            return int(value)
        if not strict and type(value) is float and value.is_integer():
            return int(value)
        raise WireFormatError(f"expected an integer or a decimal string, got {_preview(value)}")

    return structure_int


_INT_HOOKS: Final = {strict: _make_int_hook(strict=strict) for strict in (False, True)}


def _structure_float(value: Any, _: Any) -> float:
    if type(value) in {int, float}:
        return float(value)
    if type(value) is str:
        if value in _FLOAT_WORDS:
            return _FLOAT_WORDS[value]
        if _FLOAT.fullmatch(value):
            return float(value)
    raise WireFormatError(f"expected a number, got {_preview(value)}")


def _make_bool_hook(*, strict: bool) -> Callable[[Any, Any], bool]:
    def structure_bool(value: Any, _: Any) -> bool:
        if type(value) is bool:
            return value
        if not strict and value in {"true", "false"}:
            return bool(value == "true")
        raise WireFormatError(f"expected true or false, got {_preview(value)}")

    return structure_bool


def _structure_str(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise WireFormatError(f"expected a string, got {_preview(value)}")


def _structure_timestamp(value: Any, _: Any) -> Timestamp:
    if type(value) is not str:
        raise WireFormatError(f"expected an RFC 3339 timestamp string, got {_preview(value)}")
    return Timestamp.parse(value)


def _make_enum_hook(cls: type[Enum], *, strict: bool) -> Callable[[Any, Any], Enum]:
    def structure_enum(value: Any, _: Any) -> Enum:
        if type(value) is not str or (strict and value not in cls._value2member_map_):
            raise WireFormatError(f"expected a {cls.__name__} value, got {_preview(value)}")
        return cls(value)

    return structure_enum


def _structure_token(value: Any, _: Any) -> str | None:
    if value is None or value == "":
        return None
    return _structure_str(value, None)


def _make_status_code_hook(*, strict: bool) -> Callable[[Any, Any], str]:
    def structure_code(value: Any, _: Any) -> str:
        # Job statuses carry the code's name; a server may also send the number (as error bodies do).
        if not strict and type(value) is int and value in GRPC_CODE_NAMES:
            return GRPC_CODE_NAMES[value]
        return _structure_str(value, None)

    return structure_code


def _model_hooks(
    conv: cattrs.Converter, cls: type[Any], *, strict: bool
) -> tuple[Callable[[Any, Any], Any], Callable[[Any], dict[str, Any]]]:
    """Structure and unstructure hooks for a model: camelCase keys, ``null`` as default, unknown keys in ``extra``."""
    names = {a.name: _wire_name(cls, a.name) for a in attrs.fields(cls) if a.name != "extra"}
    known = frozenset(names.values())
    field_overrides: dict[str, Any] = {name: override(rename=wire) for name, wire in names.items()}
    if "next_page_token" in names:
        field_overrides["next_page_token"] = override(rename="nextPageToken", struct_hook=_structure_token)
    if cls is Status:
        field_overrides["code"] = override(rename="code", struct_hook=_make_status_code_hook(strict=strict))
    structure_known = make_dict_structure_fn(
        cls, conv, _cattrs_forbid_extra_keys=strict, extra=override(omit=True), **field_overrides
    )
    unstructure_known = make_dict_unstructure_fn(cls, conv, extra=override(omit=True), **field_overrides)

    def structure(data: Any, _: Any) -> Any:
        if type(data) is not dict:
            raise WireFormatError(f"expected a JSON object for {cls.__name__}, got {_preview(data)}")
        # proto3 JSON: null stands for the field's default.
        obj = structure_known({k: v for k, v in data.items() if v is not None}, cls)
        unknown = {k: v for k, v in data.items() if k not in known}
        return attrs.evolve(obj, extra=unknown) if unknown else obj

    def unstructure(obj: Any) -> dict[str, Any]:
        data = unstructure_known(obj)
        data.update(obj.extra)
        return data

    return structure, unstructure


def _structure_entry(item: Any, index: int, *, strict: bool) -> LogEntry:
    """Any entry the proto3 JSON mapping allows, checked field by field (the slow, exact path)."""
    where = f"entries[{index}]"
    if type(item) is not dict:
        raise WireFormatError(f"{where}: expected a JSON object, got {_preview(item)}")
    text, rank, message = item.get("logTime"), item.get("rank"), item.get("message")
    unknown = {k: v for k, v in item.items() if k not in _ENTRY_KEYS}
    if strict and (unknown or text is None):
        raise WireFormatError(f"{where}: unknown keys {sorted(unknown)} or no logTime")
    try:
        # An entry with no logTime has the proto default, the epoch; followers report it as late.
        log_time = _EPOCH if text is None else _structure_timestamp(text, None)
        rank_value = 0 if rank is None else _INT_HOOKS[strict](rank, None)
        message_value = "" if message is None else _structure_str(message, None)
    except ValueError as error:
        raise WireFormatError(f"{where}: {error}") from None
    return LogEntry(log_time, rank_value, message_value, unknown or None)


def _make_log_page_hook(*, strict: bool) -> Callable[[Any, Any], LogPage]:
    def structure_log_page(data: Any, _: Any) -> LogPage:
        if type(data) is not dict:
            raise WireFormatError(f"expected a JSON object, got {_preview(data)}")
        raw = data.get("entries")
        if raw is None:
            entries: tuple[LogEntry, ...] = ()
        elif type(raw) is not list:
            raise WireFormatError(f"entries: expected a JSON array, got {_preview(raw)}")
        elif strict:
            entries = tuple(_structure_entry(item, index, strict=True) for index, item in enumerate(raw))
        else:
            entries = _structure_entries_fast(raw)
        unknown = {k: v for k, v in data.items() if k not in _PAGE_KEYS}
        if strict and unknown:
            raise WireFormatError(f"unknown keys {sorted(unknown)}")
        try:
            token = _structure_token(data.get("nextPageToken"), None)
        except WireFormatError as error:
            raise WireFormatError(f"nextPageToken: {error}") from None
        return LogPage(entries, token, extra=unknown)

    return structure_log_page


def _structure_entries_fast(raw: list[Any]) -> tuple[LogEntry, ...]:
    """Entries in the shapes a server normally sends, built directly; anything else takes the exact path."""
    entry_type, timestamp = LogEntry, wire_timestamp
    entries: list[LogEntry] = []
    append = entries.append
    for item in raw:
        if type(item) is dict:
            text, rank, message = item.get("logTime"), item.get("rank"), item.get("message")
            # Three known keys, or two when rank is 0 (proto3 omits zero values); no nulls, no strings for ints.
            if (
                type(text) is str
                and type(message) is str
                and ((type(rank) is int and len(item) == 3) or (rank is None and len(item) == 2))  # noqa: PLR2004
            ):
                append(entry_type(timestamp(text), rank or 0, message))
                continue
        append(_structure_entry(item, len(entries), strict=False))
    return tuple(entries)


def _unstructure_entry(entry: LogEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"logTime": entry.log_time.text, "rank": entry.rank, "message": entry.message}
    if entry.extra:
        data.update(entry.extra)
    return data


def _unstructure_log_page(page: LogPage) -> dict[str, Any]:
    data: dict[str, Any] = {"entries": [_unstructure_entry(entry) for entry in page.entries]}
    if page.next_page_token is not None:
        data["nextPageToken"] = page.next_page_token
    data.update(page.extra)
    return data


def make_converter(*, strict: bool = False) -> cattrs.Converter:
    """Build the converter; ``strict=True`` rejects unknown fields and enum values instead of keeping them."""
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=strict)
    conv.register_structure_hook(int, _INT_HOOKS[strict])
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(bool, _make_bool_hook(strict=strict))
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(Timestamp, _structure_timestamp)
    conv.register_unstructure_hook(Timestamp, lambda stamp: stamp.text)
    for enum_type in (JobState, BatchJobState, Precision):
        conv.register_structure_hook(enum_type, _make_enum_hook(enum_type, strict=strict))
        conv.register_unstructure_hook(enum_type, lambda member: member.value)
    conv.register_structure_hook(LogPage, _make_log_page_hook(strict=strict))
    conv.register_unstructure_hook(LogPage, _unstructure_log_page)
    conv.register_unstructure_hook(LogEntry, _unstructure_entry)
    for model in _MODELS:
        structure, unstructure = _model_hooks(conv, model, strict=strict)
        conv.register_structure_hook(model, structure)
        conv.register_unstructure_hook(model, unstructure)
    return conv


converter: Final = make_converter()
"""The lenient converter the client uses for everything the server sends."""

strict_converter: Final = make_converter(strict=True)
"""The strict converter for tests of our own fixtures: unknown fields or enum values are errors."""


def to_wire(
    value: BatchInferenceJob | BatchJob | JobProgress | Status | InferenceParameters | JobListPage | LogPage | LogEntry,
) -> dict[str, Any]:
    """A model as the JSON object the server sends: camelCase keys, times as their text, unknown fields kept.

    Integers come out as JSON numbers (the server may send int64 as strings; both read back the same).

    Example:
        >>> from fwbatch_async import BatchInferenceJob, JobState
        >>> to_wire(BatchInferenceJob(name="accounts/a/batchInferenceJobs/j", state=JobState.RUNNING))["state"]
        'JOB_STATE_RUNNING'
    """
    data: dict[str, Any] = converter.unstructure(value)
    return data


def describe_error(error: BaseException) -> str:
    """One line naming where in the JSON a structuring error happened, e.g. ``$.jobProgress.percent: ...``."""
    if isinstance(error, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(error))
    return str(error)
