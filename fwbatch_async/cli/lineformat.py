"""How a log line is printed: ``-o text|raw|json|template`` (``--json`` is ``-o json``), and ``--template``."""

from __future__ import annotations

import string
from typing import Any, Final, Literal, cast, get_args

import attrs

import fwbatch_async as fw

__all__ = ["OUTPUTS", "TEMPLATE_FIELDS", "LineTemplate", "Output", "choose_output"]

Output = Literal["text", "raw", "json", "template"]
OUTPUTS: Final[tuple[Output, ...]] = get_args(Output)

TEMPLATE_FIELDS: Final = ("time", "rank", "job", "message")
"""The names a ``--template`` may use: the RFC 3339 time to the nanosecond, the rank (an int), the job id and the
message, whole."""

# Values of each field's type: formatting them checks a template's format specs before any line is read.
_SAMPLE: Final[dict[str, Any]] = {"time": "2026-11-22T04:00:00.000000001Z", "rank": 0, "job": "job", "message": ""}


@attrs.frozen
class LineTemplate:
    """A ``str.format`` template over :data:`TEMPLATE_FIELDS`, such as ``"{time} {rank:>2} {message}"``.

    Example:
        >>> entry = fw.LogEntry(fw.Timestamp.parse("2026-11-22T04:00:00Z"), 3, "step 10")
        >>> LineTemplate.parse("{job}#{rank}: {message}").render(entry, "nightly")
        'nightly#3: step 10'
    """

    text: str

    @classmethod
    def parse(cls, text: str) -> LineTemplate:
        """Check ``text`` and wrap it.

        Raises:
            ValueError: a field other than :data:`TEMPLATE_FIELDS` (attribute and index lookups included), an
                unmatched brace, or a format spec that does not fit its field.
        """
        try:
            fields = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
        except ValueError as error:  # an unmatched brace
            raise ValueError(f"--template {text!r}: {error}") from None
        unknown = sorted(fields - set(TEMPLATE_FIELDS))  # "message.upper" or "0" too: only the names themselves
        if unknown:
            names = ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)
            raise ValueError(f"--template: unknown field {{{unknown[0]}}}; the fields are {names}")
        try:
            text.format_map(_SAMPLE)
        except (ValueError, TypeError, LookupError) as error:  # a spec that does not fit, such as {message:d}
            raise ValueError(f"--template {text!r}: {error}") from None
        return cls(text)

    def render(self, entry: fw.LogEntry, job_id: str | None) -> str:
        """The line for ``entry`` (without its newline); ``{job}`` is empty when the job is not known."""
        return self.text.format_map(
            {"time": entry.log_time.rfc3339(), "rank": entry.rank, "job": job_id or "", "message": entry.message}
        )


def choose_output(output: str | None, *, as_json: bool, template: str | None) -> tuple[Output, LineTemplate | None]:
    """The output ``-o``, ``--json`` and ``--template`` ask for together; text when none is given.

    ``--json`` is ``-o json``, and a template alone is ``-o template``.

    Example:
        >>> choose_output(None, as_json=False, template="{message}")
        ('template', LineTemplate(text='{message}'))

    Raises:
        ValueError: they ask for different outputs, ``-o template`` has no template, or the template is bad.
    """
    implied = ("json" if as_json else None, None if template is None else "template")
    asked = {choice for choice in (output, *implied) if choice is not None}
    if len(asked) > 1:
        raise ValueError(f"give one output: -o {' / -o '.join(sorted(asked))} (--json is -o json)")
    chosen = cast("Output", asked.pop() if asked else "text")
    if chosen == "template" and template is None:
        raise ValueError("-o template needs --template, e.g. --template '{time} {rank} {message}'")
    return chosen, None if template is None else LineTemplate.parse(template)
