"""``ListBatchInferenceJobs``: the query (state filter, order, paging) and one page of jobs."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final

import attrs
import orjson

from fwbatch_async.emulator.fieldmask import JOB_FIELDS, Mask, apply_mask, parse_mask
from fwbatch_async.emulator.params import QueryParams, page_size, single
from fwbatch_async.emulator.tokens import decode_token, encode_token, fingerprint
from fwbatch_async.emulator.wire import ApiError

__all__ = ["ListQuery"]

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200
# AIP-160 equality on the state field, the value quoted or bare.
_STATE_FILTER: Final = re.compile(r'\s*state\s*=\s*(?:"(JOB_STATE_[A-Z_]+)"|(JOB_STATE_[A-Z_]+))\s*')
_ORDER: Final = re.compile(r"\s*(create_time|createTime|created_time)(?:\s+(asc|desc))?\s*")

# (createTime ns, id) of a job: the sort key and the paging position.
JobKey = tuple[int, str]


def _bad(message: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", message, "INVALID_ARGUMENT")


@attrs.frozen(kw_only=True)
class ListQuery:
    """The parameters of one list call, validated and normalised."""

    page_size: int
    page_token: str | None
    state: str | None
    descending: bool
    read_mask: Mask | None

    @classmethod
    def parse(cls, query: QueryParams) -> ListQuery:
        """Validate the query parameters of a list request.

        Raises:
            ApiError: INVALID_ARGUMENT for a malformed parameter, a filter other than an equality on ``state``,
                or an order other than by creation time.
        """
        state = None
        filter_text = single(query, "filter") or ""
        if filter_text.strip():
            match = _STATE_FILTER.fullmatch(filter_text)
            if match is None:
                raise _bad(f'unsupported filter {filter_text!r}: only state = "JOB_STATE_..." is supported')
            state = match.group(1) or match.group(2)
        descending = False
        order_text = single(query, "orderBy", "order_by") or ""
        if order_text.strip():
            match = _ORDER.fullmatch(order_text)
            if match is None:
                raise _bad(f"unsupported orderBy {order_text!r}: only create_time [asc|desc] is supported")
            descending = match.group(2) == "desc"
        return cls(
            page_size=page_size(query, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE),
            page_token=single(query, "pageToken", "page_token") or None,
            state=state,
            descending=descending,
            read_mask=parse_mask(single(query, "readMask", "read_mask") or "", JOB_FIELDS),
        )

    def page(
        self,
        account: str,
        keys: Sequence[JobKey],
        state_of: Callable[[str], str | None],
        resource_of: Callable[[str], dict[str, Any]],
        *,
        omit_defaults: bool,
    ) -> bytes:
        """The JSON body of this query's page over the existing jobs ``keys``.

        Every field is written, empty or zero as it may be, unless ``omit_defaults``.

        Raises:
            ApiError: INVALID_ARGUMENT for a token of another query.
        """
        mask = sorted((k, sorted(v) if v else None) for k, v in self.read_mask.items()) if self.read_mask else None
        query_id = fingerprint("list", account, self.state, self.descending, self.page_size, mask)
        matching = sorted(
            (key for key in keys if self.state is None or state_of(key[1]) == self.state),
            reverse=self.descending,
        )
        if self.page_token is not None:
            match decode_token(self.page_token, query_id):
                case [int() as created, str() as job_id]:
                    after: JobKey = (created, job_id)
                case _:
                    raise ApiError("INVALID_ARGUMENT", "invalid page token", "INVALID_PAGE_TOKEN")
            rest = [k for k in matching if (k < after if self.descending else k > after)]
        else:
            rest = matching
        page = rest[: self.page_size]
        body: dict[str, Any] = {
            "batchInferenceJobs": [apply_mask(resource_of(job_id), self.read_mask) for _, job_id in page],
            "nextPageToken": encode_token(query_id, list(page[-1])) if len(rest) > len(page) else "",
            "totalSize": len(matching),
        }
        # Each field's default ([], "", 0) is falsy.
        return orjson.dumps({key: value for key, value in body.items() if value} if omit_defaults else body)
