"""``GetBatchJobLogs``: parsing the query and cutting one page out of a job's log.

Direction ``startFromHead=false`` (the default) pages backwards from the newest entry; ``true`` pages forwards
from ``startTime`` (inclusive) or the first entry. A token holds the query's cursor, so paging is exact for
entries visible during the whole query; an entry that becomes visible behind the cursor is not returned by that
query, as on a real server with ingestion lag.
"""

from __future__ import annotations

from typing import Any, Final

import attrs
import orjson

from fwbatch_async.emulator.fieldmask import LOG_ENTRY_FIELDS, Mask, apply_mask, parse_mask
from fwbatch_async.emulator.logstore import LogStore
from fwbatch_async.emulator.params import QueryParams, int32, list_values, page_size, parse_bool, single
from fwbatch_async.emulator.tokens import decode_token, encode_token, fingerprint
from fwbatch_async.emulator.wire import ApiError, parse_timestamp

__all__ = ["LogPage", "LogQuery"]

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 10_000


@attrs.frozen(kw_only=True)
class LogPage:
    """A page ready to send: the JSON body and how many entries it holds."""

    body: bytes
    count: int


@attrs.frozen(kw_only=True)
class LogQuery:
    """The parameters of one getLogs call, validated and normalised."""

    ranks: frozenset[int] | None
    page_size: int
    page_token: str | None
    start_ns: int | None
    filter: str | None
    from_head: bool
    read_mask: Mask | None

    @classmethod
    def parse(cls, query: QueryParams) -> LogQuery:
        """Validate the query parameters of a getLogs request.

        Raises:
            ApiError: INVALID_ARGUMENT for a malformed parameter.
        """
        ranks = [int32("ranks", value) for value in list_values(query, "ranks")]
        start_text = single(query, "startTime", "start_time")
        try:
            start_ns = parse_timestamp(start_text) if start_text else None
        except ValueError:
            raise ApiError(
                "INVALID_ARGUMENT", f"invalid startTime {start_text!r}: expected RFC 3339", "INVALID_ARGUMENT"
            ) from None
        head_text = single(query, "startFromHead", "start_from_head")
        mask_text = single(query, "readMask", "read_mask") or ""
        return cls(
            ranks=frozenset(ranks) if ranks else None,
            page_size=page_size(query, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE),
            page_token=single(query, "pageToken", "page_token") or None,
            start_ns=start_ns,
            filter=single(query, "filter") or None,
            from_head=parse_bool("startFromHead", head_text) if head_text else False,
            read_mask=parse_mask(mask_text, LOG_ENTRY_FIELDS, prefix="entries"),
        )

    def fingerprint(self, account: str, logs_id: str) -> str:
        """Identifies every parameter but the token, so a token only works with the call that produced it."""
        mask = sorted((k, sorted(v) if v else None) for k, v in self.read_mask.items()) if self.read_mask else None
        return fingerprint(
            "logs",
            account,
            logs_id,
            sorted(self.ranks) if self.ranks is not None else None,
            self.page_size,
            self.start_ns,
            self.filter,
            self.from_head,
            mask,
        )

    def page(
        self,
        store: LogStore,
        *,
        now: int,
        query_id: str,
        empty: bool,
        repeat_end_token: bool,
        extra_fields: bool,
        omit_defaults: bool,
    ) -> LogPage:
        """Cut this query's page out of ``store`` at time ``now``.

        Args:
            store: the job's log.
            now: the emulated time; only entries visible at ``now`` are returned.
            query_id: the query fingerprint (see :meth:`fingerprint`).
            empty: answer with no entries and a token that continues from the same position.
            repeat_end_token: forward reads always carry a token; at the end it is the token that was sent.
            extra_fields: add a top-level field the client does not know.
            omit_defaults: leave out an empty ``entries`` list and an empty token (live writes them out).

        Raises:
            ApiError: INVALID_ARGUMENT for a token of another query.
        """
        cursor, empties = self._cursor(query_id)
        lower = store.lower_bound(self.start_ns)
        if self.from_head:
            start = max(store.index_of(cursor), lower) if cursor else lower
            stop = len(store)
        else:
            start, stop = lower, store.index_of(cursor) if cursor else len(store)
        if empty:
            # The token names the same position but differs from the one sent (it counts the empty pages), so
            # it cannot be mistaken for the "same token back: caught up" signal.
            position = [*store.cursor_at(start if self.from_head else stop), empties + 1]
            return self._body([], 0, encode_token(query_id, position), extra_fields, omit_defaults)
        scan = store.scan(
            now=now,
            start=start,
            stop=stop,
            forward=self.from_head,
            limit=self.page_size,
            ranks=self.ranks,
            text=self.filter,
        )
        token = None
        if scan.more or (self.from_head and repeat_end_token):
            token = encode_token(query_id, list(store.cursor_at(scan.boundary)))
            if not scan.more and scan.count == 0 and self.page_token:
                token = self.page_token  # caught up: the same token comes back
        return self._body(scan.parts, scan.count, token, extra_fields, omit_defaults)

    def _cursor(self, query_id: str) -> tuple[tuple[int, int] | None, int]:
        """The cursor in the token (None without one) and how many empty pages led to it."""
        if self.page_token is None:
            return None, 0
        match decode_token(self.page_token, query_id):
            case [int() as time_ns, int() as ordinal] if time_ns >= 0 and ordinal >= 0:
                return (time_ns, ordinal), 0
            case [int() as time_ns, int() as ordinal, int() as empties] if min(time_ns, ordinal, empties) >= 0:
                return (time_ns, ordinal), empties
            case _:
                raise ApiError("INVALID_ARGUMENT", "invalid page token", "INVALID_PAGE_TOKEN")

    def _body(
        self, parts: list[bytes | bytearray], count: int, token: str | None, extra_fields: bool, omit_defaults: bool
    ) -> LogPage:
        fields: list[bytes] = []
        if count or not omit_defaults:
            entries = b",".join(parts)
            if count and self.read_mask is not None:
                masked: list[Any] = [apply_mask(e, self.read_mask) for e in orjson.loads(b"[" + entries + b"]")]
                entries = orjson.dumps(masked)[1:-1]
            fields.append(b'"entries":[' + entries + b"]")
        if token or not omit_defaults:
            fields.append(b'"nextPageToken":' + orjson.dumps(token or ""))
        if extra_fields:
            fields.append(b'"logRetention":"2592000s"')
        return LogPage(body=b"{" + b",".join(fields) + b"}", count=count)
